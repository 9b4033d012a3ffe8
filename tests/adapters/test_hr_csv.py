from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.hr_csv import HrCsvAdapter

HEADER = ("employee_id,first_name,last_name,work_email,employment_status,hire_date,"
          "termination_date,job_title,account_type,roles,jira_account_id\n")
COLUMNS = {
    "id": "employee_id", "first_name": "first_name", "last_name": "last_name",
    "email": "work_email", "status": "employment_status", "hired": "hire_date",
    "terminated": "termination_date", "title": "job_title", "kind": "account_type",
    "roles": "roles", "handles": ["jira_account_id"],
}


def run(ctx: SourceContext, **cfg: Any) -> Any:
    conf = {"path": "people.csv", "columns": COLUMNS, **cfg}
    return HrCsvAdapter(HrCsvAdapter.Config.model_validate(conf), ctx).collect()


def write(tmp_path: Path, text: str, name: str = "people.csv", encoding: str = "utf-8") -> None:
    (tmp_path / name).write_text(text, encoding=encoding, newline="")


def test_happy_path(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER
          + "E1,Zoë,Müller,Zoe.Mueller@Example.com,Active,2021-02-01,,\"Head of AI, Governance\","
            "individual,ai-governance-lead; ai-risk-owner,712020:abc\n"
          + "E2,Marco,Rossi,marco.rossi@example.com,Terminated,2020-01-01,2026-09-30,Analyst,,"
            "ai-risk-owner,\n"
          + "G1,ML,Platform,ml-platform@example.com,Active,,,,group,,\n")
    bundle = run(ctx)
    assert bundle.kinds == frozenset({"person"})
    zoe, marco, group = bundle.people
    assert zoe.id == "E1"
    assert zoe.name == "Zoë Müller"
    assert zoe.emails == ("Zoe.Mueller@Example.com",)
    assert zoe.title == "Head of AI, Governance"
    assert zoe.roles == ("ai-governance-lead", "ai-risk-owner")
    assert zoe.handles == ("712020:abc",)
    assert zoe.hired == datetime(2021, 2, 1, tzinfo=UTC)
    assert zoe.provenance.locator == "people.csv:2"
    assert zoe.provenance.adapter == "hr_csv"
    # the termination date is the last day worked: gone from the midnight after it
    assert marco.terminated == datetime(2026, 10, 1, tzinfo=UTC)
    assert marco.status == "terminated"
    assert marco.employed_at(datetime(2026, 9, 30, 23, 59, tzinfo=UTC))
    assert not marco.employed_at(datetime(2026, 10, 1, tzinfo=UTC))
    assert group.kind == "group"
    assert marco.kind == "individual"


def test_bom_and_crlf(tmp_path: Path, ctx: SourceContext) -> None:
    text = (HEADER + "E1,Łukasz,Nowak,l.nowak@example.com,Active,2020-09-14,,,,,\n")
    write(tmp_path, text.replace("\n", "\r\n"), encoding="utf-8-sig")
    (person,) = run(ctx).people
    assert person.id == "E1"
    assert person.name == "Łukasz Nowak"


def test_missing_column_is_one_diagnostic_at_line_1(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER.replace("work_email", "email_address")
          + "E1,A,B,a@example.com,Active,,,,,,\n" * 3)
    with pytest.raises(EvidenceError) as exc:
        run(ctx)
    (d,) = exc.value.diagnostics
    assert (d.file, d.line, d.code) == ("people.csv", 1, "E301")
    assert "'work_email'" in d.message
    assert "'email_address'" in d.message  # names the headers found


def test_bad_date_reports_physical_line(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER
          + 'E1,A,"Multi\nline",a@example.com,Active,2021-01-01,,,,,\n'  # lines 2-3
          + "\n"                                                          # line 4, blank
          + "E2,B,C,b@example.com,Active,01/02/2021,,,,,\n")              # line 5
    with pytest.raises(EvidenceError) as exc:
        run(ctx)
    (d,) = exc.value.diagnostics
    assert (d.line, d.code) == (5, "E303")
    assert "'01/02/2021'" in d.message


def test_unknown_status_is_an_error_not_a_guess(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER
          + "E1,A,B,a@example.com,Suspended,,,,,,\n"
          + "E2,C,D,c@example.com,active,,,,,,\n"
          + "E3,E,F,,Active,,,,,,\n")
    with pytest.raises(EvidenceError) as exc:
        run(ctx)
    got = [(d.line, d.code) for d in exc.value.diagnostics]
    assert got == [(2, "E304"), (4, "E305")]
    assert "Suspended" in exc.value.diagnostics[0].message


def test_custom_status_values(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER + "E1,A,B,a@example.com,Pre-hire,2026-12-15,,,,,\n")
    (person,) = run(ctx, status_values={"Pre-hire": "active", "Active": "active"}).people
    assert person.status == "active"
    assert not person.employed_at(datetime(2026, 11, 30, tzinfo=UTC))


def test_duplicate_id(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER + "E1,A,B,a@example.com,Active,,,,,,\n"
          + "E1,C,D,c@example.com,Active,,,,,,\n")
    with pytest.raises(EvidenceError) as exc:
        run(ctx)
    assert [(d.line, d.code) for d in exc.value.diagnostics] == [(3, "E306")]


def test_formula_looking_cells_are_data(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER + 'E1,"=HYPERLINK(""x"")",B,a@example.com,Active,,,+1+2,,,\n')
    (person,) = run(ctx).people
    assert person.name == '=HYPERLINK("x") B'
    assert person.title == "+1+2"


def test_leave_export(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER + "E1,Élodie,Girard,e.girard@example.com,On Leave,,,,,,\n")
    write(tmp_path, "person,type,first,last\ne.girard@EXAMPLE.com,Parental,2026-11-01,2027-01-31\n",
          name="leave.csv")
    (person,) = run(ctx, leave={
        "path": "leave.csv",
        "columns": {"person": "person", "start": "first", "end": "last", "type": "type"},
    }).people
    (period,) = person.leave
    assert period.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert period.end == datetime(2027, 2, 1, tzinfo=UTC)  # the last day is inclusive
    assert period.kind == "Parental"
    assert person.on_leave_at(datetime(2027, 1, 31, 12, tzinfo=UTC))
    assert not person.on_leave_at(datetime(2027, 2, 1, tzinfo=UTC))


def test_leave_unknown_person_and_bad_order(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, HEADER + "E1,A,B,a@example.com,Active,,,,,,\n")
    write(tmp_path, "person,first,last\nnobody@example.com,2026-01-01,2026-01-02\n"
          "E1,2026-03-10,2026-03-01\n", name="leave.csv")
    with pytest.raises(EvidenceError) as exc:
        run(ctx, leave={"path": "leave.csv",
                        "columns": {"person": "person", "start": "first", "end": "last"}})
    got = [(d.file, d.line, d.code) for d in exc.value.diagnostics]
    assert got == [("leave.csv", 2, "E312"), ("leave.csv", 3, "E303")]


def test_missing_file(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceError) as exc:
        run(ctx)
    assert exc.value.diagnostics[0].code == "E300"


def test_config_needs_a_name_column() -> None:
    cols = {k: v for k, v in COLUMNS.items() if k not in ("first_name", "last_name")}
    with pytest.raises(ValidationError, match="first_name"):
        HrCsvAdapter.Config.model_validate({"path": "x.csv", "columns": cols})

"""One code for one class: an export with no records is E317 in every file adapter.

A 0-byte file or a header with no rows, without ``allow_empty: true``, fails the source with
E317 (never E300, which means "cannot be read"); with ``allow_empty: true`` it is an empty,
valid read.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from checker.adapters import Adapter, SourceContext
from checker.codes import CODES
from checker.errors import EvidenceError
from evidence_adapters.absence_csv import AbsenceCsvAdapter
from evidence_adapters.hr_csv import HrCsvAdapter
from evidence_adapters.jsonl import JsonlAdapter
from evidence_adapters.lms_csv import LmsCsvAdapter

HR_COLS = {"id": "employee_id", "first_name": "first_name", "last_name": "last_name",
           "email": "work_email", "status": "employment_status"}
LMS_COLS = {"person": "Email", "course": "Course Code", "status": "Status",
            "completed": "Completion Date"}
ABS_COLS = {"person": "person", "start": "first", "end": "last"}

# adapter, its config, the header row (None: the format has no header)
ADAPTERS: dict[str, tuple[type[Adapter], dict[str, Any], str | None]] = {
    "hr_csv": (HrCsvAdapter, {"path": "x.csv", "columns": HR_COLS},
               "employee_id,first_name,last_name,work_email,employment_status\n"),
    "lms_csv": (LmsCsvAdapter, {"path": "x.csv", "columns": LMS_COLS},
                "Email,Course Code,Status,Completion Date\n"),
    "absence_csv": (AbsenceCsvAdapter, {"path": "x.csv", "columns": ABS_COLS},
                    "person,first,last\n"),
    "jsonl": (JsonlAdapter, {"path": "x.csv", "kinds": ["approval"]}, None),
}
CASES = [(name, body) for name, (_, _, header) in ADAPTERS.items()
         for body in ("", header or "\n  \n")]


def collect(ctx: SourceContext, name: str, body: str, *, allow_empty: bool = False) -> Any:
    cls, conf, _ = ADAPTERS[name]
    (ctx.base_dir / "x.csv").write_text(body, "utf-8")
    if allow_empty:  # as the run sets it from the source's `allow_empty: true`
        ctx = dataclasses.replace(ctx, allow_empty=True)
        if "allow_empty" in cls.Config.model_fields:
            conf = {**conf, "allow_empty": True}
    return cls(cls.Config.model_validate(conf), ctx).collect()


@pytest.mark.parametrize(("name", "body"), CASES)
def test_no_records_is_e317(ctx: SourceContext, name: str, body: str) -> None:
    with pytest.raises(EvidenceError) as exc:
        collect(ctx, name, body)
    codes = [d.code for d in exc.value.diagnostics]
    assert codes == ["E317"], (name, body, [d.one_line() for d in exc.value.diagnostics])
    d = exc.value.diagnostics[0]
    assert d.file == "x.csv"
    assert d.line in (1, 2)
    assert "allow_empty: true" in (d.hint or "")


@pytest.mark.parametrize(("name", "body"), CASES)
def test_allow_empty_accepts_it(ctx: SourceContext, name: str, body: str) -> None:
    collect(ctx, name, body, allow_empty=True)


def test_the_registry_names_the_class() -> None:
    assert "no records" in CODES["E317"].meaning
    assert "allow_empty" in CODES["E317"].meaning
    assert "empty" not in CODES["E300"].meaning

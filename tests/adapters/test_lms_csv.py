from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.lms_csv import LmsCsvAdapter

HEADER = "Email,Course Code,Status,Completion Date,Expiry\n"
COLUMNS = {"person": "Email", "course": "Course Code", "status": "Status",
           "completed": "Completion Date", "expires": "Expiry"}


def run(ctx: SourceContext, text: str, **cfg: Any) -> Any:
    (ctx.base_dir / "lms.csv").write_text(text, encoding="utf-8-sig", newline="")
    conf = {"path": "lms.csv", "columns": COLUMNS, **cfg}
    return LmsCsvAdapter(LmsCsvAdapter.Config.model_validate(conf), ctx).collect()


def test_happy_path_with_bom(ctx: SourceContext) -> None:
    bundle = run(ctx, HEADER
                 + "a@example.com,AIGOV-101,Completed,2026-03-01,2027-03-01\n"
                 + "b@example.com,AIGOV-101,Failed,2026-10-14,\n"
                 + "c@example.com,AIGOV-101,In Progress,,\n"
                 + "d@example.com,AIGOV-101,Not Started,,\n",
                 course_values={"AIGOV-101": "ai-governance-basics"})
    assert bundle.kinds == frozenset({"training"})
    a, b = bundle.trainings
    assert a.person == "a@example.com"
    assert a.course == "ai-governance-basics"
    assert a.completed_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert a.expires_at == datetime(2027, 3, 1, tzinfo=UTC)
    assert a.passed
    assert a.provenance.locator == "lms.csv:2"
    assert not b.passed
    assert b.provenance.locator == "lms.csv:3"


def test_unknown_status(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceError) as exc:
        run(ctx, HEADER + "a@example.com,X,Completed,2026-03-01,\n"
                 + "b@example.com,X,Waived,2026-03-01,\n")
    (d,) = exc.value.diagnostics
    assert (d.file, d.line, d.code) == ("lms.csv", 3, "E304")
    assert "'Waived'" in d.message


def test_bad_date_and_default_validity(ctx: SourceContext) -> None:
    (t,) = run(ctx, HEADER + "a@example.com,X,Completed,01/03/2026,\n",
               date_format="%d/%m/%Y", default_validity_days=365).trainings
    assert t.expires_at == datetime(2027, 3, 1, tzinfo=UTC)
    with pytest.raises(EvidenceError) as exc:
        run(ctx, HEADER + "a@example.com,X,Completed,2026-13-01,\n")
    assert [(d.line, d.code) for d in exc.value.diagnostics] == [(2, "E303")]


def test_completion_without_date_is_an_error(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceError) as exc:
        run(ctx, HEADER + "a@example.com,X,Completed,,\n")
    assert [(d.line, d.code) for d in exc.value.diagnostics] == [(2, "E305")]


def test_passed_flag_and_min_score(ctx: SourceContext) -> None:
    cols = {"person": "learner", "course": "course", "completed": "done", "passed": "ok",
            "score": "score"}
    bundle = run(ctx, 'learner,course,done,ok,score\n"o\'brien@example.com",X,2026-01-01,yes,91\n'
                      "z@example.com,X,2026-01-01,yes,40\n",
                 columns=cols, min_score=70)
    assert [t.passed for t in bundle.trainings] == [True, False]
    assert bundle.trainings[0].person == "o'brien@example.com"


def test_missing_column(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceError) as exc:
        run(ctx, "Email,Course,Status,Completion Date,Expiry\n")
    (d,) = exc.value.diagnostics
    assert (d.line, d.code) == (1, "E301")
    assert "'Course Code'" in d.message

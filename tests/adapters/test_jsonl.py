from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from checker.adapters import SourceContext
from checker.errors import EvidenceError, EvidenceUnavailable
from evidence_adapters.jsonl import JsonlAdapter

APPROVAL = {"id": "APR-1", "subject": "m:1", "model": "m", "version": "1",
            "approver": "a@example.com", "decided_at": "2026-10-04T16:00:00+02:00"}
REVIEW = {"id": "REV-1", "subject": "RSK-001", "kind": "risk_review",
          "reviewer": "z@example.com", "reviewed_at": "2026-10-01T09:00:00Z"}


def adapter(ctx: SourceContext, **cfg: Any) -> JsonlAdapter:
    return JsonlAdapter(JsonlAdapter.Config.model_validate(cfg), ctx)


def write(path: Path, *lines: Any) -> None:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines),
                    encoding="utf-8")


def test_single_kind_file(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path / "reviews.jsonl", REVIEW, "", {**REVIEW, "id": "REV-2"})
    ad = adapter(ctx, path="reviews.jsonl", kind="review")
    bundle = ad.collect()
    assert ad.kinds() == frozenset({"review"})
    assert bundle.kinds == frozenset({"review"})
    first, second = bundle.reviews
    assert first.kind == "risk_review"  # the record's own kind field
    assert first.reviewed_at == datetime(2026, 10, 1, 9, tzinfo=UTC)
    assert first.provenance.locator == "reviews.jsonl:1"
    assert second.provenance.locator == "reviews.jsonl:3"


def test_mixed_folder_sorted(tmp_path: Path, ctx: SourceContext) -> None:
    (tmp_path / "ev").mkdir()
    write(tmp_path / "ev" / "b.jsonl", {"record": "review", **REVIEW})
    write(tmp_path / "ev" / "a.jsonl", {"record": "approval", **APPROVAL})
    (tmp_path / "ev" / "notes.txt").write_text("ignored")
    bundle = adapter(ctx, path="ev", kinds=["approval", "review"]).collect()
    assert bundle.approvals[0].decided_at == datetime(2026, 10, 4, 14, tzinfo=UTC)
    assert bundle.approvals[0].provenance.locator == "ev/a.jsonl:1"
    assert bundle.reviews[0].provenance.locator == "ev/b.jsonl:1"


def test_invalid_lines_each_reported(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path / "a.jsonl",
          APPROVAL,
          '{"id": "APR-2", ',                                           # 2: bad JSON
          {**APPROVAL, "id": "APR-3", "decided_at": "2026-10-04T16:00:00"},  # 3: naive
          {**APPROVAL, "id": "APR-4", "colour": "red"},                # 4: unknown field
          {**APPROVAL, "record": "review"},                            # 5: undeclared
          APPROVAL,                                                    # 6: duplicate id
          {**APPROVAL, "id": "APR-7", "provenance": {}},               # 7: provenance
          "[1, 2]")                                                    # 8: not an object
    with pytest.raises(EvidenceError) as exc:
        adapter(ctx, path="a.jsonl", kind="approval").collect()
    got = [(d.file, d.line, d.code) for d in exc.value.diagnostics]
    assert got == [("a.jsonl", 2, "E310"), ("a.jsonl", 3, "E309"), ("a.jsonl", 4, "E309"),
                   ("a.jsonl", 5, "E311"), ("a.jsonl", 6, "E306"), ("a.jsonl", 7, "E309"),
                   ("a.jsonl", 8, "E310")]
    msgs = {d.line: d.message for d in exc.value.diagnostics}
    assert "approval.decided_at" in msgs[3]
    assert "approval.colour" in msgs[4]


def test_mixed_file_needs_record_key(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path / "a.jsonl", APPROVAL, {"record": "aproval", **APPROVAL})
    with pytest.raises(EvidenceError) as exc:
        adapter(ctx, path="a.jsonl", kinds=["approval"]).collect()
    assert [(d.line, d.code) for d in exc.value.diagnostics] == [(1, "E311"), (2, "E311")]
    assert "approval" in (exc.value.diagnostics[1].hint or "")


def test_missing_path(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceUnavailable):
        adapter(ctx, path="nope.jsonl", kind="event").collect()


def test_kinds_must_be_declared() -> None:
    with pytest.raises(ValidationError, match="declare"):
        JsonlAdapter.Config.model_validate({"path": "x.jsonl"})
    with pytest.raises(ValidationError):
        JsonlAdapter.Config.model_validate({"path": "x.jsonl", "kind": "approvals"})

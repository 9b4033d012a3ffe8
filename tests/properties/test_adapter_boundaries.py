"""Hypothesis over the file adapters' boundaries (issue 17): dates, numbers, nesting.

Each example writes one record (a JSON line, an HR row, an LMS row, a register entry) with a
boundary value — a date from year 1 to 9999 (with 9999-12-31, 1969-12-31 and 1970-01-01
always among the candidates), a number from tiny to huge or non-finite, a nesting depth up to
far beyond the parser's — and runs the real adapter. The outcome is a bundle, or an
EvidenceError whose every diagnostic has a code of the E3xx or E1xx families and names the
file; never another exception (which a scan would report as E900, "adapter bug").
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checker.adapters import SourceContext, adapter_class
from checker.errors import EvidenceError

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
DATES = st.one_of(st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
                  st.sampled_from([date(9999, 12, 31), date(1969, 12, 31), date(1970, 1, 1)]))
NUMBERS = st.one_of(st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True))
SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def collect(adapter: str, config: dict[str, object], folder: Path) -> None:
    cls = adapter_class(adapter)
    ctx = SourceContext(folder, adapter, AS_OF, AS_OF)
    try:
        cls(cls.Config.model_validate(config), ctx).collect()
    except EvidenceError as exc:
        for d in exc.diagnostics:
            assert d.code[:2] in ("E1", "E3"), d.render()
            assert d.file, d.render()


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@SETTINGS
@given(when=DATES, number=NUMBERS, depth=st.integers(min_value=0, max_value=3000))
@example(when=date(9999, 12, 31), number=float("inf"), depth=100_000)
def test_jsonl_boundaries(tmp_path_factory: object, when: date, number: float,
                          depth: int) -> None:
    folder = Path(tmp_path_factory.mktemp("jsonl"))  # type: ignore[attr-defined]
    nested = "[" * depth + "]" * depth
    line = (f'{{"id": "R1", "subject": "x", "kind": "risk_review", "reviewer": "a", '
            f'"reviewed_at": "{when.isoformat()}T00:00:00Z", "outcome": {json.dumps(number)},'
            f' "attendees": {nested or "[]"}}}\n')
    write(folder, "r.jsonl", line)
    collect("jsonl", {"path": "r.jsonl", "kind": "review"}, folder)


@SETTINGS
@given(hired=DATES, left=DATES)
def test_hr_csv_boundaries(tmp_path_factory: object, hired: date, left: date) -> None:
    folder = Path(tmp_path_factory.mktemp("hr"))  # type: ignore[attr-defined]
    write(folder, "people.csv", "id,email,name,status,hired,terminated\n"
          f"P1,p1@example.org,P One,active,{hired.isoformat()},{left.isoformat()}\n")
    collect("hr_csv", {"path": "people.csv",
                       "columns": {"id": "id", "email": "email", "name": "name",
                                   "status": "status", "hired": "hired",
                                   "terminated": "terminated"}}, folder)


@SETTINGS
@given(done=DATES, score=NUMBERS)
def test_lms_csv_boundaries(tmp_path_factory: object, done: date, score: float) -> None:
    folder = Path(tmp_path_factory.mktemp("lms"))  # type: ignore[attr-defined]
    write(folder, "t.csv", "person,course,completed,score\n"
          f"p1@example.org,c1,{done.isoformat()},{score}\n")
    collect("lms_csv", {"path": "t.csv", "columns": {"person": "person", "course": "course",
                                                     "completed": "completed",
                                                     "score": "score"}}, folder)


@SETTINGS
@given(start=DATES, end=DATES, depth=st.integers(min_value=0, max_value=200))
def test_register_boundaries(tmp_path_factory: object, start: date, end: date,
                             depth: int) -> None:
    folder = Path(tmp_path_factory.mktemp("reg"))  # type: ignore[attr-defined]
    nested = "[" * depth + "]" * depth or "[]"
    write(folder, "register.yaml",
          "ai_systems:\n  - id: s1\n    name: S\n    owners: {primary: p1@example.org}\n"
          f"    deep: {nested}\n    history:\n"
          f"      - {{role: primary, owner: p1@example.org, from: {start.isoformat()}, "
          f"to: {end.isoformat()}}}\n")
    collect("register", {"path": "register.yaml"}, folder)

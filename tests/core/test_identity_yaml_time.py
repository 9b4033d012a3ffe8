"""Identity resolution, located YAML loading and time parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checker.evidence import Person, Provenance
from checker.identity import IdentityIndex
from checker.timeutil import parse_as_of, parse_ts
from checker.yamlsrc import load_yaml_text

PROV = Provenance(adapter="t", locator="t:1", fetched_at=datetime(2026, 1, 1, tzinfo=UTC))


def person(pid: str, *emails: str, handles: tuple[str, ...] = ()) -> Person:
    return Person(id=pid, name=pid, emails=emails, handles=handles, provenance=PROV)


@pytest.mark.parametrize("handle", ["jane@x.example", "JANE@X.EXAMPLE", "  Jane@x.example ",
                                    "mailto:jane@x.example", "E1", "712020:abc"])
def test_any_handle_resolves(handle: str) -> None:
    idx = IdentityIndex([person("E1", "jane@x.example", handles=("712020:abc",))])
    p = idx.resolve(handle)
    assert p is not None
    assert p.id == "E1"


def test_shared_handle_is_ambiguous_not_merged() -> None:
    idx = IdentityIndex([person("E1", "a@x", handles=("h",)), person("E2", "b@x", handles=("h",))])
    assert idx.resolve("h") is None
    assert idx.is_ambiguous("h")
    assert idx.resolve("a@x").id == "E1"  # type: ignore[union-attr]
    assert idx.resolve("b@x").id == "E2"  # type: ignore[union-attr]


def test_yaml_marks_are_a_side_map() -> None:
    loc, diags = load_yaml_text("a: 1\nb:\n  - c: 2\n", "f.yaml")
    assert not diags
    assert loc is not None
    assert loc.data == {"a": 1, "b": [{"c": 2}]}
    assert loc.at(("b", 0, "c")) == (3, 8)


def test_yaml_impossible_date_is_located() -> None:
    loc, diags = load_yaml_text("a: 1\nwhen: 2026-02-30\n", "f.yaml")
    assert loc is None
    assert diags[0].line == 2
    assert diags[0].code == "E100"


def test_time_parsing() -> None:
    assert parse_ts("2026-07-14T10:30:00.000+0200") == datetime(2026, 7, 14, 8, 30, tzinfo=UTC)
    assert parse_ts("2026-07-14") == datetime(2026, 7, 14, tzinfo=UTC)
    assert parse_as_of("2026-11-30") == datetime(2026, 11, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_ts("2026-07-14T10:30:00")

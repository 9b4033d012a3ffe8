"""Vocabularies are defined once: severities, evidence kinds, diagnostic codes."""

from __future__ import annotations

import json
import re
from typing import get_args, get_origin

import pytest

from checker.codes import CODES, code_table
from checker.evidence import KINDS, SUBJECT_KINDS, TARGET_KINDS, EvidenceBundle, kind_of
from checker.findings import Finding
from checker.schemagen import config_schema, findings_schema
from checker.severity import SEVERITIES, SEVERITY_NAMES, Severity, severity_rank
from checker.store import Target
from tests.conftest import REPO

SOURCES = sorted([*(REPO / "checker").rglob("*.py"), *(REPO / "evidence_adapters").rglob("*.py")])


def test_severity_scale_order_and_rank() -> None:
    assert SEVERITY_NAMES == ("critical", "high", "medium", "low")
    assert SEVERITIES == ("low", "medium", "high", "critical")
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3]
    assert Severity.CRITICAL.rank > Severity.LOW.rank
    with pytest.raises(ValueError, match="extreme"):
        severity_rank("extreme")


def test_the_severity_scale_is_written_in_one_module() -> None:
    # Everything else names Severity members: a quoted severity name elsewhere would be a
    # second copy of the scale (risk tiers such as 'high' are a different vocabulary).
    offenders = [f"{p.relative_to(REPO)}:{i}" for p in SOURCES if p.name != "severity.py"
                 for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if re.search(r"""["']critical["']""", line)]
    assert offenders == []


def test_every_schema_takes_severities_from_the_enum() -> None:
    rule = json.loads((REPO / "checker/schemas/rule.schema.json").read_text("utf-8"))
    assert rule["properties"]["severity"]["enum"] == list(SEVERITY_NAMES)
    for schema in (config_schema(), findings_schema()):
        assert schema["$defs"]["Severity"]["enum"] == list(SEVERITY_NAMES)


def test_target_kinds_come_from_the_kind_table() -> None:
    rule = json.loads((REPO / "checker/schemas/rule.schema.json").read_text("utf-8"))
    assert rule["properties"]["applies_to"]["items"]["enum"] == list(TARGET_KINDS)
    targetable = {spec.model for spec in KINDS.values() if spec.target} | {KINDS["subject"].model}
    assert set(get_args(Target)) == targetable
    assert TARGET_KINDS[:len(SUBJECT_KINDS)] == SUBJECT_KINDS


def test_the_bundle_has_one_list_per_kind() -> None:
    fields = {n for n, f in EvidenceBundle.model_fields.items()
              if get_origin(f.annotation) is list}
    assert fields == {spec.attr for spec in KINDS.values()}
    b = EvidenceBundle()
    for name, spec in KINDS.items():
        assert b.records(name) is getattr(b, spec.attr)
        assert kind_of(spec.model.model_construct()) == name


def test_finding_severity_serialises_as_its_name() -> None:
    assert Finding.model_fields["severity"].annotation is Severity
    assert json.dumps({"s": Severity.HIGH}) == '{"s": "high"}'


# -- diagnostic codes ---------------------------------------------------------------------

_CODE = re.compile(r"""["']([EW]\d{3})["']""")


def _codes_in_source() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in SOURCES:
        if p.name == "codes.py":
            continue
        for i, line in enumerate(p.read_text("utf-8").splitlines(), 1):
            for m in _CODE.finditer(line):
                found.setdefault(m.group(1), []).append(f"{p.relative_to(REPO)}:{i}")
    return found


def test_every_code_in_the_source_is_registered() -> None:
    missing = {c: where for c, where in _codes_in_source().items() if c not in CODES}
    assert missing == {}, "add these codes to checker/codes.py"


def test_every_registered_code_is_used() -> None:
    used = set(_codes_in_source())
    assert sorted(set(CODES) - used) == []


def test_a_code_is_defined_once() -> None:
    with pytest.raises(ValueError, match="E201 is defined twice"):
        code_table((("E201", "unknown check"), ("E201", "something else")))
    with pytest.raises(ValueError, match="not E and three digits"):
        code_table((("E7", "short"),))
    text = (REPO / "checker/codes.py").read_text("utf-8")
    rows = re.findall(r'^\s*\("([EW]\d{3})",', text, flags=re.M)
    assert len(rows) == len(set(rows)) == len(CODES)
    assert len({c.meaning for c in CODES.values()}) == len(CODES), "two codes, one meaning"

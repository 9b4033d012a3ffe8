"""Every rule's case file, one pytest item per case: `pytest -k AIMS-OWN-002` runs one rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.casetest import CaseResult, iter_case_files, run_case_file
from checker.rules import find_pack, load_packs

PACKS = ["iso42001"]


def _collect() -> list[tuple[str, Path]]:
    items = []
    for pack in PACKS:
        folder, _ = find_pack(pack)
        items += [(pack, p) for p in iter_case_files(folder)]
    return items


def _cases() -> list[CaseResult]:
    out: list[CaseResult] = []
    for pack, path in _collect():
        folder, _ = find_pack(pack)
        rules = {r.id: r for r in load_packs([str(folder)])}
        rid = path.name.removesuffix(".test.yaml")
        assert rid in rules, f"{path}: case file for unknown rule {rid}"
        out += list(run_case_file(path, rules[rid]))
    return out


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule_id}::{c.case}" for c in CASES])
def test_rule_case(case: CaseResult) -> None:
    assert case.ok, f"{case.file}: {case.detail}"


def test_every_rule_has_passing_and_failing_cases() -> None:
    import yaml

    for pack in PACKS:
        folder, _ = find_pack(pack)
        for rule in load_packs([str(folder)]):
            case_file = rule.path.with_name(f"{rule.id}.test.yaml")
            assert case_file.exists(), f"{rule.id} has no case file"
            doc = yaml.safe_load(case_file.read_text("utf-8"))
            names = [c["name"] for c in doc["cases"]]
            assert len(names) == len(set(names)), f"{rule.id}: duplicate case names"
            expects = [c["expect"] for c in doc["cases"]]
            passing = [e for e in expects if e == "pass" or (
                isinstance(e, dict) and not e.get("fail") and not e.get("error"))]
            failing = [e for e in expects if isinstance(e, dict) and e.get("fail")]
            assert passing, f"{rule.id} has no passing case"
            assert failing, f"{rule.id} has no failing case"
            for e in failing:
                assert e.get("owner"), f"{rule.id}: a failing case must assert the owner"

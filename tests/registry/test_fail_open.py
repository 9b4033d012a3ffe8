"""Fail-open paths closed by issue 14: duplicate releases, rules without trigger sources."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import AS_OF, Runner


def _drop_source(config: Path, name: str) -> None:
    text = config.read_text("utf-8")
    block = f"  - adapter: jsonl\n    name: {name}\n"
    start = text.index(block)
    end = text.find("\n  - adapter:", start + 1)
    config.write_text(text[:start] + (text[end + 1:] if end != -1 else ""), "utf-8")


def _add_release_source(config: Path, line: str) -> None:
    (config.parent / "evidence" / "releases-ci.jsonl").write_text(line + "\n", "utf-8")
    with config.open("a", encoding="utf-8") as fh:
        fh.write("\n  - adapter: jsonl\n    name: releases-ci\n"
                 "    path: evidence/releases-ci.jsonl\n    kind: release\n")


DUP = ('{"model": "Credit-Risk-Scorer", "version": "12", "system": "credit-scoring", '
       '"stage": "Production", "registered_by": "nadia.petrova", '
       '"registered_at": "2026-09-28T14:05:00Z", "deployed_by": "tomas.obrien", '
       '"deployed_at": "2026-10-01T09:00:00+02:00"}')


def test_a_duplicate_release_in_a_second_source_fails_closed(run_cli: Runner,
                                                             demo_copy: Path) -> None:
    _add_release_source(demo_copy, DUP)
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--format", "json")
    assert res.returncode == 3, res.stderr
    data = json.loads(res.stdout)
    merge = next(s for s in data["sources"] if s["name"] == "(merge)")
    assert merge["status"] == "error"
    [diag] = [d for d in merge["diagnostics"] if "E332" in d]
    # both locations are named, whichever came first
    assert "evidence/releases-ci.jsonl:1" in diag
    assert "evidence/releases.jsonl:2" in diag
    rel = {f["rule_id"]: f["status"] for f in data["findings"]
           if f["target_id"].casefold() == "credit-risk-scorer:12"}
    assert rel
    assert set(rel.values()) == {"error"}, rel


def test_the_gate_never_picks_one_of_two_release_records(run_cli: Runner,
                                                         demo_copy: Path) -> None:
    ok = run_cli("gate", "release", "-c", demo_copy, "--as-of", AS_OF,
                 "--model", "credit-risk-scorer", "--version", "12")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    _add_release_source(demo_copy, DUP)
    res = run_cli("gate", "release", "-c", demo_copy, "--as-of", AS_OF,
                  "--model", "credit-risk-scorer", "--version", "12")
    assert res.returncode == 3, res.stdout + res.stderr
    assert "E332" in res.stdout + res.stderr


def test_a_rule_whose_trigger_events_have_no_source_is_an_error(run_cli: Runner,
                                                                demo_copy: Path) -> None:
    _drop_source(demo_copy, "events")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--format", "json")
    assert res.returncode == 3, res.stderr
    data = json.loads(res.stdout)
    rsk2 = [f for f in data["findings"] if f["rule_id"] == "AIMS-RSK-002"]
    assert rsk2
    assert {f["status"] for f in rsk2} == {"error"}
    assert all("E333" in f["message"] and "'event'" in f["message"] for f in rsk2)
    # rules that read no events are unaffected
    own = [f for f in data["findings"] if f["rule_id"] == "AIMS-OWN-002"]
    assert "error" not in {f["status"] for f in own}

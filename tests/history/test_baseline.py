"""Baseline/ratchet: only failures not in the baseline fail; a passing check never regresses."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import AS_OF, Runner
from tests.history.test_history import REGISTER_BREAK


def test_baseline_ratchet(run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    base = tmp_path / "baseline.json"
    first = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o", base)
    assert first.returncode == 1
    known = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--baseline", base, "-f", "json")
    assert known.returncode == 0, known.stderr  # every failure is already in the baseline
    data = json.loads(known.stdout)
    fails = [f for f in data["findings"] if f["status"] == "fail"]
    assert fails
    assert all(f["baseline"] == "known" for f in fails)
    assert data["summary"]["failing"] == 0
    assert data["summary"]["baseline_known"] == len(fails)

    register = demo_copy.parent / "register.yaml"
    register.write_text(register.read_text("utf-8").replace(*REGISTER_BREAK), "utf-8")
    worse = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--baseline", base, "-f", "json")
    assert worse.returncode == 1
    got = json.loads(worse.stdout)
    regressed = [f for f in got["findings"] if f.get("baseline") == "regressed"]
    assert [(f["rule_id"], f["target_id"]) for f in regressed] == [("AIMS-OWN-002", "RSK-010")]
    assert got["summary"]["failing"] == 1


def test_bad_baseline_is_a_usage_error(run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("[]", "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--baseline", bad)
    assert res.returncode == 2
    assert "E394" in res.stderr

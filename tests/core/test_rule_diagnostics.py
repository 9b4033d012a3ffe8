"""Rule-file validation: every problem of a file at once, with file:line:col, exit 2."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Runner

BAD_RULE = """\
id: ORG-OWN-001
title: Every AI system has a primary owner
severity: high
references: {iso42001: ["5.3"]}
applies_to: [ai_system]
require:
  - owner_asigned: {role: primary}
  - owner_trained: {courses: [basics], validity_days: "a year"}
finding_owner: [primary]
remediation: Name an owner.
colour: blue
"""


def test_three_problems_in_one_run(tmp_path: Path, run_cli: Runner) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "ORG-OWN-001.yaml").write_text(BAD_RULE, "utf-8")
    res = run_cli("rules", "validate", str(pack))
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ": error " in ln]
    assert len(lines) == 3, res.stderr
    assert any(":7:5: error E201 unknown check 'owner_asigned'" in ln for ln in lines)
    assert "hint: did you mean 'owner_assigned'" in res.stderr
    assert any(":8:" in ln and "E203" in ln and "validity_days" in ln for ln in lines)
    assert any(":11:1: error E111 unknown key 'colour'" in ln for ln in lines)
    assert "Traceback" not in res.stderr


def test_invalid_iso_reference_fails_with_location(tmp_path: Path, run_cli: Runner) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    text = BAD_RULE.replace('["5.3"]', '["5.3", "A.6.1.1", "A.11"]').replace(
        "owner_asigned", "owner_assigned").replace(', validity_days: "a year"', "").replace(
        "colour: blue\n", "")
    (pack / "ORG-OWN-001.yaml").write_text(text, "utf-8")
    res = run_cli("rules", "validate", str(pack))
    assert res.returncode == 2
    assert "ORG-OWN-001.yaml:4:" in res.stderr
    assert "E207 'A.6.1.1' is not an ISO/IEC 42001" in res.stderr
    assert "E207 'A.11' is not an ISO/IEC 42001" in res.stderr


def test_yaml_bombs_and_duplicate_keys_are_refused(tmp_path: Path, run_cli: Runner) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    bomb = BAD_RULE.replace("colour: blue\n", 'a: &a ["x","x"]\nb: [*a,*a]\nseverity: low\n')
    (pack / "ORG-OWN-001.yaml").write_text(bomb, "utf-8")
    res = run_cli("rules", "validate", str(pack))
    assert res.returncode == 2
    assert "E103" in res.stderr
    assert "E102 duplicate key 'severity'" in res.stderr


def test_params_substitution_and_config_override(tmp_path: Path, run_cli: Runner) -> None:
    res = run_cli("rules", "show", "AIMS-TRN-001", "-c", "fixtures/demo/aimscheck.yaml")
    assert res.returncode == 0, res.stderr
    assert "validity_days = 365" in res.stdout
    assert "owner_trained" in res.stdout

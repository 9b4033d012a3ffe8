"""Acceptance of issue 14: an organisation with no register file (fixtures/registry-only).

Models and versions come from saved MLflow search responses, risks, incidents and approvals
from a saved Jira search naming the models. The scan must give exactly the hand-written
expected failing findings and owners; the gate blocks every release the scan fails and
releases the clean one; a duplicate release in a second source fails closed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, Runner

FIXTURE = REPO / "fixtures" / "registry-only"
CONFIG = FIXTURE / "aimscheck.yaml"
AS_OF = "2026-11-30"


def _expected() -> set[tuple[str, str, str, str]]:
    out = set()
    for line in (FIXTURE / "expected-findings.txt").read_text("utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            rule, target, status, owner = line.split()
            out.add((rule, target, status, owner))
    return out


def _scan(run_cli: Runner, config: Path = CONFIG, as_of: str = AS_OF) -> dict[str, Any]:
    res = run_cli("scan", "-c", config, "--as-of", as_of, "--format", "json",
                  "--passes", "full")
    data: dict[str, Any] = json.loads(res.stdout)
    data["_exit"] = res.returncode
    return data


def _failing(data: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}", f["status"],
             f["owner"]["email"]) for f in data["findings"] if f["status"] in ("fail", "error")}


def _status(data: dict[str, Any], rule: str, target: str) -> str:
    [f] = [f for f in data["findings"]
           if f["rule_id"] == rule and f"{f['target_kind']}/{f['target_id']}" == target]
    return str(f["status"])


def test_no_register_file_only_registry_jira_hr_lms() -> None:
    text = CONFIG.read_text("utf-8")
    assert "adapter: register" not in text
    assert not list(FIXTURE.rglob("register*.yaml"))


def test_scan_matches_the_hand_written_expected_findings_and_owners(run_cli: Runner) -> None:
    data = _scan(run_cli)
    assert data["_exit"] == 1
    assert {s["status"] for s in data["sources"]} == {"ok"}
    assert _failing(data) == _expected()


def test_the_cases_the_issue_names(run_cli: Runner) -> None:
    data = _scan(run_cli)
    by = {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}"): f for f in data["findings"]}
    # deployed, since archived, no sign-off; the owner is the risk owner from registry tags
    v1 = by[("AIMS-REL-001", "release/credit-scorer:1")]
    assert v1["status"] == "fail"
    assert v1["owner"]["via"] == "system.risk_owner"
    # tier spelled High: two approvers required
    assert "risk tier high) needs 2 distinct approvers" in by[
        ("AIMS-REL-003", "release/fraud-model:4")]["message"]
    # the incident names the model in another case, and reaches the registry's risk owner
    inc = by[("AIMS-INC-003", "incident/INC-101")]
    assert "after 2 days 2 h at" in inc["message"]
    assert "beyond the SLA of 24 h" in inc["message"]
    assert "to the risk owner Ola Nordmann" in inc["message"]
    assert by[("AIMS-LNK-001", "incident/INC-101")]["status"] == "pass"
    # a new version without risk review within 30 days
    assert "model version registered on credit-scorer at 2026-10-15" in by[
        ("AIMS-RSK-002", "risk/AIRISK-1")]["message"]
    # records dated after as-of are ignored: the 1 Dec review, the 2 Dec deployment
    assert "last risk review on 2026-08-15" in by[("AIMS-RSK-001", "risk/AIRISK-2")]["message"]
    assert by[("AIMS-REL-001", "release/fraud-model:5")]["status"] == "not_applicable"
    # versions never deployed need no sign-off and raise no error
    assert by[("AIMS-REL-001", "release/credit-scorer:3")]["status"] == "not_applicable"


def test_the_late_records_exist_and_count_once_as_of_has_passed(run_cli: Runner) -> None:
    later = _scan(run_cli, as_of="2026-12-03")
    assert _status(later, "AIMS-RSK-001", "risk/AIRISK-2") == "pass"
    assert _status(later, "AIMS-REL-001", "release/fraud-model:5") == "fail"


def test_scan_is_byte_identical(run_cli: Runner) -> None:
    a = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "json").stdout
    b = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "--format", "json").stdout
    assert a == b


def _gate(run_cli: Runner, model: str, version: str, config: Path = CONFIG) -> int:
    res = run_cli("gate", "release", "-c", config, "--as-of", AS_OF, "--model", model,
                  "--version", version)
    return res.returncode


def test_the_gate_blocks_every_release_the_scan_fails(run_cli: Runner) -> None:
    failed = {t.removeprefix("release/") for _, t, _, _ in _expected()
              if t.startswith("release/")}
    assert failed == {"credit-scorer:1", "fraud-model:4"}
    for rid in sorted(failed):
        model, version = rid.split(":")
        assert _gate(run_cli, model, version) == 1, rid


@pytest.mark.parametrize(("model", "version", "code"), [
    ("support-assistant", "7", 0),   # the clean release
    ("credit-scorer", "2", 1),       # signed off, but its system's risk AIRISK-1 is overdue
    ("credit-scorer", "3", 1),       # never signed off: gating it means deploying it now
])
def test_the_gate_releases_the_clean_one(run_cli: Runner, model: str, version: str,
                                         code: int) -> None:
    assert _gate(run_cli, model, version) == code


def test_a_duplicate_release_in_a_second_source_exits_3(run_cli: Runner) -> None:
    dup = FIXTURE / "aimscheck.duplicate.yaml"
    data = _scan(run_cli, dup)
    assert data["_exit"] == 3
    merge = next(s for s in data["sources"] if s["name"] == "(merge)")
    [diag] = [d for d in merge["diagnostics"] if "E332" in d]
    assert "ci/releases.jsonl:1" in diag
    assert "credit-scorer/2" in diag
    assert _gate(run_cli, "credit-scorer", "2", dup) == 3
    assert _gate(run_cli, "CREDIT-SCORER", "2", dup) == 3


@pytest.mark.parametrize(("model", "version"), [("support-assistant", "7"),
                                                ("fraud-model", "4")])
def test_a_duplicate_release_fails_the_gate_of_every_model(run_cli: Runner, model: str,
                                                            version: str) -> None:
    # The duplicate (credit-scorer v2 in the registry and the CI log) fails the source
    # closed: the gate of another model cannot open either, as the scan of the same config
    # exits 3 — even though the registry reads only the gated model (the gate widens that
    # to every model the CI log names, so the other copy is read and found).
    dup = FIXTURE / "aimscheck.duplicate.yaml"
    res = run_cli("gate", "release", "-c", dup, "--as-of", AS_OF, "--model", model,
                  "--version", version)
    assert res.returncode == 3, res.stdout + res.stderr
    assert "E332 duplicate release 'Credit-Scorer:2'" in res.stderr
    assert "ci/releases.jsonl:1" in res.stderr
    assert "mlflow: credit-scorer/2" in res.stderr
    # the same gate without the CI log opens or blocks on the findings (exit 0 or 1)
    assert _gate(run_cli, model, version) in (0, 1)


def test_the_saved_bodies_are_what_the_generator_writes() -> None:
    spec = importlib.util.spec_from_file_location("make_fixture", FIXTURE / "make_fixture.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    har = json.loads((FIXTURE / "mlflow" / "registry.har").read_text("utf-8"))
    assert har["log"]["entries"] == mod.recording()
    assert json.loads((FIXTURE / "jira" / "search-p1.json").read_text("utf-8")) == mod.jira()

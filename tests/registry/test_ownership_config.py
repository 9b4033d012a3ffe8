"""Configurable ownership (issue 14): finding-owner chains per kind, per-rule overrides,
and `aimscheck rules show` printing the effective values."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import AS_OF, Runner


def _append(config: Path, text: str) -> None:
    with config.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _owner(run_cli: Runner, config: Path, rule: str, target: str) -> str:
    res = run_cli("scan", "-c", config, "--as-of", AS_OF, "--format", "json")
    data = json.loads(res.stdout)
    [f] = [f for f in data["findings"]
           if f["rule_id"] == rule and f"{f['target_kind']}/{f['target_id']}" == target]
    return str(f["owner"]["email"])


def test_default_chains_are_todays(run_cli: Runner, demo_copy: Path) -> None:
    # support-chatbot has no backup: AIMS-OWN-002's chain [primary, system.primary]
    assert _owner(run_cli, demo_copy, "AIMS-OWN-002", "ai_system/support-chatbot") == \
        "daniel.okafor@northwind.example"


def test_chain_per_kind_from_the_config(run_cli: Runner, demo_copy: Path) -> None:
    _append(demo_copy, "\nfinding_owners:\n  ai_system: [risk_owner, primary]\n")
    # the chatbot's risk owner is Zoë Müller: every rule's ai_system findings go to her
    assert _owner(run_cli, demo_copy, "AIMS-OWN-002", "ai_system/support-chatbot") == \
        "zoe.mueller@northwind.example"
    res = run_cli("rules", "show", "AIMS-OWN-002", "-c", demo_copy)
    assert res.returncode == 0, res.stderr
    assert ("finding owner (ai_system): risk_owner → primary → accountable_executive"
            "  (config finding_owners)") in res.stdout
    assert "finding owner (risk): primary → system.primary → accountable_executive" \
        in res.stdout


def test_a_rule_override_wins_and_applies_to_is_narrowed(run_cli: Runner,
                                                         demo_copy: Path) -> None:
    text = demo_copy.read_text("utf-8").replace(
        "  AIMS-RSK-001:\n    params: {cadence_days: 90}\n",
        "  AIMS-RSK-001:\n    params: {cadence_days: 90}\n"
        "  AIMS-OWN-002:\n    applies_to: [ai_system]\n    finding_owner: [risk_owner]\n")
    demo_copy.write_text(text + "\nfinding_owners:\n  ai_system: [primary]\n", "utf-8")
    assert _owner(run_cli, demo_copy, "AIMS-OWN-002", "ai_system/support-chatbot") == \
        "zoe.mueller@northwind.example"
    res = run_cli("rules", "show", "AIMS-OWN-002", "-c", demo_copy)
    assert "applies to:    ai_system  (config)" in res.stdout
    assert "finding owner: risk_owner → accountable_executive  (config)" in res.stdout
    data = json.loads(run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--format",
                              "json").stdout)
    kinds = {f["target_kind"] for f in data["findings"] if f["rule_id"] == "AIMS-OWN-002"}
    assert kinds == {"ai_system"}


def test_applies_to_a_kind_the_checks_do_not_understand_is_a_config_error(
        run_cli: Runner, demo_copy: Path) -> None:
    text = demo_copy.read_text("utf-8").replace(
        "  AIMS-RSK-001:\n    params: {cadence_days: 90}\n",
        "  AIMS-RSK-001:\n    params: {cadence_days: 90}\n"
        "  AIMS-REL-001:\n    applies_to: [risk]\n")
    demo_copy.write_text(text, "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF)
    assert res.returncode == 2
    assert "E206" in res.stderr
    assert "cannot apply to risk" in res.stderr

"""The gate reads what the scan reads about the gated release's AI system (REAL MLflow server).

With ``systems: tag`` an AI system is made of every registered model carrying its
``ai_system`` tag, and with ``events: true`` each version registered on any of them is a
change the system's risk reviews (AIMS-RSK-002) are judged against. The gate of one model
must therefore read its SIBLING models' versions too: a sibling's version registered after
the last risk review fails the gate exactly as it fails the scan — and the same holds when
the sibling lives in a second registry source of the config.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import register, unique
from .org import AIMSCHECK, AS_OF, approval, gate, write_org

pytestmark = pytest.mark.services

OWNERS = {"owner.primary": "pia.primary@example.org", "owner.backup": "bo.backup@example.org",
          "owner.risk_owner": "rita.riskowner@example.org", "risk_tier": "low",
          "third_party": "false", "lifecycle": "production", "status": "production"}
GATED: dict[str, Any] = {"user": "reg.builder", "aliases": ["champion"],
         "tags": {"registered_at": "2026-10-01T09:00:00Z",
                  "deployed_by": "dee.deployer@example.org",
                  "deployed_at": "2026-10-10T09:00:00Z"}}
# registered after the last risk review (5 October); the review was due by 19 November
SIBLING: dict[str, Any] = {"user": "reg.builder", "tags": {"registered_at": "2026-10-20T09:00:00Z"}}


def _org(tmp_path: Path, url: str, group: str, model: str, system: str) -> Path:
    """write_org's people and approvals; the registry (group-filtered) as AI-system inventory,
    and one risk of the AI system, last reviewed by its owner on 5 October."""
    cfg = write_org(tmp_path, url, model, [
        approval(model, "1", "rita.riskowner@example.org", "2026-10-08T09:00:00Z")])
    (tmp_path / "risks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"record": "subject", "kind": "risk", "id": f"RISK-{system}", "name": "Price drift",
         "owners": {"primary": "rita.riskowner@example.org"},
         "attributes": {"system": system, "status": "open"},
         "created_at": "2026-09-01T09:00:00Z"},
        {"record": "review", "id": "RV-1", "subject": f"risk/RISK-{system}",
         "kind": "risk_review", "reviewer": "rita.riskowner@example.org",
         "reviewed_at": "2026-10-05T09:00:00Z"}]), "utf-8")
    data = yaml.safe_load(cfg.read_text("utf-8"))
    data["sources"] = [s for s in data["sources"] if s["adapter"] != "register"]
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src.update({"filter": f"tags.grp = '{group}'", "systems": "tag"})
    data["sources"].append({"adapter": "jsonl", "name": "risks", "path": "risks.jsonl",
                            "kinds": ["subject", "review"]})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return cfg


def _scan(cfg: Path) -> tuple[int, dict[str, Any]]:
    proc = subprocess.run([str(AIMSCHECK), "scan", "-c", str(cfg), "--as-of", AS_OF,
                           "--format", "json", "--passes", "full"],
                          capture_output=True, text=True, timeout=300)
    assert proc.stdout, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return proc.returncode, data


def _rsk002(data: dict[str, Any], system: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [f for f in data["findings"]
                                    if f["rule_id"] == "AIMS-RSK-002"
                                    and f["target_id"] == f"RISK-{system}"]
    assert len(found) == 1, found
    return found[0]


def _gate_blocks_as_the_scan_fails(cfg: Path, model: str, system: str) -> None:
    """The scan fails the system's AIMS-RSK-002 on the sibling's version; the gate of
    ``model`` version 1 blocks on the same finding, word for word."""
    _, scanned = _scan(cfg)
    f = _rsk002(scanned, system)
    assert f["status"] == "fail", f
    assert f"model version registered on {system} at 2026-10-20" in f["message"]
    gated = gate(cfg, model, "1", "--format", "json")
    assert gated.returncode == 1, gated.stdout + gated.stderr
    g = _rsk002(json.loads(gated.stdout), system)
    assert (g["status"], g["message"]) == (f["status"], f["message"])


def test_a_sibling_version_after_the_risk_review_fails_gate_as_scan(
        mlflow_url: str, tmp_path: Path) -> None:
    group, system = unique("sib"), unique("pricing")
    tags = {**OWNERS, "grp": group, "ai_system": system}
    model, sibling = unique("aimscheck-gated"), unique("aimscheck-sibling")
    register(mlflow_url, [{"name": model, "tags": tags, "versions": [GATED]}])
    cfg = _org(tmp_path, mlflow_url, group, model, system)
    # the AI system of one model: its version was reviewed in time; the release is clean
    _, data = _scan(cfg)
    assert _rsk002(data, system)["status"] == "pass", _rsk002(data, system)
    proc = gate(cfg, model, "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # a second model of the same AI system gets a version after the last risk review
    register(mlflow_url, [{"name": sibling, "tags": tags, "versions": [SIBLING]}])
    _, data = _scan(cfg)
    f = _rsk002(data, system)
    assert f["status"] == "fail", f
    assert f"model version registered on {system} at 2026-10-20" in f["message"]
    proc = gate(cfg, model, "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"BLOCK {model} version 1"), proc.stdout
    assert "AIMS-RSK-002" in proc.stdout
    gated = gate(cfg, model, "1", "--format", "json")
    assert gated.returncode == 1
    g = _rsk002(json.loads(gated.stdout), system)
    assert (g["status"], g["message"]) == (f["status"], f["message"])


def test_a_sibling_in_a_second_registry_source_fails_the_gate_too(
        mlflow_url: str, tmp_path: Path) -> None:
    group, other_group, system = unique("sib"), unique("sib2"), unique("pricing")
    model, sibling = unique("aimscheck-gated"), unique("aimscheck-sibling")
    register(mlflow_url, [
        {"name": model, "tags": {**OWNERS, "grp": group, "ai_system": system},
         "versions": [GATED]},
        # the sibling carries no owner tags (one system from two sources is otherwise a
        # duplicate subject, E314); its version names the AI system in its own tag
        {"name": sibling, "tags": {"grp": other_group},
         "versions": [{**SIBLING, "tags": {**SIBLING["tags"], "ai_system": system}}]}])
    cfg = _org(tmp_path, mlflow_url, group, model, system)
    data = yaml.safe_load(cfg.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    data["sources"].append({**src, "name": "mlflow-2", "systems": "none",
                            "filter": f"tags.grp = '{other_group}'"})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    _gate_blocks_as_the_scan_fails(cfg, model, system)


@pytest.mark.parametrize("link", ["register", "name"])
def test_siblings_of_a_system_another_source_names(
        mlflow_url: str, tmp_path: Path, link: str) -> None:
    # The register is the inventory (systems: none). The gated model is linked to its AI
    # system by the register (no ai_system tag), or its tag names the system by its NAME;
    # the sibling's tag names it by its id. The scan counts the sibling's new version as a
    # change of the system; the gate, told the system (and its other name) by the register
    # read before the registry, reads the sibling too.
    group, system = unique("sib"), unique("pricing")
    title = f"Price engine {system[-4:]}"
    model, sibling = unique("aimscheck-gated"), unique("aimscheck-sibling")
    base = {**OWNERS, "grp": group}
    gated_tags = base if link == "register" else {**base, "ai_system": title.upper()}
    register(mlflow_url, [{"name": model, "tags": gated_tags, "versions": [GATED]}])
    cfg = _org(tmp_path, mlflow_url, group, model, system)
    entry: dict[str, Any] = {
        "id": system, "name": title, "risk_tier": "low", "lifecycle": "production",
        "owners": {"primary": "pia.primary@example.org", "backup": "bo.backup@example.org",
                   "risk_owner": "rita.riskowner@example.org"}}
    reg: dict[str, Any] = {"ai_systems": [entry]}
    if link == "register":
        reg["models"] = [{"id": model, "name": "Pricing model", "system": system,
                          "lifecycle": "production",
                          "owners": {"primary": "pia.primary@example.org",
                                     "backup": "bo.backup@example.org"}}]
    (tmp_path / "register.yaml").write_text(yaml.safe_dump(reg), "utf-8")
    data = yaml.safe_load(cfg.read_text("utf-8"))
    data["sources"].insert(0, {"adapter": "register", "path": "register.yaml"})
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src["systems"] = "none"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    proc = gate(cfg, model, "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"(AI system {system})" in proc.stdout.splitlines()[0]
    register(mlflow_url, [{"name": sibling, "tags": {**base, "ai_system": system},
                           "versions": [SIBLING]}])
    _gate_blocks_as_the_scan_fails(cfg, model, system)


def test_a_model_that_is_its_system_has_its_siblings_in_another_registry_read(
        mlflow_url: str, tmp_path: Path) -> None:
    # Registry 1 (systems: model): the gated model IS its AI system. Registry 2 holds a
    # model tagged with that system; its new version is a change of the system in the scan,
    # and so in the gate.
    group, other_group = unique("sib"), unique("sib2")
    model, sibling = unique("aimscheck-gated"), unique("aimscheck-sibling")
    register(mlflow_url, [
        {"name": model, "tags": {**OWNERS, "grp": group}, "versions": [GATED]},
        {"name": sibling, "tags": {"grp": other_group, "ai_system": model},
         "versions": [SIBLING]}])
    cfg = _org(tmp_path, mlflow_url, group, model, model)
    data = yaml.safe_load(cfg.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src["systems"] = "model"
    data["sources"].append({**src, "name": "mlflow-2", "systems": "none",
                            "filter": f"tags.grp = '{other_group}'"})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    _gate_blocks_as_the_scan_fails(cfg, model, model)

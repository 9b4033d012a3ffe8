"""One subject per identity against a REAL MLflow server (issue 14): a release recorded
twice — two registered models whose names differ only in letter case (MLflow allows it), or
the registry and a second source — fails the run closed, and so the gate of EVERY model,
also when the gate reads only the gated model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import register, unique
from .org import AIMSCHECK, AS_OF, MODEL_TAGS, approval, gate, write_org

pytestmark = pytest.mark.services

DEPLOYED = {"registered_at": "2026-11-01T09:00:00+01:00",
            "deployed_by": "dee.deployer@example.org",
            "deployed_at": "2026-11-10T09:00:00+01:00"}


def _org(tmp_path: Path, url: str, group: str, clean: str) -> Path:
    cfg = write_org(tmp_path, url, clean, [
        approval(clean, "1", "rita.riskowner@example.org", "2026-11-09T16:00:00Z")])
    data = yaml.safe_load(cfg.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src["filter"] = f"tags.dupgroup = '{group}'"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return cfg


def _scan_exit(cfg: Path) -> tuple[int, dict[str, object]]:
    import subprocess

    proc = subprocess.run([str(AIMSCHECK), "scan", "-c", str(cfg), "--as-of", AS_OF,
                           "--format", "json"], capture_output=True, text=True, timeout=120)
    return proc.returncode, json.loads(proc.stdout)


def test_case_variant_models_fail_every_gate_closed(mlflow_url: str, tmp_path: Path) -> None:
    group = unique("dup")
    tags = {**MODEL_TAGS, "dupgroup": group}
    base = unique("aimscheck-dupcase")
    clean = unique("aimscheck-clean")
    version = {"user": "reg.builder", "tags": DEPLOYED, "aliases": ["champion"]}
    register(mlflow_url, [{"name": clean, "tags": tags, "versions": [version]}])
    cfg = _org(tmp_path, mlflow_url, group, clean)
    # the clean model alone: released
    proc = gate(cfg, clean, "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the same model registered twice, in two letter cases
    register(mlflow_url, [{"name": base, "tags": tags, "versions": [version]},
                          {"name": base.upper(), "tags": tags, "versions": [version]}])
    code, data = _scan_exit(cfg)
    assert code == 3
    merge = next(s for s in data["sources"] if s["name"] == "(merge)")  # type: ignore[union-attr]
    text = " ".join(merge["diagnostics"])
    assert "E314" in text
    assert "E332" in text
    assert base in text
    assert base.upper() in text
    for model in (clean, base, base.upper()):
        proc = gate(cfg, model, "1")
        assert proc.returncode == 3, (model, proc.stdout + proc.stderr)
        assert "E314" in proc.stderr


def test_a_release_in_a_second_source_fails_every_gate_closed(
        mlflow_url: str, tmp_path: Path) -> None:
    group = unique("dup")
    tags = {**MODEL_TAGS, "dupgroup": group}
    other = unique("aimscheck-other")
    clean = unique("aimscheck-clean")
    version = {"user": "reg.builder", "tags": DEPLOYED, "aliases": ["champion"]}
    register(mlflow_url, [{"name": clean, "tags": tags, "versions": [version]},
                          {"name": other, "tags": tags, "versions": [version]}])
    cfg = _org(tmp_path, mlflow_url, group, clean)
    assert gate(cfg, clean, "1").returncode == 0
    # the deploy pipeline's log records the OTHER model's release again, in another case
    (tmp_path / "releases.jsonl").write_text(json.dumps({
        "model": other.upper(), "version": "1", "registered_by": "reg.builder@example.org",
        "deployed_by": "dee.deployer@example.org",
        "deployed_at": "2026-11-10T08:00:00Z"}) + "\n", "utf-8")
    data = yaml.safe_load(cfg.read_text("utf-8"))
    data["sources"].append({"adapter": "jsonl", "name": "ci", "path": "releases.jsonl",
                            "kind": "release"})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    code, _ = _scan_exit(cfg)
    assert code == 3
    proc = gate(cfg, clean, "1")  # the registry reads the gated model and the log's models
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"E332 duplicate release '{other.upper()}:1'" in proc.stderr
    assert f"mlflow: {other}/1" in proc.stderr


def test_a_model_in_two_registry_sources_fails_every_gate_closed(
        mlflow_url: str, tmp_path: Path) -> None:
    # Two MLflow sources (two registries, here two filtered views of one server) both hold
    # a model OTHER than the gated one, in two letter cases. The scan reports the duplicate
    # (E314, E332) and fails closed; so must the gate of a third model, as it does for a
    # duplicate inside one registry: the inventory is ambiguous.
    group, group2 = unique("dup"), unique("dup2")
    clean, other = unique("aimscheck-clean"), unique("aimscheck-twice")
    version = {"user": "reg.builder", "tags": DEPLOYED, "aliases": ["champion"]}
    register(mlflow_url, [
        {"name": clean, "tags": {**MODEL_TAGS, "dupgroup": group}, "versions": [version]},
        {"name": other, "tags": {**MODEL_TAGS, "dupgroup": group}, "versions": [version]}])
    cfg = _org(tmp_path, mlflow_url, group, clean)
    data = yaml.safe_load(cfg.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    data["sources"].append({**src, "name": "mlflow-2", "filter": f"tags.dupgroup = '{group2}'"})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    assert gate(cfg, clean, "1").returncode == 0  # the second registry holds nothing yet
    register(mlflow_url, [{"name": other.upper(), "tags": {**MODEL_TAGS, "dupgroup": group2},
                           "versions": [version]}])
    code, scanned = _scan_exit(cfg)
    assert code == 3
    sources: Any = scanned["sources"]
    merge = next(s for s in sources if s["name"] == "(merge)")
    text = " ".join(merge["diagnostics"])
    assert f"duplicate subject 'model/{other.upper()}'" in text
    assert f"E332 duplicate release '{other.upper()}:1'" in text
    proc = gate(cfg, clean, "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"duplicate subject 'model/{other.upper()}'" in proc.stderr
    assert f"E332 duplicate release '{other.upper()}:1'" in proc.stderr
    # the same with model subjects switched off: the release alone is the duplicate
    for s in data["sources"]:
        if s["adapter"] == "mlflow":
            s["subjects"] = False
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    assert _scan_exit(cfg)[0] == 3
    proc = gate(cfg, clean, "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"E332 duplicate release '{other.upper()}:1'" in proc.stderr


@pytest.mark.parametrize("where", ["one source", "two sources"])
def test_an_ai_system_described_twice_fails_every_gate_closed(
        mlflow_url: str, tmp_path: Path, where: str) -> None:
    # systems: tag — each distinct ai_system tag is an AI system subject. Two OTHER models
    # tagged with one system in two spellings (one source), or with the same system in two
    # registry sources, describe one subject twice: the scan reports E314 and exits 3, and
    # so does the gate of a model of another AI system.
    group, group2 = unique("dup"), unique("dup2")
    clean, a, b = unique("aimscheck-clean"), unique("aimscheck-a"), unique("aimscheck-b")
    system = unique("Scoring")
    version = {"user": "reg.builder", "tags": DEPLOYED, "aliases": ["champion"]}
    register(mlflow_url, [{"name": clean, "tags": {**MODEL_TAGS, "dupgroup": group},
                           "versions": [version]}])
    cfg = _org(tmp_path, mlflow_url, group, clean)
    data = yaml.safe_load(cfg.read_text("utf-8"))
    [src] = [s for s in data["sources"] if s["adapter"] == "mlflow"]
    src["systems"] = "tag"
    if where == "two sources":
        data["sources"].append({**src, "name": "mlflow-2",
                                "filter": f"tags.dupgroup = '{group2}'"})
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    assert gate(cfg, clean, "1").returncode == 0, gate(cfg, clean, "1").stdout
    second = system.lower() if where == "one source" else system
    register(mlflow_url, [
        {"name": a, "tags": {**MODEL_TAGS, "dupgroup": group, "ai_system": system},
         "versions": [version]},
        {"name": b, "tags": {**MODEL_TAGS, "ai_system": second,
                             "dupgroup": group if where == "one source" else group2},
         "versions": [version]}])
    code, scanned = _scan_exit(cfg)
    assert code == 3
    sources: Any = scanned["sources"]
    merge = " ".join(next(s for s in sources if s["name"] == "(merge)")["diagnostics"])
    assert f"duplicate subject 'ai_system/{second}'" in merge
    proc = gate(cfg, clean, "1")
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"duplicate subject 'ai_system/{second}'" in proc.stderr

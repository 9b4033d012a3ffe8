"""The demo organisation with models and releases from a live MLflow server finds the same."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.services

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "fixtures" / "demo"


def _scan(config: Path, env: dict[str, str]) -> tuple[int, set[tuple[str, str, str, str]]]:
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "aimscheck"), "scan", "-c", str(config),
                           "--as-of", "2026-11-30", "--format", "json", "--passes", "full"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stdout[-2000:] + proc.stderr
    result = json.loads(proc.stdout)
    return proc.returncode, {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}", f["status"],
                              f["owner"]["id"]) for f in result["findings"]}


def _variant_config() -> str:
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "python"), "-c",
                           "import sys; sys.path.insert(0, sys.argv[1]); import load_mlflow; "
                           "print(load_mlflow.variant_config(), end='')", str(DEMO / "live")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_variant_config_is_in_sync_with_the_demo_config() -> None:
    assert (DEMO / "aimscheck.mlflow.yaml").read_text(encoding="utf-8") == _variant_config(), (
        "fixtures/demo/aimscheck.mlflow.yaml is out of date with aimscheck.yaml: run "
        "`.venv/bin/python fixtures/demo/live/load_mlflow.py --write-config`")


def test_mlflow_demo_variant_has_the_same_findings(mlflow_url: str) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow_url}
    load = subprocess.run([str(REPO / ".venv" / "bin" / "python"),
                           str(DEMO / "live" / "load_mlflow.py"), "--replace"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert load.returncode == 0, load.stderr
    assert load.stdout.startswith("loaded ")
    live_code, live = _scan(DEMO / "aimscheck.mlflow.yaml", env)
    file_code, files = _scan(DEMO / "aimscheck.yaml", env)
    assert live == files, {"only live": sorted(live - files)[:20],
                           "only file": sorted(files - live)[:20]}
    assert live_code == file_code
    assert any(t.startswith("release/credit-risk-scorer:") for _, t, _, _ in live)

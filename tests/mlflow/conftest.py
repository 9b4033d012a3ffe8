"""Fixtures for the tests against a REAL MLflow tracking server (tests/services/services.sh).

Models, versions, tags, aliases and stages are created with MLflow's own client, run from
the services venv (``.venv-services/mlflow``) so that the mlflow package never enters the
project's environment. A missing server or venv is a failure, never a skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ENV_FILE = REPO / ".services.env"
MLFLOW_PY = REPO / ".venv-services" / "mlflow" / "bin" / "python"
HOW = ("start the test servers first: `bash tests/services/services.sh start` "
       "(or run the suite with `make test`)")

# Runs inside the services venv: create what the JSON spec on stdin describes.
_CLIENT_SCRIPT = r"""
import json, sys, warnings
warnings.filterwarnings("ignore")
from mlflow import MlflowClient
spec = json.load(sys.stdin)
c = MlflowClient(tracking_uri=spec["uri"], registry_uri=spec["uri"])
exp = c.create_experiment(spec["experiment"])
for m in spec["models"]:
    c.create_registered_model(m["name"], tags=m.get("tags") or {})
    runs = {}
    for v in m["versions"]:
        user = v.get("user") or "unknown"
        if user not in runs:
            runs[user] = c.create_run(exp, tags={"mlflow.user": user}).info.run_id
        run_id = runs[user]
        mv = c.create_model_version(m["name"], f"runs:/{run_id}/model", run_id=run_id,
                                    tags=v.get("tags") or {}, await_creation_for=0)
        if v.get("stage"):
            c.transition_model_version_stage(m["name"], mv.version, v["stage"])
        for alias in v.get("aliases") or []:
            c.set_registered_model_alias(m["name"], alias, mv.version)
print("ok")
"""


def _env_file() -> dict[str, str]:
    out: dict[str, str] = {}
    if ENV_FILE.is_file():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            if "=" in line and not line.lstrip().startswith("#"):
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip()
    return out


@pytest.fixture(scope="session")
def mlflow_url() -> str:
    url = os.environ.get("AIMSCHECK_TEST_MLFLOW_URL") or _env_file().get(
        "AIMSCHECK_TEST_MLFLOW_URL")
    if not url:
        pytest.fail(f"AIMSCHECK_TEST_MLFLOW_URL is not set and not in {ENV_FILE}: {HOW}",
                    pytrace=False)
    if not MLFLOW_PY.exists():
        pytest.fail(f"{MLFLOW_PY} is missing (MLflow's own client runs from there): {HOW}",
                    pytrace=False)
    return url.rstrip("/")


def unique(prefix: str) -> str:
    """A model name no other test (or test run) on the shared server uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def register(url: str, models: list[dict[str, Any]]) -> None:
    """Create models/versions/tags/aliases/stages through MLflow's own client."""
    spec = {"uri": url, "experiment": unique("aimscheck-test"), "models": models}
    proc = subprocess.run([str(MLFLOW_PY), "-c", _CLIENT_SCRIPT], input=json.dumps(spec),
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true",
                               "DO_NOT_TRACK": "true"})
    assert proc.returncode == 0, proc.stderr[-3000:]

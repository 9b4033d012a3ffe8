"""Change events from a REAL MLflow server (issue 14): what the registry records, and no more.

The REST API gives each version `creation_timestamp`, `last_updated_timestamp`,
`current_stage`, tags, and the model's aliases — no stage or alias history. A stage
transition or alias assignment made on the server leaves no instant of its own (a
transition only moves `last_updated_timestamp`, which any tag edit moves too), so the
adapter makes an event of it only where the pipeline wrote the instant in a mapped tag.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checker.adapters import SourceContext
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig

from .conftest import register, unique
from .org import MODEL_TAGS

pytestmark = pytest.mark.services

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def _version(url: str, model: str, version: str) -> dict[str, object]:
    q = urllib.parse.urlencode({"name": model, "version": version})
    with urllib.request.urlopen(f"{url}/api/2.0/mlflow/model-versions/get?{q}",
                                timeout=30) as r:
        body: dict[str, dict[str, object]] = json.loads(r.read())
    return body["model_version"]


def test_events_are_the_instants_the_registry_records(mlflow_url: str,
                                                      tmp_path: Path) -> None:
    model = unique("aimscheck-events")
    register(mlflow_url, [{"name": model, "tags": MODEL_TAGS, "versions": [
        # v1: promoted by a pipeline that records when (stage and alias tags)
        {"user": "reg.builder", "stage": "Production", "aliases": ["champion"],
         "tags": {"registered_at": "2026-10-01T09:00:00Z",
                  "stage_changed_at": "2026-10-05T09:00:00Z",
                  "alias_set_at.champion": "2026-10-05T09:01:00Z",
                  "deployed_at": "2026-10-05T09:02:00Z",
                  "deployed_by": "dee.deployer@example.org"}},
        # v2: promoted by hand on the server: a stage and an alias, no instant of either
        {"user": "reg.builder", "stage": "Staging", "aliases": ["challenger"],
         "tags": {"registered_at": "2026-11-01T09:00:00Z"}}]}])
    # what the server says about v2: a stage, but only creation and last-update times
    v2 = _version(mlflow_url, model, "2")
    assert v2["current_stage"] == "Staging"
    assert set(v2) >= {"creation_timestamp", "last_updated_timestamp"}
    assert not {k for k in v2 if "stage" in k and k != "current_stage"}
    ctx = SourceContext(tmp_path, "mlflow", NOW, NOW)
    cfg = MlflowConfig(tracking_uri=mlflow_url, filter=f"name = '{model}'", events=True,
                       event_tags={"stage_changed_at": "model_version_stage_changed",
                                   "deployed_at": "model_version_deployed"},
                       alias_event_prefix="alias_set_at.")
    bundle = MlflowAdapter(cfg, ctx).collect()
    got = sorted((e.id.split("/", 1)[1], e.type, e.occurred_at.isoformat(), e.actor)
                 for e in bundle.events)
    assert got == [
        ("1#alias:champion", "model_version_alias_set", "2026-10-05T09:01:00+00:00", None),
        ("1#deployed_at", "model_version_deployed", "2026-10-05T09:02:00+00:00",
         "dee.deployer@example.org"),
        ("1#registered", "model_version_registered", "2026-10-01T09:00:00+00:00",
         "reg.builder"),
        ("1#stage_changed_at", "model_version_stage_changed", "2026-10-05T09:00:00+00:00",
         None),
        ("2#registered", "model_version_registered", "2026-11-01T09:00:00+00:00",
         "reg.builder"),
    ]
    assert {e.subject for e in bundle.events} == {"pricing"}
    # without the mappings: registrations only, as before
    plain = MlflowAdapter(MlflowConfig(tracking_uri=mlflow_url, filter=f"name = '{model}'",
                                       events=True), ctx).collect()
    assert sorted(e.type for e in plain.events) == ["model_version_registered"] * 2

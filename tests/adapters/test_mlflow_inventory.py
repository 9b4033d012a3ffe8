"""The mlflow adapter as AI-system inventory (issue 14): systems, events, vendor/status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from checker.adapters import SourceContext
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig


def _save(root: Path, endpoint: str, body: dict[str, Any]) -> None:
    folder = root / "saved" / endpoint
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "page-0001.json").write_text(json.dumps(body), encoding="utf-8")


def _model(name: str, **tags: str) -> dict[str, Any]:
    return {"name": name, "tags": [{"key": k, "value": v} for k, v in tags.items()]}


def _version(name: str, v: str, ms: int) -> dict[str, Any]:
    return {"name": name, "version": v, "creation_timestamp": ms, "user_id": "cleo",
            "current_stage": "None", "status": "READY", "tags": []}


def _collect(ctx: SourceContext, models: list[dict[str, Any]], versions: list[dict[str, Any]],
             **cfg: Any) -> Any:
    _save(ctx.base_dir, "registered-models/search", {"registered_models": models})
    _save(ctx.base_dir, "model-versions/search", {"model_versions": versions})
    return MlflowAdapter(MlflowConfig(offline="saved", **cfg), ctx).collect()


def test_each_registered_model_is_an_ai_system(ctx: SourceContext) -> None:
    tags = {"owner.primary": "ann@example.org", "owner.Risk_Owner": "rob@example.org",
            "risk_tier": "High", "vendor": "Acme AI", "status": "production"}
    b = _collect(ctx, [_model("scorer", **tags)], [_version("scorer", "1", 1759300000000)],
                 systems="model", events=True)
    [system] = b.subjects
    assert (system.kind, system.id) == ("ai_system", "scorer")
    assert system.owners == {"primary": "ann@example.org", "risk_owner": "rob@example.org"}
    assert system.attributes["risk_tier"] == "High"
    assert system.attributes["vendor"] == "Acme AI"
    assert system.attributes["status"] == "production"
    [rel] = b.releases
    assert rel.system == "scorer"
    [ev] = b.events
    assert (ev.type, ev.subject, ev.actor) == ("model_version_registered", "scorer", "cleo")
    assert ev.occurred_at == rel.registered_at
    assert "event" in b.kinds


def test_one_ai_system_per_tag_with_conflicting_owners_recorded(ctx: SourceContext) -> None:
    a = _model("a-model", ai_system="credit", **{"owner.primary": "ann@example.org",
                                                 "risk_tier": "high"})
    b_ = _model("b-model", ai_system="credit", **{"owner.primary": "zed@example.org",
                                                  "owner.backup": "bea@example.org"})
    b = _collect(ctx, [b_, a], [], systems="tag")
    systems = [s for s in b.subjects if s.kind == "ai_system"]
    models = [s for s in b.subjects if s.kind == "model"]
    assert [s.id for s in systems] == ["credit"]
    assert [m.id for m in models] == ["a-model", "b-model"]
    [credit] = systems
    assert credit.owners == {"primary": "ann@example.org", "backup": "bea@example.org"}
    assert credit.attributes["owner_conflicts"] == [
        {"role": "primary", "owner": "ann@example.org", "source": "mlflow a-model",
         "other": "zed@example.org", "other_source": "mlflow b-model"}]
    assert "event" not in b.kinds  # events are opt-in


def test_default_adds_no_systems_and_no_events(ctx: SourceContext) -> None:
    b = _collect(ctx, [_model("scorer", ai_system="credit")],
                 [_version("scorer", "1", 1759300000000)])
    assert [s.kind for s in b.subjects] == ["model"]
    assert b.events == []

"""The mlflow adapter from saved REST responses: shapes, truncation, bad tags (no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig


def _save(root: Path, endpoint: str, pages: list[dict[str, Any]]) -> None:
    folder = root / "saved" / endpoint
    folder.mkdir(parents=True, exist_ok=True)
    for n, body in enumerate(pages, start=1):
        (folder / f"page-{n:04d}.json").write_text(json.dumps(body), encoding="utf-8")


MODEL = {"name": "scorer", "tags": [{"key": "owner.primary", "value": "ann@example.org"},
                                    {"key": "owner.risk_owner", "value": "rob@example.org"},
                                    {"key": "ai_system", "value": "credit"},
                                    {"key": "third_party", "value": "yes"}],
         "aliases": [{"alias": "champion", "version": "2"}]}


def _version(v: str, **tags: str) -> dict[str, Any]:
    return {"name": "scorer", "version": v, "creation_timestamp": 1759300000000,
            "user_id": "cleo", "current_stage": "None", "run_id": "r1", "status": "READY",
            "tags": [{"key": k, "value": val} for k, val in tags.items()]}


def _collect(ctx: SourceContext, **cfg: Any) -> Any:
    return MlflowAdapter(MlflowConfig(offline="saved", **cfg), ctx).collect()


def test_offline_pages_become_subjects_and_releases(ctx: SourceContext) -> None:
    _save(ctx.base_dir, "registered-models/search", [{"registered_models": [MODEL]}])
    _save(ctx.base_dir, "model-versions/search", [
        {"model_versions": [_version("1")], "next_page_token": "t1"},
        {"model_versions": [_version("2", deployed_by="dev@example.org",
                                     deployed_at="2026-10-05T09:00:00+02:00")]}])
    bundle = _collect(ctx, production_aliases=["champion"])
    [model] = bundle.subjects
    assert model.owners == {"primary": "ann@example.org", "risk_owner": "rob@example.org"}
    assert model.attributes["system"] == "credit"
    assert model.attributes["third_party"] is True
    one, two = bundle.releases
    assert (one.version, one.aliases, one.stage) == ("1", (), None)
    assert two.aliases == ("champion",)
    assert two.attributes["production"] is True
    assert two.deployed_at is not None
    assert two.deployed_at.isoformat() == "2026-10-05T07:00:00+00:00"
    assert two.registered_by == "cleo"
    assert two.system == "credit"
    assert two.provenance.locator == "scorer/2"


def test_truncated_saved_listing_fails_closed(ctx: SourceContext) -> None:
    _save(ctx.base_dir, "registered-models/search", [{"registered_models": [MODEL]}])
    _save(ctx.base_dir, "model-versions/search",
          [{"model_versions": [_version("1")], "next_page_token": "t1"}])
    with pytest.raises(EvidenceError) as exc:
        _collect(ctx)
    assert exc.value.diagnostics[0].code == "E364"


def test_deployed_at_without_offset_is_an_error(ctx: SourceContext) -> None:
    _save(ctx.base_dir, "registered-models/search", [{"registered_models": [MODEL]}])
    _save(ctx.base_dir, "model-versions/search",
          [{"model_versions": [_version("1", deployed_at="2026-10-05 09:00")]}])
    with pytest.raises(EvidenceError) as exc:
        _collect(ctx)
    assert [d.code for d in exc.value.diagnostics] == ["E363"]
    assert "scorer/1" in exc.value.diagnostics[0].file


def test_no_registrant_and_no_saved_run_is_an_error(ctx: SourceContext) -> None:
    v = _version("1")
    v["user_id"] = ""
    _save(ctx.base_dir, "registered-models/search", [{"registered_models": [MODEL]}])
    _save(ctx.base_dir, "model-versions/search", [{"model_versions": [v]}])
    with pytest.raises(EvidenceError) as exc:
        _collect(ctx)
    assert exc.value.diagnostics[0].code == "E368"


def test_missing_offline_folder(ctx: SourceContext) -> None:
    with pytest.raises(EvidenceError) as exc:
        _collect(ctx)
    assert exc.value.diagnostics[0].code == "E365"

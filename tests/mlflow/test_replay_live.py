"""Replay against a real MLflow server: a customer's client pages the real server behind a
recording proxy (a HAR); the recording gives the same subjects and releases as live, and
any recorded page deleted — the first one too — is an error naming the gap. The same
responses saved as plain bodies are refused: a lone last page would look complete."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig
from tests.har import HarRecorder, write_har

from .conftest import register, unique

pytestmark = pytest.mark.services
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def record(mlflow_url: str, model: str) -> list[dict[str, Any]]:
    """Both searches paged two at a time by a plain client, as a recording proxy saves them."""
    rec = HarRecorder()
    api = f"{mlflow_url.rstrip('/')}/api/2.0/mlflow"
    runs: list[str] = []
    with httpx.Client(transport=rec) as client:
        for endpoint in ("registered-models/search", "model-versions/search"):
            params: dict[str, Any] = {"max_results": 2, "filter": f"name = '{model}'"}
            while True:
                body = client.get(f"{api}/{endpoint}", params=params).raise_for_status().json()
                runs += [v["run_id"] for v in body.get("model_versions", []) if v.get("run_id")]
                if not body.get("next_page_token"):
                    break
                params = {**params, "page_token": body["next_page_token"]}
        for run_id in runs:  # the registrant is the run's user (the versions record none)
            client.get(f"{api}/runs/get", params={"run_id": run_id}).raise_for_status()
    return rec.entries


def test_recorded_responses_replay_like_live(mlflow_url: str, tmp_path: Path) -> None:
    model = unique("aimscheck-replay")
    register(mlflow_url, [{"name": model, "tags": {"owner.primary": "ann@example.org"},
                           "versions": [{"user": "reg.builder"} for _ in range(9)]}])
    ctx = SourceContext(tmp_path, "mlflow", NOW, NOW, only_models=frozenset({model}))
    only = f"name = '{model}'"  # the server is shared: this test's model only
    live = MlflowAdapter(MlflowConfig(tracking_uri=mlflow_url, page_size=2, filter=only),
                         ctx).collect()
    assert [r.version for r in live.releases] == [str(i) for i in range(1, 10)]

    entries = record(mlflow_url, model)
    versions = [n for n, e in enumerate(entries) if "model-versions" in e["request"]["url"]]
    assert sum("runs/get" in e["request"]["url"] for e in entries) == 9
    assert len(versions) == 5  # nine versions, two a page: the server paged
    write_har(tmp_path / "mlflow.har", entries)
    replayed = MlflowAdapter(MlflowConfig(replay="mlflow.har", filter=only), ctx).collect()
    assert [(r.version, r.registered_by) for r in replayed.releases] == \
        [(r.version, r.registered_by) for r in live.releases]
    assert [s.owners for s in replayed.subjects] == [s.owners for s in live.subjects]

    for gone in versions:  # any recorded versions page deleted: an error naming the gap
        write_har(tmp_path / "mlflow.har", entries[:gone] + entries[gone + 1:])
        with pytest.raises(EvidenceError) as exc:
            MlflowAdapter(MlflowConfig(replay="mlflow.har", filter=only), ctx).collect()
        d = exc.value.diagnostics[0]
        assert d.code == "E364"
        if gone == versions[0]:
            assert "the first page is missing" in d.message, d
        else:
            assert d.file.startswith(f"mlflow.har entry {gone} "), d
            assert "a page is missing" in d.message, d

    # the same responses as plain bodies — here only the last versions page, the first
    # four deleted: it announces no next page, so it would pass as the whole listing
    (tmp_path / "saved").mkdir()
    for n, e in enumerate(entries):
        if n not in versions[:-1]:
            (tmp_path / "saved" / f"{n}.json").write_text(e["response"]["content"]["text"],
                                                          encoding="utf-8")
    with pytest.raises(EvidenceError) as exc:
        MlflowAdapter(MlflowConfig(replay="saved/*.json", filter=only), ctx).collect()
    assert exc.value.diagnostics[0].code == "E364"
    assert "cannot be checked" in exc.value.diagnostics[0].message

"""The MLflow adapter and the release gate against a REAL MLflow tracking server."""

from __future__ import annotations

import http.server
import json
import socketserver
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from checker.adapters import SourceContext
from evidence_adapters.mlflow import MlflowAdapter, MlflowConfig

from .conftest import register, unique
from .org import MODEL_TAGS, approval, gate, write_org

pytestmark = pytest.mark.services

# registered_at: the server stamps versions with today's date, which may lie after AS_OF
# (records after as-of do not exist for a scan); the tag sets the registration time.
DEPLOYED = {"registered_at": "2026-11-01T09:00:00+01:00",
            "deployed_by": "dee.deployer@example.org",
            "deployed_at": "2026-11-10T09:00:00+01:00"}


def _one_release(url: str, *, alias: str | None = "champion", tags: dict[str, str] | None = None
                 ) -> str:
    model = unique("aimscheck-gate")
    register(url, [{"name": model, "tags": MODEL_TAGS, "versions": [
        {"user": "reg.builder", "tags": {**DEPLOYED, **(tags or {})},
         "aliases": [alias] if alias else []}]}])
    return model


def test_pagination_across_many_versions(mlflow_url: str, tmp_path: Path) -> None:
    model = unique("aimscheck-pages")
    register(mlflow_url, [{"name": model, "tags": MODEL_TAGS, "versions": [
        {"user": "reg.builder", "aliases": ["champion"] if i == 120 else [],
         "stage": "Archived" if i == 1 else None} for i in range(1, 121)]}])
    recorded: dict[str, bytes] = {}
    now = datetime(2026, 11, 30, tzinfo=UTC)
    for hint in (None, frozenset({model})):
        recorded.clear()
        ctx = SourceContext(tmp_path, "mlflow", now, now, recorder=recorded.__setitem__,
                            only_models=hint)
        cfg = MlflowConfig(tracking_uri=mlflow_url, filter=f"name = '{model}'", page_size=7)
        bundle = MlflowAdapter(cfg, ctx).collect()
        assert [r.version for r in bundle.releases] == [str(i) for i in range(1, 121)]
        pages = sorted(n for n in recorded if n.startswith("model-versions/search/"))
        # ceil(120 / 7) pages for this model; without the hint other models' versions too
        assert len(pages) == 18 if hint else len(pages) >= 18
        assert bundle.releases[-1].aliases == ("champion",)
        assert bundle.releases[0].stage == "Archived"
        assert {r.registered_by for r in bundle.releases} == {"reg.builder"}
        [subject] = bundle.subjects
        assert subject.owners == {"primary": "pia.primary@example.org",
                                  "backup": "bo.backup@example.org"}
        assert subject.attributes["system"] == "pricing"
        assert subject.attributes["third_party"] is False
    # the recorded pages are a valid offline source with the same releases
    saved = tmp_path / "saved"
    for name, payload in recorded.items():
        (saved / name).parent.mkdir(parents=True, exist_ok=True)
        (saved / name).write_bytes(payload)
    ctx = SourceContext(tmp_path, "mlflow", now, now)
    offline = MlflowAdapter(MlflowConfig(offline="saved", page_size=7), ctx).collect()
    assert [r.model_dump(exclude={"provenance"}) for r in offline.releases] == [
        r.model_dump(exclude={"provenance"}) for r in bundle.releases]


def test_production_alias_without_approval_blocks_and_names_risk_owner(
        mlflow_url: str, tmp_path: Path) -> None:
    model = _one_release(mlflow_url)
    cfg = write_org(tmp_path, mlflow_url, model, [])
    proc = gate(cfg, model, "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith(f"BLOCK {model} version 1"), proc.stdout
    assert "Rita Riskowner <rita.riskowner@example.org>" in proc.stdout
    assert "none is recorded" in proc.stdout  # the cause, once: no approval at all
    assert "AIMS-REL-001" in proc.stdout


def test_approval_after_production_blocks(mlflow_url: str, tmp_path: Path) -> None:
    model = _one_release(mlflow_url)
    cfg = write_org(tmp_path, mlflow_url, model, [
        approval(model, "1", "rita.riskowner@example.org", "2026-11-10T09:30:00+01:00")])
    proc = gate(cfg, model, "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "came only after the deployment" in proc.stdout
    assert "Rita Riskowner" in proc.stdout


def test_approver_is_registrant_blocks(mlflow_url: str, tmp_path: Path) -> None:
    model = _one_release(mlflow_url)
    cfg = write_org(tmp_path, mlflow_url, model, [
        approval(model, "1", "reg.builder@example.org", "2026-11-09T09:00:00Z")])
    proc = gate(cfg, model, "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "who also registered the release" in proc.stdout  # separation of duties
    assert "Reg Builder" in proc.stdout  # the registrant, resolved from the run's MLflow user


def test_clean_release_is_released(mlflow_url: str, tmp_path: Path) -> None:
    model = _one_release(mlflow_url)
    cfg = write_org(tmp_path, mlflow_url, model, [
        approval(model, "1", "rita.riskowner@example.org", "2026-11-09T16:00:00Z")])
    proc = gate(cfg, model, "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"RELEASE {model} version 1"), proc.stdout
    junit = tmp_path / "gate.xml"
    proc = gate(cfg, model, "1", "--format", "junit", "-o", str(junit), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert "<testsuites" in junit.read_text(encoding="utf-8")
    result = json.loads(proc.stdout)
    assert result["gate"]["found"] == "yes"
    assert not [f for f in result["findings"] if f["status"] in ("fail", "error")]


class _DyingProxy(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def _dying_proxy(upstream: str) -> tuple[_DyingProxy, str]:
    """A loopback proxy that serves ONE request from the real server, then goes away."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with urllib.request.urlopen(upstream + self.path, timeout=30) as r:
                body = r.read()
                status = r.status
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            threading.Thread(target=_stop, daemon=True).start()

        def log_message(self, *args: object) -> None:
            pass

    def _stop() -> None:  # stop serving AND close the port: later connects are refused
        server.shutdown()
        server.server_close()

    server = _DyingProxy(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def test_server_stopped_mid_scan_exits_3_and_never_releases(
        mlflow_url: str, tmp_path: Path) -> None:
    model = unique("aimscheck-dies")
    register(mlflow_url, [{"name": model, "tags": MODEL_TAGS, "versions": [
        {"user": "reg.builder", "tags": DEPLOYED, "aliases": ["champion"] if i == 3 else []}
        for i in range(1, 4)]}])
    server, url = _dying_proxy(mlflow_url)
    try:
        cfg = write_org(tmp_path, url, model, [
            approval(model, "3", "rita.riskowner@example.org", "2026-11-09T16:00:00Z")],
            page_size=1, retries=1)
        proc = gate(cfg, model, "3")
    finally:
        server.server_close()
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert proc.stdout.startswith(f"BLOCK {model} version 3"), proc.stdout
    assert "RELEASE" not in proc.stdout
    assert "E360" in proc.stdout

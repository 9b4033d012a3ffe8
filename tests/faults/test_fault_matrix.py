"""The fault matrix: every network adapter × every fault, against one loopback server.

Each cell runs the REAL adapter (its Config, a SourceContext, ``collect()``) and asserts one
of two outcomes — never a partial bundle returned as success:

- ``complete``: the same records as the fault-free run, after bounded retries;
- ``error``: an EvidenceError whose diagnostics are single-line, carry the adapter's code
  for the cause and name it (and the URL), with a bounded number of attempts.

Then, per adapter, one CLI scan with a persistent fault: exit 3 and no ``pass`` for any
rule that needs the failed source's evidence.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from checker.adapters import SourceContext, adapter_class
from checker.config import load_config
from checker.errors import EvidenceError
from checker.run import load_rules_for
from evidence_adapters._http import ErrorCodes
from evidence_adapters.jira._http import CODES as JIRA_CODES
from evidence_adapters.mlflow._client import CODES as MLFLOW_CODES
from evidence_adapters.scim import CODES as SCIM_CODES
from evidence_adapters.xapi import CODES as XAPI_CODES

from .configs import ADAPTERS, FAST_RETRY, source, write_org
from .server import FAULTS, FaultServer, closed_port, serve

AIMSCHECK = str(Path(sys.executable).with_name("aimscheck"))
FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)

CODES: dict[str, ErrorCodes] = {"jira": JIRA_CODES, "scim": SCIM_CODES, "xapi": XAPI_CODES,
                                "mlflow": MLFLOW_CODES}
#: Incomplete paging (an empty page claiming more results) in each adapter's range.
PAGING_CODE = {"jira": "E327", "scim": "E345", "xapi": "E345", "mlflow": "E366"}
#: The variable a 401's hint must name.
CREDENTIAL_VAR = {"jira": "JIRA_API_TOKEN", "scim": "SCIM_TOKEN", "xapi": "XAPI_PASSWORD",
                  "mlflow": "MLFLOW_TRACKING_TOKEN"}
TOKENS = {"JIRA_EMAIL": "svc@example.org", "JIRA_API_TOKEN": "jira-token-f4ult",
          "SCIM_TOKEN": "scim-token-f4ult", "XAPI_USER": "xapi-key-f4ult",
          "XAPI_PASSWORD": "xapi-secret-f4ult", "MLFLOW_TRACKING_TOKEN": "mlflow-token-f4ult"}
ATTEMPTS = FAST_RETRY["max_attempts"]


@dataclass(frozen=True)
class Expect:
    """The outcome of a cell: complete, or an error of a code kind naming the cause."""

    outcome: str                      # "complete" or "error"
    code: str = ""                    # an ErrorCodes field, or "paging"
    cause: str = ""                   # a text the message must contain
    requests: int | None = None       # misbehaving requests made (bounded retries)


EXPECT: dict[str, Expect] = {
    "none": Expect("complete"),
    "timeout_once": Expect("complete"),
    "429_retry_after_once": Expect("complete"),
    "429_retry_after_date_once": Expect("complete"),
    "429_once": Expect("complete"),
    "500_once": Expect("complete"),
    "timeout": Expect("error", "network", "timed out", ATTEMPTS),
    "slow": Expect("error", "network", "slow response", ATTEMPTS),
    "cut_body": Expect("error", "network", "closed before the response was complete",
                       ATTEMPTS),
    "429_forever": Expect("error", "status", "HTTP 429", ATTEMPTS),
    "429_beyond_budget": Expect("error", "status", "asks to wait 3600 s", 1),
    "500_forever": Expect("error", "status", "HTTP 500", ATTEMPTS),
    "404_page2": Expect("error", "not_found", "HTTP 404", 1),
    "truncated_json": Expect("error", "body", "not JSON", 1),
    "empty_page": Expect("error", "paging", "", 1),
    "401": Expect("error", "unauthorized", "HTTP 401", None),
    "refused": Expect("error", "network", "cannot connect", None),
}
MATRIX_FAULTS = [f for f in EXPECT]
assert set(MATRIX_FAULTS) - {"refused"} <= set(FAULTS)


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serve() as srv:
        yield srv


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(var, raising=False)
    for var, value in TOKENS.items():
        monkeypatch.setenv(var, value)


def collect(adapter: str, base: str, tmp_path: Path, **extra: Any) -> Any:
    """Run the real adapter against ``base``; return its bundle (or raise)."""
    cls = adapter_class(adapter)
    ctx = SourceContext(base_dir=tmp_path, source_name=adapter, fetched_at=FETCHED,
                        as_of=AS_OF)
    return cls(cls.Config.model_validate(source(adapter, base, **extra)), ctx).collect()


def records(bundle: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = bundle.model_dump(mode="json", exclude={"kinds"})
    return dumped


_baselines: dict[str, dict[str, Any]] = {}


def baseline(adapter: str, server: FaultServer, tmp_path: Path) -> dict[str, Any]:
    if adapter not in _baselines:
        server.set_fault("none")
        _baselines[adapter] = records(collect(adapter, server.base, tmp_path))
    return _baselines[adapter]


@pytest.mark.parametrize("fault", MATRIX_FAULTS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_fault_matrix(adapter: str, fault: str, server: FaultServer, tmp_path: Path) -> None:
    expect = EXPECT[fault]
    complete = baseline(adapter, server, tmp_path)
    n_records = sum(len(v) for v in complete.values())
    assert n_records >= 4, complete  # two pages of two, at least
    if fault == "refused":
        base = f"http://127.0.0.1:{closed_port()}"
    else:
        server.set_fault(fault)
        base = server.base
    if expect.outcome == "complete":
        bundle = collect(adapter, base, tmp_path)
        assert records(bundle) == complete
        assert server.faulted >= 1 or fault == "none"  # the fault did happen
        return

    with pytest.raises(EvidenceError) as exc:
        collect(adapter, base, tmp_path)
    err = exc.value
    assert err.exit_code == 3
    assert err.diagnostics
    code = (PAGING_CODE[adapter] if expect.code == "paging"
            else getattr(CODES[adapter], expect.code))
    assert [d.code for d in err.diagnostics] == [code], [d.one_line() for d in err.diagnostics]
    (d,) = err.diagnostics
    assert "\n" not in d.message
    assert "\n" not in (d.hint or "")
    assert "\n" not in d.one_line()
    assert expect.cause in d.message, d.one_line()
    assert base.removeprefix("http://") in d.message, d.one_line()  # names the URL
    if expect.requests is not None:
        assert server.faulted == expect.requests, server.log  # bounded, and 4xx not retried
    if fault == "401":
        assert CREDENTIAL_VAR[adapter] in (d.hint or ""), d.one_line()
        assert len(server.log) == 1  # never retried
    for value in TOKENS.values():
        if value != TOKENS["JIRA_EMAIL"]:
            assert value not in str(err)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_secret_from_a_file(adapter: str, server: FaultServer, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """``*_file`` replaces the variable: the value read from the file is what is sent."""
    key = {"jira": "auth", "scim": "token_file", "xapi": "password_file",
           "mlflow": "token_file"}[adapter]
    var = {"jira": "JIRA_API_TOKEN", "scim": "SCIM_TOKEN", "xapi": "XAPI_PASSWORD",
           "mlflow": "MLFLOW_TRACKING_TOKEN"}[adapter]
    monkeypatch.delenv(var)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text("from-the-file-9c2e\n", encoding="utf-8")
    extra: dict[str, Any] = ({key: {"token_file": "secrets/token"}} if adapter == "jira"
                             else {key: "secrets/token"})
    server.set_fault("none")
    bundle = collect(adapter, server.base, tmp_path, **extra)
    assert sum(len(v) for v in records(bundle).values()) >= 4
    assert server.auth
    assert all("from-the-file-9c2e" in _credential(a) for a in server.auth), server.auth
    # a missing file is a one-line error naming the path, not a fallback to the variable
    server.set_fault("none")
    (tmp_path / "secrets" / "token").unlink()
    with pytest.raises(EvidenceError) as exc:
        collect(adapter, server.base, tmp_path, **extra)
    (d,) = exc.value.diagnostics
    assert "secrets/token" in d.message
    assert "\n" not in d.one_line()
    assert not server.log


def _credential(header: str) -> str:
    """The credential in an Authorization header (a Basic one decoded)."""
    scheme, _, value = header.partition(" ")
    if scheme == "Basic":
        return base64.b64decode(value).decode()
    return value


# -- one CLI scan per adapter ----------------------------------------------------------------


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_cli_scan_with_a_persistent_fault_exits_3_and_passes_nothing_it_needs(
        adapter: str, server: FaultServer, tmp_path: Path) -> None:
    server.set_fault("500_forever")
    config = write_org(tmp_path, [{"adapter": adapter, "name": f"net-{adapter}",
                                   **source(adapter, server.base)}],
                       hr=adapter != "scim")
    out = tmp_path / "findings.json"
    env = {**os.environ, **TOKENS}
    proc = subprocess.run([AIMSCHECK, "scan", "-c", str(config), "--as-of", "2026-11-30",
                           "-f", "json", "--passes", "full", "-o", str(out),
                           "--no-progress"],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    (net,) = [s for s in data["sources"] if s["name"] == f"net-{adapter}"]
    assert net["status"] == "error", net
    assert any(CODES[adapter].status in d and "HTTP 500" in d for d in net["diagnostics"]), net
    failed_kinds = set(net["kinds"])
    needing = {r.id for r in load_rules_for(load_config(config)) if r.needs & failed_kinds}
    assert needing, failed_kinds
    findings = [f for f in data["findings"] if f["rule_id"] in needing]
    assert findings
    assert not [f for f in findings if f["status"] == "pass"], [
        (f["rule_id"], f["target_id"]) for f in findings if f["status"] == "pass"]
    assert any(f["status"] == "error" for f in findings)

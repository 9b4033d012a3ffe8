"""Canary tokens: no credential ever reaches an output, a log, a snapshot or a debug dump.

Every secret the network adapters read is set to a unique canary value — in environment
variables and in token files — and every network adapter is pointed at a loopback server
that (a) answers 401 echoing the Authorization header (raw and decoded) in its body,
(b) answers 500 with it in the body, (c) answers 400 with it in the error message that
adapters quote. Then a full ``aimscheck --debug scan`` writes every output format and
``aimscheck --debug evidence pull`` writes a snapshot, and stdout, stderr, every output file
and every snapshot file are searched for the canaries (and their Basic-auth encodings).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.configs import source, write_org
from tests.faults.server import FaultServer, closed_port, serve

AIMSCHECK = str(Path(sys.executable).with_name("aimscheck"))
FORMATS = ("text", "json", "junit", "html", "markdown", "sarif", "oscal")

#: Secrets read from the environment. Account names that are not credentials (the Jira
#: account email, the MLflow user name) are not secrets: they may be a person's handle that
#: must stay readable in findings.
ENV_CANARIES = {
    "JIRA_API_TOKEN": "CANARY-jira-api-token-5b1e9d",
    "JIRA_PAT": "CANARY-jira-pat-8c2f40",
    "SCIM_TOKEN": "CANARY-scim-token-1a7d33",
    "XAPI_USER": "CANARY-xapi-key-6e0b21",
    "XAPI_PASSWORD": "CANARY-xapi-secret-9f4c58",
    "MLFLOW_TRACKING_TOKEN": "CANARY-mlflow-token-2d8a17",
    "MLFLOW_TRACKING_PASSWORD": "CANARY-mlflow-password-7b3e62",
}
FILE_CANARIES = {
    "jira-pat.txt": "CANARY-file-jira-pat-4e9a0c",
    "scim-token.txt": "CANARY-file-scim-token-3c6f81",
    "xapi-password.txt": "CANARY-file-xapi-secret-0d5b97",
    "mlflow-token.txt": "CANARY-file-mlflow-token-8a1c26",
}
PLAIN = {"JIRA_EMAIL": "svc-aimscheck@example.org", "MLFLOW_TRACKING_USERNAME": "svc-mlflow"}


def _basic(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


#: What must never appear: every canary, and the Basic headers made from them.
FORBIDDEN = sorted({
    *ENV_CANARIES.values(), *FILE_CANARIES.values(),
    _basic(PLAIN["JIRA_EMAIL"], ENV_CANARIES["JIRA_API_TOKEN"]),
    _basic(ENV_CANARIES["XAPI_USER"], ENV_CANARIES["XAPI_PASSWORD"]),
    _basic(ENV_CANARIES["XAPI_USER"], FILE_CANARIES["xapi-password.txt"]),
    _basic(PLAIN["MLFLOW_TRACKING_USERNAME"], ENV_CANARIES["MLFLOW_TRACKING_PASSWORD"]),
})


def _sources(base: str) -> list[dict[str, Any]]:
    """Every network adapter, with credentials from variables and from files."""
    return [
        {"adapter": "jira", "name": "jira-cloud", **source("jira", base)},
        {"adapter": "jira", "name": "jira-dc", **source(
            "jira", base, deployment="datacenter", auth={"pat_file": "secrets/jira-pat.txt"})},
        {"adapter": "scim", "name": "scim-env", **source("scim", base)},
        {"adapter": "scim", "name": "scim-file",
         **source("scim", base, token_file="secrets/scim-token.txt")},
        {"adapter": "xapi", "name": "xapi-env", **source("xapi", base)},
        {"adapter": "xapi", "name": "xapi-file",
         **source("xapi", base, password_file="secrets/xapi-password.txt")},
        {"adapter": "mlflow", "name": "mlflow-bearer", **source("mlflow", base)},
        {"adapter": "mlflow", "name": "mlflow-basic",
         **source("mlflow", base, token_env="AIMSCHECK_TEST_UNSET_TOKEN")},
        {"adapter": "mlflow", "name": "mlflow-file",
         **source("mlflow", base, token_file="secrets/mlflow-token.txt")},
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with serve() as srv:
        yield srv


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIMSCHECK, "--debug", *args], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


def _leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    return [(where, secret) for where, text in texts.items() for secret in FORBIDDEN
            if secret in text]


@pytest.mark.parametrize("fault", ["echo_401", "echo_500", "echo_400"])
def test_no_canary_in_any_output(fault: str, server: FaultServer, tmp_path: Path) -> None:
    server.set_fault(fault)
    config = write_org(tmp_path / "org", _sources(server.base))
    secrets = tmp_path / "org" / "secrets"
    secrets.mkdir()
    for name, value in FILE_CANARIES.items():
        (secrets / name).write_text(value + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JIRA_", "SCIM_", "XAPI_", "MLFLOW_"))}
    env.update(ENV_CANARIES)
    env.update(PLAIN)
    env.pop("AIMSCHECK_TEST_UNSET_TOKEN", None)

    out = tmp_path / "out"
    args = ["scan", "-c", str(config), "--as-of", "2026-11-30", "--no-progress"]
    for fmt in FORMATS:
        args += ["-f", fmt, "-o", str(out / f"report.{fmt}")]
    args += ["-f", "text", "-o", "-"]
    scan = _run(args, env)
    assert scan.returncode == 3, scan.stdout[-3000:] + scan.stderr[-3000:]
    assert "aimscheck debug" in scan.stderr  # the --debug dump was written
    # every network source reached the server and failed on it
    assert all(a for a in server.auth), server.auth
    for name in ("jira-cloud", "jira-dc", "scim-env", "scim-file", "xapi-env", "xapi-file",
                 "mlflow-bearer", "mlflow-basic", "mlflow-file"):
        assert name in scan.stdout, name

    snapshot = tmp_path / "snapshot"
    pull = _run(["evidence", "pull", "-c", str(config), "-o", str(snapshot),
                 "--as-of", "2026-11-30", "--no-progress"], env)
    assert pull.returncode == 3, pull.stdout[-3000:] + pull.stderr[-3000:]

    texts = {"scan stdout": scan.stdout, "scan stderr": scan.stderr,
             "pull stdout": pull.stdout, "pull stderr": pull.stderr}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(FORMATS)
    files += [p for p in snapshot.rglob("*") if p.is_file()] if snapshot.exists() else []
    for path in files:
        texts[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", "replace")
    assert _leaks(texts) == []
    # the servers did send the credentials back: the test would have seen a leak
    echoed = server.auth
    assert any(ENV_CANARIES["SCIM_TOKEN"] in a for a in echoed)
    assert any(FILE_CANARIES["scim-token.txt"] in a for a in echoed)


# -- issue 17: credentials inside URLs, mis-pasted tokens, history --------------------------

URL_CANARIES = ("CANARY-url-password-1f2e3d", "CANARY-url-user-token-4a5b6c",
                "CANARY-query-token-7d8e9f", "CANARY-db-password-0a1b2c")


def _url_sources(port: int) -> list[dict[str, Any]]:
    base = f"http://127.0.0.1:{port}"
    return [
        # user-info with a password, and a token as the whole user-info, and a query secret
        {"adapter": "scim", "name": "scim-userinfo",
         **source("scim", base, url=f"http://svc:{URL_CANARIES[0]}@127.0.0.1:{port}/scim/v2"
                  f"?access_token={URL_CANARIES[2]}")},
        {"adapter": "mlflow", "name": "mlflow-token-userinfo",
         **source("mlflow", base, tracking_uri=f"http://{URL_CANARIES[1]}@127.0.0.1:{port}")},
    ]


def test_url_credentials_never_printed(tmp_path: Path) -> None:
    port = closed_port()
    config = write_org(tmp_path / "org", _url_sources(port))
    env = {**os.environ, "SCIM_TOKEN": "scim-token-x1", "MLFLOW_TRACKING_TOKEN": "mlf-x1"}
    history = f"sqlite:///{tmp_path / 'history.sqlite'}?password={URL_CANARIES[3]}"
    out = tmp_path / "out"
    args = ["scan", "-c", str(config), "--as-of", "2026-11-30", "--no-progress", "--record",
            "--history-url", history]
    for fmt in FORMATS:
        args += ["-f", fmt, "-o", str(out / f"report.{fmt}")]
    scan = _run(args, env)
    assert scan.returncode == 3, scan.stdout[-3000:] + scan.stderr[-3000:]
    assert "aimscheck debug" in scan.stderr
    assert "scim-userinfo" in scan.stderr + scan.stdout  # the sources did fail, visibly
    snapshot = tmp_path / "snapshot"
    pull = _run(["evidence", "pull", "-c", str(config), "-o", str(snapshot), "--as-of",
                 "2026-11-30", "--no-progress"], env)
    assert pull.returncode == 3, pull.stderr[-3000:]
    texts = {"scan stdout": scan.stdout, "scan stderr": scan.stderr,
             "pull stdout": pull.stdout, "pull stderr": pull.stderr}
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) == len(FORMATS)
    files += [p for p in snapshot.rglob("*") if p.is_file()]
    files += [p for p in tmp_path.glob("history.sqlite*") if p.is_file()]
    assert any(p.name == "history.sqlite" for p in files)  # the scan was recorded
    for path in files:
        texts[str(path.relative_to(tmp_path))] = path.read_bytes().decode("utf-8", "replace")
    leaks = [(where, c) for where, text in texts.items() for c in URL_CANARIES if c in text]
    assert leaks == []


def test_token_pasted_into_an_env_field_is_not_repeated(tmp_path: Path) -> None:
    pasted = "CANARY-pasted-token-2c3d4e5f6a"
    config = write_org(tmp_path / "org", [
        {"adapter": "scim", "name": "scim", **source("scim", "http://127.0.0.1:9",
                                                     token_env=pasted)}])
    res = _run(["scan", "-c", str(config), "--as-of", "2026-11-30", "-f", "json"],
               dict(os.environ))
    assert res.returncode == 2
    assert " E123 " in res.stderr
    assert "token_env" in res.stderr
    assert pasted not in res.stdout + res.stderr

"""Fixtures for the people/training source tests against the real servers.

The servers come from ``tests/services/services.sh start`` (``make test`` does it); their
URLs and credentials are read from the environment, falling back to ``.services.env``. A
missing variable is a failure that says how to start them, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from checker.adapters import SourceContext

REPO = Path(__file__).resolve().parents[2]
ENV_FILE = REPO / ".services.env"
HOW_TO_START = ("start the test servers first: `bash tests/services/services.sh start` "
                "(or run the suite with `make test`)")
FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
XAPI = {"X-Experience-API-Version": "1.0.3"}
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
VERB = "http://adlnet.gov/expapi/verbs/"


def service_env(name: str) -> str:
    value = os.environ.get(name)
    if not value and ENV_FILE.is_file():
        for line in ENV_FILE.read_text(encoding="utf-8").splitlines():
            key, _, val = line.strip().partition("=")
            if key == name:
                value = val.strip()
    if not value:
        pytest.fail(f"{name} is not set and not in {ENV_FILE}: {HOW_TO_START}", pytrace=False)
    return value


@pytest.fixture
def ctx(tmp_path: Path) -> SourceContext:
    return SourceContext(base_dir=tmp_path, source_name="test", fetched_at=FETCHED, as_of=AS_OF)


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:10]


class Scim:
    """Loads test data into the real SCIM server through its own API."""

    def __init__(self) -> None:
        self.url = service_env("AIMSCHECK_TEST_SCIM_URL").rstrip("/")
        self.token = service_env("AIMSCHECK_TEST_SCIM_TOKEN")
        self.client = httpx.Client(timeout=15, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json"})

    def user(self, user_name: str, *, emails: list[str] | None = None, active: bool = True,
             display: str | None = None, user_type: str | None = None,
             enterprise: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name, "active": active,
            "emails": [{"value": e, "primary": i == 0, "type": "work"}
                       for i, e in enumerate(emails or [user_name])],
            **extra,
        }
        if display:
            body["displayName"] = display
        if user_type:
            body["userType"] = user_type
        if enterprise:
            body["schemas"].append(ENTERPRISE)
            body[ENTERPRISE] = enterprise
        r = self.client.post(f"{self.url}/Users", json=body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def group(self, display: str, external_id: str, members: list[str] = ()) -> dict[str, Any]:
        r = self.client.post(f"{self.url}/Groups", json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": display, "externalId": external_id,
            "members": [{"value": m} for m in members]})
        assert r.status_code == 201, r.text
        return dict(r.json())


class Lrs:
    """Posts statements into the real LRS through its own API."""

    def __init__(self) -> None:
        self.url = service_env("AIMSCHECK_TEST_LRS_URL").rstrip("/")
        self.user = service_env("AIMSCHECK_TEST_LRS_USER")
        self.password = service_env("AIMSCHECK_TEST_LRS_PASSWORD")
        self.client = httpx.Client(timeout=15, auth=(self.user, self.password), headers=XAPI)

    def post(self, statements: list[dict[str, Any]]) -> list[str]:
        r = self.client.post(f"{self.url}/statements", json=statements)
        assert r.status_code == 200, r.text
        return list(r.json())


def statement(actor: dict[str, Any], verb: str, activity: str, when: str,
              **result: Any) -> dict[str, Any]:
    st: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", **actor},
        "verb": {"id": VERB + verb, "display": {"en-US": verb}},
        "object": {"objectType": "Activity", "id": activity},
        "timestamp": when,
    }
    if result:
        st["result"] = result
    return st


@pytest.fixture
def scim() -> Scim:
    return Scim()


@pytest.fixture
def lrs() -> Lrs:
    return Lrs()


@pytest.fixture
def scim_env(monkeypatch: pytest.MonkeyPatch, scim: Scim) -> Scim:
    monkeypatch.setenv("SCIM_TOKEN", scim.token)
    return scim


@pytest.fixture
def lrs_env(monkeypatch: pytest.MonkeyPatch, lrs: Lrs) -> Lrs:
    monkeypatch.setenv("XAPI_USER", lrs.user)
    monkeypatch.setenv("XAPI_PASSWORD", lrs.password)
    return lrs


Handler = Callable[[BaseHTTPRequestHandler, int], None]


@pytest.fixture
def flaky_server() -> Iterator[Callable[[Handler], str]]:
    """A loopback HTTP server whose handler gets (request, request number)."""
    servers: list[ThreadingHTTPServer] = []

    def start(handle: Handler) -> str:
        count = {"n": 0}

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's name
                count["n"] += 1
                handle(self, count["n"])

            def log_message(self, *args: Any) -> None:
                pass

        srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        servers.append(srv)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{srv.server_address[1]}"

    yield start
    for srv in servers:
        srv.shutdown()
        srv.server_close()


def send_json(req: BaseHTTPRequestHandler, body: bytes, status: int = 200) -> None:
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(body)))
    req.end_headers()
    req.wfile.write(body)


def die(req: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer: the server died mid-pagination."""
    req.close_connection = True
    with contextlib.suppress(OSError):
        req.connection.shutdown(socket.SHUT_RDWR)

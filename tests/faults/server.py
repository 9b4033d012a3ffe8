"""One programmable loopback HTTP server for the network adapters' fault tests.

It serves each adapter's documented page shapes, two pages per listing:

- Jira Cloud v3 ``GET /rest/api/3/search/jql`` (``nextPageToken`` / ``isLast``),
- SCIM 2.0 ``GET /scim/v2/Users`` (``ListResponse`` with ``startIndex``/``totalResults``),
- xAPI ``GET /xapi/statements`` (``StatementResult`` with a relative ``more`` link),
- MLflow ``GET /api/2.0/mlflow/registered-models/search`` and ``model-versions/search``
  (``next_page_token``),

and can be told to misbehave (:attr:`FaultServer.fault`). Faults hit the *second* page of a
listing — the middle of pagination — except the auth and echo faults, which hit every
request. "once" faults misbehave on the first such request only, then recover.
"""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["FAULTS", "FaultServer", "closed_port", "serve"]

#: Every fault the server knows, with what it does.
FAULTS: dict[str, str] = {
    "none": "behaves",
    "timeout_once": "page 2: no answer within the client's timeout, once",
    "timeout": "page 2: no answer within the client's timeout, every time",
    "slow": "page 2: the body trickles in past the request's deadline, every time",
    "429_retry_after_once": "page 2: 429 with Retry-After: 1 (seconds), once",
    "429_retry_after_date_once": "page 2: 429 with Retry-After as an HTTP date, once",
    "429_once": "page 2: 429 without Retry-After, once",
    "429_forever": "page 2: 429 without Retry-After, every time",
    "429_beyond_budget": "page 2: 429 with Retry-After: 3600, beyond any test budget",
    "500_once": "page 2: 500, then recovery",
    "500_forever": "page 2: 500 every time (a page missing in the middle)",
    "404_page2": "page 2: 404 (a page missing in the middle)",
    "truncated_json": "page 2: a complete 200 whose JSON is cut in half",
    "cut_body": "page 2: Content-Length promises more than is sent, then the socket closes",
    "empty_page": "page 2: an empty page that claims more results",
    "401": "every request: 401",
    "echo_401": "every request: 401 echoing the Authorization header (and its decoding)",
    "echo_500": "every request: 500 with the Authorization header in the body",
    "echo_400": "every request: 400 with the Authorization header in the error message",
}

_ONCE = {"timeout_once", "429_retry_after_once", "429_retry_after_date_once", "429_once",
         "500_once"}
_EVERYWHERE = {"401", "echo_401", "echo_500", "echo_400"}

SCIM_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
NAMES = {"summary": "Summary", "issuetype": "Issue Type", "status": "Status",
         "reporter": "Reporter", "created": "Created", "customfield_10050": "Model",
         "customfield_10051": "Model Version"}


def _jira_user(n: int) -> dict[str, Any]:
    return {"accountId": f"712020:0000000{n}-aaaa", "emailAddress": f"person{n}@example.org",
            "displayName": f"Person {n}", "active": True}


def _jira_issue(n: int) -> dict[str, Any]:
    approver, requester = _jira_user(n), _jira_user(n + 10)
    return {
        "id": str(10400 + n), "key": f"AIREL-{n}",
        "fields": {
            "summary": f"Release approval: model-{n} v{n}",
            "issuetype": {"id": "10100", "name": "Release Approval"},
            "project": {"id": "10010", "key": "AIREL"},
            "status": {"id": "10102", "name": "Approved"},
            "reporter": requester, "created": "2026-07-01T09:00:00.000+0200",
            "customfield_10050": f"model-{n}", "customfield_10051": str(n),
        },
        "changelog": {"startAt": 0, "maxResults": 2, "total": 2, "histories": [
            {"id": str(20001 + 10 * n), "author": approver,
             "created": f"2026-07-1{n}T10:30:00.000+0200",
             "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                        "from": "10101", "fromString": "In Review", "to": "10102",
                        "toString": "Approved"}]},
            {"id": str(20000 + 10 * n), "author": requester,
             "created": "2026-07-10T09:00:00.000+0200",
             "items": [{"field": "status", "fieldtype": "jira", "fieldId": "status",
                        "from": "1", "fromString": "Open", "to": "10101",
                        "toString": "In Review"}]},
        ]},
    }


def _scim_user(n: int) -> dict[str, Any]:
    return {"schemas": [SCIM_USER], "id": f"u{n}", "userName": f"person{n}@example.org",
            "name": {"formatted": f"Person {n}"}, "active": True,
            "emails": [{"value": f"person{n}@example.org", "primary": True}]}


def _statement(n: int) -> dict[str, Any]:
    return {"id": f"00000000-0000-4000-8000-00000000000{n}",
            "actor": {"objectType": "Agent", "mbox": f"mailto:person{n}@example.org"},
            "verb": {"id": COMPLETED},
            "object": {"objectType": "Activity", "id": "https://lms.example.org/ai-101"},
            "result": {"success": True, "completion": True},
            "timestamp": f"2026-10-0{n}T10:00:00+00:00",
            "stored": f"2026-10-0{n}T10:00:01+00:00"}


def _model(n: int) -> dict[str, Any]:
    return {"name": f"model-{n}", "creation_timestamp": 1780000000000 + n,
            "tags": [{"key": "owner.primary", "value": f"person{n}@example.org"},
                     {"key": "ai_system", "value": "credit-scoring"}]}


def _version(n: int) -> dict[str, Any]:
    return {"name": f"model-{n}", "version": "1", "creation_timestamp": 1780000000000 + n,
            "user_id": f"person{n}@example.org", "current_stage": "None", "status": "READY",
            "tags": []}


def page(path: str, query: dict[str, str], *, empty: bool = False
         ) -> tuple[bytes, bool] | None:
    """The body of a listing page and whether it is page 2 (None: no such resource)."""
    if path == "/rest/api/3/search/jql":
        second = query.get("nextPageToken") == "p2"
        if empty:
            body: dict[str, Any] = {"issues": [], "nextPageToken": "p2", "isLast": False}
        elif second:
            body = {"issues": [_jira_issue(3), _jira_issue(4)], "isLast": True}
        else:
            body = {"issues": [_jira_issue(1), _jira_issue(2)], "nextPageToken": "p2",
                    "isLast": False}
        return json.dumps({**body, "names": NAMES}).encode(), second
    if path == "/scim/v2/Users":
        start = int(query.get("startIndex", "1"))
        second = start == 3
        users = [] if empty else [_scim_user(start), _scim_user(start + 1)]
        return json.dumps({"schemas": [LIST_RESPONSE], "totalResults": 4, "startIndex": start,
                           "itemsPerPage": len(users), "Resources": users}).encode(), second
    if path == "/xapi/statements":
        second = query.get("cursor") == "2"
        if empty:
            body = {"statements": [], "more": "/xapi/statements?cursor=2"}
        elif second:
            body = {"statements": [_statement(3), _statement(4)], "more": ""}
        else:
            body = {"statements": [_statement(1), _statement(2)],
                    "more": "/xapi/statements?cursor=2"}
        return json.dumps(body).encode(), second
    for endpoint, key, make in (("registered-models/search", "registered_models", _model),
                                ("model-versions/search", "model_versions", _version)):
        if path == f"/api/2.0/mlflow/{endpoint}":
            second = query.get("page_token") == "p2"
            if empty:
                body = {key: [], "next_page_token": "p2"}
            elif second:
                body = {key: [make(3), make(4)]}
            else:
                body = {key: [make(1), make(2)], "next_page_token": "p2"}
            return json.dumps(body).encode(), second
    return None


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # http.server's name
        srv = self.server
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        srv.log.append(self.path)
        fault = srv.fault
        auth = self.headers.get("Authorization", "")
        srv.auth.append(auth)
        if fault in _EVERYWHERE:
            decoded = ""
            if auth.startswith("Basic "):
                with contextlib.suppress(ValueError):
                    decoded = base64.b64decode(auth[6:]).decode("utf-8", "replace")
            echo = f"{auth} {decoded}".strip()
            if fault == "401":
                self._send(401, b'{"message": "Unauthorized"}',
                           {"WWW-Authenticate": 'Bearer realm="test"'})
            elif fault == "echo_401":
                self._send(401, json.dumps({"message": f"bad credentials: {echo}",
                                            "errorMessages": [echo], "detail": echo}).encode())
            elif fault == "echo_500":
                self._send(500, f"<html>Internal error; request had {echo}</html>".encode())
            else:
                self._send(400, json.dumps({"message": f"bad request with {echo}",
                                            "errorMessages": [f"bad request with {echo}"],
                                            "detail": echo}).encode())
            return
        found = page(split.path, query)
        if found is None:
            self._send(404, b'{"message": "no such resource"}')
            return
        body, second = found
        if not second or fault == "none":
            self._send(200, body)
            return
        with srv.lock:
            srv.faulted += 1
            first_time = srv.faulted == 1
        if fault in _ONCE and not first_time:
            self._send(200, body)
            return
        self._misbehave(fault, split.path, query, body)

    def _misbehave(self, fault: str, path: str, query: dict[str, str], body: bytes) -> None:
        srv = self.server
        if fault in ("timeout", "timeout_once"):
            srv.stopping.wait(srv.delay)
            with contextlib.suppress(OSError):
                self._send(200, body)
        elif fault == "slow":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                for i in range(0, len(body), 8):
                    self.wfile.write(body[i:i + 8])
                    self.wfile.flush()
                    if srv.stopping.wait(srv.delay / 20):
                        return
        elif fault.startswith("429"):
            headers = {}
            if fault == "429_retry_after_once":
                headers["Retry-After"] = "1"
            elif fault == "429_retry_after_date_once":
                headers["Retry-After"] = email.utils.formatdate(time.time() + 1, usegmt=True)
            elif fault == "429_beyond_budget":
                headers["Retry-After"] = "3600"
            self._send(429, b'{"message": "Rate limit exceeded"}', headers)
        elif fault in ("500_once", "500_forever"):
            self._send(500, b"<html><body>Internal Server Error</body></html>")
        elif fault == "404_page2":
            self._send(404, b'{"message": "page not found"}')
        elif fault == "truncated_json":
            self._send(200, body[: len(body) // 2])
        elif fault == "cut_body":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
        elif fault == "empty_page":
            empty = page(path, query, empty=True)
            assert empty is not None
            self._send(200, empty[0])
        else:  # pragma: no cover - a typo in a test
            raise AssertionError(f"unknown fault {fault!r}")


class FaultServer(ThreadingHTTPServer):
    """The server; set :attr:`fault` before a run.

    Attributes:
        fault: One of :data:`FAULTS`.
        delay: Seconds a ``timeout`` fault waits (well past the clients' timeout).
        log: Every request path, in order.
        auth: The Authorization header of every request, in order.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fault = "none"
        self.delay = 2.0
        self.faulted = 0
        self.log: list[str] = []
        self.auth: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that give up (timeouts) reset their connections."""

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.server_address[1]}"

    def set_fault(self, fault: str) -> None:
        """Misbehave from now on as ``fault`` says (the counters start again)."""
        assert fault in FAULTS, fault
        with self.lock:
            self.fault = fault
            self.faulted = 0
            self.log.clear()
            self.auth.clear()


@contextlib.contextmanager
def serve() -> Iterator[FaultServer]:
    """Run a :class:`FaultServer` on loopback for the duration of the block."""
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.stopping.set()
        srv.shutdown()
        srv.server_close()


def closed_port() -> int:
    """A loopback port nobody listens on (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

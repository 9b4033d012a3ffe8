"""A Jira-Cloud-shaped loopback server that stores issues: the target of ``tickets sync`` tests.

REST v3 request shapes: ``GET /rest/api/3/search/jql`` (``labels``/``project`` from the JQL,
``properties``, ``nextPageToken`` paging), ``POST /issue`` (ADF description), ``PUT
/issue/KEY`` (edit), ``PUT /issue/KEY/assignee``, ``POST /issue/KEY/watchers`` (a JSON
string), ``POST /issue/KEY/comment`` (ADF body), ``GET``/``POST /issue/KEY/transitions``,
``PUT /issue/KEY/properties/NAME`` and ``GET /user/assignable/search``. Requests need the
configured basic credentials. A workflow To Do → In Progress → Done (any status reaches any
other). Faults (:meth:`JiraServer.inject`) answer chosen requests with 429 (Retry-After) or
5xx a number of times. Every request (headers and body) is kept for canary checks.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["Fault", "JiraServer", "serve"]

STATUSES = {"To Do": ("new", "1"), "In Progress": ("indeterminate", "3"),
            "Done": ("done", "5")}


@dataclass
class Fault:
    """Answer ``times`` requests matching ``method`` and ``path`` (regex) with ``status``."""

    method: str
    path: str
    status: int
    times: int = 1
    retry_after: str | None = None
    after: int = 0  # let this many matching requests through first
    echo: bool = False  # put the request's Authorization header in the error body


@dataclass
class JiraServer:
    """The server's state (shared with the handler threads)."""

    email: str
    token: str
    project: str = "AIMS"
    users: dict[str, str] = field(default_factory=dict)  # accountId -> displayName
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # raw request texts (canary)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (method, path) served 2xx
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    datacenter: bool = False  # REST v2: wiki-markup strings, usernames ("name"), bearer PAT

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    def inject(self, fault: Fault) -> None:
        """Add a fault."""
        with self.lock:
            self.faults.append(fault)

    def open_issues(self) -> dict[str, dict[str, Any]]:
        """Issues whose status is not Done."""
        return {k: v for k, v in self.issues.items()
                if v["fields"]["status"]["name"] != "Done"}

    def writes(self) -> list[tuple[str, str]]:
        """Successful non-GET calls, in order."""
        return [c for c in self.calls if c[0] != "GET"]


def _status(name: str) -> dict[str, Any]:
    cat, sid = STATUSES[name]
    return {"name": name, "id": sid, "statusCategory": {"key": cat}}


def _is_adf(doc: Any) -> bool:
    return (isinstance(doc, dict) and doc.get("type") == "doc" and doc.get("version") == 1
            and isinstance(doc.get("content"), list))


class _Handler(BaseHTTPRequestHandler):
    server_state: JiraServer

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None
              ) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        st = self.server_state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        with st.lock:
            st.log.append(f"{method} {self.path}\n{self.headers}\n{raw.decode('utf-8', 'replace')}")
            for fault in st.faults:
                if fault.method == method and re.search(fault.path, path) and fault.times > 0:
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.times -= 1
                    hdrs = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    msg = f"injected {fault.status}"
                    if fault.echo:
                        auth = self.headers.get("Authorization") or ""
                        decoded = base64.b64decode(auth.split(" ")[-1]).decode() if auth else ""
                        msg += f" for {auth} ({decoded})"
                    self._send(fault.status, {"errorMessages": [msg]}, hdrs)
                    return
            expected = (f"Bearer {st.token}" if st.datacenter else
                        "Basic " + base64.b64encode(f"{st.email}:{st.token}".encode()).decode())
            if self.headers.get("Authorization") != expected:
                self._send(401, {"errorMessages": ["unauthorized"]})
                return
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                self._send(400, {"errorMessages": ["body is not JSON"]})
                return
            status, out = self._route(st, method, path, query, body)
            if 200 <= status < 300:
                st.calls.append((method, path))
            self._send(status, out)

    def _route(self, st: JiraServer, method: str, path: str, query: dict[str, list[str]],
               body: Any) -> tuple[int, Any]:
        api = "/rest/api/2" if st.datacenter else "/rest/api/3"
        who = "name" if st.datacenter else "accountId"

        def doc_ok(doc: Any) -> bool:
            return isinstance(doc, str) if st.datacenter else _is_adf(doc)

        if method == "GET" and path == (f"{api}/search" if st.datacenter else f"{api}/search/jql"):
            jql = query.get("jql", [""])[0]
            label = re.search(r'labels = "([^"]+)"', jql)
            project = re.search(r'project = "([^"]+)"', jql)
            props = query.get("properties", [""])[0].split(",")
            hits = [i for k, i in sorted(st.issues.items(), key=lambda kv: int(
                kv[0].rsplit("-", 1)[1]))
                    if (not label or label.group(1) in i["fields"]["labels"])
                    and (not project or project.group(1) == st.project)]
            start = int(query.get("startAt" if st.datacenter else "nextPageToken", ["0"])[0])
            size = min(int(query.get("maxResults", ["50"])[0]), 5)  # small pages: paging
            page = hits[start:start + size]
            last = start + size >= len(hits)
            issues = [{"key": i["key"], "id": i["id"], "fields": {
                k: i["fields"][k] for k in ("summary", "status", "assignee", "labels")},
                "properties": {p: i["properties"][p] for p in props if p in i["properties"]}}
                for i in page]
            out: dict[str, Any] = {"issues": issues, "isLast": last}
            if st.datacenter:
                return 200, {"issues": issues, "startAt": start, "maxResults": size,
                             "total": len(hits)}
            if not last:
                out["nextPageToken"] = str(start + size)
            return 200, out
        if method == "GET" and path == f"{api}/user/assignable/search":
            acc = query.get("username" if st.datacenter else "accountId", [""])[0]
            if query.get("project", [""])[0] != st.project:
                return 400, {"errorMessages": ["no such project"]}
            return 200, ([{who: acc, "displayName": st.users[acc]}]
                         if acc in st.users else [])
        if method == "POST" and path == f"{api}/issue":
            f = (body or {}).get("fields") or {}
            errors = {}
            if (f.get("project") or {}).get("key") != st.project:
                errors["project"] = "valid project is required"
            if not (f.get("issuetype") or {}).get("name"):
                errors["issuetype"] = "issue type is required"
            if not f.get("summary"):
                errors["summary"] = "You must specify a summary of the issue."
            if not doc_ok(f.get("description")):
                errors["description"] = "Operation value must be an Atlassian Document"
            acc = (f.get("assignee") or {}).get(who)
            if acc is not None and acc not in st.users:
                errors["assignee"] = f"User '{acc}' cannot be assigned issues."
            if errors:
                return 400, {"errorMessages": [], "errors": errors}
            n = len(st.issues) + 1
            key = f"{st.project}-{n}"
            st.issues[key] = {"key": key, "id": str(10000 + n), "fields": {
                "summary": f["summary"], "description": f["description"],
                "labels": list(f.get("labels") or []), "status": _status("To Do"),
                "issuetype": f["issuetype"], "assignee": (
                    {who: acc, "displayName": st.users[acc]} if acc else None)},
                "properties": {}, "comments": [], "watchers": []}
            return 201, {"id": str(10000 + n), "key": key, "self": f"{st.url}{api}/issue/{key}"}
        m = re.fullmatch(rf"{api}/issue/([A-Z]+-\d+)(/.*)?", path)
        if not m:
            return 404, {"errorMessages": ["not found"]}
        key, rest = m.group(1), m.group(2) or ""
        issue = st.issues.get(key)
        if issue is None:
            return 404, {"errorMessages": ["Issue does not exist"]}
        f = issue["fields"]
        if method == "PUT" and rest == "":
            upd = (body or {}).get("fields") or {}
            if "description" in upd and not doc_ok(upd["description"]):
                return 400, {"errors": {"description": "not ADF"}}
            for k in ("summary", "description", "labels"):
                if k in upd:
                    f[k] = upd[k]
            return 204, None
        if method == "PUT" and rest == "/assignee":
            acc = (body or {}).get(who)
            if acc is not None and acc not in st.users:
                return 400, {"errorMessages": [f"User '{acc}' cannot be assigned issues."]}
            f["assignee"] = {who: acc, "displayName": st.users[acc]} if acc else None
            return 204, None
        if method == "POST" and rest == "/watchers":
            if not isinstance(body, str):
                return 400, {"errorMessages": ["body must be an accountId string"]}
            if body not in issue["watchers"]:
                issue["watchers"].append(body)
            return 204, None
        if method == "POST" and rest == "/comment":
            if not doc_ok((body or {}).get("body")):
                return 400, {"errors": {"comment": "body must be ADF (v3) or a string (v2)"}}
            text = body["body"] if st.datacenter else " ".join(
                n.get("text", "") for p in body["body"]["content"] for n in p.get("content", []))
            issue["comments"].append(text)
            return 201, {"id": str(len(issue["comments"]))}
        if method == "GET" and rest == "/transitions":
            cur = f["status"]["name"]
            return 200, {"transitions": [
                {"id": STATUSES[n][1] + "1", "name": f"Move to {n}", "to": _status(n)}
                for n in STATUSES if n != cur]}
        if method == "POST" and rest == "/transitions":
            tid = ((body or {}).get("transition") or {}).get("id")
            for n in STATUSES:
                if STATUSES[n][1] + "1" == tid and n != f["status"]["name"]:
                    f["status"] = _status(n)
                    return 204, None
            return 400, {"errorMessages": ["invalid transition"]}
        pm = re.fullmatch(r"/properties/([\w.-]+)", rest)
        if method == "PUT" and pm:
            issue["properties"][pm.group(1)] = body
            return 200, None
        return 405, {"errorMessages": [f"{method} {path} not supported"]}

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")


@contextmanager
def serve(state: JiraServer) -> Iterator[JiraServer]:
    """Run the server on 127.0.0.1 (a free port) while the block runs."""
    handler = type("Handler", (_Handler,), {"server_state": state})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.port = httpd.server_address[1]
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()

"""HAR (HTTP Archive 1.2) files for replay tests: written as devtools/mitmproxy export them.

``har_entry`` makes one request/response pair; ``HarRecorder`` is an httpx transport that
records every real exchange it carries (the way a recording proxy does), so a test can page
a loopback server like a customer's client and hand the recording to ``replay:``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx


def har_entry(url: str, body: Any, *, method: str = "GET", status: int = 200,
              post: Any = None, mime: str = "application/json;charset=UTF-8"
              ) -> dict[str, Any]:
    """One HAR entry: the request (URL, query, JSON body) and its response body."""
    text = body.decode("utf-8") if isinstance(body, bytes) else (
        body if isinstance(body, str) else json.dumps(body))
    u = httpx.URL(url)
    request: dict[str, Any] = {
        "method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": [],
        "cookies": [], "headersSize": -1, "bodySize": 0,
        "queryString": [{"name": k, "value": v} for k, v in u.params.multi_items()]}
    if post is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(post)}
    return {"startedDateTime": "2026-11-30T06:00:00.000Z", "time": 12, "request": request,
            "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1",
                         "headers": [], "cookies": [], "redirectURL": "", "headersSize": -1,
                         "bodySize": len(text),
                         "content": {"size": len(text), "mimeType": mime, "text": text}},
            "cache": {}, "timings": {"send": 0, "wait": 10, "receive": 2}}


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    """A HAR file holding ``entries``, in the order given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"log": {"version": "1.2",
                                        "creator": {"name": "tests", "version": "1"},
                                        "entries": entries}}, indent=1), encoding="utf-8")
    return path


def edit_responses(path: Path, edit: Callable[[Any], Any]) -> None:
    """Rewrite a HAR file's JSON response bodies through ``edit`` (body → new body).

    ``edit`` returns the body to keep (changed in place or new); the requests stay as
    recorded, as when a recording is altered after the fact.
    """
    har = json.loads(path.read_text(encoding="utf-8"))
    for entry in har["log"]["entries"]:
        content = entry["response"]["content"]
        text = json.dumps(edit(json.loads(content["text"])))
        content["text"], content["size"] = text, len(text)
    path.write_text(json.dumps(har, indent=1), encoding="utf-8")


class HarRecorder(httpx.BaseTransport):
    """Carries requests over the network and records each exchange as a HAR entry."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.entries: list[dict[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.inner.handle_request(request)
        content = resp.read()
        post = json.loads(request.content) if request.content else None
        self.entries.append(har_entry(str(request.url), content, method=request.method,
                                      status=resp.status_code, post=post,
                                      mime=resp.headers.get("content-type", "")))
        return httpx.Response(resp.status_code, headers=resp.headers, content=content,
                              request=request)

    def close(self) -> None:
        self.inner.close()

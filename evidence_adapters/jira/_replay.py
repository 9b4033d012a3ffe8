"""How Jira pages, for replaying saved response bodies (see ``evidence_adapters/_replay.py``).

Search pages: Cloud's enhanced search (``/rest/api/3/search/jql``) continues with the opaque
``nextPageToken`` the previous page announced, and its pages say neither where they sit nor
how many issues there are; so they replay only from a HAR, where each recorded request
(its ``nextPageToken`` in the URL, or in the JSON body of a POST) is answered by its own
response, and plain bodies are refused. The legacy and Data Center search
(``/rest/api/3/search``, ``/rest/api/2/search``) say where they sit (``startAt``) and are
matched by it in any order, as plain bodies or from a HAR. Full changelogs: Cloud's
``/rest/api/3/issue/{key}/changelog`` pages (``values``, ``startAt``) carry no issue key, so
their file name must contain the key (``AIRISK-7-changelog.json``); Data Center's
``/rest/api/2/issue/{key}?expand=changelog`` names its key itself.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from evidence_adapters._replay import SavedBody

__all__ = ["JiraRules"]

_CHANGELOG = re.compile(r"/issue/([^/]+)(?:/changelog)?$")
_KEY = re.compile(r"[A-Z][A-Z0-9_]+-\d+")


class JiraRules:
    """Jira's search and changelog continuation."""

    position_label = "startAt"

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """A search without ``nextPageToken``/``startAt`` is a first request."""
        return True

    def request_endpoint(self, request: httpx.Request) -> str:
        """``search``, or ``changelog:<KEY>``."""
        m = _CHANGELOG.search(request.url.path)
        if m:
            return f"changelog:{m.group(1)}"
        return "search"

    def body_endpoint(self, body: SavedBody) -> str | None:
        """By shape: ``issues`` → search; ``values`` or an issue with its changelog → changelog."""
        d = body.data
        if not isinstance(d, dict):
            return None
        if isinstance(d.get("issues"), list):
            return "search"
        if isinstance(d.get("key"), str) and isinstance(d.get("changelog"), dict):
            return f"changelog:{d['key']}"
        if isinstance(d.get("values"), list):
            keys = _KEY.findall(body.path.name)
            return f"changelog:{keys[0]}" if len(keys) == 1 else "changelog:?"
        return None

    def request_position(self, request: httpx.Request, endpoint: str) -> Any:
        """``startAt`` (offset paging) or ``nextPageToken`` (cursor); None on the first page."""
        params = request.url.params
        if "nextPageToken" in params:
            return params["nextPageToken"]
        if "startAt" in params:
            start = int(params["startAt"])
            return None if start == 0 else start
        return None

    def body_position(self, body: SavedBody, endpoint: str) -> Any:
        """``startAt`` of offset-paged search pages and changelog pages."""
        d = body.data
        if endpoint == "search":
            return d.get("startAt") if "total" in d and isinstance(d.get("startAt"), int) \
                else None
        if isinstance(d.get("values"), list):
            return d.get("startAt", 0)
        return 0  # a Data Center issue with its whole changelog: one page

    def first_position(self, endpoint: str) -> Any:
        """Offsets start at 0."""
        return 0

    def body_next(self, body: SavedBody, endpoint: str) -> Any:
        """The ``nextPageToken`` of a cursor page (None on the last page)."""
        d = body.data
        if d.get("isLast") is True:
            return None
        return d.get("nextPageToken") or None

"""How SCIM 2.0 pages (RFC 7644 §3.4.2.4), for replaying saved ``ListResponse`` bodies.

A ListResponse says where it sits (``startIndex``, 1-based) and how many there are
(``totalResults``), so saved pages are matched to the adapter's requests by ``startIndex``
in any file order. A page of Groups is told from a page of Users by its resources' schemas
(or ``meta.resourceType``); an empty page names neither and can only answer a first request.
"""

from __future__ import annotations

from typing import Any

import httpx

from evidence_adapters._replay import SavedBody

__all__ = ["ScimRules"]

_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


class ScimRules:
    """SCIM's ``startIndex``/``totalResults`` continuation."""

    position_label = "startIndex"

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """A request without ``startIndex`` (or 1) is a first request."""
        return True

    def request_endpoint(self, request: httpx.Request) -> str:
        """``Users`` or ``Groups`` (the last path segment)."""
        return request.url.path.rstrip("/").rsplit("/", 1)[-1]

    def body_endpoint(self, body: SavedBody) -> str | None:
        """By the resources: Groups when they are groups, else Users; None when empty."""
        d = body.data
        if not isinstance(d, dict):
            return None
        resources = d.get("Resources") or []
        if not isinstance(resources, list) or not resources:
            return None
        first = resources[0] if isinstance(resources[0], dict) else {}
        schemas = first.get("schemas") or []
        rtype = (first.get("meta") or {}).get("resourceType")
        return "Groups" if _GROUP in schemas or rtype == "Group" else "Users"

    def request_position(self, request: httpx.Request, endpoint: str) -> Any:
        """``startIndex`` (None for 1, the first page)."""
        start = int(request.url.params.get("startIndex", "1"))
        return None if start == 1 else start

    def body_position(self, body: SavedBody, endpoint: str) -> Any:
        """``startIndex`` of the page (1 when absent: a single full ListResponse)."""
        start = body.data.get("startIndex", 1)
        return start if isinstance(start, int) else 1

    def first_position(self, endpoint: str) -> Any:
        """SCIM indexes from 1."""
        return 1

    def body_next(self, body: SavedBody, endpoint: str) -> Any:
        """Unused: SCIM pages carry their position."""
        return None

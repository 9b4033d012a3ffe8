"""How an xAPI LRS pages (xAPI 1.0.3 communication §2.1.3), for replaying saved bodies.

A StatementResult announces its continuation in ``more``: a relative IRL (path and query)
to GET next, ``""`` or absent on the last page. The link is opaque and a page does not say
which link fetched it, so a missing page of saved bodies cannot be seen: pages replay only
from a HAR, where each recorded request (the first ``GET …/statements``, then each ``more``
link) is answered by its own response; plain bodies are refused.
"""

from __future__ import annotations

from typing import Any

import httpx

from evidence_adapters._replay import REPLAY_BASE, SavedBody

__all__ = ["XapiRules"]

#: The query parameters of ``GET statements`` (xAPI 1.0.3 communication §2.1.3).
_QUERY = frozenset({"statementId", "voidedStatementId", "agent", "verb", "activity",
                    "registration", "related_activities", "related_agents", "since", "until",
                    "limit", "format", "attachments", "ascending"})


def _rel(url: httpx.URL) -> str:
    q = url.query.decode()
    return url.path + (f"?{q}" if q else "")


class XapiRules:
    """xAPI's ``more`` continuation."""

    position_label = "more link"

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """A recorded GET of ``…/statements`` with only the spec's query parameters.

        A ``more`` link may be any IRL; a first request is the resource itself queried with
        the parameters of xAPI 1.0.3 §2.1.3 only, so a continuation recorded without the page
        that announced it is not taken for the first page.
        """
        path = recorded.url.path.rstrip("/")
        return path.endswith("/statements") and set(recorded.url.params) <= _QUERY

    def __init__(self, bodies: list[SavedBody]) -> None:
        self.announced = {n for b in bodies if (n := self._next(b)) is not None}

    @staticmethod
    def _next(body: SavedBody) -> str | None:
        d = body.data
        more = d.get("more") if isinstance(d, dict) else None
        if not isinstance(more, str) or not more:
            return None
        return _rel(httpx.URL(REPLAY_BASE + "/statements").join(more))

    def request_endpoint(self, request: httpx.Request) -> str:
        """Every request reads statements."""
        return "statements"

    def body_endpoint(self, body: SavedBody) -> str | None:
        """A StatementResult (``statements`` list)."""
        d = body.data
        ok = isinstance(d, dict) and isinstance(d.get("statements"), list)
        return "statements" if ok else None

    def request_position(self, request: httpx.Request, endpoint: str) -> Any:
        """The ``more`` link a request follows; None for a first request."""
        rel = _rel(request.url)
        return rel if rel in self.announced else None

    def body_position(self, body: SavedBody, endpoint: str) -> Any:
        """Pages do not say where they sit."""
        return None

    def first_position(self, endpoint: str) -> Any:
        """Unused."""
        return None

    def body_next(self, body: SavedBody, endpoint: str) -> Any:
        """The ``more`` link, resolved like the live adapter resolves it."""
        return self._next(body)

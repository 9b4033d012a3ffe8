"""How MLflow's REST API 2.0 pages, for replaying saved response bodies.

``registered-models/search`` and ``model-versions/search`` announce the next page in
``next_page_token`` (absent on the last page); a page does not say which token fetched it,
so saved pages of one search are taken in list order and each request must carry exactly
the token the page before announced. Open-source MLflow's tokens are base64 JSON holding
the offset of the next page (``{"offset": 100}``): where a token decodes so, the number of
items before the page must equal it, so a missing or misplaced page is found. ``runs/get``
bodies name their run (``run.info.run_id``). An empty search answer (``{}``) names neither
search and can answer a first request only.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import httpx

from evidence_adapters._replay import SavedBody

__all__ = ["MlflowRules"]

_LISTS = {"registered_models": "registered-models/search",
          "model_versions": "model-versions/search"}


class MlflowRules:
    """MLflow's ``next_page_token`` continuation."""

    position_label = "run_id"
    #: Positions are checked (offsets in tokens, ``startIndex`` on pages).
    opaque_cursors = False

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """A search without ``page_token`` is a first request."""
        return True

    def request_endpoint(self, request: httpx.Request) -> str:
        """The path after ``/api/2.0/mlflow/``."""
        return request.url.path.split("/api/2.0/mlflow/", 1)[-1]

    def body_endpoint(self, body: SavedBody) -> str | None:
        """By the list the body holds, or ``runs/get`` for a run."""
        d = body.data
        if not isinstance(d, dict):
            return None
        for key, ep in _LISTS.items():
            if key in d:
                return ep
        if isinstance(d.get("run"), dict):
            return "runs/get"
        return None

    def request_position(self, request: httpx.Request, endpoint: str) -> Any:
        """``page_token`` (None on the first page); the ``run_id`` of a run."""
        params = request.url.params
        if endpoint == "runs/get":
            return params.get("run_id")
        return params.get("page_token") or None

    def body_position(self, body: SavedBody, endpoint: str) -> Any:
        """Only runs say where they belong."""
        if endpoint == "runs/get":
            return ((body.data.get("run") or {}).get("info") or {}).get("run_id")
        return None

    def first_position(self, endpoint: str) -> Any:
        """Unused: searches page by cursor."""
        return None

    def body_next(self, body: SavedBody, endpoint: str) -> Any:
        """``next_page_token`` (None on the last page)."""
        return body.data.get("next_page_token") or None

    def body_items(self, body: SavedBody, endpoint: str) -> int:
        """Models or versions on the page."""
        for key, ep in _LISTS.items():
            if ep == endpoint:
                return len(body.data.get(key) or [])
        return 0

    def cursor_offset(self, cursor: Any, endpoint: str) -> int | None:
        """The offset an open-source MLflow token encodes, if it is one."""
        try:
            raw = base64.b64decode(str(cursor), validate=True)
            data = json.loads(raw)
        except (binascii.Error, ValueError):
            return None
        offset = data.get("offset") if isinstance(data, dict) else None
        return offset if isinstance(offset, int) else None

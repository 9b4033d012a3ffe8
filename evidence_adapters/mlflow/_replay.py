"""How MLflow's REST API 2.0 pages, for replaying saved responses.

``registered-models/search`` and ``model-versions/search`` announce the next page in
``next_page_token`` and say nothing on the last page. A page does not say which token
fetched it, and the last page announces nothing, so from plain bodies a listing whose first
page was deleted would replay as complete (open-source MLflow's tokens carry an offset,
Databricks' are opaque; neither helps with the first page). Search pages therefore replay
only from a HAR recording, each request answered by the response recorded for it
(``page_token`` in the URL); plain search bodies are refused. ``runs/get`` bodies name
their run (``run.info.run_id``) and replay as plain bodies too. An empty search answer
(``{}``) names neither search and can answer a first request only.

Requests recorded from the MLflow web UI (``/ajax-api/2.0/mlflow/…``) and from the older
``/api/2.0/preview/mlflow/…`` prefix name the same endpoints as ``/api/2.0/mlflow/…``.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from evidence_adapters._replay import SavedBody

__all__ = ["MlflowRules"]

#: Where the API's endpoint names start: the REST API, the web UI's proxy, the old preview.
_PREFIX = re.compile(r"/(?:ajax-)?api/2\.0/(?:preview/)?mlflow/")

_LISTS = {"registered_models": "registered-models/search",
          "model_versions": "model-versions/search"}


def _filter(request: httpx.Request) -> str:
    """A search's ``filter``, whitespace normalised (``""`` when none)."""
    return " ".join(request.url.params.get("filter", "").split())


class MlflowRules:
    """MLflow's ``next_page_token`` continuation."""

    position_label = "run_id"

    def first_request(self, recorded: httpx.Request, live: httpx.Request,
                      endpoint: str) -> bool:
        """Whether a recorded first search lists what the live one asks for.

        Its ``filter`` must be the live request's (whitespace aside): a recording of a
        narrower search would replay as the whole registry. A versions search recorded
        without a filter also answers a filtered one (the gate's ``name = '…'``): the
        adapter keeps only the versions of the models it listed.
        """
        want, got = _filter(live), _filter(recorded)
        return got == want or (endpoint == "model-versions/search" and not got)

    def request_endpoint(self, request: httpx.Request) -> str:
        """The path after ``/api/2.0/mlflow/`` (or the UI's ``/ajax-api/2.0/mlflow/``)."""
        path = request.url.path
        m = _PREFIX.search(path)
        return path[m.end():] if m else path

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

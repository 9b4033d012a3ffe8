"""Jira adapter tests: a real loopback HTTP server (pytest-httpserver) serving recorded shapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Request, Response

from checker.adapters import SourceContext
from evidence_adapters.jira import JiraAdapter
from tests.jira.jira_payloads import EMAIL, PAT, TOKEN

FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
FAST_RETRY = {"max_attempts": 3, "backoff_initial_seconds": 0.001,
              "backoff_max_seconds": 0.005, "retry_after_max_seconds": 0.01,
              "max_total_seconds": 30}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json;charset=UTF-8")


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_API_TOKEN", TOKEN)
    monkeypatch.setenv("JIRA_PAT", PAT)


class Recorded:
    def __init__(self) -> None:
        self.payloads: dict[str, bytes] = {}

    def __call__(self, name: str, payload: bytes) -> None:
        self.payloads[name] = payload


@pytest.fixture
def recorded() -> Recorded:
    return Recorded()


@pytest.fixture
def make_adapter(tmp_path: Path, recorded: Recorded) -> Callable[..., JiraAdapter]:
    def make(**cfg: Any) -> JiraAdapter:
        cfg.setdefault("retry", FAST_RETRY)
        ctx = SourceContext(base_dir=tmp_path, source_name="jira", fetched_at=FETCHED,
                            as_of=AS_OF, recorder=recorded)
        return JiraAdapter(JiraAdapter.Config.model_validate(cfg), ctx)

    return make


def token_pages(pages: list[dict[str, Any]]) -> Callable[[Request], Response]:
    """Serve v3 search pages chained by their nextPageToken."""
    def handler(request: Request) -> Response:
        token = request.args.get("nextPageToken")
        if not token:
            return json_response(pages[0])
        for i, p in enumerate(pages[:-1]):
            if p.get("nextPageToken") == token:
                return json_response(pages[i + 1])
        return json_response({"errorMessages": ["Invalid nextPageToken"]}, 400)

    return handler

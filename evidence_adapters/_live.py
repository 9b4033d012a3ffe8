"""HTTP helpers shared by the live people/training adapters (``scim``, ``xapi``).

One GET that turns every way a service can let us down into a located diagnostic: cannot
connect or the connection drops mid-response (E341), 401/403 (E342, naming the env var to
check, never its value), any other non-2xx (E343), a body that is not JSON (E344). The body
is handed to the evidence locker exactly as received.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable, register_secret

__all__ = ["env_secret", "env_value", "get_json"]


def env_secret(source: str, var: str, what: str) -> str:
    """Read a credential from the environment and register it for redaction.

    Raises:
        EvidenceUnavailable: E340 when the variable is unset or empty.
    """
    value = env_value(source, var, what)
    register_secret(value)
    return value


def env_value(source: str, var: str, what: str) -> str:
    """Read a non-secret setting (a URL) from the environment.

    Raises:
        EvidenceUnavailable: E340 when the variable is unset or empty.
    """
    value = os.environ.get(var, "")
    if not value:
        raise EvidenceUnavailable(Diagnostic(
            source, 0, 0, "E340", f"environment variable {var} ({what}) is not set",
            f"export {var} before running aimscheck",
        ))
    return value


def get_json(
    client: httpx.Client, url: str | httpx.URL, *, source: str, ctx: SourceContext,
    record_as: str, auth_hint: str, params: dict[str, Any] | None = None,
) -> tuple[Any, bytes]:
    """GET ``url`` and parse the JSON body.

    Args:
        client: The configured client (auth and headers set).
        url: The URL.
        source: Source name for diagnostics.
        ctx: The run context (the body is recorded for the evidence locker).
        record_as: The locker name of the body.
        auth_hint: What to check on a 401/403.
        params: Query parameters.

    Raises:
        EvidenceUnavailable: the service could not be reached or cut the response (E341).
        EvidenceError: 401/403 (E342), another status (E343), not JSON (E344).
    """
    try:
        resp = client.get(url, params=params)
        body = resp.content
    except httpx.TransportError as exc:
        raise EvidenceUnavailable(Diagnostic(
            source, 0, 0, "E341", f"cannot read {_shown(url, params)}: {type(exc).__name__}: "
            f"{exc or 'connection closed'}",
            "is the service up and reachable? a run with a page missing fails closed",
        )) from None
    shown = str(resp.request.url)
    if resp.status_code in (401, 403):
        raise EvidenceError(Diagnostic(
            source, 0, 0, "E342", f"HTTP {resp.status_code} from {shown}", auth_hint,
        ))
    if not 200 <= resp.status_code < 300:
        raise EvidenceError(Diagnostic(
            source, 0, 0, "E343", f"HTTP {resp.status_code} from {shown}: {resp.text[:200]}",
            "check the URL and the service's logs",
        ))
    ctx.record(record_as, body)
    try:
        return json.loads(body), body
    except ValueError as exc:
        raise EvidenceError(Diagnostic(
            source, 0, 0, "E344", f"response from {shown} is not JSON: {exc}",
            "check that the URL points at the API, not a login page",
        )) from None


def _shown(url: str | httpx.URL, params: dict[str, Any] | None) -> str:
    u = httpx.URL(str(url))
    return str(u.copy_merge_params(params)) if params else str(u)

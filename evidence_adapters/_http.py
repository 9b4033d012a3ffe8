"""The HTTP layer shared by the network adapters (``jira``, ``mlflow``, ``scim``, ``xapi``).

One place decides what is worth another attempt and how every failure reads:

- connection errors, timeouts, a response cut short, a response slower than the request's
  deadline, HTTP 429 and 5xx are retried with exponential backoff, bounded in count
  (``retry.max_attempts``) **and** in total time (``retry.max_total_seconds``); a 429/503's
  ``Retry-After`` (delta-seconds or an HTTP date) is honoured up to
  ``retry.retry_after_max_seconds``, and a server that asks for longer than the remaining
  budget fails at once;
- 401, 403 and 404 are never retried;
- every failure becomes **one** one-line :class:`~checker.errors.Diagnostic` naming the URL
  (user-info removed, secret-looking query values masked) and, for 401/403, the environment
  variable or file to check — never the credential. Each adapter passes its own codes
  (:class:`ErrorCodes`).

Credentials come from an environment variable or from a file named in the config
(:func:`read_secret`); every value (and the ``Basic`` header made from it) is registered
with :func:`checker.errors.register_secret`, so no message, report or snapshot can print
it. Response bodies are handed to the evidence locker exactly as received; request headers
never are.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import Field
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
)

from checker.adapters import AdapterConfig, SourceContext
from checker.errors import (
    Diagnostic,
    EvidenceError,
    EvidenceUnavailable,
    redact,
    register_secret,
    register_url_secrets,
)
from checker.safefile import read_bytes
from evidence_adapters._common import loads

__all__ = [
    "ErrorCodes",
    "HttpClient",
    "Response",
    "RetryConfig",
    "env_value",
    "optional_secret",
    "read_secret",
    "shown_url",
]


class RetryConfig(AdapterConfig):
    """Retries of connection errors, timeouts, HTTP 429 and 5xx: exponential backoff, bounded.

    The same ``retry:`` block is accepted by every network source. Waits are
    ``backoff_initial_seconds × 2ⁿ`` capped at ``backoff_max_seconds``, or the server's
    ``Retry-After`` capped at ``retry_after_max_seconds``. A request gives up after
    ``max_attempts`` attempts or when the next wait would end past ``max_total_seconds``
    since its first attempt, whichever comes first; a ``Retry-After`` longer than the
    remaining budget gives up at once. 401, 403 and 404 are never retried.
    """

    max_attempts: int = Field(4, ge=1, le=100,
                              description="Attempts per request, the first included.")
    max_total_seconds: float = Field(60.0, gt=0, description="Give up once retrying a request "
                                                             "would take longer than this.")
    backoff_initial_seconds: float = Field(0.5, ge=0, description="Wait before the second "
                                                                  "attempt; doubled each time.")
    backoff_max_seconds: float = Field(8.0, ge=0, description="Longest wait between attempts.")
    retry_after_max_seconds: float = Field(30.0, ge=0, description="Longest Retry-After "
                                                                   "waited for.")


@dataclass(frozen=True)
class ErrorCodes:
    """The diagnostic codes of one adapter (each keeps its own range).

    Attributes:
        network: Connection refused/reset, timeout, response cut short — after the retries.
        status: 429/5xx after the retries, Retry-After beyond the budget, any other 4xx.
        unauthorized: HTTP 401.
        forbidden: HTTP 403.
        not_found: HTTP 404.
        body: A 2xx body that is not JSON.
    """

    network: str
    status: str
    unauthorized: str
    forbidden: str
    not_found: str
    body: str


@dataclass(frozen=True)
class Response:
    """A complete 2xx (or tolerated 404) response.

    Attributes:
        status: The HTTP status.
        url: The URL as shown in messages (no user-info, secrets masked).
        content: The body exactly as received.
    """

    status: int
    url: str
    content: bytes


# -- credentials -------------------------------------------------------------------------


def env_value(source: str, var: str, what: str, code: str) -> str:
    """Read a non-secret setting (a URL) from the environment.

    Raises:
        EvidenceUnavailable: ``code`` when the variable is unset or empty.
    """
    value = os.environ.get(var, "").strip()
    if not value:
        raise EvidenceUnavailable(Diagnostic(
            source, 0, 0, code, f"environment variable {var} ({what}) is not set",
            f"export {var} before running aimscheck"))
    register_url_secrets(value)  # a URL may carry credentials: never print them
    return value


def read_secret(ctx: SourceContext, *, code: str, env: str, file: str | None,
                what: str) -> tuple[str, str]:
    """A required credential: see :func:`optional_secret`; missing is an error.

    Raises:
        EvidenceUnavailable: ``code`` when the file cannot be read or is empty, or the
            variable is unset or empty.
    """
    value, where = optional_secret(ctx, code=code, env=env, file=file, what=what,
                                   required=True)
    if value is None:  # pragma: no cover - optional_secret raises when required
        raise AssertionError(where)
    return value, where


def optional_secret(ctx: SourceContext, *, code: str, env: str, file: str | None, what: str,
                    required: bool = False) -> tuple[str | None, str]:
    """A credential from the file named in the config, else from the environment variable.

    The file path is relative to the config file's folder; surrounding whitespace (the
    trailing newline of ``echo token > file``) is stripped. The value is registered as a
    secret before it is returned.

    Args:
        ctx: The run context (resolves the file path).
        code: The adapter's "credential missing" code.
        env: The environment variable to read when no file is configured.
        file: The configured ``*_file`` path, or None.
        what: What the credential is, for messages.
        required: Whether a missing value is an error (False: returns None).

    Returns:
        ``(value, where)`` — ``where`` names the variable or file, for "check …" hints.

    Raises:
        EvidenceUnavailable: the file cannot be read or is empty; the variable is unset or
            empty while ``required``.
    """
    src = ctx.source_name
    if file is not None:
        path = ctx.secret_path(file)
        shown = ctx.display(path)
        try:
            value = read_bytes(path, 64 * 1024).decode("utf-8-sig").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise EvidenceUnavailable(Diagnostic(
                src, 0, 0, code, f"cannot read the {what} file {shown}: {reason}",
                "the path is relative to the config file's folder")) from None
        if not value:
            raise EvidenceUnavailable(Diagnostic(src, 0, 0, code,
                                                 f"the {what} file {shown} is empty",
                                                 f"write {what} into {shown}"))
        register_secret(value)
        return value, f"the file {shown}"
    value = os.environ.get(env, "").strip()
    if not value:
        if not required:
            return None, f"${env}"
        raise EvidenceUnavailable(Diagnostic(
            src, 0, 0, code, f"environment variable {env} ({what}) is not set",
            f"export {env}, or name a file holding it in the source config; credentials are "
            "never read from the config itself"))
    register_secret(value)
    return value, f"${env}"


# -- URLs and messages ---------------------------------------------------------------------

_SECRET_PARAM = re.compile(r"token|key|secret|passw|pwd|sig|auth|code|credential|session",
                           re.IGNORECASE)
#: Paging cursors look like tokens by name but are not credentials: shown as they are.
_CURSOR_PARAM = re.compile(r"^(page_?token|nextpagetoken|cursor)$", re.IGNORECASE)


def shown_url(url: httpx.URL | str, *, query: bool = True) -> str:
    """A URL safe for messages: no user-info, secret-looking query values masked.

    Args:
        url: The URL requested.
        query: Whether to show the query string at all.
    """
    u = httpx.URL(str(url))
    bare = str(u.copy_with(username=None, password=None, fragment=None, query=None))
    if not query or not u.query:
        return bare
    shown = [(k, "***" if _SECRET_PARAM.search(k) and not _CURSOR_PARAM.match(k) else v)
             for k, v in u.params.multi_items()]
    return bare + "?" + "&".join(
        f"{quote(k, safe='')}={v if v == '***' else quote(v, safe='')}" for k, v in shown)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _server_message(content: bytes) -> str:
    """What an error body says, on one line.

    Jira's ``errorMessages``/``errors``, MLflow's ``message``, SCIM's ``detail``, else the text.
    """
    try:
        body = loads(content)
    except ValueError:
        return _one_line(content.decode("utf-8", "replace"))
    parts: list[str] = []
    if isinstance(body, dict):
        msgs = body.get("errorMessages")
        if isinstance(msgs, list):
            parts += [str(m) for m in msgs]
        errs = body.get("errors")
        if isinstance(errs, dict):
            parts += [f"{k}: {v}" for k, v in errs.items()]
        for key in ("message", "detail", "error"):
            if isinstance(body.get(key), str) and not parts:
                code = body.get("error_code")
                parts.append(f"{code} {body[key]}" if isinstance(code, str) else body[key])
    return _one_line("; ".join(parts) if parts else json.dumps(body))


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# -- retrying --------------------------------------------------------------------------------


class _Retryable(Exception):
    """A failure worth another attempt."""

    def __init__(self, what: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.retry_after = retry_after


class _Wait:
    """Exponential backoff, or the server's Retry-After (capped) when it sent one."""

    def __init__(self, cfg: RetryConfig) -> None:
        self.cfg = cfg

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return min(exc.retry_after, self.cfg.retry_after_max_seconds)
        backoff = self.cfg.backoff_initial_seconds * (2 ** (state.attempt_number - 1))
        return float(min(backoff, self.cfg.backoff_max_seconds))


class HttpClient:
    """GETs with a deadline per request and bounded retries; failures become diagnostics.

    Args:
        source: The source name diagnostics are filed under.
        retry: The retry budget.
        timeout: Seconds per attempt: connecting, each read, and the whole response.
        codes: The adapter's diagnostic codes.
        check: What to check on a 401/403 (the variables or files holding credentials).
        record: Receives each 2xx body as received (``ctx.record``).
        headers: Extra request headers.
        basic: ``(user, password)`` for HTTP basic auth.
        bearer: A bearer token.
        base_url: Prefix of relative URLs.
        show_query: Whether messages show the query string (secret values are masked).
        hints: Hints replacing the defaults per status (403, 404, 400 …).
        transport: An httpx transport (tests); default: the network.
        progress: Count fetched pages on stderr (a terminal only; quiet in CI logs).
    """

    def __init__(self, *, source: str, retry: RetryConfig, timeout: float, codes: ErrorCodes,
                 check: str, record: Callable[[str, bytes], None] | None = None,
                 headers: Mapping[str, str] | None = None,
                 basic: tuple[str, str] | None = None, bearer: str | None = None,
                 base_url: str = "", show_query: bool = True,
                 hints: Mapping[int, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 progress: bool = False) -> None:
        self.source = source
        self.progress = progress
        self.pages = 0
        self.retry = retry
        self.timeout = timeout
        self.codes = codes
        self.check = check
        self.record = record
        self.show_query = show_query
        self.hints = dict(hints or {})
        self.requests = 0
        hdrs = dict(headers or {})
        auth: httpx.Auth | None = None
        if bearer:
            register_secret(bearer)
            hdrs["Authorization"] = f"Bearer {bearer}"
        elif basic is not None:
            user, password = basic
            register_secret(password)
            register_secret(base64.b64encode(f"{user}:{password}".encode()).decode())
            auth = httpx.BasicAuth(user, password)
        self.client = httpx.Client(base_url=base_url, headers=hdrs, auth=auth,
                                   timeout=httpx.Timeout(timeout), transport=transport,
                                   follow_redirects=False)

    def close(self) -> None:
        """Close the connection pool and end the progress line."""
        self.client.close()
        if self.progress and self.pages:
            sys.stderr.write("\n")
            sys.stderr.flush()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one attempt ----------------------------------------------------------------------

    def _shown(self, url: httpx.URL | str, params: Mapping[str, Any] | None) -> str:
        full = self.client.build_request("GET", url, params=params).url
        return shown_url(full, query=self.show_query)

    def _once(self, url: httpx.URL | str, params: Mapping[str, Any] | None, started: float,
              missing_ok: bool, method: str = "GET", body: Any = None,
              idempotent: bool = True) -> Response:
        remaining = self.retry.max_total_seconds - (time.monotonic() - started)
        limit = max(0.001, min(self.timeout, remaining))
        deadline = time.monotonic() + limit
        shown = self._shown(url, params)
        self.requests += 1
        try:
            with self.client.stream(method, url, params=params, json=body,
                                    timeout=httpx.Timeout(limit)) as resp:
                status = resp.status_code
                if status >= 500 and not idempotent:
                    # the server may have acted before failing: never repeat a create
                    raise self._status_error(status, f"{method} {shown}", resp.read())
                if status == 429 or status >= 500:
                    wait = retry_after_seconds(resp.headers.get("Retry-After"))
                    budget = self.retry.max_total_seconds - (time.monotonic() - started)
                    if wait is not None and wait > budget:
                        raise self._error(
                            self.codes.status, f"HTTP {status} from {shown}: the server asks to "
                            f"wait {wait:g} s, beyond the retry budget (retry.max_total_seconds"
                            f" = {self.retry.max_total_seconds:g})",
                            "run again later, or raise retry.max_total_seconds")
                    raise _Retryable(f"HTTP {status}", status, wait)
                chunks: list[bytes] = []
                for chunk in resp.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _Retryable(f"no complete response within {limit:g} s "
                                         "(a slow response)")
                content = b"".join(chunks)
        except httpx.ConnectError as exc:
            # nothing was sent: safe to repeat even a non-idempotent request
            raise _Retryable(f"cannot connect ({type(exc).__name__}: "
                             f"{_one_line(str(exc), 120) or 'connection failed'})") from None
        except httpx.TransportError as exc:
            if not idempotent:
                raise self._error(self.codes.network, f"{method} {shown} failed "
                                  f"({type(exc).__name__}); it may or may not have been applied",
                                  "run again: the next run finds what was done") from None
            if isinstance(exc, httpx.TimeoutException):
                raise _Retryable(f"timed out after {limit:g} s ({type(exc).__name__})") from None
            if isinstance(exc, httpx.RemoteProtocolError):
                raise _Retryable("the connection closed before the response was complete "
                                 f"({type(exc).__name__}: {_one_line(str(exc), 120)})") from None
            raise _Retryable(f"cannot connect ({type(exc).__name__}: "
                             f"{_one_line(str(exc), 120) or 'connection failed'})") from None
        if 200 <= status < 300 or (status == 404 and missing_ok):
            return Response(status, shown, content)
        raise self._status_error(status, shown, content)

    def _error(self, code: str, message: str, hint: str | None) -> EvidenceUnavailable:
        # Redacted here too, not only when rendered: a server may echo a credential.
        return EvidenceUnavailable(Diagnostic(
            self.source, 0, 0, code, redact(_one_line(message, 600)),
            redact(_one_line(hint, 400)) if hint else None))

    def _status_error(self, status: int, shown: str, content: bytes) -> EvidenceError:
        c = self.codes
        if status == 401:
            return self._error(c.unauthorized, f"HTTP 401 Unauthorized from {shown}",
                               self.hints.get(401, f"check {self.check}"))
        if status == 403:
            return self._error(c.forbidden, f"HTTP 403 Forbidden from {shown}", self.hints.get(
                403, f"the credentials in {self.check} are valid but lack permission here"))
        if status == 404:
            return self._error(c.not_found, f"HTTP 404 Not Found from {shown}",
                               self.hints.get(404, "check the URL in the source config"))
        return self._error(c.status, f"HTTP {status} from {shown}: {_server_message(content)}",
                           self.hints.get(status, self.hints.get(
                               400, "check the URL and the query settings in the source "
                                    "config")))

    # -- the public calls -----------------------------------------------------------------

    def get(self, url: httpx.URL | str, params: Mapping[str, Any] | None = None, *,
            missing_ok: bool = False) -> Response:
        """GET a complete response, retrying what is worth retrying within the budget.

        Args:
            url: Absolute, or relative to ``base_url``.
            params: Query parameters.
            missing_ok: Return a 404 instead of failing (the caller handles "not there").

        Raises:
            EvidenceUnavailable: the request failed for good (one diagnostic).
        """
        return self._call(url, params, missing_ok)

    def _call(self, url: httpx.URL | str, params: Mapping[str, Any] | None,
              missing_ok: bool, *, method: str = "GET", body: Any = None,
              idempotent: bool = True) -> Response:
        rc = self.retry
        retrying = Retrying(
            stop=stop_after_attempt(rc.max_attempts) | stop_before_delay(rc.max_total_seconds),
            wait=_Wait(rc), retry=retry_if_exception_type(_Retryable), reraise=True,
            sleep=time.sleep)
        started = time.monotonic()
        try:
            return retrying(self._once, url, params, started, missing_ok, method, body,
                            idempotent)
        except _Retryable as exc:
            n = retrying.statistics.get("attempt_number", rc.max_attempts)
            shown = self._shown(url, params)
            gave_up = f"gave up after {n} attempt{'s' if n != 1 else ''}"
            if exc.status is not None:
                raise self._error(self.codes.status, f"{exc.what} from {shown} ({gave_up})",
                                  "the service is failing or rate-limiting; run again later, or "
                                  "raise retry.max_attempts / retry.max_total_seconds") from None
            raise self._error(self.codes.network, f"{exc.what}: {shown} ({gave_up})",
                              "is the service up and reachable? a partial read is never used; "
                              "raise timeout or retry.max_attempts for a slow network") from None

    def send(self, method: str, url: httpx.URL | str, *, body: Any = None,
             params: Mapping[str, Any] | None = None, idempotent: bool = True,
             missing_ok: bool = False) -> Response:
        """A write (POST/PUT/DELETE) with a JSON body, under the same retry budget as GETs.

        A request that is not ``idempotent`` (a create, a comment) is retried only when it
        cannot have reached the server (connection refused) or the server refused it
        unprocessed (429); a 5xx or a connection lost mid-request fails at once, so a retry
        can never create a second ticket.

        Raises:
            EvidenceUnavailable: the request failed for good (one diagnostic).
        """
        return self._call(url, params, missing_ok, method=method, body=body,
                          idempotent=idempotent)

    def get_json(self, url: httpx.URL | str, params: Mapping[str, Any] | None = None, *,
                 record_as: str) -> tuple[Any, Response]:
        """GET, hand the body to the evidence locker as ``record_as``, and parse the JSON.

        Raises:
            EvidenceUnavailable: the request failed for good.
            EvidenceError: the body is not JSON (the ``body`` code).
        """
        resp = self.get(url, params)
        if self.record is not None:
            self.record(record_as, resp.content)
        self.pages += 1
        if self.progress:
            sys.stderr.write(f"\r{self.source}: {self.pages} pages fetched")
            sys.stderr.flush()
        try:
            return loads(resp.content), resp
        except ValueError as exc:
            raise EvidenceError(Diagnostic(
                self.source, 0, 0, self.codes.body,
                f"response from {resp.url} is not JSON ({_one_line(str(exc), 120)})",
                "a truncated or non-API response (a login page?); check the URL")) from None

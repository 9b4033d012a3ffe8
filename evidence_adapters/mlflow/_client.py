"""Paged reads of the MLflow REST API 2.0, live (httpx) or from saved responses (offline).

Both readers yield the same raw JSON pages and hand each one, byte for byte, to the
evidence locker under the same names (``registered-models/search/page-0001.json`` …), so a
folder recorded from a live scan is a valid ``offline`` source.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable, register_secret

__all__ = ["API", "HttpReader", "OfflineReader", "Reader"]

API = "/api/2.0/mlflow"
_MAX_PAGES = 100_000


class Reader(Protocol):
    """Where pages come from."""

    where: str

    def pages(self, endpoint: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Yield every page of a search endpoint, to the end."""
        ...

    def run(self, run_id: str) -> dict[str, Any] | None:
        """The ``runs/get`` body of a run, or None when the run does not exist."""
        ...


def _page_name(endpoint: str, n: int) -> str:
    return f"{endpoint}/page-{n:04d}.json"


def _decode(source: str, payload: bytes, code_where: str) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except ValueError as exc:
        raise EvidenceError(Diagnostic(source, 0, 0, "E362", f"{code_where}: response is not "
                                       f"JSON ({exc})", "is this an MLflow tracking server?"
                                       )) from None
    if not isinstance(body, dict):
        raise EvidenceError(Diagnostic(source, 0, 0, "E362", f"{code_where}: expected a JSON "
                                       f"object, got {type(body).__name__}"))
    return body


class _Transient(Exception):
    """A response worth retrying (HTTP 429 or 5xx)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError | _Transient)


class HttpReader:
    """Pages from a live tracking server, with bounded retries and optional auth."""

    def __init__(self, base_url: str, *, source: str, token_env: str, username_env: str,
                 password_env: str, timeout: float, retries: int,
                 record: Callable[[str, bytes], None],
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.where = self.base
        self.source = source
        self.record = record
        self.retries = retries
        token = os.environ.get(token_env) or None
        user = os.environ.get(username_env) or None
        password = os.environ.get(password_env) or None
        register_secret(token)
        register_secret(password)
        parsed = httpx.URL(self.base)
        register_secret(parsed.password or None)
        self.auth_hint = (f"check {token_env}" if token else
                          f"check {username_env}/{password_env}" if user else
                          f"set {token_env} (bearer) or {username_env}/{password_env} (basic)")
        headers = {"Accept": "application/json", "User-Agent": "aimscheck-mlflow"}
        auth: httpx.Auth | None = None
        if token:
            headers["Authorization"] = f"Bearer {token}"
        elif user and password:
            auth = httpx.BasicAuth(user, password)
        self.client = httpx.Client(headers=headers, auth=auth, timeout=timeout,
                                   transport=transport, follow_redirects=False)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def _get(self, endpoint: str, params: dict[str, Any]) -> httpx.Response:
        url = f"{self.base}{API}/{endpoint}"

        def once() -> httpx.Response:
            r = self.client.get(url, params=params)
            if r.status_code == 429 or r.status_code >= 500:
                raise _Transient(r)
            return r

        try:
            for attempt in Retrying(stop=stop_after_attempt(self.retries + 1),
                                    wait=wait_exponential(multiplier=0.2, max=2.0),
                                    retry=retry_if_exception(_retryable), reraise=True):
                with attempt:
                    return once()
        except httpx.TransportError as exc:
            raise EvidenceUnavailable(Diagnostic(
                self.source, 0, 0, "E360",
                f"cannot reach {url}: {type(exc).__name__}: {exc} "
                f"(after {self.retries + 1} attempts)",
                "check tracking_uri and that the server is up; the gate stays closed")) from None
        except _Transient as exc:
            raise EvidenceUnavailable(Diagnostic(
                self.source, 0, 0, "E360",
                f"HTTP {exc.response.status_code} from {url} after {self.retries + 1} attempts: "
                f"{_error_message(exc.response)}", "the server is failing; retry later")) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _check(self, r: httpx.Response, endpoint: str) -> None:
        if r.status_code in (401, 403):
            raise EvidenceUnavailable(Diagnostic(
                self.source, 0, 0, "E361",
                f"HTTP {r.status_code} from {self.base}{API}/{endpoint}: "
                f"{_error_message(r)}", self.auth_hint))
        if r.status_code != 200:
            raise EvidenceError(Diagnostic(
                self.source, 0, 0, "E360",
                f"HTTP {r.status_code} from {self.base}{API}/{endpoint}: {_error_message(r)}",
                "is tracking_uri the server's base URL (without /api/2.0)? is `filter` valid?"))

    def pages(self, endpoint: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Follow ``next_page_token`` to the end; record every page as received."""
        token: str | None = None
        seen: set[str] = set()
        for n in range(1, _MAX_PAGES + 1):
            q = dict(params)
            if token:
                q["page_token"] = token
            r = self._get(endpoint, q)
            self._check(r, endpoint)
            self.record(_page_name(endpoint, n), r.content)
            body = _decode(self.source, r.content, f"{endpoint} page {n}")
            yield body
            token = body.get("next_page_token") or None
            if token is None:
                return
            if token in seen:
                raise EvidenceError(Diagnostic(
                    self.source, 0, 0, "E366", f"{endpoint}: page {n} repeats an earlier "
                    "next_page_token; the listing would never end", "report this server bug"))
            seen.add(token)
        raise EvidenceError(Diagnostic(self.source, 0, 0, "E366",
                                       f"{endpoint}: more than {_MAX_PAGES} pages"))

    def run(self, run_id: str) -> dict[str, Any] | None:
        """``runs/get`` for one run (None on 404)."""
        r = self._get("runs/get", {"run_id": run_id})
        if r.status_code == 404:
            return None
        self._check(r, "runs/get")
        self.record(f"runs/get/{quote(run_id, safe='')}.json", r.content)
        return _decode(self.source, r.content, f"runs/get {run_id}")


def _error_message(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:200].strip() or r.reason_phrase
    if isinstance(body, dict) and "message" in body:
        return f"{body.get('error_code', '')} {body['message']}".strip()[:300]
    return str(body)[:200]


class OfflineReader:
    """Pages saved from earlier REST responses, in the layout the live reader records."""

    def __init__(self, folder: Path, display: str, *, source: str,
                 record: Callable[[str, bytes], None]) -> None:
        self.folder = folder
        self.where = display
        self.source = source
        self.record = record
        if not folder.is_dir():
            raise EvidenceUnavailable(Diagnostic(
                display, 0, 0, "E365", "offline folder does not exist",
                "point `offline` at a folder with registered-models/search/page-0001.json …"))

    def _read(self, name: str) -> bytes | None:
        path = self.folder / name
        try:
            payload = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise EvidenceUnavailable(Diagnostic(f"{self.where}/{name}", 0, 0, "E365",
                                                 f"cannot read: {exc.strerror or exc}")) from None
        self.record(name, payload)
        return payload

    def pages(self, endpoint: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Read page-0001.json, page-0002.json … while each page says more follow."""
        n = 1
        while True:
            name = _page_name(endpoint, n)
            payload = self._read(name)
            if payload is None:
                if n == 1:
                    raise EvidenceUnavailable(Diagnostic(
                        f"{self.where}/{name}", 0, 0, "E365", "no saved first page",
                        "save the responses of the search endpoints page by page"))
                raise EvidenceError(Diagnostic(
                    f"{self.where}/{_page_name(endpoint, n - 1)}", 0, 0, "E364",
                    f"page {n - 1} has a next_page_token but {name} is missing: the saved "
                    "listing is truncated", "save every page up to the one without a token"))
            body = _decode(f"{self.where}/{name}", payload, name)
            yield body
            if not body.get("next_page_token"):
                extra = _page_name(endpoint, n + 1)
                if (self.folder / extra).exists():
                    raise EvidenceError(Diagnostic(
                        f"{self.where}/{extra}", 0, 0, "E364",
                        f"{name} is the last page (no next_page_token) but {extra} exists",
                        "the saved pages are from different listings; save them again"))
                return
            n += 1

    def run(self, run_id: str) -> dict[str, Any] | None:
        """The saved ``runs/get/<run_id>.json`` (None when not saved)."""
        payload = self._read(f"runs/get/{quote(run_id, safe='')}.json")
        if payload is None:
            return None
        return _decode(self.where, payload, f"runs/get {run_id}")

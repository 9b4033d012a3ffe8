"""Paged reads of the MLflow REST API 2.0, live (httpx) or from saved responses (offline).

Both readers yield the same raw JSON pages and hand each one, byte for byte, to the
evidence locker under the same names (``registered-models/search/page-0001.json`` …), so a
folder recorded from a live scan is a valid ``offline`` source.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable, register_secret
from checker.safefile import read_bytes
from evidence_adapters._common import loads
from evidence_adapters._http import ErrorCodes, HttpClient, optional_secret, shown_url

from ._config import MlflowConfig

__all__ = ["API", "CODES", "HttpReader", "OfflineReader", "Reader"]

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
        body = loads(payload)
    except ValueError as exc:
        raise EvidenceError(Diagnostic(source, 0, 0, "E362", f"{code_where}: response is not "
                                       f"JSON ({exc})", "is this an MLflow tracking server?"
                                       )) from None
    if not isinstance(body, dict):
        raise EvidenceError(Diagnostic(source, 0, 0, "E362", f"{code_where}: expected a JSON "
                                       f"object, got {type(body).__name__}"))
    return body


#: MLflow's codes in the shared HTTP layer (E360–E379).
CODES = ErrorCodes(network="E360", status="E360", unauthorized="E361", forbidden="E361",
                   not_found="E360", body="E362")


class HttpReader:
    """Pages from a live tracking server, with bounded retries and optional auth.

    Credentials: a bearer token, else basic auth (user and password); each from its file
    when one is configured, else from its environment variable.
    """

    def __init__(self, base_url: str, *, ctx: SourceContext, cfg: MlflowConfig,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.transport = transport
        self.where = shown_url(self.base)
        self.source = ctx.source_name
        self.record = ctx.record
        token, token_at = optional_secret(ctx, code="E369", env=cfg.token_env, file=cfg.token_file,
                                          what="MLflow bearer token")
        user = os.environ.get(cfg.username_env, "").strip() or None
        password, password_at = optional_secret(ctx, code="E369", env=cfg.password_env,
                                             file=cfg.password_file, what="MLflow password")
        parsed = httpx.URL(self.base)
        register_secret(parsed.password or None)
        check = (f"the bearer token in {token_at}" if token else
                 f"${cfg.username_env} and {password_at}" if user else
                 f"the credentials: set ${cfg.token_env} (bearer) or ${cfg.username_env}/"
                 f"${cfg.password_env} (basic)")
        self.http = HttpClient(
            source=self.source, retry=cfg.effective_retry(), timeout=cfg.timeout, codes=CODES,
            check=check, record=ctx.record, progress=ctx.progress,
            headers={"Accept": "application/json", "User-Agent": "aimscheck-mlflow"},
            bearer=token, basic=(user, password) if (user and password and not token) else None,
            hints={404: "is tracking_uri the server's base URL (without /api/2.0)?",
                   400: "is `filter` a valid MLflow search filter?"},
            transport=transport)

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def pages(self, endpoint: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Follow ``next_page_token`` to the end; record every page as received."""
        token: str | None = None
        seen: set[str] = set()
        for n in range(1, _MAX_PAGES + 1):
            q = dict(params)
            if token:
                q["page_token"] = token
            r = self.http.get(f"{self.base}{API}/{endpoint}", q)
            self.record(_page_name(endpoint, n), r.content)
            body = _decode(self.source, r.content, f"{r.url} (page {n})")
            yield body
            token = body.get("next_page_token") or None
            if token is None:
                return
            if token in seen:
                raise EvidenceError(Diagnostic(
                    self.source, 0, 0, "E366", f"{self.where}{API}/{endpoint}: page {n} "
                    "repeats an earlier next_page_token; the listing would never end",
                    "report this server bug"))
            seen.add(token)
        raise EvidenceError(Diagnostic(self.source, 0, 0, "E366",
                                       f"{endpoint}: more than {_MAX_PAGES} pages"))

    def run(self, run_id: str) -> dict[str, Any] | None:
        """``runs/get`` for one run (None on 404)."""
        r = self.http.get(f"{self.base}{API}/runs/get", {"run_id": run_id}, missing_ok=True)
        if r.status == 404:
            return None
        self.record(f"runs/get/{quote(run_id, safe='')}.json", r.content)
        return _decode(self.source, r.content, f"runs/get {run_id}")


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
            payload = read_bytes(path)
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

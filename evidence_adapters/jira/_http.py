"""Live Jira: authenticated GETs with timeouts and bounded retries, search and changelog paging.

Cloud uses REST v3: ``/rest/api/3/search/jql`` (cursor ``nextPageToken``; the last page is
``isLast: true`` *or* a missing/empty token) and ``/rest/api/3/issue/{key}/changelog``
(paged ``values``). Data Center uses REST v2: ``/rest/api/2/search`` (``startAt`` /
``maxResults`` / ``total``) and ``/rest/api/2/issue/{key}?expand=changelog`` (the full log).

Every page received is handed to the evidence locker (``ctx.record``) exactly as received,
named like the offline layout, so a recorded snapshot can be scanned again offline.
"""

from __future__ import annotations

import base64
import email.utils
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
)

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable, register_secret

from ._config import JiraConfig, RetryConfig
from ._model import ChangelogPage, RawHistory, RawIssue, SearchPageV2, SearchPageV3

__all__ = ["LiveJira", "SearchResult"]

M = TypeVar("M", bound=BaseModel)

#: Fields every mapping reads besides its configured ones.
SYSTEM_FIELDS = ("summary", "issuetype", "project", "status", "assignee", "reporter",
                 "created", "resolutiondate", "resolution", "priority")


class SearchResult(BaseModel):
    """All issues of one search, in order, with the field-name map Jira returned."""

    issues: list[RawIssue]
    names: dict[str, str]


class _Retryable(Exception):
    """A response or network failure worth another attempt."""

    def __init__(self, what: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.status = status
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float | None:
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
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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


class LiveJira:
    """Fetch issues and changelogs from a live Jira site."""

    def __init__(self, cfg: JiraConfig, ctx: SourceContext,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.source = ctx.source_name
        self.pages = 0
        headers = {"Accept": "application/json", "User-Agent": "aimscheck-jira"}
        auth: httpx.Auth | None = None
        if cfg.deployment == "cloud":
            user = self._env(cfg.auth.email_env, "the Atlassian account email")
            token = self._env(cfg.auth.token_env, "an Atlassian API token")
            register_secret(token)
            register_secret(base64.b64encode(f"{user}:{token}".encode()).decode())
            auth = httpx.BasicAuth(user, token)
            self.cred_vars = f"{cfg.auth.email_env} and {cfg.auth.token_env}"
        else:
            pat = self._env(cfg.auth.pat_env, "a Data Center personal access token")
            register_secret(pat)
            headers["Authorization"] = f"Bearer {pat}"
            self.cred_vars = cfg.auth.pat_env
        self.client = httpx.Client(base_url=cfg.site, headers=headers, auth=auth,
                                   timeout=httpx.Timeout(cfg.timeout_seconds),
                                   transport=transport, follow_redirects=False)

    def _env(self, var: str, what: str) -> str:
        value = os.environ.get(var, "").strip()
        if not value:
            raise EvidenceUnavailable(Diagnostic(
                self.source, 0, 0, "E320",
                f"environment variable {var} is not set (needed for {self.cfg.site})",
                f"export {var} with {what}; credentials are read from the environment only",
            ))
        return value

    def close(self) -> None:
        """Close the connection pool and end the progress line."""
        self.client.close()
        if self.ctx.progress and self.pages:
            sys.stderr.write("\n")
            sys.stderr.flush()

    # -- requests -------------------------------------------------------------------------

    def _err(self, code: str, message: str, hint: str | None) -> EvidenceError:
        return EvidenceUnavailable(Diagnostic(self.source, 0, 0, code, message, hint))

    def _once(self, path: str, params: dict[str, Any]) -> httpx.Response:
        url = f"{self.cfg.site}{path}"
        try:
            resp = self.client.get(path, params=params)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.cfg.timeout_seconds:g} s "
                             f"({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"network error: {type(exc).__name__}: {exc}") from None
        status = resp.status_code
        if status == 429 or status >= 500:
            wait = _retry_after(resp.headers.get("Retry-After"))
            if wait is not None and wait > self.cfg.retry.max_total_seconds:
                raise self._err("E324", f"HTTP {status} from {url}: Jira asks to wait "
                                f"{wait:g} s, longer than retry.max_total_seconds",
                                "run again later, or raise retry.max_total_seconds")
            raise _Retryable(f"HTTP {status}", status, wait)
        if status in (401, 403, 404):
            raise self._auth_error(status, url)
        if status >= 400:
            raise self._err("E324", f"HTTP {status} from {url}: {_jira_messages(resp)}",
                            "check the JQL and field names in the source config")
        return resp

    def _auth_error(self, status: int, url: str) -> EvidenceError:
        if status == 401:
            return self._err("E321", f"HTTP 401 Unauthorized from {url}",
                             f"check {self.cred_vars} (credentials for {self.cfg.site})")
        if status == 403:
            return self._err("E322", f"HTTP 403 Forbidden from {url}",
                             f"the account in {self.cred_vars} lacks permission to browse "
                             "these projects, or API access is blocked on the site")
        return self._err("E323", f"HTTP 404 Not Found from {url}",
                         f"check `site` ({self.cfg.site}) and `deployment` "
                         f"({self.cfg.deployment}), and that {self.cred_vars} may see it")

    def get(self, path: str, params: dict[str, Any], record: str, model: type[M]) -> M:
        """GET a JSON page with retries, record it, and validate its shape.

        Raises:
            EvidenceUnavailable: authentication (E321/E322/E323), retries exhausted (E324,
                E325) or a body that is not the documented shape (E326).
        """
        url = f"{self.cfg.site}{path}"
        rc = self.cfg.retry
        retrying = Retrying(
            stop=stop_after_attempt(rc.max_attempts) | stop_after_delay(rc.max_total_seconds),
            wait=_Wait(rc), retry=retry_if_exception_type(_Retryable), reraise=True,
            sleep=time.sleep,
        )
        try:
            resp = retrying(self._once, path, params)
        except _Retryable as exc:
            n = retrying.statistics.get("attempt_number", rc.max_attempts)
            code = "E324" if exc.status is not None else "E325"
            raise self._err(code, f"{exc.what} from {url} (gave up after {n} attempt"
                            f"{'s' if n != 1 else ''})",
                            "Jira is unavailable or rate-limiting; run again later, or raise "
                            "retry.max_attempts / retry.max_total_seconds") from None
        self.ctx.record(record, resp.content)
        self.pages += 1
        if self.ctx.progress:
            sys.stderr.write(f"\r{self.source}: {self.pages} pages fetched")
            sys.stderr.flush()
        try:
            return model.model_validate(json.loads(resp.content))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            raise self._err("E326", f"unexpected response from {url}: {first}",
                            f"is {self.cfg.site} a Jira {self.cfg.deployment} site?") from None

    # -- paging ---------------------------------------------------------------------------

    def search(self, mapping: str, jql: str, fields: list[str]) -> SearchResult:
        """Every issue the JQL selects, following pagination to the end."""
        issues: list[RawIssue] = []
        names: dict[str, str] = {}
        base = {"jql": jql, "maxResults": self.cfg.page_size, "fields": ",".join(fields),
                "expand": "changelog,names"}
        for n, page in enumerate(self._pages(mapping, base), start=1):
            del n
            issues.extend(page.issues)
            names.update(page.names or {})
        return SearchResult(issues=_dedupe(issues), names=names)

    def _pages(self, mapping: str, base: dict[str, Any]
               ) -> Iterator[SearchPageV3 | SearchPageV2]:
        if self.cfg.deployment == "cloud":
            yield from self._pages_v3(mapping, base)
        else:
            yield from self._pages_v2(mapping, base)

    def _pages_v3(self, mapping: str, base: dict[str, Any]) -> Iterator[SearchPageV3]:
        path = "/rest/api/3/search/jql"
        token: str | None = None
        seen: set[str] = set()
        n = 0
        while True:
            n += 1
            params = dict(base)
            if token:
                params["nextPageToken"] = token
            page = self.get(path, params, f"search/{mapping}/page-{n:04d}.json", SearchPageV3)
            yield page
            token = page.nextPageToken
            if page.isLast is True or not token:
                return
            if token in seen:
                raise self._err("E327", f"{self.cfg.site}{path} returned the same "
                                "nextPageToken twice; paging would not end",
                                "run again; report this to Atlassian if it persists")
            seen.add(token)

    def _pages_v2(self, mapping: str, base: dict[str, Any]) -> Iterator[SearchPageV2]:
        path = "/rest/api/2/search"
        start = 0
        total: int | None = None
        n = 0
        while True:
            n += 1
            page = self.get(path, {**base, "startAt": start},
                            f"search/{mapping}/page-{n:04d}.json", SearchPageV2)
            if total is not None and page.total != total:
                raise self._err("E327", f"the result of {self.cfg.site}{path} changed while "
                                f"paging (total {total} → {page.total})", "run the scan again")
            total = page.total
            yield page
            start += len(page.issues)
            if start >= total:
                return
            if not page.issues:
                raise self._err("E327", f"{self.cfg.site}{path} returned an empty page at "
                                f"startAt={start} of total {total}",
                                "run again; the result is incomplete")

    def changelog(self, key: str) -> list[RawHistory]:
        """The complete changelog of one issue (oldest first as Jira returns it)."""
        if self.cfg.deployment == "datacenter":
            path = f"/rest/api/2/issue/{key}"
            issue = self.get(path, {"expand": "changelog", "fields": "created"},
                             f"changelog/{key}/page-0001.json", RawIssue)
            cl = issue.changelog
            if cl is None or (cl.total is not None and cl.total > len(cl.histories)):
                raise self._err("E327", f"{self.cfg.site}{path} returned a truncated "
                                "changelog", "the full change history is needed")
            return list(cl.histories)
        path = f"/rest/api/3/issue/{key}/changelog"
        out: list[RawHistory] = []
        n = 0
        while True:
            n += 1
            page = self.get(path, {"startAt": len(out), "maxResults": 100},
                            f"changelog/{key}/page-{n:04d}.json", ChangelogPage)
            out.extend(page.values)
            done = page.isLast is True or (
                page.isLast is None and page.total is not None and len(out) >= page.total)
            if done:
                return out
            if not page.values:
                raise self._err("E327", f"{self.cfg.site}{path} returned an empty page at "
                                f"startAt={len(out)} before the end", "run the scan again")


def _dedupe(issues: list[RawIssue]) -> list[RawIssue]:
    """Drop repeats of a key (offset paging can repeat an issue when the result shifts)."""
    seen: dict[str, RawIssue] = {}
    for issue in issues:
        seen.setdefault(issue.key, issue)
    return list(seen.values())


def _jira_messages(resp: httpx.Response) -> str:
    """Jira's ``errorMessages``/``errors`` of an error response, on one line."""
    try:
        body = resp.json()
    except ValueError:
        return resp.reason_phrase or "error"
    parts: list[str] = []
    if isinstance(body, dict):
        msgs = body.get("errorMessages")
        if isinstance(msgs, list):
            parts += [str(m) for m in msgs]
        errs = body.get("errors")
        if isinstance(errs, dict):
            parts += [f"{k}: {v}" for k, v in errs.items()]
    return "; ".join(parts)[:300] or resp.reason_phrase or "error"

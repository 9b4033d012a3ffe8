"""Live Jira: authenticated GETs with timeouts and bounded retries, search and changelog paging.

Cloud uses REST v3: ``/rest/api/3/search/jql`` (cursor ``nextPageToken``; the last page is
``isLast: true`` *or* a missing/empty token) and ``/rest/api/3/issue/{key}/changelog``
(paged ``values``). Data Center uses REST v2: ``/rest/api/2/search`` (``startAt`` /
``maxResults`` / ``total``) and ``/rest/api/2/issue/{key}?expand=changelog`` (the full log).

Every page received is handed to the evidence locker (``ctx.record``) exactly as received,
named like the offline layout, so a recorded snapshot can be scanned again offline.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from evidence_adapters._http import ErrorCodes, HttpClient, read_secret
from evidence_adapters._replay import REPLAY_BASE

from ._config import JiraConfig
from ._model import ChangelogPage, RawHistory, RawIssue, SearchPageV2, SearchPageV3

__all__ = ["CODES", "LiveJira", "SearchResult"]

M = TypeVar("M", bound=BaseModel)

#: Fields every mapping reads besides its configured ones.
SYSTEM_FIELDS = ("summary", "issuetype", "project", "status", "assignee", "reporter",
                 "created", "resolutiondate", "resolution", "priority")

#: Jira's codes in the shared HTTP layer (E320–E339).
CODES = ErrorCodes(network="E325", status="E324", unauthorized="E321", forbidden="E322",
                   not_found="E323", body="E326")


class SearchResult(BaseModel):
    """All issues of one search, in order, with the field-name map Jira returned."""

    issues: list[RawIssue]
    names: dict[str, str]


class LiveJira:
    """Fetch issues and changelogs from a live Jira site."""

    def __init__(self, cfg: JiraConfig, ctx: SourceContext,
                 transport: httpx.BaseTransport | None = None, *, replay: bool = False
                 ) -> None:
        self.cfg = cfg
        self.ctx = ctx
        self.source = ctx.source_name
        a = cfg.auth
        basic: tuple[str, str] | None = None
        bearer: str | None = None
        if replay:
            # Saved bodies answer the requests (a ReplayTransport): no credentials.
            self.cred_vars = "the saved responses (`replay`)"
        elif cfg.deployment == "cloud":
            user = self._env(a.email_env, "the Atlassian account email")
            token, where = read_secret(ctx, code="E320", env=a.token_env, file=a.token_file,
                                       what="an Atlassian API token")
            basic = (user, token)
            self.cred_vars = f"{a.email_env} and {where.lstrip('$')}"
        else:
            bearer, where = read_secret(ctx, code="E320", env=a.pat_env, file=a.pat_file,
                                        what="a Data Center personal access token")
            self.cred_vars = where.lstrip("$")
        self.http = HttpClient(
            source=self.source, retry=cfg.retry, timeout=cfg.timeout_seconds, codes=CODES,
            check=f"{self.cred_vars} (credentials for {cfg.site})", record=ctx.record,
            headers={"Accept": "application/json", "User-Agent": "aimscheck-jira"},
            basic=basic, bearer=bearer, base_url=REPLAY_BASE if replay else cfg.site,
            show_query=False,
            hints={403: f"the account in {self.cred_vars} lacks permission to browse these "
                        "projects, or API access is blocked on the site",
                   404: f"check `site` ({cfg.site}) and `deployment` ({cfg.deployment}), and "
                        f"that {self.cred_vars} may see it",
                   400: "check the JQL and field names in the source config"},
            transport=transport, progress=ctx.progress)

    def _env(self, var: str, what: str) -> str:
        value = os.environ.get(var, "").strip()
        if not value:
            raise EvidenceUnavailable(Diagnostic(
                self.source, 0, 0, "E320",
                f"environment variable {var} is not set (needed for {self.cfg.site})",
                f"export {var} with {what}"))
        return value

    def close(self) -> None:
        """Close the connection pool (which also ends the progress line)."""
        self.http.close()

    # -- requests -------------------------------------------------------------------------

    def _err(self, code: str, message: str, hint: str | None) -> EvidenceError:
        return EvidenceUnavailable(Diagnostic(self.source, 0, 0, code, message, hint))

    def get(self, path: str, params: dict[str, Any], record: str, model: type[M]) -> M:
        """GET a JSON page with retries, record it, and validate its shape.

        Raises:
            EvidenceUnavailable: authentication (E321/E322/E323), retries exhausted (E324,
                E325) or a body that is not the documented shape (E326).
        """
        return self._validate(path, self.get_raw(path, params, record), model)

    def get_raw(self, path: str, params: dict[str, Any], record: str) -> Any:
        """GET a JSON page with retries and record it; the parsed body."""
        data, _ = self.http.get_json(path, params, record_as=record)
        return data

    def _validate(self, path: str, data: Any, model: type[M]) -> M:
        url = f"{self.cfg.site}{path}"
        try:
            return model.model_validate(data)
        except ValidationError as exc:
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
        """Every page of one search, following the continuation each page announces.

        Cloud's enhanced search pages by cursor (``nextPageToken``; the last page says
        ``isLast: true`` or has no token); Data Center and the legacy search page by offset
        (``startAt``/``total``). Which one a page uses is read from the page itself, so saved
        pages of either kind replay through this same loop.
        """
        path = "/rest/api/3/search/jql" if self.cfg.deployment == "cloud" else "/rest/api/2/search"
        params: dict[str, Any] = dict(base)
        if self.cfg.deployment == "datacenter":
            params["startAt"] = 0
        seen: set[str] = set()
        total: int | None = None
        start = 0
        n = 0
        while True:
            n += 1
            data = self.get_raw(path, params, f"search/{mapping}/page-{n:04d}.json")
            if isinstance(data, dict) and "total" in data and "startAt" in data:
                p2 = self._validate(path, data, SearchPageV2)
                if total is not None and p2.total != total:
                    raise self._err("E327", f"the result of {self.cfg.site}{path} changed "
                                    f"while paging (total {total} → {p2.total})",
                                    "run the scan again")
                total = p2.total
                yield p2
                start += len(p2.issues)
                if start >= total:
                    return
                if not p2.issues:
                    raise self._err("E327", f"{self.cfg.site}{path} returned an empty page "
                                    f"at startAt={start} of total {total}",
                                    "run again; the result is incomplete")
                params = {**base, "startAt": start}
                continue
            p3 = self._validate(path, data, SearchPageV3)
            yield p3
            token = p3.nextPageToken
            if p3.isLast is True or not token:
                return
            if token in seen:
                raise self._err("E327", f"{self.cfg.site}{path} returned the same "
                                "nextPageToken twice; paging would not end",
                                "run again; report this to Atlassian if it persists")
            seen.add(token)
            params = {**base, "nextPageToken": token}

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


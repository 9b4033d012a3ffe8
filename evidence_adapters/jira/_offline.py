"""Offline Jira: saved API pages (exactly as returned) and Jira's CSV export.

Pages layout (the same names the live adapter hands to the evidence locker)::

    <pages>/search/<mapping>/page-0001.json     search pages of one mapping, in name order
    <pages>/changelog/<KEY>/page-0001.json      full changelog pages of one issue

Search pages may be Cloud v3 (``nextPageToken``/``isLast``) or offset-paged
(``startAt``/``maxResults``/``total``: Data Center v2 or legacy v3). A v3 page says neither
where it sits nor how many issues there are, so its name is its place: ``page-0001.json``,
``page-0002.json`` … with no gap (a missing first or middle page is then an error too).
Changelog pages may be Cloud's paged ``values`` or Data Center's issue with
``expand=changelog``. A sequence that stops before its last page, has a gap, or an issue
whose embedded changelog is truncated with no saved changelog pages is an error: a
snapshot is complete or it is not used.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from checker.adapters import SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.safefile import read_bytes
from evidence_adapters._common import CsvReader, loads

from ._config import JiraConfig, OfflineConfig
from ._http import SearchResult
from ._model import ChangelogPage, RawHistory, RawIssue, SearchPageV2, SearchPageV3

__all__ = ["CSV_DEFAULT_COLUMNS", "CsvJira", "SavedPages"]

#: Jira field id → header of Jira's "Export Excel CSV (all fields)".
CSV_DEFAULT_COLUMNS: dict[str, str] = {
    "key": "Issue key", "id": "Issue id", "summary": "Summary", "issuetype": "Issue Type",
    "status": "Status", "project": "Project key", "priority": "Priority",
    "resolution": "Resolution", "assignee": "Assignee Id", "reporter": "Reporter Id",
    "creator": "Creator Id", "created": "Created", "updated": "Updated",
    "resolutiondate": "Resolved", "labels": "Labels",
}
_CSV_DATES = ("created", "updated", "resolutiondate")
_CSV_USERS = ("assignee", "reporter", "creator")


def _load(path: Path, shown: str) -> Any:
    try:
        return loads(read_bytes(path))
    except OSError as exc:
        raise EvidenceUnavailable(Diagnostic(shown, 0, 0, "E328",
                                             f"cannot read: {exc.strerror or exc}")) from None
    except ValueError as exc:
        raise EvidenceError(Diagnostic(shown, 0, 0, "E326", f"not valid JSON: {exc}",
                                       "save the response body exactly as Jira returned it")
                            ) from None


def _err(file: str, message: str, hint: str | None = None) -> EvidenceError:
    return EvidenceError(Diagnostic(file, 0, 0, "E328", message, hint))


class SavedPages:
    """Search results and changelogs from a folder of saved API pages."""

    def __init__(self, folder: Path, ctx: SourceContext) -> None:
        self.folder = folder
        self.ctx = ctx
        if not folder.is_dir():
            raise EvidenceUnavailable(Diagnostic(
                ctx.display(folder), 0, 0, "E328", "no such folder of saved Jira pages",
                "check `offline.pages` (relative to the config file)"))

    def has(self, mapping: str) -> bool:
        """Whether pages were saved for this mapping."""
        return (self.folder / "search" / mapping).is_dir()

    def _files(self, sub: Path, what: str) -> list[Path]:
        files = sorted(p for p in sub.glob("*.json") if p.is_file()) if sub.is_dir() else []
        if not files:
            raise _err(self.ctx.display(sub), f"no saved {what} pages (*.json)",
                       "save every page of the search (see the adapter README for the layout)")
        return files

    def search(self, mapping: str) -> SearchResult:
        """All issues of the saved search pages of one mapping, checked for completeness."""
        files = self._files(self.folder / "search" / mapping, f"search pages for {mapping!r}:")
        issues: list[RawIssue] = []
        names: dict[str, str] = {}
        expect_start = 0
        total: int | None = None
        for i, path in enumerate(files):
            shown = self.ctx.display(path)
            data = _load(path, shown)
            self.ctx.record(f"search/{mapping}/{path.name}", read_bytes(path))
            last_file = i == len(files) - 1
            try:
                if isinstance(data, dict) and "total" in data and "startAt" in data:
                    p2 = SearchPageV2.model_validate(data)
                    if p2.startAt != expect_start or (total is not None and p2.total != total):
                        raise _err(shown, f"page starts at {p2.startAt} (total {p2.total}), "
                                   f"expected startAt {expect_start}"
                                   + (f" of total {total}" if total is not None else ""),
                                   "a page is missing or from another search")
                    total = p2.total
                    expect_start += len(p2.issues)
                    done = expect_start >= p2.total
                    page_issues, page_names = p2.issues, p2.names
                else:
                    p3 = SearchPageV3.model_validate(data)
                    _check_cursor_name(path, i, files, self.ctx)
                    done = p3.isLast is True or not p3.nextPageToken
                    page_issues, page_names = p3.issues, p3.names
            except ValidationError as exc:
                raise EvidenceError(Diagnostic(
                    shown, 0, 0, "E326", "not a Jira search page: "
                    + str(exc).splitlines()[0], "save the response body of "
                    "/rest/api/3/search/jql or /rest/api/2/search unchanged")) from None
            if done and not last_file:
                raise _err(shown, "this is the last page of the search, but more pages "
                           "follow it", "remove pages of other searches from the folder")
            if last_file and not done:
                raise _err(shown, "the saved search stops before its last page "
                           "(more pages were announced)", "save every page of the search")
            issues.extend(page_issues)
            names.update(page_names or {})
        seen: dict[str, RawIssue] = {}
        for issue in issues:
            seen.setdefault(issue.key, issue)
        return SearchResult(issues=list(seen.values()), names=names)

    def changelog(self, key: str) -> list[RawHistory]:
        """The complete saved changelog of one issue."""
        sub = self.folder / "changelog" / key
        if not sub.is_dir():
            raise _err(self.ctx.display(self.folder), f"{key}: the embedded changelog is "
                       "truncated and no full changelog was saved",
                       f"save /rest/api/3/issue/{key}/changelog pages under changelog/{key}/")
        out: list[RawHistory] = []
        files = self._files(sub, f"changelog {key}")
        for i, path in enumerate(files):
            shown = self.ctx.display(path)
            data = _load(path, shown)
            self.ctx.record(f"changelog/{key}/{path.name}", read_bytes(path))
            try:
                if isinstance(data, dict) and "values" in data:
                    page = ChangelogPage.model_validate(data)
                    if page.startAt != len(out):
                        raise _err(shown, f"changelog page starts at {page.startAt}, expected "
                                   f"{len(out)}", "a changelog page is missing")
                    out.extend(page.values)
                    done = page.isLast is True or (page.total is not None
                                                   and len(out) >= page.total)
                else:
                    issue = RawIssue.model_validate(data)
                    cl = issue.changelog
                    if cl is None:
                        raise _err(shown, "an issue without `changelog`",
                                   "save it with expand=changelog")
                    out.extend(cl.histories)
                    done = cl.total is None or len(out) >= cl.total
            except ValidationError as exc:
                raise EvidenceError(Diagnostic(shown, 0, 0, "E326", "not a Jira changelog "
                                               "page: " + str(exc).splitlines()[0])) from None
            if i == len(files) - 1 and not done:
                raise _err(shown, f"{key}: the saved changelog stops before its end",
                           "save every changelog page")
        return out


def _check_cursor_name(path: Path, i: int, files: list[Path], ctx: SourceContext) -> None:
    """A ``nextPageToken`` page says nothing of its place: its name must (``page-0001``…).

    Enhanced-search pages carry no ``startAt``/``total`` and an opaque token, so only the
    layout's numbering (the order they were fetched in, as ``evidence pull`` writes them)
    can show a missing first or middle page.
    """
    want = f"page-{i + 1:04d}.json"
    if path.name == want:
        return
    m = _PAGE_NAME.fullmatch(path.name)
    if m is None:
        raise _err(ctx.display(path), "a nextPageToken search page must be named by its place "
                   f"in the chain ({want}): the page itself does not say where it sits, so a "
                   "missing page could not be noticed",
                   "name the pages page-0001.json, page-0002.json … in the order they were "
                   "fetched, or replay a HAR of the requests (see the adapter README)")
    before = f"after {ctx.display(files[i - 1])}" if i else "the first page"
    raise _err(ctx.display(path), f"{want} is missing ({before}): the saved pages jump to "
               f"{path.name}", "save every page of the search, numbered in fetch order")


_PAGE_NAME = re.compile(r"page-(\d+)\.json")


class CsvJira:
    """Current state of issues from Jira's CSV export (no changelog, so no history)."""

    def __init__(self, cfg: JiraConfig, off: OfflineConfig, ctx: SourceContext) -> None:
        self.cfg = cfg
        self.off = off
        self.ctx = ctx
        try:
            self.tz = ZoneInfo(off.csv_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise EvidenceUnavailable(Diagnostic(
                ctx.source_name, 0, 0, "E330",
                f"unknown time zone {off.csv_timezone!r} (offline.csv_timezone)",
                "use an IANA name such as Europe/Berlin")) from None
        self._issues: list[RawIssue] | None = None

    def issues(self) -> list[RawIssue]:
        """Every row of the export as an issue whose fields hold the cells."""
        if self._issues is None:
            self._issues = self._read()
        return self._issues

    def _read(self) -> list[RawIssue]:
        assert self.off.csv is not None
        path = self.ctx.path(self.off.csv)
        file = self.ctx.display(path)
        diags: list[Diagnostic] = []
        columns = {**CSV_DEFAULT_COLUMNS, **self.off.csv_columns}
        reader = CsvReader(path, file, diags=diags)
        header: list[str] | None = None
        out: list[RawIssue] = []
        for line, cells in reader.rows():
            if header is None:
                header = [h.strip() for h in cells]
                missing = [c for c in ("Issue key", "Issue Type", columns["created"])
                           if c not in header]
                if missing:
                    diags.append(Diagnostic(file, line, 1, "E330",
                                            f"Jira CSV header lacks {', '.join(missing)}",
                                            "export with 'Export Excel CSV (all fields)'"))
                    break
                continue
            issue = self._row(file, line, header, cells, columns, diags)
            if issue is not None:
                out.append(issue)
        if diags:
            raise EvidenceError(sorted(diags))
        if path.is_file():
            self.ctx.record(f"csv/{path.name}", read_bytes(path))
        return out

    def _row(self, file: str, line: int, header: list[str], cells: list[str],
             columns: dict[str, str], diags: list[Diagnostic]) -> RawIssue | None:
        if len(cells) != len(header):
            diags.append(Diagnostic(file, line, 0, "E330", f"row has {len(cells)} cells, the "
                                    f"header has {len(header)}"))
            return None
        # Headers repeat (Labels, Watchers, …): read positionally, collect every value.
        by_header: dict[str, list[str]] = {}
        for h, c in zip(header, cells, strict=True):
            by_header.setdefault(h, []).append(c.strip())
        fields: dict[str, Any] = {}
        for h, values in by_header.items():
            if h.startswith("Custom field (") and h.endswith(")"):
                fields[h[len("Custom field ("):-1]] = _one(values)
        for fid, h in columns.items():
            if h in by_header:
                fields[fid] = _one(by_header[h])
        for fid in _CSV_DATES:
            v = fields.get(fid)
            if isinstance(v, str) and v:
                try:
                    dt = datetime.strptime(v, self.off.csv_date_format).replace(tzinfo=self.tz)
                except ValueError:
                    diags.append(Diagnostic(file, line, 0, "E330", f"{columns[fid]} {v!r} is not "
                                            f"a date in format {self.off.csv_date_format!r}",
                                            "set offline.csv_date_format"))
                    return None
                fields[fid] = dt.strftime("%Y-%m-%dT%H:%M:%S.000%z")
        for fid in _CSV_USERS:
            v = fields.get(fid)
            fields[fid] = {"accountId": v} if isinstance(v, str) and v else None
        key = str(fields.pop("key", "") or "")
        if not key:
            diags.append(Diagnostic(file, line, 0, "E330", "empty Issue key"))
            return None
        fields["project"] = {"key": fields.get("project") or key.split("-")[0]}
        return RawIssue(id=str(fields.pop("id", "") or key), key=key, fields=fields,
                        changelog=None)


def _one(values: list[str]) -> Any:
    """A single cell as a string ('' → None); a repeated column as the list of its values."""
    if len(values) == 1:
        return values[0] or None
    return [v for v in values if v]

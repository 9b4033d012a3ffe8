"""The ``jira`` adapter: sign-offs, reviews, incidents and owners from Jira's change history.

Live against Jira Cloud (REST v3 enhanced search) or Data Center (REST v2), or offline from
saved API pages and Jira's CSV export. Per evidence kind the config says which issues
(JQL, issue types), which fields hold what, and which status transitions mean approved,
reviewed, acknowledged, escalated or closed; the changelog then says who moved the issue
there and when. Complete or fail: pagination is followed to the end, truncated changelogs
are fetched in full, and any page that cannot be had fails the source (exit 3).

Credentials come from environment variables only and are registered as secrets, so no
message, report or snapshot can print them. See ``evidence_adapters/jira/README.md``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from checker.adapters import Adapter, AdapterConfig, SourceContext
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import Approval, EvidenceBundle, Incident, Review, Subject
from checker.registry import did_you_mean
from checker.safefile import read_bytes
from evidence_adapters._common import CsvReader, header_preview
from evidence_adapters._replay import ReplayTransport, load_bodies

from ._config import (
    ApprovalMapping,
    IdentityConfig,
    IncidentMapping,
    JiraConfig,
    ReviewMapping,
    SubjectMapping,
)
from ._http import SYSTEM_FIELDS, LiveJira, SearchResult
from ._mapping import Identities, IssueView, MappingError, diag, field_text, map_issue
from ._model import RawHistory, RawIssue, parse_jira_time
from ._offline import CsvJira, SavedPages
from ._replay import JiraRules
from ._tickets import JiraTracker, JiraTrackerConfig

__all__ = ["JiraAdapter", "JiraConfig"]

_FIELD_ID = re.compile(r"^(customfield_\d+|[a-z]+)$")


def _refs(m: Any) -> list[str]:
    """Every field reference a mapping uses."""
    out: list[str] = [m.id]
    if isinstance(m, ApprovalMapping):
        out += [r for r in (m.model, m.version, m.subject, m.requested_by, m.kind_field) if r]
    elif isinstance(m, ReviewMapping):
        out += [m.subject, *(r for r in (m.outcome, m.version, m.kind_field, m.attendees)
                             if r)]
    elif isinstance(m, IncidentMapping):
        out += [m.severity, *(r for r in (m.system, m.escalated_to) if r)]
    elif isinstance(m, SubjectMapping):
        out += [m.name, *m.owners.values(), *m.attributes.values()]
    return list(dict.fromkeys(out))


def _history_key(h: RawHistory) -> tuple[Any, int]:
    return parse_jira_time(h.created), int(h.id) if h.id.isdigit() else 0


class JiraAdapter(Adapter):
    """Approvals, reviews, incidents and subjects from Jira Cloud / Data Center."""

    name: ClassVar[str] = "jira"
    Config: ClassVar[type[AdapterConfig]] = JiraConfig
    provides: ClassVar[frozenset[str]] = frozenset({"approval", "review", "incident",
                                                    "subject"})

    def kinds(self) -> frozenset[str]:
        """The kinds of the configured mappings."""
        cfg: JiraConfig = self.config
        return cfg.kinds()

    def collect(self) -> EvidenceBundle:
        """Fetch (or read) every configured mapping completely and map the issues.

        Raises:
            EvidenceUnavailable: a missing credential variable (E320), HTTP 401/403/404
                (E321/E322/E323), retries exhausted (E324/E325), an unexpected response
                (E326), incomplete paging (E327), an incomplete offline snapshot (E328).
            EvidenceError: issues that cannot be mapped (E329), a bad CSV export (E330) or
                identity CSV (E331).
        """
        cfg: JiraConfig = self.config
        ids = Identities(self._identity_map(cfg))
        fetched = self._fetch(cfg)
        diags: list[Diagnostic] = []
        bundle = EvidenceBundle(kinds=self.kinds())
        for _, _, issue, hist, _ in fetched:
            for v in issue.fields.values():
                ids.note_value(v)
            for h in hist:
                if h.author is not None:
                    ids.note(h.author)
        found: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for mname, m, issue, hist, names in fetched:
            counts[mname] = counts.get(mname, 0) + 1
            try:
                ordered = sorted(hist, key=_history_key)
            except ValueError as exc:
                diags.append(Diagnostic(self.ctx.source_name, 0, 0, "E329",
                                        f"{issue.key}: invalid changelog time: {exc}"))
                continue
            view = IssueView(issue, ordered, names, cfg.site, ids, self.ctx.fetched_at)
            found.setdefault(mname, set()).update(r for r in _refs(m) if view.present(r))
            try:
                records = map_issue(view, m)
            except MappingError as exc:
                diags.append(diag(self.ctx.source_name, view, exc))
                continue
            for r in records:
                self._add(bundle, r)
        for mname, m in cfg.mappings().items():
            if not counts.get(mname):
                continue
            for ref in _refs(m):
                if ref not in found.get(mname, set()) and ref not in SYSTEM_FIELDS:
                    known = sorted({n for _, mm, _, _, nm in fetched if mm is m
                                    for n in nm.values()})
                    diags.append(Diagnostic(
                        self.ctx.source_name, 0, 0, "E329",
                        f"{mname}: field {ref!r} is on none of the {counts[mname]} issues",
                        did_you_mean(ref, known) or f"fix the field reference under "
                        f"`{mname}` (a field id like customfield_10042 or its display name), "
                        "or set it to null"))
        if diags:
            raise EvidenceError(sorted(set(diags)))
        return bundle

    @staticmethod
    def _add(bundle: EvidenceBundle, record: Any) -> None:
        if isinstance(record, Approval):
            bundle.approvals.append(record)
        elif isinstance(record, Review):
            bundle.reviews.append(record)
        elif isinstance(record, Incident):
            bundle.incidents.append(record)
        elif isinstance(record, Subject):
            bundle.subjects.append(record)

    def _fetch(self, cfg: JiraConfig
               ) -> list[tuple[str, Any, RawIssue, list[RawHistory], dict[str, str]]]:
        """Every issue of every mapping with its complete changelog."""
        out: list[tuple[str, Any, RawIssue, list[RawHistory], dict[str, str]]] = []
        if cfg.one_search():
            return self._one_search(cfg)
        if cfg.offline is None:
            live = LiveJira(cfg, self.ctx)
            try:
                for mname, m in cfg.mappings().items():
                    res = live.search(mname, m.effective_jql(), _fields(m))
                    out += self._complete(mname, m, res, live.changelog)
            finally:
                live.close()
            return out
        off = cfg.offline
        pages = SavedPages(self.ctx.path(off.pages), self.ctx) if off.pages else None
        csv = CsvJira(cfg, off, self.ctx) if off.csv else None
        for mname, m in cfg.mappings().items():
            if pages is not None and pages.has(mname):
                out += self._complete(mname, m, pages.search(mname), pages.changelog)
            elif csv is not None:
                for issue in csv.issues():
                    project = issue.fields.get("project")
                    pkey = project.get("key") if isinstance(project, dict) else None
                    itype = issue.fields.get("issuetype")
                    if m.selects(pkey, itype if isinstance(itype, str) else None):
                        out.append((mname, m, issue, [], {}))
            else:
                assert pages is not None
                raise EvidenceUnavailable(Diagnostic(
                    self.ctx.display(pages.folder), 0, 0, "E328",
                    f"no saved search pages for {mname!r} (expected search/{mname}/*.json)",
                    "save the search pages of every configured mapping"))
        return out

    def _one_search(self, cfg: JiraConfig
                    ) -> list[tuple[str, Any, RawIssue, list[RawHistory], dict[str, str]]]:
        """One search (live, or replayed from saved bodies); each mapping picks its issues."""
        transport: ReplayTransport | None = None
        if cfg.replay is not None:
            bodies = load_bodies(self.ctx, cfg.replay, "E328")
            transport = ReplayTransport(self.ctx.source_name, bodies, JiraRules(), "E328")
        fields: list[str] = []
        for m in cfg.mappings().values():
            fields += _fields(m) + [r for r in m.where if _FIELD_ID.match(r)]
            if any(not _FIELD_ID.match(r) for r in m.where):
                fields.append("*all")
        wanted = ["*all"] if "*all" in fields else list(dict.fromkeys(fields))
        live = LiveJira(cfg, self.ctx, transport, replay=transport is not None)
        try:
            res = live.search("search", cfg.jql or "ORDER BY key ASC", wanted)
            issues = self._complete("", None, res, live.changelog)
            if transport is not None:
                transport.finish()
        finally:
            live.close()
        out: list[tuple[str, Any, RawIssue, list[RawHistory], dict[str, str]]] = []
        ids = Identities({})
        for mname, m in cfg.mappings().items():
            for _, _, issue, hist, names in issues:
                view = IssueView(issue, hist, names, cfg.site, ids, self.ctx.fetched_at)
                if _selected(m, view):
                    out.append((mname, m, issue, hist, names))
        return out

    @staticmethod
    def _complete(mname: str, m: Any, res: SearchResult, changelog: Any
                  ) -> list[tuple[str, Any, RawIssue, list[RawHistory], dict[str, str]]]:
        out = []
        for issue in res.issues:
            cl = issue.changelog
            if cl is None or cl.startAt > 0 or (cl.total is not None
                                                 and cl.total > len(cl.histories)):
                hist: list[RawHistory] = changelog(issue.key)
            else:
                hist = list(cl.histories)
            out.append((mname, m, issue, hist, res.names))
        return out

    def _identity_map(self, cfg: JiraConfig) -> dict[str, str]:
        return identity_map(self.ctx, cfg.identity)

    #: ``tickets sync`` (checker.tickets): the keys of ``tickets.connection``.
    TrackerConfig: ClassVar[type[AdapterConfig]] = JiraTrackerConfig

    @staticmethod
    def ticket_tracker(conn: JiraTrackerConfig, ctx: SourceContext, tickets: Any) -> JiraTracker:
        """The Jira issue tracker ``aimscheck tickets sync`` files tickets in."""
        return JiraTracker(conn, ctx, tickets, identity_map(ctx, conn.identity))


def identity_map(ctx: SourceContext, identity: IdentityConfig) -> dict[str, str]:
    """AccountId → email from the map and the CSV of an ``identity:`` block (E331)."""
    mapping = dict(identity.map)
    if identity.csv is None:
        return mapping
    path = ctx.path(identity.csv)
    file = ctx.display(path)
    diags: list[Diagnostic] = []
    header: list[str] | None = None
    for line, cells in CsvReader(path, file, diags=diags).rows():
        if header is None:
            header = [c.strip() for c in cells]
            if header[:2] != ["accountId", "email"]:
                diags.append(Diagnostic(file, line, 1, "E331",
                                        f"identity CSV header is {header_preview(header)}",
                                        "the first two columns must be accountId,email"))
                break
            continue
        if len(cells) < 2 or not cells[0].strip() or "@" not in cells[1]:
            diags.append(Diagnostic(file, line, 0, "E331",
                                    "expected an accountId and an email"))
            continue
        mapping.setdefault(cells[0].strip(), cells[1].strip())
    if diags:
        raise EvidenceError([Diagnostic(d.file, d.line, d.col, "E331", d.message, d.hint)
                             for d in diags])
    if path.is_file():
        ctx.record(f"identity/{path.name}", read_bytes(path))
    return mapping


def _selected(m: Any, view: IssueView) -> bool:
    """Whether an issue of the one search belongs to mapping ``m``."""
    project = view.issue.fields.get("project")
    pkey = project.get("key") if isinstance(project, dict) else project
    if not m.selects(pkey if isinstance(pkey, str) else None, view.issue_type()):
        return False
    for ref, want in m.where.items():
        wanted = {w.casefold() for w in ([want] if isinstance(want, str) else want)}
        raw = view.raw(ref)
        values = raw if isinstance(raw, list) else [raw]
        texts = {t.casefold() for v in values if (t := field_text(v))}
        if not texts & wanted:
            return False
    return True


def _fields(m: Any) -> list[str]:
    refs = [r for r in _refs(m) if r != "key"]
    if all(_FIELD_ID.match(r) for r in refs):
        return list(dict.fromkeys([*SYSTEM_FIELDS, *refs]))
    return ["*all"]

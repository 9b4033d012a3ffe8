"""``aimscheck tickets sync``: one tracker ticket per failing finding, for its named owner.

The plan is computed from the scan and the tickets already in the tracker, then (with
``--apply``) performed:

- a failing finding (rule × subject) without a ticket → **create** it, assigned to the
  finding's owner (their tracker account from the identity data), the deputy and any
  escalation target as watchers, labelled with the managing label, the fingerprint label,
  the rule id and ``severity-<s>``;
- a ticket whose content changed (message, evidence, escalation …) → **update** it; whose
  owner changed → **reassign** it with a comment; whose finding was escalated further →
  add the target as a watcher with a comment (**escalate**); a done ticket whose finding
  fails again → **reopen** it;
- an open ticket whose finding passes, is waived, or whose subject disappeared → comment
  why and **close** it (move it to ``done_status``). A subject is only taken as gone when
  every source was read completely: with a source in error nothing is closed (fail closed).

The fingerprint is the SARIF ``partialFingerprints`` value ``RULE:kind/id``; a ticket
carries its hash as the label ``<label>-<hash>`` (found by search) and the issue property
``aimscheck`` holds the fingerprint, a digest of the content and who was made a watcher,
so a second run with the same evidence changes nothing.

An owner without a tracker account, or whom the tracker refuses as assignee, is reported
(the ticket is created unassigned), never a crash. The tracker is provided by an adapter
(``tickets.tracker``, default ``jira``); checker never imports adapters.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from .errors import AimscheckError, ConfigError, redact
from .evidence import Person
from .findings import Finding, ScanResult
from .identity import IdentityIndex
from .iso42001 import ANNEX_A, CLAUSE_LEAVES
from .loopconfig import TicketsConfig

__all__ = [
    "Change",
    "ExistingTicket",
    "Line",
    "Op",
    "Plan",
    "Section",
    "SyncReport",
    "TicketDoc",
    "Tracker",
    "apply_plan",
    "build_tracker",
    "fingerprint",
    "make_plan",
    "render_plan",
    "render_report",
]

PROPERTY = "aimscheck"


@dataclass(frozen=True)
class Line:
    """A line of text, optionally linked."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class Section:
    """A heading with paragraphs or a bullet list."""

    heading: str
    lines: tuple[Line, ...]
    bullets: bool = False


@dataclass(frozen=True)
class TicketDoc:
    """Summary and description of a ticket, rendered by the tracker (ADF, wiki markup)."""

    summary: str
    sections: tuple[Section, ...]

    def as_json(self) -> list[Any]:
        """A stable structure for digests."""
        return [self.summary, [[s.heading, s.bullets, [[ln.text, ln.url] for ln in s.lines]]
                               for s in self.sections]]


@dataclass(frozen=True)
class ExistingTicket:
    """A ticket aimscheck manages, as the tracker has it now."""

    key: str
    fingerprint_label: str
    done: bool
    status: str
    assignee: str | None
    assignee_name: str | None
    meta: dict[str, Any]


class Tracker(Protocol):
    """What ``tickets sync`` needs from an issue tracker (the ``jira`` adapter provides it).

    Every call raises :class:`~checker.errors.EvidenceError` with one diagnostic on failure.
    """

    site: str

    def account_id(self, person: Person) -> str | None:
        """The person's account in the tracker, from the identity data; None if unknown."""

    def assignable(self, account: str) -> bool:
        """Whether the account may be assigned issues in the project."""

    def existing(self) -> list[ExistingTicket]:
        """All tickets carrying the managing label in the project."""

    def create(self, doc: TicketDoc, labels: list[str], assignee: str | None) -> str:
        """Create a ticket; return its key."""

    def edit(self, key: str, doc: TicketDoc, labels: list[str]) -> None:
        """Replace summary, description and labels."""

    def set_meta(self, key: str, meta: dict[str, Any]) -> None:
        """Store the ``aimscheck`` issue property."""

    def assign(self, key: str, account: str | None) -> None:
        """Assign (None: unassign)."""

    def watch(self, key: str, account: str) -> None:
        """Add a watcher."""

    def comment(self, key: str, text: str) -> None:
        """Add a comment."""

    def transition(self, key: str, status: str) -> None:
        """Move the ticket to the named status."""

    def close(self) -> None:
        """Release connections."""


def fingerprint(f: Finding) -> str:
    """SARIF's ``partialFingerprints`` value: ``RULE:kind/id``."""
    return f"{f.rule_id}:{f.target}"


def fp_hash(fp: str) -> str:
    """16 hex digits of the fingerprint's SHA-256 (labels cannot hold ``:`` and ``/``)."""
    return hashlib.sha256(fp.encode("utf-8")).hexdigest()[:16]


def _who(name: str | None, email: str | None) -> str:
    if not name:
        return email or "(nobody)"
    return f"{name} <{email}>" if email else name


def _refs(f: Finding) -> tuple[Line, ...]:
    out = []
    for ref in f.references.get("iso42001", []):
        title = CLAUSE_LEAVES.get(ref) or ANNEX_A.get(ref) or ""
        kind = "Annex A control" if ref.startswith("A.") else "clause"
        out.append(Line(f"ISO/IEC 42001 {kind} {ref}" + (f" — {title}" if title else "")))
    for fw, ids in sorted(f.references.items()):
        if fw != "iso42001":
            out.extend(Line(f"{fw} {i}") for i in ids)
    return tuple(out)


def ticket_doc(f: Finding, links: dict[str, str]) -> TicketDoc:
    """The ticket's text: message, owner, evidence, remediation, ISO/IEC 42001 references.

    Nothing here depends on the as-of, so an unchanged finding gives an unchanged ticket.
    """
    summary = f"[{f.rule_id}] {f.target_name or f.target_id}: {f.title}"
    if len(summary) > 250:
        summary = summary[:249] + "…"
    finding = [Line(f.message),
               Line(f"Status: {f.status.upper()} · severity {f.severity} · rule {f.rule_id} — "
                    f"{f.title}"),
               Line(f"Subject: {f.target} ({f.target_name})")]
    people = [Line(f"Owner (must act): {_who(f.owner.name, f.owner.email)} — via {f.owner.via}")]
    if f.deputy is not None:
        people.append(Line(f"Deputy: {_who(f.deputy.name, f.deputy.email)}"))
    # no "failing since" here: without a recorded history it would be each run's as-of, and
    # every sync would rewrite the ticket; the escalation comment carries the date
    if f.escalated_to is not None:
        people.append(Line(f"Escalated to: {_who(f.escalated_to.name, f.escalated_to.email)} "
                           f"({f.escalated_to.via})"))
    if f.waiver is not None and f.waiver.state == "invalid":
        people.append(Line(f"Waiver {f.waiver.id} does not hold: {f.waiver.problem}"))
    sections = [Section("Finding", tuple(finding)), Section("Who", tuple(people))]
    if f.evidence:
        sections.append(Section("Evidence", tuple(Line(e, links.get(e)) for e in f.evidence),
                                bullets=True))
    if f.remediation:
        sections.append(Section("Remediation", (Line(f.remediation),)))
    refs = _refs(f)
    if refs:
        sections.append(Section("ISO/IEC 42001", refs, bullets=True))
    sections.append(Section("About this ticket", (Line(
        f"Managed by aimscheck (fingerprint {fingerprint(f)}). It is updated by each "
        "'aimscheck tickets sync' and closed when the finding passes, is waived or its "
        "subject is gone; keep its labels."),)))
    return TicketDoc(summary, tuple(sections))


def digest(doc: TicketDoc, labels: list[str]) -> str:
    """SHA-256 of the ticket content (summary, description, labels)."""
    text = json.dumps([doc.as_json(), sorted(labels)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Op:
    """One tracker call of a change."""

    verb: str  # create, edit, meta, assign, watch, comment, transition
    say: str
    args: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class Change:
    """Everything to do to one ticket (or nothing: ``unchanged``)."""

    action: str  # create, update, reassign, escalate, reopen, close, unchanged
    fp: str
    rule_id: str
    target: str
    who: str
    key: str | None
    reason: str
    ops: list[Op] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Plan:
    """The changes, the people who cannot be assigned, and notes."""

    changes: list[Change]
    unassignable: dict[str, str]
    notes: list[str]
    incomplete: bool


def _ticketed(f: Finding, cfg: TicketsConfig) -> bool:
    return (f.status in cfg.statuses
            and f.severity.rank >= cfg.min_severity.rank)


class _Accounts:
    """Person → tracker account, with the assignability check cached."""

    def __init__(self, tracker: Tracker, identity: IdentityIndex) -> None:
        self.tracker = tracker
        self.identity = identity
        self.unassignable: dict[str, str] = {}
        self._ok: dict[str, bool] = {}

    def person(self, person_id: str, email: str | None) -> Person | None:
        return self.identity.by_id(person_id) or self.identity.resolve(email)

    def account(self, person_id: str, email: str | None, name: str) -> str | None:
        """The account, or None (and the reason recorded) when they cannot be assigned."""
        p = self.person(person_id, email)
        who = _who(name, email)
        if p is None:
            self.unassignable[who] = "not found in the people evidence"
            return None
        acc = self.tracker.account_id(p)
        if acc is None:
            self.unassignable[who] = (f"no account in {self.tracker.site}: add their account "
                                      "id as a handle in HR or to the tracker's identity map")
            return None
        if acc not in self._ok:
            self._ok[acc] = self.tracker.assignable(acc)
        if not self._ok[acc]:
            self.unassignable[who] = (f"account {acc} may not be assigned issues in the "
                                      "project (inactive, or lacks the Assignable User "
                                      "permission)")
            return None
        return acc

    def watcher(self, person_id: str, email: str | None) -> str | None:
        p = self.person(person_id, email)
        return self.tracker.account_id(p) if p is not None else None


def _labels(f: Finding, cfg: TicketsConfig) -> list[str]:
    return [cfg.label, f"{cfg.label}-{fp_hash(fingerprint(f))}", f.rule_id,
            f"severity-{f.severity}"]


def _close_reason(f: Finding | None, target: str, as_of: str, cfg: TicketsConfig) -> str:
    day = as_of[:10]
    if f is None:
        return (f"The subject {target} is no longer in the evidence (or its rule no longer "
                f"applies) as of {day}; closed by aimscheck.")
    if f.status == "waived" and f.waiver is not None:
        w = f.waiver
        return (f"Waived as of {day} by {w.id}, approved by {w.approved_by} until "
                f"{w.expiry}: {w.reason} — closed by aimscheck.")
    if f.status in ("pass", "warn"):
        return f"The finding passes as of {day}: {f.message} — closed by aimscheck."
    if f.status == "not_applicable":
        return f"The rule no longer applies to {target} as of {day}; closed by aimscheck."
    return (f"The finding ({f.status}, {f.severity}) is below what this project tickets "
            f"(statuses {', '.join(cfg.statuses)}, from severity {cfg.min_severity}) as of "
            f"{day}; closed by aimscheck.")


def make_plan(result: ScanResult, identity: IdentityIndex, tracker: Tracker,
              cfg: TicketsConfig) -> Plan:
    """Compare the scan with the tracker's tickets; nothing is changed here."""
    accounts = _Accounts(tracker, identity)
    notes: list[str] = []
    incomplete = any(s.status == "error" for s in result.sources)
    by_label: dict[str, list[ExistingTicket]] = defaultdict(list)
    for t in tracker.existing():
        by_label[t.fingerprint_label].append(t)
    tickets: dict[str, ExistingTicket] = {}
    for label, ts in sorted(by_label.items()):
        ordered = sorted(ts, key=lambda t: (t.done, _key_order(t.key)))
        tickets[label] = ordered[0]
        for dup in ordered[1:]:
            notes.append(f"{dup.key} has the same fingerprint as {ordered[0].key} "
                         f"({dup.meta.get('fingerprint', label)}); only {ordered[0].key} is "
                         "kept up to date — close the duplicate by hand")
    findings_by_fp: dict[str, Finding] = {}
    for f in result.all_findings():
        findings_by_fp.setdefault(f"{cfg.label}-{fp_hash(fingerprint(f))}", f)
    changes: list[Change] = []
    for f in sorted(result.findings, key=lambda f: (f.rule_id, f.target)):
        label = f"{cfg.label}-{fp_hash(fingerprint(f))}"
        if findings_by_fp.get(label) is not f or not _ticketed(f, cfg):
            continue
        changes.append(_for_failing(f, tickets.get(label), accounts, cfg, result))
    for label, t in sorted(tickets.items()):
        found = findings_by_fp.get(label)
        if t.done or (found is not None and _ticketed(found, cfg)):
            continue
        fp = str(t.meta.get("fingerprint") or label)
        rule, _, target = fp.partition(":")
        who = str(t.meta.get("owner_name") or t.assignee_name or "(unassigned)")
        if found is None and incomplete:
            notes.append(f"{t.key} ({fp}) kept open: its finding is missing, but a source "
                         "could not be read, so the subject may not be gone")
            changes.append(Change("unchanged", fp, rule, target, who, t.key,
                                  "evidence incomplete"))
            continue
        reason = _close_reason(found, target, result.as_of, cfg)
        changes.append(Change("close", fp, rule, target, who, t.key, reason, [
            Op("comment", "comment why", {"text": reason}),
            Op("transition", f"move to {cfg.done_status}", {"status": cfg.done_status})]))
    return Plan(changes, dict(sorted(accounts.unassignable.items())), notes, incomplete)


def _key_order(key: str) -> tuple[str, int]:
    proj, _, num = key.rpartition("-")
    return (proj, int(num)) if num.isdigit() else (key, 0)


def _for_failing(f: Finding, t: ExistingTicket | None, accounts: _Accounts,
                 cfg: TicketsConfig, result: ScanResult) -> Change:
    fp = fingerprint(f)
    who = _who(f.owner.name, f.owner.email)
    doc = ticket_doc(f, result.links)
    labels = _labels(f, cfg)
    dig = digest(doc, labels)
    assignee = accounts.account(f.owner.id, f.owner.email, f.owner.name)
    watchers: dict[str, str] = {}
    if f.deputy is not None:
        acc = accounts.watcher(f.deputy.id, f.deputy.email)
        if acc:
            watchers[acc] = f"deputy {f.deputy.name}"
    esc: tuple[str, str] | None = None
    if f.escalated_to is not None:
        acc = accounts.watcher(f.escalated_to.id, f.escalated_to.email)
        if acc:
            esc = (acc, _who(f.escalated_to.name, f.escalated_to.email))
            watchers[acc] = f"escalation target {f.escalated_to.name}"
        else:
            accounts.unassignable.setdefault(
                _who(f.escalated_to.name, f.escalated_to.email),
                "escalation target without a tracker account: cannot be added as watcher")
    meta = {"fingerprint": fp, "digest": dig, "owner": f.owner.id, "owner_name": who,
            "watchers": sorted(watchers), "escalated_to": f.escalated_to.id
            if f.escalated_to else None}
    if t is None:
        ops = [Op("create", f"create in {cfg.project} ({cfg.issue_type})",
                  {"doc": doc, "labels": labels, "assignee": assignee}),
               Op("meta", "store fingerprint property", {"meta": meta})]
        ops += [Op("watch", f"add watcher: {why}", {"account": a})
                for a, why in sorted(watchers.items())]
        if esc is not None:
            ops.append(Op("comment", f"comment: escalated to {esc[1]}",
                          {"text": _esc_text(f, esc[1])}))
        since = f" (failing since {f.failing_since[:10]})" if f.failing_since else ""
        return Change("create", fp, f.rule_id, f.target, who, None,
                      f"{f.status}{since}: {f.message}", ops)
    ops = []
    actions: list[str] = []
    if t.done:
        actions.append("reopen")
        ops.append(Op("transition", f"reopen: move to {cfg.reopen_status}",
                      {"status": cfg.reopen_status}))
        ops.append(Op("comment", "comment: failing again",
                      {"text": f"The finding fails again as of {result.as_of[:10]}: "
                               f"{f.message} — reopened by aimscheck."}))
    if t.meta.get("digest") != dig:
        actions.append("update")
        ops.append(Op("edit", "update summary, description and labels",
                      {"doc": doc, "labels": labels}))
    if assignee is not None and t.assignee != assignee:
        actions.append("reassign")
        before = t.assignee_name or t.assignee or "nobody"
        ops.append(Op("assign", f"reassign to {who}", {"account": assignee}))
        ops.append(Op("comment", "comment: new owner", {
            "text": f"Reassigned by aimscheck from {before} to {who}, the finding's owner as "
                    f"of {result.as_of[:10]} (via {f.owner.via})."}))
    known = set(t.meta.get("watchers") or [])
    for a, why in sorted(watchers.items()):
        if a not in known:
            ops.append(Op("watch", f"add watcher: {why}", {"account": a}))
    esc_id = f.escalated_to.id if f.escalated_to is not None else None
    if esc is not None and t.meta.get("escalated_to") != esc_id:
        actions.append("escalate")
        ops.append(Op("comment", f"comment: escalated to {esc[1]}",
                      {"text": _esc_text(f, esc[1])}))
    if not ops:
        return Change("unchanged", fp, f.rule_id, f.target, who, t.key, "up to date")
    if not actions:
        actions.append("update")
    ops.append(Op("meta", "store fingerprint property", {"meta": meta}))
    return Change("+".join(actions), fp, f.rule_id, f.target, who, t.key, f.message, ops)


def _esc_text(f: Finding, target: str) -> str:
    since = (f.failing_since or "")[:10]
    via = f.escalated_to.via if f.escalated_to else ""
    return (f"Escalated by aimscheck to {target}: this finding has failed since {since} "
            f"without a fix ({via}). Owner: {_who(f.owner.name, f.owner.email)}.")


@dataclass
class SyncReport:
    """What ``--apply`` did."""

    changed: list[Change]
    failed: list[Change]
    not_attempted: list[Change]

    @property
    def ok(self) -> bool:
        """True when every change was made."""
        return not self.failed and not self.not_attempted


def apply_plan(plan: Plan, tracker: Tracker,
               progress: Callable[[Change], None] | None = None) -> SyncReport:
    """Perform the changes in order; stop at the first failure and say what was done."""
    todo = [c for c in plan.changes if c.action != "unchanged"]
    changed: list[Change] = []
    for i, c in enumerate(todo):
        try:
            for op in c.ops:
                _do(tracker, c, op)
                c.done.append(op.say)
        except AimscheckError as exc:
            c.error = "; ".join(redact(d.one_line()) for d in exc.diagnostics)
            if c.done:
                changed.append(c)  # partly: the report lists its done and missing steps
            return SyncReport(changed, [c], todo[i + 1:])
        changed.append(c)
        if progress is not None:
            progress(c)
    return SyncReport(changed, [], [])


def _do(tracker: Tracker, c: Change, op: Op) -> None:
    a = op.args
    if op.verb == "create":
        c.key = tracker.create(a["doc"], a["labels"], a["assignee"])
        return
    key = c.key
    if key is None:  # pragma: no cover - create comes first
        raise AssertionError("no ticket key")
    if op.verb == "edit":
        tracker.edit(key, a["doc"], a["labels"])
    elif op.verb == "meta":
        tracker.set_meta(key, a["meta"])
    elif op.verb == "assign":
        tracker.assign(key, a["account"])
    elif op.verb == "watch":
        tracker.watch(key, a["account"])
    elif op.verb == "comment":
        tracker.comment(key, a["text"])
    elif op.verb == "transition":
        tracker.transition(key, a["status"])
    else:  # pragma: no cover
        raise AssertionError(op.verb)


# -- rendering ----------------------------------------------------------------------------


def _line(c: Change) -> str:
    key = c.key or "(new)"
    return f"    {c.action:10} {key:10} {c.rule_id} {c.target}: {c.reason}"


def render_plan(plan: Plan, result: ScanResult, site: str, *, applied: bool) -> str:
    """The plan, grouped by the person who must act."""
    out = [f"aimscheck tickets sync — {result.organisation} — as of {result.as_of} — {site}"]
    if not applied:
        out.append("dry run: nothing is changed; run with --apply to perform this plan")
    out.append("")
    by_who: dict[str, list[Change]] = defaultdict(list)
    for c in plan.changes:
        if c.action != "unchanged":
            by_who[c.who].append(c)
    for who in sorted(by_who):
        out.append(f"  {who}")
        for c in by_who[who]:
            out.append(_line(c))
            out.append("               " + "; ".join(o.say for o in c.ops))
        out.append("")
    if plan.unassignable:
        out.append("Cannot be assigned (tickets stay unassigned; fix the identity data):")
        out.extend(f"  {who}: {why}" for who, why in plan.unassignable.items())
        out.append("")
    for n in plan.notes:
        out.append(f"note: {n}")
    counts: dict[str, int] = defaultdict(int)
    for c in plan.changes:
        for part in c.action.split("+"):
            counts[part] += 1
    out.append("plan: " + ", ".join(f"{counts[k]} {k}" for k in
                                    ("create", "update", "reassign", "escalate", "reopen",
                                     "close", "unchanged")))
    return "\n".join(out) + "\n"


def render_report(rep: SyncReport) -> str:
    """Exactly which tickets were and were not changed."""
    out = [f"applied: {len(rep.changed)} ticket(s) changed"
           + (f", {len(rep.failed)} failed, {len(rep.not_attempted)} not attempted"
              if not rep.ok else "")]
    for c in rep.changed:
        partial = " (PARTLY: stopped by the failure below)" if c.error else ""
        out.append(f"  changed      {c.key or '(new)':10} {c.action:10} {c.rule_id} "
                   f"{c.target}{partial}: " + "; ".join(c.done))
    for c in rep.failed:
        missing = [o.say for o in c.ops if o.say not in c.done]
        out.append(f"  FAILED       {c.key or '(not created)':10} {c.action:10} {c.rule_id} "
                   f"{c.target}: not done: {'; '.join(missing)} — {c.error}")
    for c in rep.not_attempted:
        out.append(f"  not changed  {c.key or '(not created)':10} {c.action:10} {c.rule_id} "
                   f"{c.target}: not attempted after the failure")
    if not rep.ok:
        out.append("run 'aimscheck tickets sync --apply' again when the tracker is back: "
                   "what was done is found by its fingerprint and not repeated")
    return "\n".join(out) + "\n"


# -- the tracker ----------------------------------------------------------------------------


def build_tracker(cfg: TicketsConfig, *, located: Any, base_dir: Path, as_of: datetime
                  ) -> Tracker:
    """The configured tracker, from its adapter (found by entry point, not imported).

    Raises:
        ConfigError: unknown tracker, or invalid ``tickets.connection`` keys (file:line).
    """
    from pydantic import ValidationError

    from .adapters import SourceContext, adapter_class, adapter_names
    from .config import pydantic_diagnostics
    from .registry import UnknownName

    try:
        cls: Any = adapter_class(cfg.tracker)
    except UnknownName as exc:
        raise ConfigError(located.diag(("tickets", "tracker"), "E600",
                                       f"unknown tracker {cfg.tracker!r}",
                                       exc.hint or "available: " + ", ".join(
                                           adapter_names()))) from None
    model = getattr(cls, "TrackerConfig", None)
    if model is None:
        raise ConfigError(located.diag(("tickets", "tracker"), "E600",
                                       f"adapter {cfg.tracker!r} cannot file tickets",
                                       "use tracker: jira"))
    try:
        conn = model.model_validate(cfg.connection)
    except ValidationError as exc:
        raise ConfigError(pydantic_diagnostics(exc, located, ("tickets", "connection"))
                          ) from None
    ctx = SourceContext(base_dir, "tickets", as_of, as_of)
    tracker: Tracker = cls.ticket_tracker(conn, ctx, cfg)
    return tracker



def report_json(plan: Plan, result: ScanResult, site: str, *, applied: bool,
                rep: SyncReport | None) -> str:
    """The plan, and with ``--apply`` the outcome of each ticket, as JSON.

    An audit trail of when each owner's ticket was created, updated, escalated or closed,
    and why.
    """
    failed = {id(c) for c in rep.failed} if rep else set()
    skipped = {id(c) for c in rep.not_attempted} if rep else set()

    def outcome(c: Change) -> str:
        if c.action == "unchanged":
            return "unchanged"
        if not applied:
            return "planned"
        if id(c) in failed:
            return "failed"
        if id(c) in skipped:
            return "not_attempted"
        return "done"

    doc = {
        "organisation": result.organisation, "as_of": result.as_of, "tracker": site,
        "applied": applied, "evidence_incomplete": plan.incomplete,
        "changes": [{"action": c.action, "outcome": outcome(c), "key": c.key,
                     "fingerprint": c.fp, "rule_id": c.rule_id, "target": c.target,
                     "owner": c.who, "reason": c.reason, "steps": [o.say for o in c.ops],
                     "done": list(c.done), "error": c.error} for c in plan.changes],
        "cannot_assign": plan.unassignable, "notes": plan.notes}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

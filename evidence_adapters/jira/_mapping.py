"""Issue → evidence records: approvals, reviews, incidents and subjects from the changelog.

The changelog decides who did what when: the author and time of the history entry that moved
an approval ticket into its approved status are the approver and the decision time; review
dates, acknowledgement and escalation times likewise. Ownership history is rebuilt from
assignee and owner-field changes (a field cleared and set again later leaves a gap: a span
with no owner). What an event was about is read *at its instant*: an approval's model,
version, subject, kind and requester, a review's subject and version, the person an
incident was escalated to — a field edited afterwards does not move an old decision onto
the new value (``text_at``/``user_at`` undo the later changes from the changelog).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from checker.errors import Diagnostic
from checker.evidence import Approval, Incident, OwnershipSpan, Provenance, Review, Subject
from checker.identity import normalise_handle

from ._config import (
    ApprovalMapping,
    IncidentMapping,
    ReviewMapping,
    SubjectMapping,
    Transition,
)
from ._model import RawHistory, RawIssue, RawItem, RawUser, parse_jira_time

__all__ = ["Identities", "IssueView", "MappingError", "field_text", "map_issue"]


class MappingError(Exception):
    """An issue that cannot become evidence; carries the message and hint."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class Identities:
    """Jira account → person handle: the email when known, else the accountId.

    Emails come from user objects in the payloads (when the user's privacy settings show
    them) and from the configured identity map; changelog items carry only account ids.
    """

    def __init__(self, mapping: dict[str, str]) -> None:
        self._configured = {normalise_handle(k): v.strip() for k, v in mapping.items()}
        self._seen: dict[str, str] = {}

    def note(self, user: RawUser) -> None:
        """Remember a user's email when Jira shows it."""
        if user.account and user.emailAddress:
            self._seen.setdefault(normalise_handle(user.account), user.emailAddress.strip())

    def note_value(self, value: Any) -> None:
        """Remember every user object found in a field value."""
        if isinstance(value, list):
            for v in value:
                self.note_value(v)
        elif isinstance(value, dict) and ("accountId" in value or "emailAddress" in value):
            self.note(RawUser.model_validate(value))

    def of_account(self, account: str | None) -> str | None:
        """The handle of an account id (or Data Center username)."""
        if not account:
            return None
        k = normalise_handle(account)
        return self._seen.get(k) or self._configured.get(k) or account.strip()

    def of_user(self, user: RawUser | None) -> str | None:
        """The handle of a user object."""
        if user is None:
            return None
        if user.emailAddress:
            return user.emailAddress.strip()
        return self.of_account(user.account)


@dataclass
class IssueView:
    """One issue with its complete changelog (oldest first) and field-name resolution."""

    issue: RawIssue
    histories: list[RawHistory]
    names: dict[str, str]
    site: str
    ids: Identities
    fetched_at: datetime

    @property
    def key(self) -> str:
        """The issue key."""
        return self.issue.key

    def provenance(self) -> Provenance:
        """Locator = issue key; url = the browse URL."""
        return Provenance(adapter="jira", locator=self.key, url=f"{self.site}/browse/{self.key}",
                          fetched_at=self.fetched_at)

    def field_id(self, ref: str) -> str:
        """The field id a reference names (an id, or a display name via ``names``)."""
        if ref in self.issue.fields or ref == "key":
            return ref
        low = ref.casefold()
        for fid, display in self.names.items():
            if display.casefold() == low:
                return fid
        return ref

    def present(self, ref: str) -> bool:
        """Whether the field exists on this issue (even when null)."""
        fid = self.field_id(ref)
        return ref == "key" or fid in self.issue.fields or fid in self.names

    def raw(self, ref: str) -> Any:
        """The raw value of a field (None when absent or null)."""
        if ref == "key":
            return self.key
        return self.issue.fields.get(self.field_id(ref))

    def text(self, ref: str) -> str | None:
        """A field value as text: select → value, object → name, list → comma-joined."""
        return _text(self.raw(ref))

    def user(self, ref: str) -> str | None:
        """A user field as a person handle."""
        v = self.raw(ref)
        if isinstance(v, dict):
            return self.ids.of_user(RawUser.model_validate(v))
        if isinstance(v, str):
            return self.ids.of_account(v)
        return None

    def users(self, ref: str) -> tuple[str, ...]:
        """A multi-user field as person handles."""
        v = self.raw(ref)
        items = v if isinstance(v, list) else [v] if v else []
        out = []
        for u in items:
            h = (self.ids.of_user(RawUser.model_validate(u)) if isinstance(u, dict)
                 else self.ids.of_account(str(u)))
            if h:
                out.append(h)
        return tuple(out)

    def time(self, ref: str) -> datetime | None:
        """A date-time field in UTC."""
        v = self.raw(ref)
        if not v:
            return None
        try:
            return parse_jira_time(str(v))
        except ValueError:
            raise MappingError(f"field {ref!r} value {v!r} is not a Jira timestamp") from None

    def created(self) -> datetime:
        """When the issue was created."""
        t = self.time("created")
        if t is None:
            raise MappingError("the issue has no `created` field")
        return t

    def status(self) -> tuple[str, str]:
        """The current status (name, id)."""
        v = self.issue.fields.get("status")
        if isinstance(v, dict):
            return str(v.get("name") or ""), str(v.get("id") or "")
        return str(v or ""), ""

    def issue_type(self) -> str:
        """The issue type name."""
        return _text(self.issue.fields.get("issuetype")) or ""

    def in_status(self, tr: Transition) -> bool:
        """Whether the issue currently sits in one of the transition's target statuses."""
        name, sid = self.status()
        return _match(tr.to, name, sid)

    def transitions(self, tr: Transition) -> list[tuple[RawHistory, RawItem, datetime]]:
        """Every status change matching ``tr``, oldest first."""
        out = []
        for h in self.histories:
            for item in h.items:
                if (item.fieldId or item.field).casefold() != "status" and \
                        item.field.casefold() != "status":
                    continue
                if not _match(tr.to, item.toString, item.to):
                    continue
                if tr.from_ and not _match(tr.from_, item.fromString, item.from_):
                    continue
                if tr.assignee_changed and not any(
                        (i.fieldId or i.field).casefold() == "assignee" for i in h.items):
                    continue
                out.append((h, item, self._when(h)))
        return out

    def _when(self, h: RawHistory) -> datetime:
        try:
            return parse_jira_time(h.created)
        except ValueError:
            raise MappingError(f"changelog entry {h.id} has an invalid time {h.created!r}"
                               ) from None

    def author(self, h: RawHistory) -> str:
        """The handle of a history entry's author (an error when Jira hides it)."""
        who = self.ids.of_user(h.author)
        if not who:
            raise MappingError(f"changelog entry {h.id} has no author; cannot tell who made "
                               "the change")
        return who

    def changes(self, ref: str) -> list[tuple[datetime, RawItem]]:
        """Every change of the field ``ref`` (id or display name), oldest first."""
        fid = self.field_id(ref)
        out: list[tuple[datetime, RawItem]] = []
        for h in self.histories:
            for item in h.items:
                if item.fieldId == fid or item.field == fid or (
                        item.field.casefold() == ref.casefold()):
                    out.append((self._when(h), item))
        return out

    def text_at(self, ref: str, when: datetime) -> str | None:
        """A single-value field's text at an instant, from the changelog.

        The current value with every later change undone: the ``fromString`` of the first
        change after ``when``.
        A change in the same history entry as the event counts as made by then.
        """
        later = [item for t, item in self.changes(ref) if t > when]
        if not later:
            return self.text(ref)
        return later[0].fromString or None

    def user_at(self, ref: str, when: datetime) -> str | None:
        """Who a user field (assignee, a user picker) named at an instant (see ``text_at``)."""
        later = [item for t, item in self.changes(ref) if t > when]
        if not later:
            return self.user(ref)
        return self.ids.of_account(later[0].from_)

    def spans(self, role: str, ref: str) -> list[OwnershipSpan]:
        """Who held ``role`` (the user field ``ref``) from when to when."""
        changes: list[tuple[datetime, str | None, str | None]] = [
            (when, item.from_, item.to) for when, item in self.changes(ref)]
        current = self.user(ref)
        start = self.created()
        if not changes:
            return [OwnershipSpan(role=role, owner=current, start=start, source=self.key)
                    ] if current else []
        spans: list[OwnershipSpan] = []
        holder = self.ids.of_account(changes[0][1])
        since = start
        for when, _old, new in changes:
            if holder is not None or spans:
                spans.append(OwnershipSpan(role=role, owner=holder, start=since, end=when,
                                           source=self.key))
            holder, since = self.ids.of_account(new), when
        if holder is not None or spans:
            spans.append(OwnershipSpan(role=role, owner=holder, start=since, source=self.key))
        return spans


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        for k in ("value", "name", "displayName", "key"):
            if v.get(k):
                return str(v[k]).strip()
        return None
    if isinstance(v, list):
        parts = [t for t in (_text(x) for x in v) if t]
        return ", ".join(parts) or None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v).strip()
    return s or None


def rule_ids(text: str | None) -> tuple[str, ...]:
    """Rule ids from a field's text (``AIMS-TRN-001, AIMS-OWN-003`` or labels)."""
    return tuple(t for t in re.split(r"[\s,;]+", text or "") if t)


def field_text(v: Any) -> str | None:
    """A field value as text (select → value, object → name, list → comma-joined)."""
    return _text(v)


def _match(names: tuple[str, ...], name: str | None, sid: str | None) -> bool:
    want = {n.casefold() for n in names}
    return bool((name and name.casefold() in want) or (sid and sid in names))


def _need(view: IssueView, ref: str, what: str) -> str:
    v = view.text(ref)
    if not v:
        raise MappingError(f"{what} field {ref!r} is empty",
                           f"fill it in on the issue, or map {what} to another field")
    return v


def approvals(view: IssueView, m: ApprovalMapping) -> list[Approval]:
    """Every decision on an approval ticket: each transition into ``approved`` or ``rejected``.

    A decision is an event — its author at its instant — and stays one whatever the issue
    did later (moved on to Released, Done, Closed). Only a later transition the mapping names
    in ``voids`` withdraws the approvals before it. An issue sitting in the approved or
    rejected status with no such transition in its changelog is an error: who decided is
    unknown.
    """
    events: list[tuple[datetime, int, str, RawHistory]] = []
    for decision, tr in (("approved", m.approved), ("rejected", m.rejected)):
        if tr is None:
            continue
        for h, _, when in view.transitions(tr):
            events.append((when, _hid(h), decision, h))
    voids = [(when, _hid(h)) for h, _, when in view.transitions(m.voids)] if m.voids else []
    events.sort(key=lambda e: (e[0], e[1]))
    if not events:
        for decision, tr in (("approved", m.approved), ("rejected", m.rejected)):
            if tr is not None and view.in_status(tr):
                raise MappingError(
                    f"the issue is {decision} (status {view.status()[0]!r}) but its changelog "
                    "has no transition into that status, so who decided and when is unknown",
                    "check the `approved`/`rejected` transitions")
        return []
    kept = [e for e in events if not any(v > (e[0], e[1]) for v in voids)]
    if not kept:
        return []
    rid = view.text(m.id) or view.key
    out = []
    for when, _, decision, h in kept:
        # What was decided is what the ticket said at that instant: a Version (or model,
        # subject, requester) edited afterwards does not move an old approval to it.
        model = view.text_at(m.model, when) if m.model else None
        version = view.text_at(m.version, when) if m.version else None
        subject = view.text_at(m.subject, when) if m.subject else None
        if not subject:
            if not (model and version):
                raise MappingError("the approval names no subject, and no model and version",
                                   "fill in the subject field, or the model and version "
                                   "fields")
            subject = f"{model}:{version}"
        if m.kind_field:
            kind = view.text_at(m.kind_field, when) or _need(view, m.kind_field,
                                                             "approval kind")
        else:
            kind = m.kind
        requested_by = view.user_at(m.requested_by, when) if m.requested_by else None
        out.append(Approval(provenance=view.provenance(),
                            id=rid if len(kept) == 1 else f"{rid}#{h.id}",
                            subject=subject, model=model, version=version, decision=decision,
                            approver=view.author(h), decided_at=when,
                            requested_by=requested_by, kind=kind,
                            rules=rule_ids(view.text_at(m.rules, when) if m.rules else None)))
    return out


def _hid(h: RawHistory) -> int:
    return int(h.id) if h.id.isdigit() else 0


def review(view: IssueView, m: ReviewMapping) -> Review | None:
    """A review ticket's review, or None while it is not reviewed yet."""
    itype = view.issue_type()
    kind: str | None
    if m.kind_field:
        kind = _need(view, m.kind_field, "review kind")
    else:
        kind = {k.casefold(): v for k, v in m.kind_by_issue_type.items()}.get(itype.casefold())
    if kind is None:
        raise MappingError(f"issue type {itype!r} has no review kind",
                           "add it to `kind_by_issue_type`, or set `kind_field`")
    moves = view.transitions(m.reviewed)
    if not moves:
        return None
    h, _, when = moves[-1]
    approver = approved_at = None
    if m.approved is not None:
        signed = view.transitions(m.approved)
        if signed:
            approver, approved_at = view.author(signed[-1][0]), signed[-1][2]
    return Review(provenance=view.provenance(), id=view.text(m.id) or view.key,
                  subject=view.text_at(m.subject, when) or _need(view, m.subject, "subject"),
                  kind=kind, reviewer=view.author(h), reviewed_at=when,
                  outcome=view.text(m.outcome) if m.outcome else None,
                  approver=approver, approved_at=approved_at,
                  version=view.text_at(m.version, when) if m.version else None,
                  attendees=view.users(m.attendees) if m.attendees else (),
                  rules=rule_ids(view.text(m.rules) if m.rules else None))


def incident(view: IssueView, m: IncidentMapping) -> Incident:
    """An incident with its handling times from the changelog."""
    raw_sev = _need(view, m.severity, "severity")
    sev = {k.casefold(): v for k, v in m.severity_values.items()}.get(raw_sev.casefold())
    if sev is None:
        raise MappingError(f"severity {raw_sev!r} is not mapped; known: "
                           f"{', '.join(sorted(m.severity_values))}",
                           f"add {raw_sev!r} to `severity_values`")

    def first(tr: Transition | None) -> tuple[RawHistory, datetime] | None:
        moves = view.transitions(tr) if tr is not None else []
        return (moves[0][0], moves[0][2]) if moves else None

    ack, esc, res, clo = (first(m.acknowledged), first(m.escalated), first(m.resolved),
                          first(m.closed))
    cap = view.transitions(m.corrective_action) if m.corrective_action else []
    return Incident(
        provenance=view.provenance(), id=view.text(m.id) or view.key,
        title=view.text("summary") or "", system=view.text(m.system) if m.system else None,
        severity=sev, opened_at=view.created(), assignee=view.user("assignee"),
        assignee_history=tuple(view.spans("assignee", "assignee")),
        acknowledged_at=ack[1] if ack else None,
        escalated_to=(view.user_at(m.escalated_to, esc[1]) if esc else view.user(m.escalated_to))
        if m.escalated_to else None,
        escalated_at=esc[1] if esc else None,
        resolved_at=res[1] if res else view.time("resolutiondate"),
        closed_at=clo[1] if clo else None,
        corrective_action_by=view.author(cap[-1][0]) if cap else None,
        corrective_action_at=cap[-1][2] if cap else None,
    )


def subject(view: IssueView, m: SubjectMapping) -> tuple[Subject, list[Review]]:
    """A subject with owners and ownership history, plus reviews from its transitions."""
    sid = _need(view, m.id, "id")
    owners = {role: who for role, ref in m.owners.items() if (who := view.user(ref))}
    history = tuple(s for role, ref in m.owners.items() for s in view.spans(role, ref))
    attrs = {a: v for a, ref in m.attributes.items() if (v := view.text(ref)) is not None}
    subj = Subject(provenance=view.provenance(), kind=m.subject_kind, id=sid,
                   name=view.text(m.name) or sid, owners=owners, history=history,
                   attributes=attrs, created_at=view.time("created"))
    reviews = []
    if m.reviewed is not None and m.review_kind:
        for h, item, when in view.transitions(m.reviewed):
            reviews.append(Review(provenance=view.provenance(), id=f"{view.key}#{h.id}",
                                  subject=sid, kind=m.review_kind, reviewer=view.author(h),
                                  reviewed_at=when, outcome=item.toString))
    return subj, reviews


def map_issue(view: IssueView, m: Any) -> list[Any]:
    """The records one issue yields under mapping ``m``."""
    if isinstance(m, ApprovalMapping):
        return list(approvals(view, m))
    if isinstance(m, ReviewMapping):
        r = review(view, m)
        return [r] if r else []
    if isinstance(m, IncidentMapping):
        return [incident(view, m)]
    if isinstance(m, SubjectMapping):
        s, rs = subject(view, m)
        return [s, *rs]
    raise TypeError(f"unknown mapping {type(m).__name__}")


def diag(source: str, view: IssueView, exc: MappingError) -> Diagnostic:
    """A diagnostic for an issue that could not be mapped."""
    return Diagnostic(source, 0, 0, "E329", f"{view.key} ({view.site}/browse/{view.key}): "
                      f"{exc.message}", exc.hint)

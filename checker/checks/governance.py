"""Governance records: reviews after change, reviewers, impact assessments and policies.

Also vendor owners, management reviews and internal audits.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from checker.evidence import Review, Subject

from .base import Check, CheckArgs, EvalContext, Outcome, combine_all, locator, register
from .continuity import fmt_time

__all__ = [
    "AuditIndependent",
    "ImpactAssessed",
    "OwnerInternal",
    "PolicyApproved",
    "ReviewAttendedBy",
    "ReviewByOwner",
    "ReviewedAfterEvents",
]



def _reviews(ctx: EvalContext, s: Subject, kind: str) -> list[Review]:
    """Reviews of a subject by ``kind/id`` or bare id, oldest first, none after as-of."""
    seen: dict[str, Review] = {}
    for r in (*ctx.store.reviews_for(s.key, kind), *ctx.store.reviews_for(s.id, kind)):
        if r.reviewed_at <= ctx.as_of:
            seen[r.id] = r
    return sorted(seen.values(), key=lambda r: (r.reviewed_at, r.id))


def _latest(ctx: EvalContext, s: Subject, kind: str
            ) -> tuple[Review, tuple[str, ...]] | Outcome:
    """The latest review of ``kind`` at or before as-of with its evidence, or the failure."""
    revs = _reviews(ctx, s, kind)
    if not revs:
        return Outcome("fail", f"no {kind.replace('_', ' ')} on record", (locator(s),))
    return revs[-1], (locator(s), locator(revs[-1]))


def _same(ctx: EvalContext, a: str | None, b: str | None) -> bool:
    if not a or not b:
        return False
    pa, pb = ctx.person(a), ctx.person(b)
    if pa is not None and pb is not None:
        return pa.id == pb.id
    return a.strip().casefold() == b.strip().casefold()


def _is_owner(ctx: EvalContext, s: Subject, handle: str, roles: list[str]) -> bool:
    return any(_same(ctx, s.owners.get(r), handle) for r in roles)


class AfterEventsArgs(CheckArgs):
    """Arguments of reviewed_after_events."""

    kind: str = Field(description="Review kind that must follow each event.")
    event_types: list[str] = Field(min_length=1,
                                   description="Event types that trigger a review.")
    within_days: int = Field(default=30, ge=1,
                             description="The review must follow the event within this many "
                             "days.")
    scope: list[str] = Field(
        default=["self", "system"],
        description="Whose events count: 'self' (the subject) and/or 'system' (its AI "
        "system).")
    reviewer_roles: list[str] = Field(
        default=[],
        description="When set, only reviews by a holder of these owner roles count.")
    lookback_days: int = Field(default=365, ge=1,
                               description="Only events this recent are considered.")


def _event_words(kind: str) -> str:
    """An event type in words: ``data_source_changed`` → "data source changed"."""
    return kind.replace("_", " ")


@register("reviewed_after_events")
class ReviewedAfterEvents(Check[Subject, AfterEventsArgs]):
    """Every trigger event was followed by a review of the subject within a deadline.

    Trigger events (``event_types``) of the subject and/or its AI system from the last
    ``lookback_days`` each need a review of ``kind`` dated after the event and no more than
    ``within_days`` later, by a holder of ``reviewer_roles`` when given.

    Passes when every trigger is followed in time (a trigger whose deadline has not come
    yet passes, naming the due date). Fails when not, naming each event without a timely review.
    Errors when: never.

    Example:
        applies_to: [risk]
        require:
          - reviewed_after_events:
              kind: risk_review
              event_types: [model_version_registered, data_source_changed, launch]
              within_days: 30
              reviewer_roles: [primary, backup]
    """

    needs = frozenset({"subject", "review", "event", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Match each event with a later review."""
        a: AfterEventsArgs = self.args
        refs: list[str] = []
        if "self" in a.scope:
            refs += [target.key, target.id]
        system = ctx.store.system_of(target)
        if "system" in a.scope and system is not None:
            refs += [system.key, system.id]
        start = ctx.as_of - timedelta(days=a.lookback_days)
        events = ctx.store.events_between(refs, start, ctx.as_of + timedelta(microseconds=1),
                                          a.event_types)
        reviews = [r for r in _reviews(ctx, target, a.kind)
                   if not a.reviewer_roles or _is_owner(ctx, target, r.reviewer,
                                                        a.reviewer_roles)]
        others = [r for r in _reviews(ctx, target, a.kind) if r not in reviews]
        label = a.kind.replace("_", " ")
        ev = [locator(target)]
        problems: list[str] = []
        pending: list[str] = []
        for e in events:
            ev.append(locator(e))
            due = e.occurred_at + timedelta(days=a.within_days)
            hit = next((r for r in reviews if e.occurred_at < r.reviewed_at <= due), None)
            if hit is not None:
                ev.append(locator(hit))
                continue
            if due > ctx.as_of:
                pending.append(f"{label} after {_event_words(e.type)} on "
                               f"{fmt_time(e.occurred_at)} due by {fmt_time(due)}")
                continue
            late = next((r for r in reviews if r.reviewed_at > due), None)
            not_owner = next((r for r in others if e.occurred_at < r.reviewed_at <= due), None)
            why = (f"the {label} on {fmt_time(late.reviewed_at)} came late" if late else
                   f"no {label} followed")
            if not_owner is not None:
                why += (f" (the {label} by {ctx.who(not_owner.reviewer)} does not count: not "
                        f"the {' or '.join(a.reviewer_roles)} owner)")
            problems.append(f"{_event_words(e.type)} on {e.subject} at "
                            f"{fmt_time(e.occurred_at)}: {why} "
                            f"within {a.within_days} days (due {fmt_time(due)})")
        evidence = tuple(dict.fromkeys(ev))
        if problems:
            return Outcome("fail", "; ".join(problems), evidence)
        if not events:
            return Outcome("pass", f"no trigger event in the last {a.lookback_days} days",
                           evidence)
        done = len(events) - len(pending)
        msg = f"{done} trigger event(s) followed by a {label} in time"
        return Outcome("pass", "; ".join([msg, *pending]), evidence)


class ByOwnerArgs(CheckArgs):
    """Arguments of review_by_owner."""

    kind: str = Field(description="Review kind.")
    roles: list[str] = Field(default=["primary", "backup"], min_length=1,
                             description="Owner roles whose holders may review.")
    first_due_days: int | None = Field(
        default=None, ge=0,
        description="A subject never reviewed passes while its first review is not due: "
                    "created (per its source) less than this many days ago. None: no review "
                    "fails.")


@register("review_by_owner")
class ReviewByOwner(Check[Subject, ByOwnerArgs]):
    """The latest review of ``kind`` was done by one of the subject's owners.

    Passes when the latest review at or before as-of has a reviewer who is the same person
    as an owner in ``roles``, or when there is none yet and the subject was created less
    than ``first_due_days`` ago. Fails when not, naming the reviewer, or when there is no
    review (and the first one is due). Errors when: never.

    Example:
        applies_to: [risk]
        require:
          - review_by_owner: {kind: risk_review, roles: [primary, backup]}
    """

    needs = frozenset({"subject", "review", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Compare the latest reviewer with the owners."""
        a: ByOwnerArgs = self.args
        label = a.kind.replace("_", " ")
        got = _latest(ctx, target, a.kind)
        if isinstance(got, Outcome):
            created = target.created_at
            if (got.status == "fail" and a.first_due_days is not None and created is not None
                    and created <= ctx.as_of
                    and created + timedelta(days=a.first_due_days) >= ctx.as_of):
                due = created + timedelta(days=a.first_due_days)
                return Outcome("pass", f"not reviewed yet; created {created.date()}, first "
                               f"{label} due {due.date()}", (locator(target),))
            return got
        last, ev = got
        if _is_owner(ctx, target, last.reviewer, a.roles):
            return Outcome("pass", f"latest {label} ({fmt_time(last.reviewed_at)}) by owner "
                           f"{ctx.who(last.reviewer)}", ev)
        owners = ", ".join(ctx.who(target.owners[r]) for r in a.roles if target.owners.get(r))
        return Outcome("fail", f"latest {label} ({fmt_time(last.reviewed_at)}) was by "
                       f"{ctx.who(last.reviewer)}, who is not its {' or '.join(a.roles)} owner "
                       f"({owners or 'none named'})", ev)


class ImpactArgs(CheckArgs):
    """Arguments of impact_assessed."""

    kind: str = Field(default="impact_assessment", description="Review kind of the assessment.")
    require_approver: bool = Field(default=True,
                                   description="The assessment names an approver and a date.")
    approver_distinct: bool = Field(default=True,
                                    description="The approver is not the assessor.")


@register("impact_assessed")
class ImpactAssessed(Check[Subject, ImpactArgs]):
    """The subject has an impact assessment with a named assessor and approver.

    Passes when the latest assessment at or before as-of names an assessor (``reviewer``)
    who is a known person and, when required, an approver (a known person other than the
    assessor) with an approval date. Fails when not, naming what is missing. Errors when: never.

    Example:
        applies_to: [ai_system]
        require:
          - impact_assessed: {kind: impact_assessment, require_approver: true}
    """

    needs = frozenset({"subject", "review", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Inspect the latest assessment."""
        a: ImpactArgs = self.args
        got = _latest(ctx, target, a.kind)
        if isinstance(got, Outcome):
            return got
        last, ev = got
        problems: list[str] = []
        if ctx.person(last.reviewer) is None:
            problems.append(f"assessor {last.reviewer!r} is not a known person")
        if a.require_approver:
            if not last.approver or last.approved_at is None:
                problems.append("no approver and approval date recorded")
            elif ctx.person(last.approver) is None:
                problems.append(f"approver {last.approver!r} is not a known person")
            elif a.approver_distinct and _same(ctx, last.approver, last.reviewer):
                problems.append(f"approved by its own assessor {ctx.who(last.approver)}")
        head = f"{a.kind.replace('_', ' ')} {last.id} of {fmt_time(last.reviewed_at)}"
        if problems:
            return Outcome("fail", f"{head}: {'; '.join(problems)}", ev)
        approver = f", approved by {ctx.who(last.approver)}" if last.approver else ""
        return Outcome("pass", f"{head} by {ctx.who(last.reviewer)}{approver}", ev)


class PolicyArgs(CheckArgs):
    """Arguments of policy_approved."""

    approval_kind: str = Field(default="policy", description="Approval kind of policy sign-offs.")
    approver_roles: list[str] = Field(
        default=["executive", "board"], min_length=1,
        description="HR roles of top management; the approver must hold one.")
    version_path: str = Field(default="version",
                              description="Attribute holding the current version.")


@register("policy_approved")
class PolicyApproved(Check[Subject, PolicyArgs]):
    """The current version of the policy was approved by top management.

    Passes when the subject has a current version (``attributes.version``), and its latest
    approval of ``approval_kind`` is an approval of exactly that version by a known person
    holding one of ``approver_roles``. Fails when the version is missing, there is no
    approval, the approved version is not the current one, or the approver is not top
    management. Errors when: never.

    Example:
        applies_to: [policy]
        require:
          - policy_approved: {approver_roles: [executive, board]}
    """

    needs = frozenset({"subject", "approval", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Compare the latest approval with the current version."""
        a: PolicyArgs = self.args
        current = target.attributes.get(a.version_path)
        aps = [x for x in (*ctx.store.approvals_for(target.key),
                           *ctx.store.approvals_for(target.id))
               if x.kind == a.approval_kind and x.decided_at <= ctx.as_of]
        aps = sorted({x.id: x for x in aps}.values(), key=lambda x: (x.decided_at, x.id))
        ev = (locator(target), *(locator(x) for x in aps[-1:]))
        if current is None or not str(current).strip():
            return Outcome("fail", "no current version recorded", ev)
        cur = str(current)
        if not aps:
            return Outcome("fail", f"version {cur} has no recorded approval", ev)
        last = aps[-1]
        problems: list[str] = []
        if last.decision != "approved":
            problems.append(f"the latest decision ({fmt_time(last.decided_at)}) is a rejection")
        if last.version != cur:
            problems.append(f"the approved version is {last.version or 'unstated'}, the "
                            f"current version is {cur}")
        p = ctx.person(last.approver)
        if p is None:
            problems.append(f"approver {last.approver!r} is not a known person")
        elif not set(a.approver_roles) & set(p.roles):
            problems.append(f"approver {ctx.who(last.approver)} is not top management (needs "
                            f"role {' or '.join(a.approver_roles)})")
        if problems:
            return Outcome("fail", "; ".join(problems), ev)
        return Outcome("pass", f"version {cur} approved by {ctx.who(last.approver)} on "
                       f"{fmt_time(last.decided_at)}", ev)


class InternalArgs(CheckArgs):
    """Arguments of owner_internal."""

    roles: list[str] = Field(default=["primary"], min_length=1,
                             description="Owner roles that must be internal staff.")
    allow_contractors: bool = Field(default=False,
                                    description="Whether a contractor counts as internal.")


@register("owner_internal")
class OwnerInternal(Check[Subject, InternalArgs]):
    """Each named owner is an internal member of staff: an HR individual, an employee.

    Passes when every owner in ``roles`` is named and resolves to an HR individual whose
    employment type is employee (or contractor, when allowed). Fails when there is a missing owner,
    an external or unknown handle, a group or a contractor. Errors when: never.

    Example:
        applies_to: [vendor]
        require:
          - owner_internal: {roles: [primary], allow_contractors: false}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check each owner's HR record."""
        a: InternalArgs = self.args
        outs: list[Outcome] = []
        for role in a.roles:
            h = target.owners.get(role)
            if not h:
                outs.append(Outcome("fail", f"no {role} owner named", (locator(target),)))
                continue
            p = ctx.person(h)
            if p is None:
                outs.append(Outcome("fail", f"{role} owner {h!r} is not in HR: not internal "
                                    "staff", (locator(target),)))
            elif p.kind != "individual":
                outs.append(Outcome("fail", f"{role} owner {ctx.who(h)} is a {p.kind}",
                                    (locator(target), locator(p))))
            elif p.employment_type == "contractor" and not a.allow_contractors:
                outs.append(Outcome("fail", f"{role} owner {ctx.who(h)} is a contractor, not "
                                    "internal staff", (locator(target), locator(p))))
            else:
                outs.append(Outcome("pass", f"{role} owner {ctx.who(h)} is internal staff",
                                    (locator(target), locator(p))))
        return combine_all(outs)


class AttendedArgs(CheckArgs):
    """Arguments of review_attended_by."""

    kind: str = Field(default="management_review", description="Review kind.")
    days: int = Field(default=365, ge=1, description="The review must be this recent.")
    roles: list[str] = Field(default=["executive", "board"], min_length=1,
                             description="HR roles of which an attendee must hold one.")
    min_attendees: int = Field(default=1, ge=1,
                               description="How many attendees must hold such a role.")


@register("review_attended_by")
class ReviewAttendedBy(Check[Subject, AttendedArgs]):
    """A review of ``kind`` was held within ``days`` with the required people attending.

    Passes when a review of the subject at most ``days`` old has at least
    ``min_attendees`` attendees (or the reviewer) who are known people holding one of
    ``roles``. Fails when there is no recent review or nobody qualifying attended.
    Errors when: never.

    Example:
        applies_to: [process]
        require:
          - review_attended_by: {kind: management_review, days: 365, roles: [executive]}
    """

    needs = frozenset({"subject", "review", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Find a recent review with top management attending."""
        a: AttendedArgs = self.args
        since = ctx.as_of - timedelta(days=a.days)
        label = a.kind.replace("_", " ")
        recent = [r for r in _reviews(ctx, target, a.kind) if r.reviewed_at >= since]
        if not recent:
            older = _reviews(ctx, target, a.kind)
            when = f"; the last was on {fmt_time(older[-1].reviewed_at)}" if older else ""
            return Outcome("fail", f"no {label} in the last {a.days} days{when}",
                           (locator(target), *(locator(r) for r in older[-1:])))
        for r in reversed(recent):
            who = {p.id: ctx.who(h) for h in (*r.attendees, r.reviewer)
                   if (p := ctx.person(h)) is not None and set(a.roles) & set(p.roles)}
            if len(who) >= a.min_attendees:
                return Outcome("pass", f"{label} {r.id} on {fmt_time(r.reviewed_at)} attended "
                               f"by {', '.join(who.values())}", (locator(target), locator(r)))
        latest = recent[-1]
        return Outcome("fail", f"{label} {latest.id} on {fmt_time(latest.reviewed_at)} had no "
                       f"attendee with role {' or '.join(a.roles)}",
                       (locator(target), locator(latest)))


class AuditArgs(CheckArgs):
    """Arguments of audit_independent."""

    kind: str = Field(default="internal_audit", description="Review kind of an audit.")
    days: int = Field(default=365, ge=1, description="Audit cycle: the audit must be this "
                      "recent.")
    auditor_roles: list[str] = Field(default=["internal-auditor"], min_length=1,
                                     description="HR roles an auditor must hold.")


@register("audit_independent")
class AuditIndependent(Check[Subject, AuditArgs]):
    """The area was audited within the audit cycle by an independent, qualified auditor.

    Passes when the latest audit of the subject is at most ``days`` old and its auditor
    (``reviewer``) is a known person holding one of ``auditor_roles`` who owns the audited
    subject in no role. Fails when not, naming what is missing: no audit, overdue, not an
    auditor, or auditing their own area. Errors when: never.

    Example:
        applies_to: [process]
        require:
          - audit_independent: {kind: internal_audit, days: 365}
    """

    needs = frozenset({"subject", "review", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Inspect the latest audit."""
        a: AuditArgs = self.args
        label = a.kind.replace("_", " ")
        got = _latest(ctx, target, a.kind)
        if isinstance(got, Outcome):
            return got
        last, ev = got
        problems: list[str] = []
        due = last.reviewed_at + timedelta(days=a.days)
        if due < ctx.as_of:
            problems.append(f"last {label} on {fmt_time(last.reviewed_at)}; the {a.days}-day "
                            f"cycle ran out on {fmt_time(due)}")
        p = ctx.person(last.reviewer)
        if p is None:
            problems.append(f"auditor {last.reviewer!r} is not a known person")
        else:
            if not set(a.auditor_roles) & set(p.roles):
                problems.append(f"auditor {ctx.who(last.reviewer)} does not hold the role "
                                f"{' or '.join(a.auditor_roles)}")
            owns = [r for r, h in sorted(target.owners.items()) if _same(ctx, h, last.reviewer)]
            if owns:
                problems.append(f"auditor {ctx.who(last.reviewer)} is the {', '.join(owns)} "
                                "owner of the area audited (not independent)")
        if problems:
            # an unqualified or non-independent auditor caused it: never made the deputy
            overdue = 1 if due < ctx.as_of else 0
            cause = (last.reviewer,) if len(problems) > overdue else ()
            return Outcome("fail", "; ".join(problems), ev, cause=cause)
        return Outcome("pass", f"{label} {last.id} on {fmt_time(last.reviewed_at)} by "
                       f"{ctx.who(last.reviewer)}, independent of the area", ev)

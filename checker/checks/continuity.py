"""Ownership over time: coverage gaps, upcoming departures and handovers.

These checks read ``Subject.history`` (who held which owner role from when to when) together
with the current ``owners`` and each person's employment and leave dates. All arithmetic is
done on half-open UTC intervals (:mod:`checker.intervals`), so the same evidence written with
different time-zone offsets gives the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from checker.availability import availability, employed_spans, present_spans
from checker.causes import Fact, person_fact
from checker.evidence import OwnershipSpan, Person, Subject
from checker.intervals import Interval, clip, complement, union
from checker.timeutil import is_midnight

from .base import Check, CheckArgs, EvalContext, Outcome, combine_all, locator, register
from .training import training_outcome

__all__ = [
    "HandoverContiguous",
    "HandoverQualified",
    "OwnerCoverage",
    "SuccessorNamed",
    "fmt_time",
    "role_timeline",
]



def fmt_time(t: datetime) -> str:
    """A date when ``t`` is midnight UTC, else ``YYYY-MM-DD HH:MMZ``."""
    if is_midnight(t):
        return t.strftime("%Y-%m-%d")
    return t.strftime("%Y-%m-%d %H:%MZ")


def _fmt_gap(iv: Interval) -> str:
    days = iv.duration / timedelta(days=1)
    n, unit = (days, "day") if days >= 1 else (iv.duration.total_seconds() / 3600, "hour")
    size = f"{n:g} {unit}" + ("" if n == 1 else "s")
    if is_midnight(iv.start) and is_midnight(iv.end):  # whole days: worded by the last day
        last = iv.end - timedelta(days=1)
        span = fmt_time(iv.start) if last == iv.start else \
            f"{fmt_time(iv.start)} through {fmt_time(last)}"
        return f"{span} ({size})"
    return f"{fmt_time(iv.start)} until {fmt_time(iv.end)} ({size})"



@dataclass(frozen=True)
class Holding:
    """``owner`` (a handle, None = explicitly nobody) held a role during ``[start, end)``."""

    owner: str | None
    start: datetime | None
    end: datetime | None
    recorded: bool


def role_timeline(subject: Subject, role: str) -> list[Holding]:
    """Who held ``role`` when: the recorded history plus the current owner.

    The current owner is taken to hold the role from the end of the last closed history
    span of that role (or since forever when the role has no history), unless an open
    history span already says so.
    """
    spans: list[OwnershipSpan] = sorted((s for s in subject.history if s.role == role),
                                        key=lambda s: (s.start, s.end is None))
    out = [Holding(s.owner, s.start, s.end, True) for s in spans]
    current = subject.owners.get(role)
    if current and current.strip():
        same_open = any(s.end is None and (s.owner or "").casefold() == current.casefold()
                        for s in spans)
        if not same_open:
            ends = [s.end for s in spans if s.end is not None]
            opens = [s.start for s in spans if s.end is None]
            since = max([*ends, *opens]) if (ends or opens) else None
            out.append(Holding(current, since, None, False))
    return out


def _usable(ctx: EvalContext, handle: str | None) -> Person | None:
    """The person ``handle`` denotes when it is one known individual (else None)."""
    a = availability(ctx.store.identity, handle, ctx.as_of, ctx.settings)
    return a.person if a.individual else None


def _state(ctx: EvalContext, handle: str | None, t: datetime) -> str:
    """Why ``handle`` was not available at ``t`` (or that they were)."""
    return availability(ctx.store.identity, handle, t, ctx.settings).reason


def _holders_at(timeline: list[Holding], t: datetime) -> list[str | None]:
    return [h.owner for h in timeline
            if (h.start is None or h.start <= t) and (h.end is None or t < h.end)]


class CoverageArgs(CheckArgs):
    """Arguments of owner_coverage."""

    period_days: int = Field(default=365, ge=1,
                             description="Assessment period: this many days up to as-of.")
    in_post_role: str = Field(
        default="primary",
        description="Role that must always be held by someone employed (leave is allowed).")
    roles: list[str] = Field(
        default=["primary", "backup"], min_length=1,
        description="Roles of which at least one holder must be present (employed and not "
        "on leave) at every instant of the period.")


@register("owner_coverage")
class OwnerCoverage(Check[Subject, CoverageArgs]):
    """Someone was accountable for the subject at every instant of the assessment period.

    Builds, for each role, who held it when (ownership history plus current owners) and
    intersects that with each holder's employment and leave dates, over the half-open
    period ``[as-of − period_days, as-of)`` — from the subject's creation when its source
    records one inside the period (nothing was owned before the subject existed).

    Passes when the ``in_post_role`` always had an employed individual holder and at every
    instant at least one holder of ``roles`` was present. Fails when not, listing every interval
    (with dates) in which the role was vacant or its holder was terminated, not yet hired,
    unknown or not an individual; and every interval in which all the roles' holders were
    absent (including on leave). Errors when: never: missing history means the current owners
    are taken to have held their roles throughout.

    Example:
        applies_to: [ai_system, risk]
        require:
          - owner_coverage: {period_days: 365, in_post_role: primary, roles: [primary, backup]}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Compute the uncovered intervals."""
        a: CoverageArgs = self.args
        start = ctx.as_of - timedelta(days=a.period_days)
        if target.created_at is not None and start < target.created_at < ctx.as_of:
            start = target.created_at  # nothing to own before the subject existed
        window = Interval(start, ctx.as_of)
        ev = [locator(target)]
        problems: list[str] = []
        timelines: dict[str, list[Holding]] = {}

        def timeline_of(role: str) -> list[Holding]:
            # each role's timeline is read up to three times below: build it once
            got = timelines.get(role)
            if got is None:
                got = timelines[role] = role_timeline(target, role)
            return got

        def covered(role: str, *, present: bool) -> list[Interval]:
            out: list[Interval] = []
            for h in timeline_of(role):
                p = _usable(ctx, h.owner)
                span = clip(h.start, h.end, window)
                if p is None or span is None:
                    continue
                ev.append(locator(p))
                avail = present_spans(p, span) if present else employed_spans(p, span)
                out.extend(avail)
            return union(out)

        in_post = covered(a.in_post_role, present=False)
        timeline = timeline_of(a.in_post_role)
        facts: list[Fact | None] = []
        for gap in complement(in_post, window):
            holders = _holders_at(timeline, gap.start) or [None]
            why = "; ".join(dict.fromkeys(_state(ctx, h, gap.start) for h in holders))
            problems.append(f"no {a.in_post_role} owner in post {_fmt_gap(gap)}: {why}")
            facts += [person_fact(availability(ctx.store.identity, h, gap.start,
                                               ctx.settings), h) for h in holders]
        present = union(iv for role in a.roles for iv in covered(role, present=True))
        for gap in complement(present, window):
            facts.append(None)  # an absence window: a fact of its own, not one person's
            whys = []
            for role in a.roles:
                holders = _holders_at(timeline_of(role), gap.start) or [None]
                whys.append(f"{role}: " + ", ".join(_state(ctx, h, gap.start) for h in holders))
            problems.append(f"no {' or '.join(a.roles)} owner present {_fmt_gap(gap)} "
                            f"({'; '.join(whys)})")
        evidence = tuple(dict.fromkeys(ev))
        if problems:
            # one cause only when every gap is the same person's (unknown, group, leaver)
            one = facts[0] if facts and all(f == facts[0] for f in facts) else None
            return Outcome("fail", "; ".join(problems), evidence, fact=one)
        return Outcome("pass", f"covered from {fmt_time(window.start)} to "
                       f"{fmt_time(window.end)}", evidence)


class SuccessorArgs(CheckArgs):
    """Arguments of successor_named."""

    within_days: int = Field(default=30, ge=1,
                             description="Look this many days ahead of as-of for departures.")
    roles: list[str] = Field(default=["primary", "backup"], min_length=1,
                             description="Owner roles whose holders are looked at.")


@register("successor_named")
class SuccessorNamed(Check[Subject, SuccessorArgs]):
    """Owners who will leave soon have a successor named in the ownership history.

    A departure is a termination or the start of a leave period after as-of and no later
    than ``within_days`` after it. A successor is a history span of the same role, held by
    someone else, that covers the departure instant.

    Passes when no current owner departs in the window, or each departing owner has a
    successor. Warns (never fails: it still holds today) when one departs without a
    successor, naming the date. Fails when: never (a departure is not yet a gap). Errors when
    : never.

    Example:
        applies_to: [ai_system, risk]
        require:
          - successor_named: {within_days: 30, roles: [primary, backup]}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Look for departures and successors."""
        a: SuccessorArgs = self.args
        horizon = ctx.as_of + timedelta(days=a.within_days)
        outs: list[Outcome] = []
        for role in a.roles:
            h = target.owners.get(role)
            p = _usable(ctx, h)
            if p is None:
                continue
            departures: list[tuple[datetime, str]] = []
            if p.terminated is not None and ctx.as_of < p.terminated <= horizon:
                departures.append((p.terminated, "leaves the company"))
            departures += [(per.start, f"goes on leave ({per.kind})" if per.kind
                            else "goes on leave")
                           for per in p.leave if ctx.as_of < per.start <= horizon]
            if not departures:
                continue
            when, what = min(departures)
            cands = [s for s in target.history
                     if s.role == role and s.owner and s.start <= when
                     and (s.end is None or when < s.end)
                     and not ((q := ctx.person(s.owner)) is not None and q.id == p.id)]
            succ = [s for s in cands if _usable(ctx, s.owner) is not None]
            ev = (locator(target), locator(p))
            if cands and not succ:
                outs.append(Outcome("fail", f"{role} owner {ctx.who(h)} {what} on "
                                    f"{fmt_time(when)}; the named successor: "
                                    f"{_state(ctx, cands[0].owner, when)}", ev))
            elif succ:
                outs.append(Outcome("pass", f"{role} owner {ctx.who(h)} {what} on "
                                    f"{fmt_time(when)}; successor {ctx.who(succ[0].owner)}",
                                    ev))
            else:
                outs.append(Outcome("warn", f"{role} owner {ctx.who(h)} {what} on "
                                    f"{fmt_time(when)} and no successor is named", ev, (p.id,)))
        if not outs:
            return Outcome("pass", f"no owner departs within {a.within_days} days",
                           (locator(target),))
        return combine_all(outs)


class HandoverArgs(CheckArgs):
    """Arguments of handover_contiguous."""

    roles: list[str] = Field(default=["primary"], min_length=1,
                             description="Owner roles whose history is checked.")
    tolerance_days: float = Field(
        default=0, ge=0,
        description="Largest gap allowed between one holder's end and the next one's start.")


@register("handover_contiguous")
class HandoverContiguous(Check[Subject, HandoverArgs]):
    """Each recorded change of owner left no gap in the role.

    Spans are half-open: an owner whose span ends at ``2026-03-02`` and a successor whose
    span starts at ``2026-03-02`` leave no gap; a field cleared on Monday and set on Friday
    is a four-day gap. A span with no owner (a cleared field) covers nothing.

    Passes when, between the first and last recorded span of each role, every gap is at
    most ``tolerance_days``. Fails when not, naming each gap with its dates and the owners on both
    sides. Errors when: never.

    Example:
        applies_to: [ai_system, risk]
        require:
          - handover_contiguous: {roles: [primary], tolerance_days: 0}
    """

    needs = frozenset({"subject"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Walk each role's recorded spans in time order."""
        a: HandoverArgs = self.args
        tol = timedelta(days=a.tolerance_days)
        problems: list[str] = []
        handovers = 0
        for role in a.roles:
            spans = sorted((s for s in target.history if s.role == role and s.owner),
                           key=lambda s: s.start)
            reach: datetime | None = None  # where coverage so far ends
            open_ended = False  # an earlier span never ended: no later gap possible
            prev: OwnershipSpan | None = None
            for s in spans:
                if prev is not None:
                    handovers += 1
                    if not open_ended and reach is not None and s.start - reach > tol:
                        gap = Interval(reach, s.start)
                        problems.append(f"{role} role vacant {_fmt_gap(gap)} between "
                                        f"{ctx.who(prev.owner)} and {ctx.who(s.owner)}")
                if s.end is None:
                    open_ended = True
                else:
                    reach = s.end if reach is None else max(reach, s.end)
                prev = s
        ev = (locator(target),)
        if problems:
            return Outcome("fail", "; ".join(problems), ev)
        return Outcome("pass", f"{handovers} recorded handover(s), none with a gap", ev)


class QualifiedArgs(CheckArgs):
    """Arguments of handover_qualified."""

    roles: list[str] = Field(default=["primary", "backup"], min_length=1,
                             description="Owner roles whose takeovers are checked.")
    courses: list[str] = Field(default=[],
                               description="Courses the new owner must hold at takeover.")
    validity_days: int | None = Field(
        default=365, ge=1,
        description="Validity of a completion without an expiry date (None = no expiry).")


@register("handover_qualified")
class HandoverQualified(Check[Subject, QualifiedArgs]):
    """Whoever took over an owner role was active and trained at the moment of takeover.

    A takeover is every recorded history span of a role except the role's first one. The
    new owner must be a known individual, employed and not on leave at the span's start,
    and hold a valid, passed completion of each course at that instant.

    Passes when every takeover qualifies (or there was none). Fails when not, naming the takeover,
    its date and what was missing. Errors when: never; unknown owners fail.

    Example:
        applies_to: [ai_system, risk]
        require:
          - handover_qualified: {roles: [primary], courses: [ai-governance-basics]}
    """

    needs = frozenset({"subject", "person", "training"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Judge each takeover at its start."""
        a: QualifiedArgs = self.args
        problems: list[str] = []
        ev: list[str] = [locator(target)]
        act: list[str] = []
        count = 0
        for role in a.roles:
            spans = sorted((s for s in target.history if s.role == role and s.owner),
                           key=lambda s: s.start)
            for s in spans[1:]:
                count += 1
                at = s.start
                avail = availability(ctx.store.identity, s.owner, at, ctx.settings)
                p = avail.person
                label = f"{role} takeover by {ctx.who(s.owner)} on {fmt_time(at)}"
                if p is None or not avail.individual:
                    problems.append(f"{label}: {avail.reason}")
                    continue
                ev.append(locator(p))
                if not avail.present:
                    problems.append(f"{label}: {avail.reason} at takeover")
                for course in a.courses:
                    o = training_outcome(ctx, p, course, at, validity_days=a.validity_days)
                    ev.extend(o.evidence)
                    if o.status == "fail":
                        problems.append(f"{label}: not trained at takeover ({o.message})")
                        act.append(p.id)
        evidence = tuple(dict.fromkeys(ev))
        if problems:
            return Outcome("fail", "; ".join(problems), evidence, tuple(dict.fromkeys(act)))
        return Outcome("pass", f"{count} takeover(s), each by an active, trained owner",
                       evidence)

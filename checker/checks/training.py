"""Training checks."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from checker.availability import IDENTITY_PROBLEMS, availability
from checker.causes import person_fact
from checker.evidence import Person, Subject, Training

from .base import Check, CheckArgs, EvalContext, Outcome, combine_all, locator, register

__all__ = ["OwnerTrained", "training_outcome"]


def training_outcome(
    ctx: EvalContext, person: Person, course: str, at: datetime, *,
    validity_days: int | None, warn_days: int = 0,
) -> Outcome:
    """Whether ``person`` held a valid, passed completion of ``course`` at ``at``.

    A completion is valid from its completion time until its expiry (exclusive); without
    an expiry it is valid for ``validity_days`` (or forever when that is None). Failed
    attempts never count. A validity that ends within ``warn_days`` of ``at`` is a warn.
    """
    recs = ctx.store.trainings(person, course)  # first: fails closed when incomplete
    key = (person.id, course, at, validity_days, warn_days)
    memo = ctx.store.training_outcomes
    hit = memo.get(key)
    if hit is not None and hit[0] is person:
        cached: Outcome = hit[1]
        return cached
    out = _training_outcome(person, recs, course, at, validity_days, warn_days)
    memo[key] = (person, out)
    return out


def _training_outcome(person: Person, recs: list[Training], course: str, at: datetime,
                      validity_days: int | None, warn_days: int) -> Outcome:
    best_end: datetime | None = None
    best = None
    forever = False
    for t in recs:
        if not t.passed or t.completed_at > at:
            continue
        end = t.expires_at
        if end is None and validity_days is not None:
            end = t.completed_at + timedelta(days=validity_days)
        if end is None:
            forever, best = True, t
            break
        if end > at and (best_end is None or end > best_end):
            best_end, best = end, t
    who = f"{person.name} <{person.primary_email}>"
    if best is not None and (forever or best_end is not None):
        ev = (locator(best),)
        if forever or best_end is None:
            return Outcome("pass", f"{who} completed {course!r} on {best.completed_at.date()}", ev)
        if warn_days and best_end - at <= timedelta(days=warn_days):
            return Outcome("warn", f"{who}: {course!r} expires on {best_end.date()} "
                           f"(within {warn_days} days)", ev, (person.id,))
        return Outcome("pass", f"{who} holds {course!r} until {best_end.date()}", ev)
    passed = [t for t in recs if t.passed and t.completed_at <= at]
    if passed:
        last = passed[-1]
        end = last.expires_at or (last.completed_at + timedelta(days=validity_days or 0))
        return Outcome("fail", f"{who}: {course!r} expired on {end.date()}",
                       (locator(last),), (person.id,))
    failed = [t for t in recs if not t.passed]
    if failed:
        return Outcome("fail", f"{who}: only a failed attempt at {course!r} "
                       f"({failed[-1].completed_at.date()})", (locator(failed[-1]),), (person.id,))
    return Outcome("fail", f"{who} has no record of {course!r}", (locator(person),), (person.id,))


class TrainedArgs(CheckArgs):
    """Arguments of owner_trained."""

    roles: list[str] = Field(default=["primary", "backup"], min_length=1,
                             description="Owner roles whose holders must be trained.")
    courses: list[str] = Field(min_length=1, description="Course ids every holder needs.")
    validity_days: int | None = Field(
        default=365, ge=1,
        description="Validity of a completion without an expiry date (None = no expiry).")
    warn_within_days: int = Field(default=30, ge=0,
                                  description="Warn when a completion expires this soon.")


@register("owner_trained")
class OwnerTrained(Check[Subject, TrainedArgs]):
    """Each named owner holds the required courses, passed and within validity at as-of.

    Passes when every owner in ``roles`` has a passed completion of every course that is
    valid at as-of. Warns when one expires within ``warn_within_days``. Fails when a course
    is missing, expired or only failed. Unknown owners are left to the people rules.

    Example:
        applies_to: [ai_system, risk]
        require:
          - owner_trained: {roles: [primary], courses: [ai-governance-basics]}
    """

    needs = frozenset({"subject", "person", "training"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check every owner × course."""
        a: TrainedArgs = self.args
        outs = []
        for role in a.roles:
            h = target.owners.get(role)
            if not h:
                continue
            p = ctx.person(h)
            if p is None:
                continue
            # a group or shared mailbox holds no training: that is the fact, not the course
            av = availability(ctx.store.identity, h, ctx.as_of, ctx.settings)
            fact = person_fact(av, h) if av.status in IDENTITY_PROBLEMS else None
            for course in a.courses:
                o = training_outcome(ctx, p, course, ctx.as_of, validity_days=a.validity_days,
                                     warn_days=a.warn_within_days)
                outs.append(Outcome(o.status, f"{role} owner {o.message}", o.evidence, o.act,
                                    fact=fact if o.status != "pass" else None))
        if not outs:
            return Outcome("pass", "no resolvable owner to check", (locator(target),))
        return combine_all(outs)

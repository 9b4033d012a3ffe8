"""Review cadence checks."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from checker.evidence import Subject

from .base import Check, CheckArgs, EvalContext, Outcome, locator, register

__all__ = ["ReviewedWithin"]


class ReviewedArgs(CheckArgs):
    """Arguments of reviewed_within."""

    kind: str = Field(description="Review kind: risk_review, impact_assessment, policy_review, "
                      "due_diligence …")
    days: int = Field(ge=1, description="Cadence: the last review must be this recent.")
    warn_within_days: int = Field(default=0, ge=0,
                                  description="Warn when the next review falls due this soon.")
    first_due_days: int | None = Field(
        default=None, ge=0,
        description="A subject never reviewed is first due this many days after its creation "
                    "(default: the cadence itself), when its source records the creation.")


@register("reviewed_within")
class ReviewedWithin(Check[Subject, ReviewedArgs]):
    """The subject had a review of ``kind`` within the last ``days`` days before as-of.

    Passes when the latest review at or before as-of is at most ``days`` old, or when there
    is none yet but the first review is not due: the subject was created (per its source)
    less than ``first_due_days`` (default ``days``) ago. Warns when it falls due within
    ``warn_within_days``. Fails when there is none and the first one is due (or the
    creation is unknown), or the latest is older than the cadence.

    Example:
        applies_to: [risk]
        require:
          - reviewed_within: {kind: risk_review, days: 90}
    """

    needs = frozenset({"subject", "review"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Find the latest review and compare its age with the cadence."""
        a: ReviewedArgs = self.args
        last = (ctx.store.last_review_before(target.key, a.kind, ctx.as_of)
                or ctx.store.last_review_before(target.id, a.kind, ctx.as_of))
        label = a.kind.replace("_", " ")
        if last is None:
            created = target.created_at
            if created is None or created > ctx.as_of:
                return Outcome("fail", f"no {label} on record", (locator(target),))
            first = a.days if a.first_due_days is None else a.first_due_days
            due = created + timedelta(days=first)
            if due < ctx.as_of:
                return Outcome("fail", f"no {label} on record; the first was due on "
                               f"{due.date()} ({first} days after creation on "
                               f"{created.date()})", (locator(target),))
            if a.warn_within_days and due - ctx.as_of <= timedelta(days=a.warn_within_days):
                return Outcome("warn", f"first {label} falls due on {due.date()}",
                               (locator(target),))
            return Outcome("pass", f"not reviewed yet; created {created.date()}, first "
                           f"{label} due {due.date()}", (locator(target),))
        due = last.reviewed_at + timedelta(days=a.days)
        ev = (locator(target), locator(last))
        if due < ctx.as_of:
            overdue = (ctx.as_of - due).days
            return Outcome("fail", f"last {label} on {last.reviewed_at.date()} by "
                           f"{ctx.who(last.reviewer)}; {a.days}-day cadence overdue by "
                           f"{overdue} days (due {due.date()})", ev)
        if a.warn_within_days and due - ctx.as_of <= timedelta(days=a.warn_within_days):
            return Outcome("warn", f"{label} falls due on {due.date()}", ev)
        return Outcome("pass", f"last {label} on {last.reviewed_at.date()}, next due "
                       f"{due.date()}", ev)

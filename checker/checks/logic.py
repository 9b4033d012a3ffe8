"""Combinators (``all``, ``any``, ``not``) and the generic ``value`` check."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import model_validator

from checker.regex import compile_pattern, search
from checker.store import Target
from checker.timeutil import day_start, parse_ts

from .base import Check, CheckArgs, EvalContext, Outcome, combine_all, locator, register

__all__ = ["AllCheck", "AnyCheck", "NotCheck", "ValueCheck", "resolve_path"]


class _Nested(CheckArgs):
    """Placeholder; combinators receive compiled children from the rule compiler."""


@register("all")
class AllCheck(Check[Target, _Nested]):
    """Every nested condition holds.

    Passes when every condition passes. Fails when any fails (errors win over failures).

    Example:
        require:
          - all:
              - owner_assigned: {role: primary}
              - owner_assigned: {role: backup}
    """


    def __init__(self, args: Any, children: list[Check[Any, Any]] | None = None) -> None:
        super().__init__(args)
        self._children = children or []

    def children(self) -> list[Check[Any, Any]]:
        """The nested checks."""
        return self._children

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Conjunction of the children."""
        return combine_all([c.run(ctx, target) for c in self._children])


@register("any")
class AnyCheck(AllCheck):
    """At least one nested condition holds.

    Passes when any condition passes. Fails when none does; errors when none passes and
    one could not be decided.

    Example:
        require:
          - any:
              - owner_assigned: {role: backup}
              - owner_assigned: {role: deputy}
    """

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Disjunction of the children."""
        outs = [c.run(ctx, target) for c in self._children]
        for status in ("pass", "warn"):
            hits = [o for o in outs if o.status == status]
            if hits:
                return hits[0]
        errors = [o for o in outs if o.status == "error"]
        if errors:
            return combine_all(errors)
        return Outcome("fail", "none of: " + "; ".join(o.message for o in outs),
                       tuple(e for o in outs for e in o.evidence),
                       tuple(a for o in outs for a in o.act))


@register("not")
class NotCheck(AllCheck):
    """The nested condition does not hold.

    Passes when the condition fails. Fails when it passes or warns. Errors when it errors.

    Example:
        where:
          - not: {value: {path: attributes.lifecycle, op: eq, value: retired}}
    """

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Negation of the single child."""
        out = self._children[0].run(ctx, target)
        if out.status == "error":
            return out
        if out.status == "fail":
            return Outcome("pass", f"not ({out.message})", out.evidence)
        return Outcome("fail", f"expected not: {out.message}", out.evidence)


Op = Literal[
    "eq", "ne", "in", "not_in", "exists", "missing", "gt", "ge", "lt", "le",
    "before", "after", "within_days", "older_than_days", "matches", "contains",
]


class ValueArgs(CheckArgs):
    """Arguments of ``value``."""

    path: str
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _needs_value(self) -> ValueArgs:
        if self.op not in ("exists", "missing") and self.value is None:
            raise ValueError(f"op {self.op!r} needs a 'value'")
        if self.op in ("within_days", "older_than_days") and not isinstance(self.value, int):
            raise ValueError(f"op {self.op!r} needs an integer number of days")
        if self.op == "matches":
            compile_pattern(str(self.value))  # RegexError is a ValueError: reported E203
        return self


_MISSING = object()


def resolve_path(target: Any, path: str) -> Any:
    """Walk a dotted path through model attributes and dict keys; missing → sentinel."""
    cur: Any = target
    for part in path.split("."):
        cur = cur.get(part, _MISSING) if isinstance(cur, dict) else getattr(cur, part, _MISSING)
        if cur is _MISSING or cur is None:
            return _MISSING
    return cur


def _as_time(v: Any) -> datetime | None:
    if isinstance(v, datetime):
        return v
    if isinstance(v, date):
        return day_start(v)
    if isinstance(v, str):
        try:
            return parse_ts(v)
        except ValueError:
            return None
    return None


def _fold(v: Any) -> Any:
    return v.casefold() if isinstance(v, str) else v


@register("value")
class ValueCheck(Check[Target, ValueArgs]):
    """A field of the target compared with a value.

    ``path`` is dotted (``attributes.lifecycle``, ``stage``, ``severity``); strings compare
    case-insensitively. Date operators: ``before``/``after`` a date, ``within_days`` (the
    date lies within N days before as-of), ``older_than_days``.

    Passes when the comparison holds. Fails when it does not or the field is missing
    (except for ``missing``). Errors when a date operator meets a value that is not a date.

    Example:
        where:
          - value: {path: attributes.lifecycle, op: not_in, value: [retired]}
    """


    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Compare the field at ``path`` with ``value``."""
        a: ValueArgs = self.args
        v = resolve_path(target, a.path)
        ev = (locator(target),)
        if a.op == "exists":
            ok = v is not _MISSING
            return Outcome("pass" if ok else "fail", f"{a.path} is {'set' if ok else 'missing'}",
                           ev)
        if a.op == "missing":
            ok = v is _MISSING
            return Outcome("pass" if ok else "fail", f"{a.path} is {'missing' if ok else 'set'}",
                           ev)
        if v is _MISSING:
            # a missing value is "not equal" to anything and "not in" any list
            ok = a.op in ("ne", "not_in")
            return Outcome("pass" if ok else "fail", f"{a.path} is missing", ev)
        if a.op in ("before", "after", "within_days", "older_than_days"):
            t = _as_time(v)
            if t is None:
                return Outcome("error", f"{a.path} is not a date: {v!r}", ev)
            if a.op == "within_days":
                ok = ctx.as_of - timedelta(days=a.value) <= t <= ctx.as_of
            elif a.op == "older_than_days":
                ok = t < ctx.as_of - timedelta(days=a.value)
            else:
                ref = _as_time(a.value)
                if ref is None:
                    return Outcome("error", f"{a.value!r} is not a date", ev)
                ok = t < ref if a.op == "before" else t > ref
            return Outcome("pass" if ok else "fail", f"{a.path} = {t.date()} ({a.op} {a.value})",
                           ev)
        fv, fa = _fold(v), _fold(a.value)
        try:
            if a.op == "eq":
                ok = fv == fa
            elif a.op == "ne":
                ok = fv != fa
            elif a.op == "in":
                ok = fv in [_fold(x) for x in a.value]
            elif a.op == "not_in":
                ok = fv not in [_fold(x) for x in a.value]
            elif a.op == "contains":
                ok = fa in [_fold(x) for x in v] if isinstance(v, list | tuple) else fa in fv
            elif a.op == "matches":
                ok = search(str(a.value), str(v))
            else:
                ok = {"gt": fv > fa, "ge": fv >= fa, "lt": fv < fa, "le": fv <= fa}[a.op]
        except TypeError:
            return Outcome("error", f"cannot compare {a.path} = {v!r} with {a.value!r}", ev)
        return Outcome("pass" if ok else "fail", f"{a.path} = {v!r} ({a.op} {a.value!r})", ev)

"""Link checks: references between records resolve, and sources agree on a subject's owners."""

from __future__ import annotations

from typing import Any

from checker.causes import reference_fact
from checker.evidence import Incident, Subject
from checker.store import Target

from .base import Check, CheckArgs, EvalContext, Outcome, locator, register

__all__ = ["OwnersAgree", "SystemReferenceResolves"]


class NoArgs(CheckArgs):
    """No arguments."""


@register("system_reference_resolves")
class SystemReferenceResolves(Check[Target, NoArgs]):
    """The AI system (or model) a record names is one the evidence knows.

    An incident's ``system``, or a subject's ``attributes.system`` (a risk, a model, a
    dataset), is resolved case-insensitively: an AI system's id or name, or a model's id
    (then that model's AI system). Passes when it resolves, or when nothing is named.
    Fails when nothing matches, once per record, naming the reference — the rules that
    need the AI system (its risk owner, its tier) then cannot decide either.

    Example:
        applies_to: [incident, risk]
        require:
          - system_reference_resolves: {}
    """

    needs = frozenset({"subject"})
    target_kinds = frozenset({"incident", "risk", "model", "dataset", "control", "vendor",
                              "policy", "process"})

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Resolve the reference through the store."""
        if isinstance(target, Incident):
            ref: Any = target.system
        elif isinstance(target, Subject):
            ref = target.attributes.get("system")
        else:
            ref = None
        ev = (locator(target),)
        if not isinstance(ref, str) or not ref.strip():
            return Outcome("pass", "names no AI system", ev)
        found = ctx.store.resolve_system(ref)
        if found is None:
            return Outcome("fail", f"names AI system or model {ref!r}, which no source knows "
                           "(not an AI system's id or name, nor a registered model)", ev,
                           fact=reference_fact(ref, f"names AI system or model {ref!r}, "
                                               "which no source knows"))
        return Outcome("pass", f"{ref!r} is AI system {found.id}", (*ev, locator(found)))


@register("owners_agree")
class OwnersAgree(Check[Subject, NoArgs]):
    """Every source describing a subject names the same person for each owner role.

    A subject described by several sources (the register, the model registry's tags, a
    Jira field) is merged into one; where two sources name different people for one role,
    neither is picked silently. Handles are compared through the identity index, so two
    spellings of one person agree.

    Passes when no two sources disagree. Fails when two do, naming the role, both people
    and both sources.

    Example:
        applies_to: [ai_system, model]
        require:
          - owners_agree: {}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Read the conflicts the merge (or a registry adapter) recorded."""
        problems: list[str] = []
        for c in target.attributes.get("owner_conflicts") or []:
            if not isinstance(c, dict):
                continue
            a, b = ctx.person(c.get("owner")), ctx.person(c.get("other"))
            if a is not None and b is not None and a.id == b.id:
                continue
            role = str(c.get("role", "?")).replace("_", " ")
            problems.append(f"{role}: {ctx.who(c.get('owner'))} in {c.get('source')} but "
                            f"{ctx.who(c.get('other'))} in {c.get('other_source')}")
        if problems:
            return Outcome("fail", "sources disagree on who owns it — " + "; ".join(problems),
                           (locator(target),))
        return Outcome("pass", "every source names the same owners", (locator(target),))

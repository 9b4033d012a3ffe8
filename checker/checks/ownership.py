"""Ownership and people checks: assigned, distinct, individual, active, known."""

from __future__ import annotations

from pydantic import Field

from checker.availability import availability
from checker.causes import Fact, person_fact
from checker.evidence import Subject, vocab
from checker.store import Target

from .base import (
    Check,
    CheckArgs,
    EvalContext,
    Outcome,
    combine_all,
    locator,
    register,
    target_kind,
)

__all__ = [
    "OwnerActive",
    "OwnerAssigned",
    "OwnerHasRole",
    "OwnerIsIndividual",
    "OwnersDistinct",
    "PeopleKnown",
    "RecordsMatched",
    "owner_fact",
    "owner_problem",
]


def _owner(target: Target, role: str) -> str | None:
    if isinstance(target, Subject):
        h = target.owners.get(role)
        return h if h and h.strip() else None
    return None


def owner_problem(ctx: EvalContext, handle: str, *, need_active: bool) -> str | None:
    """Why ``handle`` cannot be an accountable owner at as-of, or None if it can.

    The answer is :func:`checker.availability.availability`'s; with ``need_active=False``
    only who the handle denotes matters (a known individual), not their presence.
    """
    a = availability(ctx.store.identity, handle, ctx.as_of, ctx.settings)
    if a.ok or (not need_active and a.individual):
        return None
    return a.reason


def owner_fact(ctx: EvalContext, handle: str, *, need_active: bool) -> Fact | None:
    """The underlying fact behind :func:`owner_problem`'s answer (None when there is none)."""
    a = availability(ctx.store.identity, handle, ctx.as_of, ctx.settings)
    if a.ok or (not need_active and a.individual):
        return None
    return person_fact(a, handle)


class RoleArgs(CheckArgs):
    """A single owner role."""

    role: str = Field(description="Owner role, e.g. primary, backup, risk_owner.")


class RolesArgs(CheckArgs):
    """Owner roles to check."""

    roles: list[str] = Field(default=["primary", "backup"], min_length=1,
                             description="Owner roles to check; absent roles are skipped.")




@register("owner_assigned")
class OwnerAssigned(Check[Subject, RoleArgs]):
    """The subject names an owner in a role.

    Passes when ``owners[role]`` is set. Fails when it is missing or empty.

    Example:
        applies_to: [ai_system]
        require:
          - owner_assigned: {role: primary}
    """

    needs = frozenset({"subject"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check the role is filled."""
        role = self.args.role
        h = _owner(target, role)
        if h is None:
            return Outcome("fail", f"no {role} owner named", (locator(target),))
        return Outcome("pass", f"{role} owner is {ctx.who(h)}", (locator(target),))


@register("owners_distinct")
class OwnersDistinct(Check[Subject, RolesArgs]):
    """The named owners in the given roles are different people.

    Compared by resolved person (so two emails of one person are the same), else by handle.
    Passes when all named owners differ. Fails when two roles name the same person.

    Example:
        applies_to: [risk]
        require:
          - owners_distinct: {roles: [primary, backup]}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Compare the owners pairwise."""
        seen: dict[str, str] = {}
        for role in self.args.roles:
            h = _owner(target, role)
            if h is None:
                continue
            p = ctx.person(h)
            key = f"id:{p.id}" if p else f"h:{h.strip().casefold()}"
            if key in seen:
                return Outcome("fail", f"{seen[key]} and {role} owner are the same person: "
                               f"{ctx.who(h)}", (locator(target),))
            seen[key] = role
        return Outcome("pass", "owners are distinct people", (locator(target),))


@register("owner_is_individual")
class OwnerIsIndividual(Check[Subject, RolesArgs]):
    """Each named owner is a known individual: not a group, service account or shared mailbox.

    Passes when every named owner resolves to an HR person of kind ``individual`` whose
    handle matches no shared-mailbox pattern. Fails when an owner is a group, a service
    account, a shared mailbox or unknown. Roles with no owner are skipped.

    Example:
        applies_to: [ai_system, risk]
        require:
          - owner_is_individual: {roles: [primary, backup]}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check each named owner."""
        return _each_owner(ctx, target, self.args.roles, need_active=False,
                           ok="is an individual")


def _each_owner(ctx: EvalContext, target: Target, roles: list[str], *, need_active: bool,
                ok: str) -> Outcome:
    """Judge every named owner in ``roles`` with :func:`owner_problem`; skip empty roles."""
    outs = []
    for role in roles:
        h = _owner(target, role)
        if h is None:
            continue
        prob = owner_problem(ctx, h, need_active=need_active)
        p = ctx.person(h)
        outs.append(Outcome("fail" if prob else "pass",
                            f"{role} owner: {prob}" if prob else f"{role} owner {ctx.who(h)} {ok}",
                            (locator(target), *((locator(p),) if p else ())),
                            (h,) if prob else (),
                            fact=owner_fact(ctx, h, need_active=need_active) if prob else None))
    return combine_all(outs)


class ActiveArgs(RolesArgs):
    """Arguments of owner_active."""


@register("owner_active")
class OwnerActive(Check[Subject, ActiveArgs]):
    """Each named owner is a current, present individual on the as-of date.

    Passes when every named owner resolves to an individual who is employed (hired, not
    terminated) and not on leave at as-of. Fails when an owner is unknown, terminated, not
    yet hired or absent. Roles with no owner are skipped.

    Example:
        applies_to: [ai_system, risk, dataset]
        require:
          - owner_active: {roles: [primary, backup]}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check each named owner at as-of."""
        return _each_owner(ctx, target, self.args.roles, need_active=True, ok="is active")


class HasRoleArgs(CheckArgs):
    """Arguments of owner_has_role."""

    roles: list[str] = Field(default=["primary"], min_length=1,
                             description="Owner roles to check.")
    required: dict[str, str] = Field(
        default_factory=dict,
        description="Subject kind → the HR-derived role its owners must hold, e.g. "
        "{risk: ai-risk-owner}. Kinds not listed pass.",
    )


@register("owner_has_role")
class OwnerHasRole(Check[Subject, HasRoleArgs]):
    """Each named owner holds the organisational role the subject kind requires.

    Passes when the kind has no required role, or every named owner in ``roles`` holds it.
    Fails when an owner lacks it or cannot be resolved.

    Example:
        applies_to: [risk]
        require:
          - owner_has_role: {roles: [primary], required: {risk: ai-risk-owner}}
    """

    needs = frozenset({"subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        """Check the required role of each owner."""
        need = self.args.required.get(target.kind)
        if not need:
            return Outcome("pass", f"no role required for {target.kind} owners")
        outs = []
        for role in self.args.roles:
            h = _owner(target, role)
            if h is None:
                continue
            p = ctx.person(h)
            if p is None:
                outs.append(Outcome("fail", f"{role} owner: unknown person {h!r}",
                                    (locator(target),),
                                    fact=owner_fact(ctx, h, need_active=False)))
            elif vocab(need) not in p.roles:
                outs.append(Outcome("fail", f"{role} owner {ctx.who(h)} does not hold the "
                                    f"role {need!r}", (locator(target), locator(p))))
            else:
                outs.append(Outcome("pass", f"{role} owner holds {need!r}", (locator(p),)))
        return combine_all(outs)


class KnownArgs(CheckArgs):
    """Arguments of people_known (none)."""


def referenced_handles(ctx: EvalContext, target: Target) -> list[tuple[str, str, str]]:
    """Every (field, what, handle) person reference of a target and its decisions.

    ``field`` is the reference field (``settings.known_people``): ``owners``,
    ``owner_history``, ``reviewers`` of a subject; ``registered_by`` … ``approvers`` of a
    record.
    """
    refs: list[tuple[str, str, str]] = []
    if isinstance(target, Subject):
        refs += [("owners", f"{role} owner", h) for role, h in sorted(target.owners.items())
                 if h]
        refs += [("owner_history", f"{s.role} owner in history", s.owner)
                 for s in target.history if s.owner]
        for kind_reviews in ("risk_review", "impact_assessment", "policy_review",
                             "due_diligence"):
            for rv in ctx.store.reviews_for(target.key, kind_reviews) or ctx.store.reviews_for(
                    target.id, kind_reviews):
                refs.append(("reviewers", f"{kind_reviews} reviewer", rv.reviewer))
    else:
        for attr in ("registered_by", "deployed_by", "requested_by", "assignee",
                     "escalated_to", "corrective_action_by", "actioned_by"):
            h = getattr(target, attr, None)
            if isinstance(h, str) and h:
                refs.append((attr, attr.replace("_", " "), h))
        rid = getattr(target, "id", None)
        if isinstance(rid, str):
            refs += [("approvers", "approver", a.approver)
                     for a in ctx.store.approvals_for(rid)]
    return refs


@register("people_known")
class PeopleKnown(Check[Target, KnownArgs]):
    """Every person the target's evidence refers to resolves to one known person.

    Looks at owners (current and historic), reviewers, approvers, registrants, deployers,
    assignees — or, for a kind listed in ``settings.known_people``, only the fields listed
    there (e.g. a release's registrant, a CI service account, need not be known).
    Passes when all resolve. Fails when a handle is unknown or ambiguous, naming each one.

    Example:
        applies_to: [ai_system, risk, release]
        require:
          - people_known: {}
    """

    needs = frozenset({"person"})

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Resolve every reference (of the fields that must resolve)."""
        must = ctx.settings.known_people.get(target_kind(target))
        bad = []
        skipped: list[str] = []
        facts: set[Fact | None] = set()
        for field, what, h in referenced_handles(ctx, target):
            if must is not None and field not in must:
                if ctx.person(h) is None:
                    skipped.append(field)
                continue
            if ctx.person(h) is None:
                why = "ambiguous" if ctx.store.identity.is_ambiguous(h) else "unknown person"
                bad.append(f"{what} {h!r} is {why}")
                facts.add(owner_fact(ctx, h, need_active=False))
        if bad:
            # one unknown handle (however many times referenced) is one fact
            return Outcome("fail", "; ".join(dict.fromkeys(bad)), (locator(target),),
                           fact=facts.pop() if len(facts) == 1 else None)
        if skipped:
            return Outcome("pass", "every person who must resolve is known; "
                           f"{', '.join(dict.fromkeys(skipped))} need not resolve "
                           "(settings.known_people)", (locator(target),))
        return Outcome("pass", "every referenced person is known", (locator(target),))


class MatchedArgs(CheckArgs):
    """Arguments of records_matched."""

    kinds: list[str] = Field(default=["training", "absence"], min_length=1,
                             description="Person-related evidence kinds to look at.")
    sources: list[str] = Field(default=[], description="Source names to look at (empty: all).")
    max_unmatched: int = Field(default=0, ge=0,
                               description="How many records may name nobody.")


@register("records_matched")
class RecordsMatched(Check[Target, MatchedArgs]):
    """Records about people (training, absences) name known people: nothing vanishes.

    Counts, per source, the records of ``kinds`` whose person handle resolves to nobody
    (the scan's ``unmatched`` list). The verdict is the same for every target, so apply the
    rule to the one subject that stands for the people data (e.g. a ``process``).
    Passes when at most ``max_unmatched`` such records exist. Fails when more do, naming each
    source with its count and first locations. Errors when a source of those kinds failed.

    Example:
        applies_to: [process]
        require:
          - records_matched: {kinds: [training, absence], max_unmatched: 0}
    """

    needs = frozenset({"person"})

    def all_needs(self) -> frozenset[str]:
        """The people and every kind counted."""
        return frozenset(self.needs | set(self.args.kinds))

    def evaluate(self, ctx: EvalContext, target: Target) -> Outcome:
        """Count the unmatched records."""
        a: MatchedArgs = self.args
        hits = [u for (src, kind), u in sorted(ctx.store.unmatched.items())
                if kind in a.kinds and (not a.sources or src in a.sources)]
        total = sum(len(u.locators) for u in hits)
        if total <= a.max_unmatched:
            return Outcome("pass", f"{total} {'/'.join(a.kinds)} record(s) name nobody "
                           f"(at most {a.max_unmatched} allowed)", (locator(target),))
        parts = [f"{u.source}: {len(u.locators)} {u.kind} record(s) name nobody (first: "
                 f"{', '.join(u.locators[:3])}; {', '.join(repr(h) for h in u.handles[:3])})"
                 for u in hits]
        return Outcome("fail", "; ".join(parts),
                       tuple(dict.fromkeys(x for u in hits for x in u.locators[:3])))

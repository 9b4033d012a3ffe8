"""Release sign-off beyond its existence: who may sign, how many must, and whether it is current.

Each check looks at the approvals of the exact ``model:version`` that were decided before
the deployment (or before as-of when the release is not deployed yet, e.g. while it is being
gated), that were not withdrawn by a later rejection, and that were not given by someone
who registered, deployed or requested the release (separation of duties).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import Field

from checker.availability import availability
from checker.causes import Fact
from checker.evidence import Approval, Release, Subject, vocab

from .base import Check, CheckArgs, EvalContext, Outcome, locator, register
from .continuity import fmt_time, role_timeline
from .releases import in_production
from .training import training_outcome

__all__ = ["ApprovalCurrent", "ApprovalsByTier", "ApproverAuthorised", "signable_approvals"]

_SOD = ["registered_by", "deployed_by", "requested_by"]


@dataclass(frozen=True)
class Signable:
    """The approvals that count for a release and the instant they had to precede."""

    deadline: datetime
    approvals: list[Approval]
    problems: list[str]
    error: str | None = None
    #: Handles of approvers whose approval was discounted as a conflict of duties.
    causes: tuple[str, ...] = ()


def signable_approvals(ctx: EvalContext, r: Release, distinct_from: list[str]) -> Signable:
    """Approvals of exactly this release, approved, before the deadline, by someone else."""
    gated = ctx.gate_release is not None and ctx.gate_release.casefold() == r.id.casefold()
    deadline = r.deployed_at
    if deadline is None:
        if not gated and in_production(ctx, r):
            return Signable(ctx.as_of, [], [], f"{r.id} is in production but its deployment "
                            "time is not recorded, so the sign-off cannot be checked")
        deadline = ctx.as_of
    excluded: dict[str, str] = {}
    for f in distinct_from:
        h = getattr(r, f, None)
        if isinstance(h, str) and h:
            p = ctx.person(h)
            excluded[p.id if p else h.casefold()] = f.removesuffix("_by")
    out: dict[str, Approval] = {}
    problems: list[str] = []
    causes: list[str] = []
    for ap in ctx.store.approvals_for(r.id):
        if (ap.model is not None or ap.version is not None) and (
                (ap.model or "").casefold() != r.model.casefold() or ap.version != r.version):
            continue
        if ap.decided_at >= deadline:
            continue
        if ap.decision != "approved":
            out.clear()
            problems.append(f"{ctx.who(ap.approver)} rejected it on {fmt_time(ap.decided_at)}")
            continue
        p = ctx.person(ap.approver)
        if p is None:
            problems.append(f"approval {ap.id} is by unknown person {ap.approver!r}")
            continue
        if p.id in excluded:
            problems.append(f"approval {ap.id} is by {ctx.who(ap.approver)}, who also "
                            f"{excluded[p.id]} the release")
            causes.append(ap.approver)
            continue
        out[ap.id] = ap
    return Signable(deadline, list(out.values()), problems, causes=tuple(causes))


_SCOPE_WORDS = {"system": "the AI system's", "model": "the model's", "": "the"}
_ROLE_WORDS = {"primary": "owner", "backup": "backup owner", "risk_owner": "risk owner"}


def role_words(token: str) -> str:
    """An owner-role token in words: ``system.risk_owner`` → "the AI system's risk owner"."""
    scope, _, role = token.rpartition(".")
    return (f"{_SCOPE_WORDS.get(scope, f'the {scope}')} "
            f"{_ROLE_WORDS.get(role, role.replace('_', ' '))}")


def no_signoff_fact(ctx: EvalContext, r: Release, sig: Signable) -> Fact:
    """The fact "no approval of this release counts": none, late, rejected or conflicted.

    The release rules (approved before deployment, by an authorised approver, by enough
    approvers, still current) all fail because of it: one cause, one fix.
    """
    what = "deployment" if r.deployed_at else "as-of date"
    late = [ap for ap in ctx.store.approvals_for(r.id)
            if ap.decided_at >= sig.deadline and ap.decision == "approved"
            and (ap.model is None or ap.model.casefold() == r.model.casefold())
            and (ap.version is None or ap.version == r.version)]
    parts = [*sig.problems, *(f"approval {ap.id} came only after the {what} "
                              f"({fmt_time(ap.decided_at)})" for ap in late)]
    text = (f"{r.id} has no approval that counts"
            + (" before the deployment" if r.deployed_at else "")
            + (f" ({'; '.join(parts)})" if parts else ": none is recorded"))
    return Fact("release.no_signoff", "", text)


def _holders(ctx: EvalContext, r: Release, token: str, at: datetime) -> list[str]:
    """Handles that held the role named by ``token`` (``system.risk_owner`` …) at ``at``."""
    scope, _, role = token.rpartition(".")
    subject: Subject | None
    if scope == "system":
        subject = ctx.store.system_of(r)
    elif scope == "model":
        subject = ctx.store.subject(r.model, "model")
    else:
        return []
    if subject is None:
        return []
    return [h.owner for h in role_timeline(subject, role)
            if h.owner and (h.start is None or h.start <= at) and (h.end is None or at < h.end)]


class AuthorisedArgs(CheckArgs):
    """Arguments of approver_authorised."""

    authorised: list[str] = Field(
        default=["system.risk_owner"],
        description="Owner roles (system.<role> or model.<role>) whose holder at the time of "
        "signing may approve; ownership history decides who held them then.")
    roles: list[str] = Field(
        default=[],
        description="HR roles (e.g. model-validator) whose holders may also approve.")
    courses: list[str] = Field(
        default=["ai-governance-basics"],
        description="Courses the approver must hold, valid at the time of signing.")
    validity_days: int | None = Field(
        default=365, ge=1,
        description="Validity of a completion without an expiry date (None = no expiry).")
    min_approvers: int = Field(default=1, ge=1,
                               description="Qualified approvals needed.")
    distinct_from: list[str] = Field(
        default=_SOD, description="Release fields naming people who may not approve.")


@register("approver_authorised")
class ApproverAuthorised(Check[Release, AuthorisedArgs]):
    """The release was signed by someone authorised, active and trained when they signed.

    Authorised means holding one of the ``authorised`` owner roles at the instant of
    signing (by the ownership history, not today's register), or one of the HR ``roles``.
    Active means employed and not on leave at that instant; trained means a valid, passed
    completion of every course at that instant.

    Passes when at least ``min_approvers`` approvals of the release (before deployment,
    not by its registrant, deployer or requester) qualify. Fails when not, naming each approval and
    what it lacked, or that there is none. Errors when a production release has no
    deployment time.

    Example:
        applies_to: [release]
        where:
          - release_in_production: {}
        require:
          - approver_authorised: {authorised: [system.risk_owner], courses: [ai-governance-basics]}
    """

    needs = frozenset({"release", "approval", "person", "subject", "training"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Judge each approval at its own decision time."""
        a: AuthorisedArgs = self.args
        sig = signable_approvals(ctx, target, a.distinct_from)
        ev = [locator(target), *(locator(x) for x in sig.approvals)]
        if sig.error:
            return Outcome("error", sig.error, tuple(ev))
        good: list[str] = []
        problems = list(sig.problems)
        cause = list(sig.causes)
        for ap in sig.approvals:
            at = ap.decided_at
            p = ctx.person(ap.approver)
            assert p is not None  # signable_approvals drops unknown approvers
            label = f"approval {ap.id} by {ctx.who(ap.approver)} on {fmt_time(at)}"
            holders = {q.id for t in a.authorised for h in _holders(ctx, target, t, at)
                       if (q := ctx.person(h)) is not None}
            why: list[str] = []
            if p.id not in holders and not {vocab(x) for x in a.roles} & set(p.roles):
                allowed = " or ".join([*(role_words(t) for t in a.authorised),
                                       *(f"someone with the HR role {x!r}" for x in a.roles)])
                why.append(f"not authorised (the approver must be {allowed} at the time of "
                           "signing)")
            if not availability(ctx.store.identity, ap.approver, at, ctx.settings).present:
                why.append("not active at the time of signing")
            for course in a.courses:
                o = training_outcome(ctx, p, course, at, validity_days=a.validity_days)
                if o.status == "fail":
                    why.append(f"not trained at the time of signing ({o.message})")
                ev.extend(o.evidence)
            if why:
                problems.append(f"{label}: {'; '.join(why)}")
                cause.append(ap.approver)
            else:
                good.append(label)
        evidence = tuple(dict.fromkeys(ev))
        if len(good) >= a.min_approvers:
            return Outcome("pass", "; ".join(good) + ": authorised, active and trained",
                           evidence)
        if not sig.approvals and not problems:
            problems.append(f"no approval of {target.id} before "
                            f"{'deployment' if target.deployed_at else 'as-of'}")
        return Outcome("fail", f"{target.id}: " + "; ".join(problems), evidence,
                       cause=tuple(dict.fromkeys(cause)),
                       fact=None if sig.approvals else no_signoff_fact(ctx, target, sig))


class TierArgs(CheckArgs):
    """Arguments of approvals_by_tier."""

    tiers: dict[str, int] = Field(
        default={"high": 2},
        description="Risk tier of the release's AI system → distinct approvers needed.")
    default: int = Field(default=1, ge=1,
                         description="Approvers needed for tiers not listed (or no tier).")
    distinct_from: list[str] = Field(
        default=_SOD, description="Release fields naming people who may not approve.")


@register("approvals_by_tier")
class ApprovalsByTier(Check[Release, TierArgs]):
    """Enough distinct people approved the release for its AI system's risk tier.

    The tier is the AI system's ``attributes.risk_tier``. Approvals count as in
    ``release_approved``: this exact version, approved before deployment, by a known
    person who did not register, deploy or request it; one person counts once.

    Tiers compare case-insensitively (``High`` is ``high``). Passes when the number of
    distinct approvers reaches ``tiers[tier]`` (else ``default``; also when the system has
    no tier). Fails when not, naming how many were needed and who approved. Errors when a
    production release has no deployment time, or the tier is neither in ``tiers`` nor in
    ``settings.risk_tiers`` (a misspelt tier is not "no requirement").

    Example:
        applies_to: [release]
        where:
          - release_in_production: {}
        require:
          - approvals_by_tier: {tiers: {high: 2}, default: 1}
    """

    needs = frozenset({"release", "approval", "person", "subject"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Count distinct approvers."""
        a: TierArgs = self.args
        sig = signable_approvals(ctx, target, a.distinct_from)
        ev = tuple(dict.fromkeys([locator(target), *(locator(x) for x in sig.approvals)]))
        if sig.error:
            return Outcome("error", sig.error, ev)
        system = ctx.store.system_of(target)
        raw = system.attributes.get("risk_tier") if system else None
        tier = vocab(str(raw)) if raw is not None else ""
        tiers = {vocab(k): v for k, v in a.tiers.items()}
        known = {*tiers, *(vocab(t) for t in ctx.settings.risk_tiers)}
        if tier and tier not in known:
            assert system is not None
            return Outcome("error", f"{target.id}: the risk tier {raw!r} of {system.id} is "
                           f"not a known tier ({', '.join(sorted(known))}), so the number of "
                           "approvers it needs is unknown", (*ev, locator(system)))
        need = tiers.get(tier, a.default)
        people: dict[str, str] = {}
        for ap in sig.approvals:
            p = ctx.person(ap.approver)
            if p is not None:
                people.setdefault(p.id, ctx.who(ap.approver))
        label = f"risk tier {tier}" if tier else "no risk tier"
        if len(people) >= need:
            return Outcome("pass", f"{target.id} ({label}): {len(people)} of {need} approvers "
                           f"({', '.join(people.values())})", ev)
        names = ", ".join(people.values()) or "nobody"
        extra = f"; {'; '.join(sig.problems)}" if sig.problems else ""
        noun = "approver" if need == 1 else "distinct approvers"
        return Outcome("fail", f"{target.id} ({label}) needs {need} {noun} before "
                       f"deployment, has {len(people)} ({names}){extra}", ev,
                       cause=sig.causes,
                       fact=None if people else no_signoff_fact(ctx, target, sig))


class CurrentArgs(CheckArgs):
    """Arguments of approval_current."""

    change_types: list[str] = Field(
        default=["model_version_registered", "risk_rating_changed",
                 "impact_assessment_updated"],
        min_length=1,
        description="Event types on the release, its model or its AI system that make an "
        "earlier approval stale.")
    distinct_from: list[str] = Field(
        default=_SOD, description="Release fields naming people who may not approve.")


@register("approval_current")
class ApprovalCurrent(Check[Release, CurrentArgs]):
    """The sign-off postdates the last change to the model, its risk rating or impact assessment.

    Looks for change events (``change_types``) on the release id, the model and the AI
    system dated after an approval and before the deployment (or as-of when not deployed).

    Passes when at least one counting approval has no such event after it. Fails when not, naming
    the events that made the approvals stale, or that there is no approval at all. Errors when
    a production release has no deployment time.

    Example:
        applies_to: [release]
        where:
          - release_in_production: {}
        require:
          - approval_current: {change_types: [risk_rating_changed, impact_assessment_updated]}
    """

    needs = frozenset({"release", "approval", "person", "subject", "event"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Search change events between each approval and the deadline."""
        a: CurrentArgs = self.args
        sig = signable_approvals(ctx, target, a.distinct_from)
        ev = [locator(target), *(locator(x) for x in sig.approvals)]
        if sig.error:
            return Outcome("error", sig.error, tuple(ev))
        refs = [target.id, target.model, f"model/{target.model}"]
        system = ctx.store.system_of(target)
        if system is not None:
            refs += [system.id, system.key]
        stale: list[str] = []
        for ap in reversed(sig.approvals):
            changes = ctx.store.events_between(refs, ap.decided_at, sig.deadline, a.change_types)
            if not changes:
                return Outcome("pass", f"approval {ap.id} by {ctx.who(ap.approver)} on "
                               f"{fmt_time(ap.decided_at)} postdates every change",
                               tuple(dict.fromkeys(ev)))
            ev.extend(locator(e) for e in changes)
            what = ", ".join(f"{e.type.replace('_', ' ')} on {e.subject} at "
                             f"{fmt_time(e.occurred_at)}" for e in changes)
            stale.append(f"approval {ap.id} by {ctx.who(ap.approver)} on "
                         f"{fmt_time(ap.decided_at)} is stale: {what}")
        if not sig.approvals:
            stale = [f"no approval of {target.id} to be current", *sig.problems]
        return Outcome("fail", f"{target.id}: " + "; ".join(stale) + " — it must be approved "
                       "again", tuple(dict.fromkeys(ev)), cause=sig.causes,
                       fact=None if sig.approvals else no_signoff_fact(ctx, target, sig))

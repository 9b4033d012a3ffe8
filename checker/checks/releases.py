"""Release checks: in production, approved before deployment with separation of duties."""

from __future__ import annotations

from pydantic import Field

from checker.evidence import Approval, Release
from checker.owners import handles_for

from .base import Check, CheckArgs, EvalContext, Outcome, locator, register

__all__ = ["ReleaseApproved", "ReleaseDeployed", "ReleaseInProduction", "deployed", "in_production"]


def in_production(ctx: EvalContext, r: Release) -> bool:
    """True when the release is in a production stage or alias, or is being gated now.

    An adapter with its own production stages/aliases (e.g. ``mlflow``) marks the release
    with ``attributes.production: true``; that counts too, besides the global settings.
    """
    if ctx.gate_release is not None and ctx.gate_release.casefold() == r.id.casefold():
        return True
    if r.attributes.get("production") is True:
        return True
    stages = {s.casefold() for s in ctx.settings.production_stages}
    aliases = {a.casefold() for a in ctx.settings.production_aliases}
    return (r.stage or "").casefold() in stages or any(a.casefold() in aliases for a in r.aliases)


def deployed(ctx: EvalContext, r: Release) -> bool:
    """True when the release was deployed by as-of (recorded time, production now, gated).

    A recorded deployment time, a production stage or alias now, or being gated. Deployment
    history, not the current stage: a version deployed in June and archived in
    September was deployed (its ``deployed_at`` says so) and its sign-off is checked. A
    version never deployed needs no sign-off. (Deployment times after as-of are removed
    before any rule runs, :mod:`checker.asof`.)
    """
    return r.deployed_at is not None or in_production(ctx, r)


class NoArgs(CheckArgs):
    """No arguments."""


@register("release_in_production")
class ReleaseInProduction(Check[Release, NoArgs]):
    """The release is in production (a production stage or alias) or is being gated.

    Passes when the stage or an alias is configured as production, or ``gate release`` is
    deciding this very release. Fails when it is not. Mostly used in ``where``.

    Example:
        applies_to: [release]
        where:
          - release_in_production: {}
        require:
          - release_approved: {}
    """

    needs = frozenset({"release"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Check stage and aliases."""
        ok = in_production(ctx, target)
        where = target.stage or ",".join(target.aliases) or "no stage"
        return Outcome("pass" if ok else "fail",
                       f"{target.id} is {'in' if ok else 'not in'} production ({where})",
                       (locator(target),))


class ApprovedArgs(CheckArgs):
    """Arguments of release_approved."""

    distinct_from: list[str] = Field(
        default=["registered_by", "deployed_by", "requested_by"],
        description="Release fields naming people who may not approve their own release.")
    min_approvers: int = Field(default=1, ge=1, description="Distinct valid approvers needed.")
    signers: list[str] = Field(
        default=["system.risk_owner", "system.primary", "model.primary"],
        description="Role tokens naming who should sign off (used to say who must act).")


@register("release_approved")
class ReleaseApproved(Check[Release, ApprovedArgs]):
    """The exact model version was approved before deployment, with separation of duties.

    The approver must be someone other than the people who registered, deployed or
    requested the release.

    Passes when at least ``min_approvers`` distinct known people approved this
    ``model:version`` before ``deployed_at`` (or before as-of when not yet deployed), none
    of them in ``distinct_from``. Fails when there is no approval, it came after the
    deployment, or the approver is the registrant/deployer/requester; the message names who
    must sign off. Errors when a deployed production release has no deployment time.

    Example:
        applies_to: [release]
        where:
          - release_in_production: {}
        require:
          - release_approved: {min_approvers: 1}
    """

    needs = frozenset({"release", "approval", "person"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Validate each approval of the release."""
        a: ApprovedArgs = self.args
        r = target
        excluded: dict[str, str] = {}
        for f in a.distinct_from:
            h = getattr(r, f, None)
            if isinstance(h, str) and h:
                p = ctx.person(h)
                excluded[p.id if p else h.casefold()] = f.removesuffix("_by")
        signers = self._signers(ctx, r, excluded)
        must = (" — sign-off needed from " + " or ".join(ctx.who(h) for h in signers)
                if signers else "")
        deadline = r.deployed_at
        gated = ctx.gate_release is not None and ctx.gate_release.casefold() == r.id.casefold()
        if deadline is None:
            if not gated and in_production(ctx, r):
                return Outcome("error", f"{r.id} is in production but its deployment time is "
                               "not recorded, so the approval order cannot be checked",
                               (locator(r),), signers)
            deadline = ctx.as_of
        approvals = [x for x in ctx.store.approvals_for(r.id) if self._matches(x, r)]
        valid: dict[str, Approval] = {}
        problems: list[str] = []
        for ap in approvals:
            p = ctx.person(ap.approver)
            if ap.decision != "approved":
                problems.append(f"{ctx.who(ap.approver)} rejected it on {ap.decided_at:%Y-%m-%d}")
                valid.clear()
                continue
            if p is None:
                problems.append(f"approval {ap.id} is by unknown person {ap.approver!r}")
                continue
            key = p.id
            if key in excluded:
                problems.append(f"approval {ap.id} is by {ctx.who(ap.approver)}, who also "
                                f"{excluded[key]} the release (separation of duties)")
                continue
            if ap.decided_at >= deadline:
                what = "deployment" if r.deployed_at else "as-of"
                problems.append(f"approval {ap.id} by {ctx.who(ap.approver)} at "
                                f"{ap.decided_at:%Y-%m-%d %H:%M}Z came after the {what} "
                                f"({deadline:%Y-%m-%d %H:%M}Z)")
                continue
            valid[key] = ap
        ev = (locator(r), *(locator(x) for x in approvals))
        if len(valid) >= a.min_approvers:
            names = ", ".join(ctx.who(x.approver) for x in valid.values())
            return Outcome("pass", f"{r.id} approved by {names} before deployment", ev)
        fact = None
        if not valid:
            from .signoff import no_signoff_fact, signable_approvals  # signoff imports us

            fact = no_signoff_fact(ctx, r, signable_approvals(ctx, r, a.distinct_from))
        if not approvals:
            return Outcome("fail", f"no approval recorded for {r.id}{must}", ev, signers,
                           fact=fact)
        need = (f"{a.min_approvers} distinct approvers needed, {len(valid)} valid; "
                if a.min_approvers > 1 else "")
        return Outcome("fail", f"{r.id}: {need}{'; '.join(problems)}{must}", ev, signers,
                       fact=fact)

    @staticmethod
    def _matches(ap: Approval, r: Release) -> bool:
        if ap.model is None and ap.version is None:
            return True
        return (ap.model or "").casefold() == r.model.casefold() and ap.version == r.version

    def _signers(self, ctx: EvalContext, r: Release, excluded: dict[str, str]
                 ) -> tuple[str, ...]:
        """Who should sign: the first token naming someone not barred from approving."""
        out: list[str] = []
        for token in self.args.signers:
            for h in handles_for(ctx.store, r, token, ""):
                p = ctx.person(h)
                if h and h not in out and (p is None or p.id not in excluded):
                    out.append(h)
            if out:
                break
        return tuple(out)


@register("release_deployed")
class ReleaseDeployed(Check[Release, NoArgs]):
    """The release was deployed (at any time up to as-of), or is being gated.

    Passes when a deployment time is recorded (a ``deployed_at`` tag, a pipeline record),
    when the version is in a production stage or alias now, or when ``gate release`` is
    deciding it. Fails when the version was never deployed (they need no sign-off). Used in
    ``where``: the release rules are about every deployment, not the current stage.

    Example:
        applies_to: [release]
        where:
          - release_deployed: {}
        require:
          - release_approved: {}
    """

    needs = frozenset({"release"})

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        """Check the deployment time, stage and aliases."""
        if target.deployed_at is not None:
            return Outcome("pass", f"{target.id} was deployed at "
                           f"{target.deployed_at:%Y-%m-%d %H:%M}Z", (locator(target),))
        ok = in_production(ctx, target)
        where = target.stage or ",".join(target.aliases) or "no stage"
        return Outcome("pass" if ok else "fail",
                       f"{target.id} is {'in production' if ok else 'never deployed'} "
                       f"({where})", (locator(target),))

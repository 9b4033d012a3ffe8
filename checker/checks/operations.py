"""Operations: incident handling, alert response and training by accountable role.

Deadlines are measured in real elapsed time between aware UTC instants, so a
daylight-saving change between opening and acknowledgement never moves a deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from checker.causes import reference_fact
from checker.evidence import Alert, Incident, Person, vocab
from checker.severity import Severity
from checker.store import Act
from checker.timeutil import duration_text

from .base import Check, CheckArgs, EvalContext, Outcome, combine_all, locator, register
from .continuity import fmt_time
from .ownership import owner_problem
from .training import training_outcome

__all__ = [
    "AlertActionedWithin",
    "CorrectiveActionSignedOff",
    "IncidentAcknowledgedWithin",
    "IncidentAssigned",
    "IncidentEscalated",
    "RoleTrained",
]

def _hours(td: timedelta) -> str:
    """Plain words with units: ``15 min``, ``3 h 30 min``, ``2 days 4 h``."""
    return duration_text(td)


def _at_least(severity: Severity, floor: Severity) -> bool:
    return severity.rank >= floor.rank


def _deadline(ctx: EvalContext, what: str, start: datetime, done: datetime | None,
              sla: timedelta, ev: tuple[str, ...]) -> Outcome:
    due = start + sla
    if done is None:
        if due <= ctx.as_of:
            return Outcome("fail", f"not {what}; the SLA of {_hours(sla)} ran out at "
                           f"{fmt_time(due)}", ev)
        return Outcome("pass", f"not {what} yet; due by {fmt_time(due)}", ev)
    took = done - start
    if done > due:
        return Outcome("fail", f"{what} after {_hours(took)} at {fmt_time(done)}, beyond the "
                       f"SLA of {_hours(sla)} (due {fmt_time(due)})", ev)
    return Outcome("pass", f"{what} after {_hours(took)}, within the SLA of {_hours(sla)}", ev)


class SeverityArgs(CheckArgs):
    """Arguments of incident_assigned."""

    min_severity: Severity = Field(default=Severity.MEDIUM,
                              description="Incidents at or above this severity need one.")


@register("incident_assigned")
class IncidentAssigned(Check[Incident, SeverityArgs]):
    """Each incident at or above ``min_severity`` has an individual assignee.

    Passes when the assignee resolves to a known individual (not a group, service account
    or shared mailbox), or the incident is below the severity. Fails when not.
    Errors when: never.

    Example:
        applies_to: [incident]
        require:
          - incident_assigned: {min_severity: medium}
    """

    needs = frozenset({"incident", "person"})

    def evaluate(self, ctx: EvalContext, target: Incident) -> Outcome:
        """Resolve the assignee."""
        ev = (locator(target),)
        if not _at_least(target.severity, self.args.min_severity):
            return Outcome("pass", f"{target.severity} incident: below "
                           f"{self.args.min_severity}", ev)
        if not target.assignee:
            return Outcome("fail", f"{target.severity} incident has no assignee", ev)
        prob = owner_problem(ctx, target.assignee, need_active=False)
        if prob:
            return Outcome("fail", f"assignee: {prob}", ev)
        return Outcome("pass", f"assigned to {ctx.who(target.assignee)}", ev)


class SlaArgs(CheckArgs):
    """Arguments of incident_acknowledged_within."""

    sla_hours: dict[Severity, float] = Field(
        default={Severity.CRITICAL: 1.0, Severity.HIGH: 4.0, Severity.MEDIUM: 24.0,
                 Severity.LOW: 72.0},
        description="Severity → hours from opening to acknowledgement (elapsed time).")


@register("incident_acknowledged_within")
class IncidentAcknowledgedWithin(Check[Incident, SlaArgs]):
    """The incident was acknowledged within the SLA for its severity.

    Passes when acknowledged no later than opening + SLA, or the SLA has not run out yet,
    or no SLA is set for its severity. Fails when acknowledged late, or not acknowledged
    and the SLA ran out. Errors when: never.

    Example:
        applies_to: [incident]
        require:
          - incident_acknowledged_within: {sla_hours: {critical: 1, high: 4, medium: 24}}
    """

    needs = frozenset({"incident"})

    def evaluate(self, ctx: EvalContext, target: Incident) -> Outcome:
        """Compare acknowledgement with the SLA."""
        hours = self.args.sla_hours.get(target.severity)
        ev = (locator(target),)
        if hours is None:
            return Outcome("pass", f"no acknowledgement SLA for {target.severity}", ev)
        return _deadline(ctx, "acknowledged", target.opened_at, target.acknowledged_at,
                         timedelta(hours=hours), ev)


class EscalationArgs(CheckArgs):
    """Arguments of incident_escalated."""

    sla_hours: dict[Severity, float] = Field(
        default={Severity.CRITICAL: 4.0, Severity.HIGH: 24.0},
        description="Severity → hours from opening to escalation; severities not listed "
        "need no escalation.")
    to: str = Field(default="risk_owner",
                    description="Owner role on the incident's AI system that must receive it.")


@register("incident_escalated")
class IncidentEscalated(Check[Incident, EscalationArgs]):
    """Serious incidents were escalated to the AI system's risk owner within the SLA.

    Passes when the incident's severity needs no escalation, or it was escalated to the
    very person holding ``to`` on its AI system, within the SLA (or the SLA has not run
    out). Fails when escalated to someone else, late, not at all, or the system has nobody
    in that role. Errors when: never.

    Example:
        applies_to: [incident]
        require:
          - incident_escalated: {sla_hours: {critical: 4, high: 24}, to: risk_owner}
    """

    needs = frozenset({"incident", "subject", "person"})

    def evaluate(self, ctx: EvalContext, target: Incident) -> Outcome:
        """Check recipient and timing."""
        a: EscalationArgs = self.args
        hours = a.sla_hours.get(target.severity)
        if hours is None:
            return Outcome("pass", f"{target.severity} incident: no escalation needed",
                           (locator(target),))
        system = ctx.store.system_of(target)
        role = a.to.replace("_", " ")
        ev: tuple[str, ...] = (locator(target),)
        if system is None:
            named = target.system if isinstance(target.system, str) else ""
            # the same fact AIMS-LNK-001 reports (system_reference_resolves): one cause
            return Outcome("fail", f"incident names no known AI system, so its {role} is "
                           "unknown", ev,
                           fact=reference_fact(named, f"names AI system or model {named!r}, "
                                               "which no source knows") if named.strip()
                           else None)
        ev = (locator(target), locator(system))
        h = system.owners.get(a.to)
        if not h:
            return Outcome("fail", f"{system.id} has no {role} to escalate to", ev)
        want = ctx.person(h)
        timing = _deadline(ctx, "escalated", target.opened_at, target.escalated_at,
                           timedelta(hours=hours), ev)
        if target.escalated_to:
            got = ctx.person(target.escalated_to)
            if want is None or got is None or got.id != want.id:
                return Outcome("fail", f"escalated to {ctx.who(target.escalated_to)}, not to "
                               f"the {role} of {system.id}, {ctx.who(h)}", ev, (h,))
            return Outcome(timing.status, f"{timing.message} to the {role} {ctx.who(h)}", ev)
        if timing.status == "fail":
            return Outcome("fail", f"{timing.message}; it must go to the {role} "
                           f"{ctx.who(h)}", ev, (h,))
        return timing


def assignee_at(incident: Incident, when: datetime) -> str | None:
    """Who was assigned the incident at ``when``: its assignee history, else the assignee."""
    for span in incident.assignee_history:
        if span.start <= when and (span.end is None or when < span.end):
            return span.owner
    if incident.assignee_history and when < min(s.start for s in incident.assignee_history):
        return None  # before anyone was assigned
    return incident.assignee


class SignOffArgs(CheckArgs):
    """Arguments of corrective_action_signed_off."""

    min_severity: Severity = Field(default=Severity.LOW,
                              description="Closed incidents at or above this severity need it.")


@register("corrective_action_signed_off")
class CorrectiveActionSignedOff(Check[Incident, SignOffArgs]):
    """Closed incidents carry a corrective-action sign-off by someone other than the assignee.

    Passes when the incident is open, or closed with a corrective action signed off
    (person and time) by a known person who is not the assignee — the assignee at the
    sign-off by the incident's assignee history where the source keeps one (Jira), else
    the current assignee. Fails when a closed incident has no sign-off, an unknown signer,
    or the assignee signed their own fix.
    Errors when: never.

    Example:
        applies_to: [incident]
        require:
          - corrective_action_signed_off: {min_severity: low}
    """

    needs = frozenset({"incident", "person"})

    def evaluate(self, ctx: EvalContext, target: Incident) -> Outcome:
        """Inspect the sign-off of a closed incident."""
        ev = (locator(target),)
        if target.closed_at is None or target.closed_at > ctx.as_of:
            return Outcome("pass", "incident not closed yet", ev)
        if not _at_least(target.severity, self.args.min_severity):
            return Outcome("pass", f"{target.severity} incident: below "
                           f"{self.args.min_severity}", ev)
        by, at = target.corrective_action_by, target.corrective_action_at
        if not by or at is None:
            return Outcome("fail", f"closed on {fmt_time(target.closed_at)} without a "
                           "corrective-action sign-off (person and date)", ev)
        p = ctx.person(by)
        if p is None:
            return Outcome("fail", f"corrective action signed off by unknown person {by!r}", ev)
        holder = assignee_at(target, at)
        a = ctx.person(holder)
        if a is not None and a.id == p.id:
            then = "" if holder == target.assignee else " at the time"
            return Outcome("fail", f"corrective action signed off by the assignee{then} "
                           f"{ctx.who(by)} (needs someone else)", ev)
        return Outcome("pass", f"corrective action signed off by {ctx.who(by)} on "
                       f"{fmt_time(at)}", ev)


class AlertArgs(CheckArgs):
    """Arguments of alert_actioned_within."""

    sla_minutes: dict[Severity, float] = Field(
        default={Severity.CRITICAL: 15.0, Severity.HIGH: 60.0, Severity.MEDIUM: 240.0,
                 Severity.LOW: 1440.0},
        description="Severity → minutes from raising to a logged action (elapsed time).")


@register("alert_actioned_within")
class AlertActionedWithin(Check[Alert, AlertArgs]):
    """Each monitoring alert has a logged action by an individual within its SLA.

    Passes when the alert was actioned within the SLA for its severity by a known
    individual (not a group, bot or shared mailbox), or its SLA has not run out. Fails when
    it is unactioned past the SLA, actioned late, or actioned by no identifiable
    individual. Errors when: never.

    Example:
        applies_to: [alert]
        require:
          - alert_actioned_within: {sla_minutes: {critical: 15, high: 60}}
    """

    needs = frozenset({"alert", "person"})

    def evaluate(self, ctx: EvalContext, target: Alert) -> Outcome:
        """Check who actioned it and when."""
        ev = (locator(target),)
        minutes = self.args.sla_minutes.get(target.severity)
        outs: list[Outcome] = []
        if target.actioned_by:
            prob = owner_problem(ctx, target.actioned_by, need_active=False)
            if prob:
                outs.append(Outcome("fail", f"actioned by {prob}", ev))
        elif target.actioned_at is not None:
            outs.append(Outcome("fail", "action logged without a person", ev))
        if minutes is not None:
            outs.append(_deadline(ctx, "actioned", target.raised_at, target.actioned_at,
                                  timedelta(minutes=minutes), ev))
        if not outs:
            return Outcome("pass", f"no SLA for {target.severity} alerts", ev)
        return combine_all(outs)


class Requirement(BaseModel):
    """What one role requires."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    courses: list[str] = Field(min_length=1, description="Course ids.")
    validity_days: int | None = Field(
        default=365, ge=1, description="Validity of a completion without an expiry date.")


class DerivedRole(BaseModel):
    """A role held by whoever did one of these things within ``within_days`` before as-of."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    approved: list[str] = Field(
        default=[], description="Approval kinds (release, policy …; review kinds for an "
        "approved review); `*` = any approval.")
    reviewed: list[str] = Field(
        default=[], description="Review kinds (risk_review, policy_review …); `*` = any.")
    took_over: list[str] = Field(
        default=[], description="Owner roles (primary, backup …) taken over, by the "
        "ownership history; `*` = any.")
    within_days: int = Field(default=365, ge=1,
                             description="How far back before as-of an act counts.")

    def grants(self, act: Act) -> bool:
        """True when ``act`` is one of the acts that give this role."""
        kinds = {"approved": self.approved, "reviewed": self.reviewed,
                 "took_over": self.took_over}[act.what]
        return any(k == "*" or vocab(k) == act.kind for k in kinds)


class RoleTrainedArgs(CheckArgs):
    """Arguments of role_trained."""

    requirements: dict[str, Requirement] = Field(
        description="Role → required courses and validity. Roles are HR roles (compared "
        "case-insensitively), roles derived from evidence (`derived_roles`), plus the "
        "pseudo-role named by owner_role for anyone who owns a subject.")
    derived_roles: dict[str, DerivedRole] = Field(
        default_factory=dict,
        description="Roles that follow responsibility: role → the acts that give it "
        "(approved a release or a policy, reviewed a risk, took over an ownership) within "
        "a window before as-of.")
    owner_role: str = Field(
        default="subject-owner",
        description="Pseudo-role given to every person named as an owner of a subject.")
    warn_within_days: int = Field(default=30, ge=0,
                                  description="Warn when a completion expires this soon.")


@register("role_trained")
class RoleTrained(Check[Person, RoleTrainedArgs]):
    """Each person holds the courses required for every accountable role they hold.

    A person's roles are their HR roles (compared case-insensitively), plus ``owner_role``
    when they own any subject, plus each of ``derived_roles`` whose acts they did within
    its window before as-of: approved a release or a policy, reviewed a risk, took over an
    ownership (so "everyone who approved a release in the last 365 days holds course X").
    Passes when every required course of every role is passed and valid at as-of (or the
    person holds no role with requirements). Warns when one expires within
    ``warn_within_days``. Fails when not, naming each missing, expired or failed course and the role
    that needs it. Errors when: never.

    Example:
        applies_to: [person]
        require:
          - role_trained:
              requirements:
                ai-risk-owner: {courses: [ai-governance-basics], validity_days: 365}
                subject-owner: {courses: [ai-governance-basics]}
                release-approver: {courses: [eu-ai-act-essentials]}
              derived_roles:
                release-approver: {approved: [release, policy], within_days: 365}
    """

    needs = frozenset({"person", "training", "subject"})

    def all_needs(self) -> frozenset[str]:
        """Derived roles read approvals and reviews: without them no verdict can pass."""
        extra = {"approval", "review"} if self.args.derived_roles else set()
        return frozenset(self.needs | extra)

    def evaluate(self, ctx: EvalContext, target: Person) -> Outcome:
        """Check every (role, course)."""
        a: RoleTrainedArgs = self.args
        roles = list(target.roles)  # HR roles, already in vocabulary form
        owned = ctx.store.owned_by(target)
        if owned:
            roles.append(vocab(a.owner_role))
        why: dict[str, str] = {}
        if a.derived_roles:
            acts = ctx.store.acts(target)
            for name, rule in sorted(a.derived_roles.items()):
                since = ctx.as_of - timedelta(days=rule.within_days)
                hit = next((x for x in reversed(acts)
                            if since <= x.at <= ctx.as_of and rule.grants(x)), None)
                if hit is not None:
                    role = vocab(name)
                    roles.append(role)
                    why[role] = (f"{hit.what.replace('_', ' ')} {hit.kind} {hit.subject} "
                                 f"on {fmt_time(hit.at)}, {hit.locator}")
        reqs = {vocab(k): v for k, v in a.requirements.items()}
        need: dict[str, tuple[list[str], int | None]] = {}
        for role in dict.fromkeys(roles):
            req = reqs.get(role)
            if req is None:
                continue
            for course in req.courses:
                roles_for, validity = need.get(course, ([], req.validity_days))
                v = req.validity_days if validity is None or req.validity_days is None \
                    else min(validity, req.validity_days)
                label = f"{role} ({why[role]})" if role in why else role
                need[course] = ([*roles_for, label], v)
        if not need:
            return Outcome("pass", "holds no role with training requirements",
                           (locator(target),))
        outs: list[Outcome] = []
        for course, (for_roles, validity) in sorted(need.items()):
            o = training_outcome(ctx, target, course, ctx.as_of, validity_days=validity,
                                 warn_days=a.warn_within_days)
            outs.append(Outcome(o.status, f"{o.message} (required for {', '.join(for_roles)})",
                                (locator(target), *o.evidence), o.act))
        return combine_all(outs)

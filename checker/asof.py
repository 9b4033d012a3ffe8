"""Time is as-of everywhere: what the evidence said at the as-of instant.

A scan "as of" a past date must give that date's answer, not today's. Every record (or
part of a record) dated **after** the as-of instant is made invisible here, once, before
the evidence store is built, so no rule can see it:

========== ===================================================================
record     after as-of
========== ===================================================================
release    registered after as-of: the version did not exist — dropped;
           deployed after as-of: not yet deployed, so not in production then
           either (``deployed_at``, ``deployed_by``, today's stage and aliases
           cleared: the release rules do not apply to it at as-of)
           (a deployment dated after the evidence was *collected* is impossible: only
           its time is cleared, so the release rules report an ``error``)
approval   decided after as-of: dropped
review     reviewed after as-of: dropped; approved after as-of: the approval
           (``approver``/``approved_at``) is cleared
incident   opened after as-of: dropped; acknowledged, escalated, resolved, closed
           or corrective action after as-of: that step has not happened yet
training   completed after as-of: dropped
event      occurred after as-of: dropped
alert      raised after as-of: dropped; actioned after as-of: not actioned yet
========== ===================================================================

People, absences and subjects are kept as they are: future hire and termination dates,
planned leave and planned ownership hand-overs are facts *known* at as-of (the coverage
rules warn about them).

The invariant (tested as a property): moving any record's date past as-of can never turn
a failing finding into a passing one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from .evidence import (
    Alert,
    Approval,
    Event,
    EvidenceBundle,
    Incident,
    Release,
    Review,
    Training,
)

__all__ = ["visible_at"]

R = TypeVar("R")


def _after(t: datetime | None, as_of: datetime) -> bool:
    return t is not None and t > as_of


def _keep(records: Iterable[R], date: Callable[[R], datetime | None], as_of: datetime
          ) -> list[R]:
    return [r for r in records if not _after(date(r), as_of)]


def _release(r: Release, as_of: datetime) -> Release:
    if not _after(r.deployed_at, as_of):
        return r
    fetched = r.provenance.fetched_at
    if r.deployed_at is not None and fetched is not None and r.deployed_at > fetched:
        # A deployment dated after the evidence was collected cannot have happened: keep
        # the production stage without a deployment time, which the release rules report
        # as an error (fail closed) instead of letting a future date hide a release.
        return r.model_copy(update={"deployed_at": None, "deployed_by": None})
    # Not yet deployed at as-of, so not in production then either: today's stage and
    # aliases describe the registry now, after the deployment.
    attributes = {k: v for k, v in r.attributes.items() if k != "production"}
    return r.model_copy(update={"deployed_at": None, "deployed_by": None, "stage": None,
                                "aliases": (), "attributes": attributes})


def _review(r: Review, as_of: datetime) -> Review:
    if _after(r.approved_at, as_of):
        return r.model_copy(update={"approved_at": None, "approver": None})
    return r


#: Incident steps: (instant field, the fields that vanish with it).
_INCIDENT_STEPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("acknowledged_at", ("acknowledged_at",)),
    ("escalated_at", ("escalated_at", "escalated_to")),
    ("resolved_at", ("resolved_at",)),
    ("closed_at", ("closed_at",)),
    ("corrective_action_at", ("corrective_action_at", "corrective_action_by")),
)


def _incident(i: Incident, as_of: datetime) -> Incident:
    update: dict[str, Any] = {}
    for at, fields in _INCIDENT_STEPS:
        if _after(getattr(i, at), as_of):
            update.update(dict.fromkeys(fields))
    return i.model_copy(update=update) if update else i


def _alert(a: Alert, as_of: datetime) -> Alert:
    if _after(a.actioned_at, as_of):
        return a.model_copy(update={"actioned_at": None, "actioned_by": None})
    return a


def visible_at(bundle: EvidenceBundle, as_of: datetime) -> EvidenceBundle:
    """The evidence as it stood at ``as_of`` (see the module docstring for what changes).

    Returns ``bundle`` itself when nothing is dated after ``as_of`` (the usual case).
    """
    def release_registered(r: Release) -> datetime | None:
        return r.registered_at

    def decided(a: Approval) -> datetime | None:
        return a.decided_at

    def reviewed(r: Review) -> datetime | None:
        return r.reviewed_at

    def opened(i: Incident) -> datetime | None:
        return i.opened_at

    def completed(t: Training) -> datetime | None:
        return t.completed_at

    def occurred(e: Event) -> datetime | None:
        return e.occurred_at

    def raised(a: Alert) -> datetime | None:
        return a.raised_at

    out = bundle.model_copy(update=dict(
        releases=[_release(r, as_of) for r in _keep(bundle.releases, release_registered, as_of)],
        approvals=_keep(bundle.approvals, decided, as_of),
        reviews=[_review(r, as_of) for r in _keep(bundle.reviews, reviewed, as_of)],
        incidents=[_incident(i, as_of) for i in _keep(bundle.incidents, opened, as_of)],
        trainings=_keep(bundle.trainings, completed, as_of),
        events=_keep(bundle.events, occurred, as_of),
        alerts=[_alert(a, as_of) for a in _keep(bundle.alerts, raised, as_of)],
    ))
    same = all(len(getattr(out, f)) == len(getattr(bundle, f)) and all(
        x is y for x, y in zip(getattr(out, f), getattr(bundle, f), strict=True))
        for f in ("releases", "approvals", "reviews", "incidents", "trainings", "events",
                  "alerts"))
    return bundle if same else out

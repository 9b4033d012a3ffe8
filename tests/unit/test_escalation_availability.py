"""The escalation ladder names a target only when availability() says they can be accountable.

Escalation used to judge a manager with its own test (an individual employed at the as-of);
these are the cases where that test and :func:`checker.availability.availability` disagreed.
Each now resolves as availability() says: an unavailable manager is passed over and the
escalation goes up the ladder to the accountable executive.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checker.availability import availability
from checker.config import Settings
from checker.escalation import apply_escalation
from checker.evidence import Period, Person, Provenance
from checker.findings import Finding, OwnerRef
from checker.identity import IdentityIndex
from checker.loopconfig import EscalationStep

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
PROV = Provenance(adapter="t", locator="hr.csv:1", fetched_at=AS_OF)
LADDER = [EscalationStep(after_days=14, to="deputy"),
          EscalationStep(after_days=30, to="manager"),
          EscalationStep(after_days=90, to="accountable_executive")]
SINCE = "2026-10-01T00:00:00Z"  # 60 days: the manager step is reached
NO_CONTRACTORS = Settings(allow_contractors=False)


def _owner(manager: str) -> Person:
    return Person(id="E1", name="Olga Owner", emails=("olga@x.example",), manager=manager,
                  provenance=PROV)


def _exec() -> Person:
    return Person(id="E9", name="Eve Exec", emails=("eve@x.example",), provenance=PROV)


def _finding() -> Finding:
    return Finding(rule_id="R-1", title="t", severity="high", status="fail",
                   target_kind="ai_system", target_id="bot", target_name="Bot", message="m",
                   owner=OwnerRef(id="E1", name="Olga Owner", email="olga@x.example",
                                  via="primary"))


def _escalate(manager: Person, settings: Settings | None = None) -> OwnerRef | None:
    identity = IdentityIndex([_owner(manager.primary_email or manager.id), manager, _exec()])
    (f,) = apply_escalation([_finding()], LADDER, {("R-1", "ai_system", "bot"): SINCE},
                            AS_OF, identity, "eve@x.example", settings)
    return f.escalated_to


def _old_rule(p: Person) -> bool:
    """The duplicate test escalation had: an individual employed at the as-of."""
    return p.kind == "individual" and p.employed_at(AS_OF)


CASES = [
    pytest.param(
        Person(id="M1", name="Max Manager", emails=("max@x.example",), provenance=PROV,
               leave=(Period(start=datetime(2026, 11, 1, tzinfo=UTC),
                             end=datetime(2027, 1, 1, tzinfo=UTC), kind="parental"),)),
        None, "on_leave", id="manager-on-dated-leave"),
    pytest.param(
        Person(id="M2", name="Ai Team", emails=("ai-team@x.example",), provenance=PROV),
        None, "shared_mailbox", id="group-mailbox-as-manager"),
    pytest.param(
        Person(id="M3", name="Carl Contractor", emails=("carl@x.example",),
               employment_type="contractor", provenance=PROV),
        NO_CONTRACTORS, "contractor", id="contractor-manager-contractors-not-allowed"),
]


@pytest.mark.parametrize(("manager", "settings", "status"), CASES)
def test_an_unavailable_manager_is_passed_over_as_availability_says(
        manager: Person, settings: Settings | None, status: str) -> None:
    identity = IdentityIndex([manager])
    a = availability(identity, manager.primary_email, AS_OF, settings)
    assert a.status == status
    assert _old_rule(manager)  # the old test would have escalated to this manager
    got = _escalate(manager, settings)
    assert got is not None
    assert (got.email, got.via) == ("eve@x.example", "escalation:90d:accountable_executive")


def test_a_terminated_manager_is_passed_over() -> None:
    gone = Person(id="M4", name="Gus Gone", emails=("gus@x.example",), provenance=PROV,
                  status="terminated", terminated=datetime(2026, 6, 1, tzinfo=UTC))
    assert availability(IdentityIndex([gone]), "gus@x.example", AS_OF).status == "terminated"
    got = _escalate(gone)
    assert got is not None
    assert got.email == "eve@x.example"


def test_an_available_manager_is_named() -> None:
    ok = Person(id="M5", name="Ann Able", emails=("ann@x.example",), provenance=PROV)
    assert availability(IdentityIndex([ok]), "ann@x.example", AS_OF).ok
    got = _escalate(ok)
    assert got is not None
    assert (got.id, got.name, got.email, got.via) == (
        "M5", "Ann Able", "ann@x.example", "escalation:30d:manager")


def test_a_contractor_manager_is_named_when_contractors_may_own() -> None:
    carl = Person(id="M3", name="Carl Contractor", emails=("carl@x.example",),
                  employment_type="contractor", provenance=PROV)
    got = _escalate(carl, Settings(allow_contractors=True))
    assert got is not None
    assert got.email == "carl@x.example"

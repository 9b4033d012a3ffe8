"""Roles derived from evidence: training requirements follow responsibility; role lookups
are case-insensitive."""

from __future__ import annotations

from datetime import UTC, datetime

from checker.checks.base import EvalContext
from checker.checks.operations import RoleTrained, RoleTrainedArgs
from checker.config import Settings
from checker.evidence import (
    Approval,
    EvidenceBundle,
    OwnershipSpan,
    Person,
    Provenance,
    Review,
    Subject,
    Training,
)
from checker.store import EvidenceStore

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)


def prov(loc: str) -> Provenance:
    return Provenance(adapter="t", locator=loc, fetched_at=AS_OF)


def person(pid: str, *roles: str) -> Person:
    return Person(id=pid, name=pid.title(), emails=(f"{pid}@x.example",), roles=roles,
                  provenance=prov(f"hr.csv:{pid}"))


def bundle() -> EvidenceBundle:
    return EvidenceBundle(
        people=[person("ann"), person("bob"), person("cem"), person("dia"),
                person("eve", "Executive")],
        approvals=[
            Approval(id="A1", subject="model-x:3", approver="ANN@x.example",
                     decided_at=datetime(2026, 6, 1, tzinfo=UTC), provenance=prov("APR-1")),
            Approval(id="A2", subject="policy/ai", kind="policy", approver="bob@x.example",
                     decided_at=datetime(2025, 6, 1, tzinfo=UTC), provenance=prov("APR-2")),
            Approval(id="A3", subject="model-x:4", approver="dia@x.example",
                     decision="rejected", decided_at=datetime(2026, 6, 1, tzinfo=UTC),
                     provenance=prov("APR-3")),
        ],
        reviews=[Review(id="R1", subject="risk/r1", kind="risk_review", reviewer="cem@x.example",
                        reviewed_at=datetime(2026, 9, 1, tzinfo=UTC), provenance=prov("REV-1"))],
        subjects=[Subject(kind="ai_system", id="s1", name="S1", owners={"primary": "dia@x.example"},
                          history=(
                              OwnershipSpan(role="primary", owner="ann@x.example",
                                            start=datetime(2024, 1, 1, tzinfo=UTC),
                                            end=datetime(2026, 10, 1, tzinfo=UTC)),
                              OwnershipSpan(role="primary", owner="dia@x.example",
                                            start=datetime(2026, 10, 1, tzinfo=UTC))),
                          provenance=prov("register.yaml:3"))],
        trainings=[Training(person="cem@x.example", course="risk-101",
                            completed_at=datetime(2026, 1, 10, tzinfo=UTC), provenance=prov("L1"))],
    )


def check(**args: object) -> RoleTrained:
    return RoleTrained(RoleTrainedArgs.model_validate(args))


def test_training_follows_what_people_did_within_the_window() -> None:
    store = EvidenceStore(bundle(), as_of=AS_OF)
    ctx = EvalContext(store=store, as_of=AS_OF, settings=Settings())
    c = check(requirements={"release-approver": {"courses": ["approving-101"]},
                            "Risk-Reviewer": {"courses": ["risk-101"]},
                            "new-owner": {"courses": ["owning-101"]}},
              derived_roles={"release-approver": {"approved": ["release", "policy"]},
                             "risk-reviewer": {"reviewed": ["Risk_Review"]},
                             "new-owner": {"took_over": ["primary"], "within_days": 90}},
              owner_role="nobody-uses-this")
    p = {x.id: x for x in store.people()}
    ann = c.evaluate(ctx, p["ann"])  # approved a release in June: within 365 days
    assert ann.status == "fail"
    assert "approving-101" in ann.message
    assert "approved release model-x:3 on 2026-06-01, APR-1" in ann.message
    bob = c.evaluate(ctx, p["bob"])  # approved a policy 18 months ago: outside the window
    assert bob.status == "pass"
    cem = c.evaluate(ctx, p["cem"])  # reviewed a risk; holds the course
    assert cem.status == "pass"
    assert "risk-reviewer" in cem.message
    dia = c.evaluate(ctx, p["dia"])  # rejected (not approved) but took over primary in October
    assert dia.status == "fail"
    assert "owning-101" in dia.message
    assert "approving-101" not in dia.message
    assert "took over primary ai_system/s1 on 2026-10-01" in dia.message


def test_hr_role_lookup_is_case_insensitive() -> None:
    store = EvidenceStore(bundle(), as_of=AS_OF)
    ctx = EvalContext(store=store, as_of=AS_OF, settings=Settings())
    eve = next(x for x in store.people() if x.id == "eve")
    out = check(requirements={"EXECUTIVE": {"courses": ["board-101"]}}).evaluate(ctx, eve)
    assert out.status == "fail"  # the requirement is not silently dropped
    assert "board-101" in out.message


def test_derived_roles_make_the_rule_need_approvals_and_reviews() -> None:
    plain = check(requirements={"executive": {"courses": ["x"]}})
    derived = check(requirements={"a": {"courses": ["x"]}},
                    derived_roles={"a": {"approved": ["*"]}})
    assert "approval" not in plain.all_needs()
    assert {"approval", "review"} <= derived.all_needs()

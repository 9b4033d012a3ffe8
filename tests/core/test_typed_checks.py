"""Typed checks: a check declares its target types and argument model; the engine filters
targets, and the store (not each check's `needs`) makes an incomplete kind an error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checker.checks import check_registry
from checker.checks.base import Check, CheckArgs, EvalContext, Outcome
from checker.checks.operations import IncidentAssigned, SeverityArgs
from checker.checks.ownership import OwnerAssigned, RoleArgs
from checker.config import Config
from checker.engine import evaluate
from checker.errors import Diagnostic
from checker.evidence import SUBJECT_KINDS, EvidenceBundle, Person, Provenance, Release, Subject
from checker.rules import CompiledRule
from checker.store import EvidenceStore
from tests.conftest import REPO

T = datetime(2026, 11, 30, tzinfo=UTC)
PROV = Provenance(adapter="test", locator="t:1", fetched_at=T)
CONFIG = Config(organisation="Acme", accountable_executive="ceo@acme.example")


class _CountsApprovals(Check[Release, CheckArgs]):
    """Reads approvals without declaring them in `needs`."""

    name = "counts_approvals"

    def evaluate(self, ctx: EvalContext, target: Release) -> Outcome:
        n = len(ctx.store.approvals_for(target.id))
        return Outcome("pass", f"{target.model} has {n} approvals")


def _bundle() -> EvidenceBundle:
    return EvidenceBundle(
        people=[Person(id="ceo", name="Ceo", emails=("ceo@acme.example",), provenance=PROV)],
        subjects=[Subject(kind="ai_system", id="bot", name="Bot", owners={"primary": "ceo"},
                          provenance=PROV)],
        releases=[Release(model="m", version="1", provenance=PROV)])


def _rule(check: Check[Any, Any], applies_to: list[str]
          ) -> CompiledRule:
    return CompiledRule(id="ORG-T-001", title="typed check test", severity="high",
                        applies_to=applies_to, where=[], require=[check], params={},
                        finding_owner=["primary"], gates=[], remediation="fix it",
                        references={"iso42001": ["5.3"]}, good_practice=False,
                        file="t.yaml", pack="t")


def test_declarations_come_from_the_type_parameters() -> None:
    assert OwnerAssigned.Args is RoleArgs
    assert OwnerAssigned.target_types == (Subject,)
    assert OwnerAssigned.target_kinds == frozenset(SUBJECT_KINDS)
    assert IncidentAssigned.Args is SeverityArgs
    assert IncidentAssigned.target_kinds == frozenset({"incident"})
    for name, cls in check_registry.items():
        assert cls.Args is not CheckArgs or name in ("all", "any", "not"), name


def test_a_check_never_sees_a_target_type_it_does_not_declare() -> None:
    store = EvidenceStore(_bundle())
    ctx = EvalContext(store, T, CONFIG.settings)
    subject = store.subjects("ai_system")[0]
    out = _CountsApprovals(CheckArgs()).run(ctx, subject)
    assert out.status == "error"
    assert "cannot judge ai_system 'bot'" in out.message
    assert _CountsApprovals(CheckArgs()).run(ctx, store.releases()[0]).status == "pass"


def test_an_incomplete_kind_is_an_error_even_when_the_check_did_not_declare_it() -> None:
    check = _CountsApprovals(CheckArgs())
    assert check.all_needs() == frozenset()
    diag = Diagnostic("jira", 0, 0, "E324", "HTTP 503 after retries")
    complete = evaluate([_rule(check, ["release"])], EvidenceStore(_bundle()), T, CONFIG)
    assert [f.status for f in complete] == ["pass"]
    store = EvidenceStore(_bundle(), {"approval": [diag]})
    found = evaluate([_rule(check, ["release"])], store, T, CONFIG)
    assert [f.status for f in found] == ["error"]
    assert "evidence incomplete (approval)" in found[0].message
    assert "E324" in found[0].message
    # outside the engine's evaluation the store still answers (owners, matrix, waivers)
    assert store.approvals_for("m:1") == []


def test_no_check_has_an_isinstance_preamble() -> None:
    offenders = [f"{p.name}:{i}" for p in sorted((REPO / "checker/checks").glob("*.py"))
                 for i, line in enumerate(p.read_text("utf-8").splitlines(), 1)
                 if "assert isinstance(target" in line]
    assert offenders == []

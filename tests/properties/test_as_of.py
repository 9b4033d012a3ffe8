"""Time is as-of everywhere (issue 14): a record dated after as-of is invisible to every rule.

Two properties over the demo organisation, with Hypothesis choosing the record and how
far past as-of it moves:

1. Moving any dated record (or step of a record) past as-of gives exactly the findings of
   the evidence without that record (or step): no rule can see it.
2. Moving a record that *supports* compliance (an approval, a passed training, an
   incident's acknowledgement, escalation or corrective-action sign-off, an alert's
   action, a review's approval, a deployment) past as-of never turns a failing finding
   into a pass.

(Records that give reasons to fail — a rejection, a trigger event, a later review by a
non-owner, an incident's closure that makes a corrective-action sign-off due — may
legitimately stop failing once they lie in the future: at as-of they had not happened.
Property 1 covers them.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.config import load_config
from checker.engine import evaluate
from checker.evidence import EvidenceBundle
from checker.run import ScanRequest, load_rules_for, run
from checker.store import EvidenceStore
from tests.conftest import DEMO

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
_LOADED = load_config(DEMO / "aimscheck.yaml")
_RULES = load_rules_for(_LOADED)
_BUNDLE = run(ScanRequest(loaded=_LOADED, as_of=AS_OF, read_all=True)).collected.bundle

#: bundle list → (date field, the fields that vanish with it when it lies past as-of;
#: None = the whole record vanishes).
_DATED: dict[str, list[tuple[str, tuple[str, ...] | None]]] = {
    "releases": [("registered_at", None),
                 ("deployed_at", ("deployed_at", "deployed_by", "stage", "aliases"))],
    "approvals": [("decided_at", None)],
    "reviews": [("reviewed_at", None), ("approved_at", ("approved_at", "approver"))],
    "incidents": [("opened_at", None), ("acknowledged_at", ("acknowledged_at",)),
                  ("escalated_at", ("escalated_at", "escalated_to")),
                  ("resolved_at", ("resolved_at",)), ("closed_at", ("closed_at",)),
                  ("corrective_action_at", ("corrective_action_at", "corrective_action_by"))],
    "trainings": [("completed_at", None)],
    "events": [("occurred_at", None)],
    "alerts": [("raised_at", None), ("actioned_at", ("actioned_at", "actioned_by"))],
}
_CHOICES = [(attr, i, fld, gone) for attr, fields in _DATED.items()
            for i, rec in enumerate(getattr(_BUNDLE, attr))
            for fld, gone in fields if getattr(rec, fld) is not None]


def _supports(attr: str, rec: Any, fld: str) -> bool:
    if attr == "approvals":
        return bool(rec.decision == "approved")
    if attr == "trainings":
        return bool(rec.passed)
    if attr == "releases":
        return fld == "deployed_at"
    if attr == "incidents":  # closing/resolving creates the sign-off duty: not support
        return fld in ("acknowledged_at", "escalated_at", "corrective_action_at")
    if attr == "alerts":
        return fld == "actioned_at"
    return attr == "reviews" and fld == "approved_at"


def _replace(attr: str, i: int, rec: Any) -> EvidenceBundle:
    out = EvidenceBundle(kinds=_BUNDLE.kinds)
    out.extend(_BUNDLE)
    items = list(getattr(out, attr))
    if rec is None:
        del items[i]
    else:
        items[i] = rec
    setattr(out, attr, items)
    return out


def _verdicts(bundle: EvidenceBundle) -> dict[tuple[str, str, str], str]:
    store = EvidenceStore(bundle, as_of=AS_OF)
    return {(f.rule_id, f.target_kind, f.target_id): f.status
            for f in evaluate(_RULES, store, AS_OF, _LOADED.config)}


_BASE = _verdicts(_BUNDLE)


def _moved(choice: tuple[str, int, str, tuple[str, ...] | None], hours: int
           ) -> tuple[EvidenceBundle, EvidenceBundle]:
    attr, i, fld, gone = choice
    rec = getattr(_BUNDLE, attr)[i]
    if attr == "releases":  # collected after the moved date: the deployment is possible
        rec = rec.model_copy(update={"provenance": rec.provenance.model_copy(
            update={"fetched_at": AS_OF + timedelta(days=500)})})
    later = rec.model_copy(update={fld: AS_OF + timedelta(hours=hours)})
    update: dict[str, Any] = dict.fromkeys(gone or ())
    if "aliases" in update:
        update["aliases"] = ()
        update["attributes"] = {k: v for k, v in rec.attributes.items() if k != "production"}
    without = None if gone is None else rec.model_copy(update=update)
    return _replace(attr, i, later), _replace(attr, i, without)


@settings(max_examples=30, deadline=None)
@given(choice=st.sampled_from(_CHOICES), hours=st.integers(min_value=1, max_value=24 * 400))
def test_a_record_past_as_of_is_the_same_as_no_record(
        choice: tuple[str, int, str, tuple[str, ...] | None], hours: int) -> None:
    moved, without = _moved(choice, hours)
    assert _verdicts(moved) == _verdicts(without)


_SUPPORTING = [c for c in _CHOICES if _supports(c[0], getattr(_BUNDLE, c[0])[c[1]], c[2])]


@settings(max_examples=30, deadline=None)
@given(choice=st.sampled_from(_SUPPORTING), hours=st.integers(min_value=1, max_value=24 * 400))
def test_supporting_evidence_past_as_of_never_turns_a_fail_into_a_pass(
        choice: tuple[str, int, str, tuple[str, ...] | None], hours: int) -> None:
    moved, _ = _moved(choice, hours)
    after = _verdicts(moved)
    for key, status in _BASE.items():
        if status in ("fail", "error"):
            assert after.get(key) != "pass", (choice, key)


def test_a_deployment_dated_after_collection_is_an_error_not_hidden() -> None:
    """A production release whose deployment is dated after the evidence was collected
    cannot be 'not yet deployed': its time is dropped and the release rules error."""
    i, rel = next((i, r) for i, r in enumerate(_BUNDLE.releases)
                  if r.deployed_at is not None and (r.stage or "").lower() == "production")
    fetched = AS_OF + timedelta(hours=1)
    forged = rel.model_copy(update={
        "deployed_at": AS_OF + timedelta(hours=2),
        "provenance": rel.provenance.model_copy(update={"fetched_at": fetched})})
    after = _verdicts(_replace("releases", i, forged))
    assert after[("AIMS-REL-001", "release", rel.id)] == "error"


def test_the_supporting_choices_cover_every_kind() -> None:
    assert {c[0] for c in _SUPPORTING} >= {"approvals", "trainings", "releases", "incidents",
                                           "alerts"}


def test_an_approval_after_as_of_does_not_count() -> None:
    """The concrete case: fraud-gbm v7 approved after deployment fails; an approval of it
    dated after as-of must not make credit-risk-scorer v13 (not yet deployed) pass."""
    rel = next(r for r in _BUNDLE.releases if r.id == "credit-risk-scorer:13")
    ap = next(a for a in _BUNDLE.approvals if a.decision == "approved")
    late = ap.model_copy(update={"id": "APR-FUTURE", "subject": rel.id, "model": rel.model,
                                 "version": rel.version, "decided_at": AS_OF + timedelta(days=1)})
    b = EvidenceBundle(kinds=_BUNDLE.kinds)
    b.extend(_BUNDLE)
    b.approvals.append(late)
    store = EvidenceStore(b, as_of=AS_OF)
    assert not store.approvals_for(rel.id) or all(
        a.id != "APR-FUTURE" for a in store.approvals_for(rel.id))
    assert _verdicts(b) == _BASE


def test_every_supporting_record_one_hour_past_as_of() -> None:
    """Property 2 for every supporting record, just past the boundary (exhaustive)."""
    for choice in _SUPPORTING:
        after = _verdicts(_moved(choice, 1)[0])
        turned = [k for k, s in _BASE.items() if s in ("fail", "error") and after.get(k) == "pass"]
        assert not turned, (choice, turned)

"""One subject per identity across sources, and links by name (issue 14)."""

from __future__ import annotations

from datetime import UTC, datetime

from checker.evidence import Event, EvidenceBundle, Incident, Provenance, Release, Subject
from checker.store import EvidenceStore

T = datetime(2026, 1, 1, tzinfo=UTC)


def _p(adapter: str, loc: str) -> Provenance:
    return Provenance(adapter=adapter, locator=loc, fetched_at=T)


def test_the_same_system_from_two_kinds_of_source_is_merged_with_the_conflict_kept() -> None:
    reg = Subject(provenance=_p("register", "register.yaml:4"), kind="ai_system", id="credit",
                  name="Credit", owners={"primary": "ann@x.org"}, attributes={"risk_tier": "high"})
    ml = Subject(provenance=_p("mlflow", "Credit"), kind="ai_system", id="Credit", name="Credit",
                 owners={"Primary": "zed@x.org", "risk_owner": "rob@x.org"},
                 attributes={"vendor": "Acme"})
    store = EvidenceStore(EvidenceBundle(subjects=[reg, ml]))
    assert store.duplicate_subjects == []
    [s] = store.subjects("ai_system")
    assert s.owners == {"primary": "ann@x.org", "risk_owner": "rob@x.org"}
    assert s.attributes["risk_tier"] == "high"
    assert s.attributes["vendor"] == "Acme"
    assert s.attributes["owner_conflicts"] == [
        {"role": "primary", "owner": "ann@x.org", "source": "register register.yaml:4",
         "other": "zed@x.org", "other_source": "mlflow Credit"}]


def test_two_records_from_one_kind_of_source_stay_a_duplicate() -> None:
    a = Subject(provenance=_p("register", "r.yaml:1"), kind="risk", id="R1", name="a")
    b = Subject(provenance=_p("register", "r.yaml:9"), kind="risk", id="r1", name="b")
    store = EvidenceStore(EvidenceBundle(subjects=[a, b]))
    assert len(store.duplicate_subjects) == 1


def test_incidents_events_and_releases_naming_a_model_reach_its_system() -> None:
    system = Subject(provenance=_p("register", "r:1"), kind="ai_system", id="credit-scoring",
                     name="Consumer Credit Scoring", owners={"risk_owner": "rob@x.org"})
    model = Subject(provenance=_p("mlflow", "scorer"), kind="model", id="credit-risk-scorer",
                    name="s", attributes={"system": "Consumer credit scoring"})
    inc = Incident(provenance=_p("jira", "INC-1"), id="INC-1", system="CREDIT-RISK-SCORER",
                   severity="high", opened_at=T)
    rel = Release(provenance=_p("mlflow", "credit-risk-scorer/3"), model="credit-risk-scorer",
                  version="3")
    ev = Event(provenance=_p("mlflow", "x"), id="e1", subject="model/Credit-Risk-Scorer",
               type="model_version_registered", occurred_at=T)
    store = EvidenceStore(EvidenceBundle(subjects=[system, model], incidents=[inc],
                                         releases=[rel], events=[ev]))
    assert store.system_of(inc) is not None
    assert store.system_of(inc).id == "credit-scoring"  # type: ignore[union-attr]
    assert store.system_of(rel).id == "credit-scoring"  # type: ignore[union-attr]
    assert store.children("credit-scoring") == [model]
    assert [e.id for e in store.events_for("credit-scoring")] == ["e1"]
    assert store.resolve_system("nothing-like-it") is None

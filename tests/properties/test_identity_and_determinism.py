"""Property-based tests (Hypothesis) for the logic that decides verdicts."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.config import load_config
from checker.engine import evaluate
from checker.evidence import EvidenceBundle, Person, Provenance
from checker.identity import IdentityIndex
from checker.run import ScanRequest, load_rules_for, run
from checker.store import EvidenceStore
from tests.conftest import DEMO

PROV = Provenance(adapter="t", locator="t:1", fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)

local = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12)
emails = st.builds(lambda a, b: f"{a}@{b}.example", local, local)


def variants(email: str) -> st.SearchStrategy[str]:
    """Case and whitespace variants (and a mailto: prefix) of one email."""
    return st.tuples(
        st.lists(st.booleans(), min_size=len(email), max_size=len(email)),
        st.sampled_from(["", " ", "\t", "  "]), st.sampled_from(["", " ", "\n"]),
        st.booleans(),
    ).map(lambda t: t[1] + ("mailto:" if t[3] else "") + "".join(
        c.upper() if up else c for c, up in zip(email, t[0], strict=True)) + t[2])


@given(data=st.data(), people=st.lists(emails, min_size=1, max_size=8, unique=True))
def test_variants_resolve_to_the_same_person(data: st.DataObject, people: list[str]) -> None:
    folded = {e.lower() for e in people}
    if len(folded) != len(people):
        return  # two addresses equal up to case are one address
    idx = IdentityIndex([Person(id=f"P{i}", name=f"P{i}", emails=(e,), provenance=PROV)
                         for i, e in enumerate(people)])
    for i, e in enumerate(people):
        handle = data.draw(variants(e))
        p = idx.resolve(handle)
        assert p is not None, handle
        assert p.id == f"P{i}"


@given(a=emails, b=emails)
def test_different_people_never_merge(a: str, b: str) -> None:
    idx = IdentityIndex([Person(id="A", name="A", emails=(a,), provenance=PROV),
                         Person(id="B", name="B", emails=(b,), provenance=PROV)])
    ra, rb = idx.resolve(a), idx.resolve(b)
    if a.lower() == b.lower():
        assert ra is None  # ambiguous: never silently one of them
        assert rb is None
    else:
        assert ra is not None
        assert rb is not None
        assert ra.id == "A"
        assert rb.id == "B"


_LOADED = load_config(DEMO / "aimscheck.yaml")
_RULES = load_rules_for(_LOADED)
_BUNDLE = run(ScanRequest(loaded=_LOADED, as_of=AS_OF, read_all=True)).collected.bundle


def _findings(bundle: EvidenceBundle) -> list[str]:
    store = EvidenceStore(bundle)
    return [f.model_dump_json() for f in evaluate(_RULES, store, AS_OF, _LOADED.config)]


_BASELINE = _findings(_BUNDLE)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_shuffling_input_order_never_changes_output(seed: int) -> None:
    rng = random.Random(seed)
    shuffled = EvidenceBundle(kinds=_BUNDLE.kinds)
    for attr in ("people", "subjects", "releases", "approvals", "reviews", "incidents",
                 "trainings", "events", "alerts"):
        items = list(getattr(_BUNDLE, attr))
        rng.shuffle(items)
        setattr(shuffled, attr, items)
    assert _findings(shuffled) == _BASELINE

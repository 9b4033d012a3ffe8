"""One person across HR sources: merging, look-alikes, contradictions, status leave, absences."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.evidence import Absence, Period, Person, Provenance
from checker.identity import IdentityIndex, normalise_handle

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def prov(adapter: str, locator: str, effective: datetime | None = None) -> Provenance:
    return Provenance(adapter=adapter, locator=locator, fetched_at=T0, effective_at=effective)


def hr(line: int, pid: str, email: str, **kw: object) -> Person:
    return Person(id=pid, name=pid, emails=(email,), provenance=prov("hr_csv", f"hr.csv:{line}"),
                  **kw)


def scim(pid: str, email: str, **kw: object) -> Person:
    return Person(id=pid, name=pid, emails=(email,),
                  provenance=prov("scim", f"users.json#Users/{pid}"), **kw)


def test_seconded_person_is_one_person_with_both_records() -> None:
    a = hr(2, "NW-1", "Zoe.Mueller@northwind.example", roles=("executive",),
           hired=datetime(2020, 1, 1, tzinfo=UTC))
    b = scim("sub-7", "zoe.mueller@NORTHWIND.example", roles=("ai-risk-owner",),
             status="terminated", terminated=datetime(2026, 6, 1, tzinfo=UTC))
    idx = IdentityIndex([b, a])
    p = idx.resolve("ZOE.MUELLER@northwind.example")
    assert p is not None
    assert idx.resolve("sub-7") == p
    assert idx.resolve("NW-1") == p
    assert [r.provenance.locator for r in idx.records(p)] == ["hr.csv:2", "users.json#Users/sub-7"]
    assert set(p.roles) == {"executive", "ai-risk-owner"}
    # employment judged per source and combined; the source that shows it is cited
    t = datetime(2026, 11, 30, tzinfo=UTC)
    assert p.employed_at(t)
    employer = idx.employed_by(p, t)
    assert employer is not None
    assert employer.provenance.locator == "hr.csv:2"
    assert not idx.conflicts
    assert len(idx) == 1


def test_unicode_look_alikes_never_match() -> None:
    idx = IdentityIndex([hr(2, "E1", "fiona@x.example"), hr(3, "E2", "strauss@x.example")])
    assert idx.resolve("\ufb01ona@x.example") is None  # 'ﬁ' ligature
    assert idx.resolve("strau\u00df@x.example") is None  # 'ß'
    assert idx.resolve("FIONA@X.EXAMPLE") is not None
    # NFC: a composed and a decomposed 'é' are the same letter
    idx2 = IdentityIndex([hr(2, "E3", "ren\u00e9@x.example")])
    assert idx2.resolve("rene\u0301@x.example") is not None
    assert normalise_handle("mailto: A@B ") == "a@b"


def test_two_people_with_one_email_in_one_source_is_a_conflict() -> None:
    idx = IdentityIndex([hr(2, "E1", "a@x.example"), hr(5, "E2", "A@x.example")])
    assert idx.resolve("a@x.example") is None
    assert [(c.first, c.second) for c in idx.conflicts] == [("hr.csv:2", "hr.csv:5")]
    assert "hr.csv:2" in idx.conflicts[0].message()
    assert "hr.csv:5" in idx.conflicts[0].message()
    # each keeps its own id
    assert idx.resolve("E1") is not None
    assert idx.resolve("E2") is not None


def test_one_account_mapped_to_two_emails_is_a_conflict() -> None:
    idx = IdentityIndex([hr(2, "E1", "a@x.example", handles=("jira-42",)),
                         scim("S9", "b@x.example", handles=("jira-42",))])
    assert idx.resolve("jira-42") is None
    assert idx.is_ambiguous("jira-42")
    assert [(c.handle, c.first, c.second) for c in idx.conflicts] == [
        ("jira-42", "hr.csv:2", "users.json#Users/S9")]


def test_a_chain_linking_two_records_of_one_source_is_not_merged() -> None:
    # A1 and A2 are two people of the HR export; SCIM links them (A1's email, A2's id).
    a1, a2 = hr(2, "E1", "a@x.example"), hr(3, "E2", "b@x.example")
    s = Person(id="E2", name="S", emails=("a@x.example",), provenance=prov("scim", "u.json#U/1"))
    idx = IdentityIndex([a1, a2, s])
    assert idx.conflicts
    assert idx.resolve("a@x.example") is None
    assert idx.resolve("b@x.example") is not None


def test_undated_on_leave_status_is_the_export_day_only() -> None:
    eff = datetime(2026, 11, 30, 9, tzinfo=UTC)
    p = Person(id="E1", name="E1", status="on_leave", provenance=prov("hr_csv", "h.csv:2", eff))
    idx = IdentityIndex([p])
    got = idx.resolve("E1")
    assert got is not None
    assert not got.active_at(datetime(2026, 11, 30, 12, tzinfo=UTC))
    assert got.active_at(datetime(2026, 11, 29, 12, tzinfo=UTC))  # a past sign-off
    assert got.active_at(datetime(2026, 12, 1, 0, tzinfo=UTC))
    # without an export date, the run's as-of is the day the status describes
    q = Person(id="E2", name="E2", status="on_leave", provenance=prov("hr_csv", "h.csv:3"))
    got2 = IdentityIndex([q], as_of=datetime(2026, 5, 4, tzinfo=UTC)).resolve("E2")
    assert got2 is not None
    assert not got2.active_at(datetime(2026, 5, 4, 23, tzinfo=UTC))
    assert got2.active_at(datetime(2026, 5, 3, 23, tzinfo=UTC))


def test_absences_attach_in_the_organisation_time_zone() -> None:
    idx = IdentityIndex([hr(2, "E1", "a@x.example"), scim("S1", "b@x.example")])
    berlin = ZoneInfo("Europe/Berlin")
    unmatched = idx.attach_absences([
        Absence(person="A@X.EXAMPLE", start=date(2026, 11, 2), end=date(2026, 11, 3),
                provenance=prov("absence_csv", "abs.csv:2")),
        Absence(person="S1", start=date(2026, 12, 1), provenance=prov("absence_csv", "abs.csv:3")),
        Absence(person="nobody@x.example", start=date(2026, 1, 1),
                provenance=prov("absence_csv", "abs.csv:4")),
    ], berlin)
    assert [a.provenance.locator for a in unmatched] == ["abs.csv:4"]
    a = idx.resolve("E1")
    assert a is not None
    # 2026-11-02 00:00 Berlin is 2026-11-01 23:00 UTC; the last day is inclusive
    assert a.on_leave_at(datetime(2026, 11, 1, 23, 30, tzinfo=UTC))
    assert not a.on_leave_at(datetime(2026, 11, 1, 22, 30, tzinfo=UTC))
    assert a.on_leave_at(datetime(2026, 11, 3, 22, 30, tzinfo=UTC))
    assert not a.on_leave_at(datetime(2026, 11, 3, 23, 30, tzinfo=UTC))
    s = idx.resolve("b@x.example")
    assert s is not None
    assert s.on_leave_at(datetime(2027, 6, 1, tzinfo=UTC))  # open-ended


# -- properties ----------------------------------------------------------------------------

names = st.sampled_from(["ann", "bob", "cem", "dia", "eve", "fiona", "\ufb01ona", "gus",
                         "strauss", "strau\u00df"])
sources = st.sampled_from(["hr", "scim", "contractors"])


@st.composite
def records(draw: st.DrawFn) -> list[Person]:
    out = []
    for i in range(draw(st.integers(1, 8))):
        src = draw(sources)
        name = draw(names)
        email = draw(st.sampled_from([name, name.upper(), name.title()])) + "@x.example"
        pid = draw(st.sampled_from([f"{src}-{i}", f"W{draw(st.integers(1, 4))}"]))
        handles = tuple(draw(st.lists(st.sampled_from(["jira-1", "jira-2", "ml-1"]),
                                      max_size=1)))
        leave = (Period(start=datetime(2026, 3, i + 1, tzinfo=UTC),
                        end=datetime(2026, 3, i + 2, tzinfo=UTC)),) if draw(st.booleans()) else ()
        out.append(Person(id=pid, name=name, emails=(email,), handles=handles, leave=leave,
                          roles=(draw(st.sampled_from(["a", "b"])),),
                          provenance=prov(src, f"{src}.csv:{i + 2}")))
    return out


def _snapshot(idx: IdentityIndex) -> tuple[object, ...]:
    return (tuple(p.model_dump_json() for p in idx.people()),
            tuple(idx.conflicts),
            tuple(sorted(k for k in idx._by_key)))


@settings(max_examples=200, deadline=None)
@given(recs=records(), seed=st.integers(0, 2**32 - 1))
def test_merging_is_order_independent(recs: list[Person], seed: int) -> None:
    shuffled = list(recs)
    random.Random(seed).shuffle(shuffled)
    assert _snapshot(IdentityIndex(recs)) == _snapshot(IdentityIndex(shuffled))


@settings(max_examples=200, deadline=None)
@given(recs=records())
def test_no_handle_resolves_to_two_people(recs: list[Person]) -> None:
    idx = IdentityIndex(recs)
    owner: dict[str, str] = {}
    for r in recs:
        for h in (r.id, *r.emails, *r.handles):
            got = idx.resolve(h)
            if got is None:
                assert idx.is_ambiguous(h), h  # unresolvable only as a reported contradiction
                continue
            # the person it resolves to is one whose records claim the handle ...
            key = normalise_handle(h)
            assert any(key in {normalise_handle(x) for x in (q.id, *q.emails, *q.handles)}
                       for q in idx.records(got))
            # ... and always the same one, whichever record and spelling asked
            assert owner.setdefault(key, got.id) == got.id
    if any(c.why == "two people" for c in idx.conflicts):
        assert any(idx.is_ambiguous(c.handle) for c in idx.conflicts)

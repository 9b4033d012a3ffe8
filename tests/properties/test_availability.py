"""One availability test: a chosen finding owner is always someone the checks accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from checker.availability import availability
from checker.checks.base import EvalContext
from checker.checks.ownership import owner_problem
from checker.config import Settings
from checker.evidence import EvidenceBundle, Period, Person, Provenance, Subject
from checker.matrix import build_matrix
from checker.owners import resolve_owner
from checker.store import EvidenceStore

PROV = Provenance(adapter="t", locator="t:1", fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
EXEC = "ceo@corp.example"

# local parts that do and do not look like shared mailboxes under the default patterns
_LOCALS = ["ann", "bo.li", "data-team", "ml-ops", "svc-deploy", "risk", "team.x", "zoe"]
_DAY = timedelta(days=1)


@st.composite
def people(draw: st.DrawFn) -> list[Person]:
    out = []
    n = draw(st.integers(min_value=1, max_value=6))
    locals_ = draw(st.lists(st.sampled_from(_LOCALS), min_size=n, max_size=n, unique=True))
    for i, local in enumerate(locals_):
        hired = draw(st.sampled_from([None, AS_OF - 400 * _DAY, AS_OF + 5 * _DAY]))
        terminated = draw(st.sampled_from([None, AS_OF - 3 * _DAY, AS_OF + 3 * _DAY]))
        if hired is not None and terminated is not None and terminated <= hired:
            terminated = None
        leave = draw(st.sampled_from([(), (Period(start=AS_OF - _DAY, end=AS_OF + _DAY),),
                                      (Period(start=AS_OF + _DAY, end=AS_OF + 9 * _DAY),)]))
        out.append(Person(
            id=f"P{i}", name=f"Person {i}", emails=(f"{local}@corp.example",),
            kind=draw(st.sampled_from(["individual", "individual", "group", "service"])),
            status=draw(st.sampled_from(["active", "active", "on_leave", "terminated"])),
            employment_type=draw(st.sampled_from(["employee", "contractor"])),
            hired=hired, terminated=terminated, leave=leave, provenance=PROV))
    return out


@settings(max_examples=300, deadline=None)
@given(staff=people(), allow_contractors=st.booleans(), data=st.data())
def test_chosen_owner_is_accepted_by_the_checks(staff: list[Person], allow_contractors: bool,
                                                data: st.DataObject) -> None:
    handles = [p.emails[0] for p in staff] + ["nobody@corp.example"]
    primary = data.draw(st.sampled_from(handles))
    backup = data.draw(st.sampled_from(handles))
    ceo = Person(id="CEO", name="Chief", emails=(EXEC,), provenance=PROV)
    subject = Subject(kind="ai_system", id="S1", name="S1",
                      owners={"primary": primary, "backup": backup}, provenance=PROV)
    store = EvidenceStore(EvidenceBundle(people=[*staff, ceo], subjects=[subject]))
    cfg = Settings(allow_contractors=allow_contractors)
    ctx = EvalContext(store=store, as_of=AS_OF, settings=cfg)
    first, second = resolve_owner(store, subject, ["primary", "backup"], EXEC, AS_OF, cfg)
    assert first is not None
    for choice in (first, second):
        if choice is None:
            continue
        handle = choice.person.emails[0]
        # what owner_active would say of this person, and what the matrix would show
        assert owner_problem(ctx, handle, need_active=True) is None, choice
        assert availability(store.identity, handle, AS_OF, cfg).ok
    # and an acceptable owner earlier in the chain is never skipped
    accepted = [role for role, h in (("primary", primary), ("backup", backup))
                if owner_problem(ctx, h, need_active=True) is None]
    assert first.via == (accepted[0] if accepted else "accountable_executive")
    rows = build_matrix(store, [], AS_OF, cfg)
    for o in rows[0].owners:
        accepted = owner_problem(ctx, o.handle, need_active=True) is None
        assert (o.status == "active") == accepted, o


def test_individual_row_that_looks_like_a_team_is_never_the_finding_owner() -> None:
    team = Person(id="E9", name="Data Team", emails=("data-team@corp.example",),
                  kind="individual", provenance=PROV)
    ann = Person(id="E1", name="Ann", emails=("ann@corp.example",), provenance=PROV)
    ceo = Person(id="CEO", name="Chief", emails=(EXEC,), provenance=PROV)
    subject = Subject(kind="ai_system", id="S1", name="S1",
                      owners={"primary": "data-team@corp.example", "backup": "ann@corp.example"},
                      provenance=PROV)
    store = EvidenceStore(EvidenceBundle(people=[team, ann, ceo], subjects=[subject]))
    ctx = EvalContext(store=store, as_of=AS_OF, settings=Settings())
    problem = owner_problem(ctx, "data-team@corp.example", need_active=False)
    assert problem is not None
    assert "shared mailbox" in problem
    first, _ = resolve_owner(store, subject, ["primary", "backup"], EXEC, AS_OF, Settings())
    assert first is not None
    assert first.person.id == "E1"
    assert first.via == "backup"

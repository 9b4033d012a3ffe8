"""Absence is judged at the instant that matters: the signing instant, the takeover instant,
the as-of date; an undated on_leave status covers the export's date only."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from checker.adapters import SourceContext
from checker.availability import availability
from checker.checks.base import EvalContext
from checker.checks.continuity import HandoverQualified, QualifiedArgs
from checker.checks.signoff import ApproverAuthorised, AuthorisedArgs
from checker.config import Settings
from checker.evidence import (
    Absence,
    Approval,
    EvidenceBundle,
    OwnershipSpan,
    Person,
    Provenance,
    Release,
    Subject,
)
from checker.store import EvidenceStore

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)


def prov(loc: str) -> Provenance:
    return Provenance(adapter="t", locator=loc, fetched_at=AS_OF)


def person(pid: str, **kw: object) -> Person:
    return Person(id=pid, name=pid.title(), emails=(f"{pid}@x.example",),
                  provenance=prov(f"hr.csv:{pid}"), **kw)


def absence(who: str, first: date, last: date) -> Absence:
    return Absence(person=who, start=first, end=last, provenance=prov(f"abs.csv:{who}"))


def store() -> EvidenceStore:
    system = Subject(
        kind="ai_system", id="s1", name="S1",
        owners={"primary": "cem@x.example", "risk_owner": "bob@x.example"},
        history=(
            OwnershipSpan(role="primary", owner="ann@x.example",
                          start=datetime(2024, 1, 1, tzinfo=UTC),
                          end=datetime(2026, 3, 2, tzinfo=UTC)),
            OwnershipSpan(role="primary", owner="cem@x.example",
                          start=datetime(2026, 3, 2, tzinfo=UTC)),
            OwnershipSpan(role="risk_owner", owner="bob@x.example",
                          start=datetime(2024, 1, 1, tzinfo=UTC)),
        ),
        provenance=prov("register.yaml:1"))
    rel = [Release(model="m", version=v, system="s1", stage="production",
                   deployed_at=datetime(2026, 7, 1, tzinfo=UTC), provenance=prov(f"m:{v}"))
           for v in ("1", "2")]
    approvals = [
        # signed while the absence export has Bob away
        Approval(id="A1", subject="m:1", model="m", version="1", approver="bob@x.example",
                 decided_at=datetime(2026, 6, 10, 9, tzinfo=UTC), provenance=prov("APR-1")),
        # signed the week after he came back
        Approval(id="A2", subject="m:2", model="m", version="2", approver="bob@x.example",
                 decided_at=datetime(2026, 6, 20, 9, tzinfo=UTC), provenance=prov("APR-2")),
    ]
    return EvidenceStore(EvidenceBundle(
        people=[person("ann"), person("bob"), person("cem"),
                person("dia", status="on_leave")],
        subjects=[system], releases=rel, approvals=approvals,
        absences=[absence("BOB@x.example", date(2026, 6, 8), date(2026, 6, 12)),
                  absence("cem", date(2026, 3, 1), date(2026, 3, 5))],
    ), as_of=AS_OF)


def test_signing_instant_decides() -> None:
    s = store()
    ctx = EvalContext(store=s, as_of=AS_OF, settings=Settings())
    check = ApproverAuthorised(AuthorisedArgs(courses=[]))
    r1, r2 = s.releases()
    out1 = check.evaluate(ctx, r1)
    assert out1.status == "fail"
    assert "not active at the time of signing" in out1.message
    assert check.evaluate(ctx, r2).status == "pass"


def test_takeover_instant_decides() -> None:
    s = store()
    ctx = EvalContext(store=s, as_of=AS_OF, settings=Settings())
    out = HandoverQualified(QualifiedArgs(roles=["primary"], courses=[])).evaluate(
        ctx, s.subjects("ai_system")[0])
    assert out.status == "fail"
    assert "primary takeover by Cem" in out.message
    # the same takeover a week later would have been fine: Cem is back on 2026-03-06
    assert availability(s.identity, "cem", datetime(2026, 3, 6, tzinfo=UTC)).ok


def test_undated_on_leave_status_is_the_as_of_day_only() -> None:
    s = store()
    assert availability(s.identity, "dia", AS_OF).status == "on_leave"
    assert availability(s.identity, "dia", datetime(2026, 11, 29, 12, tzinfo=UTC)).ok
    assert availability(s.identity, "dia", datetime(2026, 12, 1, tzinfo=UTC)).ok


def test_hr_export_effective_date_bounds_an_undated_leave_status(tmp_path: Path) -> None:
    from evidence_adapters.hr_csv import HrCsvAdapter

    (tmp_path / "people.csv").write_text(
        "id,name,email,status\nE1,Eli,eli@x.example,On Leave\n", "utf-8")
    ctx = SourceContext(tmp_path, "hr", AS_OF, AS_OF)
    cfg = HrCsvAdapter.Config.model_validate(
        {"path": "people.csv", "effective_date": "2026-11-02",
         "columns": {"id": "id", "name": "name", "email": "email", "status": "status"}})
    bundle = HrCsvAdapter(cfg, ctx).collect()
    s = EvidenceStore(bundle, as_of=AS_OF, tz=ZoneInfo("America/New_York"))
    assert availability(s.identity, "eli@x.example",
                        datetime(2026, 11, 2, 20, tzinfo=UTC)).status == "on_leave"
    # 2026-11-03 01:00 UTC is still 2 November in New York
    assert availability(s.identity, "eli@x.example",
                        datetime(2026, 11, 3, 1, tzinfo=UTC)).status == "on_leave"
    assert availability(s.identity, "eli@x.example", datetime(2026, 11, 3, 12, tzinfo=UTC)).ok
    assert availability(s.identity, "eli@x.example", AS_OF).ok  # not every instant

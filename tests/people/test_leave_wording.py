"""A leave is worded by its true last day, whatever adapter stored it and in which zone.

Every leave period is half-open ``[start, end)``: ``end`` is the first instant the person is
back. Exports give the *last day* of leave (inclusive); ``absence_csv`` (and an undated HR
``on_leave`` status) turn it into the midnight after it in the organisation's time zone,
``hr_csv`` and ``scim`` leave exports into the midnight after it in UTC. The reason
availability() gives — the one text every report shows — names the last day itself
(``through 2026-12-11``), never the day the person is back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from checker.adapters import SourceContext
from checker.availability import availability
from checker.config import Settings
from checker.evidence import EvidenceBundle, Period, Person, Provenance
from checker.store import EvidenceStore
from evidence_adapters.absence_csv import AbsenceCsvAdapter
from evidence_adapters.hr_csv import HrCsvAdapter

AS_OF = datetime(2026, 11, 30, tzinfo=UTC)
PEOPLE = "id,name,email,status\nE1,Eli Ek,eli@x.example,Active\nE2,Flo Fa,flo@x.example,Active\n"


def _hr(tmp_path: Path, leave_rows: str = "", status: str = "Active",
        effective_date: str | None = None) -> EvidenceBundle:
    (tmp_path / "people.csv").write_text(PEOPLE.replace("Active\nE2", f"{status}\nE2"), "utf-8")
    cfg: dict[str, object] = {
        "path": "people.csv",
        "columns": {"id": "id", "name": "name", "email": "email", "status": "status"}}
    if leave_rows:
        (tmp_path / "leave.csv").write_text("person,first,last\n" + leave_rows, "utf-8")
        cfg["leave"] = {"path": "leave.csv",
                        "columns": {"person": "person", "start": "first", "end": "last"}}
    if effective_date:
        cfg["effective_date"] = effective_date
    ctx = SourceContext(tmp_path, "hr", AS_OF, AS_OF)
    return HrCsvAdapter(HrCsvAdapter.Config.model_validate(cfg), ctx).collect()


def _absences(tmp_path: Path, rows: str) -> EvidenceBundle:
    (tmp_path / "absences.csv").write_text("who,first,last\n" + rows, "utf-8")
    cfg = AbsenceCsvAdapter.Config.model_validate(
        {"path": "absences.csv", "columns": {"person": "who", "start": "first", "end": "last"}})
    return AbsenceCsvAdapter(cfg, SourceContext(tmp_path, "absences", AS_OF, AS_OF)).collect()


def _reason(store: EvidenceStore, handle: str, at: datetime, settings: Settings) -> str:
    a = availability(store.identity, handle, at, settings)
    assert a.status == "on_leave", a
    return a.reason


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland"])
def test_absence_export_names_its_last_day(tmp_path: Path, zone: str) -> None:
    """absence_csv: last day 2026-12-11 (inclusive) is on leave through 2026-12-11."""
    settings = Settings(timezone=zone)
    bundle = _hr(tmp_path)
    bundle.extend(_absences(tmp_path, "eli@x.example,2026-11-23,2026-12-11\n"))
    store = EvidenceStore(bundle, as_of=AS_OF, tz=settings.tz)
    reason = _reason(store, "eli@x.example", AS_OF, settings)
    assert reason.endswith("is on leave through 2026-12-11"), reason
    assert "2026-12-12" not in reason
    # the last instant of the 11th there is leave, the first of the 12th is not
    tz = ZoneInfo(zone)
    assert _reason(store, "eli@x.example", datetime(2026, 12, 11, 23, 59, tzinfo=tz), settings)
    assert availability(store.identity, "eli@x.example", datetime(2026, 12, 12, tzinfo=tz),
                        settings).ok


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_hr_leave_export_names_its_last_day(tmp_path: Path, zone: str) -> None:
    """hr_csv leave export (midnights in UTC, whatever the zone): the same last day."""
    settings = Settings(timezone=zone)
    bundle = _hr(tmp_path, "E1,2026-11-23,2026-12-11\n")
    store = EvidenceStore(bundle, as_of=AS_OF, tz=settings.tz)
    reason = _reason(store, "eli@x.example", AS_OF, settings)
    assert reason.endswith("is on leave through 2026-12-11"), reason


def test_undated_on_leave_status_names_the_export_day(tmp_path: Path) -> None:
    """An undated HR ``on_leave`` is one day in the organisation's zone: that day is named."""
    settings = Settings(timezone="America/New_York")
    bundle = _hr(tmp_path, status="On Leave", effective_date="2026-11-02")
    store = EvidenceStore(bundle, as_of=AS_OF, tz=settings.tz)
    at = datetime(2026, 11, 3, 1, tzinfo=UTC)  # still 2 November in New York
    assert _reason(store, "eli@x.example", at, settings).endswith(
        "is on leave through 2026-11-02")


def test_back_to_back_leave_is_one_absence(tmp_path: Path) -> None:
    """Vacation through the 11th, then sick leave from the 12th: away through the 15th."""
    settings = Settings()
    bundle = _hr(tmp_path, "E1,2026-11-23,2026-12-11\n")
    bundle.extend(_absences(tmp_path, "E1,2026-12-12,2026-12-15\n"
                                      "flo@x.example,2026-11-23,2026-12-11\n"
                                      "flo@x.example,2026-12-14,2026-12-20\n"))
    store = EvidenceStore(bundle, as_of=AS_OF, tz=settings.tz)
    assert _reason(store, "eli@x.example", AS_OF, settings).endswith(
        "is on leave through 2026-12-15")
    # a gap of working days between two leaves: the first leave's last day
    assert _reason(store, "flo@x.example", AS_OF, settings).endswith(
        "is on leave through 2026-12-11")


def test_open_ended_leave_names_no_end(tmp_path: Path) -> None:
    """An open-ended absence overlapping a dated one: no last day is claimed."""
    settings = Settings()
    bundle = _hr(tmp_path, "E1,2026-11-23,2026-12-11\n")
    bundle.extend(_absences(tmp_path, "E1,2026-11-25,\n"
                                      "flo@x.example,2026-11-01,9999-12-31\n"))
    store = EvidenceStore(bundle, as_of=AS_OF, tz=settings.tz)
    reason = _reason(store, "eli@x.example", AS_OF, settings)
    assert reason.endswith("is on leave"), reason
    # an HR leave export's 9999-12-31 ("open-ended" in SAP, Workday) ends at the end of time
    other = tmp_path / "other"
    other.mkdir()
    store = EvidenceStore(_hr(other, "E2,2026-11-01,9999-12-31\n"), as_of=AS_OF)
    assert _reason(store, "flo@x.example", AS_OF, settings).endswith("is on leave")


def test_a_leave_ending_within_a_day_names_the_instant() -> None:
    """A normalised period ending at 14:00 UTC: until that instant (the first one back)."""
    prov = Provenance(adapter="jsonl", locator="people.jsonl:1", fetched_at=AS_OF)
    p = Person(id="E1", name="Eli Ek", emails=("eli@x.example",), provenance=prov,
               leave=(Period(start=datetime(2026, 11, 23, tzinfo=UTC),
                             end=datetime(2026, 12, 11, 14, tzinfo=UTC)),))
    store = EvidenceStore(EvidenceBundle(people=[p]), as_of=AS_OF)
    assert _reason(store, "eli@x.example", AS_OF, Settings()).endswith(
        "is on leave until 2026-12-11 14:00Z")

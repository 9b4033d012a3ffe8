"""HR and LMS presets with believable exports (BOM, quoted fields, localised dates)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.hr_csv import HrCsvAdapter
from evidence_adapters.lms_csv import LmsCsvAdapter

AIMSCHECK = str(Path(sys.executable).with_name("aimscheck"))


def hr(ctx: SourceContext, **cfg: Any) -> Any:
    return HrCsvAdapter(HrCsvAdapter.Config.model_validate(cfg), ctx).collect()


def lms(ctx: SourceContext, **cfg: Any) -> Any:
    return LmsCsvAdapter(LmsCsvAdapter.Config.model_validate(cfg), ctx).collect()


def write(tmp: Path, name: str, text: str) -> None:
    (tmp / name).write_bytes(("\ufeff" + text).encode("utf-8"))


WORKDAY = (
    "Employee_ID,Worker,Legal_First_Name,Legal_Last_Name,Primary_Work_Email,Worker_Type,"
    "Supervisory_Organization,Business_Title,Management_Level,Manager_Employee_ID,"
    "Hire_Date,Termination_Date,Active_Status,On_Leave\r\n"
    "21001,Helena Vogt,Helena,Vogt,helena.vogt@nw.example,Employee,Executive,"
    "Chief Executive Officer,1 Executive,,2019-03-01,,1,0\r\n"
    '21003,"Müller, Zoë",Zoë,Müller,Zoe.Mueller@NW.example,Employee,"AI Governance, Risk",'
    "Head of AI Governance,4 Director,21001,2021-02-01,,1,1\r\n"
    "21005,Marco Rossi,Marco,Rossi,marco.rossi@nw.example,Employee,Risk,Analyst,"
    "6 Individual Contributor,21003,2021-06-01,2026-09-30,0,0\r\n"
    "21028,Ben Carter,Ben,Carter,ben.carter@nw.example,Contingent Worker,Support,"
    "Support Engineer,6 Individual Contributor,21003,2025-10-01,,1,0\r\n"
)
ROLES = [{"role": "executive", "title": r"\bChief\b", "department": "Executive"},
         {"role": "ai-governance-lead", "title": "^Head of AI Governance$"},
         {"role": "people-manager", "management_level": ["1 Executive", "4 Director"]},
         {"role": "ai-risk-owner", "people": ["marco.rossi@NW.example"]}]


def test_workday_preset(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, "workers.csv", WORKDAY)
    people = {p.id: p for p in hr(ctx, preset="workday", path="workers.csv",
                                  roles_from=ROLES).people}
    helena, zoe, marco, ben = (people[i] for i in ("21001", "21003", "21005", "21028"))
    assert helena.roles == ("executive", "people-manager")
    assert zoe.roles == ("ai-governance-lead", "people-manager")
    assert zoe.name == "Zoë Müller"
    assert zoe.department == "AI Governance, Risk"
    assert zoe.status == "on_leave"  # On_Leave = 1
    assert zoe.manager == "21001"
    assert marco.status == "terminated"
    assert marco.terminated == datetime(2026, 10, 1, tzinfo=UTC)
    assert marco.roles == ("ai-risk-owner",)
    assert ben.employment_type == "contractor"


def test_preset_keys_are_overridden_by_explicit_ones(tmp_path: Path,
                                                     ctx: SourceContext) -> None:
    write(tmp_path, "w.csv", WORKDAY.replace("Active_Status", "Status")
          .replace(",1,0\r\n", ",A,0\r\n").replace(",1,1\r\n", ",A,1\r\n")
          .replace(",0,0\r\n", ",T,0\r\n"))
    people = hr(ctx, preset="workday", path="w.csv", columns={"status": "Status"},
                status_values={"A": "active", "T": "terminated"}).people
    assert [p.status for p in people] == ["active", "on_leave", "terminated", "active"]


def test_unknown_status_is_an_error_with_file_and_line(tmp_path: Path,
                                                       ctx: SourceContext) -> None:
    write(tmp_path, "w.csv", WORKDAY.replace("Analyst,6 Individual Contributor,21003,"
                                             "2021-06-01,2026-09-30,0,0",
                                             "Analyst,6 Individual Contributor,21003,"
                                             "2021-06-01,2026-09-30,9,0"))
    with pytest.raises(EvidenceError) as exc:
        hr(ctx, preset="workday", path="w.csv")
    (d,) = exc.value.diagnostics
    assert (d.location, d.code) == ("w.csv:4", "E304")


def test_bamboohr_preset_us_dates(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, "bamboo.csv",
          "id,employeeNumber,firstName,lastName,displayName,workEmail,status,"
          "employmentHistoryStatus,hireDate,terminationDate,department,jobTitle,supervisorEId\n"
          "4,E-004,Siobhán,Ní Bhriain,Siobhán Ní Bhriain,siobhan@nw.example,Active,Full-Time,"
          "07/01/2024,,Data Science,\"Data Scientist, Credit\",2\n"
          "2,E-002,Kenji,Watanabe,Kenji Watanabe,kenji@nw.example,Inactive,Terminated,"
          "05/02/2022,12/19/2025,ML,ML Engineer,\n")
    siobhan, kenji = hr(ctx, preset="bamboohr", path="bamboo.csv").people
    assert siobhan.name == "Siobhán Ní Bhriain"
    assert siobhan.hired == datetime(2024, 7, 1, tzinfo=UTC)
    assert siobhan.title == "Data Scientist, Credit"
    assert siobhan.employee_number == "E-004"
    assert kenji.terminated == datetime(2025, 12, 20, tzinfo=UTC)


def test_personio_preset_german_dates(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, "personio.csv",
          "id,first_name,last_name,email,status,hire_date,termination_date,"
          "employment_type,department,position,supervisor_email\n"
          "17,Łukasz,Nowak,lukasz@nw.example,leave,14.09.2020,,internal,ML,"
          "ML Engineering Lead,\n"
          "18,Ben,Carter,ben@nw.example,active,01.10.2025,,external,Support,Support,"
          "lukasz@nw.example\n")
    lukasz, ben = hr(ctx, preset="personio", path="personio.csv").people
    assert lukasz.status == "on_leave"
    assert lukasz.hired == datetime(2020, 9, 14, tzinfo=UTC)
    assert ben.employment_type == "contractor"


def test_unknown_preset_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="workday"):
        HrCsvAdapter.Config.model_validate({"preset": "workdya", "path": "x.csv"})


def test_lms_presets(tmp_path: Path, ctx: SourceContext) -> None:
    write(tmp_path, "docebo.csv",
          "Username,Email,Course Code,Course Name,Enrollment Status,Course Completion Date,"
          "Final Score,Certificate Expiration Date\n"
          'zoe,zoe@nw.example,AIGOV-101,"AI Governance, Basics",Completed,'
          "2026-01-23 10:15:00,92,2027-01-23 00:00:00\n"
          "yusuf,yusuf@nw.example,AIGOV-101,AI Governance,Failed,2026-10-14 08:00:00,54,\n"
          "ben,ben@nw.example,AIGOV-101,AI Governance,Subscribed,,,\n")
    d = lms(ctx, preset="docebo", path="docebo.csv",
            course_values={"AIGOV-101": "ai-governance-basics"}).trainings
    assert [(t.person, t.course, t.passed) for t in d] == [
        ("zoe@nw.example", "ai-governance-basics", True),
        ("yusuf@nw.example", "ai-governance-basics", False)]
    assert d[0].expires_at == datetime(2027, 1, 23, tzinfo=UTC)
    write(tmp_path, "moodle.csv",
          "Full name,Email address,Course short name,Course completion status,Time completed\n"
          '"Müller, Zoë",zoe@nw.example,AIGOV101,Complete,"Friday, 23 January 2026, 10:15 AM"\n'
          "Ben Carter,ben@nw.example,AIGOV101,Not complete,\n")
    (m,) = lms(ctx, preset="moodle", path="moodle.csv").trainings
    assert m.completed_at == datetime(2026, 1, 23, 10, 15, tzinfo=UTC)
    write(tmp_path, "csod.csv",
          "User ID,User Email,Training Title,Training Object ID,Transcript Status,"
          "Transcript Completed Date,Transcript Expiration Date\n"
          "u1,kwame@nw.example,Auditing AI,IA-301,Completed,12/15/2023,12/15/2026\n"
          "u2,ben@nw.example,Auditing AI,IA-301,Registered,,\n")
    (c,) = lms(ctx, preset="cornerstone", path="csod.csv").trainings
    assert c.expires_at == datetime(2026, 12, 15, tzinfo=UTC)


def test_init_writes_the_workday_mapping(tmp_path: Path) -> None:
    out = tmp_path / "aimscheck.yaml"
    r = subprocess.run([AIMSCHECK, "init", "--hr", "workday", "-o", str(out)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    cfg = yaml.safe_load(out.read_text(encoding="utf-8"))
    (src,) = [s for s in cfg["sources"] if s["adapter"] == "hr_csv"]
    assert src["preset"] == "workday"
    assert src["columns"]["id"] == "Employee_ID"
    assert src["status_values"] == {"1": "active", "0": "terminated"}
    HrCsvAdapter.Config.model_validate({k: v for k, v in src.items() if k != "adapter"})
    bad = subprocess.run([AIMSCHECK, "init", "--hr", "workdya", "-o", str(tmp_path / "x.yaml")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2
    assert "workday" in bad.stderr

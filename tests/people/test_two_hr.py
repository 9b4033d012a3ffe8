"""Acceptance: an organisation with two HR systems (fixtures/two-hr), end to end via the CLI.

The expected findings and owners are hand-written in fixtures/two-hr/expected.yaml; the scan
must find exactly those. Broken variants (a header-only people export, a contradictory
identity map, bad absence rows) must exit 3 naming the file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from checker.availability import availability
from checker.config import load_config
from checker.run import ScanRequest, run

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "two-hr"
AIMSCHECK = str(Path(sys.executable).with_name("aimscheck"))
AS_OF = "2026-11-30"


def scan(config: Path, *fmt: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIMSCHECK, "scan", "-c", str(config), "--as-of", AS_OF, *fmt],
                          capture_output=True, text=True, timeout=120, check=False)


def copy(tmp_path: Path) -> Path:
    dst = tmp_path / "two-hr"
    shutil.copytree(FIXTURE, dst)
    return dst


def test_scan_finds_exactly_the_expected_findings_and_owners() -> None:
    expected = yaml.safe_load((FIXTURE / "expected.yaml").read_text("utf-8"))
    run = scan(FIXTURE / "aimscheck.yaml", "--format", "json", "--passes", "full")
    assert run.returncode == expected["exit_code"], run.stderr
    got: dict[str, Any] = json.loads(run.stdout)
    found = sorted((f["rule_id"], f["target_id"], f["status"], f["owner"]["email"])
                   for f in got["findings"])
    assert found == sorted(tuple(row) for row in expected["findings"])
    unmatched = [(u["source"], u["kind"], u["count"], u["first"][0]) for u in got["unmatched"]]
    assert unmatched == [tuple(row) for row in expected["unmatched"]]
    assert all(s["status"] == "ok" for s in got["sources"])


def test_text_report_shows_the_unmatched_records() -> None:
    run = scan(FIXTURE / "aimscheck.yaml", "--format", "text")
    assert "Unmatched (records that name no known person)" in run.stdout
    assert "absences: 1 absence record — first: absences.csv:6" in run.stdout
    assert "'temp.worker@agency.example'" in run.stdout
    md = scan(FIXTURE / "aimscheck.yaml", "--format", "markdown").stdout
    assert "absences: 1 absence (first absences.csv:6)" in md
    html = scan(FIXTURE / "aimscheck.yaml", "--format", "html").stdout
    assert "Unmatched records" in html
    assert "temp.worker@agency.example" in html


def test_seconded_owner_is_one_person_employed_per_the_subsidiary() -> None:
    loaded = load_config(FIXTURE / "aimscheck.yaml")
    at = datetime(2026, 11, 30, tzinfo=UTC)
    store = run(ScanRequest(loaded=loaded, as_of=at, read_all=True)).store
    eva = store.identity.resolve("EVA.WAGNER@fabrikam.example")
    assert eva is not None
    assert store.identity.resolve("ewagner") == eva  # the SCIM userName (xAPI account)
    assert store.identity.resolve("D-202") == eva
    assert [r.provenance.locator for r in store.identity.records(eva)] == [
        "parent/people.csv:6", "subsidiary/users.json#Users/u-202"]
    a = availability(store.identity, "eva.wagner@fabrikam.example", at, loaded.config.settings)
    assert a.ok
    assert "employed per subsidiary/users.json#Users/u-202" in a.reason
    # Ben's absence is keyed by his subsidiary id and applies to the one merged person
    ben = availability(store.identity, "ben.weber@fabrikam.example", at, loaded.config.settings)
    assert ben.status == "on_leave"
    # the day before, nobody in the scoring team was absent except Anna
    assert availability(store.identity, "D-203", datetime(2026, 11, 29, 12, tzinfo=UTC),
                        loaded.config.settings).ok


def test_header_only_people_export_exits_3_naming_the_file(tmp_path: Path) -> None:
    root = copy(tmp_path)
    people = root / "parent" / "people.csv"
    people.write_text(people.read_text("utf-8").splitlines()[0] + "\n", "utf-8")
    run = scan(root / "aimscheck.yaml", "--format", "text")
    assert run.returncode == 3
    assert "parent/people.csv:2: E317 the people export has a header but no rows" in run.stdout
    # with allow_empty the source is accepted (its people are then simply unknown)
    cfg = yaml.safe_load((root / "aimscheck.yaml").read_text("utf-8"))
    cfg["sources"][1]["allow_empty"] = True
    (root / "aimscheck.yaml").write_text(yaml.safe_dump(cfg), "utf-8")
    assert "E317" not in scan(root / "aimscheck.yaml", "--format", "text").stdout


def test_contradictory_identity_map_exits_3_naming_both_rows(tmp_path: Path) -> None:
    root = copy(tmp_path)
    people = root / "parent" / "people.csv"
    # a second person claims Anna's Jira account: one account, two e-mails
    with people.open("a", encoding="utf-8") as fh:
        fh.write("P-107,Ivo,Keller,ivo.keller@fabrikam.example,Active,2024-01-01,,Risk,"
                 "Analyst,jira-101\n")
    run = scan(root / "aimscheck.yaml", "--format", "text")
    assert run.returncode == 3
    assert "'jira-101' is claimed by two different people" in run.stdout
    assert "parent/people.csv:3 and parent/people.csv:9" in run.stdout
    assert "ERROR" in run.stdout


def test_two_rows_of_one_export_with_one_email_exit_3(tmp_path: Path) -> None:
    root = copy(tmp_path)
    people = root / "parent" / "people.csv"
    with people.open("a", encoding="utf-8") as fh:
        fh.write("P-108,Anna,Schmidt-Two,ANNA.SCHMIDT@fabrikam.example,Active,2024-01-01,,"
                 "Risk,Analyst,jira-108\n")
    run = scan(root / "aimscheck.yaml", "--format", "text")
    assert run.returncode == 3
    assert "parent/people.csv:3 and parent/people.csv:9" in run.stdout


def test_absence_rows_for_nobody_can_fail_the_source(tmp_path: Path) -> None:
    root = copy(tmp_path)
    cfg = yaml.safe_load((root / "aimscheck.yaml").read_text("utf-8"))
    cfg["sources"][3]["unknown_people"] = "error"
    (root / "aimscheck.yaml").write_text(yaml.safe_dump(cfg), "utf-8")
    run = scan(root / "aimscheck.yaml", "--format", "text")
    assert run.returncode == 3
    assert "E312 1 absence record(s) name no known person (first: absences.csv:6" in run.stdout


def test_bad_absence_rows_fail_closed_with_file_and_line(tmp_path: Path) -> None:
    root = copy(tmp_path)
    (root / "absences.csv").write_text(
        "Worker,First Day,Last Day,Absence Type\n"
        "P-101,2026-11-31,2026-12-04,Vacation\n"
        "P-102,2026-11-20,2026-11-19,Vacation\n"
        ",2026-11-20,2026-11-21,Vacation\n", "utf-8")
    run = scan(root / "aimscheck.yaml", "--format", "json", "--passes", "full")
    assert run.returncode == 3
    got = json.loads(run.stdout)
    src = next(s for s in got["sources"] if s["name"] == "absences")
    assert src["status"] == "error"
    assert [d.split(": ")[0] for d in src["diagnostics"]] == [
        "absences.csv:2", "absences.csv:3", "absences.csv:4"]
    # absences decide availability: no rule over people may pass without them
    assert {f["status"] for f in got["findings"]
            if f["rule_id"] in ("TWOHR-ABS-001", "TWOHR-IDN-001")} == {"error"}


def test_header_only_absence_export_is_an_error_unless_allowed(tmp_path: Path) -> None:
    root = copy(tmp_path)
    (root / "absences.csv").write_text("Worker,First Day,Last Day,Absence Type\n", "utf-8")
    assert scan(root / "aimscheck.yaml").returncode == 3
    cfg = yaml.safe_load((root / "aimscheck.yaml").read_text("utf-8"))
    cfg["sources"][3]["allow_empty"] = True
    (root / "aimscheck.yaml").write_text(yaml.safe_dump(cfg), "utf-8")
    assert scan(root / "aimscheck.yaml").returncode == 1


def test_a_snapshot_replays_to_the_same_findings_and_unmatched(tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    pull = subprocess.run([AIMSCHECK, "evidence", "pull", "-c", str(FIXTURE / "aimscheck.yaml"),
                           "--as-of", AS_OF, "-o", str(snap)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert pull.returncode == 0, pull.stderr
    live = json.loads(scan(FIXTURE / "aimscheck.yaml", "--format", "json", "--passes",
                           "full").stdout)
    replay = json.loads(scan(FIXTURE / "aimscheck.yaml", "--evidence", str(snap),
                             "--format", "json", "--passes", "full").stdout)

    def key(d: dict[str, Any]) -> list[tuple[str, str, str, str]]:
        return sorted((f["rule_id"], f["target_id"], f["status"], f["owner"]["email"])
                      for f in d["findings"])

    assert key(replay) == key(live)
    assert replay["unmatched"] == live["unmatched"]

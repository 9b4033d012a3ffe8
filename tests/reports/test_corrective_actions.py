"""The corrective-action log (10.2) from two recorded scans of the demo."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.conftest import DEMO, Runner


def test_log_shows_first_seen_age_due_and_closed_from_two_recorded_scans(
        run_cli: Runner, tmp_path: Path) -> None:
    org = tmp_path / "org"
    shutil.copytree(DEMO, org, ignore=shutil.ignore_patterns(".aimscheck-history*"))
    cfg = org / "aimscheck.yaml"
    first = run_cli("scan", "-c", cfg, "--as-of", "2026-10-31", "--record",
                    "-f", "json", "-o", tmp_path / "1.json")
    assert first.returncode == 1, first.stderr
    assert "recorded scan #1" in first.stderr
    second = run_cli("report", "-c", cfg, "--as-of", "2026-11-30", "--record",
                     "-f", "json", "-o", tmp_path / "2.json", "-f", "html",
                     "-o", tmp_path / "2.html")
    assert second.returncode == 1, second.stderr
    before = {(f["rule_id"], f["target_kind"], f["target_id"])
              for f in json.loads((tmp_path / "1.json").read_text("utf-8"))["findings"]
              if f["status"] in ("fail", "error")}
    doc = json.loads((tmp_path / "2.json").read_text("utf-8"))
    html = (tmp_path / "2.html").read_text("utf-8")
    failing = [f for f in doc["findings"] if f["status"] in ("fail", "error")]
    # every failing finding knows when it was first seen: 2026-10-31 when it already
    # failed then, else this scan
    for f in failing:
        key = (f["rule_id"], f["target_kind"], f["target_id"])
        want = "2026-10-31T00:00:00Z" if key in before else "2026-11-30T00:00:00Z"
        assert f["failing_since"] == want, key
    old = next(f for f in failing if f["failing_since"].startswith("2026-10-31"))
    fp = f'{old["rule_id"]}:{old["target_kind"]}/{old["target_id"]}'
    row = re.search(r'<tr data-action="' + re.escape(fp) + r'">(.*?)</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert cells[4] == "2026-10-31"
    assert cells[5] == "30 days"
    days = doc["corrective_action_days"][old["severity"]]
    due = {7: "2026-11-07", 30: "2026-11-30", 60: "2026-12-30", 90: "2027-01-29"}[days]
    assert cells[6] == due
    # findings that failed on 2026-10-31 and hold now are closed, verified by this scan
    now = {(f["rule_id"], f["target_kind"], f["target_id"]): f["status"]
           for f in doc["findings"]}
    closed = {(c["rule_id"], c["target_kind"], c["target_id"]) for c in doc["closed"]}
    assert closed == {k for k in before if now.get(k) not in ("fail", "error")}
    assert closed
    assert html.count("closed-verified") == len(closed)


def test_without_history_a_finding_is_first_seen_in_this_scan(run_cli: Runner,
                                                               tmp_path: Path) -> None:
    org = tmp_path / "org"
    shutil.copytree(DEMO, org, ignore=shutil.ignore_patterns(".aimscheck-history*"))
    proc = run_cli("report", "-c", org / "aimscheck.yaml", "--as-of", "2026-11-30",
                   "-f", "html", "-o", tmp_path / "r.html")
    assert proc.returncode == 1, proc.stderr
    html = (tmp_path / "r.html").read_text("utf-8")
    assert 'id="corrective-actions-table"' in html
    assert "<td>2026-11-30</td><td class=\"num\">0 days</td>" in html

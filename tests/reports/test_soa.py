"""``aimscheck soa``: the Statement of Applicability on the demo, bad SoA files, Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from checker.iso42001 import ANNEX_A
from tests.conftest import AS_OF, DEMO, Runner

from .test_html_chromium import run_chromium


def _soa(run_cli: Runner, *args: str | Path) -> tuple[int, str, str]:
    proc = run_cli("soa", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, *args)
    return proc.returncode, proc.stdout, proc.stderr


def test_demo_soa_lists_every_control_with_decision_owner_and_evidence(run_cli: Runner) -> None:
    rc, out, err = _soa(run_cli, "-f", "json")
    assert rc == 0, err
    doc = json.loads(out)
    rows = {r["id"]: r for r in doc["controls"]}
    assert list(rows) == list(ANNEX_A)  # all 38, in Annex A order
    # an open decision is a gap, never silently applicable
    assert rows["A.10.4"]["applicable"] == "undecided"
    assert rows["A.10.4"]["implementation"] == "undecided"
    assert any("no applicability decision" in g for g in rows["A.10.4"]["gaps"])
    # the control owner is a named person from the register's control (CTL-01)
    assert rows["A.6.2.5"]["owner"] == "Clara Fontaine <clara.fontaine@northwind.example>"
    assert rows["A.6.2.5"]["owner_role_holder"].startswith("CTL-01 primary")
    # automated evidence (rules, results, date) apart from the manual evidence still required
    assert "AIMS-REL-001" in rows["A.6.2.5"]["rules"]
    assert rows["A.6.2.5"]["checked_on"] == "2026-11-30T00:00:00Z"
    assert "deployment plan" in rows["A.6.2.5"]["not_checked_by_rules"]
    assert rows["A.6.2.5"]["manual_evidence"].startswith("Release process page")
    # 'implemented' only for fully automated controls whose checks all hold; a partial
    # control whose checks hold is 'partly verified', never implemented
    for r in rows.values():
        if r["implementation"] == "implemented":
            assert r["failed"] == 0, r
            assert not r["not_checked_by_rules"], r
        if r["failed"]:
            assert r["implementation"] == "gaps_found", r
    assert rows["A.4.3"]["implementation"] == "partly_verified"
    assert "SoA: 38 Annex A controls, 1 undecided" in err


def test_soa_csv_and_markdown(run_cli: Runner, tmp_path: Path) -> None:
    rc, out, err = _soa(run_cli, "-f", "csv", "-o", tmp_path / "soa.csv", "-f", "markdown")
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO((tmp_path / "soa.csv").read_text("utf-8"))))
    assert [r["id"] for r in rows] == list(ANNEX_A)
    assert out.startswith("# Statement of Applicability — Northwind Analytics GmbH")
    assert "| A.6.2.5 Deployment | yes |" in out


def test_a_bad_soa_file_is_a_located_error(run_cli: Runner, tmp_path: Path) -> None:
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    (work / "soa.yaml").write_text(
        "controls:\n"
        "  A.6.2.5: {applicable: true, justification: Needed.}\n"
        "  A.6.1.1: {applicable: true, justification: 'An objective, not a control.'}\n"
        "  A.7.2: {applicable: maybe, justification: x}\n", "utf-8")
    proc = run_cli("soa", "-c", work / "aimscheck.yaml", "--as-of", AS_OF, "-f", "json")
    assert proc.returncode == 2
    # every problem of the file at once, each with file:line:col
    assert "soa.yaml:3:3: error E161 'A.6.1.1' is not an ISO/IEC 42001 Annex A control" in (
        proc.stderr), proc.stderr
    assert "soa.yaml:4:23: error E113" in proc.stderr
    assert "aimscheck: 2 errors" in proc.stderr
    proc = run_cli("soa", "-c", work / "aimscheck.yaml", "--as-of", AS_OF,
                   "--soa", work / "missing.yaml")
    assert proc.returncode == 2, proc.stderr


def test_soa_html_in_chromium_fits_1280px(run_cli: Runner, tmp_path: Path) -> None:
    page = tmp_path / "soa.html"
    rc, _, err = _soa(run_cli, "-f", "html", "-o", page)
    assert rc == 0, err
    html = page.read_text("utf-8")
    # measure the layout in the browser: the page writes its widths into the DOM
    probe = tmp_path / "probe.html"
    probe.write_text(html.replace(
        "</body>", "<script>document.body.setAttribute('data-overflow', String("
        "document.documentElement.scrollWidth > window.innerWidth));</script></body>"),
        "utf-8")
    res = run_chromium(probe, tmp_path, "--dump-dom", "--window-size=1280,900")
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'data-overflow="false"' in res.stdout
    assert res.stdout.count('<tr data-id="A.') == 38
    assert "CONSOLE" not in res.stderr

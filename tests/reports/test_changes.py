"""``diff`` inside the HTML report (issue 21): new, resolved and still open with age."""

from __future__ import annotations

import re
from pathlib import Path

from checker.config import load_config
from checker.findings import FAILING, ScanResult
from checker.reporters.html import HtmlReporter
from checker.reporters.jsonout import JsonReporter
from checker.run import ScanRequest, run
from checker.timeutil import parse_as_of
from tests.conftest import DEMO

BASE_AS_OF = "2026-10-31"


def _scan(as_of: str, baseline: Path | None = None) -> ScanResult:
    return run(ScanRequest(loaded=load_config(DEMO / "aimscheck.yaml"),
                           as_of=parse_as_of(as_of), baseline=baseline)).result


def _failing(result: ScanResult) -> set[tuple[str, str]]:
    return {(f.rule_id, f.target) for f in result.findings if f.status in FAILING}


def test_no_previous_scan_no_changes_section(demo_result: ScanResult) -> None:
    html = HtmlReporter().render(demo_result)
    assert 'id="changes"' not in html


def test_report_with_baseline_shows_new_resolved_and_still_open(tmp_path: Path,
                                                               demo_result: ScanResult) -> None:
    base = _scan(BASE_AS_OF)
    path = tmp_path / "baseline.json"
    path.write_text(JsonReporter().render(base), "utf-8")
    now = _scan("2026-11-30", baseline=path)
    before, after = _failing(base), _failing(now)
    assert before - after  # the demo has findings that were fixed in November
    assert after - before
    html = HtmlReporter().render(now)
    section = html[html.index('<section id="changes">'):]
    section = section[:section.index("</section>")]
    rows = re.findall(r'<tr data-change="([a-z-]+)">(.*?)</tr>', section, re.S)
    by: dict[str, list[str]] = {}
    for kind, body in rows:
        by.setdefault(kind, []).append(body)
    assert len(by["new"]) == len(after - before)
    assert len(by["still-open"]) == len(after & before)
    assert len(by["resolved"]) == len(before - after)
    for rule, target in before - after:
        assert any(rule in b and target in b for b in by["resolved"]), (rule, target)
    # still-open findings are aged from the baseline, in days with the unit
    for body in by["still-open"]:
        assert "2026-10-31" in body
        assert ">30 days<" in body
    assert f"<b id=\"changes-resolved\">{len(before - after)} resolved</b>" in section
    # the corrective-action log takes the first sighting from the baseline too
    log = html[html.index('id="corrective-actions-table"'):]
    assert "<td>2026-10-31</td><td class=\"num\">30 days</td>" in log

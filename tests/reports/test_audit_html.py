"""The HTML self-assessment read as an auditor would, in headless Chromium at 1280 px."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.findings import FAILING, HistoryPoint, ScanResult, WaiverRef
from checker.reporters.html import HtmlReporter

from .test_html_chromium import run_chromium

#: Measures the page in the browser and writes the answers into the DOM for --dump-dom.
PROBE = """<script>
document.body.setAttribute('data-overflow',
  String(document.documentElement.scrollWidth > window.innerWidth));
</script></body>"""


@pytest.fixture(scope="module")
def audited(demo_result: ScanResult) -> ScanResult:
    """The demo with one failing finding waived and three recorded scans of history."""
    target = next(f for f in demo_result.findings if f.status == "fail")
    waiver = WaiverRef(id="WVR-TEST-1", approved_by="Arjun Mehta <arjun.mehta@northwind.example>",
                       requested_by="ingrid.halvorsen@northwind.example",
                       reason="Course retired; replacement opens in January.",
                       start="2026-11-01", expiry="2027-01-31", risk_acceptance="RSK-004",
                       state="active")
    findings = tuple(f.model_copy(update={"status": "waived", "waiver": waiver})
                     if f is target else f for f in demo_result.findings)
    return demo_result.model_copy(update={"findings": findings, "history": (
        HistoryPoint(as_of="2026-09-30T00:00:00Z", readiness=88.5, failing=25, total=280),
        HistoryPoint(as_of="2026-11-30T00:00:00Z", readiness=93.4, failing=19, total=290))})


@pytest.fixture(scope="module")
def dom(audited: ScanResult, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("audit")
    page = tmp / "report.html"
    page.write_text(HtmlReporter().render(audited).replace("</body>", PROBE), "utf-8")
    res = run_chromium(page, tmp, "--dump-dom", "--window-size=1280,1000")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "CONSOLE" not in res.stderr, res.stderr[-2000:]
    return res.stdout


def test_no_horizontal_overflow_at_1280px(dom: str) -> None:
    assert 'data-overflow="false"' in dom


def test_every_failure_is_described_once(audited: ScanResult, dom: str) -> None:
    fails = [f for f in audited.findings if f.status in FAILING]
    assert fails
    for f in fails:
        assert dom.count(f'data-finding="{f.fingerprint}"') == 1, f.fingerprint
        assert dom.count(f'id="{f.finding_id}"') == 1, f.finding_id


def test_waived_findings_are_shown_with_approver_and_expiry(audited: ScanResult,
                                                          dom: str) -> None:
    waived = [f for f in audited.findings if f.status == "waived"]
    assert len(waived) == 1
    row = re.search(r'<tr data-finding="' + re.escape(waived[0].fingerprint) + r'">(.*?)</tr>',
                    dom, re.S)
    assert row is not None
    assert "Arjun Mehta" in row.group(1)
    assert "2027-01-31" in row.group(1)
    # the totals add up: every finding is counted under one status in the header
    s = audited.summary
    assert f"{s.get('waived', 0)} waived" in dom


def test_no_partial_clause_or_control_is_shown_complete(dom: str) -> None:
    groups = re.findall(r'data-group="([^"]+)" data-fully-automated="(true|false)" '
                        r'data-bar-width="([0-9.]+)"', dom)
    assert groups
    for label, full, width in groups:
        if full == "false":
            assert float(width) < 300, label  # the track is 300 wide
    # partial rows of the coverage tables carry what is not checked, never "100%"
    assert "Not checked: a named owner per dataset is checked" in dom
    assert "satisfied" not in dom.lower().replace("not-satisfied", "")


def test_figures_are_visible_text_not_hover_only(audited: ScanResult, dom: str) -> None:
    for p in audited.history:
        assert f"{p.readiness:g}% · {p.failing} failing" in dom
    for label in re.findall(r'data-group="([^"]+)"', dom):
        assert f">{label}</text>" in dom


def test_good_practice_failures_are_opportunities_not_nonconformities(audited: ScanResult,
                                                                    dom: str) -> None:
    gp = [f for f in audited.findings if f.status == "fail" and f.good_practice]
    ncs = [f for f in audited.findings if f.status == "fail" and not f.good_practice]
    assert gp
    assert ncs
    for f, kind in ((gp[0], "opportunity for improvement"), (ncs[0], "nonconformity")):
        row = re.search(r'<tr id="' + f.finding_id + r'"[^>]*>(.*?)</tr>', dom, re.S)
        assert row is not None
        assert f'<div class="kind">{kind}</div>' in row.group(1)


def test_report_is_printable_to_pdf(audited: ScanResult, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(HtmlReporter().render(audited), "utf-8")
    pdf = tmp_path / "report.pdf"
    res = run_chromium(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert res.returncode == 0, res.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"


def test_population_appendix_and_csv_cover_every_decision(audited: ScanResult, dom: str) -> None:
    import csv
    import io

    from checker.reporters.population import PopulationReporter

    rows = list(csv.DictReader(io.StringIO(PopulationReporter().render(audited))))
    everything = list(audited.all_findings())
    assert len(rows) == len(everything) == audited.summary["total"]
    assert {r["status"] for r in rows} >= {"pass", "fail", "not_applicable", "waived"}
    for r in rows:
        assert r["reason"], r  # not applicable too says why
        assert r["owner"], r
    waived = next(r for r in rows if r["status"] == "waived")
    assert "Arjun Mehta" in waived["waiver"]
    # the HTML appendix lists every rule's population, failing rows point at their entry
    rules = {f.rule_id for f in everything}
    for rule_id in rules:
        assert f'id="pop-{rule_id}"' in dom
    assert dom.count('<table class="population">') == len(rules)


def test_document_control_block(audited: ScanResult, dom: str) -> None:
    block = re.search(r'<table id="document-control".*?</table>', dom, re.S)
    assert block is not None
    text = block.group(0)
    assert audited.organisation in text
    assert audited.as_of in text
    assert audited.rule_pack_digest
    assert audited.rule_pack_digest in text
    assert audited.config_digest
    assert audited.config_digest in text


def test_matrix_grid_shows_gaps_and_concentration(audited: ScanResult, dom: str) -> None:
    section = dom[dom.index('<section id="matrix">'):]
    section = section[:section.index("</section>")]
    gaps = [(m.key, o.role) for m in audited.matrix for o in m.owners if o.status == "missing"]
    assert gaps
    for key, role in gaps:
        row = re.search(r'<tr data-subject="' + re.escape(key) + r'".*?</tr>', section, re.S)
        assert row is not None, key
        assert f'data-role="{role}" data-status="missing"' in row.group(0)
        assert ">missing</span>" in row.group(0)
    # the per-person view: counts and flags are visible text
    assert 'id="concentration-table"' in section
    assert "single point of failure" in section
    assert "overloaded: " in section

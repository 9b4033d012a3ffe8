"""The management-review pack (9.3): computations, two recorded scans, the command."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from checker.config import load_config
from checker.findings import FAILING, Finding, OwnerRef, ScanResult
from checker.review import Point, build_review
from checker.run import load_rules_for
from tests.conftest import DEMO, Runner, aimscheck_exe

from .test_audit_html import PROBE
from .test_html_chromium import run_chromium

T1, T2, T3 = "2026-09-30T00:00:00Z", "2026-10-31T00:00:00Z", "2026-11-30T00:00:00Z"
OWNER = OwnerRef(id="P1", name="Ada Owner", email="ada@example.com", via="primary")


def _f(rule: str, sid: str, status: str, severity: str = "high",
       since: str | None = None) -> Finding:
    return Finding(rule_id=rule, title=rule, severity=severity, status=status,
                   target_kind="risk", target_id=sid, target_name=sid.upper(),
                   message=f"{rule} on {sid} is {status}", owner=OWNER,
                   references={"iso42001": ["6.1.2", "8.2", "A.5.2"]},
                   failing_since=since if status in FAILING else None)


def _result(*findings: Finding) -> ScanResult:
    return ScanResult(tool_version="0", organisation="Org", as_of=T3, findings=findings,
                      corrective_action_days={"critical": 7, "high": 30, "medium": 60,
                                              "low": 90})


def _point(as_of: str, **statuses: tuple[str, str]) -> Point:
    return Point(as_of=as_of, findings={("R-1", "risk", k): v for k, v in statuses.items()})


def test_trend_new_resolved_overdue_and_time_to_close() -> None:
    recorded = [
        _point(T1, a=("fail", "high"), b=("fail", "medium"), c=("pass", "high")),
        _point(T2, a=("fail", "high"), b=("pass", "medium"), c=("fail", "high")),
        # a recorded scan after the as-of is ignored
        _point("2027-01-31T00:00:00Z", a=("pass", "high")),
    ]
    result = _result(_f("R-1", "a", "fail", since=T1), _f("R-1", "b", "pass", "medium"),
                     _f("R-1", "c", "pass"), _f("R-1", "d", "error", "critical", since=T3))
    v = build_review(recorded, result, [])
    assert [t.as_of for t in v.trend] == [T1, T2, T3]
    assert [t.failing for t in v.trend] == [2, 2, 2]
    assert v.trend[0].by_severity == {"critical": 0, "high": 1, "medium": 1, "low": 0}
    assert v.trend[2].by_severity == {"critical": 1, "high": 1, "medium": 0, "low": 0}
    assert (v.trend[0].new, v.trend[1].new, v.trend[2].new) == (None, 1, 1)
    assert (v.trend[1].resolved, v.trend[2].resolved) == (1, 1)
    assert v.trend[2].current
    assert v.previous_as_of == T2
    assert v.recorded_scans == 2
    # this period: d is new, c is resolved; a has failed since T1, 61 days: high (30) overdue
    assert [x.target for x in v.new] == ["risk/d"]
    assert [(x.target, x.first_seen, x.detail) for x in v.resolved] == [
        ("risk/c", "2026-10-31", "now pass, closed after 30 days")]
    assert [x.target for x in v.overdue] == ["risk/a"]
    assert v.overdue[0].detail == "due 2026-10-30, 31 days overdue"
    assert v.open_count == 2
    # b failed T1 → passed T2 (31 days); c failed T2 → passed T3 (30 days)
    runs = {(c.target, c.days) for c in v.closed_runs}
    assert runs == {("risk/b", 31), ("risk/c", 30)}
    assert v.time_to_close == {"closed": 2, "median_days": 30.5, "mean_days": 30.5,
                               "max_days": 31}
    assert v.time_to_close_by_severity == {"high": (1, 30.0), "medium": (1, 31.0)}


def test_clause_trend_counts_each_group_once_per_finding() -> None:
    recorded = [_point(T2, a=("fail", "high"))]
    result = _result(_f("R-1", "a", "fail"), _f("R-1", "b", "fail"))
    v = build_review(recorded, result, [])
    rows = {c.group: c.counts for c in v.clauses}
    # 6.1.2 and 8.2 are clauses 6 and 8; A.5.2 is objective A.5 — one count each
    assert rows == {"6": (1, 2), "8": (1, 2), "A.5": (1, 2)}
    assert [c.group for c in v.clauses] == ["6", "8", "A.5"]
    assert all(c.change == 1 for c in v.clauses)


def test_kpis_from_the_checks_of_the_loaded_rules() -> None:
    rules = load_rules_for(load_config(DEMO / "aimscheck.yaml"))
    prev = Point(as_of=T2, findings={("AIMS-REL-001", "release", "m:1"): ("fail", "high")})
    result = _result(
        _f("AIMS-REL-001", "m:1", "pass"), _f("AIMS-REL-001", "m:2", "waived"),
        _f("AIMS-REL-001", "m:3", "not_applicable"),
        _f("AIMS-RSK-001", "r1", "warn"), _f("AIMS-RSK-001", "r2", "fail"),
        _f("AIMS-INC-002", "i1", "pass"), _f("AIMS-INC-003", "i1", "error"))
    kpis = {k.id: k for k in build_review([prev], result, rules).kpis}
    rel = kpis["releases_approved"]
    # a waived release is not an approved one; not applicable is not counted
    assert (rel.met, rel.total, rel.pct) == (1, 2, 50.0)
    assert rel.previous == (T2[:10], 0, 1)
    assert rel.previous_pct == 0.0
    assert (kpis["risk_reviews"].met, kpis["risk_reviews"].total) == (1, 2)
    # reviews of policies and vendors are not risk reviews
    assert [r for r, _, _ in kpis["risk_reviews"].rules] == ["AIMS-RSK-001"]
    inc = kpis["incident_sla"]
    assert (inc.met, inc.total) == (1, 2)
    assert dict((r, (m, t)) for r, m, t in inc.rules) == {"AIMS-INC-002": (1, 1),
                                                          "AIMS-INC-003": (0, 1)}
    # nothing measured is said so, never 100%
    assert kpis["training"].total == 0
    assert kpis["training"].pct is None


@pytest.fixture(scope="module")
def two_scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo copy with two recorded scans (2026-10-31 and 2026-11-30)."""
    tmp = tmp_path_factory.mktemp("review")
    org = tmp / "org"
    shutil.copytree(DEMO, org, ignore=shutil.ignore_patterns(".aimscheck-history*"))
    for day in ("2026-10-31", "2026-11-30"):
        res = subprocess.run([aimscheck_exe(), "scan", "-c", str(org / "aimscheck.yaml"),
                              "--as-of", day, "--record", "-f", "json", "-o",
                              str(tmp / f"{day}.json")], capture_output=True, text=True,
                             check=False, timeout=300)
        assert res.returncode == 1, res.stderr
        assert "recorded scan" in res.stderr
    return tmp


def _failing(path: Path) -> dict[tuple[str, str, str], str]:
    return {(f["rule_id"], f["target_kind"], f["target_id"]): f["severity"]
            for f in json.loads(path.read_text("utf-8"))["findings"]
            if f["status"] in ("fail", "error")}


def test_two_recorded_scans_give_trend_new_and_resolved(run_cli: Runner,
                                                        two_scans: Path) -> None:
    cfg = two_scans / "org" / "aimscheck.yaml"
    out = two_scans / "review.json"
    res = run_cli("review", "-c", cfg, "--as-of", "2026-11-30", "-f", "json", "-o", out)
    assert res.returncode == 0, res.stderr
    doc = json.loads(out.read_text("utf-8"))
    before, now = _failing(two_scans / "2026-10-31.json"), _failing(two_scans / "2026-11-30.json")
    # the recorded 2026-11-30 scan is replaced by the current one: two points
    assert [t["as_of"][:10] for t in doc["trend"]] == ["2026-10-31", "2026-11-30"]
    for t, keys in zip(doc["trend"], (before, now), strict=True):
        assert t["failing"] == len(keys)
        for sev in ("critical", "high", "medium", "low"):
            assert t["by_severity"][sev] == sum(1 for s in keys.values() if s == sev)
    new = {(x["rule_id"], *x["target"].split("/", 1)) for x in doc["new"]}
    resolved = {(x["rule_id"], *x["target"].split("/", 1)) for x in doc["resolved"]}
    assert new == now.keys() - before.keys()
    assert resolved == before.keys() - now.keys()
    assert new
    assert resolved
    assert doc["trend"][1]["new"] == len(new)
    assert doc["trend"][1]["resolved"] == len(resolved)
    assert doc["time_to_close"]["closed"] == len(resolved)
    assert doc["time_to_close"]["median_days"] == 30.0
    assert doc["open_count"] == len(now)


def test_review_html_is_deterministic_and_shows_every_figure(run_cli: Runner,
                                                             two_scans: Path) -> None:
    cfg = two_scans / "org" / "aimscheck.yaml"
    pages = []
    for name in ("a.html", "b.html"):
        res = run_cli("review", "-c", cfg, "--as-of", "2026-11-30", "-o", two_scans / name)
        assert res.returncode == 0, res.stderr
        pages.append((two_scans / name).read_bytes())
    assert pages[0] == pages[1]
    html = pages[0].decode("utf-8")
    res = run_cli("review", "-c", cfg, "--as-of", "2026-11-30", "-f", "json")
    doc = json.loads(res.stdout)
    # no hover-only figure: no <title> tooltips in the chart, every value is text
    assert "<title>" not in html.split("</head>", 1)[1]
    for t in doc["trend"]:
        parts = " · ".join(f"{s} {t['by_severity'][s]}" for s in ("critical", "high",
                                                                     "medium", "low"))
        assert f"{t['failing']} failing: {parts}</text>" in html
    for k in doc["kpis"]:
        tile = re.search(r'<div class="tile" data-kpi="' + k["id"] + r'".*?</div>\n</div>',
                         html, re.S)
        assert tile is not None, k["id"]
        if k["pct"] is not None:
            assert f"{k['pct']}%" in tile.group(0)
            assert f"{k['met']} of {k['total']}" in tile.group(0)
    for figure in ("open", "new", "resolved", "overdue"):
        n = doc["open_count"] if figure == "open" else len(doc[figure])
        assert re.search(rf'data-figure="{figure}"><b>{n}</b>', html), figure


def test_without_history_the_pack_says_so(run_cli: Runner, tmp_path: Path) -> None:
    org = tmp_path / "org"
    shutil.copytree(DEMO, org, ignore=shutil.ignore_patterns(".aimscheck-history*"))
    res = run_cli("review", "-c", org / "aimscheck.yaml", "--as-of", "2026-11-30", "-o",
                  tmp_path / "r.html")
    assert res.returncode == 0, res.stderr
    assert "no history store" in res.stderr
    assert 'id="no-history"' in (tmp_path / "r.html").read_text("utf-8")
    # the pack never creates a history store of its own
    assert not list(org.glob(".aimscheck-history*"))


def test_review_in_chromium_fits_1280px_and_prints(run_cli: Runner, two_scans: Path,
                                                  tmp_path: Path) -> None:
    cfg = two_scans / "org" / "aimscheck.yaml"
    page = tmp_path / "review.html"
    res = run_cli("review", "-c", cfg, "--as-of", "2026-11-30", "-o", page)
    assert res.returncode == 0, res.stderr
    html = page.read_text("utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b", html, re.I)  # self-contained
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE), "utf-8")
    res = run_chromium(probed, tmp_path, "--dump-dom", "--window-size=1280,1000")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "CONSOLE" not in res.stderr, res.stderr[-2000:]
    assert 'data-overflow="false"' in res.stdout
    for anchor in ('id="severity-chart"', 'id="trend-table"', 'id="clause-trend-table"',
                   'id="overdue-table"', 'id="new-table"', 'id="resolved-table"',
                   'id="ttc-table"', 'data-kpi="releases_approved"'):
        assert anchor in res.stdout, anchor
    pdf = tmp_path / "review.pdf"
    res = run_chromium(page, tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert res.returncode == 0, res.stderr[-2000:]
    assert pdf.read_bytes()[:5] == b"%PDF-"

"""Escalation as findings age: three recorded scans over 60 days (issue 20)."""

from __future__ import annotations

import csv
import html
import json
from datetime import date
from pathlib import Path

from tests.conftest import Runner

from .conftest import hr_accounts
from .jira_server import JiraServer

LADDER = """
escalation:
  - {after_days: 14, to: deputy}
  - {after_days: 30, to: manager}
  - {after_days: 90, to: accountable_executive}
"""
FP = ("AIMS-OWN-002", "ai_system", "support-chatbot")


def _manager_of(base: Path, email: str) -> tuple[str, str]:
    with (base / "hr" / "people.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    manager = next(r["manager_email"] for r in rows if r["work_email"] == email)
    m = next(r for r in rows if r["work_email"] == manager)
    return manager, f"{m['first_name']} {m['last_name']}"


def _find(findings: list[dict[str, object]]) -> dict[str, object]:
    return next(f for f in findings
                if (f["rule_id"], f["target_kind"], f["target_id"]) == FP)


def test_three_recorded_scans_escalate_a_long_standing_finding_to_the_manager(
        run_cli: Runner, demo: Path, jira: JiraServer, env: dict[str, str],
        tmp_path: Path) -> None:
    demo.write_text(demo.read_text("utf-8") + LADDER, "utf-8")
    for day in ("2026-10-01", "2026-10-31"):
        p = run_cli("scan", "-c", demo, "--as-of", day, "--record", "-f", "json", "-o",
                    tmp_path / f"{day}.json")
        # 3 is fine here: at earlier dates some release findings are errors (no deploy time)
        assert p.returncode in (0, 1, 3), p.stderr
    out_json, out_html = tmp_path / "now.json", tmp_path / "now.html"
    p = run_cli("scan", "-c", demo, "--as-of", "2026-11-30", "--record", "-f", "json", "-o",
                out_json, "-f", "html", "-o", out_html, "-f", "text")
    assert p.returncode == 1, p.stderr
    findings = json.loads(out_json.read_text("utf-8"))["findings"]
    f = _find(findings)
    owner = f["owner"]
    assert isinstance(owner, dict)
    manager_email, manager_name = _manager_of(demo.parent, str(owner["email"]))
    assert f["failing_since"] == "2026-10-01T00:00:00Z"
    esc = f["escalated_to"]
    assert isinstance(esc, dict)
    assert esc["email"] == manager_email
    assert esc["via"] == "escalation:30d:manager"
    # every failing finding follows the ladder; passing ones carry nothing
    for g in findings:
        if g["status"] not in ("fail", "error"):
            assert g["escalated_to"] is None
            continue
        days = (date(2026, 11, 30) - date.fromisoformat(str(g["failing_since"])[:10])).days
        assert (g["escalated_to"] is None) == (days < 14), g
    # text and HTML show it
    assert f"escalated to: {manager_name} <{manager_email}> (failing since 2026-10-01)" \
        in p.stdout
    page = out_html.read_text("utf-8")
    assert (f'<div class="escalated">escalated to: {html.escape(manager_name)} '
            f"&lt;{manager_email}&gt;") in page
    # the HTML self-assessment ('report') shows it too
    rep = run_cli("report", "-c", demo, "--as-of", "2026-11-30", "-o", tmp_path / "r.html")
    assert rep.returncode == 1, rep.stderr
    assert f'class="escalated">escalated to {html.escape(manager_name)}' in (
        tmp_path / "r.html").read_text("utf-8")
    # the same history and as-of give the same output (no clock)
    again = run_cli("scan", "-c", demo, "--as-of", "2026-11-30", "-f", "json")
    assert json.loads(again.stdout)["findings"] == findings
    # the ticket: the manager is a watcher, with a comment saying why
    p = run_cli("tickets", "sync", "-c", demo, "--as-of", "2026-11-30", "--apply", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    issue = next(i for i in jira.issues.values()
                 if i["properties"]["aimscheck"]["fingerprint"]
                 == "AIMS-OWN-002:ai_system/support-chatbot")
    manager_acc = hr_accounts(demo.parent)[manager_email][0]
    assert manager_acc in issue["watchers"]
    assert any(c.startswith(f"Escalated by aimscheck to {manager_name}")
               and "since 2026-10-01" in c for c in issue["comments"])
    assert f"Escalated to: {manager_name}" in json.dumps(issue["fields"]["description"],
                                                         ensure_ascii=False)


def test_markdown_shows_the_escalation(run_cli: Runner, demo: Path, tmp_path: Path) -> None:
    demo.write_text(demo.read_text("utf-8") + LADDER, "utf-8")
    for day in ("2026-10-01", "2026-11-30"):
        p = run_cli("scan", "-c", demo, "--as-of", day, "--record", "-f", "json", "-o",
                    tmp_path / f"{day}.json")
        assert p.returncode in (0, 1, 3), p.stderr
    p = run_cli("scan", "-c", demo, "--as-of", "2026-11-30", "-f", "markdown")
    assert "**escalated to** " in p.stdout
    assert "(failing since 2026-10-01)" in p.stdout


def test_a_ladder_out_of_order_is_a_located_error(run_cli: Runner, demo: Path) -> None:
    text = demo.read_text("utf-8") + ("\nescalation:\n  - {after_days: 30, to: manager}\n"
                                      "  - {after_days: 14, to: deputy}\n")
    demo.write_text(text, "utf-8")
    p = run_cli("scan", "-c", demo, "--as-of", "2026-11-30")
    assert p.returncode == 2
    line = text.splitlines().index("  - {after_days: 14, to: deputy}") + 1
    assert f"aimscheck.yaml:{line}:" in p.stderr
    assert "E140" in p.stderr

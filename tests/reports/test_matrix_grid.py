"""The accountability matrix as an auditable grid, and the per-person concentration view."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from checker.config import load_config
from checker.findings import OWNER_STATUS_ORDER, MatrixOwner, MatrixRow, ScanResult
from checker.matrix import concentration, required_roles, role_columns
from checker.reporters.html import HtmlReporter
from checker.run import load_rules_for
from tests.conftest import AS_OF, DEMO, Runner

from .test_audit_html import PROBE
from .test_html_chromium import run_chromium

CONFIG = DEMO / "aimscheck.yaml"


def _row(key: str, *cells: tuple[str, str | None, str], retired: bool = False) -> MatrixRow:
    kind, _, sid = key.partition("/")
    return MatrixRow(kind=kind, id=sid, name=sid, retired=retired, owners=tuple(
        MatrixOwner(role=role, handle=pid or "", person_id=pid, name=pid, status=status)
        for role, pid, status in cells))


def test_required_roles_come_from_the_loaded_rules() -> None:
    need = required_roles(load_rules_for(load_config(CONFIG)))
    assert list(need["ai_system"]) == ["primary", "backup", "risk_owner"]
    assert need["ai_system"]["backup"] == ("AIMS-OWN-002",)
    # the risk owner signs releases (REL-002) and receives escalated incidents (INC-003)
    assert need["ai_system"]["risk_owner"] == ("AIMS-INC-003", "AIMS-REL-002")
    assert list(need["risk"]) == ["primary", "backup"]
    # with no rule loaded nothing is required: an absent role is then not a gap
    assert required_roles([]) == {}


def test_a_missing_role_is_a_red_cell_never_an_empty_one(demo_result: ScanResult) -> None:
    rows = {m.key: m for m in demo_result.matrix}
    chatbot = rows["ai_system/support-chatbot"]
    backup = chatbot.cell("backup")
    assert backup is not None
    assert backup.status == "missing"
    assert backup.person_id is None
    assert "required by AIMS-OWN-002" in backup.detail
    churn = rows["ai_system/churn-predictor"].cell("risk_owner")
    assert churn is not None
    assert churn.status == "missing"
    # a risk needs no risk owner of its own: no cell, not a gap
    assert rows["risk/RSK-001"].cell("risk_owner") is None
    # every required role of every row has a cell
    for m in demo_result.matrix:
        assert {o.role for o in m.owners} >= set(m.required), m.key


def test_a_group_owner_is_not_an_individual_not_untrained(demo_result: ScanResult) -> None:
    churn = next(m for m in demo_result.matrix if m.key == "ai_system/churn-predictor")
    primary = churn.cell("primary")
    assert primary is not None
    assert primary.name == "ML Platform Team"
    assert primary.status == "not_individual"
    assert "lacks" not in primary.detail


def test_gaps_come_first_worst_first(demo_result: ScanResult) -> None:
    ranks = [OWNER_STATUS_ORDER.index(m.worst) for m in demo_result.matrix]
    assert ranks == sorted(ranks)
    assert demo_result.matrix[0].worst == "missing"
    assert demo_result.matrix[-1].worst == "active"


def test_role_columns_put_primary_and_backup_first() -> None:
    rows = [_row("ai_system/a", ("risk_owner", "P1", "active"), ("sponsor", "P2", "active"),
                 ("backup", "P3", "active"), ("primary", "P4", "active"))]
    assert role_columns(rows) == ["primary", "backup", "risk_owner", "sponsor"]


def test_concentration_counts_roles_flags_sole_owners_and_overload() -> None:
    rows = [
        # A is the only available owner: the backup has left
        _row("risk/R1", ("primary", "A", "active"), ("backup", "B", "terminated")),
        # A and C can both act: nobody is a single point of failure
        _row("risk/R2", ("primary", "C", "active"), ("backup", "A", "active")),
        # an untrained owner can still act; the other one is away
        _row("risk/R3", ("primary", "A", "untrained"), ("backup", "C", "on_leave")),
        # a retired subject needs nobody
        _row("risk/R4", ("primary", "C", "active"), retired=True),
        # a missing backup: C alone
        _row("risk/R5", ("primary", "C", "active"), ("backup", None, "missing")),
    ]
    people = {p.person_id: p for p in concentration(rows, max_roles=3)}
    a, b, c = people["A"], people["B"], people["C"]
    assert a.roles == {"primary": 2, "backup": 1}
    assert a.role_count == 3
    assert a.sole_owner_of == ("risk/R1", "risk/R3")
    assert not a.overloaded  # 3 roles, threshold 3: at the limit, not above it
    assert c.role_count == 4
    assert c.overloaded
    assert c.sole_owner_of == ("risk/R5",)
    assert c.subjects == ("risk/R2", "risk/R3", "risk/R4", "risk/R5")
    assert b.sole_owner_of == ()
    assert b.flags == []
    assert b.status == "terminated"
    assert "overloaded: 4 owner roles, limit 3" in c.flags
    # the threshold is a parameter: raised, nobody is overloaded
    assert not any(p.overloaded for p in concentration(rows, max_roles=4))
    # flagged people first
    order = [p.person_id for p in concentration(rows, max_roles=3)]
    assert order.index("B") == 2


def test_concentration_on_the_demo(demo_result: ScanResult) -> None:
    people = concentration(demo_result.matrix, demo_result.concentration_max_roles)
    zoe = next(p for p in people if p.name == "Zoë Müller")
    assert demo_result.concentration_max_roles == 8
    assert zoe.role_count == 10
    assert zoe.overloaded
    # Lars Eriksen is the only one who can act on RSK-007: its primary owner has left
    lars = next(p for p in people if p.name == "Lars Eriksen")
    assert "risk/RSK-007" in lars.sole_owner_of
    assert people[0].flags


def test_threshold_is_read_from_the_config(run_cli: Runner, demo_copy: Path) -> None:
    text = demo_copy.read_text("utf-8")
    demo_copy.write_text(text.replace("settings:\n", "settings:\n  concentration_max_roles: 12\n",
                                      1), "utf-8")
    res = run_cli("matrix", "-c", demo_copy, "--as-of", AS_OF, "-f", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    zoe = next(p for p in doc["concentration"] if p["person_name"] == "Zoë Müller")
    assert zoe["roles"] == 10
    assert zoe["max_roles"] == 12
    assert zoe["overloaded"] is False


def test_matrix_command_outputs_show_the_gaps(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    gap = [r for r in rows if r["subject_id"] == "support-chatbot" and r["role"] == "backup"]
    assert gap[0]["status"] == "missing"
    assert "AIMS-OWN-002" in gap[0]["detail"]
    assert rows[0]["status"] != "active"  # gaps first
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF, "-f", "concentration-csv")
    assert res.returncode == 0, res.stderr
    people = list(csv.DictReader(io.StringIO(res.stdout)))
    assert people[0]["person_name"] == "Zoë Müller"
    assert people[0]["overloaded"] == "yes"
    out = tmp_path / "m.html"
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF, "-f", "html", "-o", out)
    assert res.returncode == 0, res.stderr
    html = out.read_text("utf-8")
    cell = re.search(r'<tr data-subject="ai_system/support-chatbot".*?</tr>', html, re.S)
    assert cell is not None
    assert 'data-role="backup" data-status="missing"' in cell.group(0)
    assert 'id="concentration-table"' in html


def test_report_matrix_section_is_the_grid(demo_result: ScanResult) -> None:
    html = HtmlReporter().render(demo_result)
    section = html[html.index('<section id="matrix">'):]
    section = section[:section.index("</section>")]
    # one row per subject, one cell per role column
    cols = role_columns(demo_result.matrix)
    rows = re.findall(r'<tr data-subject="([^"]+)" data-worst="([^"]+)">(.*?)</tr>', section,
                      re.S)
    assert [k for k, _, _ in rows] == [m.key for m in demo_result.matrix]
    for _, _, body in rows:
        assert len(re.findall(r'<td class="cell[^"]*" data-role=', body)) == len(cols)
    # the legend lists the statuses worst first, with the counts
    legend = re.findall(r'data-status="([a-z_]+)">[^<]*: (\d+)</span>', section)
    assert [s for s, _ in legend] == list(OWNER_STATUS_ORDER)
    cells = [o for m in demo_result.matrix for o in m.owners]
    for status, n in legend:
        assert int(n) == sum(1 for o in cells if o.status == status), status
    assert "not an individual</span>" in section


def test_matrix_page_fits_1280px_in_chromium(run_cli: Runner, tmp_path: Path) -> None:
    page = tmp_path / "matrix.html"
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF, "-f", "html", "-o", page)
    assert res.returncode == 0, res.stderr
    page.write_text(page.read_text("utf-8").replace("</body>", PROBE), "utf-8")
    res = run_chromium(page, tmp_path, "--dump-dom", "--window-size=1280,1000")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "CONSOLE" not in res.stderr, res.stderr[-2000:]
    assert 'data-overflow="false"' in res.stdout
    assert 'data-status="missing"' in res.stdout


def test_soa_reads_a_missing_primary_cell_as_no_control_owner(demo_result: ScanResult) -> None:
    from checker.soa import SoaDecision, SoaFile, build_soa

    rows = tuple(m.model_copy(update={"owners": (MatrixOwner(
        role="primary", handle="", status="missing", detail="no primary owner named"),)})
        if m.key == "control/CTL-01" else m for m in demo_result.matrix)
    result = demo_result.model_copy(update={"matrix": rows})
    soa = SoaFile(controls={"A.6.2.5": SoaDecision(applicable=True, justification="x",
                                                   control="CTL-01")})
    row = next(r for r in build_soa(result, soa) if r.id == "A.6.2.5")
    assert "control CTL-01 names no primary owner" in row.gaps
    assert not row.owner


def test_matrix_page_shows_control_characters_as_escapes(demo_result: ScanResult) -> None:
    from checker.commands.reports import matrix_html

    rows = tuple(m.model_copy(update={"name": "Fraud\r\nPASS: all good\x1b[2J"})
                 if m.key == "risk/RSK-001" else m for m in demo_result.matrix)
    html = matrix_html(demo_result.model_copy(update={"matrix": rows}))
    assert "Fraud\\x0d\\x0aPASS: all good\\x1b[2J" in html
    assert "\x1b" not in html
    assert "\r" not in html

"""`aimscheck report`, `matrix` and `owners` through the installed command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from checker.commands.reports import csv_safe, matrix_csv
from checker.findings import MatrixOwner, MatrixRow
from tests.conftest import AS_OF, DEMO, Runner

CONFIG = DEMO / "aimscheck.yaml"


def test_report_html_exits_like_scan_and_is_deterministic(run_cli: Runner, tmp_path: Path
                                                          ) -> None:
    a, b = tmp_path / "a.html", tmp_path / "b.html"
    for out in (a, b):
        res = run_cli("report", "-c", CONFIG, "--as-of", AS_OF, "-o", out)
        assert res.returncode == 1, res.stderr
    assert a.read_bytes() == b.read_bytes()
    assert 'id="clause-table"' in a.read_text("utf-8")


def test_report_with_history(run_cli: Runner, tmp_path: Path) -> None:
    hist = tmp_path / "hist"
    hist.mkdir()
    for day in ("2026-09-30", "2026-10-31"):
        res = run_cli("scan", "-c", CONFIG, "--as-of", day, "-f", "json", "-o",
                      hist / f"{day}.json")
        assert res.returncode in (0, 1), res.stderr
    out = tmp_path / "r.html"
    res = run_cli("report", "-c", CONFIG, "--as-of", AS_OF, "--history", hist, "-o", out)
    assert res.returncode == 1, res.stderr
    html = out.read_text("utf-8")
    assert 'id="history-chart"' in html
    for day in ("2026-09-30", "2026-10-31", "2026-11-30"):
        assert day in html


def test_report_all_formats(run_cli: Runner, tmp_path: Path) -> None:
    args: list[str | Path] = []
    for fmt in ("html", "markdown", "sarif", "oscal", "json"):
        args += ["-f", fmt, "-o", tmp_path / f"out.{fmt}"]
    res = run_cli("report", "-c", CONFIG, "--as-of", AS_OF, *args)
    assert res.returncode == 1, res.stderr
    assert json.loads((tmp_path / "out.sarif").read_text("utf-8"))["version"] == "2.1.0"
    assert "assessment-results" in json.loads((tmp_path / "out.oscal").read_text("utf-8"))


def test_matrix_csv_json_html(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    rsk7 = [r for r in rows if r["subject_id"] == "RSK-007" and r["role"] == "primary"]
    assert rsk7[0]["status"] == "terminated"
    statuses = {r["status"] for r in rows}
    assert {"active", "on_leave", "terminated", "untrained", "unknown"} <= statuses
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF, "-f", "json")
    assert json.loads(res.stdout)["matrix"]
    out = tmp_path / "m.html"
    res = run_cli("matrix", "-c", CONFIG, "--as-of", AS_OF, "-f", "html", "-o", out)
    assert res.returncode == 0
    assert 'id="matrix-table"' in out.read_text("utf-8")


def test_owners_of_a_leaver(run_cli: Runner) -> None:
    res = run_cli("owners", "marco.rossi@NORTHWIND.example", "-c", CONFIG, "--as-of", AS_OF,
                  "-f", "json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["person"]["status"] == "terminated"
    assert any(r["subject"] == "risk/RSK-007" for r in d["owns"])
    res = run_cli("owners", "daniel.okafor@northwind.example", "-c", CONFIG, "--as-of", AS_OF)
    assert "Must act on" in res.stdout
    assert "AIMS-OWN-002" in res.stdout
    res = run_cli("owners", "nobody@nowhere.example", "-c", CONFIG, "--as-of", AS_OF)
    assert res.returncode == 2
    assert "E401" in res.stderr


def test_csv_cells_are_neutralised() -> None:
    for bad in ("=HYPERLINK(\"x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert csv_safe(bad) == "'" + bad
    assert csv_safe("Zoë") == "Zoë"
    row = MatrixRow(kind="risk", id="R1", name="=cmd|' /C calc'!A0", locator="r.yaml:1",
                    owners=(MatrixOwner(role="primary", handle="@evil", status="unknown"),))
    cells = next(csv.reader(io.StringIO(matrix_csv((row,)).splitlines()[1])))
    assert cells[2].startswith("'=")
    assert cells[5].startswith("'@")


def test_owners_judges_the_person_by_the_configs_availability_settings(
        run_cli: Runner, demo_copy: Path) -> None:
    """The person's status is availability() under the config's settings, as the scan's.

    Northwind declares Daniel Okafor's address a shared mailbox (an org-specific
    ``shared_mailbox_patterns``): the scan and its matrix then treat him as no individual,
    and so must ``owners`` — the built-in patterns would call him active.
    """
    text = demo_copy.read_text("utf-8")
    assert "\nsettings:\n" in text
    demo_copy.write_text(text.replace(
        "\nsettings:\n",
        "\nsettings:\n  shared_mailbox_patterns: ['^daniel\\.okafor@']\n"), "utf-8")
    res = run_cli("owners", "daniel.okafor@northwind.example", "-c", demo_copy, "--as-of",
                  AS_OF, "-f", "json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    # the matrix's word for a shared mailbox (owners and matrix share one vocabulary), and
    # availability()'s reason as the detail
    assert d["person"]["status"] == "not_individual"
    assert d["person"]["detail"].endswith("looks like a shared mailbox or team account")
    # the matrix rows of his roles, built by the scan under the same settings, agree
    assert d["owns"]
    assert {r["status"] for r in d["owns"]} == {"not_individual"}
    text_out = run_cli("owners", "daniel.okafor@northwind.example", "-c", demo_copy,
                       "--as-of", AS_OF).stdout
    assert "not an individual as of" in text_out
    assert "looks like a shared mailbox or team account" in text_out
    # the built-in settings (the demo as shipped): the same person is active
    res = run_cli("owners", "daniel.okafor@northwind.example", "-c", CONFIG, "--as-of",
                  AS_OF, "-f", "json")
    assert json.loads(res.stdout)["person"]["status"] == "active"
    assert json.loads(res.stdout)["person"]["detail"] == ""


def test_owners_and_matrix_give_a_person_the_same_status_word(run_cli: Runner,
                                                             demo_copy: Path) -> None:
    """One vocabulary: ``owners`` says what the person's matrix cells say, with the reason.

    With ``allow_contractors: false`` Ben Carter (a contractor who owns a vendor) is a
    ``contractor`` — the scan will not accept him as owner — not ``active``; with a
    shared-mailbox pattern on Daniel Okafor's address he is ``not_individual``, not
    ``shared_mailbox``. A leaver and someone not yet hired get the matrix's
    ``terminated``.
    """
    text = demo_copy.read_text("utf-8")
    assert "\nsettings:\n" in text
    demo_copy.write_text(text.replace(
        "\nsettings:\n", "\nsettings:\n  allow_contractors: false\n"
        "  shared_mailbox_patterns: ['^daniel\\.okafor@']\n"), "utf-8")
    res = run_cli("matrix", "-c", demo_copy, "--as-of", AS_OF, "-f", "json")
    assert res.returncode == 0, res.stderr
    cells: dict[str, set[tuple[str, str]]] = {}
    for m in json.loads(res.stdout)["matrix"]:
        for o in m["owners"]:
            if o.get("email"):
                cells.setdefault(o["email"], set()).add((o["status"], o["detail"]))
    expected = {"ben.carter@northwind.example": "contractor",
                "daniel.okafor@northwind.example": "not_individual",
                "marco.rossi@northwind.example": "terminated",
                "samuel.adeyemi@northwind.example": "terminated"}
    scan = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o", "-")
    messages = "\n".join(f["message"] for f in json.loads(scan.stdout)["findings"])
    for email, status in expected.items():
        res = run_cli("owners", email, "-c", demo_copy, "--as-of", AS_OF, "-f", "json")
        assert res.returncode == 0, res.stderr
        person = json.loads(res.stdout)["person"]
        assert person["status"] == status, person
        assert person["detail"], person
        if email in cells:  # every matrix cell of theirs: the same word and the same reason
            assert cells[email] == {(status, person["detail"])}, (email, cells[email])
        if status != "terminated":  # the scan judged them so too
            assert person["detail"] in messages, person["detail"]
    assert "ben.carter@northwind.example" in cells
    assert "daniel.okafor@northwind.example" in cells

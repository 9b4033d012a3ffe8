"""Every output words a leave by its last day, as the absence exports give it.

A demo copy in Europe/Berlin where Zoë Müller's leave (the HR leave export, midnights in
UTC) and Anna Kowalska's (an ``absence_csv`` export, midnights in Berlin) both have
2026-12-11 as their last day. The scan's text, JSON, HTML and Markdown, the matrix (JSON,
CSV, HTML), ``owners``, the management review and the gate all say "on leave through
2026-12-11" — none says "until 2026-12-12", the day they are back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import AS_OF, Runner

ZOE = "Zoë Müller <zoe.mueller@northwind.example> is on leave through 2026-12-11"
ANNA = "Anna Kowalska <anna.kowalska@northwind.example> is on leave through 2026-12-11"


@pytest.fixture
def on_leave(demo_copy: Path) -> Path:
    base = demo_copy.parent
    with (base / "hr" / "leave.csv").open("a", encoding="utf-8") as f:
        f.write("NW-1003,Vacation,2026-11-23,2026-12-11\n")
    (base / "hr" / "absences.csv").write_text(
        "who,type,first,last\nanna.kowalska@northwind.example,Vacation,2026-11-16,2026-12-11\n",
        "utf-8")
    text = demo_copy.read_text("utf-8")
    assert "\nsettings:\n" in text
    assert "\nsources:\n" in text
    text = text.replace("\nsettings:\n", "\nsettings:\n  timezone: Europe/Berlin\n")
    text = text.replace("\nsources:\n", "\nsources:\n  - adapter: absence_csv\n"
                        "    name: absences\n    path: hr/absences.csv\n"
                        "    columns: {person: who, start: first, end: last, type: type}\n")
    demo_copy.write_text(text, "utf-8")
    return demo_copy


def _worded(out: str, *expected: str) -> None:
    for e in expected:
        assert e in out, e
    assert "on leave until" not in out
    assert "2026-12-12" not in out


def test_every_output_names_the_last_day_of_leave(run_cli: Runner, on_leave: Path,
                                                   tmp_path: Path) -> None:
    cfg = str(on_leave)
    hist = f"sqlite:///{tmp_path / 'history.sqlite'}"
    res = run_cli("scan", "-c", cfg, "--as-of", AS_OF, "--record", "--history-url", hist,
                  "-f", "text", "-o", "-", "-f", "json", "-o", tmp_path / "scan.json",
                  "-f", "html", "-o", tmp_path / "report.html",
                  "-f", "markdown", "-o", tmp_path / "summary.md")
    assert res.returncode == 1, res.stderr
    _worded(res.stdout, ZOE, ANNA)
    messages = "\n".join(f["message"] for f in
                         json.loads((tmp_path / "scan.json").read_text("utf-8"))["findings"]
                         if f["status"] == "fail")
    _worded(messages, ZOE, ANNA)
    _worded((tmp_path / "report.html").read_text("utf-8"), "is on leave through 2026-12-11")
    _worded((tmp_path / "summary.md").read_text("utf-8"), "is on leave through 2026-12-11")

    for fmt in ("json", "csv", "html"):
        res = run_cli("matrix", "-c", cfg, "--as-of", AS_OF, "-f", fmt)
        assert res.returncode == 0, res.stderr
        _worded(res.stdout, "is on leave through 2026-12-11")
    cells = [o for m in json.loads(run_cli("matrix", "-c", cfg, "--as-of", AS_OF, "-f",
                                           "json").stdout)["matrix"]
             for o in m["owners"] if o.get("email") in ("zoe.mueller@northwind.example",
                                                        "anna.kowalska@northwind.example")]
    assert len(cells) > 1
    assert {o["status"] for o in cells} == {"on_leave"}
    _worded("\n".join(o["detail"] for o in cells), ZOE, ANNA)

    for who, reason in (("zoe.mueller@northwind.example", ZOE),
                        ("anna.kowalska@northwind.example", ANNA)):
        res = run_cli("owners", who, "-c", cfg, "--as-of", AS_OF, "-f", "json")
        assert res.returncode == 0, res.stderr
        person = json.loads(res.stdout)["person"]
        assert (person["status"], person["detail"]) == ("on_leave", reason)
        _worded(run_cli("owners", who, "-c", cfg, "--as-of", AS_OF).stdout, reason)

    for fmt in ("json", "html"):
        res = run_cli("review", "-c", cfg, "--as-of", AS_OF, "--history-url", hist,
                      "-f", fmt, "-o", "-")
        assert res.returncode == 0, res.stderr
        _worded(res.stdout, "is on leave through 2026-12-11")

    # Zoë is the credit-scoring system's risk owner: the gate blocks on her leave
    res = run_cli("gate", "release", "--model", "credit-risk-scorer", "--version", "12",
                  "-c", cfg, "--as-of", AS_OF, "-f", "text", "-o", "-", "-f", "json",
                  "-o", tmp_path / "gate.json")
    assert res.returncode == 1, res.stderr
    _worded(res.stdout, ZOE)
    _worded((tmp_path / "gate.json").read_text("utf-8"), ZOE)

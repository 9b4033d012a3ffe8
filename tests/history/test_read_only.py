"""Reading the history creates nothing (the charter: a read must not create state).

``scan``/``report`` without ``--record`` only read the history (ages, closed findings, the
HTML report's changes since the previous scan); ``review``, ``history`` and ``diff`` only
read it. A ``--history-url`` naming a SQLite file that does not exist yet stays absent: a
scan says once that there is nothing to compare with and exits as it would without a
history; ``review`` refuses (exit 2) with the fix. Only ``--record`` creates the file.
An existing store is opened read-only (SQLite ``mode=ro``): a read leaves it byte-identical.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import AS_OF, Runner

NOTE = "no store at"


def _result(path: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads(path.read_text("utf-8"))
    return doc


def test_scan_without_record_creates_no_store(run_cli: Runner, demo_copy: Path,
                                              tmp_path: Path) -> None:
    db = tmp_path / "NEW.sqlite"
    url = f"sqlite:///{db}"
    plain = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o",
                    tmp_path / "plain.json")
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--history-url", url, "-f", "json",
                  "-o", tmp_path / "read.json")
    assert res.returncode == plain.returncode == 1, res.stderr
    assert not db.exists()
    assert not list(tmp_path.glob("NEW.sqlite*"))  # nor a journal
    assert res.stderr.count(NOTE) == 1, res.stderr
    assert f"note: history: no store at {db} yet; nothing to compare with" in res.stderr
    assert NOTE not in plain.stderr
    assert _result(tmp_path / "read.json") == _result(tmp_path / "plain.json")

    # the HTML report's changes since the previous scan: the same, and still no file
    rep = run_cli("report", "-c", demo_copy, "--as-of", AS_OF, "--history-url", url,
                  "-f", "html", "-o", tmp_path / "r.html")
    assert rep.returncode == 1, rep.stderr
    assert rep.stderr.count(NOTE) == 1, rep.stderr
    assert not db.exists()

    # --record creates it, as before
    rec = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--history-url", url, "--record",
                  "-f", "json", "-o", tmp_path / "rec.json")
    assert rec.returncode == 1, rec.stderr
    assert "recorded scan #1" in rec.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from aimscheck_scans").fetchone() == (1,)
    again = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--history-url", url, "-f",
                    "json", "-o", tmp_path / "again.json")
    assert again.returncode == 1, again.stderr
    assert NOTE not in again.stderr


def test_review_on_a_missing_store_is_a_clear_error(run_cli: Runner, demo_copy: Path,
                                                    tmp_path: Path) -> None:
    db = tmp_path / "missing.sqlite"
    res = run_cli("review", "-c", demo_copy, "--as-of", AS_OF, "--history-url",
                  f"sqlite:///{db}", "-o", tmp_path / "review.html")
    assert res.returncode == 2, res.stderr
    assert " E388 " in res.stderr
    assert f"no history store at {db}" in res.stderr
    assert f"scan --record --history-url sqlite:///{db}" in res.stderr
    assert "Traceback" not in res.stderr
    assert not db.exists()
    assert not (tmp_path / "review.html").exists()


def test_history_and_diff_on_a_missing_store_create_nothing(run_cli: Runner, demo_copy: Path,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "none.sqlite"
    url = f"sqlite:///{db}"
    hist = run_cli("history", "-c", demo_copy, "--history-url", url, "-f", "json")
    assert hist.returncode == 0, hist.stderr
    assert json.loads(hist.stdout) == []
    diff = run_cli("diff", "-c", demo_copy, "--history-url", url)
    assert diff.returncode == 2
    assert " E389 " in diff.stderr
    assert f"no store at {db} yet" in diff.stderr
    assert run_cli("diff", "1", "2", "-c", demo_copy, "--history-url", url).returncode == 2
    assert not db.exists()


def test_reads_leave_an_existing_store_untouched(run_cli: Runner, demo_copy: Path,
                                                 tmp_path: Path) -> None:
    """An empty file is not migrated by a read; a recorded store is not written by one."""
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    url = f"sqlite:///{empty}"
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--history-url", url, "-f",
                  "json", "-o", tmp_path / "a.json")
    assert res.returncode == 1, res.stderr
    assert NOTE not in res.stderr  # the store is there: it has no scan yet
    assert run_cli("history", "-c", demo_copy, "--history-url", url).returncode == 0
    assert empty.read_bytes() == b""

    db = tmp_path / "h.sqlite"
    url = f"sqlite:///{db}"
    rec = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "--record", "--history-url", url,
                  "-f", "json", "-o", tmp_path / "b.json")
    assert rec.returncode == 1, rec.stderr
    before = db.read_bytes()
    db.chmod(0o444)  # a read-only file (as root this proves nothing; elsewhere it does)
    try:
        for args in (("scan", "-c", demo_copy, "--as-of", "2026-12-15", "--history-url", url,
                      "-f", "json", "-o", tmp_path / "c.json"),
                     ("review", "-c", demo_copy, "--as-of", "2026-12-15", "--history-url", url,
                      "-f", "json", "-o", tmp_path / "r.json"),
                     ("history", "-c", demo_copy, "--history-url", url)):
            out = run_cli(*args)
            assert out.returncode in (0, 1), out.stderr
            assert "E388" not in out.stderr, out.stderr
    finally:
        db.chmod(0o644)
    assert db.read_bytes() == before
    assert [t["as_of"][:10] for t in _trend(tmp_path / "r.json")] == [AS_OF, "2026-12-15"]


def _trend(path: Path) -> list[dict[str, str]]:
    trend: list[dict[str, str]] = json.loads(path.read_text("utf-8"))["trend"]
    return trend


def test_a_store_that_cannot_be_read_says_what_a_read_needs(run_cli: Runner, demo_copy: Path,
                                                            tmp_path: Path) -> None:
    # a read needs to read, not to create tables: the hint says so, and the file is kept
    bad = tmp_path / "not-a-store.sqlite"
    bad.write_bytes(b"not a database, only some bytes that look like a file header" * 4)
    before = bad.read_bytes()
    res = run_cli("history", "-c", demo_copy, "--history-url", f"sqlite:///{bad}")
    assert res.returncode == 2, res.stderr
    assert "E388" in res.stderr
    assert "file is not a database" in res.stderr
    assert "may read the store's tables" in res.stderr
    assert "create tables" not in res.stderr
    assert bad.read_bytes() == before

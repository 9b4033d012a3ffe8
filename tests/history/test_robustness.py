"""History store robustness (issue 17): parallel first use, versioned schema, no secrets.

Two ``scan --record`` processes start together on a fresh SQLite file: both are recorded
(schema creation is idempotent, the second writer waits for the first). Only writers
migrate; a read never creates or alters the store (tests/history/test_read_only.py). The
schema carries its migration versions; a store from a newer aimscheck is refused with a
located E388 instead of being altered.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from checker.history import SCHEMA_VERSION, History
from tests.conftest import AS_OF, Runner, aimscheck_exe


def _scan(config: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen([aimscheck_exe(), "scan", "-c", str(config), "--as-of", AS_OF,
                             "--record", "--history-url", url, "-f", "json", "-o",
                             str(config.parent / f"out-{os.urandom(4).hex()}.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "CI": "true"})


def test_two_parallel_first_records_both_land(demo_copy: Path, tmp_path: Path) -> None:
    db = tmp_path / "fresh.sqlite"
    url = f"sqlite:///{db}"
    procs = [_scan(demo_copy, url) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 1, err
        assert "recorded scan #" in err, err
        assert "already exists" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from aimscheck_scans").fetchone() == (2,)
        versions = [r[0] for r in conn.execute("select version from aimscheck_schema")]
    assert versions == list(range(1, SCHEMA_VERSION + 1))


def test_schema_creation_is_idempotent_and_versioned(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite'}"
    assert History(url).scans() == []  # a read creates nothing
    assert not (tmp_path / "h.sqlite").exists()
    for _ in range(3):  # every writer migrates; nothing is created twice
        History(url).migrate()
        assert History(url).scans() == []
    with sqlite3.connect(tmp_path / "h.sqlite") as conn:
        rows = conn.execute("select version, description from aimscheck_schema").fetchall()
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


def test_pre_versioning_store_is_adopted(tmp_path: Path) -> None:
    """A store created before migrations were versioned keeps its scans and gets a version."""
    db = tmp_path / "old.sqlite"
    url = f"sqlite:///{db}"
    History(url).migrate()
    with sqlite3.connect(db) as conn:
        conn.execute("drop table aimscheck_schema")
    assert History(url).scans() == []  # read as it is: a read never migrates
    with sqlite3.connect(db) as conn:
        tables = {r[0] for r in conn.execute("select name from sqlite_master")}
    assert "aimscheck_schema" not in tables
    History(url).migrate()  # what `scan --record` does first
    with sqlite3.connect(db) as conn:
        assert conn.execute("select max(version) from aimscheck_schema").fetchone() == (
            SCHEMA_VERSION,)


def test_store_from_a_newer_aimscheck_is_refused(run_cli: Runner, demo_copy: Path,
                                                  tmp_path: Path) -> None:
    db = tmp_path / "newer.sqlite"
    History(f"sqlite:///{db}").migrate()
    with sqlite3.connect(db) as conn:
        conn.execute("insert into aimscheck_schema values (?, 'from the future')",
                     (SCHEMA_VERSION + 1,))
    res = run_cli("history", "-c", demo_copy, "--history-url", f"sqlite:///{db}")
    assert res.returncode == 2, res.stderr
    assert " E388 " in res.stderr
    assert f"schema version {SCHEMA_VERSION + 1}" in res.stderr
    assert "Traceback" not in res.stderr

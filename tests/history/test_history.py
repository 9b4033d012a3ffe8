"""Scan history: three recorded scans of a changing demo; readiness over time and diff.

The same scenario runs on SQLite (the default store beside the config) and on a real
PostgreSQL started by `make test` (tests/services/postgres.sh). The PostgreSQL run is
skipped only where PostgreSQL could not be installed, with the reason printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import REPO, Runner

REGISTER_FIX = ("      primary: daniel.okafor@northwind.example\n"
                "      risk_owner: zoe.mueller@northwind.example\n",
                "      primary: daniel.okafor@northwind.example\n"
                "      backup: mei.tanaka@northwind.example\n"
                "      risk_owner: zoe.mueller@northwind.example\n")
REGISTER_BREAK = ("owners: {primary: yusuf.demir@northwind.example, "
                  "backup: sofia.lindqvist@northwind.example}",
                  "owners: {primary: yusuf.demir@northwind.example}")


def _pg_setting(name: str) -> str | None:
    if os.environ.get(name):
        return os.environ[name]
    env_file = REPO / ".services.env"
    if env_file.exists():
        for line in env_file.read_text("utf-8").splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value.strip().strip('"')
    return None


def scenario(run_cli: Runner, config: Path, url: str | None) -> None:
    hist = ["--history-url", url] if url else []
    register = config.parent / "register.yaml"

    def scan(as_of: str) -> None:
        res = run_cli("scan", "-c", config, "--as-of", as_of, "--record", *hist, "-f", "json")
        assert res.returncode == 1, res.stderr
        assert "recorded scan #" in res.stderr

    scan("2026-11-30")
    # scan 2: the chatbot gets a backup owner (resolved); RSK-010 loses its backup (new)
    text = register.read_text("utf-8")
    assert REGISTER_FIX[0] in text
    assert REGISTER_BREAK[0] in text
    register.write_text(text.replace(*REGISTER_FIX).replace(*REGISTER_BREAK), "utf-8")
    scan("2026-12-15")
    # scan 3: nothing changes in the evidence, three weeks later
    scan("2027-01-05")

    res = run_cli("history", "-c", config, *hist)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 4
    assert "readiness" in lines[0]
    assert [ln.split()[1][:10] for ln in lines[1:]] == ["2026-11-30", "2026-12-15",
                                                         "2027-01-05"]
    rows = json.loads(run_cli("history", "-c", config, *hist, "-f", "json").stdout)
    assert len(rows) == 3
    assert all(0 < r["readiness"] <= 100 for r in rows)

    first, second, third = (r["id"] for r in rows)
    d12 = json.loads(run_cli("diff", str(first), str(second), "-c", config, *hist,
                             "-f", "json").stdout)
    resolved = {(e["rule_id"], e["target"]) for e in d12["resolved"]}
    new = {(e["rule_id"], e["target"]) for e in d12["new"]}
    assert ("AIMS-OWN-002", "ai_system/support-chatbot") in resolved
    assert ("AIMS-OWN-002", "risk/RSK-010") in new
    chatbot = next(e for e in d12["resolved"] if e["target"] == "ai_system/support-chatbot")
    assert chatbot["owner"].startswith("Daniel Okafor")
    assert chatbot["open_days"] == 15  # open from 2026-11-30 until found fixed on 12-15
    assert d12["still_open"]

    # default: the last two scans
    d23 = run_cli("diff", "-c", config, *hist)
    assert d23.returncode == 0, d23.stderr
    assert f"scan #{second}" in d23.stdout
    assert f"scan #{third}" in d23.stdout
    assert "\nNew (" in d23.stdout
    assert "\nStill open (" in d23.stdout
    data = json.loads(run_cli("diff", "-c", config, *hist, "-f", "json").stdout)
    # what time alone changed (a departure on 2026-12-18 …) is new, opened on scan 3
    assert all(e["open_days"] == 0 and e["open_since"].startswith("2027-01-05")
               for e in data["new"])
    ages = {(e["rule_id"], e["target"]): e for e in data["still_open"]}
    assert ages[("AIMS-OWN-002", "risk/RSK-010")]["open_days"] == 21
    assert ages[("AIMS-OWN-002", "risk/RSK-010")]["open_since"].startswith("2026-12-15")
    rsk007 = ages[("AIMS-OWN-004", "risk/RSK-007")]
    assert rsk007["open_days"] == 36
    assert rsk007["open_since"].startswith("2026-11-30")

    bad = run_cli("diff", "999", str(first), "-c", config, *hist)
    assert bad.returncode == 2
    assert "E389" in bad.stderr


def test_history_sqlite_beside_config(run_cli: Runner, demo_copy: Path) -> None:
    scenario(run_cli, demo_copy, None)
    assert (demo_copy.parent / ".aimscheck-history.sqlite").is_file()


@pytest.mark.services
def test_history_postgresql(run_cli: Runner, demo_copy: Path) -> None:
    url = _pg_setting("AIMSCHECK_TEST_PG_URL")
    if url is None:
        reason = _pg_setting("AIMSCHECK_TEST_PG_SKIP")
        if reason:
            pytest.skip(f"PostgreSQL could not be installed here: {reason}")
        pytest.fail("no PostgreSQL for the history test: run `make test`, or "
                    "`bash tests/services/postgres.sh start` first")
    import sqlalchemy as sa

    from checker.history import _engine_url

    engine = sa.create_engine(_engine_url(url))
    with engine.begin() as conn:  # a clean history for this run
        conn.execute(sa.text("DROP TABLE IF EXISTS aimscheck_findings, aimscheck_scans, "
                             "aimscheck_schema"))
    # reads (in a read-only transaction) find no scan and create no table
    empty = run_cli("history", "-c", demo_copy, "--history-url", url, "-f", "json")
    assert empty.returncode == 0, empty.stderr
    assert json.loads(empty.stdout) == []
    scan = run_cli("scan", "-c", demo_copy, "--as-of", "2026-11-30", "--history-url", url,
                   "-f", "json", "-o", demo_copy.parent / "read.json")
    assert scan.returncode == 1, scan.stderr
    assert "E388" not in scan.stderr
    assert not {"aimscheck_scans", "aimscheck_schema"} & set(sa.inspect(engine).get_table_names())
    scenario(run_cli, demo_copy, url)
    assert not (demo_copy.parent / ".aimscheck-history.sqlite").exists()


def test_unreachable_history_store_is_a_clear_error(run_cli: Runner, demo_copy: Path) -> None:
    res = run_cli("history", "-c", demo_copy, "--history-url",
                  "postgresql://someone:s3cr3t-pw@127.0.0.1:1/nowhere")
    assert res.returncode == 2
    assert "E388" in res.stderr
    assert "s3cr3t-pw" not in res.stderr + res.stdout

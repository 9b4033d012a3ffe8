"""The demo with approvals, reviews and incidents from Jira gives the file-based demo's findings.

Both sides are computed now, from the current evidence: the file-based scan of
``fixtures/demo/aimscheck.yaml``, the offline scan of ``aimscheck.jira.yaml`` (saved pages),
and a live scan against ``fixtures/demo/jira/serve.py`` on loopback. The installed
``aimscheck`` command is run the way CI runs it. Also: a 401 ends the scan with exit 3 and a
one-line diagnostic, and the token appears in no output.
"""

from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.jira.jira_payloads import EMAIL, TOKEN

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
AIMSCHECK = Path(sys.executable).parent / "aimscheck"
JIRA_KINDS = ("approvals", "reviews", "incidents")


def scan(config: Path, out: Path, env: dict[str, str] | None = None
         ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    proc = subprocess.run(
        [str(AIMSCHECK), "scan", "-c", str(config), "--as-of", "2026-11-30", "-f", "json",
         "--passes", "full", "-o", str(out), "--no-progress"],
        capture_output=True, text=True, env={**os.environ, "CI": "1", **(env or {})},
        timeout=300, check=False)
    data = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
    return proc, data


def key(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted((f["rule_id"], f["target_kind"], f["target_id"], f["status"],
                   (f.get("owner") or {}).get("id")) for f in result["findings"])


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def file_based(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    proc, data = scan(DEMO / "aimscheck.yaml", tmp_path_factory.mktemp("file") / "out.json")
    assert data is not None, proc.stderr
    return data


def test_jira_config_matches_the_file_config_apart_from_jira() -> None:
    files, jira = _load(DEMO / "aimscheck.yaml"), _load(DEMO / "aimscheck.jira.yaml")
    assert {k: v for k, v in files.items() if k != "sources"} == \
        {k: v for k, v in jira.items() if k != "sources"}
    assert [s for s in files["sources"] if s.get("name") not in JIRA_KINDS] == \
        [s for s in jira["sources"] if s["adapter"] != "jira"], \
        "aimscheck.jira.yaml must carry the same non-Jira sources as aimscheck.yaml"
    assert sorted(s["name"] for s in jira["sources"] if s["adapter"] == "jira") == \
        sorted(JIRA_KINDS)


def test_saved_pages_and_config_are_current(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(DEMO / "jira" / "make_pages.py"), "--out",
                    str(tmp_path)], check=True, capture_output=True, timeout=120)
    cmp = filecmp.dircmp(tmp_path / "pages", DEMO / "jira" / "pages")
    stale: list[str] = []
    if (tmp_path / "aimscheck.jira.yaml").read_bytes() != \
            (DEMO / "aimscheck.jira.yaml").read_bytes():
        stale.append("aimscheck.jira.yaml")

    def walk(c: filecmp.dircmp[str], prefix: str) -> None:
        stale.extend(prefix + n for n in c.left_only + c.right_only + c.diff_files)
        for name, sub in c.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(cmp, "")
    assert not stale, ("the demo evidence changed: run python fixtures/demo/jira/make_pages.py "
                       f"and commit the pages ({stale[:5]})")


def test_offline_pages_give_the_same_findings(file_based: dict[str, Any], tmp_path: Path
                                              ) -> None:
    proc, data = scan(DEMO / "aimscheck.jira.yaml", tmp_path / "out.json")
    assert data is not None, proc.stderr
    jira = {s["name"]: s for s in data["sources"]}
    assert all(jira[n]["adapter"] == "jira" for n in JIRA_KINDS)
    assert [s["status"] for s in data["sources"] if s["status"] == "error"] == []
    assert key(data) == key(file_based)
    assert proc.returncode == file_based["exit_code"]


def _live_config(tmp_path: Path, url: str) -> Path:
    cfg = _load(DEMO / "aimscheck.jira.yaml")

    def absolute(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ("path", "pages", "csv") and isinstance(v, str):
                    node[k] = str(DEMO / v)
                else:
                    absolute(v)
        elif isinstance(node, list):
            for v in node:
                absolute(v)

    absolute(cfg)
    if isinstance(cfg.get("soa"), str):
        cfg["soa"] = str(DEMO / cfg["soa"])
    for src in cfg["sources"]:
        src["allow_outside"] = True  # the demo's files, read from a config in tmp_path
        if src["adapter"] == "jira":
            src.pop("offline")
            src["site"] = url
            src["retry"] = {"max_attempts": 2, "backoff_initial_seconds": 0.001,
                            "max_total_seconds": 10}
    path = tmp_path / "aimscheck.live.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def jira_server() -> Iterator[str]:
    env = {**os.environ, "JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, str(DEMO / "jira" / "serve.py"), "--port", "0"],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("serving http://127.0.0.1:"), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_live_server_gives_the_same_findings(file_based: dict[str, Any], tmp_path: Path,
                                             jira_server: str) -> None:
    config = _live_config(tmp_path, jira_server)
    proc, data = scan(config, tmp_path / "out.json",
                      {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": TOKEN})
    assert data is not None, proc.stderr
    assert [s for s in data["sources"] if s["status"] == "error"] == []
    assert key(data) == key(file_based)
    for text in (proc.stdout, proc.stderr, (tmp_path / "out.json").read_text("utf-8")):
        assert TOKEN not in text


def test_live_401_exits_3_with_a_clear_line_and_no_token(tmp_path: Path, jira_server: str
                                                         ) -> None:
    config = _live_config(tmp_path, jira_server)
    wrong = TOKEN[:-4] + "XXXX"
    proc, data = scan(config, tmp_path / "out.json",
                      {"JIRA_EMAIL": EMAIL, "JIRA_API_TOKEN": wrong})
    assert proc.returncode == 3, proc.stderr
    assert data is not None
    errors = [s for s in data["sources"] if s["status"] == "error"]
    # incidents may be skipped when no selected rule needs them
    assert {"approvals", "reviews"} <= {s["name"] for s in errors} <= set(JIRA_KINDS)
    (line,) = errors[0]["diagnostics"]
    assert "E321" in line
    assert "HTTP 401" in line
    assert jira_server in line
    assert "JIRA_API_TOKEN" in line
    assert not any(f["status"] == "pass" and f["rule_id"] == "AIMS-REL-001"
                   for f in data["findings"])
    for text in (proc.stdout, proc.stderr, (tmp_path / "out.json").read_text("utf-8")):
        assert wrong not in text
        assert TOKEN not in text


def test_unknown_jira_user_is_an_unknown_person_finding(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(DEMO / "jira" / "pages", pages)
    first = pages / "search" / "approvals" / "page-0001.json"
    body = json.loads(first.read_text(encoding="utf-8"))
    issue = next(i for i in body["issues"] if i["fields"]["customfield_10050"])
    stranger = {"accountId": "712020:0f0e0d0c-0000-4bad-8bad-000000000001",
                "displayName": "Ex-Contractor", "active": False, "accountType": "atlassian"}
    for h in issue["changelog"]["histories"]:
        if any(it["toString"] == "Approved" for it in h["items"]):
            h["author"] = stranger
    first.write_text(json.dumps(body), encoding="utf-8")
    config = _live_config(tmp_path, "https://northwind.atlassian.net")
    cfg = _load(config)
    for src in cfg["sources"]:
        if src["adapter"] == "jira":
            src["offline"] = {"pages": str(pages)}
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), "utf-8")
    proc, data = scan(config, tmp_path / "out.json")
    assert data is not None, proc.stderr
    release = f"{issue['fields']['customfield_10050']}:{issue['fields']['customfield_10051']}"
    (idn,) = [f for f in data["findings"]
              if f["rule_id"] == "AIMS-IDN-001" and f["target_id"] == release]
    assert idn["status"] == "fail"
    assert stranger["accountId"] in idn["message"]
    assert "unknown person" in idn["message"]

"""The demo's saved Jira pages: any page deleted fails closed naming the gap (exit 3).

The offline layout (``jira/pages``, as ``evidence pull`` writes it) numbers the
``nextPageToken`` pages, so a missing first or middle page shows in the names. The same
pages served on loopback (``fixtures/demo/jira/serve.py``) and recorded as a HAR — the way a
recording proxy saves a customer's requests — replay through the live code path; deleting
any recorded exchange is an error naming the page before the gap, or the missing first page.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from checker.adapters import SourceContext
from checker.errors import EvidenceError
from evidence_adapters.jira import JiraAdapter
from evidence_adapters.jira._http import LiveJira
from tests.har import HarRecorder, write_har
from tests.jira.jira_payloads import EMAIL, TOKEN

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
PAGES = DEMO / "jira" / "pages"
AIMSCHECK = Path(sys.executable).parent / "aimscheck"
ALL_PAGES = sorted(str(p.relative_to(PAGES)) for p in PAGES.rglob("*.json"))
JQL = 'project = AIINC AND issuetype = "AI Incident" ORDER BY key ASC'
INCIDENTS = {"issue_types": ["AI Incident"], "id": "Incident ID", "system": "AI System"}
FETCHED = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


def ctx(base: Path) -> SourceContext:
    return SourceContext(base_dir=base, source_name="jira", fetched_at=FETCHED,
                         as_of=datetime(2026, 11, 30, tzinfo=UTC))


def expected_gap(gone: str) -> str:
    """The file the error must name: the page after the gap (numbered layout) or before."""
    folder, name = gone.rsplit("/", 1)
    n = int(name[5:9])
    siblings = sorted(p for p in ALL_PAGES if p.startswith(folder + "/"))
    later = [p for p in siblings if int(p.rsplit("/", 1)[1][5:9]) > n]
    if later:
        return later[0]
    return siblings[-2]  # the last page deleted: the page before says more were announced


@pytest.mark.parametrize("gone", ALL_PAGES)
def test_deleting_any_saved_page_names_the_gap(tmp_path: Path, gone: str) -> None:
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    (pages / gone).unlink()
    folder = gone.split("/")[1]
    for name in ("approvals", "reviews", "incidents"):
        src: dict[str, Any] = yaml.safe_load((DEMO / "aimscheck.jira.yaml").read_text("utf-8"))
        (cfg,) = [s for s in src["sources"] if s.get("name") == name]
        cfg = {k: v for k, v in cfg.items() if k not in ("adapter", "name")}
        cfg["offline"] = {"pages": str(pages)}
        if gone.startswith("search/") and name != folder:
            continue
        if gone.startswith("changelog/") and name != "incidents":
            continue
        with pytest.raises(EvidenceError) as exc:
            JiraAdapter(JiraAdapter.Config.model_validate(cfg), ctx(tmp_path)).collect()
        d = exc.value.diagnostics[0]
        assert d.code == "E328", d
        assert d.file.endswith(expected_gap(gone)), (d, expected_gap(gone))


@pytest.mark.parametrize("gone", ["search/approvals/page-0001.json",
                                  "search/reviews/page-0005.json",
                                  "changelog/AIINC-1/page-0002.json"])
def test_the_demo_scan_exits_3_naming_the_gap(tmp_path: Path, gone: str) -> None:
    shutil.copytree(DEMO, tmp_path / "demo", ignore=shutil.ignore_patterns("*.py"))
    (tmp_path / "demo" / "jira" / "pages" / gone).unlink()
    proc = subprocess.run([str(AIMSCHECK), "scan", "-c",
                           str(tmp_path / "demo" / "aimscheck.jira.yaml"), "--as-of",
                           "2026-11-30", "--no-progress"], capture_output=True, text=True,
                          env={**os.environ, "CI": "1"}, timeout=300, check=False)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "E328" in proc.stdout + proc.stderr
    assert expected_gap(gone) in proc.stdout + proc.stderr


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def recording(jira_server: str, tmp_path_factory: pytest.TempPathFactory
              ) -> list[dict[str, Any]]:
    """The incidents search and its full changelogs, fetched live through a recorder."""
    cfg = JiraAdapter.Config.model_validate({"site": jira_server, "jql": JQL,
                                             "incidents": INCIDENTS})
    rec = HarRecorder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JIRA_EMAIL", EMAIL)
        mp.setenv("JIRA_API_TOKEN", TOKEN)
        live = LiveJira(cfg, ctx(tmp_path_factory.mktemp("rec")), rec)
    try:
        res = live.search("search", JQL, ["*all"])
        JiraAdapter._complete("", None, res, live.changelog)
    finally:
        live.close()
    return rec.entries


def replay(base: Path, site: str) -> JiraAdapter:
    cfg = {"site": site, "jql": JQL, "replay": "demo.har", "incidents": INCIDENTS}
    return JiraAdapter(JiraAdapter.Config.model_validate(cfg), ctx(base))


def test_recorded_demo_pages_replay_like_the_saved_pages(
        tmp_path: Path, jira_server: str, recording: list[dict[str, Any]]) -> None:
    assert [e["request"]["url"].split("?")[0].rsplit("/", 2)[-2:] for e in recording] == [
        ["search", "jql"], ["search", "jql"], ["AIINC-1", "changelog"],
        ["AIINC-1", "changelog"], ["AIINC-1", "changelog"], ["AIINC-3", "changelog"],
        ["AIINC-3", "changelog"]]
    write_har(tmp_path / "demo.har", recording)
    got = replay(tmp_path, jira_server).collect()
    src: dict[str, Any] = yaml.safe_load((DEMO / "aimscheck.jira.yaml").read_text("utf-8"))
    (inc,) = [s for s in src["sources"] if s.get("name") == "incidents"]
    want = JiraAdapter(JiraAdapter.Config.model_validate(
        {"site": inc["site"], "offline": {"pages": "jira/pages"},
         "incidents": inc["incidents"]}), ctx(DEMO)).collect()
    strip = [{k: v for k, v in i.model_dump().items() if k != "provenance"}
             for i in got.incidents]
    assert strip == [{k: v for k, v in i.model_dump().items() if k != "provenance"}
                     for i in want.incidents]
    assert len(strip) == 5


@pytest.mark.parametrize("gone", range(7))
def test_deleting_any_recorded_demo_page_names_the_gap(
        tmp_path: Path, jira_server: str, recording: list[dict[str, Any]], gone: int) -> None:
    entries = json.loads(json.dumps(recording))
    first_of_chain = gone in (0, 2, 5)  # the search, AIINC-1's and AIINC-3's changelogs
    del entries[gone]
    write_har(tmp_path / "demo.har", entries)
    with pytest.raises(EvidenceError) as exc:
        replay(tmp_path, jira_server).collect()
    d = exc.value.diagnostics[0]
    assert d.code == "E328"
    assert d.file.startswith("demo.har entry ")
    if first_of_chain:
        assert "the first page is missing" in d.message, d
    else:  # the page before the gap, and the request nobody recorded
        assert d.file.startswith(f"demo.har entry {gone} "), d
        assert "a page is missing" in d.message, d
        assert ("nextPageToken=" if gone == 1 else "startAt=") in d.message, d

"""The second organisation, Halden Mutual: its exports as the systems returned them.

Scanned through the installed ``aimscheck`` with the ≤ 80-line config written from the docs,
its findings must equal ``fixtures/halden/expected-findings.txt`` exactly; deleting or
truncating any saved page must fail closed (exit 3) naming the file or its neighbour.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.conftest import REPO, aimscheck_exe

HALDEN = REPO / "fixtures" / "halden"
CONFIG = HALDEN / "aimscheck.yaml"
AS_OF = "2026-11-30"
Runner = Callable[..., CompletedProcess[str]]


def expected() -> set[tuple[str, str, str, str]]:
    out = set()
    for line in (HALDEN / "expected-findings.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rule, subject, status, owner = line.split()
            out.add((rule, subject, status, owner))
    return out


def owner_email(owner: Any) -> str:
    if isinstance(owner, dict):
        return str(owner.get("email") or owner.get("id"))
    return str(owner)


def scan(run_cli: Runner, config: Path, tmp_path: Path) -> tuple[CompletedProcess[str], Any]:
    out = tmp_path / "findings.json"
    proc = run_cli("scan", "-c", config, "--as-of", AS_OF, "--format", "json", "-o", out)
    return proc, json.loads(out.read_text(encoding="utf-8")) if out.exists() else None


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("halden") / "findings.json"
    proc = subprocess.run([aimscheck_exe(), "scan", "-c", str(CONFIG), "--as-of", AS_OF,
                           "--format", "json", "--passes", "full", "-o", str(out)],
                          capture_output=True,
                          text=True, timeout=300, check=False, cwd=REPO)
    assert proc.returncode == 1, proc.stderr
    data: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))["findings"]
    return data


def test_config_is_short_and_needs_no_scripts() -> None:
    lines = CONFIG.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 80
    exports = [p for p in (HALDEN / "exports").rglob("*") if p.is_file()]
    assert {p.suffix for p in exports} == {".json", ".csv", ".har"}


def test_findings_equal_the_expected_file(findings: list[dict[str, Any]]) -> None:
    got = {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}", f["status"],
            owner_email(f["owner"]))
           for f in findings if f["status"] not in ("pass", "not_applicable")}
    want = expected()
    assert sorted(got - want) == [], "findings the expected file does not list"
    assert sorted(want - got) == [], "expected findings the scan did not report"


@pytest.mark.parametrize(("rule", "subject", "why"), [
    ("AIMS-REL-001", "release/pricing-home:2", "approved one minute before deployment"),
    ("AIMS-REL-001", "release/claims-severity:2",
     "approved 10:30+0200 (08:30Z) before a 09:00Z deployment"),
    ("AIMS-INC-002", "incident/AIINC-6", "acknowledged exactly at the 4-hour SLA"),
    ("AIMS-RSK-001", "risk/AIRISK-7", "reviewed exactly 90 days before as-of"),
    ("AIMS-RSK-001", "risk/AIRISK-146", "new risk, first review not due yet"),
    ("AIMS-RSK-003", "risk/AIRISK-146", "new risk, first review not due yet"),
])
def test_near_misses_pass(findings: list[dict[str, Any]], rule: str, subject: str,
                          why: str) -> None:
    got = [f["status"] for f in findings
           if f["rule_id"] == rule and f"{f['target_kind']}/{f['target_id']}" == subject]
    assert got == ["pass"], why


def test_approval_kept_after_the_ticket_moved_on(findings: list[dict[str, Any]]) -> None:
    # Every release approval ticket was moved on to Released after the approval.
    rel = [f for f in findings
           if f["rule_id"] == "AIMS-REL-001" and f["status"] != "not_applicable"]
    assert len(rel) == 36
    assert sum(f["status"] == "pass" for f in rel) == 35


CHAINS: dict[str, tuple[str, ...]] = {
    # deleted file → a file name the error must mention (the neighbour, or the file itself
    # where the config lists the files one by one)
    "jira/search-1.json": ("search-2.json",),
    "jira/search-4.json": ("search-3.json", "search-5.json"),
    "jira/search-7.json": ("search-6.json",),
    "scim/users-1.json": ("users-2.json",),
    "scim/users-2.json": ("users-1.json", "users-3.json"),
    "scim/users-3.json": ("users-2.json",),
    "mlflow/registry.har": ("registry.har",),
    "lrs/statements.har": ("statements.har",),
}


@pytest.fixture
def halden_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "halden"
    shutil.copytree(HALDEN, dst, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return dst / "aimscheck.yaml"


@pytest.mark.parametrize("page", sorted(CHAINS))
def test_deleting_a_page_fails_closed_naming_it(run_cli: Runner, halden_copy: Path,
                                                tmp_path: Path, page: str) -> None:
    (halden_copy.parent / "exports" / page).unlink()
    proc, _ = scan(run_cli, halden_copy, tmp_path)
    assert proc.returncode == 3, proc.stderr
    named = CHAINS[page]
    assert all(n in proc.stdout + proc.stderr for n in named), proc.stdout + proc.stderr


@pytest.mark.parametrize("entry", [0, 1])
def test_deleting_a_recorded_lrs_page_names_the_gap(run_cli: Runner, halden_copy: Path,
                                                    tmp_path: Path, entry: int) -> None:
    har = halden_copy.parent / "exports" / "lrs" / "statements.har"
    data = json.loads(har.read_text(encoding="utf-8"))
    del data["log"]["entries"][entry]
    har.write_text(json.dumps(data), encoding="utf-8")
    proc, _ = scan(run_cli, halden_copy, tmp_path)
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout + proc.stderr
    assert "E345" in out
    if entry == 0:
        assert "the first page is missing" in out, out
    else:  # the first page names the `more` link nobody answered
        assert "statements.har entry 1 (GET /xAPI/statements)" in out, out
        assert "more=" in out, out


@pytest.mark.parametrize("entry", [0, 1, 2, 3])
def test_deleting_a_recorded_mlflow_page_names_the_gap(run_cli: Runner, halden_copy: Path,
                                                       tmp_path: Path, entry: int) -> None:
    # entry 0: the models search (one page); 1–3: the three versions pages
    har = halden_copy.parent / "exports" / "mlflow" / "registry.har"
    data = json.loads(har.read_text(encoding="utf-8"))
    assert len(data["log"]["entries"]) == 4
    del data["log"]["entries"][entry]
    har.write_text(json.dumps(data), encoding="utf-8")
    proc, _ = scan(run_cli, halden_copy, tmp_path)
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout + proc.stderr
    assert "E364" in out, out
    if entry == 0:
        assert "registered-models/search" in out, out
        assert "not in the replay list" in out, out
    elif entry == 1:
        assert "the first page is missing" in out, out
    else:  # the page before the gap names the token nobody answered
        assert f"registry.har entry {entry} (GET /api/2.0/mlflow/model-versions/search)" \
            in out, out
        assert "page_token=" in out, out


@pytest.mark.parametrize(("recording", "kept", "code"), [
    ("lrs/statements.har", [0, 1], "E345"),
    ("mlflow/registry.har", [0, 1, 2, 3], "E364"),
    # the first two versions pages gone, the last one left: it announces nothing
    ("mlflow/registry.har", [0, 3], "E364"),
])
def test_plain_bodies_of_cursor_pages_are_refused(run_cli: Runner, halden_copy: Path,
                                                  tmp_path: Path, recording: str,
                                                  kept: list[int], code: str) -> None:
    # the recorded responses saved as plain bodies: no body says which request it answered
    har = halden_copy.parent / "exports" / recording
    entries = json.loads(har.read_text(encoding="utf-8"))["log"]["entries"]
    for n in kept:
        (har.parent / f"saved-{n + 1}.json").write_text(
            entries[n]["response"]["content"]["text"], encoding="utf-8")
    cfg = halden_copy.read_text(encoding="utf-8")
    halden_copy.write_text(cfg.replace(f"exports/{recording}",
                                       f"exports/{Path(recording).parent}/saved-*.json"),
                           encoding="utf-8")
    proc, _ = scan(run_cli, halden_copy, tmp_path)
    assert proc.returncode == 3, proc.stderr
    out = proc.stdout + proc.stderr
    assert code in out, out
    assert f"saved-{kept[0] + 1}.json" in out, out
    assert "cannot be checked" in out, out


@pytest.mark.parametrize("page", ["jira/search-3.json", "scim/users-2.json",
                                  "mlflow/registry.har", "lrs/statements.har"])
def test_truncating_a_page_fails_closed_naming_it(run_cli: Runner, halden_copy: Path,
                                                  tmp_path: Path, page: str) -> None:
    path = halden_copy.parent / "exports" / page
    text = path.read_bytes()
    path.write_bytes(text[: len(text) * 2 // 3])
    proc, _ = scan(run_cli, halden_copy, tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert Path(page).name in proc.stdout + proc.stderr
    assert "truncated" in proc.stdout + proc.stderr

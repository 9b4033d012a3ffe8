"""SARIF and ``github`` annotations from a config in a subfolder of a git repository.

Code scanning and the Actions runner resolve paths against the repository root, so every
path must be relative to it (found through git's ``.git``, or given with ``--sarif-root``),
name a file that exists there, and no machine path may leak. The SARIF validates against
the official 2.1.0 schema; a waived finding carries a ``suppressions`` entry.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from checker import SOURCE_URL, __version__
from tests.conftest import AS_OF, DEMO, REPO, SHARED_SCHEMAS, Runner

WAIVERS = """\
version: 1
waivers:
  - id: WVR-001
    rule: AIMS-TRN-001
    subject: risk/RSK-004
    reason: The course was retired; the replacement opens in January.
    requested_by: ingrid.halvorsen@northwind.example
    approved_by: arjun.mehta@northwind.example
    start: 2026-11-01
    expiry: 2027-01-31
    risk_acceptance: RSK-004
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with the demo (and a waiver) in ``compliance/demo``."""
    root = tmp_path / "repo"
    shutil.copytree(DEMO, root / "compliance" / "demo")
    (root / "compliance" / "demo" / "waivers.yaml").write_text(WAIVERS, "utf-8")
    (root / "elsewhere").mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def _uris(log: dict[str, Any]) -> list[str]:
    return [loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in log["runs"][0]["results"] for loc in res["locations"]]


def test_sarif_uris_are_relative_to_the_repository_root(run_cli: Runner, repo: Path) -> None:
    out = repo / "elsewhere" / "aimscheck.sarif"
    res = run_cli("scan", "-c", "../compliance/demo/aimscheck.yaml", "--as-of", AS_OF,
                  "--waivers", "../compliance/demo/waivers.yaml", "-f", "sarif", "-o", out.name,
                  cwd=repo / "elsewhere")
    assert res.returncode == 1, res.stderr
    text = out.read_text("utf-8")
    log = json.loads(text)
    schema_file = SHARED_SCHEMAS / "sarif-schema-2.1.0.json"
    if schema_file.exists():
        jsonschema.Draft4Validator(json.loads(schema_file.read_text("utf-8"))).validate(log)
    uris = _uris(log)
    assert uris
    for uri in uris:
        assert uri.startswith("compliance/demo/"), uri
        assert (repo / uri).is_file(), uri
    # no path of this machine anywhere (the temp repo, the checkout, the install)
    assert str(repo) not in text
    assert str(REPO) not in text
    run = log["runs"][0]
    assert run["automationDetails"]["id"] == f"aimscheck/scan/{AS_OF}T00:00:00Z"
    waived = [r for r in run["results"] if r.get("suppressions")]
    assert len(waived) == 1
    sup = waived[0]["suppressions"][0]
    assert sup["kind"] == "external"
    assert sup["status"] == "accepted"
    assert "WVR-001" in sup["justification"]
    assert "Arjun Mehta" in sup["justification"]
    for rule in run["tool"]["driver"]["rules"]:
        assert rule["helpUri"] == (f"{SOURCE_URL}/blob/v{__version__}/rules/iso42001/"
                                   f"{rule['id']}.yaml")
        assert (REPO / "rules" / "iso42001" / f"{rule['id']}.yaml").is_file()


def test_sarif_root_option_and_github_annotations(run_cli: Runner, repo: Path,
                                                  tmp_path: Path) -> None:
    res = run_cli("scan", "-c", "compliance/demo/aimscheck.yaml", "--as-of", AS_OF,
                  "-f", "sarif", "-o", tmp_path / "a.sarif", "-f", "github",
                  "--sarif-root", "compliance", cwd=repo)
    assert res.returncode == 1, res.stderr
    for uri in _uris(json.loads((tmp_path / "a.sarif").read_text("utf-8"))):
        assert uri.startswith("demo/"), uri
        assert (repo / "compliance" / uri).is_file()
    lines = res.stdout.splitlines()
    assert lines
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    files = {p.split(",", 1)[0] for line in lines for p in line.split(" file=")[1:]}
    assert files
    assert all(f.startswith("demo/") for f in files), files

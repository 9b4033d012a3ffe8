"""The demo organisation with people from SCIM and training from the LRS gives the same
findings as the file-based demo (computed now, since the demo data keeps growing)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import REPO, Lrs, Scim

pytestmark = pytest.mark.services

DEMO = REPO / "fixtures" / "demo"
COURSES = "https://lms.northwind.example/courses/"  # the loader's activity ids
AIMSCHECK = str(Path(sys.executable).with_name("aimscheck"))


def _absolute(entry: dict[str, Any]) -> dict[str, Any]:
    out = dict(entry)
    for key, value in entry.items():
        if key == "path" and isinstance(value, str):
            out[key] = str((DEMO / value).resolve())
        elif isinstance(value, dict):
            out[key] = _absolute(value)
    return out


def _variant_config(tmp: Path) -> Path:
    """aimscheck.yaml as it is now, its HR and LMS sources swapped for the variant's."""
    base = yaml.safe_load((DEMO / "aimscheck.yaml").read_text(encoding="utf-8"))
    variant = yaml.safe_load((DEMO / "aimscheck.scim-lrs.yaml").read_text(encoding="utf-8"))
    live = {s["adapter"]: s for s in variant["sources"] if s["adapter"] in ("scim", "xapi")}
    lms = next(s for s in base["sources"] if s["adapter"] == "lms_csv")
    live["xapi"]["courses"] = {COURSES + code: course
                               for code, course in lms.get("course_values", {}).items()}
    swap = {"hr_csv": "scim", "lms_csv": "xapi"}
    sources = [live[swap[s["adapter"]]] if s["adapter"] in swap else s
               for s in base["sources"]]
    assert [s["adapter"] for s in sources].count("scim") == 1
    # this config lives in tmp, its evidence in the demo folder
    base["sources"] = [{**_absolute(s), "allow_outside": True} for s in sources]
    for key in ("waivers",):
        if isinstance(base.get(key), str):
            base[key] = str((DEMO / base[key]).resolve())
    path = tmp / "aimscheck.yaml"
    path.write_text(yaml.safe_dump(base, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _findings(config: Path, out: Path, env: dict[str, str]) -> dict[tuple[str, ...], str]:
    r = subprocess.run([AIMSCHECK, "scan", "-c", str(config), "--as-of", "2026-11-30",
                        "-f", "json", "--passes", "full", "-o", str(out), "--no-progress"],
                       capture_output=True, text=True, env=env, timeout=300, check=False)
    assert r.returncode in (0, 1), r.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert all(s["status"] != "error" for s in data["sources"]), data["sources"]
    return {(f["rule_id"], f["target_kind"], f["target_id"], f["status"]):
            json.dumps(f["owner"], sort_keys=True) for f in data["findings"]}


def test_scim_and_lrs_demo_gives_the_file_demo_findings(scim: Scim, lrs: Lrs,
                                                         tmp_path: Path) -> None:
    env = {**os.environ, "SCIM_TOKEN": scim.token, "XAPI_USER": lrs.user,
           "XAPI_PASSWORD": lrs.password, "AIMSCHECK_TEST_SCIM_URL": scim.url,
           "AIMSCHECK_TEST_LRS_URL": lrs.url}
    load = subprocess.run([sys.executable, str(DEMO / "live" / "load_scim_lrs.py"),
                           "--scim-url", scim.url, "--lrs-url", lrs.url],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert load.returncode == 0, load.stderr
    files = _findings(DEMO / "aimscheck.yaml", tmp_path / "files.json", env)
    live = _findings(_variant_config(tmp_path), tmp_path / "live.json", env)
    # The committed variant config runs as documented too, every source readable.
    assert _findings(DEMO / "aimscheck.scim-lrs.yaml", tmp_path / "committed.json", env)
    assert files
    # SCIM also has a real Group (the AI governance board) that the HR file has not: it is
    # a person of kind group, which no rule can be satisfied by; it may only add
    # not_applicable findings about itself.
    extra = {k: v for k, v in live.items() if k not in files}
    assert all(k[2].startswith("group:") and k[3] == "not_applicable" for k in extra), extra
    assert {k: v for k, v in live.items() if k in files} == files

"""The CI examples in docs/ci run as written: their `aimscheck …` commands, against the demo.

Each example is parsed the way its CI system reads it (YAML for GitHub Actions and GitLab,
the ``sh '''…'''`` steps of the Jenkinsfile); every ``aimscheck`` command in it runs through
bash with the documented variables pointing at the demo organisation, and must exit with
the code the gate contract promises and write the JUnit file the CI system picks up.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

REPO = Path(__file__).resolve().parents[2]
CI = REPO / "docs" / "ci"
DEMO_CONFIG = REPO / "fixtures" / "demo" / "aimscheck.yaml"
BIN = REPO / ".venv" / "bin"

# (model, version) → the exit code the gate must give on the demo as of 2026-11-30
GATES = [("credit-risk-scorer", "13", 1),   # staged, no approval at all: blocked
         ("no-such-model", "1", 3)]         # release not in the evidence: never opens


def _github() -> tuple[list[str], list[str]]:
    doc = yaml.safe_load((CI / "github-actions.yml").read_text(encoding="utf-8"))
    on = doc.get("on") or doc.get(True)  # PyYAML reads a bare `on:` key as True
    assert "schedule" in on, "the GitHub example must schedule a nightly scan"
    cmds, uploads = [], []
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            run = step.get("run", "")
            if "aimscheck " in run and "pip install" not in run:
                cmds.append(run)
            if "upload-artifact" in step.get("uses", ""):
                assert step.get("if") == "always()", "upload the report also when blocked"
                uploads.append(step["with"]["path"])
    return cmds, uploads


def _gitlab() -> tuple[list[str], list[str]]:
    doc = yaml.safe_load((CI / "gitlab-ci.yml").read_text(encoding="utf-8"))
    cmds, reports = [], []
    schedule = False
    for job in doc.values():
        if not isinstance(job, dict):
            continue
        schedule |= any("schedule" in str(r.get("if", "")) and "==" in str(r.get("if", ""))
                        for r in job.get("rules", []))
        cmds += [c for c in job.get("script", []) if c.startswith("aimscheck ")]
        art = job.get("artifacts") or {}
        if "junit" in (art.get("reports") or {}):
            assert art.get("when") == "always", "keep the JUnit report when the gate blocks"
            reports.append(art["reports"]["junit"])
    assert schedule, "the GitLab example must scan in scheduled pipelines"
    return cmds, reports


def _jenkins() -> tuple[list[str], list[str]]:
    text = (CI / "Jenkinsfile").read_text(encoding="utf-8")
    cmds = [b.strip() for b in re.findall(r"sh '''(.*?)'''", text, re.S) if "aimscheck " in b]
    reports = re.findall(r"junit '([^']+)'", text)
    assert "cron(" in text
    return cmds, reports


@pytest.mark.parametrize("example", [_github, _gitlab, _jenkins],
                         ids=["github-actions", "gitlab-ci", "jenkins"])
def test_ci_example_commands_run_against_the_demo(
        example: Callable[[], tuple[list[str], list[str]]], tmp_path: Path) -> None:
    cmds, junit_paths = example()
    gates = [c for c in cmds if "gate release" in c]
    scans = [c for c in cmds if " scan " in f" {c} "]
    assert gates, "the example must run the release gate"
    assert scans, "the example must run a scheduled scan"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "AIMSCHECK_CONFIG": str(DEMO_CONFIG), "AIMSCHECK_AS_OF": "2026-11-30", "CI": "true"}
    for cmd in gates:
        out = re.search(r"--format junit -o (\S+)", cmd)
        assert out, f"the gate must write JUnit: {cmd}"
        assert out.group(1) in junit_paths, "the gate's JUnit file must be published"
        for model, version, code in GATES:
            (tmp_path / out.group(1)).unlink(missing_ok=True)
            proc = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True,
                                  text=True, timeout=120,
                                  env={**env, "MODEL_NAME": model, "MODEL_VERSION": version})
            assert proc.returncode == code, (cmd, model, proc.stdout, proc.stderr)
            assert proc.stdout.startswith(f"BLOCK {model} version {version}"), proc.stdout
            suites = JUnitXml.fromfile(str(tmp_path / out.group(1)))
            assert suites.failures + suites.errors >= 1
    for cmd in scans:
        proc = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300, env=env)
        assert proc.returncode == 1, (cmd, proc.stderr)  # the demo has deliberate gaps
        out = re.search(r"--format junit -o (\S+)", cmd)
        assert out
        assert any(out.group(1).startswith(p.rstrip("/")) for p in junit_paths)
        assert JUnitXml.fromfile(str(tmp_path / out.group(1))).failures > 0

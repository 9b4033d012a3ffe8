"""The composite Action (action.yml) run step by step, its inputs given as the runner would.

The install step runs once (from ``github.action_path`` = this checkout committed to a
temporary repository, offline from the wheelhouse); every case then runs the remaining
steps with its own inputs: the runner's ``${{ inputs.* }}`` substitution into the steps'
``env:``, ``GITHUB_OUTPUT``/``GITHUB_STEP_SUMMARY`` files, ``if:`` conditions, and a final
verdict step that exits with aimscheck's code.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import AS_OF, DEMO, REPO

from .conftest import machine_env
from .gha import Runner

ACTION = yaml.safe_load((REPO / "action.yml").read_text("utf-8"))


def _inputs(**given: str) -> dict[str, str]:
    spec = ACTION["inputs"]
    unknown = set(given) - set(spec)
    assert not unknown, unknown
    return {k: given.get(k, str(v.get("default", ""))) for k, v in spec.items()}


class Uses:
    def __init__(self) -> None:
        self.sarif: list[dict[str, str]] = []

    def __call__(self, action: str, with_: dict[str, str], workspace: Path) -> None:
        name, _, ref = action.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}: pin actions by commit SHA"
        if name == "github/codeql-action/upload-sarif":
            log = json.loads((workspace / with_["sarif_file"]).read_text("utf-8"))
            assert log["version"] == "2.1.0"
            self.sarif.append(with_)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, source_repo: Path,
              wheelhouse: Path) -> Path:
    """The Action's setup and install steps, run once; returns the venv's bin folder."""
    tmp = tmp_path_factory.mktemp("action-install")
    (tmp / "workspace").mkdir()
    env = machine_env(tmp, wheelhouse)
    runner = Runner(tmp / "workspace", env, {"inputs": _inputs(),
                                             "github": {"action_path": str(source_repo)}},
                    Uses())
    steps = ACTION["runs"]["steps"]
    assert ACTION["runs"]["using"] == "composite"
    assert "setup-python" in steps[0]["uses"]
    runner.run_steps(steps[:2])
    assert runner.steps[1].returncode == 0, runner.steps[1].stderr[-3000:]
    added = runner.files["GITHUB_PATH"].read_text("utf-8").split()
    assert len(added) == 1
    assert (Path(added[0]) / "aimscheck").exists()
    return Path(added[0])


def _run(tmp_path: Path, installed: Path, **given: str) -> tuple[Runner, Uses]:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    env = {"PATH": os.pathsep.join([str(installed), "/usr/bin", "/bin"]),
           "HOME": os.environ.get("HOME", "/root")}
    ctx: dict[str, Any] = {"inputs": _inputs(**given), "github": {"action_path": "unused"}}
    uses = Uses()
    runner = Runner(workspace, env, ctx, uses)
    runner.run_steps(ACTION["runs"]["steps"][2:])
    return runner, uses


CONFIG = str(DEMO / "aimscheck.yaml")


@pytest.mark.parametrize(("given", "code", "verdict"), [
    ({"command": "scan", "sarif": "true"}, 1, "FAIL"),
    ({"command": "scan", "soft-fail": "true"}, 0, "FAIL"),
    ({"command": "gate", "model": "credit-risk-scorer", "version": "13"}, 1, "BLOCK"),
    ({"command": "gate", "model": "credit-risk-scorer", "version": "12"}, 0, "RELEASE"),
    ({"command": "gate", "model": "no-such-model", "version": "1", "soft-fail": "true"}, 3,
     "BLOCK"),
])
def test_action_steps(given: dict[str, str], code: int, verdict: str, tmp_path: Path,
                      installed: Path) -> None:
    runner, uses = _run(tmp_path, installed, config=CONFIG, **{"as-of": AS_OF}, **given)
    run = runner.steps[0]
    assert run.returncode == 0, run.stderr[-3000:]  # the run step records, the verdict exits
    assert run.outputs["exit-code"] == str(code), run.stderr[-3000:]
    final = runner.steps[-1]
    assert final.name == "Verdict"
    assert final.returncode == code
    # the Markdown verdict in the job summary
    assert verdict in runner.summary.split("\n", 3)[0] + runner.summary[:400]
    # workflow annotations in the log
    lines = run.stdout.splitlines()
    assert lines
    assert all(re.match(r"::(error|warning|notice) ", ln) for ln in lines), lines[:3]
    assert (runner.workspace / run.outputs["junit-file"]).is_file()
    if given.get("sarif") == "true":
        assert uses.sarif == [{"sarif_file": run.outputs["sarif-file"],
                               "category": "aimscheck"}]
    else:
        assert not uses.sarif
        assert "sarif-file" not in run.outputs


def test_action_rejects_gate_without_model(tmp_path: Path, installed: Path) -> None:
    runner, _ = _run(tmp_path, installed, command="gate", config=CONFIG)
    run = runner.steps[0]
    assert run.outputs["exit-code"] == "2"
    assert "::error title=aimscheck::command gate needs the model and version" in run.stdout
    assert runner.steps[-1].returncode == 2

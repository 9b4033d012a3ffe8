"""The CI examples in docs/ci install and run as written, on a clean machine.

Each example is read the way its CI system reads it (YAML for GitHub Actions and GitLab,
the ``sh '''…'''`` steps of the Jenkinsfile). Its install steps run unchanged in an empty
folder with a plain ``python`` and no venv: they create the venv and install aimscheck from
its repository at the release tag (``git+…@v<version>``, here this checkout committed to a
temporary repository, see conftest.py) with the constraints file of that tag. Its gate and
scan steps then run against the demo organisation with the documented variables, and must
exit with the code the gate contract promises and write the reports the CI system picks up.
Only variables change: ``AIMSCHECK_REPO`` points at the local repository and
``AIMSCHECK_CONFIG``/``AIMSCHECK_AS_OF`` at the demo.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from junitparser import JUnitXml

from checker import SOURCE_URL, __version__
from tests.conftest import AS_OF, DEMO, SHARED_SCHEMAS

from .gha import Runner, condition, substitute

CI = Path(__file__).resolve().parents[2] / "docs" / "ci"

# (model, version) → the exit code the gate must give on the demo as of 2026-11-30
GATES = [("credit-risk-scorer", "12", 0),   # approved: released
         ("credit-risk-scorer", "13", 1),   # staged, no approval at all: blocked
         ("no-such-model", "1", 3)]         # release not in the evidence: never opens

INSTALL = re.compile(r'--constraint "\$AIMSCHECK_REPO/raw/v\$AIMSCHECK_VERSION/constraints\.txt" '
                     r'\\?\s*"git\+\$AIMSCHECK_REPO@v\$AIMSCHECK_VERSION"')


def _variables(env: dict[str, str], source_repo: Path) -> dict[str, str]:
    """The example's own pins, checked, then pointed at the local repository and demo."""
    assert env["AIMSCHECK_VERSION"] == __version__, "the examples pin the current release"
    assert env["AIMSCHECK_REPO"] == SOURCE_URL
    return {"AIMSCHECK_VERSION": env["AIMSCHECK_VERSION"],
            "AIMSCHECK_REPO": source_repo.as_uri(),
            "AIMSCHECK_CONFIG": str(DEMO / "aimscheck.yaml"), "AIMSCHECK_AS_OF": AS_OF}


def _sh(script: str, cwd: Path, env: dict[str, str], shell: str = "bash"
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([shell, "-ec", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def _pinned(python: Path, source_repo: Path) -> None:
    """Every package the install brought is pinned by constraints.txt, at that version."""
    frozen = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude", "aimscheck"],
                            capture_output=True, text=True, check=True).stdout
    pins = {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1]
            for ln in (source_repo / "constraints.txt").read_text("utf-8").splitlines()
            if "==" in ln and not ln.startswith("#")}
    for line in frozen.splitlines():
        name, version = line.split("==")
        key = name.lower().replace("_", "-")
        assert pins.get(key) == version, f"{line} is not pinned by constraints.txt"
    version = subprocess.run([str(python), "-m", "checker", "--version"], capture_output=True,
                             text=True, check=True).stdout
    assert __version__ in version


def _check_junit(path: Path, failures: bool) -> None:
    suites = JUnitXml.fromfile(str(path))
    assert (suites.failures + suites.errors > 0) == failures, path


# -- GitHub Actions -------------------------------------------------------------------------

def _github_uses(checked: list[str]) -> Any:
    def uses(action: str, with_: dict[str, str], workspace: Path) -> None:
        name, _, ref = action.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", ref), f"{action}: pin actions by commit SHA"
        checked.append(name)
        if name == "actions/setup-python":
            assert with_["cache"] == "pip"
        elif name == "mikepenz/action-junit-report":
            assert len(JUnitXml.fromfile(str(workspace / with_["report_paths"]))) > 0
        elif name == "github/codeql-action/upload-sarif":
            log = json.loads((workspace / with_["sarif_file"]).read_text("utf-8"))
            schema = SHARED_SCHEMAS / "sarif-schema-2.1.0.json"
            if schema.exists():
                import jsonschema

                jsonschema.Draft4Validator(json.loads(schema.read_text("utf-8"))).validate(log)
            assert log["runs"][0]["results"]
        elif name == "actions/upload-artifact":
            assert (workspace / with_["path"]).exists()
    return uses


def test_github_example_pins_and_permissions() -> None:
    text = (CI / "github-actions.yml").read_text("utf-8")
    doc = yaml.safe_load(text)
    assert doc["permissions"] == {"contents": "read"}
    for line in text.splitlines():
        m = re.match(r"\s*(?:- )?uses: (\S+)@(\S+)(.*)", line)
        if m:
            assert re.fullmatch(r"[0-9a-f]{40}", m[2]), line
            assert re.fullmatch(r" # v\d+\.\d+\.\d+", m[3]), f"name the release: {line}"
    for job in doc["jobs"].values():
        for step in job.get("steps", []):
            if "pip install" in step.get("run", ""):
                assert INSTALL.search(step["run"]), step["run"]


@pytest.mark.parametrize(("job", "model", "version", "code"),
                         [("release-gate", m, v, c) for m, v, c in GATES]
                         + [("nightly-scan", "", "", 0)])
def test_github_example_runs(job: str, model: str, version: str, code: int, tmp_path: Path,
                             source_repo: Path, clean_env: dict[str, str]) -> None:
    doc = yaml.safe_load((CI / "github-actions.yml").read_text("utf-8"))
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    ctx: dict[str, Any] = {
        "vars": {"AIMSCHECK_CONFIG": str(DEMO / "aimscheck.yaml"), "AIMSCHECK_AS_OF": AS_OF},
        "secrets": {}, "inputs": {"model": model, "version": version},
        "github": {"event_name": "schedule" if job == "nightly-scan" else "workflow_dispatch"},
    }
    checked: list[str] = []
    runner = Runner(workspace, dict(clean_env), ctx, _github_uses(checked))
    fns = runner.functions()
    assert condition(doc["jobs"][job]["if"], ctx, fns), "the job runs on this event"
    env = {k: substitute(str(v), ctx, fns) for k, v in doc["env"].items()}
    env.update(_variables(env, source_repo))
    env.update({k: substitute(str(v), ctx, fns)
                for k, v in (doc["jobs"][job].get("env") or {}).items()})
    runner.env.update(env)
    runner.run_steps(doc["jobs"][job]["steps"])
    install, run = runner.steps[2], runner.steps[3]
    assert install.returncode == 0, install.stderr[-3000:]
    assert run.returncode == code, (run.stdout[-2000:], run.stderr[-3000:])
    _pinned(runner.temp / "aimscheck" / "bin" / "python", source_repo)
    assert "actions/upload-artifact" in checked
    if code in (0, 1):
        assert "mikepenz/action-junit-report" in checked
        # annotations in the log, the verdict in the job summary
        assert re.search(r"^::(error|warning|notice) ", run.stdout, re.M), run.stdout[:500]
        assert runner.summary.startswith("#"), runner.summary[:200]
    if job == "nightly-scan":
        assert "github/codeql-action/upload-sarif" in checked
        # report-only: the demo's gaps are reported, not fatal
        _check_junit(workspace / "reports" / "aimscheck-scan.xml", failures=True)
        assert "FAIL" in runner.summary


# -- GitLab CI ------------------------------------------------------------------------------

def _gitlab_job(doc: dict[str, Any], name: str) -> dict[str, Any]:
    job = dict(doc[name])
    base = doc[job.pop("extends")] if "extends" in job else {}
    return {**base, **job}


@pytest.mark.parametrize(("job", "model", "version", "code"),
                         [("release-gate", m, v, c) for m, v, c in GATES]
                         + [("nightly-scan", "", "", 1)])
def test_gitlab_example_runs(job: str, model: str, version: str, code: int, tmp_path: Path,
                             source_repo: Path, clean_env: dict[str, str]) -> None:
    doc = yaml.safe_load((CI / "gitlab-ci.yml").read_text("utf-8"))
    spec = _gitlab_job(doc, job)
    assert spec["image"].startswith("python:3.")
    assert "slim" not in spec["image"], "the install needs git, which the slim images lack"
    assert any(INSTALL.search(line) for line in spec["before_script"])
    env = {**clean_env, **{k: str(v) for k, v in doc["variables"].items()},
           "CI_PROJECT_DIR": str(tmp_path), "CI_PIPELINE_SOURCE":
           "schedule" if job == "nightly-scan" else "web",
           "MODEL_NAME": model, "MODEL_VERSION": version}
    env["PIP_CACHE_DIR"] = env["PIP_CACHE_DIR"].replace("$CI_PROJECT_DIR", str(tmp_path))
    env.update(_variables(env, source_repo))
    script = "\n".join([*spec["before_script"], *spec["script"]])
    # GitLab runs before_script and script in one shell; a failing line ends the job
    proc = _sh(script, tmp_path, env)
    assert proc.returncode == code, (proc.stdout[-2000:], proc.stderr[-3000:])
    _pinned(tmp_path / ".aimscheck-venv" / "bin" / "python", source_repo)
    allowed = (spec.get("allow_failure") or {}).get("exit_codes", [])
    if job == "nightly-scan":
        assert code in allowed, "a nightly scan with gaps is reported, not a failed pipeline"
        assert 2 not in allowed
        assert 3 not in allowed
        assert (tmp_path / "reports" / "aimscheck.sarif").is_file()
    junit = spec["artifacts"]["reports"]["junit"]
    assert spec["artifacts"]["when"] == "always"
    if code != 2:
        _check_junit(tmp_path / junit, failures=code != 0)


# -- Jenkins --------------------------------------------------------------------------------

def _jenkins() -> tuple[dict[str, str], list[str], list[str]]:
    text = (CI / "Jenkinsfile").read_text("utf-8")
    env_block = re.search(r"environment \{(.*?)\n    \}", text, re.S)
    assert env_block
    env = dict(re.findall(r"(\w+) = '([^']*)'", env_block.group(1)))
    blocks = [b.strip() for b in re.findall(r"sh '''(.*?)'''", text, re.S)]
    reports = re.findall(r"junit '([^']+)'", text)
    assert "cron(" in text
    assert not any("--user" in b for b in blocks), "Debian 12 refuses pip install --user"
    return env, blocks, reports


@pytest.mark.parametrize(("model", "version", "code"), [*GATES, ("", "", 0)])
def test_jenkins_example_runs(model: str, version: str, code: int, tmp_path: Path,
                              source_repo: Path, clean_env: dict[str, str]) -> None:
    jenv, blocks, reports = _jenkins()
    install = [b for b in blocks if "pip install" in b]
    gate = [b for b in blocks if "gate release" in b]
    scan = [b for b in blocks if " scan " in f" {b} "]
    assert len(install) == len(gate) == len(scan) == 1
    assert INSTALL.search(install[0])
    env = {**clean_env, **jenv, "MODEL_NAME": model, "MODEL_VERSION": version}
    env.update(_variables(env, source_repo))
    # Jenkins runs sh steps with /bin/sh -xe, one stage after the other
    proc = _sh(install[0], tmp_path, env, shell="sh")
    assert proc.returncode == 0, proc.stderr[-3000:]
    _pinned(tmp_path / ".aimscheck-venv" / "bin" / "python", source_repo)
    step = gate[0] if model else scan[0]
    proc = _sh(step, tmp_path, env, shell="sh")
    assert proc.returncode == code, (proc.stdout[-2000:], proc.stderr[-3000:])
    out = re.search(r"--format junit -o (\S+)", step)
    assert out
    assert out.group(1) in reports, "the JUnit file must be published"
    _check_junit(tmp_path / out.group(1), failures=code != 0 or not model)
    if model:
        verdict = "RELEASE" if code == 0 else "BLOCK"
        assert proc.stdout.startswith(f"{verdict} {model} version {version}"), proc.stdout

"""The pre-commit hooks (.pre-commit-hooks.yaml) through ``pre-commit try-repo``.

The hook repository is this checkout committed to a temporary git repository (conftest);
pre-commit builds its own environment from it (``language: python``: pip install of the
repository, offline from the session's wheelhouse) and runs the hooks in a second
temporary repository holding the demo organisation and a rule pack of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import DEMO, REPO

HOOKS = ["aimscheck-config-check", "aimscheck-rules-validate", "aimscheck-rules-test"]
RULE = REPO / "rules" / "iso42001" / "AIMS-OWN-002"


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e.com",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e.com"})


@pytest.fixture
def consumer(tmp_path: Path) -> Path:
    """A repository with the demo config at its root and a pack of its own rules."""
    repo = tmp_path / "consumer"
    shutil.copytree(DEMO, repo)
    pack = repo / "org-rules"
    pack.mkdir()
    text = RULE.with_suffix(".yaml").read_text("utf-8").replace("AIMS-OWN-002", "ORG-OWN-002")
    (pack / "ORG-OWN-002.yaml").write_text(text, "utf-8")
    cases = RULE.with_name("AIMS-OWN-002.test.yaml").read_text("utf-8")
    (pack / "ORG-OWN-002.test.yaml").write_text(cases.replace("AIMS-OWN-002", "ORG-OWN-002"),
                                                "utf-8")
    cfg = repo / "aimscheck.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("rule_packs: [iso42001]",
                                                  "rule_packs: [iso42001, org-rules]"), "utf-8")
    assert "org-rules" in cfg.read_text("utf-8")
    _git("init", "-q", cwd=repo)
    _git("add", "-A", cwd=repo)
    return repo


def _try_repo(source_repo: Path, consumer: Path, env: dict[str, str], home: Path
              ) -> subprocess.CompletedProcess[str]:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is a test dependency"
    return subprocess.run([pre_commit, "try-repo", str(source_repo), "--all-files",
                           "--color", "never"], cwd=consumer, capture_output=True, text=True,
                          timeout=900, check=False,
                          env={**env, "PRE_COMMIT_HOME": str(home),
                               "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                        env["PATH"]])})


def test_hooks_file() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text("utf-8"))
    assert [h["id"] for h in hooks] == HOOKS
    for h in hooks:
        assert h["language"] == "python"
        assert h["entry"].startswith("aimscheck ")


def test_hooks_pass_then_catch_a_broken_config(source_repo: Path, consumer: Path,
                                               clean_env: dict[str, str],
                                               tmp_path: Path) -> None:
    home = tmp_path / "pre-commit-home"
    res = _try_repo(source_repo, consumer, clean_env, home)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-4000:]
    for name in ("aimscheck config check", "aimscheck rules validate", "aimscheck rules test"):
        assert any(line.startswith(name) and line.rstrip().endswith("Passed")
                   for line in out.splitlines()), (name, out[-3000:])
    # a typo in an adapter name is caught, with file:line
    cfg = consumer / "aimscheck.yaml"
    cfg.write_text(cfg.read_text("utf-8").replace("adapter: hr_csv", "adapter: hr_cvs", 1),
                   "utf-8")
    _git("add", "-A", cwd=consumer)
    res = _try_repo(source_repo, consumer, clean_env, home)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    assert "unknown adapter 'hr_cvs'" in out
    assert "aimscheck.yaml:" in out
    # a broken case of the organisation's own rule fails the rules test hook
    _git("checkout", "--", "aimscheck.yaml", cwd=consumer)
    case = consumer / "org-rules" / "ORG-OWN-002.test.yaml"
    text = case.read_text("utf-8")
    broken = text.replace("    expect: pass\n", "    expect:\n      fail: [ai_system/chatbot]\n", 1)
    assert broken != text
    case.write_text(broken, "utf-8")
    _git("add", "-A", cwd=consumer)
    res = _try_repo(source_repo, consumer, clean_env, home)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    assert "FAIL ORG-OWN-002" in out

"""Shared pytest fixtures: the repository layout and the installed CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "demo"
SHARED_SCHEMAS = REPO.parent / "shared" / "reference" / "schemas"
AS_OF = "2026-11-30"


def aimscheck_exe() -> str:
    """The installed console script (as users and CI run it)."""
    exe = Path(sys.executable).parent / "aimscheck"
    if exe.exists():
        return str(exe)
    found = shutil.which("aimscheck")
    if not found:
        pytest.fail("the aimscheck console script is not installed; run `make test`")
    return found


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli() -> Runner:
    """Run the installed ``aimscheck`` with arguments; returns the completed process."""

    def run(*args: str | Path, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "CI": "true", **(env or {})}
        return subprocess.run([aimscheck_exe(), *map(str, args)], cwd=cwd or REPO,
                              capture_output=True, text=True, env=full_env, timeout=300,
                              check=False)

    return run


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A writable copy of the demo organisation; returns its config path."""
    dst = tmp_path / "demo"
    shutil.copytree(DEMO, dst)
    return dst / "aimscheck.yaml"

"""ruff and mypy --strict stay clean (the same commands a developer runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    res = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=REPO, capture_output=True,
                         text=True, check=False)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_mypy_strict_is_clean() -> None:
    res = subprocess.run([str(BIN / "mypy")], cwd=REPO, capture_output=True, text=True,
                         check=False, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]

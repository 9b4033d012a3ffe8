"""Clean-install fixtures for the CI, container, Action and pre-commit tests.

Once per session:

- ``source_repo``: a git repository holding the checkout's files as they are now (tracked
  and new, not ignored), committed and tagged ``v<version>`` — what the examples' git URL
  names. Beside the code it holds ``raw/v<version>/constraints.txt``, so that the examples'
  ``$AIMSCHECK_REPO/raw/v$AIMSCHECK_VERSION/constraints.txt`` (GitHub's URL layout for a
  file at a tag) resolves when ``AIMSCHECK_REPO`` is this repository's ``file://`` URL.
- ``wheelhouse``: the aimscheck wheel, built once (``pip wheel``), plus every dependency at
  the version ``constraints.txt`` pins and the build backend, downloaded from PyPI once;
  every later install runs with ``PIP_NO_INDEX`` against it (offline, fast, and exactly
  the pinned versions).

Each test then makes its own empty venvs through the commands it tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker import __version__
from tests.conftest import REPO


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True, env=env).stdout


def checkout_files() -> list[str]:
    """The checkout's files: tracked and untracked, without ignored ones."""
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = _git("ls-files", "-co", "--exclude-standard", "-z", cwd=REPO)
    return [p for p in out.split("\0") if p and (REPO / p).is_file()]


@pytest.fixture(scope="session")
def source_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("aimscheck-src") / "aimscheck"
    for rel in checkout_files():
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dst)
    _git("init", "-q", "-b", "main", cwd=root)
    _git("add", "-A", cwd=root)
    _git("commit", "-q", "-m", "release", cwd=root)
    _git("tag", f"v{__version__}", cwd=root)
    raw = root / "raw" / f"v{__version__}"
    raw.mkdir(parents=True)
    shutil.copy2(root / "constraints.txt", raw / "constraints.txt")
    return root


def base_python() -> str:
    """The interpreter behind this venv: what a CI image or setup-python provides."""
    return str(getattr(sys, "_base_executable", sys.executable))


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, source_repo: Path) -> Path:
    house = tmp_path_factory.mktemp("wheelhouse")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}
    subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "-w", str(house), str(source_repo)],
                   check=True, env=env, timeout=600)
    wheels = list(house.glob("aimscheck-*.whl"))
    assert len(wheels) == 1, wheels
    subprocess.run([*pip, "download", "--quiet", "-d", str(house), "--constraint",
                    str(source_repo / "constraints.txt"), f"{wheels[0]}[postgres]",
                    "setuptools>=77", "wheel"], check=True, env=env, timeout=600)
    return house


def machine_env(folder: Path, wheelhouse: Path) -> dict[str, str]:
    """An environment like a fresh CI machine: a plain ``python``, pip offline from the
    wheelhouse, no venv active, no user or site pip config."""
    bindir = folder / "system-bin"
    bindir.mkdir()
    for name in ("python", "python3"):
        (bindir / name).symlink_to(base_python())
    keep = {k: v for k, v in os.environ.items()
            if k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "SHELL", "TERM")}
    path = [str(bindir)] + [p for p in os.environ.get("PATH", "").split(os.pathsep)
                            if p and not p.startswith(str(Path(sys.executable).parent))]
    return {**keep, "PATH": os.pathsep.join(path), "PIP_CONFIG_FILE": os.devnull,
            "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture
def clean_env(tmp_path: Path, wheelhouse: Path) -> dict[str, str]:
    """A fresh CI machine's environment (see :func:`machine_env`)."""
    return machine_env(tmp_path, wheelhouse)

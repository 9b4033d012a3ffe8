"""The README's install instructions, run as written in a clean environment.

The two ``sh`` blocks of the README's "Install" section: from the repository at the release
tag (``R`` pointed at this checkout committed to a temporary repository and tagged, see
conftest.py), and from a wheel built in the checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from checker import SOURCE_URL, __version__
from tests.conftest import REPO


def _install_blocks() -> list[str]:
    text = (REPO / "README.md").read_text("utf-8")
    section = text.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert len(blocks) >= 2
    return blocks[:2]


def _run(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-ec", script], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=900, check=False)


def test_readme_install_from_the_release_tag(tmp_path: Path, source_repo: Path,
                                             clean_env: dict[str, str]) -> None:
    block = _install_blocks()[0]
    assert f"V={__version__} R={SOURCE_URL}" in block
    script = block.replace(f"R={SOURCE_URL}", f"R={source_repo.as_uri()}")
    proc = _run(script, tmp_path, clean_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"aimscheck, version {__version__}" in proc.stdout


def test_readme_install_from_a_wheel(tmp_path: Path, source_repo: Path,
                                     clean_env: dict[str, str]) -> None:
    checkout = tmp_path / "checkout"
    shutil.copytree(source_repo, checkout, ignore=shutil.ignore_patterns(".git", "raw"))
    proc = _run(_install_blocks()[1], checkout, clean_env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"aimscheck, version {__version__}" in proc.stdout
    assert (checkout / "dist" / f"aimscheck-{__version__}-py3-none-any.whl").is_file()

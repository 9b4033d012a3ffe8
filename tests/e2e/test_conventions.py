"""Command-line conventions: environment variables, config discovery, report-only mode,
format choices and completion, colour and wrapping on a terminal, schemas, config check."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from checker.schemagen import config_schema, render, schema
from tests.conftest import AS_OF, DEMO, REPO, Runner, aimscheck_exe

CONFIG = DEMO / "aimscheck.yaml"
FORMATS = {"json": "json", "junit": "xml", "sarif": "sarif", "markdown": "md", "html": "html",
           "oscal": "json", "github": "txt", "text": "txt"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_config_and_as_of_from_the_environment(run_cli: Runner, tmp_path: Path) -> None:
    flags, env = tmp_path / "flags.json", tmp_path / "env.json"
    res = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF, "-f", "json", "-o", flags)
    assert res.returncode == 1, res.stderr
    # the CI examples' own variables (AIMSCHECK_VERSION …) are not taken for options
    res = run_cli("scan", "-f", "json", "-o", env, cwd=tmp_path,
                  env={"AIMSCHECK_CONFIG": str(CONFIG), "AIMSCHECK_AS_OF": AS_OF,
                       "AIMSCHECK_VERSION": "0.1.0", "AIMSCHECK_REPO": "file:///x"})
    assert res.returncode == 1, res.stderr
    assert flags.read_bytes() == env.read_bytes()
    # any option through AIMSCHECK_<COMMAND>_<OPTION> (click's auto_envvar_prefix)
    res = run_cli("scan", cwd=tmp_path, env={"AIMSCHECK_CONFIG": str(CONFIG),
                                             "AIMSCHECK_AS_OF": AS_OF,
                                             "AIMSCHECK_SCAN_FORMATS": "json"})
    assert json.loads(res.stdout)["as_of"] == f"{AS_OF}T00:00:00Z"
    res = run_cli("gate", "release", cwd=tmp_path, env={
        "AIMSCHECK_CONFIG": str(CONFIG), "AIMSCHECK_AS_OF": AS_OF,
        "AIMSCHECK_GATE_RELEASE_MODEL": "credit-risk-scorer",
        "AIMSCHECK_GATE_RELEASE_VERSION": "12"})
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("RELEASE credit-risk-scorer version 12")


def test_config_is_found_upwards_up_to_the_repository_root(run_cli: Runner,
                                                           demo_copy: Path) -> None:
    res = run_cli("scan", "--as-of", AS_OF, "-f", "json", cwd=demo_copy.parent / "evidence")
    assert res.returncode == 1, res.stderr
    assert json.loads(res.stdout)["organisation"].startswith("Northwind")
    # not beyond the root of a git work tree
    inner = demo_copy.parent / "repo" / "sub"
    inner.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(inner.parent)], check=True)
    res = run_cli("scan", "--as-of", AS_OF, cwd=inner)
    assert res.returncode == 2
    assert "aimscheck.yaml: error E120 config file not found" in res.stderr


def test_soft_fail_exits_0_and_writes_every_report(run_cli: Runner, tmp_path: Path) -> None:
    args: list[str | Path] = ["scan", "--soft-fail", "-c", CONFIG, "--as-of", AS_OF]
    for fmt, ext in FORMATS.items():
        if fmt != "text":
            args += ["-f", fmt, "-o", tmp_path / f"report-{fmt}.{ext}"]
    args += ["-f", "text"]
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr
    assert "soft-fail" in res.stderr
    assert "FAIL: " in res.stderr  # the verdict is still reported
    for fmt, ext in FORMATS.items():
        if fmt != "text":
            assert (tmp_path / f"report-{fmt}.{ext}").stat().st_size > 0, fmt
    assert json.loads((tmp_path / "report-json.json").read_text("utf-8"))["exit_code"] == 1
    assert "Who must act" in res.stdout


def test_soft_fail_in_config_and_codes_2_and_3_unchanged(run_cli: Runner,
                                                         demo_copy: Path) -> None:
    text = demo_copy.read_text("utf-8")
    demo_copy.write_text(text + "\nsoft_fail: true\n", "utf-8")
    assert run_cli("scan", "-c", demo_copy, "--as-of", AS_OF).returncode == 0
    assert run_cli("gate", "release", "-c", demo_copy, "--as-of", AS_OF, "--model",
                   "credit-risk-scorer", "--version", "13").returncode == 0
    # evidence missing stays 3, with the flag too
    (demo_copy.parent / "register.yaml").unlink()
    res = run_cli("scan", "--soft-fail", "-c", demo_copy, "--as-of", AS_OF)
    assert res.returncode == 3, res.stderr
    # a config error stays 2
    demo_copy.write_text(text + "\nsoft_fail: true\nunknown_key: 1\n", "utf-8")
    assert run_cli("scan", "--soft-fail", "-c", demo_copy, "--as-of", AS_OF).returncode == 2


def test_format_is_a_choice_and_completes(run_cli: Runner) -> None:
    res = run_cli("scan", "-c", CONFIG, "--format", "jsn")
    assert res.returncode == 2
    assert "'jsn' is not one of" in res.stderr
    assert "'github'" in res.stderr
    env = {**os.environ, "_AIMSCHECK_COMPLETE": "bash_complete",
           "COMP_WORDS": "aimscheck scan --format ", "COMP_CWORD": "3"}
    out = subprocess.run([aimscheck_exe()], env=env, capture_output=True, text=True,
                         check=False).stdout
    offered = {line.split(",", 1)[1] for line in out.splitlines() if "," in line}
    assert {"text", "json", "junit", "sarif", "github", "markdown"} <= offered
    res = run_cli("report", "--help")
    assert "Default: html." in " ".join(res.stdout.split())


# three formats each command has; with a history store named, so a history write would show
PAIRING = {"scan": ("json", "sarif", "text", "--record"), "review": ("json", "html", "json"),
           "soa": ("json", "csv", "markdown"), "report": ("html", "json", "markdown", "--record")}


@pytest.mark.parametrize("command", list(PAIRING))
def test_format_and_output_must_pair_up_in_every_command(run_cli: Runner, tmp_path: Path,
                                                         command: str) -> None:
    a, b, c, *more = PAIRING[command]
    one, two = tmp_path / "one", tmp_path / "two"
    base: list[str | Path] = [command, "-c", CONFIG, "--as-of", AS_OF, *more]
    if command != "soa":
        base += ["--history-url", f"sqlite:///{tmp_path / 'history.sqlite'}"]
    too_many = "-o: error E002 more -o/--output than --format"
    two_on_stdout = "--format: error E002 only one format can go to standard output"
    cases: list[tuple[list[str | Path], str, str]] = [
        (["-f", a, "-o", one, "-o", two], too_many, "give one --format per -o"),
        (["-o", one, "-o", two], too_many, "give one --format per -o"),  # the default format
        (["-f", a, "-o", one, "-f", b, "-f", c], two_on_stdout, "give the others an -o FILE"),
        (["-f", a, "-o", "-", "-f", b], two_on_stdout, "give the others an -o FILE"),
    ]
    for args, message, hint in cases:
        res = run_cli(*base, *args)
        assert res.returncode == 2, (args, res.stderr)
        assert message in res.stderr, (args, res.stderr)
        assert f"hint: {hint}" in res.stderr, (args, res.stderr)
        assert res.stdout == "", args  # nothing rendered on standard output either
        assert list(tmp_path.iterdir()) == [], args  # no report, no history


def _tty(args: list[str], env: dict[str, str]) -> str:
    """Run with standard output on a pseudo-terminal; return what it printed."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdout=slave, stderr=subprocess.DEVNULL, env=env,
                            cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals")
def test_colour_and_wrapping_on_a_terminal_only(run_cli: Runner) -> None:
    args = [aimscheck_exe(), "scan", "-c", str(CONFIG), "--as-of", AS_OF]
    base = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    base.update(COLUMNS="80", TERM="xterm")
    coloured = _tty(args, base)
    assert ANSI.search(coloured), coloured[:300]
    plain_lines = ANSI.sub("", coloured).splitlines()
    assert max(len(line) for line in plain_lines) <= 80
    no_colour = _tty(args, {**base, "NO_COLOR": "1"})
    assert not ANSI.search(no_colour)
    # the same words, only wrapped
    assert ANSI.sub("", coloured).split() == no_colour.split()
    piped = run_cli("scan", "-c", CONFIG, "--as-of", AS_OF).stdout
    assert not ANSI.search(piped)
    assert max(len(line) for line in piped.splitlines()) > 80  # files and pipes: unwrapped
    assert piped.split() == no_colour.split()


def test_init_has_a_schema_line_and_validates(run_cli: Runner, tmp_path: Path) -> None:
    res = run_cli("init", "-o", tmp_path / "aimscheck.yaml")
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "aimscheck.yaml").read_text("utf-8")
    first = text.splitlines()[0]
    assert re.fullmatch(r"# yaml-language-server: \$schema=https://\S+/v[0-9.]+/checker/"
                        r"schemas/config\.schema\.json", first)
    jsonschema.Draft202012Validator(config_schema()).validate(yaml.safe_load(text))


@pytest.mark.parametrize("name", ["config", "rule", "waivers", "findings"])
def test_schema_command(run_cli: Runner, name: str) -> None:
    res = run_cli("schema", name)
    assert res.returncode == 0, res.stderr
    assert res.stdout == render(schema(name))


def test_config_check(run_cli: Runner, demo_copy: Path) -> None:
    res = run_cli("config", "check", demo_copy)
    assert res.returncode == 0, res.stderr
    assert "valid" in res.stdout
    text = demo_copy.read_text("utf-8")
    bad = text.replace("adapter: hr_csv", "adapter: hr_cvs", 1)
    assert bad != text
    demo_copy.write_text(bad, "utf-8")
    res = run_cli("config", "check", demo_copy)
    assert res.returncode == 2
    assert re.search(r"aimscheck\.yaml:\d+:\d+: error E121 unknown adapter 'hr_cvs'", res.stderr)
    assert "hr_csv" in res.stderr  # did you mean


def test_python_dash_m_checker(tmp_path: Path) -> None:
    exe = Path(sys.executable)
    res = subprocess.run([str(exe), "-m", "checker", "scan", "-c", str(CONFIG), "--as-of",
                          AS_OF, "-q"], capture_output=True, text=True, check=False)
    assert res.returncode == 1
    assert "Who must act" in res.stdout
    assert shutil.which("aimscheck", path=str(exe.parent))

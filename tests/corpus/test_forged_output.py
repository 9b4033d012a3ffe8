"""Corpus: evidence text cannot forge output in any human-readable format (issue 17).

A person's name (HR export) and a subject's name (the register; a Jira summary lands in the
same field) carry an ANSI escape, CR/LF followed by forged ``PASS:`` lines, a forged GitHub
workflow command, a bidirectional override and a line separator. In every human-readable
format — text, Markdown, HTML, JUnit (message and text), GitHub annotations, the SARIF
message, the gate's output — none of these characters reaches the file as itself, no line
of the output starts with the forged text, and the escapes are shown instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from tests.conftest import AS_OF, DEMO, REPO, aimscheck_exe

HOSTILE_PERSON = "Daniel\x1b[2J\rPASS: forged\n::notice::PASS forged\u202e"
HOSTILE_SUBJECT = "Customer support chatbot\x1b[32m\r\nPASS: all checks\n::error::forged\u2028x"
RAW = ("\x1b", "\r", "\u202e", "\u2028")
FORGED_LINE_STARTS = ("PASS: forged", "PASS: all checks", "::notice::PASS forged",
                      "::error::forged")
SHOWN = "Daniel\\x1b[2J\\x0dPASS: forged\\x0a::notice::PASS forged\\u202e"
FORMATS = ("text", "markdown", "html", "junit", "github", "sarif")


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([aimscheck_exe(), *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, env={**os.environ, "CI": "true"}, timeout=300,
                          check=False)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("forged") / "org"
    shutil.copytree(DEMO, root)
    people = root / "hr" / "people.csv"
    text = people.read_text("utf-8")
    assert "Daniel,Okafor" in text
    # a quoted CSV cell may hold CR and LF: the export is valid, the name is hostile
    people.write_text(text.replace("Daniel,Okafor", f'"{HOSTILE_PERSON}",Okafor'), "utf-8")
    reg = root / "register.yaml"
    text = reg.read_text("utf-8")
    assert "name: Customer support chatbot\n" in text
    reg.write_text(text.replace("name: Customer support chatbot\n",
                                "name: " + json.dumps(HOSTILE_SUBJECT) + "\n"), "utf-8")
    out = tmp_path_factory.mktemp("out")
    args: list[object] = ["scan", "-c", root / "aimscheck.yaml", "--as-of", AS_OF]
    for f in FORMATS:
        args += ["-f", f, "-o", out / f"report.{f}"]
    res = run_cli(*args)
    assert res.returncode == 1, res.stderr
    got = {f: (out / f"report.{f}").read_bytes().decode("utf-8") for f in FORMATS}
    gate = run_cli("gate", "release", "-c", root / "aimscheck.yaml", "--as-of", AS_OF,
                   "--model", "support-bot-llm", "--version", "3")
    assert gate.returncode == 1, gate.stderr
    got["gate"] = gate.stdout
    got["stderr"] = res.stderr + gate.stderr
    return got


@pytest.mark.parametrize("fmt", [*FORMATS, "gate", "stderr"])
def test_no_raw_control_character_and_no_forged_line(outputs: dict[str, str], fmt: str
                                                     ) -> None:
    body = outputs[fmt]
    for ch in RAW:
        assert ch not in body, (fmt, repr(ch))
    for line in body.split("\n"):
        stripped = line.lstrip(" |-*>")
        assert not stripped.startswith(FORGED_LINE_STARTS), (fmt, line[:120])


@pytest.mark.parametrize("fmt", ["text", "html", "junit", "github", "gate"])
def test_the_hostile_name_is_shown_escaped(outputs: dict[str, str], fmt: str) -> None:
    assert SHOWN in outputs[fmt], fmt


def test_markdown_cell_folds_and_escapes(outputs: dict[str, str]) -> None:
    # a table cell folds whitespace (CR/LF become spaces), then the escapes are shown (and
    # Markdown-escaped, so they render as written)
    assert "Daniel\\\\x1b\\[2J PASS: forged ::notice::PASS forged\\\\u202e" in outputs["markdown"]


def test_junit_message_and_text_are_escaped(outputs: dict[str, str]) -> None:
    tree = ElementTree.fromstring(outputs["junit"].encode("utf-8"))
    texts = [*(e.get("message", "") for e in tree.iter("failure")),
             *(e.text or "" for e in tree.iter("failure"))]
    hit = [t for t in texts if "Daniel\\x1b" in t]
    assert hit  # the name reaches the message and the text, escaped
    for t in texts:
        assert "\n::notice::" not in t
        assert "\nPASS: " not in t
        assert "\rPASS" not in t


def test_sarif_messages_are_escaped(outputs: dict[str, str]) -> None:
    log = json.loads(outputs["sarif"])
    messages = [r["message"]["text"] for run in log["runs"] for r in run["results"]]
    assert any(SHOWN in m for m in messages)
    for m in messages:  # decoded by a viewer, still no control characters
        assert not any(ch in m for ch in (*RAW, "\n")), m[:120]


def test_github_annotations_cannot_start_a_command(outputs: dict[str, str]) -> None:
    lines = outputs["github"].splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    # the runner decodes %0A to a newline inside the annotation: the evidence never has one
    daniel = [line for line in lines if "Daniel" in line]
    assert daniel
    for line in daniel:
        assert "Daniel\\x1b[2J\\x0dPASS: forged\\x0a" in line
        assert "%0APASS" not in line
        assert "%0A::" not in line


def test_html_values_keep_no_line_breaks(outputs: dict[str, str]) -> None:
    html = outputs["html"]
    assert "chatbot\\x1b[32m\\x0d\\x0aPASS: all checks\\x0a::error::forged\\u2028x" in html

"""The ``github`` format against the workflow-command syntax as the Actions runner parses it.

``parse_v2`` is a line-for-line port of ``ActionCommand.TryParseV2`` with its
``UnescapeProperty``/``UnescapeData`` (actions/runner, src/Runner.Common/ActionCommand.cs):
the command is between the leading ``::`` and the next ``::``; properties are split on
``,`` and then on the first ``=``; the rest of the line is the data. Decoding replaces
``%0D``, ``%0A`` (and ``%3A``, ``%2C`` in properties) first and ``%25`` last.
"""

from __future__ import annotations

import re

import pytest

from checker.findings import Finding, OwnerRef, ScanResult
from checker.reporters.github import GithubReporter, escape_data, escape_property
from tests.conftest import REPO

COMMANDS = {"error", "warning", "notice"}
_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]
_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]


def _unescape(value: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        value = value.replace(replacement, token)
    return value


def parse_v2(message: str) -> tuple[str, dict[str, str], str] | None:
    message = message.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in COMMANDS:
        return None
    props: dict[str, str] = {}
    if space > 0:
        for prop in (p for p in info[space + 1:].strip().split(",") if p):
            pair = [x for x in prop.split("=", 1) if x]
            if len(pair) == 2:
                props[pair[0]] = _unescape(pair[1], _PROPERTY)
    return name, props, _unescape(message[end + 2:], _DATA)


NASTY = "a,b:c=d %0A %25 ::warning::injected\r\nsecond line, 100% :: end"


@pytest.fixture
def nasty_result(hostile_result: ScanResult) -> ScanResult:
    owner = OwnerRef(id="NW-9", name=f"Eve {NASTY}", email="eve@northwind.example",
                     via="primary")
    f = Finding(rule_id="AIMS-OWN-002", title="t", severity="medium", status="fail",
                target_kind="risk", target_id=f"R,1:{NASTY}", target_name="x",
                message=f"msg {NASTY}", owner=owner, evidence=("dir,with%odd=name.yaml:7",),
                remediation=f"fix {NASTY}")
    return hostile_result.model_copy(update={"findings": (*hostile_result.findings, f)})


def test_every_line_is_one_workflow_command_that_round_trips(nasty_result: ScanResult) -> None:
    text = GithubReporter().render(nasty_result)
    lines = text.splitlines()
    assert text.endswith("\n")
    shown = [f for f in nasty_result.findings if f.status in ("fail", "error", "warn")]
    assert len(lines) == len(shown) + 1  # + the verdict notice
    parsed = [parse_v2(line) for line in lines]
    bad = [ln for ln, p in zip(lines, parsed, strict=True) if p is None]
    assert not bad
    # nothing the finding says can start a second command on the line or a new line
    assert all(line.count("::") >= 2 and "\n" not in line and "\r" not in line
               for line in lines)
    nasty = next(p for p in parsed if p and NASTY in p[1].get("title", ""))
    name, props, data = nasty
    assert name == "warning"  # medium
    assert props["title"] == f"AIMS-OWN-002 risk/R,1:{NASTY} (medium)"
    assert props["line"] == "7"
    assert props["file"].endswith("dir,with%odd=name.yaml")
    # the evidence's CR/LF are shown as escapes (a name cannot start a line of the
    # annotation); the rule's remediation keeps its own line breaks
    shown = NASTY.replace("\r", "\\x0d").replace("\n", "\\x0a")
    assert data == (f"msg {shown} — owner: Eve {shown} <eve@northwind.example>\n"
                    f"Fix: fix {NASTY}")
    assert set(props) == {"file", "line", "title"}
    last = parsed[-1]
    assert last is not None
    assert last[0] == "notice"
    assert last[1]["title"] == "aimscheck FAIL"


def test_levels_follow_severity_and_status(demo_result: ScanResult) -> None:
    lines = GithubReporter().render(demo_result).splitlines()[:-1]
    shown = sorted((f for f in demo_result.findings if f.status in ("fail", "error", "warn")),
                   key=lambda f: f"{f.rule_id} {f.target}")
    by_title = {}
    for line in lines:
        p = parse_v2(line)
        assert p is not None
        by_title[p[1]["title"]] = p
    assert len(by_title) == len(shown)
    want = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}
    for f in shown:
        name, props, _ = by_title[f"{f.rule_id} {f.target} ({f.severity})"]
        expected = ("error" if f.status == "error" else
                    "warning" if f.status == "warn" else want[f.severity])
        assert name == expected, f
        # every annotation points at a file of the repository, relative to its root
        assert (REPO / props["file"]).is_file() or not (REPO / ".git").exists(), props
        assert int(props["line"]) >= 1


@pytest.mark.parametrize("value", ["", "plain", "%", "%25", "a:b,c", "\r\n", "%0A", "ü €"])
def test_escapes_invert_exactly(value: str) -> None:
    assert _unescape(escape_data(value), _DATA) == value
    assert _unescape(escape_property(value), _PROPERTY) == value
    assert not re.search(r"[\r\n]", escape_data(value))
    assert not re.search(r"[\r\n:,]", escape_property(value))

"""Checks and formats from a third-party distribution, found through entry points.

The distribution is real metadata on ``sys.path`` (a ``*.dist-info`` folder with
``entry_points.txt`` beside its module), put there with PYTHONPATH for the installed
``aimscheck`` command: exactly what ``pip install`` leaves behind.
"""

from __future__ import annotations

import json
import textwrap
import tomllib
from pathlib import Path

from checker.checks import check_registry
from checker.reporters import reporter_registry
from tests.conftest import AS_OF, REPO, Runner

PLUGIN = '''
"""A third party's aimscheck plugin: one check and one output format."""

from __future__ import annotations

from pydantic import Field

from checker.checks.base import Check, CheckArgs, EvalContext, Outcome, locator
from checker.evidence import Subject
from checker.findings import ScanResult
from checker.reporters.base import Reporter


class NameArgs(CheckArgs):
    """Arguments of name_shorter_than."""

    max_chars: int = Field(ge=1, description="Longest allowed subject name, in characters.")


class NameShorterThan(Check[Subject, NameArgs]):
    """The subject's name is at most ``max_chars`` characters long.

    Passes when it is. Fails when it is longer. Errors when: never.

    Example:
        applies_to: [ai_system]
        require:
          - name_shorter_than: {max_chars: 20}
    """

    needs = frozenset({"subject"})

    def evaluate(self, ctx: EvalContext, target: Subject) -> Outcome:
        n = len(target.name)
        if n <= self.args.max_chars:
            return Outcome("pass", f"name has {n} characters", (locator(target),))
        return Outcome("fail", f"name {target.name!r} has {n} characters, more than "
                       f"{self.args.max_chars}", (locator(target),))


class TallyReporter(Reporter):
    """One line per rule and status: the number of findings."""

    extension = "tally"

    def render(self, result: ScanResult) -> str:
        counts: dict[tuple[str, str], int] = {}
        for f in result.findings:
            counts[(f.rule_id, f.status)] = counts.get((f.rule_id, f.status), 0) + 1
        return "".join(f"TALLY {r} {s} {n}\\n" for (r, s), n in sorted(counts.items()))
'''

RULE = """\
id: ORG-NAM-001
title: AI system names are short enough for the dashboard
severity: low
references: {iso42001: ["5.3"]}
applies_to: [ai_system]
require:
  - name_shorter_than: {max_chars: 14}
finding_owner: [primary]
remediation: Give the AI system a shorter name in the register.
"""


def _install(site: Path, entry_points: str) -> dict[str, str]:
    site.mkdir(parents=True, exist_ok=True)
    (site / "aimscheck_tally.py").write_text(PLUGIN, "utf-8")
    dist = site / "aimscheck_tally-0.1.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: aimscheck-tally\n"
                                   "Version: 0.1\n", "utf-8")
    (dist / "entry_points.txt").write_text(textwrap.dedent(entry_points), "utf-8")
    return {"PYTHONPATH": str(site)}


GOOD = """\
    [aimscheck.checks]
    name_shorter_than = aimscheck_tally:NameShorterThan

    [aimscheck.reporters]
    tally = aimscheck_tally:TallyReporter
    """


def _org(demo_copy: Path) -> Path:
    pack = demo_copy.parent / "orgpack"
    pack.mkdir()
    (pack / "ORG-NAM-001.yaml").write_text(RULE, "utf-8")
    text = demo_copy.read_text("utf-8").replace("rule_packs: [iso42001]",
                                                "rule_packs: [iso42001, orgpack]")
    demo_copy.write_text(text, "utf-8")
    return demo_copy


def test_a_third_party_check_and_format_are_used_from_a_rule(
        run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    env = _install(tmp_path / "site", GOOD)
    cfg = _org(demo_copy)
    proc = run_cli("scan", "-c", cfg, "--as-of", AS_OF, "--format", "tally", env=env)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("TALLY ORG-NAM-001 ")]
    assert lines, proc.stdout
    assert {ln.split()[2] for ln in lines} <= {"pass", "fail"}
    out = run_cli("scan", "-c", cfg, "--as-of", AS_OF, "--format", "json", env=env)
    mine = [f for f in json.loads(out.stdout)["findings"] if f["rule_id"] == "ORG-NAM-001"]
    failing = [f for f in mine if f["status"] == "fail"]
    assert failing
    assert all("characters, more than 14" in f["message"] for f in failing)
    assert all(f["owner"]["name"] for f in failing)

    show = run_cli("rules", "show", "ORG-NAM-001", "-c", cfg, env=env)
    assert show.returncode == 0, show.stderr
    assert "name_shorter_than: The subject's name is at most" in show.stdout
    assert "max_chars (required): Longest allowed subject name, in characters." in show.stdout
    # without the distribution the rule names an unknown check: a rule error, not a pass
    bare = run_cli("rules", "validate", "-c", cfg)
    assert bare.returncode == 2
    assert "E201 unknown check 'name_shorter_than'" in bare.stderr


def test_a_broken_plugin_fails_closed_with_a_clear_diagnostic(
        run_cli: Runner, demo_copy: Path, tmp_path: Path) -> None:
    cfg = _org(demo_copy)
    env = _install(tmp_path / "site1", """\
        [aimscheck.checks]
        name_shorter_than = aimscheck_tally:NoSuchCheck
        """)
    proc = run_cli("scan", "-c", cfg, "--as-of", AS_OF, env=env)
    assert proc.returncode == 2
    assert ("E211 plugin 'name_shorter_than' (aimscheck_tally:NoSuchCheck) cannot be "
            "loaded: AttributeError") in proc.stderr
    env = _install(tmp_path / "site2", """\
        [aimscheck.checks]
        name_shorter_than = aimscheck_tally:NameShorterThan

        [aimscheck.reporters]
        tally = aimscheck_tally_gone:TallyReporter
        """)
    proc = run_cli("scan", "-c", cfg, "--as-of", AS_OF, "--format", "json", env=env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert ("E211 plugin 'tally' (aimscheck_tally_gone:TallyReporter) cannot be loaded: "
            "ModuleNotFoundError") in proc.stderr


def test_every_builtin_check_and_format_is_an_entry_point() -> None:
    eps = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["entry-points"]
    for group, registry in (("aimscheck.checks", check_registry),
                            ("aimscheck.reporters", reporter_registry)):
        listed = eps[group]
        for name, cls in registry.items():
            if cls.__module__.startswith("checker."):
                assert listed.get(name) == f"{cls.__module__}:{cls.__qualname__}", name
        assert all(v.startswith("checker.") for v in listed.values())

"""SARIF, JUnit, OSCAL and Markdown output checked by their real consumers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from lxml import etree
from trestle.oscal.assessment_results import AssessmentResults

from checker.findings import FAILING, ScanResult
from checker.reporters.junit import JUnitReporter
from checker.reporters.markdown import MarkdownReporter
from checker.reporters.oscal import OscalReporter
from checker.reporters.sarif import SarifReporter
from tests.conftest import REPO, SHARED_SCHEMAS

from .conftest import HOSTILE, JIRA_URL


def shared_schema(name: str) -> Path:
    path = SHARED_SCHEMAS / name
    if not path.exists():
        pytest.skip(f"{SHARED_SCHEMAS} is absent (the third-party schemas live beside the "
                    f"checkout, not in it), so {name} cannot be checked here")
    return path


# -- SARIF ---------------------------------------------------------------------------------

def test_sarif_validates_against_the_official_schema(hostile_result: ScanResult) -> None:
    schema = json.loads(shared_schema("sarif-schema-2.1.0.json").read_text("utf-8"))
    log = json.loads(SarifReporter().render(hostile_result))
    jsonschema.Draft4Validator(schema).validate(log)


def test_sarif_results_levels_locations_and_owners(demo_result: ScanResult) -> None:
    log = json.loads(SarifReporter().render(demo_result))
    run = log["runs"][0]
    failing = [f for f in demo_result.findings if f.status in FAILING]
    assert len(run["results"]) == len(failing) > 0
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {f.rule_id for f in failing}
    for r in rules.values():
        assert r["help"]["text"]
        assert "ISO/IEC 42001" in r["help"]["text"]
    level = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    by_key = {(f.rule_id, f.target): f for f in failing}
    for res in run["results"]:
        f = by_key[(res["ruleId"], res["locations"][0]["logicalLocations"][0]
                    ["fullyQualifiedName"])]
        assert res["level"] == level[f.severity]
        assert res["properties"]["owner"]["id"] == f.owner.id
        if f.deputy:
            assert res["properties"]["deputy"]["id"] == f.deputy.id
    # the missing-backup finding points at the AI system's entry in the register
    chatbot = next(r for r in run["results"] if r["ruleId"] == "AIMS-OWN-002")
    loc = chatbot["locations"][0]["physicalLocation"]
    row = next(m for m in demo_result.matrix if m.key == "ai_system/support-chatbot")
    # paths are relative to the repository root (the checkout), where the demo is a subfolder
    prefix = "fixtures/demo/" if (REPO / ".git").exists() else ""
    assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    assert (f'{loc["artifactLocation"]["uri"]}:{loc["region"]["startLine"]}'
            == prefix + row.locator)
    assert row.locator.startswith("register.yaml:")
    # a training finding still points at the subject's definition, not the person's row
    trn = [r for r in run["results"] if r["ruleId"] == "AIMS-TRN-001"]
    assert trn
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                       == prefix + "register.yaml" for r in trn)


# -- JUnit ---------------------------------------------------------------------------------

def test_junit_validates_against_the_jenkins_xsd_and_counts_match(
        demo_result: ScanResult, tmp_path: Path) -> None:
    xsd = etree.XMLSchema(etree.parse(str(shared_schema("junit-10.xsd"))))
    text = JUnitReporter().render(demo_result)
    out = tmp_path / "report.xml"
    out.write_text(text, "utf-8")
    doc = etree.parse(str(out))
    assert xsd.validate(doc), xsd.error_log
    cases = [c for suite in JUnitXml.fromfile(str(out)) for c in suite]
    kinds = {"fail": 0, "error": 0, "skipped": 0}
    for c in cases:
        for r in c.result:
            if isinstance(r, Failure):
                kinds["fail"] += 1
            elif isinstance(r, Error):
                kinds["error"] += 1
            elif isinstance(r, Skipped):
                kinds["skipped"] += 1
    s = demo_result.summary
    # passes are one test case per rule by default
    assert demo_result.passes
    assert s["pass"] > len(demo_result.passes)
    assert len(cases) == s["total"] - s["pass"] + len(demo_result.passes)
    assert kinds == {"fail": s["fail"], "error": s["error"],
                     "skipped": s["not_applicable"] + s["waived"]}
    passed = {c.name for suite in JUnitXml.fromfile(str(out)) for c in suite if not c.result}
    for g in demo_result.passes:
        assert f"{g.count} passing target{'s' if g.count != 1 else ''}" in passed


def test_junit_passes_full_has_one_case_per_finding(demo_result: ScanResult,
                                                    tmp_path: Path) -> None:
    xsd = etree.XMLSchema(etree.parse(str(shared_schema("junit-10.xsd"))))
    full = demo_result.model_copy(update={"passes_mode": "full"})
    out = tmp_path / "report.xml"
    out.write_text(JUnitReporter().render(full), "utf-8")
    assert xsd.validate(etree.parse(str(out))), xsd.error_log
    cases = [c for suite in JUnitXml.fromfile(str(out)) for c in suite]
    assert len(cases) == demo_result.summary["total"]
    assert sorted(f"{c.classname.removeprefix('aimscheck.')} {c.name}" for c in cases) == sorted(
        f"{f.rule_id} {f.target}" for f in full.all_findings())


def test_junit_reads_with_xunitparser(hostile_result: ScanResult) -> None:
    """A second, stricter parser: it merges every suite's properties and refuses repeats."""
    import io

    import xunitparser

    text = JUnitReporter().render(hostile_result)
    suite, outcome = xunitparser.parse(io.BytesIO(text.encode("utf-8")))
    s = hostile_result.summary
    assert outcome.testsRun == len(hostile_result.findings) + len(hostile_result.passes)
    assert len(outcome.failures) == sum(f.status == "fail" for f in hostile_result.findings)
    assert len(outcome.errors) == sum(f.status == "error" for f in hostile_result.findings)
    assert len(outcome.skipped) == s["not_applicable"] + s["waived"]
    owners = {k: v for k, v in suite.properties.items() if k.startswith("owner:")}
    assert owners["owner:AIMS-OWN-002:ai_system/support-chatbot"].startswith("Daniel Okafor")
    assert owners["owner:AIMS-RSK-001:risk/AIRISK-12"].startswith("Zoë Müller")


# -- OSCAL ---------------------------------------------------------------------------------

def test_oscal_loads_with_trestle(hostile_result: ScanResult) -> None:
    doc = json.loads(OscalReporter().render(hostile_result))
    ar = AssessmentResults.model_validate(doc["assessment-results"])
    res = ar.results[0]
    assert res.findings
    assert res.observations
    targets = {f.target.target_id: f.target.status.state.value for f in res.findings
               if f.target.status}
    assert targets["iso42001-5.3"] == "not-satisfied"
    assert all(t.startswith("iso42001-") for t in targets)
    parties = {p.uuid: p.name for p in ar.metadata.parties or []}
    responsible = {rp.role_id: rp.party_uuids for rp in ar.metadata.responsible_parties or []}
    assert set(responsible["finding-owner"]) <= set(parties)
    linked = [ev for o in res.observations for ev in (o.relevant_evidence or [])
              if ev.href == JIRA_URL]
    assert linked
    assert linked[0].description == "AIRISK-12"


def test_oscal_never_reports_a_partial_requirement_satisfied(demo_result: ScanResult) -> None:
    """``satisfied`` only for fully automated requirements whose checks all hold.

    Run on the demo as it is and on the demo with every finding turned into a pass: even
    then a partially automated id stays ``not-satisfied`` and names the manual evidence.
    """
    all_pass = demo_result.model_copy(update={"findings": tuple(
        f.model_copy(update={"status": "pass"}) for f in demo_result.findings)})
    coverage = {c.id: c for c in demo_result.coverage}
    for result in (demo_result, all_pass):
        doc = json.loads(OscalReporter().render(result))
        AssessmentResults.model_validate(doc["assessment-results"])
        findings = doc["assessment-results"]["results"][0]["findings"]
        assert findings
        for f in findings:
            ref = f["target"]["target-id"].removeprefix("iso42001-")
            state = f["target"]["status"]["state"]
            bad = "; " in f["description"] and " fail: " in f["description"]
            if coverage[ref].status == "automated" and not bad:
                assert state == "satisfied", ref
            else:
                assert state == "not-satisfied", ref
            if coverage[ref].status == "partial":
                assert coverage[ref].note in f["remarks"], ref
    states = {f["target"]["target-id"]: f["target"]["status"]
              for f in json.loads(OscalReporter().render(all_pass))["assessment-results"][
                  "results"][0]["findings"]}
    assert states["iso42001-9.3.1"] == {"state": "satisfied", "reason": "pass"}
    assert states["iso42001-A.7.2"] == {"state": "not-satisfied", "reason": "other"}


def test_oscal_is_byte_identical_across_runs(demo_result: ScanResult) -> None:
    a = OscalReporter().render(demo_result)
    b = OscalReporter().render(demo_result.model_copy(deep=True))
    assert a == b
    assert demo_result.as_of in a


# -- Markdown ------------------------------------------------------------------------------

def test_markdown_summary(hostile_result: ScanResult) -> None:
    md = MarkdownReporter().render(hostile_result)
    assert md.startswith("### ❌ aimscheck scan: FAIL")
    assert "| total | pass | fail |" in md
    # coverage: partial ids carry what the rules do not check
    assert "ISO/IEC 42001 coverage:" in md
    assert "| A.7.2 | partial |" in md
    # owners named; deputies too
    assert "Daniel Okafor" in md
    assert "Pedro Alves" in md
    # evidence markup is escaped: no raw HTML, and a '|' cannot break the table
    assert HOSTILE not in md
    assert "<b>" not in md
    assert "&lt;script&gt;alert\\(1\\)" not in md  # parentheses are not over-escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    row = next(line for line in md.splitlines() if "AIRISK-12" in line)
    assert len(re.findall(r"(?<!\\)\|", row)) == 9  # 8 cells: the escaped pipe split nothing
    assert "\\|" in row
    assert "\\*now\\*" in row
    # links only where a URL exists; the hostile javascript: URL never becomes a link
    assert f"[AIRISK-12]({JIRA_URL})" in md
    assert "javascript:" not in md
    assert len(md) < 65_000  # GitHub's comment limit

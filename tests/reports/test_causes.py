"""One fact, one line for people (issue 14): findings failing because of one fact share a cause.

The checks name the fact (an unknown or group owner, a leaver, a release nobody signed off,
an AI system nobody knows); the engine makes it the finding's ``cause`` key and picks the
fact's fix. Text, Markdown, HTML and the gate print the fact once with the rules it fails;
JSON and JUnit keep every finding with the shared key.
"""

from __future__ import annotations

import json
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from checker.causes import FACT_KINDS
from checker.config import load_config
from checker.findings import FAILING, Finding, ScanResult
from checker.reporters._gate import render_gate
from checker.reporters.html import HtmlReporter
from checker.reporters.junit import JUnitReporter
from checker.reporters.markdown import MarkdownReporter
from checker.reporters.text import TextReporter
from checker.run import ScanRequest, run
from checker.timeutil import parse_as_of
from tests.conftest import REPO

REGISTRY = REPO / "fixtures" / "registry-only"
AS_OF = "2026-11-30"

J_SMITH = "person.unknown:dataset/customer-transactions:j.smith@northwind.example"
GROUP = "person.not_individual:ai_system/churn-predictor:NW-9001"
FRAUD_GBM = "release.no_signoff:release/fraud-gbm:7"


def _by_cause(result: ScanResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for f in result.findings:
        if f.cause:
            out[f.cause].add(f.rule_id)
    return dict(out)


def _one(result: ScanResult, rule: str, target: str) -> Finding:
    [f] = [f for f in result.findings if f.rule_id == rule and f.target == target]
    return f


def test_demo_causes_group_the_rules_one_fact_fails(demo_result: ScanResult) -> None:
    causes = _by_cause(demo_result)
    assert causes[J_SMITH] == {"AIMS-IDN-001", "AIMS-OWN-003", "AIMS-OWN-004"}
    assert causes[GROUP] == {"AIMS-COV-001", "AIMS-OWN-003", "AIMS-OWN-004", "AIMS-TRN-001"}
    assert causes["person.terminated:risk/RSK-007:NW-1005"] == {"AIMS-COV-001",
                                                                "AIMS-OWN-004"}
    assert causes[FRAUD_GBM] == {"AIMS-REL-001", "AIMS-REL-002", "AIMS-REL-003",
                                 "AIMS-REL-004"}
    # a finding that fails for one more reason is not hidden under the fact
    cov = _one(demo_result, "AIMS-COV-001", "dataset/customer-transactions")
    assert cov.status == "fail"
    assert "on leave" in cov.message
    assert cov.cause is None
    # credit-risk-scorer:11 has an approval (by someone unauthorised): not "no sign-off"
    assert _one(demo_result, "AIMS-REL-002", "release/credit-risk-scorer:11").cause is None
    # only failing findings carry a cause
    assert all(f.status in FAILING for f in demo_result.findings if f.cause)


def test_remediation_is_chosen_by_the_cause(demo_result: ScanResult) -> None:
    unknown = _one(demo_result, "AIMS-OWN-003", "dataset/customer-transactions")
    assert unknown.remediation == FACT_KINDS["person.unknown"]
    assert "group" not in unknown.remediation
    assert "mailbox" not in unknown.remediation
    group = _one(demo_result, "AIMS-OWN-003", "ai_system/churn-predictor")
    assert group.remediation == FACT_KINDS["person.not_individual"]
    # a group owner's training finding is fixed by naming a person, not by a course
    trn = _one(demo_result, "AIMS-TRN-001", "ai_system/churn-predictor")
    assert "course" not in trn.remediation
    # without a cause, the rule's own remediation stands
    own2 = _one(demo_result, "AIMS-OWN-002", "ai_system/support-chatbot")
    assert own2.cause is None
    assert "backup owner" in own2.remediation


def test_text_report_names_each_fact_once(demo_result: ScanResult) -> None:
    text = TextReporter().render(demo_result)
    fact = "unknown person 'j.smith@northwind.example': not found in any people source"
    # the fact heads its group once (AIMS-COV-001 quotes it inside its own, longer message)
    assert text.count(f"dataset/customer-transactions: {fact}") == 1
    assert ("fails 3 rules: AIMS-IDN-001 (high), AIMS-OWN-003 (high, good practice), "
            "AIMS-OWN-004 (high)") in text
    # the grouped findings are not listed a second time on their own
    assert "AIMS-OWN-003 dataset/customer-transactions" not in text
    # the per-owner count still counts every finding
    assert "Rahul Nair <rahul.nair@northwind.example> — 4 findings" in text


def test_markdown_and_html_show_one_entry_per_fact(demo_result: ScanResult) -> None:
    md = MarkdownReporter().render(demo_result)
    rows = [x for x in md.splitlines() if "dataset/customer-transactions" in x]
    # one row for the fact (IDN/OWN-003/OWN-004), one for the coverage finding
    assert len(rows) == 2
    assert any("AIMS-IDN-001<br>AIMS-OWN-003 (good practice)<br>AIMS-OWN-004" in r
               for r in rows)
    html = HtmlReporter().render(demo_result)
    facts = re.findall(r'<tr class="fact" data-cause="([^"]+)"', html)
    shared = {c for c, rules in _by_cause(demo_result).items() if len(rules) > 1}
    assert sorted(facts) == sorted(shared)
    assert len(facts) == len(set(facts))
    # every failing finding keeps its one row (and its anchor) under its fact
    for f in demo_result.findings:
        if f.cause in shared:
            assert html.count(f'id="{f.finding_id}"') == 1
            row = re.search(r'<tr id="' + f.finding_id + r'"[^>]*>', html)
            assert row is not None
            assert 'class="in-fact"' in row.group(0)


def test_json_and_junit_keep_every_finding_with_the_key(demo_result: ScanResult) -> None:
    from checker.reporters.jsonout import JsonReporter

    data = json.loads(JsonReporter().render(demo_result))
    assert len(data["findings"]) == len(demo_result.findings)
    keyed = [f for f in data["findings"] if f["cause"] == J_SMITH]
    assert len(keyed) == 3
    assert all(f["cause_text"].startswith("unknown person 'j.smith@") for f in keyed)
    from checker.reporters.sarif import SarifReporter

    sarif = json.loads(SarifReporter().render(demo_result))
    shared = [r for r in sarif["runs"][0]["results"] if r["properties"].get("cause") == J_SMITH]
    assert len(shared) == 3
    xml = JUnitReporter().render(demo_result)
    for rule in ("AIMS-IDN-001", "AIMS-OWN-003", "AIMS-OWN-004"):
        assert (f'name="cause:{rule}:dataset/customer-transactions" value="{J_SMITH}"'
                in xml)


def test_gate_prints_the_fact_once(demo_result: ScanResult) -> None:
    loaded = load_config(REPO / "fixtures" / "demo" / "aimscheck.yaml")
    from checker.run import GateSpec

    res = run(ScanRequest(loaded=loaded, as_of=parse_as_of(AS_OF), mode="gate",
                          gate=GateSpec(model="fraud-gbm", version="7"))).result
    out = render_gate(res)
    assert res.exit_code == 1
    failing = out.split("Failing:\n", 1)[1].splitlines()[:-1]
    assert len(failing) == 1, out
    assert "fraud-gbm:7 has no approval that counts before the deployment" in failing[0]
    assert failing[0].endswith("AIMS-REL-001, AIMS-REL-002, AIMS-REL-003, AIMS-REL-004")
    assert out.count("reviews this exact version") == 1


def _registry_result(folder: Path) -> ScanResult:
    return run(ScanRequest(loaded=load_config(folder / "aimscheck.yaml"),
                           as_of=parse_as_of(AS_OF))).result


def test_registry_only_release_without_sign_off_is_one_cause() -> None:
    result = _registry_result(REGISTRY)
    causes = _by_cause(result)
    assert causes == {"release.no_signoff:release/credit-scorer:1": {
        "AIMS-REL-001", "AIMS-REL-002", "AIMS-REL-003", "AIMS-REL-004"}}
    [text] = {f.cause_text for f in result.findings if f.cause}
    assert text == "credit-scorer:1 has no approval that counts before the deployment: " \
                   "none is recorded"


@pytest.fixture
def misnamed(tmp_path: Path) -> Path:
    """registry-only with incident INC-101 naming a model nobody has ('Credit-Scorr')."""
    folder = tmp_path / "registry-only"
    shutil.copytree(REGISTRY, folder)
    page = folder / "jira" / "search-p1.json"
    text = page.read_text("utf-8")
    assert text.count('"Credit-Scorer"') == 1
    page.write_text(text.replace('"Credit-Scorer"', '"Credit-Scorr"'), "utf-8")
    return folder


def test_unresolved_reference_is_one_cause_for_link_and_escalation(misnamed: Path) -> None:
    result = _registry_result(misnamed)
    key = "reference.unresolved:incident/INC-101:credit-scorr"
    assert _by_cause(result)[key] == {"AIMS-LNK-001", "AIMS-INC-003"}
    inc = _one(result, "AIMS-INC-003", "incident/INC-101")
    assert inc.remediation == FACT_KINDS["reference.unresolved"]
    text = TextReporter().render(result)
    assert text.count("names AI system or model 'Credit-Scorr', which no source knows") == 1
    assert "fails 2 rules: AIMS-INC-003 (high), AIMS-LNK-001 (high)" in text


def test_markdown_never_cuts_findings(demo_result: ScanResult) -> None:
    """Beyond 50 rows the rest is folded, not dropped: every failing finding is listed."""
    extra = tuple(f.model_copy(update={"target_id": f"{f.target_id}-{i}", "cause": None})
                  for i in range(3) for f in demo_result.findings if f.status == "fail")
    result = demo_result.model_copy(update={"findings": (*demo_result.findings, *extra)})
    md = MarkdownReporter().render(result)
    fails = [f for f in result.findings if f.status in FAILING]
    assert len(fails) > 150
    assert "<details><summary>" in md
    assert "more failing findings" in md
    assert "… and" not in md
    for f in fails:
        assert f"| {f.target} |" in md.replace("\\_", "_").replace("\\-", "-"), f.target

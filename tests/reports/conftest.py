"""Fixtures for the report tests: the demo scan, once, plus a finding with hostile text."""

from __future__ import annotations

import pytest

from checker.config import load_config
from checker.findings import Finding, OwnerRef, ScanResult
from checker.run import ScanRequest, run
from checker.timeutil import parse_as_of
from tests.conftest import AS_OF, DEMO

HOSTILE = "<script>alert(1)</script>"
JIRA_URL = "https://jira.example.com/browse/AIRISK-12"


@pytest.fixture(scope="session")
def demo_result() -> ScanResult:
    """The demo organisation scanned as of the demo date."""
    loaded = load_config(DEMO / "aimscheck.yaml")
    return run(ScanRequest(loaded=loaded, as_of=parse_as_of(AS_OF))).result


@pytest.fixture(scope="session")
def hostile_result(demo_result: ScanResult) -> ScanResult:
    """The demo result plus a failing finding on a Jira risk whose summary is markup."""
    owner = OwnerRef(id="NW-1003", name="Zoë Müller | <b>ops</b>",
                     email="zoe.mueller@northwind.example", via="primary")
    f = Finding(rule_id="AIMS-RSK-001", title="Risks are reviewed on cadence", severity="high",
                status="fail", target_kind="risk", target_id="AIRISK-12", target_name=HOSTILE,
                message=f"risk {HOSTILE} | was never reviewed *now*", owner=owner,
                evidence=("AIRISK-12", "register.yaml:117"),
                references={"iso42001": ["6.1.2", "8.2"]},
                remediation="Review the risk.", rule_file="rules/iso42001/AIMS-RSK-001.yaml")
    return demo_result.model_copy(update={
        "findings": (*demo_result.findings, f),
        "links": {**demo_result.links, "AIRISK-12": JIRA_URL,
                  "evil": "javascript:alert(1)"},
    })

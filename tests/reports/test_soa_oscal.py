"""The SoA as an OSCAL component-definition (issue 21): validates in compliance-trestle, and
``satisfied`` only for an applicable control rules decide fully and that passes."""

from __future__ import annotations

import json
from typing import Any

from trestle.oscal.component import ComponentDefinition

from checker.config import load_config
from checker.findings import ScanResult
from checker.iso42001 import ANNEX_A
from checker.soa import SoaFile, build_soa, load_soa, render_soa
from tests.conftest import AS_OF, DEMO, Runner


def _decisions() -> SoaFile:
    loaded = load_config(DEMO / "aimscheck.yaml")
    assert loaded.config.soa
    return load_soa(loaded.base_dir / loaded.config.soa)


def _requirements(result: ScanResult) -> dict[str, dict[str, Any]]:
    doc = json.loads(render_soa(build_soa(result, _decisions()), result, "oscal"))
    cd = ComponentDefinition.model_validate(doc["component-definition"])
    [component] = cd.components or []
    [impl] = component.control_implementations or []
    assert len(impl.implemented_requirements) == len(ANNEX_A)
    out = {}
    for req in doc["component-definition"]["components"][0]["control-implementations"][0][
            "implemented-requirements"]:
        props: dict[str, list[str]] = {}
        for p in req["props"]:
            props.setdefault(p["name"], []).append(p["value"])
        out[req["control-id"].removeprefix("iso42001-")] = {**req, "p": props}
    return out


def _with(result: ScanResult, *, automated: set[str], all_pass: bool) -> ScanResult:
    coverage = tuple(c.model_copy(update={"status": "automated", "note": ""})
                     if c.id in automated else c for c in result.coverage)
    findings = tuple(f.model_copy(update={"status": "pass"}) if all_pass else f
                     for f in result.findings)
    return result.model_copy(update={"coverage": coverage, "findings": findings})


def test_demo_soa_oscal_validates_and_claims_nothing_partial(demo_result: ScanResult) -> None:
    reqs = _requirements(demo_result)
    assert list(reqs) == list(ANNEX_A)
    cov = {c.id: c for c in demo_result.coverage}
    for cid, req in reqs.items():
        [state] = req["p"]["assessment"]
        if state == "satisfied":
            assert cov[cid].status == "automated", cid
    # the control owner is a party named as the responsible role
    a625 = reqs["A.6.2.5"]
    assert a625["responsible-roles"][0]["role-id"] == "control-owner"
    assert "deployment plan" in a625["remarks"]
    assert a625["p"]["checks-failed"] != ["0"]
    assert reqs["A.10.4"]["p"]["applicable"] == ["undecided"]


def test_satisfied_only_for_fully_automated_and_passing(demo_result: ScanResult) -> None:
    """Even with every finding passing, a partial control is never satisfied."""
    everything_passes = _with(demo_result, automated={"A.7.2"}, all_pass=True)
    reqs = _requirements(everything_passes)
    assert reqs["A.7.2"]["p"]["assessment"] == ["satisfied"]
    assert reqs["A.7.2"]["p"]["implementation-status"] == ["implemented"]
    cov = {c.id: c for c in everything_passes.coverage}
    partial = [cid for cid in reqs if cov.get(cid) is not None and cov[cid].status == "partial"]
    assert partial
    for cid in partial:
        assert reqs[cid]["p"]["assessment"] == ["not-satisfied"], cid
    # automated but failing: not satisfied
    failing = _requirements(_with(demo_result, automated={"A.6.2.5"}, all_pass=False))
    assert failing["A.6.2.5"]["p"]["assessment"] == ["not-satisfied"]


def test_soa_command_writes_oscal(run_cli: Runner) -> None:
    proc = run_cli("soa", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, "-f", "oscal")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    ComponentDefinition.model_validate(doc["component-definition"])

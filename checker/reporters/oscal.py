"""OSCAL 1.1 assessment-results for GRC platforms.

One result for the scan. Every evaluated finding (except ``not_applicable``) becomes an
observation with its evidence locators as ``relevant-evidence``; every ISO/IEC 42001
clause or control a rule cites becomes an OSCAL finding whose target is that objective
(``iso42001-<id>``), ``satisfied`` only when the requirement is fully automated and all
its observations hold; a partially automated one is ``not-satisfied`` (reason ``other``)
with remarks naming the manual evidence still required. Finding owners and
deputies are parties, listed as responsible parties and linked from each observation.

Byte-identical across runs: UUIDs are uuid5 of stable content, timestamps are the as-of.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from typing import Any

from checker.findings import FAILING, CoverageRow, Finding, OwnerRef, ScanResult

from .base import Reporter, register_reporter

__all__ = ["OSCAL_VERSION", "OscalReporter"]

OSCAL_VERSION = "1.1.2"
NS = "https://aimscheck.dev/ns/oscal"
_ROOT = uuid.uuid5(uuid.NAMESPACE_URL, "https://aimscheck.dev/oscal")


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_ROOT, "\x1f".join(parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value}


def _objective(ref: str) -> str:
    return f"iso42001-{ref}"


def _party(o: OwnerRef) -> dict[str, Any]:
    p: dict[str, Any] = {"uuid": _uuid("party", o.id), "type": "person", "name": o.name,
                         "props": [_prop("person-id", o.id)]}
    if o.email:
        p["email-addresses"] = [o.email]
    return p


def _observation(f: Finding, result: ScanResult, tool_uuid: str) -> dict[str, Any]:
    props = [_prop("rule-id", f.rule_id), _prop("status", f.status),
             _prop("severity", f.severity), _prop("target", f.target),
             _prop("finding-owner", _uuid("party", f.owner.id))]
    if f.deputy is not None:
        props.append(_prop("deputy", _uuid("party", f.deputy.id)))
    props += [_prop("iso42001", ref) for ref in f.references.get("iso42001", [])]
    evidence = []
    for loc in f.evidence:
        ev: dict[str, Any] = {"description": loc}
        url = result.links.get(loc)
        if url:
            ev["href"] = url
        evidence.append(ev)
    obs: dict[str, Any] = {
        "uuid": _uuid("observation", f.rule_id, f.target),
        "title": f"{f.rule_id} {f.target}: {f.status}",
        "description": f.message,
        "props": props,
        "links": [{"href": f"#{_uuid('party', f.owner.id)}", "rel": "finding-owner"}],
        "methods": ["TEST"],
        "types": ["finding"] if f.status in FAILING else ["control-objective"],
        "origins": [{"actors": [{"type": "tool", "actor-uuid": tool_uuid}]}],
        "collected": result.as_of,
    }
    if evidence:
        obs["relevant-evidence"] = evidence
    if f.status in FAILING and f.remediation:
        obs["remarks"] = f"Remediation: {f.remediation}"
    return obs


def _target_status(row: CoverageRow | None, bad: list[Finding]) -> dict[str, str]:
    """``satisfied`` only for a fully automated requirement whose checks all hold.

    A partially automated requirement is never reported satisfied: its automated part may
    hold, but what the rules do not check still needs manual evidence.
    """
    if bad:
        return {"state": "not-satisfied", "reason": "fail"}
    if row is not None and row.status == "automated":
        return {"state": "satisfied", "reason": "pass"}
    return {"state": "not-satisfied", "reason": "other"}


@register_reporter("oscal")
class OscalReporter(Reporter):
    """The scan as an OSCAL assessment-results document (JSON)."""

    extension = "json"

    def render(self, result: ScanResult) -> str:
        """Build the document."""
        base = (result.organisation, result.as_of, result.mode)
        tool_uuid = _uuid("tool", "aimscheck")
        considered = sorted((f for f in result.all_findings() if f.status != "not_applicable"),
                            key=lambda f: (f.rule_id, f.target))
        observations = [_observation(f, result, tool_uuid) for f in considered]
        owners: dict[str, OwnerRef] = {}
        deputies: dict[str, OwnerRef] = {}
        by_ref: dict[str, list[Finding]] = defaultdict(list)
        for f in considered:
            owners.setdefault(f.owner.id, f.owner)
            if f.deputy is not None:
                deputies.setdefault(f.deputy.id, f.deputy)
            for ref in f.references.get("iso42001", []):
                by_ref[ref].append(f)
        rows = {c.id: c for c in result.coverage}
        order = {c.id: i for i, c in enumerate(result.coverage)}
        findings = []
        for ref in sorted(by_ref, key=lambda r: (order.get(r, len(order)), r)):
            fs = by_ref[ref]
            bad = [f for f in fs if f.status in FAILING]
            row = rows.get(ref)
            finding: dict[str, Any] = {
                "uuid": _uuid("finding", ref),
                "title": f"ISO/IEC 42001 {ref} {row.title if row else ''}".strip(),
                "description": f"{len(fs) - len(bad)} of {len(fs)} checks hold"
                               + (f"; {len(bad)} fail: " + ", ".join(
                                   f"{f.rule_id} {f.target}" for f in bad) if bad else "."),
                "props": [_prop("iso42001", ref),
                          _prop("coverage", row.status if row else "partial")],
                "target": {"type": "objective-id", "target-id": _objective(ref),
                           "status": _target_status(row, bad)},
                "related-observations": [
                    {"observation-uuid": _uuid("observation", f.rule_id, f.target)}
                    for f in fs],
            }
            if row is not None and row.status != "automated":
                finding["remarks"] = (
                    "Only part of this requirement is decided by rules (the automated part "
                    f"is described above). Manual evidence still required: {row.note}."
                    if row.note else "Manual evidence is still required.")
            if bad:
                finding["props"] += [_prop("finding-owner", _uuid("party", pid)) for pid in
                                     sorted({f.owner.id for f in bad})]
            findings.append(finding)
        people = {**deputies, **owners}
        parties = [_party(people[k]) for k in sorted(people)]
        responsible = [{"role-id": "finding-owner",
                        "party-uuids": [_uuid("party", k) for k in sorted(owners)]}]
        if deputies:
            responsible.append({"role-id": "deputy",
                                "party-uuids": [_uuid("party", k) for k in sorted(deputies)]})
        controls = [{"control-id": _objective(c.id)} for c in result.coverage
                    if c.status != "manual"] or [{"control-id": _objective(r)}
                                                 for r in sorted(by_ref)]
        doc: dict[str, Any] = {"assessment-results": {
            "uuid": _uuid("assessment-results", *base),
            "metadata": {
                "title": f"aimscheck ISO/IEC 42001 accountability assessment: "
                         f"{result.organisation}",
                "published": result.as_of,
                "last-modified": result.as_of,
                "version": result.tool_version,
                "oscal-version": OSCAL_VERSION,
                "roles": [{"id": "finding-owner", "title": "Finding owner",
                           "description": "The named individual who must act on a finding."},
                          {"id": "deputy", "title": "Deputy",
                           "description": "Who acts when the finding owner cannot."}],
                "parties": parties,
                "responsible-parties": responsible,
                "props": [_prop("organisation", result.organisation),
                          _prop("as-of", result.as_of)],
            },
            "import-ap": {"href": "urn:aimscheck:rule-packs:" + ",".join(result.rule_packs),
                          "remarks": "aimscheck rules stand in for the assessment plan."},
            "results": [{
                "uuid": _uuid("result", *base),
                "title": f"aimscheck {result.mode} as of {result.as_of}",
                "description": f"{result.summary.get('total', 0)} findings; "
                               f"{result.summary.get('failing', 0)} failing; "
                               f"exit code {result.exit_code}.",
                "start": result.as_of,
                "end": result.as_of,
                "props": [_prop("exit-code", str(result.exit_code)),
                          _prop("fail-on", result.fail_on)],
                "reviewed-controls": {"control-selections": [{"include-controls": controls}]},
                "observations": observations,
                "findings": findings,
            }],
        }}
        if not parties:
            del doc["assessment-results"]["metadata"]["parties"]
            del doc["assessment-results"]["metadata"]["responsible-parties"]
        res = doc["assessment-results"]["results"][0]
        for key in ("observations", "findings"):
            if not res[key]:
                del res[key]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One result per failing finding (``fail`` or ``error``). The level comes from the severity
(critical/high → error, medium → warning, low → note). The location is where the subject
is defined — the first ``path:line`` evidence locator, e.g. the register entry — else the
rule file. Evidence paths are relative to the config file's folder (uriBaseId
``CONFIGROOT``); rule files to the rule pack's root (``RULEROOT``). The finding owner and
deputy are in the result's ``properties``.
"""

from __future__ import annotations

import json
from typing import Any

from checker.findings import Finding, OwnerRef, ScanResult

from ._common import definition_site, failing, group_by_rule, who
from .base import Reporter, register_reporter

__all__ = ["SarifReporter"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
_SECURITY_SEVERITY = {"critical": "9.0", "high": "7.0", "medium": "5.0", "low": "2.0"}


def _owner(o: OwnerRef | None) -> dict[str, Any] | None:
    if o is None:
        return None
    d: dict[str, Any] = {"id": o.id, "name": o.name, "via": o.via}
    if o.email:
        d["email"] = o.email
    return d


def _rule(f: Finding) -> dict[str, Any]:
    refs = [f"ISO/IEC 42001 {x}" for x in f.references.get("iso42001", [])]
    refs += [f"{fw} {x}" for fw, ids in sorted(f.references.items()) if fw != "iso42001"
             for x in ids]
    help_text = f.remediation + ("\n\nReferences: " + "; ".join(refs) if refs else "")
    return {
        "id": f.rule_id,
        "name": f.rule_id.replace("-", ""),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.title},
        "help": {"text": help_text,
                 "markdown": f"**Fix:** {f.remediation}"
                             + ("\n\n**References:** " + "; ".join(refs) if refs else "")},
        "defaultConfiguration": {"level": _LEVEL[f.severity]},
        "properties": {"tags": ["iso42001", "accountability", *f.references.get("iso42001", [])],
                       "severity": f.severity, "references": f.references,
                       "security-severity": _SECURITY_SEVERITY[f.severity]},
    }


def _location(f: Finding, result: ScanResult) -> dict[str, Any]:
    site = definition_site(f, result)
    if site is not None:
        phys: dict[str, Any] = {"artifactLocation": {"uri": site[0], "uriBaseId": "CONFIGROOT"},
                                "region": {"startLine": site[1]}}
    else:
        phys = {"artifactLocation": {"uri": f.rule_file or f"{f.rule_id}.yaml",
                                     "uriBaseId": "RULEROOT"},
                "region": {"startLine": 1}}
    return {"physicalLocation": phys,
            "logicalLocations": [{"name": f.target_id, "fullyQualifiedName": f.target,
                                  "kind": f.target_kind}]}


@register_reporter("sarif")
class SarifReporter(Reporter):
    """Failing findings as a SARIF 2.1.0 log."""

    extension = "sarif"

    def render(self, result: ScanResult) -> str:
        """Build the log."""
        fails = failing(result)
        by_rule = group_by_rule(fails)
        rules = [_rule(items[0]) for items in by_rule.values()]
        index = {rid: i for i, rid in enumerate(by_rule)}
        results = []
        for f in sorted(fails, key=lambda x: (x.rule_id, x.target)):
            props: dict[str, Any] = {"status": f.status, "severity": f.severity,
                                     "owner": _owner(f.owner), "evidence": list(f.evidence)}
            if f.deputy is not None:
                props["deputy"] = _owner(f.deputy)
            text = f"{f.message} — owner: {who(f.owner)}"
            if f.deputy is not None:
                text += f"; deputy: {who(f.deputy)}"
            results.append({
                "ruleId": f.rule_id, "ruleIndex": index[f.rule_id], "level": _LEVEL[f.severity],
                "kind": "fail",
                "message": {"text": text},
                "locations": [_location(f, result)],
                "partialFingerprints": {"aimscheckTarget/v1": f"{f.rule_id}:{f.target}"},
                "properties": props,
            })
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "aimscheck", "version": result.tool_version,
                                    "semanticVersion": result.tool_version,
                                    "informationUri": "https://aimscheck.dev/",
                                    "rules": rules}},
                "originalUriBaseIds": {
                    "CONFIGROOT": {"description": {
                        "text": "The folder of the aimscheck config file (evidence paths)."}},
                    "RULEROOT": {"description": {
                        "text": "The root the rule files are listed relative to."}},
                },
                "invocations": [{"executionSuccessful": result.exit_code in (0, 1),
                                 "exitCode": result.exit_code,
                                 "properties": {"asOf": result.as_of,
                                                "organisation": result.organisation}}],
                "results": results,
                "properties": {"summary": result.summary},
            }],
        }
        return json.dumps(log, indent=2, ensure_ascii=False) + "\n"

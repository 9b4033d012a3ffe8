"""SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One result per failing finding (``fail`` or ``error``), and one per waived finding with a
``suppressions`` entry (the waiver: id, approver, expiry, reason) so code scanning shows it
as accepted rather than open. The level comes from the severity (critical/high → error,
medium → warning, low → note). The location is where the subject is defined — the first
``path:line`` evidence locator, e.g. the register entry — else the config file. Paths are
relative to the repository root (uriBaseId ``%SRCROOT%``), which is ``--sarif-root`` or the
git work tree holding the config (code-scanning services resolve paths against it); outside
a repository they are relative to the config folder. The finding owner and deputy are in
the result's ``properties``. ``automationDetails.id`` is ``aimscheck/<scan|gate>/<as-of>``
(category ``aimscheck/<scan|gate>``). Each rule of the built-in pack has a ``helpUri`` to
its rule file in the source repository at this version's tag.
"""

from __future__ import annotations

import json
import re
from typing import Any

from checker import SOURCE_URL
from checker.findings import Finding, OwnerRef, ScanResult
from checker.severity import Severity

from ._common import (
    config_path,
    definition_site,
    failing,
    group_by_rule,
    neutralise,
    repo_path,
    who,
)
from .base import Reporter, register_reporter

__all__ = ["SarifReporter"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL: dict[Severity, str] = {Severity.CRITICAL: "error", Severity.HIGH: "error",
                               Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY: dict[Severity, str] = {Severity.CRITICAL: "9.0", Severity.HIGH: "7.0",
                                           Severity.MEDIUM: "5.0", Severity.LOW: "2.0"}


def _owner(o: OwnerRef | None) -> dict[str, Any] | None:
    if o is None:
        return None
    d: dict[str, Any] = {"id": o.id, "name": neutralise(o.name), "via": o.via}
    if o.email:
        d["email"] = o.email
    return d


_BUILTIN_RULE = re.compile(r"(?:^|/)iso42001/(?P<id>[A-Z0-9-]+)\.yaml$")


def help_uri(f: Finding, version: str) -> str | None:
    """The rule file of a built-in rule in the source repository, at the version's tag."""
    m = _BUILTIN_RULE.search(f.rule_file.replace("\\", "/"))
    if m is None or m["id"] != f.rule_id:
        return None
    return f"{SOURCE_URL}/blob/v{version}/rules/iso42001/{f.rule_id}.yaml"


def _rule(f: Finding, version: str) -> dict[str, Any]:
    refs = [f"ISO/IEC 42001 {x}" for x in f.references.get("iso42001", [])]
    refs += [f"{fw} {x}" for fw, ids in sorted(f.references.items()) if fw != "iso42001"
             for x in ids]
    help_text = f.remediation + ("\n\nReferences: " + "; ".join(refs) if refs else "")
    rule: dict[str, Any] = {
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
    uri = help_uri(f, version)
    if uri:
        rule["helpUri"] = uri
    return rule


def _location(f: Finding, result: ScanResult) -> dict[str, Any]:
    site = definition_site(f, result)
    uri, line = (repo_path(result, site[0]), site[1]) if site is not None else (
        config_path(result) or "aimscheck.yaml", 1)
    phys: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": line}}
    return {"physicalLocation": phys,
            "logicalLocations": [{"name": f.target_id, "fullyQualifiedName": f.target,
                                  "kind": f.target_kind}]}


def _suppression(f: Finding) -> dict[str, Any]:
    """A waived finding: accepted by an approved waiver (``external``: outside the code)."""
    w = f.waiver
    if w is None:  # a waived finding always carries its waiver; stay valid regardless
        return {"kind": "external", "status": "accepted", "justification": "waived"}
    return {"kind": "external", "status": "accepted",
            "justification": f"{w.id}: {w.reason} (approved by {w.approved_by}, "
                             f"{w.start} to {w.expiry}; risk acceptance {w.risk_acceptance})",
            "properties": {"waiver": w.id, "approvedBy": w.approved_by,
                           "requestedBy": w.requested_by, "expiry": w.expiry}}


@register_reporter("sarif")
class SarifReporter(Reporter):
    """Failing findings as a SARIF 2.1.0 log."""

    extension = "sarif"

    def render(self, result: ScanResult) -> str:
        """Build the log."""
        waived = sorted((f for f in result.findings if f.status == "waived"),
                        key=lambda x: (-x.severity.rank, x.rule_id, x.target))
        shown = failing(result) + waived
        by_rule = group_by_rule(shown)
        rules = [_rule(items[0], result.tool_version) for items in by_rule.values()]
        index = {rid: i for i, rid in enumerate(by_rule)}
        results = []
        for f in sorted(shown, key=lambda x: (x.rule_id, x.target)):
            props: dict[str, Any] = {"status": f.status, "severity": f.severity,
                                     "owner": _owner(f.owner), "evidence": list(f.evidence)}
            if f.deputy is not None:
                props["deputy"] = _owner(f.deputy)
            if f.cause:  # findings failing because of one fact share it (causes.py)
                props["cause"] = f.cause
            if f.rule_file:  # named relative to its pack: never a path of this machine
                props["ruleFile"] = "/".join(f.rule_file.replace("\\", "/").split("/")[-2:])
            # plain text a viewer shows as it is: the evidence's CR, LF and ESC as escapes
            text = neutralise(f"{f.message} — owner: {who(f.owner)}")
            if f.deputy is not None:
                text += neutralise(f"; deputy: {who(f.deputy)}")
            res: dict[str, Any] = {
                "ruleId": f.rule_id, "ruleIndex": index[f.rule_id], "level": _LEVEL[f.severity],
                "kind": "fail",
                "message": {"text": text},
                "locations": [_location(f, result)],
                "partialFingerprints": {"aimscheckTarget/v1": f"{f.rule_id}:{f.target}"},
                "properties": props,
            }
            if f.status == "waived":
                res["suppressions"] = [_suppression(f)]
            results.append(res)
        log = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {"name": "aimscheck", "version": result.tool_version,
                                    "semanticVersion": result.tool_version,
                                    "informationUri": "https://aimscheck.dev/",
                                    "rules": rules}},
                "automationDetails": {"id": f"aimscheck/{result.mode}/{result.as_of}"},
                "originalUriBaseIds": {
                    "%SRCROOT%": {"description": {
                        "text": "The repository root (--sarif-root, or the git work tree "
                                "of the config file; else the config file's folder)."}},
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

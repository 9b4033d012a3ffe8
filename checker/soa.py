"""The Statement of Applicability (ISO/IEC 42001 6.1.3) from decisions and evidence.

The organisation decides, per Annex A control, whether it applies and why (a SoA file,
``soa:`` in ``aimscheck.yaml``); aimscheck adds what the evidence shows: the named control
owner (from the register's control the decision points at), the rules that check the
control and their results on the as-of date, and — kept apart — the manual evidence still
required and where it lives. All 38 controls are listed; a control with no decision is an
``undecided`` gap, never silently applicable.

File format (every key but ``applicable`` optional)::

    controls:
      A.6.2.5:
        applicable: true
        justification: Models we deploy change customer decisions.
        basis: risk                 # risk | legal | contract | business | good_practice
        link: RSK-CHAT-01           # the risk or requirement that makes it applicable
        control: CTL-01             # the register control implementing it (its owner)
        manual_evidence: Confluence AIMS/Release-process (deployment plan template)
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import pydantic_diagnostics
from .errors import ConfigError
from .findings import FAILING, ScanResult
from .iso42001 import ANNEX_A
from .registry import did_you_mean
from .yamlsrc import load_yaml_file

__all__ = [
    "SoaDecision",
    "SoaFile",
    "SoaRow",
    "build_soa",
    "load_soa",
    "oscal_state",
    "render_soa",
]

Basis = Literal["risk", "legal", "contract", "business", "good_practice"]
Implementation = Literal["excluded", "undecided", "implemented", "partly_verified",
                         "gaps_found", "manual_evidence_required"]

_IMPL_TEXT: dict[str, str] = {
    "excluded": "excluded (not applicable)",
    "undecided": "undecided — no applicability decision recorded",
    "implemented": "implemented — verified by rules",
    "partly_verified": "partly verified by rules — manual evidence still required",
    "gaps_found": "gaps found by rules",
    "manual_evidence_required": "manual evidence required — no rule checks it",
}


class SoaDecision(BaseModel):
    """The organisation's decision on one Annex A control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    applicable: bool = Field(description="Whether the control applies to the organisation.")
    justification: str = Field(
        min_length=1, description="Why it is included or excluded (6.1.3 requires one).")
    basis: Basis | None = Field(
        default=None, description="What makes it applicable: a risk, a legal or contract "
        "requirement, a business need or good practice.")
    link: str | None = Field(
        default=None, description="The risk id or requirement reference behind the decision.")
    control: str | None = Field(
        default=None, description="The register control (subject of kind 'control') that "
        "implements it; its primary owner is the control owner.")
    manual_evidence: str | None = Field(
        default=None, description="Where the manual evidence for what rules do not check "
        "lives (document, page, system).")


class SoaFile(BaseModel):
    """A Statement of Applicability decisions file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    controls: dict[str, SoaDecision] = Field(default_factory=dict)


def load_soa(path: Path) -> SoaFile:
    """Load and validate a SoA file; every problem is reported with ``file:line``."""
    located, diags = load_yaml_file(path)
    if located is None:
        raise ConfigError(diags)
    if not isinstance(located.data, dict):
        raise ConfigError(located.diag((), "E160", "a SoA file is a mapping with 'controls:'",
                                       "see 'aimscheck soa --help' for the format"))
    raw = located.data.get("controls")
    bad = [located.diag(("controls", cid), "E161", f"{cid!r} is not an ISO/IEC 42001 Annex A "
                        "control", did_you_mean(str(cid), list(ANNEX_A))
                        or "controls are A.2.2 … A.10.4 (objectives such as A.6.1.1 are not "
                        "controls)", key=True)
           for cid in (raw if isinstance(raw, dict) else {}) if cid not in ANNEX_A]
    try:
        data = SoaFile.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(sorted([*bad, *pydantic_diagnostics(exc, located, ())])) from None
    if bad:
        raise ConfigError(sorted(bad))
    return data


@dataclass(frozen=True)
class SoaRow:
    """One Annex A control in the Statement of Applicability."""

    id: str
    title: str
    applicable: str  # yes | no | undecided
    justification: str
    basis: str
    link: str
    implementation: str
    owner: str
    owner_role_holder: str
    rules: tuple[str, ...]
    passed: int
    failed: int
    checked_on: str
    not_checked_by_rules: str
    manual_evidence: str
    gaps: tuple[str, ...]

    @property
    def implementation_text(self) -> str:
        """The implementation status in words."""
        return _IMPL_TEXT.get(self.implementation, self.implementation)


def build_soa(result: ScanResult, decisions: SoaFile) -> list[SoaRow]:
    """All 38 controls: the decision, the owner, the automated and the manual evidence."""
    coverage = {c.id: c for c in result.coverage}
    controls = {r.id: r for r in result.matrix if r.kind == "control"}
    counts: dict[str, list[int]] = {}
    for f in result.findings:
        for ref in f.references.get("iso42001", []):
            c = counts.setdefault(ref, [0, 0])
            if f.status in FAILING:
                c[1] += 1
            elif f.status in ("pass", "warn", "waived"):
                c[0] += 1
    for info, n in result.passes_by_rule():
        for ref in info.references.get("iso42001", []):
            counts.setdefault(ref, [0, 0])[0] += n
    rows: list[SoaRow] = []
    for cid, title in ANNEX_A.items():
        d = decisions.controls.get(cid)
        cov = coverage.get(cid)
        rules = tuple(cov.rules) if cov else ()
        passed, failed = counts.get(cid, [0, 0])
        gaps: list[str] = []
        owner = holder = ""
        if d is not None and d.control:
            row = controls.get(d.control)
            if row is None:
                gaps.append(f"control {d.control!r} is not in the register")
            else:
                primary = row.cell("primary")
                if primary is None or primary.status == "missing":
                    gaps.append(f"control {d.control} names no primary owner")
                else:
                    owner = (f"{primary.name} <{primary.email}>" if primary.name and
                             primary.email else primary.name or primary.handle)
                    holder = f"{row.id} primary ({primary.status})"
                    if primary.status != "active":
                        gaps.append(f"control owner {owner} is {primary.status}")
        if d is None:
            impl: Implementation = "undecided"
            gaps.append("no applicability decision: add it to the SoA file")
        elif not d.applicable:
            impl = "excluded"
        else:
            if not owner and not d.control:
                gaps.append("no control owner (name the register control that implements it)")
            if cov is None or cov.status == "manual":
                impl = "manual_evidence_required"
            elif failed:
                impl = "gaps_found"
                gaps.append(f"{failed} failing finding{'s' if failed != 1 else ''}")
            elif cov.status == "automated":
                impl = "implemented"
            else:
                impl = "partly_verified"
            if impl in ("manual_evidence_required", "partly_verified") and not d.manual_evidence:
                gaps.append("where the manual evidence lives is not recorded")
        rows.append(SoaRow(
            id=cid, title=title,
            applicable="undecided" if d is None else "yes" if d.applicable else "no",
            justification=d.justification if d else "", basis=(d.basis or "") if d else "",
            link=(d.link or "") if d else "", implementation=impl, owner=owner,
            owner_role_holder=holder, rules=rules, passed=passed, failed=failed,
            checked_on=result.as_of if rules else "",
            not_checked_by_rules=(cov.note if cov and cov.status != "automated" else "")
            if not (d is not None and not d.applicable) else "",
            manual_evidence=(d.manual_evidence or "") if d else "", gaps=tuple(gaps)))
    return rows


# -- rendering --------------------------------------------------------------------------------

_CSV_FIELDS = ("id", "title", "applicable", "justification", "basis", "link",
               "implementation", "owner", "rules", "passed", "failed", "checked_on",
               "not_checked_by_rules", "manual_evidence", "gaps")


def _csv(rows: Iterable[SoaRow]) -> str:
    from .reporters._common import csv_safe

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CSV_FIELDS)
    for r in rows:
        d = asdict(r)
        d["rules"] = " ".join(r.rules)
        d["gaps"] = "; ".join(r.gaps)
        w.writerow([csv_safe(str(d[k])) for k in _CSV_FIELDS])
    return buf.getvalue()


def _md(text: str) -> str:
    from .reporters.markdown import md_escape

    return md_escape(text) if text else "—"


def _markdown(rows: list[SoaRow], result: ScanResult) -> str:
    out = [f"# Statement of Applicability — {_md(result.organisation)}", "",
           f"ISO/IEC 42001 Annex A, as of {result.as_of}. Automated evidence: aimscheck rules "
           "and their results on that date; manual evidence: what the rules do not check and "
           "where it lives.", "",
           _summary_line(rows), "",
           "| control | applicable | justification | implementation | control owner | "
           "automated evidence | manual evidence still required | gaps |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        auto = (f"{', '.join(r.rules)}: {r.passed} hold, {r.failed} fail ({r.checked_on[:10]})"
                if r.rules else "")
        manual = "; ".join(x for x in (r.not_checked_by_rules,
                                        f"lives in: {r.manual_evidence}"
                                        if r.manual_evidence else "") if x)
        just = r.justification + (f" (basis: {r.basis}" + (f", {r.link}" if r.link else "")
                                  + ")" if r.basis or r.link else "")
        out.append(f"| {r.id} {_md(r.title)} | {r.applicable} | {_md(just)} | "
                   f"{_md(r.implementation_text)} | {_md(r.owner)} | {_md(auto)} | "
                   f"{_md(manual)} | {_md('; '.join(r.gaps))} |")
    return "\n".join(out) + "\n"


def _summary_line(rows: list[SoaRow]) -> str:
    by: dict[str, int] = {}
    for r in rows:
        by[r.implementation] = by.get(r.implementation, 0) + 1
    gaps = sum(1 for r in rows if r.gaps)
    return (f"{len(rows)} controls: " + ", ".join(f"{n} {_IMPL_TEXT[k].split(' —')[0]}"
                                                 for k, n in sorted(by.items()))
            + f"; {gaps} with gaps")


def _html(rows: list[SoaRow], result: ScanResult) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(loader=PackageLoader("checker", "templates"),
                      autoescape=select_autoescape(default=True), keep_trailing_newline=True)
    return env.get_template("soa.html.j2").render(rows=rows, result=result,
                                                  summary=_summary_line(rows))


def oscal_state(row: SoaRow) -> str:
    """The OSCAL assessment state of a control: ``satisfied`` only if automated and passing.

    ``satisfied``: applicable, every expectation decided by rules (coverage automated), at
    least one check made and none failing (``implementation == "implemented"``).
    ``not-applicable``: excluded by the SoA. Everything else — partly automated, manual,
    failing, undecided, or checked on nothing — is ``not-satisfied``.
    """
    if row.applicable == "no":
        return "not-applicable"
    if row.implementation == "implemented" and row.passed > 0 and row.failed == 0:
        return "satisfied"
    return "not-satisfied"


_OSCAL_IMPL = {"implemented": "implemented", "partly_verified": "partial",
               "gaps_found": "partial", "manual_evidence_required": "planned",
               "undecided": "planned", "excluded": "not-applicable"}


def _oscal(rows: list[SoaRow], result: ScanResult) -> str:
    """The SoA as an OSCAL 1.1 component-definition fragment.

    One component (the AI management system), one control-implementation over ISO/IEC
    42001 Annex A, one implemented-requirement per control (``control-id``
    ``iso42001-<id>``, as in the assessment results of ``report --format oscal``).

    Byte-identical across runs: UUIDs are uuid5 of stable content, dates are the as-of.
    """
    from .reporters.oscal import NS, OSCAL_VERSION, _uuid

    def prop(name: str, value: str) -> dict[str, str]:
        return {"name": name, "ns": NS, "value": value}

    owners: dict[str, str] = {r.owner: _uuid("party", "soa-owner", r.owner)
                              for r in rows if r.owner}
    reqs = []
    for r in rows:
        state = oscal_state(r)
        props = [prop("implementation-status", _OSCAL_IMPL[r.implementation]),
                 prop("applicable", r.applicable), prop("assessment", state)]
        if r.basis:
            props.append(prop("basis", r.basis))
        if r.link:
            props.append(prop("applicability-link", r.link))
        if r.rules:
            props += [prop("rule-id", x) for x in r.rules]
            props += [prop("checks-passed", str(r.passed)),
                      prop("checks-failed", str(r.failed)), prop("checked-on", r.checked_on)]
        req: dict[str, Any] = {
            "uuid": _uuid("soa-requirement", r.id),
            "control-id": f"iso42001-{r.id}",
            "description": f"{r.id} {r.title}: {r.implementation_text}."
                           + (f" Justification: {r.justification}" if r.justification
                              else ""),
            "props": props,
        }
        if r.owner:
            req["responsible-roles"] = [{"role-id": "control-owner",
                                         "party-uuids": [owners[r.owner]]}]
        remarks = []
        if r.not_checked_by_rules:
            remarks.append(f"Not checked by rules (manual evidence required): "
                           f"{r.not_checked_by_rules}.")
        if r.manual_evidence:
            remarks.append(f"Manual evidence lives in: {r.manual_evidence}.")
        if r.gaps:
            remarks.append("Gaps: " + "; ".join(r.gaps) + ".")
        if remarks:
            req["remarks"] = " ".join(remarks)
        reqs.append(req)
    base = (result.organisation, result.as_of)
    metadata: dict[str, Any] = {
        "title": f"Statement of Applicability (ISO/IEC 42001 Annex A): {result.organisation}",
        "published": result.as_of, "last-modified": result.as_of,
        "version": result.tool_version, "oscal-version": OSCAL_VERSION,
        "roles": [{"id": "control-owner", "title": "Control owner",
                   "description": "The named person who owns the control's implementation."}],
        "props": [prop("organisation", result.organisation), prop("as-of", result.as_of),
                  prop("summary", _summary_line(rows))],
    }
    if owners:
        metadata["parties"] = [{"uuid": u, "type": "person", "name": name}
                               for name, u in sorted(owners.items())]
    doc = {"component-definition": {
        "uuid": _uuid("soa-component-definition", *base),
        "metadata": metadata,
        "components": [{
            "uuid": _uuid("soa-component", result.organisation),
            "type": "policy",
            "title": f"{result.organisation} AI management system",
            "description": "The organisation's AI management system (ISO/IEC 42001), with "
                           "its Statement of Applicability (6.1.3) as of "
                           f"{result.as_of}. 'assessment' is 'satisfied' only for an "
                           "applicable control that rules decide fully and that passes.",
            "control-implementations": [{
                "uuid": _uuid("soa-control-implementation", *base),
                "source": "https://www.iso.org/standard/81230.html",
                "description": "ISO/IEC 42001:2023 Annex A reference controls.",
                "implemented-requirements": reqs,
            }],
        }],
    }}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render_soa(rows: list[SoaRow], result: ScanResult, fmt: str) -> str:
    """The SoA as ``html``, ``csv``, ``markdown``, ``json`` or ``oscal``."""
    if fmt == "oscal":
        return _oscal(rows, result)
    if fmt == "csv":
        return _csv(rows)
    if fmt == "markdown":
        return _markdown(rows, result)
    if fmt == "html":
        return _html(rows, result)
    doc = {"organisation": result.organisation, "as_of": result.as_of,
           "summary": _summary_line(rows),
           "controls": [{**asdict(r), "implementation_text": r.implementation_text}
                        for r in rows]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

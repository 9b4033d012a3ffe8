"""The coverage map: which ISO/IEC 42001 clause leaves and Annex A controls the rules check.

A Statement of Applicability from code. Each id is ``automated`` (rules check the
machine-checkable evidence it expects), ``partial`` (rules check part of it, e.g. that a
record exists with an owner and a date, while a human judges the content) or ``manual``
(needs a document or attestation). Nothing is silently missing: all 32 clause leaves and
38 controls are listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from .iso42001 import ANNEX_A, CLAUSE_LEAVES
from .rules import CompiledRule

__all__ = ["LIMITS", "MACHINE_CHECKABLE", "CoverageEntry", "build_coverage"]

CoverageStatus = Literal["automated", "partial", "manual"]

#: Ids whose accountability evidence is fully machine-checkable when a rule cites them
#: (tag MC in the reference catalogue). Others become ``partial`` when cited.
MACHINE_CHECKABLE: frozenset[str] = frozenset({
    "5.2", "5.3", "6.1.2", "6.1.3", "6.2", "6.3", "7.2", "7.3", "7.5.2", "7.5.3", "8.2", "8.3",
    "8.4", "9.1", "9.2.1", "9.2.2", "9.3.1", "9.3.3", "10.2",
    "A.2.2", "A.2.4", "A.3.2", "A.3.3", "A.4.2", "A.4.3", "A.4.4", "A.4.6", "A.5.2", "A.5.3",
    "A.6.2.4", "A.6.2.5", "A.6.2.6", "A.6.2.8", "A.7.2", "A.7.3", "A.8.3", "A.8.4", "A.9.2",
    "A.10.2", "A.10.3",
})

#: What the rules do *not* check for ids they cite. An id is ``automated`` only when every
#: expectation of its row in the reference catalogue is decided by rules; any id listed here
#: is ``partial`` even when its evidence is machine-checkable, and the note — shown next to it
#: in every report and in OSCAL — says what still needs manual evidence.
LIMITS: dict[str, str] = {
    "5.1": "only top management's approval of policies and attendance at management "
           "reviews are checked; resourcing and other commitments are not",
    "5.2": "staff acknowledgements of the policy are not checked",
    "5.3": "owners of AI systems, risks, datasets, controls and vendors are checked; the two "
           "AIMS roles the standard singles out (conformance, reporting to top management) "
           "are not checked as such",
    "6.1.2": "owners and review dates are checked; ratings against the risk criteria are not",
    "6.1.4": "assessments on file and redone after change are checked; the written process "
             "and its trigger list are not",
    "6.3": "only reallocations of responsibility (handovers) are checked, not other AIMS "
           "changes",
    "7.1": "vacant owner roles are checked; resourcing decisions are not",
    "7.2": "training records per owner and role are checked; other competence evidence "
           "(qualifications, experience) is not",
    "7.3": "training is checked; policy acknowledgements per person are not",
    "7.5.2": "policies are checked (version, approver, date); other controlled documents "
             "are not",
    "7.5.3": "ownership history and review history are checked; access control, retention "
             "and integrity of records are not",
    "8.1": "release sign-off and vendor ownership are checked; other operational criteria "
           "are not",
    "8.4": "an assessment per in-scope system and re-assessment after material change are "
           "checked; a planned-interval cadence and retention of results are not",
    "9.1": "alert handling is checked; metric definitions and evaluations are not",
    "9.2.1": "that audits were held within the cycle is checked; audit scope, reports and "
             "findings are not",
    "9.2.2": "auditor independence and the audit cycle are checked; the audit programme "
             "document is not",
    "9.3.3": "that the review was held is checked; decisions and actions are not",
    "10.2": "incident corrective-action sign-off is checked; root cause and effectiveness "
            "review are not",
    "A.2.4": "the review cadence is checked; extra reviews after significant change are not",
    "A.3.2": "that each subject names current, individual owners is checked; that the roles "
             "themselves are defined (a RACI) is not",
    "A.3.3": "incident assignment is checked; the concern channel and its terms are not",
    "A.4.3": "dataset owners are checked; source, intended use and retention are not",
    "A.4.6": "owners' training is checked; people and competences per lifecycle role are "
             "not",
    "A.5.2": "an assessment per in-scope system is checked; the process document is not",
    "A.5.3": "assessor, approver and date are checked; versioning and retention are not",
    "A.6.1.3": "release sign-off by enough approvers is checked; other stage gates are not",
    "A.6.2.4": "only the release sign-off is checked; test reports and acceptance criteria "
               "are not",
    "A.6.2.5": "approval by an accountable person before deployment is checked; the "
               "deployment plan is not",
    "A.6.2.6": "alert and incident response times are checked; logging of repairs and "
               "updates is not",
    "A.7.2": "a named owner per dataset is checked; the data-management process is not",
    "A.8.4": "incident lead, acknowledgement and escalation are checked; external "
             "notification and the communication plan are not",
    "A.10.2": "vendor ownership is checked; the per-system split of responsibilities is not",
    "A.10.3": "internal owner and due diligence are checked; contract AI clauses are not",
}


@dataclass
class CoverageEntry:
    """One clause leaf or control and the rules that check it."""

    id: str
    title: str
    family: Literal["clause", "annex_a"]
    status: CoverageStatus
    rules: list[str] = field(default_factory=list)
    note: str = ""


def build_coverage(rules: Iterable[CompiledRule]) -> list[CoverageEntry]:
    """Every clause leaf and Annex A control with its status and checking rules."""
    by_id: dict[str, list[str]] = {}
    for r in rules:
        for ref in r.references.get("iso42001", []):
            by_id.setdefault(ref, []).append(r.id)
    out: list[CoverageEntry] = []
    for family, table in (("clause", CLAUSE_LEAVES), ("annex_a", ANNEX_A)):
        for id_, title in table.items():
            rids = sorted(by_id.get(id_, []))
            status: CoverageStatus = "manual"
            note = ("machine-checkable, but no rule checks it yet" if id_ in MACHINE_CHECKABLE
                    else "needs a document, attestation or human judgement")
            if rids:
                if id_ in MACHINE_CHECKABLE and id_ not in LIMITS:
                    status, note = "automated", ""
                else:
                    status = "partial"
                    note = LIMITS.get(id_, "records are checked; their content needs human "
                                      "judgement")
            out.append(CoverageEntry(id_, title, family, status, rids, note))  # type: ignore[arg-type]  # family is one of the two literals
    return out

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

__all__ = ["CoverageEntry", "build_coverage"]

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


@dataclass
class CoverageEntry:
    """One clause leaf or control and the rules that check it."""

    id: str
    title: str
    family: Literal["clause", "annex_a"]
    status: CoverageStatus
    rules: list[str] = field(default_factory=list)


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
            if rids:
                status = "automated" if id_ in MACHINE_CHECKABLE else "partial"
            out.append(CoverageEntry(id_, title, family, status, rids))  # type: ignore[arg-type]  # family is one of the two literals
    return out

"""The accountability matrix: every subject, its owners by role and their status at as-of.

A person's status comes from :func:`checker.availability.availability` (the test the
checks apply): ``unknown`` (the handle resolves to nobody, or to more than one person),
``not_individual`` (a group, service account or shared mailbox), ``terminated`` (not
employed at as-of, or not yet hired), ``on_leave``, ``contractor`` (when contractors may not
own), then ``untrained`` (lacks a course that an ``owner_trained`` check of the loaded rules
requires for that role) or ``active``. ``detail`` gives the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .availability import availability
from .checks.base import EvalContext
from .checks.training import OwnerTrained, TrainedArgs, training_outcome
from .config import Settings
from .coverage import build_coverage
from .evidence import RECORD_TYPES, SUBJECT_KINDS, EvidenceBundle, Subject
from .findings import CoverageRow, MatrixOwner, MatrixRow, OwnerStatus
from .rules import CompiledRule
from .store import EvidenceStore

__all__ = ["build_matrix", "coverage_rows", "evidence_links"]

_ROLE_ORDER = {"primary": 0, "backup": 1}


@dataclass(frozen=True)
class _Requirement:
    roles: frozenset[str]
    courses: tuple[str, ...]
    validity_days: int | None


def _training_requirements(rules: Iterable[CompiledRule]) -> list[_Requirement]:
    out: list[_Requirement] = []
    for r in rules:
        for check in r.require:
            if isinstance(check, OwnerTrained):
                a: TrainedArgs = check.args
                out.append(_Requirement(frozenset(a.roles), tuple(a.courses), a.validity_days))
    return out


_MATRIX_STATUS: dict[str, OwnerStatus] = {
    "unknown": "unknown", "ambiguous": "unknown", "nobody": "unknown",
    "not_individual": "not_individual", "shared_mailbox": "not_individual",
    "not_hired": "terminated", "terminated": "terminated", "on_leave": "on_leave",
    "contractor": "contractor", "available": "active",
}


def _owner(store: EvidenceStore, ctx: EvalContext, role: str, handle: str,
           reqs: list[_Requirement], applies: bool) -> MatrixOwner:
    a = availability(store.identity, handle, ctx.as_of, ctx.settings)
    p = a.person
    if p is None:
        return MatrixOwner(role=role, handle=handle, status="unknown", detail=a.reason)
    status = _MATRIX_STATUS[a.status]
    notes = [] if a.ok else [a.reason]
    if a.ok and applies:
        missing: list[str] = []
        for req in reqs:
            if role not in req.roles:
                continue
            for course in req.courses:
                o = training_outcome(ctx, p, course, ctx.as_of, validity_days=req.validity_days)
                if o.status == "fail" and course not in missing:
                    missing.append(course)
        if missing:
            status = "untrained"
            notes.append("lacks " + ", ".join(missing))
    return MatrixOwner(role=role, handle=handle, person_id=p.id, name=p.name,
                       email=p.primary_email, status=status, detail="; ".join(notes))


def _retired(s: Subject) -> bool:
    return s.attributes.get("lifecycle") in ("retired", "decommissioned")


def build_matrix(store: EvidenceStore, rules: Iterable[CompiledRule], as_of: datetime,
                 settings: Settings) -> tuple[MatrixRow, ...]:
    """Every subject (by kind, then id) with its owners by role and their status."""
    reqs = _training_requirements(rules)
    ctx = EvalContext(store=store, as_of=as_of, settings=settings)
    rows: list[MatrixRow] = []
    for kind in SUBJECT_KINDS:
        for s in store.subjects(kind):
            roles = sorted(s.owners, key=lambda r: (_ROLE_ORDER.get(r, 2), r))
            owners = tuple(_owner(store, ctx, role, s.owners[role], reqs, not _retired(s))
                           for role in roles if s.owners[role])
            rows.append(MatrixRow(kind=s.kind, id=s.id, name=s.name,
                                  locator=s.provenance.locator, owners=owners))
    return tuple(rows)


def coverage_rows(rules: Iterable[CompiledRule]) -> tuple[CoverageRow, ...]:
    """The coverage map as frozen rows for the scan result."""
    return tuple(CoverageRow(id=e.id, title=e.title, family=e.family, status=e.status,
                             rules=tuple(e.rules), note=e.note)
                 for e in build_coverage(rules))


def evidence_links(bundle: EvidenceBundle, locators: Iterable[str]) -> dict[str, str]:
    """Locator → URL for the cited locators whose record has a URL (sorted by locator)."""
    wanted = set(locators)
    out: dict[str, str] = {}
    for attr, _ in RECORD_TYPES.values():
        for rec in getattr(bundle, attr):
            prov = rec.provenance
            if prov.url and prov.locator in wanted:
                out.setdefault(prov.locator, prov.url)
    return dict(sorted(out.items()))

"""The accountability matrix: every subject, its owners by role and their status at as-of.

A person's status is :func:`checker.availability.availability`'s verdict (the test the
checks apply) in the owner vocabulary of :func:`checker.availability.owner_status`, the
words ``aimscheck owners`` uses too: ``unknown`` (the handle resolves to nobody, or to
more than one person), ``not_individual`` (a group, service account or shared mailbox),
``terminated`` (not employed at as-of, or not yet hired), ``on_leave``, ``contractor`` (when
contractors may not own), then ``untrained`` (lacks a course that an ``owner_trained``
check of the loaded rules requires for that role) or ``active``. ``detail`` gives the
reason.

The matrix is a grid of subject × owner role. The roles a subject must have come from the
loaded rules (:func:`required_roles`): the role an ``owner_assigned`` check requires of its
rule's subject kinds, and the AI-system or model role that release sign-off
(``approver_authorised``: ``system.risk_owner`` …) and incident escalation
(``incident_escalated``: ``to``) look up. A required role nobody holds is a red
``missing`` cell naming those rules, never an empty one. Rows with gaps come first (worst
status first), then by kind and id.

:func:`concentration` is the per-person view: how many subjects and owner roles each
person holds, the subjects they are the only available owner of (a single point of
failure), and whether they hold more roles than ``settings.concentration_max_roles``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .availability import availability, owner_status
from .checks.base import EvalContext
from .checks.training import OwnerTrained, TrainedArgs, training_outcome
from .config import Settings
from .coverage import build_coverage
from .evidence import RECORD_TYPES, SUBJECT_KINDS, EvidenceBundle, Subject
from .findings import OWNER_STATUS_ORDER, CoverageRow, MatrixOwner, MatrixRow, OwnerStatus
from .rules import CompiledRule
from .store import EvidenceStore

__all__ = ["STATUS_LABEL", "PersonLoad", "build_matrix", "concentration", "coverage_rows",
           "evidence_links", "required_roles", "role_columns", "role_label"]

_ROLE_ORDER = {"primary": 0, "backup": 1, "risk_owner": 2}
#: Owner statuses in words, for people.
STATUS_LABEL: dict[str, str] = {
    "missing": "missing", "unknown": "unknown", "not_individual": "not an individual",
    "terminated": "terminated", "contractor": "contractor", "on_leave": "on leave",
    "untrained": "untrained", "active": "active"}
#: Statuses of a person who could act on the subject today (untrained is a competence gap,
#: not an absence).
AVAILABLE: frozenset[str] = frozenset({"active", "untrained"})


def _role_key(role: str) -> tuple[int, str]:
    return (_ROLE_ORDER.get(role, 3), role)


def role_label(role: str) -> str:
    """A role in words: ``backup`` → ``backup owner``, ``risk_owner`` → ``risk owner``."""
    words = role.replace("_", " ")
    return words if words.endswith("owner") else f"{words} owner"


def required_roles(rules: Iterable[CompiledRule]) -> dict[str, dict[str, tuple[str, ...]]]:
    """Subject kind → owner role → the ids of the loaded rules that require it.

    ``owner_assigned: {role: R}`` requires R of every subject kind its rule applies to;
    ``approver_authorised`` tokens ``system.R`` / ``model.R`` require R of AI systems /
    models (whoever holds it signs releases); ``incident_escalated: {to: R}`` requires R of
    AI systems (incidents are escalated to its holder).
    """
    out: dict[str, dict[str, set[str]]] = {}

    def need(kind: str, role: str, rule: str) -> None:
        if kind in SUBJECT_KINDS and role:
            out.setdefault(kind, {}).setdefault(role, set()).add(rule)

    for r in rules:
        for check in r.require:
            args = check.args
            if check.name == "owner_assigned":
                for kind in r.applies_to:
                    need(kind, str(args.role), r.id)
            elif check.name == "approver_authorised":
                for token in args.authorised:
                    scope, _, role = str(token).rpartition(".")
                    scoped = {"system": "ai_system", "model": "model"}.get(scope)
                    if scoped:
                        need(scoped, role, r.id)
            elif check.name == "incident_escalated":
                need("ai_system", str(args.to), r.id)
    return {k: {role: tuple(sorted(ids)) for role, ids in sorted(v.items(),
                                                                  key=lambda x: _role_key(x[0]))}
            for k, v in out.items()}


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


def _owner(store: EvidenceStore, ctx: EvalContext, role: str, handle: str,
           reqs: list[_Requirement], applies: bool) -> MatrixOwner:
    a = availability(store.identity, handle, ctx.as_of, ctx.settings)
    p = a.person
    if p is None:
        return MatrixOwner(role=role, handle=handle, status=owner_status(a), detail=a.reason)
    status: OwnerStatus = owner_status(a)
    notes = [a.detail] if a.detail else []
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
    rules = list(rules)
    reqs = _training_requirements(rules)
    needed = required_roles(rules)
    ctx = EvalContext(store=store, as_of=as_of, settings=settings)
    rows: list[MatrixRow] = []
    # One person holds many roles on many subjects: decide each (role, holder) once.
    seen: dict[tuple[str, str, bool], MatrixOwner] = {}
    for kind in SUBJECT_KINDS:
        for s in store.subjects(kind):
            retired = _retired(s)
            required = {} if retired else needed.get(kind, {})
            held = {role: h for role, h in s.owners.items() if h and h.strip()}
            owners: list[MatrixOwner] = []
            for role in sorted({*held, *required}, key=_role_key):
                if role in held:
                    key = (role, held[role], not retired)
                    if key not in seen:
                        seen[key] = _owner(store, ctx, role, held[role], reqs, not retired)
                    owners.append(seen[key])
                else:
                    owners.append(MatrixOwner(
                        role=role, handle="", status="missing",
                        detail=f"no {role_label(role)} named; required by "
                        + ", ".join(required[role])))
            rows.append(MatrixRow(kind=s.kind, id=s.id, name=s.name,
                                  locator=s.provenance.locator, owners=tuple(owners),
                                  required=tuple(required), retired=retired))
    # gaps first: the worst status of a row decides, then kind (in register order) and id
    kinds = {k: i for i, k in enumerate(SUBJECT_KINDS)}
    rows.sort(key=lambda m: (OWNER_STATUS_ORDER.index(m.worst), kinds[m.kind], m.id))
    return tuple(rows)


def role_columns(rows: Iterable[MatrixRow]) -> list[str]:
    """The grid's role columns: every role held or required, primary and backup first."""
    return sorted({o.role for m in rows for o in m.owners}, key=_role_key)


@dataclass(frozen=True)
class PersonLoad:
    """One person's share of the accountability (the concentration view)."""

    person_id: str
    name: str
    email: str | None
    status: str
    roles: dict[str, int]
    subjects: tuple[str, ...]
    sole_owner_of: tuple[str, ...]
    max_roles: int

    @property
    def role_count(self) -> int:
        """Owner roles held, over all subjects."""
        return sum(self.roles.values())

    @property
    def overloaded(self) -> bool:
        """More roles than ``settings.concentration_max_roles``."""
        return self.role_count > self.max_roles

    @property
    def flags(self) -> list[str]:
        """What an auditor should look at, in words."""
        out: list[str] = []
        if self.sole_owner_of:
            n = len(self.sole_owner_of)
            out.append(f"single point of failure: the only available owner of {n} "
                       f"subject{'s' if n != 1 else ''}")
        if self.overloaded:
            out.append(f"overloaded: {self.role_count} owner roles, limit {self.max_roles}")
        return out


def concentration(rows: Iterable[MatrixRow], max_roles: int) -> list[PersonLoad]:
    """Per person: roles and subjects held, sole-owner subjects, overload; flagged first.

    A person is the *only available owner* of a (non-retired) subject when, of everyone
    holding one of its owner roles, they are the one person who is active (or merely
    untrained) today: if they are away, nobody can act. Order: flagged people first, then
    by roles held (most first), then name.
    """
    held: dict[str, dict[str, int]] = {}
    subjects: dict[str, list[str]] = {}
    sole: dict[str, list[str]] = {}
    info: dict[str, tuple[str, str | None, str]] = {}
    for m in rows:
        people = [o for o in m.owners if o.person_id is not None]
        for o in people:
            assert o.person_id is not None
            held.setdefault(o.person_id, {})
            held[o.person_id][o.role] = held[o.person_id].get(o.role, 0) + 1
            if m.key not in subjects.setdefault(o.person_id, []):
                subjects[o.person_id].append(m.key)
            worst = info.get(o.person_id)
            if worst is None or (OWNER_STATUS_ORDER.index(o.status)
                                 < OWNER_STATUS_ORDER.index(worst[2])):
                info[o.person_id] = (o.name or o.handle, o.email, o.status)
        if m.retired:
            continue
        able = {o.person_id for o in people if o.status in AVAILABLE}
        if len(able) == 1:
            pid = next(iter(able))
            assert pid is not None
            sole.setdefault(pid, []).append(m.key)
    out = [PersonLoad(person_id=pid, name=info[pid][0], email=info[pid][1],
                      status=info[pid][2],
                      roles=dict(sorted(roles.items(), key=lambda x: _role_key(x[0]))),
                      subjects=tuple(sorted(subjects[pid])),
                      sole_owner_of=tuple(sorted(sole.get(pid, []))), max_roles=max_roles)
           for pid, roles in held.items()]
    out.sort(key=lambda p: (not p.flags, -p.role_count, -len(p.sole_owner_of), p.name,
                            p.person_id))
    return out


def coverage_rows(rules: Iterable[CompiledRule]) -> tuple[CoverageRow, ...]:
    """The coverage map as frozen rows for the scan result."""
    return tuple(CoverageRow(id=e.id, title=e.title, family=e.family, status=e.status,
                             rules=tuple(e.rules), note=e.note)
                 for e in build_coverage(rules))


def evidence_links(bundle: EvidenceBundle, locators: Iterable[str]) -> dict[str, str]:
    """Locator → URL for the cited locators whose record has a URL (sorted by locator).

    The records with a URL are found first: when there are none (file exports), the cited
    locators (several per finding, passes included) are never read.
    """
    urls: dict[str, str] = {}
    for attr, _ in RECORD_TYPES.values():
        for rec in getattr(bundle, attr):
            prov = rec.provenance
            if prov.url:
                urls.setdefault(prov.locator, prov.url)
    if not urls:
        return {}
    out = {loc: urls[loc] for loc in set(locators) if loc in urls}
    return dict(sorted(out.items()))

"""The evidence store: every record indexed for O(1) or O(log n) lookups.

Built once per run; checks never scan all records per subject.

Fail closed without trusting each check to declare what it reads: while the engine
evaluates checks (:meth:`EvidenceStore.guarded`), every accessor of an evidence kind that
is incomplete raises :class:`~checker.errors.IncompleteEvidence`, and the engine turns it
into an ``error`` finding. Outside that scope (owner resolution, the matrix, waivers) the
accessors return what was collected.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any, NamedTuple

from .asof import visible_at
from .errors import Diagnostic, IncompleteEvidence
from .evidence import (
    KINDS,
    SUBJECT_KINDS,
    Absence,
    Alert,
    Approval,
    Event,
    EvidenceBundle,
    Incident,
    OwnershipSpan,
    Person,
    Release,
    Review,
    Subject,
    Training,
    vocab,
)
from .identity import IdentityIndex

__all__ = ["Act", "EvidenceStore", "Target", "Unmatched"]

#: The record types a rule can apply to; a test keeps it equal to the targetable kinds of
#: :data:`checker.evidence.KINDS` (a type has to be spelled out for mypy).
Target = Subject | Release | Incident | Alert | Person


def _norm(ref: str) -> str:
    return ref.strip().casefold()


class Act(NamedTuple):
    """Something a person did that may make them responsible (roles derived from evidence).

    Attributes:
        what: ``approved`` (an approval, or the approval of a review), ``reviewed`` or
            ``took_over`` (a recorded ownership span that is not the role's first).
        kind: The approval kind (``release``, ``policy`` …), review kind (``risk_review`` …)
            or owner role (``primary`` …), in vocabulary form.
        at: When.
        locator: The record that shows it.
        subject: What it was about.
    """

    what: str
    kind: str
    at: datetime
    locator: str
    subject: str


class Unmatched:
    """Records of one kind from one source that name no known person."""

    __slots__ = ("handles", "kind", "locators", "source")

    def __init__(self, source: str, kind: str) -> None:
        self.source = source
        self.kind = kind
        self.locators: list[str] = []
        self.handles: list[str] = []


class _Guard:
    """The scope of :meth:`EvidenceStore.guarded`.

    Entered once per rule × target, so a plain class rather than a generator.
    """

    __slots__ = ("before", "store")

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self.before = False

    def __enter__(self) -> None:
        self.before = self.store._guarding
        self.store._guarding = True

    def __exit__(self, *exc: object) -> None:
        self.store._guarding = self.before


class EvidenceStore:
    """Indexed, read-only view of all evidence.

    Built with ``as_of``, every record dated after it is invisible (:mod:`checker.asof`).

    Attributes:
        identity: The identity index over all people.
        bundle: The evidence the store indexes (after the as-of cut).
        incomplete: evidence kind → the diagnostics that made it incomplete. A rule that
            needs an incomplete kind yields ``error`` findings, never ``pass``.
    """

    def __init__(
        self,
        bundle: EvidenceBundle,
        incomplete: Mapping[str, list[Diagnostic]] | None = None,
        *,
        as_of: datetime | None = None,
        tz: tzinfo | None = None,
    ) -> None:
        if as_of is not None:
            bundle = visible_at(bundle, as_of)
        self.bundle = bundle
        self.incomplete: dict[str, list[Diagnostic]] = dict(incomplete or {})
        self._guarding = False
        self.identity = IdentityIndex(bundle.people, origins=bundle.origins, as_of=as_of,
                                      tz=tz)
        #: (source, kind) → records naming nobody known: nothing vanishes silently.
        self.unmatched: dict[tuple[str, str], Unmatched] = {}
        for ab in self.identity.attach_absences(bundle.absences, tz):
            self._unmatched(bundle.origins, ab, "absence", ab.person)
        self.duplicate_subjects: list[tuple[Subject, Subject]] = []

        self._subjects: dict[str, Subject] = {}
        self._subject_by_bare: dict[str, list[Subject]] = defaultdict(list)
        by_kind: dict[str, list[Subject]] = defaultdict(list)
        self._children: dict[str, list[Subject]] = defaultdict(list)
        adapters: dict[str, set[str]] = defaultdict(set)
        for s in bundle.subjects:
            key = _norm(s.key)
            if key in self._subjects:
                if s.provenance.adapter in adapters[key]:
                    self.duplicate_subjects.append((self._subjects[key], s))
                    continue
                # the same subject described by another kind of source: one subject
                adapters[key].add(s.provenance.adapter)
                self._subjects[key] = self._merge(self._subjects[key], s)
                continue
            adapters[key].add(s.provenance.adapter)
            self._subjects[key] = s
        self._system_by_name: dict[str, list[Subject]] = defaultdict(list)
        for s in self._subjects.values():
            self._subject_by_bare[_norm(s.id)].append(s)
            by_kind[s.kind].append(s)
            if s.kind == "ai_system":
                self._system_by_name[_norm(s.name)].append(s)
        for s in self._subjects.values():
            system = s.attributes.get("system")
            if isinstance(system, str) and s.kind != "ai_system":
                found = self.resolve_system(system)
                self._children[_norm(found.id) if found else _norm(system)].append(s)
        self._by_kind = {k: sorted(v, key=lambda s: s.id) for k, v in by_kind.items()}

        self._releases: dict[str, Release] = {}
        self._releases_by_system: dict[str, list[Release]] = defaultdict(list)
        #: (first, second) release records of the same model:version (case-insensitive,
        #: from one or several sources): the store never picks one of them.
        self.duplicate_releases: list[tuple[Release, Release]] = []
        for r in bundle.releases:
            rkey = _norm(r.id)
            if rkey in self._releases:
                self.duplicate_releases.append((self._releases[rkey], r))
                continue
            self._releases[rkey] = r
            if r.system:
                found = self.resolve_system(r.system)
                self._releases_by_system[_norm(found.id) if found else _norm(r.system)
                                         ].append(r)
        self._release_list = sorted(self._releases.values(), key=lambda r: (r.model, r.version))

        self._approvals: dict[str, list[Approval]] = defaultdict(list)
        for a in sorted(bundle.approvals, key=lambda a: (a.decided_at, a.id)):
            keys = {_norm(a.subject)}
            if a.model and a.version:
                keys.add(_norm(f"{a.model}:{a.version}"))
            for k in keys:
                self._approvals[k].append(a)

        self._reviews: dict[tuple[str, str], list[Review]] = defaultdict(list)
        for rv in sorted(bundle.reviews, key=lambda r: (r.reviewed_at, r.id)):
            self._reviews[(_norm(rv.subject), rv.kind)].append(rv)
        self._review_list = sorted(bundle.reviews, key=lambda r: (r.reviewed_at, r.id))

        self._training: dict[tuple[str, str], list[Training]] = defaultdict(list)
        self.unresolved_training: list[Training] = []
        for t in sorted(bundle.trainings, key=lambda t: t.completed_at):
            p = self.identity.resolve(t.person)
            if p is None:
                self.unresolved_training.append(t)
                self._unmatched(bundle.origins, t, "training", t.person)
                continue
            self._training[(p.id, _norm(t.course))].append(t)

        self._events: dict[str, list[Event]] = defaultdict(list)
        for e in sorted(bundle.events, key=lambda e: (e.occurred_at, e.id)):
            ekeys = {_norm(e.subject)}
            found = self.resolve_system(e.subject)
            if found is not None:  # an event naming a system by name or through its model
                ekeys |= {_norm(found.id), _norm(found.key)}
            for k in ekeys:
                self._events[k].append(e)

        # person id → (subject, role) for every current owner role (training by role)
        self._owned: dict[str, list[tuple[Subject, str]]] = defaultdict(list)
        for s in self._subjects.values():
            for role, h in sorted(s.owners.items()):
                p = self.identity.resolve(h)
                if p is not None:
                    self._owned[p.id].append((s, role))

        self._acts: dict[str, list[Act]] | None = None
        #: (executive, instant, policy) → (id(target), role token) → (target, the available
        #: people the token names): filled by :func:`checker.owners.resolve_owner`.
        self.owner_candidates: dict[tuple[Any, ...],
                                    dict[tuple[int, str], tuple[Any, tuple[Any, ...]]]] = {}
        #: (person id, course, instant, validity, warn window) → (person, outcome): filled
        #: by :func:`checker.checks.training.training_outcome` (owners recur across subjects).
        self.training_outcomes: dict[tuple[Any, ...], tuple[Person, Any]] = {}
        # Targetable record kinds (incident, alert, and any kind added to the table later):
        # sorted once. People and releases have their own merged and de-duplicated lists.
        self._targets: dict[str, list[Any]] = {
            kind: sorted(bundle.records(kind), key=spec.order or (lambda r: r.id))
            for kind, spec in KINDS.items() if spec.target and kind not in ("person", "release")
        }
        self._target_lists: dict[str, Callable[[], list[Any]]] = {
            "person": self.identity.people, "release": lambda: self._release_list,
        }

    # -- fail closed --------------------------------------------------------------------
    def guarded(self) -> _Guard:
        """Within the block, reading an incomplete evidence kind raises IncompleteEvidence."""
        return _Guard(self)

    def _need(self, *kinds: str) -> None:
        if self._guarding:
            for kind in kinds:
                if kind in self.incomplete:
                    raise IncompleteEvidence(kind, self.incomplete[kind])

    def person(self, handle: str | None) -> Person | None:
        """Resolve a handle through the identity index."""
        self._need("person")
        return self.identity.resolve(handle)

    def _unmatched(self, origins: Mapping[int, str], rec: Absence | Training, kind: str,
                   handle: str) -> None:
        src = origins.get(id(rec)) or rec.provenance.adapter
        u = self.unmatched.get((src, kind))
        if u is None:
            u = self.unmatched[(src, kind)] = Unmatched(src, kind)
        u.locators.append(rec.provenance.locator)
        u.handles.append(handle)

    # -- subjects ---------------------------------------------------------------------
    def subject(self, ref: str | None, kind: str | None = None) -> Subject | None:
        """Resolve ``kind/id`` or a bare id (unique across kinds, or of ``kind``)."""
        self._need("subject")
        if not ref:
            return None
        r = _norm(ref)
        if "/" in r and r.split("/", 1)[0] in SUBJECT_KINDS:
            return self._subjects.get(r)
        if kind is not None:
            return self._subjects.get(f"{kind}/{r}")
        cands = self._subject_by_bare.get(r, [])
        return cands[0] if len(cands) == 1 else None

    def resolve_system(self, ref: str | None) -> Subject | None:
        """The AI system a reference names, case-insensitively.

        Tried in order: an AI system's id (``x`` or ``ai_system/x``); an AI system's name
        (when only one has it); a model's id or ``model/x`` → that model's AI system; a
        model that is itself registered as an AI system. None when nothing (or more than
        one system) matches: the caller reports an unresolvable reference.
        """
        if not ref or not ref.strip():
            return None
        r = _norm(ref)
        if r.startswith("ai_system/"):
            r = r.split("/", 1)[1]
        hit = self._subjects.get(f"ai_system/{r}")
        if hit is not None:
            return hit
        named = self._system_by_name.get(r, [])
        if len(named) == 1:
            return named[0]
        model = self._subjects.get(f"model/{r.removeprefix('model/')}")
        if model is not None:
            sys_ref = model.attributes.get("system")
            if isinstance(sys_ref, str) and _norm(sys_ref) != r:
                return self.resolve_system(sys_ref)
        return None

    @staticmethod
    def _merge(first: Subject, other: Subject) -> Subject:
        """One subject from two kinds of source: owners and attributes united.

        The first source keeps a role both name; a different handle from the other source
        is kept in ``attributes.owner_conflicts`` (AIMS-OWN-006 decides, through the
        identity index, whether the two handles are two people).
        """
        owners = dict(first.owners)
        conflicts = list(first.attributes.get("owner_conflicts") or [])
        where1 = f"{first.provenance.adapter} {first.provenance.locator}"
        where2 = f"{other.provenance.adapter} {other.provenance.locator}"
        for role, h in sorted(other.owners.items()):
            have = owners.get(role)
            if have is None:
                owners[role] = h
            elif _norm(have) != _norm(h):
                conflicts.append({"role": role, "owner": have, "source": where1,
                                  "other": h, "other_source": where2})
        attributes = {**other.attributes, **first.attributes}
        if conflicts:
            attributes["owner_conflicts"] = conflicts
        attributes["sources"] = [*first.attributes.get("sources", [where1]), where2]
        return first.model_copy(update={"owners": owners, "attributes": attributes,
                                        "history": (*first.history, *other.history)})

    def subjects(self, kind: str) -> list[Subject]:
        """All subjects of ``kind``, sorted by id."""
        self._need("subject")
        return self._by_kind.get(kind, [])

    def children(self, system_id: str, kind: str | None = None) -> list[Subject]:
        """Subjects linked to an AI system through ``attributes.system``."""
        self._need("subject")
        out = self._children.get(_norm(system_id), [])
        return [s for s in out if kind is None or s.kind == kind]

    # -- releases ---------------------------------------------------------------------
    def release(self, model: str, version: str) -> Release | None:
        """The release ``model:version``."""
        self._need("release")
        return self._releases.get(_norm(f"{model}:{version}"))

    def releases(self) -> list[Release]:
        """All releases, sorted by model and version."""
        self._need("release")
        return self._release_list

    def releases_of_system(self, system_id: str) -> list[Release]:
        """Releases of an AI system."""
        self._need("release")
        return self._releases_by_system.get(_norm(system_id), [])

    def system_of(self, target: Subject | Release | Incident | Alert) -> Subject | None:
        """The AI system a target belongs to (itself for an AI system)."""
        self._need("subject")
        if isinstance(target, Subject):
            if target.kind == "ai_system":
                return target
            sys_ref = target.attributes.get("system")
            if isinstance(sys_ref, str):
                return self.resolve_system(sys_ref)
            return None
        if isinstance(target, Release):
            if target.system:
                return self.resolve_system(target.system)
            model = self.subject(target.model, "model")
            return self.system_of(model) if model else self.resolve_system(target.model)
        if isinstance(target, Incident):
            return self.resolve_system(target.system)
        sub = self.subject(target.subject)
        return self.system_of(sub) if sub is not None else None

    # -- decisions and records --------------------------------------------------------
    def approvals_for(self, ref: str) -> list[Approval]:
        """Approvals whose subject (or model:version) is ``ref``, oldest first."""
        self._need("approval")
        return self._approvals.get(_norm(ref), [])

    def reviews_for(self, ref: str, kind: str) -> list[Review]:
        """Reviews of ``kind`` for a subject, oldest first."""
        self._need("review")
        return self._reviews.get((_norm(ref), kind), [])

    def reviews(self, kind: str | None = None) -> list[Review]:
        """All reviews (optionally of one kind), oldest first."""
        self._need("review")
        if kind is None:
            return self._review_list
        return [r for r in self._review_list if r.kind == kind]

    def last_review_before(self, ref: str, kind: str, t: datetime) -> Review | None:
        """The latest review of ``kind`` at or before ``t`` (binary search)."""
        lst = self.reviews_for(ref, kind)
        i = bisect_right(lst, t, key=lambda r: r.reviewed_at)
        return lst[i - 1] if i else None

    def trainings(self, person: Person, course: str) -> list[Training]:
        """A person's records for a course, oldest first."""
        self._need("training")
        return self._training.get((person.id, _norm(course)), [])

    def events_for(self, ref: str) -> list[Event]:
        """Change events of a subject, oldest first."""
        self._need("event")
        return self._events.get(_norm(ref), [])

    def events_between(self, refs: Iterable[str], after: datetime, before: datetime,
                       types: Iterable[str] | None = None) -> list[Event]:
        """Events of any of ``refs`` with ``after < occurred_at < before``, oldest first.

        Binary search per subject; ``types`` (when given) filters by ``Event.type``.
        """
        self._need("event")
        wanted = None if types is None else set(types)
        out: dict[str, Event] = {}
        for ref in dict.fromkeys(_norm(r) for r in refs if r):
            lst = self._events.get(ref, [])
            i = bisect_right(lst, after, key=lambda e: e.occurred_at)
            j = bisect_left(lst, before, key=lambda e: e.occurred_at)
            for e in lst[i:j]:
                if wanted is None or e.type in wanted:
                    out[e.id] = e
        return sorted(out.values(), key=lambda e: (e.occurred_at, e.id))

    def acts(self, person: Person) -> list[Act]:
        """What ``person`` approved, reviewed and took over, oldest first (built once)."""
        if self._acts is None:
            self._acts = self._build_acts()
        return self._acts.get(person.id, [])

    def _build_acts(self) -> dict[str, list[Act]]:
        out: dict[str, list[Act]] = defaultdict(list)

        def add(handle: str | None, act: Act) -> None:
            p = self.identity.resolve(handle)
            if p is not None:
                out[p.id].append(act)

        for a in self.bundle.approvals:
            if a.decision == "approved":
                add(a.approver, Act("approved", vocab(a.kind), a.decided_at,
                                    a.provenance.locator, a.subject))
        for rv in self.bundle.reviews:
            add(rv.reviewer, Act("reviewed", vocab(rv.kind), rv.reviewed_at,
                                 rv.provenance.locator, rv.subject))
            if rv.approver and rv.approved_at is not None:
                add(rv.approver, Act("approved", vocab(rv.kind), rv.approved_at,
                                     rv.provenance.locator, rv.subject))
        for s in self._subjects.values():
            by_role: dict[str, list[OwnershipSpan]] = defaultdict(list)
            for span in s.history:
                if span.owner:
                    by_role[span.role].append(span)
            for role, spans in by_role.items():
                for span in sorted(spans, key=lambda x: x.start)[1:]:
                    add(span.owner, Act("took_over", vocab(role), span.start,
                                        s.provenance.locator, s.key))
        return {k: sorted(v, key=lambda x: (x.at, x.locator)) for k, v in out.items()}

    def owned_by(self, person: Person) -> list[tuple[Subject, str]]:
        """Subjects (and the owner role) a person currently owns, by subject key."""
        self._need("subject", "person")
        return self._owned.get(person.id, [])

    def incidents(self) -> list[Incident]:
        """All incidents, by id."""
        self._need("incident")
        incidents: list[Incident] = self._targets["incident"]
        return incidents

    def alerts(self) -> list[Alert]:
        """All alerts, by id."""
        self._need("alert")
        alerts: list[Alert] = self._targets["alert"]
        return alerts

    def people(self) -> list[Person]:
        """All people, by id."""
        self._need("person")
        return self.identity.people()

    def targets(self, kind: str) -> Iterable[Target]:
        """Everything a rule may apply to, by target kind (``KeyError`` for another kind)."""
        if kind in SUBJECT_KINDS:
            return self.subjects(kind)
        if not KINDS[kind].target:
            raise KeyError(kind)
        self._need(kind)
        if kind in self._target_lists:
            return self._target_lists[kind]()
        targets: list[Target] = self._targets[kind]
        return targets

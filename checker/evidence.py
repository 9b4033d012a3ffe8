"""The normalised evidence model.

Every record is a frozen pydantic model with ``extra="forbid"``, timezone-aware UTC
datetimes, and a :class:`Provenance` saying which adapter produced it, where a human can
find it (a locator such as ``hr/people.csv:14`` or ``AIRISK-12``, and a URL where the
source has one) and when it was fetched.

People are referred to from other records by **handle**: any string that the identity
index can resolve (an email in any letter case, an employee number, a Jira accountId, an
MLflow user id …). Resolution happens once, in :mod:`checker.identity`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from .severity import Severity
from .timeutil import ensure_utc

__all__ = [
    "EVIDENCE_KINDS",
    "KINDS",
    "RECORD_TYPES",
    "SUBJECT_KINDS",
    "TARGET_KINDS",
    "Absence",
    "Alert",
    "Approval",
    "Event",
    "EvidenceBundle",
    "EvidenceKind",
    "Incident",
    "KindSpec",
    "OwnershipSpan",
    "Period",
    "Person",
    "Provenance",
    "Release",
    "Review",
    "Subject",
    "SubjectKind",
    "Training",
    "UtcDatetime",
    "kind_of",
    "vocab",
]

MIN_YEAR = 1970


def _not_a_number(value: Any) -> Any:
    # pydantic would read 12 as 1970-01-01T00:00:12Z; a number is a wrong type here.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("a timestamp must be an ISO 8601 string, not a number")
    return value


def _plausible(value: datetime) -> datetime:
    value = ensure_utc(value)
    if value.year < MIN_YEAR:
        raise ValueError(f"{value.date()} is before {MIN_YEAR}: not a plausible date")
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_plausible)]


def vocab(value: str) -> str:
    """The comparison form of a vocabulary word (role, tier, status, stage).

    Surrounding whitespace removed, Unicode case folded: ``Risk_Owner``, `` risk_owner``
    and ``RISK_OWNER`` are the same role, ``High`` and ``high`` the same tier.
    """
    return value.strip().casefold()


def _vocab_keys(value: Any) -> Any:
    """Owner roles are vocabulary: fold the keys; two spellings of one role are an error."""
    if not isinstance(value, dict):
        return value
    out: dict[Any, Any] = {}
    for k, v in value.items():
        key = vocab(k) if isinstance(k, str) else k
        if key in out and out[key] != v:
            raise ValueError(f"role {key!r} is given twice ({k!r}) with different owners")
        out[key] = v
    return out

#: Ids that are safe in a ``kind/id`` reference and as a file name: no path separators.
SafeId = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/\\\x00-\x1f]+$")]

#: The kinds of subject (accountable things), defined once; ``SubjectKind`` derives from it.
SUBJECT_KINDS: tuple[str, ...] = (
    "ai_system", "model", "dataset", "risk", "control", "vendor", "policy", "process",
)

if TYPE_CHECKING:
    SubjectKind = str
else:
    # A Literal built from the tuple: pydantic validates it and documents it as an enum.
    SubjectKind = Literal[SUBJECT_KINDS]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True,
                              defer_build=True)


class Provenance(_Frozen):
    """Where a record came from.

    Attributes:
        adapter: The adapter id (``hr_csv``, ``jira`` …).
        locator: What a human follows to find the record: ``file:line``, a Jira key,
            ``model/version``, an LRS statement id.
        url: A link to the record where the source has one.
        fetched_at: When the adapter read it (UTC).
        effective_at: When the fact held in the source (UTC), where the source says so —
            e.g. the "as of" date of an HR export or the last-modified time of a record.
            Separate from ``fetched_at`` (the collection date): a snapshot pulled today of
            an export dated last week has ``effective_at`` last week. None when unknown.
    """

    adapter: str
    locator: str
    url: str | None = None
    fetched_at: UtcDatetime
    effective_at: UtcDatetime | None = None


class _Record(_Frozen):
    provenance: Provenance


class Period(_Frozen):
    """A half-open interval ``[start, end)``; ``end`` None means open-ended."""

    start: UtcDatetime
    end: UtcDatetime | None = None
    kind: str | None = None

    def contains(self, t: datetime) -> bool:
        """True when ``t`` falls inside the period."""
        return self.start <= t and (self.end is None or t < self.end)


class Person(_Record):
    """A human (or a group or service account pretending to be one) known to HR/IdP.

    Employment is the half-open interval ``[hired, terminated)``; ``terminated`` is the
    first instant the person is no longer employed (adapters convert a "last day" to the
    midnight after it).
    """

    id: str = Field(min_length=1)
    name: str
    emails: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    employee_number: str | None = None
    kind: Literal["individual", "group", "service"] = "individual"
    status: Literal["active", "on_leave", "terminated"] = "active"
    employment_type: Literal["employee", "contractor"] = "employee"
    hired: UtcDatetime | None = None
    terminated: UtcDatetime | None = None
    leave: tuple[Period, ...] = ()
    department: str | None = None
    title: str | None = None
    manager: str | None = None
    roles: tuple[str, ...] = ()

    @field_validator("roles", mode="after")
    @classmethod
    def _fold_roles(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(vocab(r) for r in v if r.strip()))

    @property
    def primary_email(self) -> str | None:
        """The first email, if any."""
        return self.emails[0] if self.emails else None

    def employed_at(self, t: datetime) -> bool:
        """True when ``t`` lies in the employment interval."""
        if self.hired is not None and t < self.hired:
            return False
        if self.terminated is not None:
            return t < self.terminated
        return self.status != "terminated"

    def on_leave_at(self, t: datetime) -> bool:
        """True when ``t`` lies in a leave period."""
        return any(p.contains(t) for p in self.leave)

    def active_at(self, t: datetime) -> bool:
        """Employed and not on leave at ``t``.

        A person whose HR status is ``on_leave`` with no dated leave period is treated as
        absent now (the status is a statement about the export date).
        """
        if not self.employed_at(t):
            return False
        if self.on_leave_at(t):
            return False
        return not (self.status == "on_leave" and not self.leave)

    def absences(self) -> list[tuple[datetime | None, datetime | None, str]]:
        """Intervals in which the person is not available: before hire, leave, after exit."""
        out: list[tuple[datetime | None, datetime | None, str]] = []
        if self.hired is not None:
            out.append((None, self.hired, "not yet hired"))
        out.extend((p.start, p.end, f"on leave ({p.kind})" if p.kind else "on leave")
                   for p in self.leave)
        if self.terminated is not None:
            out.append((self.terminated, None, "terminated"))
        return out


class OwnershipSpan(_Frozen):
    """``owner`` held ``role`` on a subject from ``start`` until ``end`` (None = still)."""

    role: Annotated[str, AfterValidator(vocab)]
    owner: str | None
    start: UtcDatetime
    end: UtcDatetime | None = None
    source: str | None = None


class Subject(_Record):
    """An accountable thing: AI system, model, dataset, risk, control, vendor, policy, process.

    ``owners`` maps a role (``primary``, ``backup``, ``risk_owner`` …) to a person handle;
    ``history`` records who held which role when. ``attributes`` holds everything else
    (``system`` — the AI system a risk or model belongs to, ``risk_tier``, ``lifecycle``,
    ``version`` …).
    """

    kind: SubjectKind
    id: SafeId
    name: str
    owners: Annotated[dict[str, str], BeforeValidator(_vocab_keys)] = Field(
        default_factory=dict)
    history: tuple[OwnershipSpan, ...] = ()
    attributes: dict[str, Any] = Field(default_factory=dict)
    created_at: UtcDatetime | None = None

    @property
    def key(self) -> str:
        """``kind/id``, unique across subjects."""
        return f"{self.kind}/{self.id}"


class Release(_Record):
    """A model version and where it is in its lifecycle."""

    model: str
    version: str
    system: str | None = None
    stage: str | None = None
    aliases: tuple[str, ...] = ()
    registered_by: str | None = None
    registered_at: UtcDatetime | None = None
    deployed_by: str | None = None
    deployed_at: UtcDatetime | None = None
    requested_by: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        """``model:version``."""
        return f"{self.model}:{self.version}"


class Approval(_Record):
    """Someone's decision about a subject or a release.

    ``subject`` is a subject id (``kind/id`` or bare id) or a release id (``model:version``);
    ``model``/``version`` name the exact release an approval is for.
    """

    id: str
    subject: str
    model: str | None = None
    version: str | None = None
    decision: Literal["approved", "rejected"] = "approved"
    approver: str
    decided_at: UtcDatetime
    requested_by: str | None = None
    kind: str = "release"
    rules: tuple[str, ...] = Field(
        default=(), description="Rule ids this decision accepts a deviation from: a risk "
        "acceptance that a waiver of one of these rules may name (checker/waivers.py).")


class Review(_Record):
    """A review: risk review, impact assessment, policy review, due diligence, audit …."""

    id: str
    subject: str
    kind: str
    reviewer: str
    reviewed_at: UtcDatetime
    outcome: str | None = None
    approver: str | None = None
    approved_at: UtcDatetime | None = None
    version: str | None = None
    attendees: tuple[str, ...] = ()
    rules: tuple[str, ...] = Field(
        default=(), description="Rule ids this review accepts a deviation from: a risk "
        "acceptance that a waiver of one of these rules may name (checker/waivers.py).")


class Incident(_Record):
    """An AI incident and its handling timestamps.

    ``assignee`` is the current assignee; ``assignee_history`` (role ``assignee``), when the
    source keeps one (Jira's changelog), says who was assigned when — so a sign-off is
    judged against the assignee *at* the sign-off, not whoever holds the ticket today.
    """

    id: str
    title: str = ""
    system: str | None = None
    severity: Severity
    opened_at: UtcDatetime
    assignee: str | None = None
    assignee_history: tuple[OwnershipSpan, ...] = ()
    acknowledged_at: UtcDatetime | None = None
    escalated_to: str | None = None
    escalated_at: UtcDatetime | None = None
    resolved_at: UtcDatetime | None = None
    closed_at: UtcDatetime | None = None
    corrective_action_by: str | None = None
    corrective_action_at: UtcDatetime | None = None


class Training(_Record):
    """A training completion (or failed attempt)."""

    person: str
    course: str
    completed_at: UtcDatetime
    expires_at: UtcDatetime | None = None
    passed: bool = True


class Event(_Record):
    """A change trigger: model version registered, data source changed, launch."""

    id: str
    subject: str
    type: str
    occurred_at: UtcDatetime
    actor: str | None = None


class Alert(_Record):
    """A monitoring alert and who actioned it."""

    id: str
    subject: str
    raised_at: UtcDatetime
    severity: Severity = Severity.MEDIUM
    actioned_by: str | None = None
    actioned_at: UtcDatetime | None = None


class Absence(_Record):
    """A person's absence from an absence export, attached to whoever ``person`` names.

    ``start`` and ``end`` are days (``end`` inclusive; None = open-ended): they become
    instants in the organisation's time zone (``settings.timezone``) when attached, so the
    same export means the same thing whatever machine runs the scan.
    """

    person: str
    start: date
    end: date | None = None
    kind: str | None = None


@dataclass(frozen=True)
class KindSpec:
    """One evidence kind: its record model, where a bundle keeps it, whether rules target it.

    Attributes:
        name: The kind's name (``incident``), used in configs, rule files and snapshots.
        model: The normalised record model.
        attr: The :class:`EvidenceBundle` list holding records of this kind.
        target: True when a rule may apply to the records themselves (``applies_to:
            [incident]`` gives one finding per incident). Subjects are targeted by their
            subject kind (:data:`SUBJECT_KINDS`) instead.
        order: Sort key of the targets (default: the record's ``id``).
    """

    name: str
    model: type[_Record]
    attr: str
    target: bool = False
    order: Callable[[Any], Any] | None = None


#: Every evidence kind, defined once. To add a kind: write its record model above, add one
#: entry here and one list field of the same ``attr`` to :class:`EvidenceBundle` (mypy needs
#: the field spelled out; an import-time check refuses a bundle that differs from this
#: table). Everything else — ``EvidenceKind``, ``EVIDENCE_KINDS``, the bundle's ``extend``
#: and counts, the store's targets, rule ``applies_to`` (schema and validation), snapshots,
#: case files and the ``jsonl`` adapter — derives from this table.
KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (
    KindSpec("person", Person, "people", target=True),
    KindSpec("subject", Subject, "subjects"),
    KindSpec("release", Release, "releases", target=True,
             order=lambda r: (r.model, r.version)),
    KindSpec("approval", Approval, "approvals"),
    KindSpec("review", Review, "reviews"),
    KindSpec("incident", Incident, "incidents", target=True),
    KindSpec("training", Training, "trainings"),
    KindSpec("event", Event, "events"),
    KindSpec("alert", Alert, "alerts", target=True),
    KindSpec("absence", Absence, "absences"),
)}

#: Evidence kind names, in table order.
EVIDENCE_KINDS: tuple[str, ...] = tuple(KINDS)
#: What ``applies_to`` may name: every subject kind, then every targetable record kind.
TARGET_KINDS: tuple[str, ...] = SUBJECT_KINDS + tuple(k for k, s in KINDS.items() if s.target)

if TYPE_CHECKING:
    EvidenceKind = str
else:
    EvidenceKind = Literal[EVIDENCE_KINDS]

#: Which bundle list holds each record kind (used by the jsonl adapter and case files).
RECORD_TYPES: dict[str, tuple[str, type[_Record]]] = {
    name: (spec.attr, spec.model) for name, spec in KINDS.items()
}


def kind_of(record: object) -> str:
    """The evidence kind of a record (``KeyError`` for an object that is not a record)."""
    return _KIND_BY_MODEL[type(record)]


_KIND_BY_MODEL: dict[type, str] = {spec.model: name for name, spec in KINDS.items()}


class EvidenceBundle(BaseModel):
    """What one adapter returns: records of any kinds, plus the kinds it was asked for.

    ``kinds`` lists every evidence kind the adapter is responsible for, even when it found
    no record of a kind, so that an error in the source can mark those kinds incomplete.
    The record lists are those of :data:`KINDS` (one per kind).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, defer_build=True)

    kinds: frozenset[str] = frozenset()
    people: list[Person] = Field(default_factory=list)
    subjects: list[Subject] = Field(default_factory=list)
    releases: list[Release] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    reviews: list[Review] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    trainings: list[Training] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    alerts: list[Alert] = Field(default_factory=list)
    absences: list[Absence] = Field(default_factory=list)
    #: ``id(record)`` → the configured source it came from (people, training, absences),
    #: set by the collect stage; used to tell sources apart and to count per source.
    origins: dict[int, str] = Field(default_factory=dict, exclude=True)
    #: Sources whose records naming nobody fail the source (``unknown_people: error``).
    strict_sources: set[str] = Field(default_factory=set, exclude=True)

    def tag(self, source: str) -> None:
        """Remember that this bundle's person-related records came from ``source``."""
        for recs in (self.people, self.trainings, self.absences):
            for r in recs:
                self.origins[id(r)] = source

    def records(self, kind: str) -> list[Any]:
        """The list holding records of evidence ``kind``."""
        records: list[Any] = getattr(self, KINDS[kind].attr)
        return records

    def count(self) -> int:
        """The number of records of every kind."""
        return sum(len(self.records(k)) for k in KINDS)

    def extend(self, other: EvidenceBundle) -> None:
        """Append every record of ``other`` to this bundle."""
        self.kinds = self.kinds | other.kinds
        for k in KINDS:
            self.records(k).extend(other.records(k))
        self.origins.update(other.origins)
        self.strict_sources |= other.strict_sources


def _check_bundle_matches_table() -> None:
    # The record lists (every list field) must be exactly those of the table.
    fields = {n: get_args(f.annotation) for n, f in EvidenceBundle.model_fields.items()
              if get_origin(f.annotation) is list}
    want = {spec.attr: (spec.model,) for spec in KINDS.values()}
    if fields != want:
        raise TypeError(f"EvidenceBundle record lists {fields} differ from the KINDS table {want}")


_check_bundle_matches_table()

"""Findings and the scan result that every reporter reads."""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .severity import Severity

__all__ = [
    "FAILING",
    "OWNER_STATUS_ORDER",
    "PASSES_MODES",
    "SCHEMA_VERSION",
    "ClosedFinding",
    "CoverageRow",
    "Finding",
    "FindingStatus",
    "HistoryPoint",
    "MatrixOwner",
    "MatrixRow",
    "OwnerRef",
    "OwnerStatus",
    "PassGroup",
    "PassRecord",
    "RuleInfo",
    "ScanResult",
    "SourceStatus",
    "UnmatchedRecords",
    "WaiverRef",
]

SCHEMA_VERSION = "1.0"

FindingStatus = Literal["pass", "warn", "fail", "error", "waived", "not_applicable"]
FAILING: frozenset[str] = frozenset({"fail", "error"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OwnerRef(_Frozen):
    """A named individual and how they were chosen (the role token)."""

    id: str
    name: str
    email: str | None = None
    via: str


class WaiverRef(_Frozen):
    """The waiver that was matched to a finding (see :mod:`checker.waivers`).

    ``state`` is ``active`` (the finding is ``waived``), ``expiring`` (waived, but the
    waiver ends within the warning window) or ``invalid`` (the waiver no longer holds and
    the finding stays failing; ``problem`` says why).
    """

    id: str
    approved_by: str = Field(description="Name and email of the approver.")
    approver_id: str | None = None
    requested_by: str
    reason: str
    start: str = Field(description="First day the waiver holds (YYYY-MM-DD).")
    expiry: str = Field(description="Last day the waiver holds (YYYY-MM-DD), inclusive.")
    risk_acceptance: str
    state: Literal["active", "expiring", "invalid"]
    problem: str | None = None


class Finding(_Frozen):
    """One verdict of one rule on one target."""

    rule_id: str
    title: str
    severity: Severity
    status: FindingStatus
    target_kind: str
    target_id: str
    target_name: str
    message: str
    owner: OwnerRef
    deputy: OwnerRef | None = None
    evidence: tuple[str, ...] = ()
    references: dict[str, list[str]] = Field(default_factory=dict)
    remediation: str = ""
    rule_file: str = ""
    act: tuple[str, ...] = ()
    good_practice: bool = Field(
        default=False, description="The rule goes beyond the standard's wording: a failure "
        "is an opportunity for improvement, not a nonconformity against a 'shall'.")
    waiver: WaiverRef | None = Field(
        default=None, description="The waiver matched to this finding, if any.")
    baseline: Literal["known", "new", "regressed"] | None = Field(
        default=None, description="With --baseline: 'known' failures were already in the "
        "baseline and do not fail the run; 'new' and 'regressed' (passed in the baseline) do.")
    failing_since: str | None = Field(
        default=None, description="With an escalation ladder and recorded history: the as-of "
        "of the first scan of the unbroken run of failing scans ending with this one; with "
        "--baseline, at the latest when the baseline saw it failing.")
    escalated_to: OwnerRef | None = Field(
        default=None, description="The person this failing finding is escalated to by the "
        "escalation ladder (config 'escalation:'), 'via' naming the step.")
    cause: str | None = Field(
        default=None, description="The underlying fact when it alone makes this finding "
        "fail: '<fact kind>:<subject kind/id>:<reference>' (e.g. 'person.unknown:dataset/"
        "customer-transactions:j.smith@northwind.example'). Findings with the same cause "
        "fail because of the same fact; reports for people show it once.")
    cause_text: str | None = Field(
        default=None, description="The cause in words (one sentence).")

    @property
    def target(self) -> str:
        """``kind/id``."""
        return f"{self.target_kind}/{self.target_id}"

    @property
    def fingerprint(self) -> str:
        """The stable identity of a finding across scans: ``RULE:kind/id``.

        The same value as SARIF's ``partialFingerprints`` and the ticket sync's key.
        """
        return f"{self.rule_id}:{self.target}"

    @property
    def finding_id(self) -> str:
        """A short stable id for people (``F-`` + 16 hex digits of the fingerprint's SHA-256)."""
        return "F-" + hashlib.sha256(self.fingerprint.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What every finding of one rule repeats: shared by the rule's compact passes."""

    rule_id: str
    title: str
    severity: Severity
    references: dict[str, list[str]]
    remediation: str
    rule_file: str
    good_practice: bool


@dataclass(frozen=True, slots=True)
class PassRecord:
    """A passing (rule, target): kept compact in memory, a :class:`Finding` on request.

    A scan holds hundreds of thousands of passes; each is a plain slotted record sharing
    its rule's :class:`RuleInfo` and its owners' :class:`OwnerRef` with the others. Only
    the consumers that show every pass (the population view, ``--passes full``, OSCAL, the
    history) turn them into findings, one at a time.
    """

    rule: RuleInfo
    target_kind: str
    target_id: str
    target_name: str
    message: str
    evidence: tuple[str, ...]
    act: tuple[str, ...]
    owner: OwnerRef
    deputy: OwnerRef | None

    @property
    def rule_id(self) -> str:
        """The rule's id."""
        return self.rule.rule_id

    @property
    def target(self) -> str:
        """``kind/id``."""
        return f"{self.target_kind}/{self.target_id}"

    def to_finding(self) -> Finding:
        """The full finding (the same value the engine would have built)."""
        r = self.rule
        return Finding.model_construct(
            rule_id=r.rule_id, title=r.title, severity=r.severity, status="pass",
            target_kind=self.target_kind, target_id=self.target_id,
            target_name=self.target_name, message=self.message, owner=self.owner,
            deputy=self.deputy, evidence=self.evidence, references=r.references,
            remediation=r.remediation, rule_file=r.rule_file, act=self.act,
            good_practice=r.good_practice, waiver=None, baseline=None, failing_since=None,
            escalated_to=None)


#: ``--passes``: ``compact`` (passes counted per rule, one ``kind/id`` each) or ``full``
#: (every pass as a whole finding, as before).
PASSES_MODES = ("compact", "full")


class PassGroup(_Frozen):
    """The passing targets of one rule (the compact pass format)."""

    rule_id: str
    count: int = Field(description="How many targets pass the rule.")
    targets: tuple[str, ...] = Field(
        default=(), description="Each passing target as 'kind/id', sorted by kind, then id.")


def _order(f: Finding | PassRecord) -> tuple[str, str, str]:
    return (f.rule_id, f.target_kind, f.target_id)


class SourceStatus(_Frozen):
    """The outcome of collecting one source."""

    name: str
    adapter: str
    status: Literal["ok", "error", "skipped"]
    kinds: tuple[str, ...]
    records: int
    diagnostics: tuple[str, ...] = ()


class UnmatchedRecords(_Frozen):
    """Records of one kind from one source that name no known person (nothing vanishes)."""

    source: str = Field(description="The source's name in the config.")
    kind: str = Field(description="The evidence kind (training, absence).")
    count: int
    first: tuple[str, ...] = Field(description="Locators of the first few such records.")
    handles: tuple[str, ...] = Field(description="The first few handles that matched nobody.")


class CoverageRow(_Frozen):
    """One ISO/IEC 42001 clause leaf or Annex A control and the rules that check it."""

    id: str
    title: str
    family: Literal["clause", "annex_a"]
    status: Literal["automated", "partial", "manual"]
    rules: tuple[str, ...] = ()
    note: str = Field("", description="For partial and manual ids: what the rules do not "
                      "check, i.e. the manual evidence still required.")


OwnerStatus = Literal["missing", "unknown", "not_individual", "terminated", "contractor",
                      "on_leave", "untrained", "active"]
#: Matrix statuses from worst to best: a red gap first, then the amber ones, then active.
OWNER_STATUS_ORDER: tuple[str, ...] = ("missing", "unknown", "not_individual", "terminated",
                                       "contractor", "on_leave", "untrained", "active")


class MatrixOwner(_Frozen):
    """The holder of one owner role on a subject and their status at the as-of.

    A role the loaded rules require of the subject's kind but nobody holds is a cell too:
    ``status`` ``missing``, no handle, ``detail`` naming the rules that require it.
    """

    role: str
    handle: str
    person_id: str | None = None
    name: str | None = None
    email: str | None = None
    status: OwnerStatus
    detail: str = ""


class MatrixRow(_Frozen):
    """One row of the accountability matrix: a subject and its owners by role."""

    kind: str
    id: str
    name: str
    locator: str = ""
    owners: tuple[MatrixOwner, ...] = ()
    required: tuple[str, ...] = Field(
        default=(), description="Owner roles the loaded rules require of this subject "
        "(none for a retired subject); each one nobody holds is a 'missing' owner cell.")
    retired: bool = False

    @property
    def key(self) -> str:
        """``kind/id``."""
        return f"{self.kind}/{self.id}"

    @property
    def worst(self) -> str:
        """The worst status among the owner cells (``missing`` when there are none)."""
        if not self.owners:
            return "active" if self.retired else "missing"
        return min((o.status for o in self.owners), key=OWNER_STATUS_ORDER.index)

    def cell(self, role: str) -> MatrixOwner | None:
        """The owner cell of ``role`` (None when the role is neither held nor required)."""
        return next((o for o in self.owners if o.role == role), None)


class HistoryPoint(_Frozen):
    """Readiness of an earlier (or this) scan, for readiness over time."""

    as_of: str
    readiness: float = Field(description="(pass + warn) / (total − not_applicable), in %.")
    failing: int
    total: int


class ClosedFinding(_Frozen):
    """A finding that failed before (recorded scan or ``--baseline``) and no longer fails.

    ISO/IEC 42001 10.2: it failed in the latest recorded scan, or in the ``--baseline``
    scan. The corrective action is *verified* by this scan: the rule now holds (or the finding
    is waived, or its subject is gone).
    """

    rule_id: str
    target_kind: str
    target_id: str
    first_seen: str = Field(description="As-of of the first scan of its failing run.")
    closed_at: str = Field(description="As-of of this scan, which no longer fails it.")
    status_now: str = Field(description="pass, warn, waived, not_applicable, or 'gone' "
                            "when the subject is no longer in the evidence.")

    @property
    def target(self) -> str:
        """``kind/id``."""
        return f"{self.target_kind}/{self.target_id}"


class ScanResult(_Frozen):
    """Everything a reporter needs: metadata, sources, findings and the summary."""

    schema_version: str = SCHEMA_VERSION
    tool: str = "aimscheck"
    tool_version: str
    organisation: str
    as_of: str
    mode: str = "scan"
    gate: dict[str, str] | None = None
    fail_on: Severity = Severity.LOW
    rule_packs: tuple[str, ...] = ()
    sources: tuple[SourceStatus, ...] = ()
    unmatched: tuple[UnmatchedRecords, ...] = Field(
        default=(), description="Per source and kind: records that attach to no known person.")
    findings: tuple[Finding, ...] = Field(
        default=(), description="Every finding that does not pass (and, with '--passes "
        "full', every pass too), by rule, target kind and id.")
    passes: tuple[PassGroup, ...] = Field(
        default=(), description="Per rule, the targets that pass it (compact: their "
        "messages, owners and evidence are in the findings with '--passes full').")
    rule_pack_digest: str | None = Field(
        default=None, description="SHA-256 over the rule files of the packs used.")
    config_digest: str | None = Field(
        default=None, description="SHA-256 of the config file's bytes.")
    prepared_by: str | None = Field(
        default=None, description="Who prepared the assessment (config 'prepared_by').")
    corrective_action_days: dict[str, int] = Field(
        default_factory=dict, description="Days from first sighting to the due date of a "
        "failing finding, by severity (settings.corrective_action_days).")
    concentration_max_roles: int = Field(
        default=8, description="Owner roles a person may hold before the matrix's "
        "concentration view flags them as overloaded (settings.concentration_max_roles).")
    closed: tuple[ClosedFinding, ...] = Field(
        default=(), description="With recorded history: findings that failed in the latest "
        "earlier scan and no longer fail (corrective action verified).")
    summary: dict[str, Any] = Field(default_factory=dict)
    exit_code: int = 0
    evidence_digest: str | None = Field(
        default=None, description="SHA-256 of the evidence snapshot's manifest.json when "
        "the scan ran on a snapshot ('scan --evidence DIR'), as 'sha256:<hex>'.")
    coverage: tuple[CoverageRow, ...] = ()
    matrix: tuple[MatrixRow, ...] = ()
    links: dict[str, str] = Field(
        default_factory=dict, description="Evidence locator → URL, where the source has one.")
    history: tuple[HistoryPoint, ...] = ()
    # Where the run's files live, for reporters that point into the repository (SARIF,
    # ``github`` annotations). Never serialised: outputs stay free of machine paths.
    config_file: Path | None = Field(default=None, exclude=True, repr=False)
    repo_root: Path | None = Field(default=None, exclude=True, repr=False)
    # How reporters write passes (``--passes``); never serialised.
    passes_mode: Literal["compact", "full"] = Field(default="compact", exclude=True,
                                                    repr=False)
    # The passes in full detail (in memory only; a result read back from JSON has none).
    _pass_records: tuple[PassRecord, ...] = PrivateAttr(default=())

    def with_pass_records(self, records: tuple[PassRecord, ...]) -> ScanResult:
        """This result holding ``records`` (sorted by rule, target kind, id) in memory."""
        self._pass_records = records
        return self

    @property
    def pass_records(self) -> tuple[PassRecord, ...]:
        """The passes in full detail, sorted by rule, target kind and id."""
        return self._pass_records

    def all_findings(self) -> Iterator[Finding]:
        """Every finding, passes included, by rule, target kind and id (streamed).

        Passes become full findings one at a time; a result read back from a compact JSON
        output yields only the findings it holds.
        """
        if not self._pass_records:
            yield from self.findings
            return
        both: Iterator[Finding | PassRecord] = heapq.merge(
            self.findings, self._pass_records, key=_order)
        for f in both:
            yield f if isinstance(f, Finding) else f.to_finding()

    def pass_counts(self) -> dict[str, int]:
        """Passes per rule id."""
        return {g.rule_id: g.count for g in self.passes}

    def passes_by_rule(self) -> list[tuple[RuleInfo, int]]:
        """Each rule with passes held in memory, and how many (for counts by reference)."""
        out: dict[str, tuple[RuleInfo, int]] = {}
        for p in self._pass_records:
            info, n = out.get(p.rule.rule_id, (p.rule, 0))
            out[p.rule.rule_id] = (info, n + 1)
        return list(out.values())

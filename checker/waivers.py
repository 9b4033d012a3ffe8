"""Governed waivers: every exception to a rule is a named person's dated, signed decision.

The waiver policy (who may approve, for how long) is governance's, so it lives in the main
config, ``aimscheck.yaml``, never in the file it governs::

    waiver_policy:
      approver_roles: [executive, ai-risk-owner]   # who may approve (HR roles)
      max_days: {critical: 30, high: 90, medium: 180, low: 365}
      warn_days: 14                                # warn when a waiver ends this soon

A waivers file (``scan --waivers FILE`` or ``waivers:`` in ``aimscheck.yaml``) holds only
the waivers; a ``policy:`` block in it is an error (E390 at its line), never obeyed::

    version: 1
    waivers:
      - id: WVR-001
        rule: AIMS-TRN-001
        subject: risk/RSK-004                      # kind/id, or a bare id
        reason: Course retired; replacement course opens in January.
        requested_by: ingrid.halvorsen@example.com
        approved_by: helena.vogt@example.com
        start: 2026-11-01
        expiry: 2027-01-15                         # last day the waiver holds (inclusive)
        risk_acceptance: RSK-004                   # the risk or review that accepts it

The risk acceptance must be about the waived subject (the risk itself, a risk of the same
AI system, or a review/approval of that subject) **and** name the waived rule: a risk in
the register lists it under ``accepts_rules: [AIMS-TRN-001]``, a review or approval record
in its ``rules`` field (JSON Lines ``"rules": [...]``; Jira: the field mapped by
``rules:``). An acceptance of one rule does not cover a waiver of another.

Waivers are applied **after** evaluation by :func:`apply_waivers`, a pure function of the
findings, the evidence store and the as-of (no I/O, no clock). A failing finding matched by
a waiver becomes ``waived`` and names the approver and the expiry. The waiver stops holding
— and the finding stays ``fail``, with a message saying why — when it has expired or not yet
started, when it is longer than the policy allows for the rule's severity, when its
approver is not available (:func:`checker.availability.availability`: unknown, not an
individual, left, not yet joined, on leave), lacks an authorised
role, owns the subject, or requested the waiver themself, or when its risk acceptance is
not in the evidence, is about another subject or does not name the waived rule. Waivers
never apply to ``error`` findings (missing evidence cannot be waived). Rule files have no
inline skips: this file is the only way to waive.

Diagnostics: E390 schema (unknown/missing key, wrong type, a ``policy:`` block), E391
dates, E392 unknown rule, E393 duplicate waiver id.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .availability import availability
from .config import DEFAULT_WAIVER_MAX_DAYS, Settings, WaiverPolicy
from .errors import ConfigError, Diagnostic
from .evidence import Subject
from .findings import Finding, PassRecord, WaiverRef
from .registry import did_you_mean
from .severity import Severity
from .store import EvidenceStore
from .timeutil import day_end, day_start
from .yamlsrc import Located, load_yaml_file

__all__ = [
    "Waiver",
    "WaiverFile",
    "WaiverPolicy",
    "apply_waivers",
    "load_waivers",
]

DEFAULT_MAX_DAYS: dict[Severity, int] = DEFAULT_WAIVER_MAX_DAYS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Waiver(_Strict):
    """One waiver: an exception to one rule for one subject."""

    id: str = Field(min_length=1)
    rule: str = Field(min_length=1, description="The rule id.")
    subject: str = Field(min_length=1, description="The target: kind/id or a bare id.")
    reason: str = Field(min_length=1)
    requested_by: str = Field(min_length=1, description="Who asked (a person handle).")
    approved_by: str = Field(min_length=1, description="Who decided (a person handle).")
    start: date
    expiry: date = Field(description="Last day the waiver holds (inclusive).")
    risk_acceptance: str = Field(
        min_length=1, description="Id of the risk (register) or review/approval record "
        "that accepts the residual risk.")

    def matches(self, f: Finding | PassRecord) -> bool:
        """True when this waiver names the finding's rule and target."""
        if f.rule_id != self.rule:
            return False
        s = self.subject.strip()
        return s == f.target or s == f.target_id

    @property
    def ends(self) -> datetime:
        """The first instant the waiver no longer holds (midnight after ``expiry``)."""
        return day_end(self.expiry)


class WaiverFile(_Strict):
    """The whole waivers file: the waivers only (the policy is in ``aimscheck.yaml``)."""

    version: Literal[1] = 1
    waivers: tuple[Waiver, ...] = ()


@dataclass
class LoadedWaivers:
    """A validated waivers file with its source positions."""

    data: WaiverFile
    located: Located

    def locator(self, index: int) -> str:
        """``file:line`` of waiver number ``index``."""
        line, _ = self.located.at(("waivers", index))
        return f"{self.located.file}:{line}"


def load_waivers(path: Path, rule_ids: set[str] | None = None) -> LoadedWaivers:
    """Load and validate a waivers file; ConfigError lists every problem with file:line."""
    located, diags = load_yaml_file(path)
    if located is None:
        raise ConfigError(diags)
    if not isinstance(located.data, dict):
        raise ConfigError(located.diag((), "E390", "a waivers file is a mapping with "
                                       "'waivers:'"))
    if "policy" in located.data:
        # checked before the schema so this is the message, not "unknown key"
        raise ConfigError(located.diag(
            ("policy",), "E390", "a waivers file cannot set the waiver policy: 'policy:' "
            "(who may approve, for how long) is governance's and is not read from the file "
            "it governs, so a waivers file can never grant itself authority",
            "move it to aimscheck.yaml under 'waiver_policy:' (same keys: approver_roles, "
            "max_days, warn_days) and delete it here", key=True))
    try:
        data = WaiverFile.model_validate(located.data)
    except ValidationError as exc:
        raise ConfigError(_diags(exc, located)) from None
    out: list[Diagnostic] = []
    seen: dict[str, int] = {}
    for i, w in enumerate(data.waivers):
        if w.id in seen:
            out.append(located.diag(("waivers", i, "id"), "E393", f"duplicate waiver id "
                                    f"{w.id!r}", f"first used on line {seen[w.id]}"))
        seen.setdefault(w.id, located.at(("waivers", i))[0])
        if w.expiry < w.start:
            out.append(located.diag(("waivers", i, "expiry"), "E391",
                                    f"expiry {w.expiry} is before start {w.start}"))
        if rule_ids is not None and w.rule not in rule_ids:
            out.append(located.diag(("waivers", i, "rule"), "E392", f"unknown rule {w.rule!r}",
                                    did_you_mean(w.rule, sorted(rule_ids))
                                    or "see 'aimscheck rules list'"))
    if out:
        raise ConfigError(sorted(out))
    return LoadedWaivers(data, located)


def _diags(exc: ValidationError, located: Located) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            out.append(located.diag(loc, "E390", f"unknown key {loc[-1]!r}",
                                    "remove it, or check its spelling", key=True))
        elif err["type"] == "missing":
            out.append(located.diag(loc[:-1], "E390", f"missing required key {loc[-1]!r}",
                                    f"add '{loc[-1]}:'"))
        elif err["type"].startswith("date"):
            out.append(located.diag(loc, "E391", f"{where}: {err['msg']} "
                                    f"(got {err.get('input')!r})", "write YYYY-MM-DD"))
        else:
            shown = err.get("input")
            text = repr(shown) if not isinstance(shown, dict | list) else type(shown).__name__
            out.append(located.diag(loc, "E390", f"{where}: {err['msg']} (got {text[:80]})"))
    return sorted(out)


def _person_text(store: EvidenceStore, handle: str) -> tuple[str, str | None]:
    p = store.identity.resolve(handle)
    if p is None:
        return handle, None
    return (f"{p.name} <{p.primary_email}>" if p.primary_email else p.name), p.id


def _problem(w: Waiver, f: Finding, store: EvidenceStore, as_of: datetime,
             policy: WaiverPolicy, record_ids: frozenset[str],
             settings: Settings | None) -> str | None:
    """Why the waiver does not hold at ``as_of`` (None when it holds)."""
    if as_of < day_start(w.start):
        return f"waiver {w.id} starts on {w.start}"
    if as_of >= w.ends:
        return f"waiver {w.id} expired on {w.expiry}"
    limit = policy.max_days.get(f.severity, DEFAULT_MAX_DAYS[f.severity])
    days = (w.expiry - w.start).days
    if days > limit:
        return (f"waiver {w.id} runs {days} days; the policy allows at most {limit} for "
                f"{f.severity} rules")
    avail = availability(store.identity, w.approved_by, as_of, settings)
    approver = avail.person
    if approver is None:
        return f"approver {w.approved_by!r} of waiver {w.id} is not a known person"
    if not avail.present or not avail.individual:
        # the one availability test decides; the waiver words it for its reader
        why = {"terminated": "has left the organisation",
               "not_hired": "has not joined the organisation yet",
               "on_leave": "is on leave"}.get(avail.status, f"cannot approve: {avail.reason}")
        if avail.status == "not_individual":
            why = f"is a {approver.kind}, not a person"
        return f"approver {approver.name} of waiver {w.id} {why}"
    if not set(approver.roles) & set(policy.approver_roles):
        return (f"approver {approver.name} of waiver {w.id} lacks authority (needs one of "
                f"the roles {', '.join(policy.approver_roles)})")
    requester = store.identity.resolve(w.requested_by)
    if requester is None:
        return f"requester {w.requested_by!r} of waiver {w.id} is not a known person"
    if requester.id == approver.id:
        return f"waiver {w.id} was approved by its own requester {approver.name}"
    subject = store.subject(f.target_id, f.target_kind)
    if subject is not None:
        for role, handle in sorted(subject.owners.items()):
            owner = store.identity.resolve(handle)
            if owner is not None and owner.id == approver.id:
                return (f"approver {approver.name} of waiver {w.id} is the subject's "
                        f"{role} owner and cannot waive their own finding")
    if f.owner.id == approver.id:
        return (f"approver {approver.name} of waiver {w.id} owns this finding and cannot "
                "waive it")
    ra = w.risk_acceptance
    risk = store.subject(ra)
    records = [r for r in store.reviews() if r.id == ra]
    if risk is None and ra not in record_ids and not records:
        return (f"risk acceptance {ra!r} of waiver {w.id} is not in the evidence (a risk in "
                "the register, or a review or approval record)")
    about = _about(store, ra, risk, records, f)
    if not about:
        return (f"risk acceptance {ra!r} of waiver {w.id} is not about {f.target}: an "
                "acceptance only counts for the subject it names (the risk itself, a risk "
                "of the same AI system, or a review/approval of that subject)")
    rule = f.rule_id.casefold()
    if not any(rule in {r.casefold() for r in rules} for rules in about):
        named = sorted({r for rules in about for r in rules})
        return (f"risk acceptance {ra!r} of waiver {w.id} does not name rule {f.rule_id} "
                f"(it names {', '.join(named) if named else 'no rule'}): an acceptance "
                "covers only the rules it lists (accepts_rules: on the risk in the register, "
                "rules on a review or approval record)")
    return None


def accepted_rules(value: Any) -> tuple[str, ...]:
    """Rule ids of a risk's ``accepts_rules`` attribute (a list, or ids in one string)."""
    if isinstance(value, str):
        return tuple(t for t in re.split(r"[\s,;]+", value) if t)
    if isinstance(value, list | tuple):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return ()


def _about(store: EvidenceStore, ra: str, risk: Subject | None, reviews: list[Any],
           f: Finding) -> list[tuple[str, ...]]:
    """The rule lists of the records named ``ra`` that are about the waived subject.

    An acceptance found somewhere in the evidence is not enough: a risk accepted for one
    system must not waive a finding on another, and (checked by the caller) an acceptance
    of one rule must not waive another.
    """
    target = store.subject(f.target_id, f.target_kind) if f.target_kind != "person" else None
    names = {f.target.casefold(), f.target_id.casefold()}
    systems = {f.target_id.casefold()}
    if target is not None:
        system = target.attributes.get("system")
        if isinstance(system, str):
            systems.add(system.casefold())
    out: list[tuple[str, ...]] = []
    if risk is not None:
        sys_ = risk.attributes.get("system")
        if (risk.key.casefold() in names or risk.id.casefold() in names
                or (isinstance(sys_, str) and sys_.casefold() in systems)):
            out.append(accepted_rules(risk.attributes.get("accepts_rules")))
    out.extend(r.rules for r in reviews if r.subject.strip().casefold() in names | systems)
    out.extend(a.rules for a in store.approvals_for(f.target_id)
               if a.id == ra and a.subject.strip().casefold() in names | systems)
    return out


def apply_waivers(findings: list[Finding], waivers: WaiverFile, store: EvidenceStore,
                  as_of: datetime, *, policy: WaiverPolicy | None = None,
                  locators: dict[str, str] | None = None,
                  record_ids: frozenset[str] = frozenset(),
                  settings: Settings | None = None,
                  passes: Sequence[PassRecord] = (),
                  ) -> tuple[list[Finding], list[str]]:
    """Apply waivers to findings (pure: no I/O, the as-of is the only "now").

    Args:
        findings: The evaluated findings.
        passes: The compact passes (sorted like ``findings``): a waiver matching one is
            not needed (a note); passes are never changed.
        waivers: The waivers file.
        store: The evidence (people for approvers, subjects for owners).
        as_of: The evaluation time.
        policy: The config's ``waiver_policy`` (None = the defaults).
        locators: waiver id → ``file:line``, for the notes.
        record_ids: Ids of approval records (a risk acceptance may name one).
        settings: The config's settings (shared-mailbox patterns, contractors) for the
            approver's availability.

    Returns:
        The findings (waived ones replaced) and notes for the user: waivers expiring
        soon, waivers that no longer hold, waivers matching no failing finding.
    """
    locs = locators or {}
    policy = policy or WaiverPolicy()
    notes: list[str] = []
    used: set[str] = set()
    out: list[Finding] = []
    waived_rules = {w.rule for w in waivers.waivers}
    relevant = [p for p in passes if p.rule_id in waived_rules]
    # In one sequence by rule, target kind and id, so the notes keep that order.
    merged: Iterable[Finding | PassRecord] = heapq.merge(
        findings, relevant, key=lambda f: (f.rule_id, f.target_kind, f.target_id)
    ) if relevant else findings
    for f in merged:
        w = next((w for w in waivers.waivers if w.matches(f)), None)
        if isinstance(f, PassRecord):
            if w is not None:
                used.add(w.id)
                where = f" ({locs[w.id]})" if w.id in locs else ""
                notes.append(f"waiver {w.id}{where}: {f.rule_id} {f.target} passes; the "
                             "waiver is not needed")
            continue
        if w is None:
            out.append(f)
            continue
        used.add(w.id)
        where = f" ({locs[w.id]})" if w.id in locs else ""
        if f.status != "fail":
            if f.status == "error":
                notes.append(f"waiver {w.id}{where}: {f.rule_id} {f.target} is an error "
                             "(evidence missing); errors cannot be waived")
            elif f.status in ("pass", "not_applicable"):
                notes.append(f"waiver {w.id}{where}: {f.rule_id} {f.target} passes; the "
                             "waiver is not needed")
            out.append(f)
            continue
        approver, approver_id = _person_text(store, w.approved_by)
        requester, _ = _person_text(store, w.requested_by)
        problem = _problem(w, f, store, as_of, policy, record_ids, settings)
        left = (w.ends - as_of) / timedelta(days=1)
        state: Literal["active", "expiring", "invalid"] = (
            "invalid" if problem else "expiring" if left <= policy.warn_days else "active")
        ref = WaiverRef(id=w.id, approved_by=approver, approver_id=approver_id,
                        requested_by=requester, reason=w.reason, start=w.start.isoformat(),
                        expiry=w.expiry.isoformat(), risk_acceptance=w.risk_acceptance,
                        state=state, problem=problem)
        if problem:
            notes.append(f"waiver {w.id}{where} no longer holds: {problem}")
            out.append(f.model_copy(update={
                "waiver": ref,
                "message": f"{problem}, so the finding fails again: {f.message}"}))
            continue
        soon = ""
        if state == "expiring":
            days = int(left) if left == int(left) else int(left) + 1
            soon = f" (expires in {days} day{'s' if days != 1 else ''})"
            notes.append(f"waiver {w.id}{where} for {f.rule_id} {f.target} expires on "
                         f"{w.expiry}{soon}; renew it or fix the finding")
        out.append(f.model_copy(update={
            "status": "waived", "waiver": ref,
            "message": f"waived by {approver} until {w.expiry}{soon} ({w.id}: {w.reason}); "
                       f"finding: {f.message}"}))
    for w in waivers.waivers:
        if w.id not in used:
            where = f" ({locs[w.id]})" if w.id in locs else ""
            notes.append(f"waiver {w.id}{where} matches no finding of {w.rule} on "
                         f"{w.subject}")
    return out, notes

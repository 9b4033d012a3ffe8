"""The management-review pack (ISO/IEC 42001 9.3): trends, corrective actions and KPIs.

Built from the recorded scans of the history store (``scan --record``) up to the as-of,
plus the current scan (which replaces a recorded scan of the same as-of):

- **trends** per scan: failing findings by severity, new and resolved since the scan
  before, readiness; and failing findings per clause (4–10) and Annex A objective
  (A.2–A.10), through the ISO/IEC 42001 references of the loaded rules;
- **this period** (the latest recorded scan before the as-of → this scan): the findings
  that are new, resolved, and overdue (past first sighting + ``corrective_action_days``);
- **time to close**: every run of failing scans that ended within the history, from its
  first failing scan to the first scan that no longer fails it, in days;
- **KPI tiles**: releases approved before deployment (``release_approved``), risk reviews
  on cadence (``reviewed_within`` on risks), training coverage (``owner_trained``,
  ``role_trained``), incident SLA met (``incident_acknowledged_within``,
  ``incident_escalated``) — the share of applicable findings of the rules that use the
  KPI's checks that hold (pass or warn; a waived finding does not count as met), now and at
  the scan before.

Everything is computed from the as-of and the recorded scans, never from the clock.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from .findings import FAILING, Finding, ScanResult
from .rules import CompiledRule
from .severity import SEVERITY_NAMES
from .timeutil import format_ts, parse_ts

__all__ = ["GROUP_TITLES", "KPIS", "ClauseTrend", "ClosedRun", "Item", "Kpi", "Point",
           "Review", "TrendRow", "build_review", "point_of"]

Key = tuple[str, str, str]

#: KPI id → (title, what is counted, the checks whose findings measure it, and the target
#: kinds of the rules that count — None: any).
KPIS: dict[str, tuple[str, str, frozenset[str], frozenset[str] | None]] = {
    "releases_approved": ("Releases approved before deployment", "production releases",
                          frozenset({"release_approved"}), None),
    "risk_reviews": ("Risk reviews on cadence", "risks", frozenset({"reviewed_within"}),
                     frozenset({"risk"})),
    "training": ("Training coverage", "owners and people in accountable roles",
                 frozenset({"owner_trained", "role_trained"}), None),
    "incident_sla": ("Incident SLA met", "incident checks",
                     frozenset({"incident_acknowledged_within", "incident_escalated"}),
                     None),
}

#: Headings of clauses 4–10 and the Annex A objectives (paraphrased).
GROUP_TITLES: dict[str, str] = {
    "4": "Context of the organization", "5": "Leadership", "6": "Planning", "7": "Support",
    "8": "Operation", "9": "Performance evaluation", "10": "Improvement",
    "A.2": "Policies related to AI", "A.3": "Internal organization",
    "A.4": "Resources for AI systems", "A.5": "Assessing impacts of AI systems",
    "A.6": "AI system life cycle", "A.7": "Data for AI systems",
    "A.8": "Information for interested parties", "A.9": "Use of AI systems",
    "A.10": "Third-party and customer relationships",
}

_MET = frozenset({"pass", "warn"})
_NOT_MET = frozenset({"fail", "error", "waived"})


@dataclass(frozen=True)
class Point:
    """One scan: the status and severity of every finding, by (rule, kind, id)."""

    as_of: str
    findings: dict[Key, tuple[str, str]]
    recorded: bool = True

    def failing(self) -> dict[Key, str]:
        """Failing findings → severity."""
        return {k: sev for k, (st, sev) in self.findings.items() if st in FAILING}

    @property
    def readiness(self) -> float:
        """(pass + warn) / (total − not applicable), in %."""
        statuses = [st for st, _ in self.findings.values()]
        applicable = len(statuses) - statuses.count("not_applicable")
        ok = sum(1 for st in statuses if st in _MET)
        return round(100.0 * ok / applicable, 1) if applicable else 100.0


@dataclass(frozen=True)
class TrendRow:
    """One scan of the trend: failing findings by severity, new and resolved."""

    as_of: str
    by_severity: dict[str, int]
    failing: int
    new: int | None
    resolved: int | None
    readiness: float
    current: bool


@dataclass(frozen=True)
class ClauseTrend:
    """Failing findings citing one clause or Annex A objective, per scan."""

    group: str
    title: str
    counts: tuple[int, ...]

    @property
    def change(self) -> int:
        """The last count minus the one before (0 with one scan)."""
        return self.counts[-1] - self.counts[-2] if len(self.counts) > 1 else 0


@dataclass(frozen=True)
class Item:
    """A finding in the period lists (new, resolved, overdue)."""

    finding_id: str
    rule_id: str
    target: str
    target_name: str
    severity: str
    owner: str
    first_seen: str
    detail: str


@dataclass(frozen=True)
class ClosedRun:
    """A run of failing scans that ended: the corrective action took ``days``."""

    rule_id: str
    target: str
    severity: str
    opened: str
    closed: str
    days: int


@dataclass(frozen=True)
class Kpi:
    """A KPI tile: applicable findings of the KPI's rules that hold, now and before."""

    id: str
    title: str
    unit: str
    met: int
    total: int
    rules: tuple[tuple[str, int, int], ...]
    previous: tuple[str, int, int] | None

    @property
    def pct(self) -> float | None:
        """Met / total in % (None when nothing was measured)."""
        return round(100.0 * self.met / self.total, 1) if self.total else None

    @property
    def previous_pct(self) -> float | None:
        """The same share at the scan before (None without one, or with nothing measured)."""
        if self.previous is None or not self.previous[2]:
            return None
        return round(100.0 * self.previous[1] / self.previous[2], 1)


@dataclass
class Review:
    """The management-review pack."""

    organisation: str
    as_of: str
    previous_as_of: str | None
    recorded_scans: int
    trend: list[TrendRow]
    clauses: list[ClauseTrend]
    new: list[Item]
    resolved: list[Item]
    overdue: list[Item]
    open_count: int
    closed_runs: list[ClosedRun]
    kpis: list[Kpi]
    corrective_action_days: dict[str, int] = field(default_factory=dict)

    @property
    def time_to_close(self) -> dict[str, float | int | None]:
        """Count, median, mean and longest days to close over the closed runs."""
        days = [c.days for c in self.closed_runs]
        return {"closed": len(days),
                "median_days": round(float(statistics.median(days)), 1) if days else None,
                "mean_days": round(statistics.fmean(days), 1) if days else None,
                "max_days": max(days) if days else None}

    @property
    def time_to_close_by_severity(self) -> dict[str, tuple[int, float]]:
        """Severity → (closed runs, median days), most severe first, severities with runs."""
        out: dict[str, tuple[int, float]] = {}
        for sev in SEVERITY_NAMES:
            days = [c.days for c in self.closed_runs if c.severity == sev]
            if days:
                out[sev] = (len(days), round(float(statistics.median(days)), 1))
        return out


def _group_id(ref: str) -> str:
    parts = ref.split(".")
    return ".".join(parts[:2]) if ref.startswith("A.") else parts[0]


def _group_order(g: str) -> tuple[int, int]:
    if g.startswith("A."):
        return (1, int(g[2:]) if g[2:].isdigit() else 99)
    return (0, int(g) if g.isdigit() else 99)


def point_of(result: ScanResult) -> Point:
    """The current scan as a trend point."""
    return Point(as_of=result.as_of, recorded=False, findings={
        (f.rule_id, f.target_kind, f.target_id): (f.status, str(f.severity))
        for f in result.all_findings()})


def _item(f: Finding | None, key: Key, severity: str, first_seen: str, detail: str) -> Item:
    target = f"{key[1]}/{key[2]}"
    if f is None:
        return Item(finding_id="—", rule_id=key[0], target=target, target_name=key[2],
                    severity=severity, owner="—", first_seen=first_seen[:10], detail=detail)
    owner = f"{f.owner.name} <{f.owner.email}>" if f.owner.email else f.owner.name
    return Item(finding_id=f.finding_id, rule_id=f.rule_id, target=target,
                target_name=f.target_name, severity=str(f.severity), owner=owner,
                first_seen=first_seen[:10], detail=detail)


def _kpi_rules(rules: Iterable[CompiledRule]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in KPIS}
    for r in rules:
        names = {c.name for c in r.require}
        for kpi, (_, _, checks, kinds) in KPIS.items():
            if names & checks and (kinds is None or kinds & set(r.applies_to)):
                out[kpi].append(r.id)
    return {k: sorted(v) for k, v in out.items()}


def _measure(p: Point, rule_ids: Sequence[str]) -> list[tuple[str, int, int]]:
    out = []
    for rid in rule_ids:
        statuses = [st for (r, _, _), (st, _) in p.findings.items() if r == rid]
        met = sum(1 for st in statuses if st in _MET)
        out.append((rid, met, met + sum(1 for st in statuses if st in _NOT_MET)))
    return out


def build_review(recorded: Sequence[Point], result: ScanResult,
                 rules: Sequence[CompiledRule], *, max_points: int = 12) -> Review:
    """The review pack from the recorded scans (oldest first) and the current scan.

    Recorded scans after the as-of are ignored; one with the as-of of the current scan is
    replaced by it. Trend tables show the last ``max_points`` scans (time to close counts
    them all).
    """
    as_of = parse_ts(result.as_of)
    current = point_of(result)
    points = [p for p in recorded if parse_ts(p.as_of) < as_of]
    points.sort(key=lambda p: parse_ts(p.as_of))
    points.append(current)
    previous = points[-2] if len(points) > 1 else None
    refs: dict[str, list[str]] = {r.id: list(r.references.get("iso42001", [])) for r in rules}
    for f in result.findings:  # rules of plug-in packs found only through their findings
        refs.setdefault(f.rule_id, list(f.references.get("iso42001", [])))

    # trend by severity, new and resolved between consecutive scans
    trend: list[TrendRow] = []
    for i, p in enumerate(points):
        fails = p.failing()
        before = points[i - 1].failing() if i else None
        trend.append(TrendRow(
            as_of=p.as_of, failing=len(fails),
            by_severity={s: sum(1 for v in fails.values() if v == s) for s in SEVERITY_NAMES},
            new=len(fails.keys() - before.keys()) if before is not None else None,
            resolved=len(before.keys() - fails.keys()) if before is not None else None,
            readiness=p.readiness, current=not p.recorded))
    shown = points[-max_points:]
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(shown):
        for key in p.failing():
            for g in {_group_id(ref) for ref in refs.get(key[0], [])}:
                groups.setdefault(g, [0] * len(shown))[i] += 1
    clauses = [ClauseTrend(g, GROUP_TITLES.get(g, ""), tuple(c))
               for g, c in sorted(groups.items(), key=lambda x: _group_order(x[0]))]

    # time to close: every failing run that ended, over all scans
    closed_runs: list[ClosedRun] = []
    open_since: dict[Key, tuple[str, str]] = {}
    for p in points:
        fails = p.failing()
        for k in sorted(open_since.keys() - fails.keys()):
            opened, sev = open_since.pop(k)
            closed_runs.append(ClosedRun(
                rule_id=k[0], target=f"{k[1]}/{k[2]}", severity=sev, opened=opened[:10],
                closed=p.as_of[:10], days=(parse_ts(p.as_of) - parse_ts(opened)).days))
        for k, sev in fails.items():
            open_since.setdefault(k, (p.as_of, sev))

    # this period
    by_key = {(f.rule_id, f.target_kind, f.target_id): f for f in result.findings}
    passed = {(p.rule_id, p.target_kind, p.target_id): p for p in result.pass_records}
    now_failing = current.failing()
    before = previous.failing() if previous is not None else {}
    new = [_item(by_key.get(k), k, sev, by_key[k].failing_since or result.as_of,
                 by_key[k].message)
           for k, sev in sorted(now_failing.items()) if k not in before]
    closed_now = {(c.rule_id, c.target): c for c in closed_runs
                  if c.closed == result.as_of[:10]}
    resolved = []
    for k, sev in sorted(before.items()):
        if k in now_failing:
            continue
        was = by_key.get(k) or (passed[k].to_finding() if k in passed else None)
        ended = closed_now[(k[0], f"{k[1]}/{k[2]}")]
        status = (was.status if was is not None
                  else "gone (the subject is no longer in the evidence)")
        resolved.append(_item(was, k, sev, ended.opened, f"now {status}, closed after "
                              f"{ended.days} days"))
    days = result.corrective_action_days
    overdue = []
    for k, sev in sorted(now_failing.items()):
        f = by_key[k]
        first = f.failing_since or result.as_of
        if sev in days:
            due = parse_ts(first) + timedelta(days=days[sev])
            if as_of > due:
                overdue.append(_item(f, k, sev, first, f"due {format_ts(due)[:10]}, "
                                     f"{(as_of - due).days} days overdue"))
    overdue.sort(key=lambda x: (x.first_seen, x.rule_id, x.target))

    # KPI tiles
    kpi_rules = _kpi_rules(rules)
    kpis = []
    for kid, (title, unit, _, _) in KPIS.items():
        now = _measure(current, kpi_rules[kid])
        prev = _measure(previous, kpi_rules[kid]) if previous is not None else None
        kpis.append(Kpi(
            id=kid, title=title, unit=unit, met=sum(m for _, m, _ in now),
            total=sum(t for _, _, t in now), rules=tuple(now),
            previous=(previous.as_of[:10], sum(m for _, m, _ in prev),
                      sum(t for _, _, t in prev)) if previous is not None and prev else None))

    return Review(
        organisation=result.organisation, as_of=result.as_of,
        previous_as_of=previous.as_of if previous is not None else None,
        recorded_scans=len(points) - 1, trend=trend[-max_points:], clauses=clauses,
        new=new, resolved=resolved, overdue=overdue, open_count=len(now_failing),
        closed_runs=closed_runs, kpis=kpis,
        corrective_action_days=dict(result.corrective_action_days))

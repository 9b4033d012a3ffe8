"""Readable terminal output: who must act, grouped by named owner, then a summary line."""

from __future__ import annotations

from collections import defaultdict

from checker.findings import Finding, ScanResult

from ._common import FactGroup, by_cause, fact_groups, neutralise_lines, summary_line
from ._gate import render_gate
from .base import Reporter, register_reporter

__all__ = ["TextReporter"]



def _person(f: Finding) -> str:
    o = f.owner
    return f"{o.name} <{o.email}>" if o.email else o.name


def _count(items: list[Finding | FactGroup]) -> int:
    return sum(len(i.findings) if isinstance(i, FactGroup) else 1 for i in items)


def _item_lines(item: Finding | FactGroup) -> list[str]:
    """One failing finding, or one fact with the rules it fails (printed once)."""
    f = item.lead if isinstance(item, FactGroup) else item
    out: list[str] = []
    if isinstance(item, FactGroup):
        out.append(f"    {f.status.upper():5} {f.severity:8} {item.target}: {item.text}")
        out.append(f"          fails {len(item.findings)} rules: {item.rules}")
        others = [g for g in item.findings if g.owner.id != f.owner.id]
        for g in others:
            out.append(f"          owner of {g.rule_id}: {_person(g)}")
    else:
        gp = "  [good practice]" if f.good_practice else ""
        out.append(f"    {f.status.upper():5} {f.severity:8} {f.rule_id} "
                   f"{f.target}: {f.message}{gp}")
    evidence = item.evidence
    if evidence:
        out.append(f"          evidence: {', '.join(evidence[:4])}")
    if f.deputy is not None:
        dep = f.deputy
        out.append(f"          deputy: {dep.name}" + (f" <{dep.email}>" if dep.email else ""))
    if f.escalated_to is not None:
        esc = f.escalated_to
        out.append(f"          escalated to: {esc.name}"
                   + (f" <{esc.email}>" if esc.email else "")
                   + f" (failing since {(f.failing_since or '')[:10]})")
    out.append(f"          fix: {item.remediation}")
    return out


@register_reporter("text")
class TextReporter(Reporter):
    """Failing findings grouped by owner ("who must act"), warnings, sources, summary."""

    extension = "txt"

    def render(self, result: ScanResult) -> str:
        """Render the report (``gate release``: a short verdict, see ``_gate.py``)."""
        if result.mode == "gate":
            return render_gate(result)
        out: list[str] = []
        title = "aimscheck gate" if result.mode == "gate" else "aimscheck scan"
        out.append(f"{title} — {result.organisation} — as of {result.as_of}")
        if result.gate:
            g = result.gate
            out.append(f"release {g.get('model')} version {g.get('version')}"
                       + (f" (AI system {g['system']})" if g.get("system") else ""))
        out.append("")
        out.append("Sources")
        for s in result.sources:
            mark = {"ok": "ok   ", "skipped": "skip "}.get(s.status, "ERROR")
            out.append(f"  {mark} {s.name} ({s.adapter}): {s.records} records"
                       f" [{', '.join(s.kinds)}]")
            for diag in s.diagnostics[:20]:
                out.append(f"        {diag}")
            if len(s.diagnostics) > 20:
                out.append(f"        … and {len(s.diagnostics) - 20} more")
        if result.unmatched:
            out.append("")
            out.append("Unmatched (records that name no known person)")
            for u in result.unmatched:
                out.append(f"  {u.source}: {u.count} {u.kind} record{'s' if u.count != 1 else ''}"
                           f" — first: {', '.join(u.first)}"
                           f" (handles {', '.join(repr(h) for h in u.handles)})")
        failing, groups = by_cause([f for f in result.findings if f.status in ("fail", "error")])
        by_owner: dict[str, list[Finding | FactGroup]] = defaultdict(list)
        for item in fact_groups(sorted(failing, key=lambda f: (-f.severity.rank, f.rule_id,
                                                                f.target))):
            lead = item.lead if isinstance(item, FactGroup) else item
            by_owner[_person(lead)].append(item)
        out.append("")
        if groups:
            n = sum(len(g.findings) for g in groups)
            out.append(f"Evidence incomplete — {n} finding{'s' if n != 1 else ''} are errors, "
                       f"by cause")
            for grp in groups:
                k = len(grp.findings)
                out.append(f"  {grp.cause}")
                shown = ", ".join(f"{f.rule_id} {f.target}" for f in grp.findings[:6])
                more = f" and {k - 6} more" if k > 6 else ""
                out.append(f"    {k} finding{'s' if k != 1 else ''} in {len(grp.rules)} "
                           f"rule{'s' if len(grp.rules) != 1 else ''}: {shown}{more}")
                owners = sorted({_person(f) for f in grp.findings})
                out.append(f"    owners: {', '.join(owners[:5])}"
                           + (f" and {len(owners) - 5} more" if len(owners) > 5 else ""))
            out.append("")
        if failing:
            out.append("Who must act")
            for who in sorted(by_owner, key=lambda w: (-_count(by_owner[w]), w)):
                items = by_owner[who]
                n = _count(items)
                out.append(f"  {who} — {n} finding{'s' if n != 1 else ''}")
                for item in items:
                    out.extend(_item_lines(item))
                out.append("")
        elif not groups:
            out.append("Nobody needs to act: no failing findings.")
            out.append("")
        warns = [f for f in result.findings if f.status == "warn"]
        if warns:
            out.append("Warnings (do not fail the run)")
            for f in warns:
                out.append(f"  WARN  {f.rule_id} {f.target}: {f.message} — {_person(f)}")
            out.append("")
        waived = [f for f in result.findings if f.status == "waived" and f.waiver]
        if waived:
            out.append("Waived (accepted risks; they fail again when the waiver ends)")
            for f in sorted(waived, key=lambda f: (f.rule_id, f.target)):
                w = f.waiver
                assert w is not None
                out.append(f"  WAIVED {f.rule_id} {f.target}: {f.message}")
                out.append(f"          waiver {w.id} approved by {w.approved_by}, until "
                           f"{w.expiry}; risk acceptance {w.risk_acceptance}")
            out.append("")
        out.append(summary_line(result))
        return neutralise_lines(out)

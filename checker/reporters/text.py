"""Readable terminal output: who must act, grouped by named owner, then a summary line."""

from __future__ import annotations

from collections import defaultdict

from checker.findings import Finding, ScanResult

from ._common import by_cause, neutralise_lines, summary_line
from ._gate import render_gate
from .base import Reporter, register_reporter

__all__ = ["TextReporter"]



def _person(f: Finding) -> str:
    o = f.owner
    return f"{o.name} <{o.email}>" if o.email else o.name


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
        by_owner: dict[str, list[Finding]] = defaultdict(list)
        for f in failing:
            by_owner[_person(f)].append(f)
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
            for who in sorted(by_owner, key=lambda w: (-len(by_owner[w]), w)):
                items = sorted(by_owner[who], key=lambda f: (-f.severity.rank, f.rule_id,
                                                            f.target))
                out.append(f"  {who} — {len(items)} finding{'s' if len(items) != 1 else ''}")
                for f in items:
                    gp = "  [good practice]" if f.good_practice else ""
                    out.append(f"    {f.status.upper():5} {f.severity:8} {f.rule_id} "
                               f"{f.target}: {f.message}{gp}")
                    if f.evidence:
                        out.append(f"          evidence: {', '.join(f.evidence[:4])}")
                    if f.deputy is not None:
                        dep = f.deputy
                        out.append(f"          deputy: {dep.name}"
                                   + (f" <{dep.email}>" if dep.email else ""))
                    if f.escalated_to is not None:
                        esc = f.escalated_to
                        out.append(f"          escalated to: {esc.name}"
                                   + (f" <{esc.email}>" if esc.email else "")
                                   + f" (failing since {(f.failing_since or '')[:10]})")
                    out.append(f"          fix: {f.remediation}")
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

"""The short verdict of ``gate release`` in text form (the text reporter's gate branch).

Line 1 says RELEASE or BLOCK with the model and version; then who must act and what is
missing, by name; then one line per failing rule; then one context line. A release engineer
reads it in a CI log in five seconds.
"""

from __future__ import annotations

from collections import defaultdict

from checker.findings import Finding, OwnerRef, ScanResult

from ._common import FactGroup, fact_groups, neutralise_lines

__all__ = ["render_gate"]



def _who(o: OwnerRef) -> str:
    return f"{o.name} <{o.email}>" if o.email else o.name


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_gate(result: ScanResult) -> str:
    """Render the gate verdict."""
    g = result.gate or {}
    release = f"{g.get('model', '?')} version {g.get('version', '?')}"
    if g.get("system"):
        release += f" (AI system {g['system']})"
    failing = sorted((f for f in result.findings if f.status in ("fail", "error")),
                     key=lambda f: (-f.severity.rank, f.rule_id, f.target))
    source_errors = [s for s in result.sources if s.status == "error"]
    compact = sum(g.count for g in result.passes)
    n_pass = sum(1 for f in result.findings if f.status == "pass") + compact
    out: list[str] = []
    if result.exit_code == 0:
        out.append(f"RELEASE {release}: {n_pass} of {len(result.findings) + compact} checks "
                   "pass, nobody needs to act")
    elif result.exit_code == 3 or source_errors:
        out.append(f"BLOCK {release}: evidence missing — the gate does not open without it")
    else:
        rules = sorted({f.rule_id for f in failing})
        out.append(f"BLOCK {release}: {len(rules)} failing rule{'s' if len(rules) != 1 else ''}")

    by_owner: dict[str, list[Finding]] = defaultdict(list)
    for f in failing:
        by_owner[_who(f.owner)].append(f)
    if by_owner:
        out.append("Who must act:")
        for who in sorted(by_owner, key=lambda w: (-len(by_owner[w]), w)):
            items = by_owner[who]
            deputies = sorted({_who(f.deputy) for f in items if f.deputy is not None})
            out.append(f"  {who}" + (f" (deputy: {', '.join(deputies)})" if deputies else "")
                       + ":")
            for item in fact_groups(items):
                if isinstance(item, FactGroup):
                    ids = ", ".join(g.rule_id for g in item.findings)
                    out.append(f"    - {ids}: {_short(item.remediation)}")
                else:
                    out.append(f"    - {item.rule_id}: {_short(item.remediation or item.title)}")
    for s in source_errors:
        out.append(f"Evidence missing from source {s.name} ({s.adapter}):")
        for d in s.diagnostics[:5]:
            out.append(f"    {_short(d, 300)}")
        if len(s.diagnostics) > 5:
            out.append(f"    … and {len(s.diagnostics) - 5} more")
    if failing:
        out.append("Failing:")
        for item in fact_groups(failing):
            if isinstance(item, FactGroup):  # one fact, one line (and the rules it fails)
                f = item.lead
                out.append(f"  {f.status.upper():5} {f.severity:8} {item.target}: "
                           f"{_short(item.text, 400)} — fails "
                           + ", ".join(g.rule_id for g in item.findings))
            else:
                out.append(f"  {item.status.upper():5} {item.severity:8} {item.rule_id} "
                           f"{item.target}: {_short(item.message, 400)}")
    out.append(f"({result.organisation}, as of {result.as_of}, fail-on {result.fail_on}, "
               f"exit {result.exit_code})")
    return neutralise_lines(out)

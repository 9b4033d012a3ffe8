"""A Markdown summary sized for a pull-request comment or a CI job summary.

Verdict, counts, and the failing findings with their owners in one table; findings that
fail because of one underlying fact (their ``cause``) share one row. After 50 rows the
rest is folded in a ``<details>`` block, never cut. Links only
where the evidence has an http(s) URL; everything else is plain text, so it reads the same
where links are not rendered. Text from evidence is escaped: Markdown punctuation, ``|``
(which would break the table) and HTML (which GitHub would render) become literal text.
"""

from __future__ import annotations

import re

from checker.findings import Finding, ScanResult

from ._common import (
    FactGroup,
    by_cause,
    fact_groups,
    failing,
    neutralise,
    neutralise_lines,
    verdict,
    who,
)
from .base import Reporter, register_reporter

__all__ = ["MarkdownReporter", "md_escape"]

#: Inline Markdown punctuation; block syntax (``#``, ``-``) cannot start inside a table cell
#: or after our own line prefixes, so only these need escaping.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
_MAX_ROWS = 50


def md_escape(text: str) -> str:
    """Make evidence text literal in GitHub-flavoured Markdown, on one table-safe line."""
    text = neutralise(" ".join(text.split()))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def _evidence_locs(evidence: tuple[str, ...], links: dict[str, str]) -> str:
    parts = []
    for loc in evidence[:3]:
        url = links.get(loc) or loc
        if url.startswith(("https://", "http://")) and not re.search(r"[\s()<>]", url):
            parts.append(f"[{md_escape(loc)}]({url})")
        else:
            parts.append(md_escape(loc))
    if len(evidence) > 3:
        parts.append(f"+{len(evidence) - 3}")
    return ", ".join(parts)


@register_reporter("markdown")
class MarkdownReporter(Reporter):
    """Verdict, counts and failing findings with owners, as GitHub-flavoured Markdown."""

    extension = "md"

    def render(self, result: ScanResult) -> str:
        """Render the summary."""
        s = result.summary
        v = verdict(result)
        icon = "✅" if result.exit_code == 0 else "❌"
        title = "aimscheck gate" if result.mode == "gate" else "aimscheck scan"
        out = [f"### {icon} {title}: {v}", ""]
        out.append(f"{md_escape(result.organisation)}, as of {result.as_of} "
                   f"(fail-on {result.fail_on}, exit {result.exit_code})")
        if result.gate:
            g = result.gate
            out.append("")
            out.append(f"Release {md_escape(str(g.get('model')))} version "
                       f"{md_escape(str(g.get('version')))}")
        out.append("")
        out.append("| total | pass | fail | error | warn | waived | n/a | people must act |")
        out.append("|---:|---:|---:|---:|---:|---:|---:|---:|")
        out.append(f"| {s.get('total', 0)} | {s.get('pass', 0)} | {s.get('fail', 0)} | "
                   f"{s.get('error', 0)} | {s.get('warn', 0)} | {s.get('waived', 0)} | "
                   f"{s.get('not_applicable', 0)} | {s.get('owners', 0)} |")
        bad = [x for x in result.sources if x.status == "error"]
        if bad:
            out.append("")
            out.append("**Evidence incomplete** (fail closed): "
                       + ", ".join(md_escape(f"{x.name} ({x.adapter})") for x in bad))
        if result.unmatched:
            out.append("")
            out.append("**Unmatched records** (name no known person): " + ", ".join(
                md_escape(f"{u.source}: {u.count} {u.kind} (first {u.first[0]})")
                for u in result.unmatched))
        fails, groups = by_cause(failing(result))
        out.append("")
        if groups:
            out.append("| evidence incomplete: cause | error findings | rules |")
            out.append("|---|---:|---|")
            for grp in groups:
                out.append(f"| {md_escape(grp.cause)} | {len(grp.findings)} | "
                           f"{md_escape(', '.join(grp.rules))} |")
            out.append("")
        if not fails and groups:
            return neutralise_lines([*out, *_waived(result), *_coverage(result)])
        if not fails:
            out.append("Nobody needs to act: no failing findings.")
            return neutralise_lines([*out, *_waived(result), *_coverage(result)])
        items = fact_groups(fails)
        header = ["| | severity | rule | subject | finding | owner | deputy | evidence |",
                  "|---|---|---|---|---|---|---|---|"]
        out += header
        out += [_row(i, result) for i in items[:_MAX_ROWS]]
        if len(items) > _MAX_ROWS:
            # never cut: the rest is folded, so a comment stays short and nothing is lost
            rest = items[_MAX_ROWS:]
            n = sum(len(i.findings) if isinstance(i, FactGroup) else 1 for i in rest)
            out += ["", f"<details><summary>{n} more failing finding{'s' if n != 1 else ''} "
                    f"(the full report: <code>aimscheck report --format html</code>)"
                    "</summary>", "", *header, *(_row(i, result) for i in rest), "",
                    "</details>"]
        return neutralise_lines([*out, *_waived(result), *_coverage(result)])


def _row(item: Finding | FactGroup, result: ScanResult) -> str:
    """One table row: a finding, or one fact with every rule it fails."""
    f = item.lead if isinstance(item, FactGroup) else item
    mark = "❌" if f.status == "fail" else "⚠️ error"
    if isinstance(item, FactGroup):
        rules = "<br>".join(md_escape(g.rule_id) + (" (good practice)" if g.good_practice
                                                     else "") for g in item.findings)
        text = f"{md_escape(item.text)}<br>**fix:** {md_escape(item.remediation)}"
        evidence = _evidence_locs(item.evidence, result.links)
    else:
        if f.good_practice:
            mark += " (good practice)"
        rules, text = md_escape(f.rule_id), md_escape(f.message)
        evidence = _evidence_locs(f.evidence, result.links)
    return (f"| {mark} | {f.severity} | {rules} | {md_escape(f.target)} | {text} | "
            f"{md_escape(who(f.owner))} | {md_escape(who(f.deputy)) if f.deputy else '—'}"
            f"{_escalated(f)} | {evidence} |")


def _waived(result: ScanResult) -> list[str]:
    """Waived findings stay visible, with who accepted the risk and until when."""
    waived = sorted((f for f in result.findings if f.status == "waived" and f.waiver),
                    key=lambda f: (f.rule_id, f.target))
    if not waived:
        return []
    out = ["", f"**Waived** ({len(waived)}): accepted risks; each fails again when its waiver "
           "ends.", "", "| rule | subject | waiver | approved by | expires | risk acceptance |",
           "|---|---|---|---|---|---|"]
    for f in waived:
        w = f.waiver
        assert w is not None
        out.append(f"| {md_escape(f.rule_id)} | {md_escape(f.target)} | {md_escape(w.id)} | "
                   f"{md_escape(w.approved_by)} | {w.expiry} | {md_escape(w.risk_acceptance)} |")
    return out


def _escalated(f: Finding) -> str:
    """The escalation target (config 'escalation:'), shown in the deputy column."""
    if f.escalated_to is None:
        return ""
    since = (f.failing_since or "")[:10]
    return (f"<br>**escalated to** {md_escape(who(f.escalated_to))} "
            f"(failing since {since})")


def _coverage(result: ScanResult) -> list[str]:
    """What the rules decide per ISO/IEC 42001 id, and what still needs manual evidence.

    Folded (``<details>``) so a pull-request comment stays short; a partial id is never
    presented as covered: its not-checked note stands next to it.
    """
    cited = [c for c in result.coverage if c.status != "manual"]
    if not cited:
        return []
    counts = {k: sum(1 for c in result.coverage if c.status == k)
              for k in ("automated", "partial", "manual")}
    out = ["", "<details><summary>ISO/IEC 42001 coverage: "
           + ", ".join(f"{n} {k}" for k, n in counts.items())
           + " (partial: manual evidence still required)</summary>", "",
           "| id | coverage | rules | not checked by rules |", "|---|---|---|---|"]
    for c in cited:
        out.append(f"| {md_escape(c.id)} | {c.status} | {md_escape(', '.join(c.rules))} | "
                   f"{md_escape(c.note) if c.note else '—'} |")
    out += ["", f"{counts['manual']} more ids need a document or attestation; "
            "`aimscheck rules coverage` lists them.", "", "</details>"]
    return out

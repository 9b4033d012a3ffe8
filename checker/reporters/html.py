"""The HTML self-assessment: one self-contained file an AIMS manager walks an auditor through.

Readiness per ISO/IEC 42001 clause and Annex A control, the owner worklist, the
accountability matrix, every failing finding with its evidence, and inline SVG charts.
Rendered by Jinja2 with autoescaping from ``checker/templates/report.html.j2``; nothing is
fetched when the page opens (no scripts, fonts, images or stylesheets from elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from checker.findings import OWNER_STATUS_ORDER, ClosedFinding, Finding, ScanResult
from checker.matrix import STATUS_LABEL, concentration, role_columns, role_label
from checker.timeutil import format_ts, parse_ts

from ._common import (
    by_cause,
    clause_groups,
    definition_site,
    fact_groups,
    failing,
    group_by_rule,
    neutralise,
    neutralise_document,
    readiness,
    verdict,
    who,
    worklists,
)
from .base import Reporter, register_reporter

__all__ = ["HtmlReporter", "evidence_href"]


def evidence_href(locator: str, links: dict[str, str]) -> str | None:
    """The URL to link a locator to: its record's URL, or the locator if it is a URL.

    Only ``http``/``https`` URLs are linked, so evidence can never inject a script URL.
    """
    url = links.get(locator) or locator
    return url if url.startswith(("https://", "http://")) else None


@dataclass
class _Bar:
    label: str
    y: int
    width: float
    text: str
    cls: str
    fully_automated: bool = False


def _bars(result: ScanResult, width: int) -> tuple[list[_Bar], int]:
    bars: list[_Bar] = []
    y = 0
    for g in clause_groups(readiness(result)):
        label = ("Clause " if g.family == "clause" else "") + g.id
        r = g.ratio
        total = g.automated + g.partial + g.manual
        open_share = f"{g.partial + g.manual} of {total} not fully automated"
        if r is None:
            bars.append(_Bar(label, y, 0, f"not checked ({g.manual} of {total} manual)",
                             "manual"))
        else:
            n = g.passed + g.failed
            cls = "good" if r >= 0.95 else "fair" if r >= 0.8 else "poor"
            # The bar is scaled by the automated share: a clause whose requirements are only
            # partly decided by rules can never show a full bar, however well its checks hold.
            scale = (g.automated + 0.5 * g.partial) / total if total else 0.0
            bars.append(_Bar(label, y, round(r * scale * width, 1),
                             f"{round(r * 100)}% of checks hold ({g.passed}/{n}); "
                             f"{open_share}", cls, fully_automated=g.automated == total))
        y += 22
    return bars, y


def _history(result: ScanResult, width: int, height: int) -> list[dict[str, Any]]:
    pts = result.history
    out: list[dict[str, Any]] = []
    for i, p in enumerate(pts):
        ratio = max(0.0, min(1.0, p.readiness / 100))
        x = width / 2 if len(pts) == 1 else i * width / (len(pts) - 1)
        out.append({"x": round(x, 1), "y": round(height - ratio * height, 1),
                    "label": p.as_of[:10], "pct": f"{p.readiness:g}", "failing": p.failing})
    return out


@dataclass
class _Action:
    """One row of the corrective-action log."""

    finding: Finding
    first_seen: str
    age_days: int
    due: str
    overdue: bool


def _actions(result: ScanResult) -> list[_Action]:
    """Open corrective actions (failing findings): first seen, age and due date, oldest first.

    Without recorded history a finding is first seen in this scan. The due date is the
    first sighting plus the configured days for its severity.
    """
    as_of = parse_ts(result.as_of)
    days = result.corrective_action_days
    out = []
    for f in failing(result):
        first = f.failing_since or result.as_of
        start = parse_ts(first)
        due = start + timedelta(days=days.get(f.severity, 0)) if days else None
        out.append(_Action(f, first[:10], (as_of - start).days,
                           format_ts(due)[:10] if due else "—",
                           due is not None and as_of > due))
    return sorted(out, key=lambda a: (a.first_seen, -a.finding.severity.rank,
                                      a.finding.rule_id, a.finding.target))


def _finalize(value: Any) -> Any:
    """Every ``{{ value }}`` of plain text: control characters, CR and LF shown as escapes.

    The page as a whole is neutralised too (``neutralise_document``), but that keeps the
    newlines of the markup; a value from the evidence must not carry its own line breaks
    into the page (a forged ``PASS:`` line in the source, a copied text or a log).
    Markup built by the reporter is left as it is.
    """
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return neutralise(value)
    return value


@dataclass
class _Changes:
    """The diff against the previous scan: new, resolved and still-open failing findings."""

    against: str
    new: list[Finding]
    still: list[tuple[Finding, int]]
    resolved: list[ClosedFinding]


def _changes(result: ScanResult) -> _Changes | None:
    """``aimscheck diff`` inside the report, when a previous scan is known.

    The previous scan is the ``--baseline`` (findings marked new/known/regressed) or the
    recorded history (findings aged, ``closed`` listed). Without either, None: the report
    cannot tell new from old and says nothing about it.
    """
    fails = failing(result)
    baseline = any(f.baseline for f in result.findings)
    history = any(f.failing_since for f in fails) or bool(result.closed)
    if not (baseline or history):
        return None
    now = result.as_of
    as_of = parse_ts(now)
    new: list[Finding] = []
    still: list[tuple[Finding, int]] = []
    for f in fails:
        since = f.failing_since or now
        if f.baseline in ("new", "regressed") or (f.baseline != "known" and since >= now):
            new.append(f)
        else:
            still.append((f, (as_of - parse_ts(since)).days))
    still.sort(key=lambda x: (-x[1], -x[0].severity.rank, x[0].rule_id, x[0].target))
    against = ("the baseline scan (--baseline)" if baseline
               else "the latest recorded scan (history)")
    return _Changes(against, new, still,
                    sorted(result.closed, key=lambda c: (c.rule_id, c.target)))


@register_reporter("html")
class HtmlReporter(Reporter):
    """The self-assessment report as one self-contained HTML page."""

    extension = "html"

    def render(self, result: ScanResult) -> str:
        """Render the template."""
        from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

        env = Environment(loader=PackageLoader("checker", "templates"),
                          autoescape=select_autoescape(default=True, default_for_string=True),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                          keep_trailing_newline=True, finalize=_finalize)
        bars, bars_h = _bars(result, 300)
        fails, groups = by_cause(failing(result))
        rows = readiness(result)
        page = env.get_template("report.html.j2").render(
            r=result, verdict=verdict(result), who=who,
            clauses=[x for x in rows if x.row.family == "clause"],
            controls=[x for x in rows if x.row.family == "annex_a"],
            bars=bars, bars_h=bars_h, history=_history(result, 560, 140),
            worklists=worklists(result, fails), fails=fails, cause_groups=groups,
            fact_items=fact_groups(fails),
            site=lambda f: definition_site(f, result),
            href=lambda loc: evidence_href(loc, result.links),
            status_label=STATUS_LABEL, status_order=OWNER_STATUS_ORDER,
            roles=role_columns(result.matrix), role_label=role_label,
            people=concentration(result.matrix, result.concentration_max_roles),
            warns=[f for f in result.findings if f.status == "warn"],
            actions=_actions(result), changes=_changes(result),
            population=list(group_by_rule(sorted(
                result.all_findings(), key=lambda f: (f.rule_id, f.target))).items()),
            waived=sorted((f for f in result.findings if f.status == "waived"),
                          key=lambda f: (f.rule_id, f.target)),
        )
        return neutralise_document(str(page))

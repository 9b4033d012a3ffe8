"""``aimscheck review``: the management-review pack (ISO/IEC 42001 9.3).

Runs the scan (the one run path, so the same evidence and waiver options), reads the
scans recorded in the history store up to the as-of (``scan --record``), and writes trends
by severity and clause, new / resolved / overdue findings, time to close and KPI tiles —
a printable HTML page (every figure is text, nothing only in a hover) or JSON. Exits 0
when written, 3 when evidence could not be collected (the figures would be incomplete),
2 on a usage or history-store error. The pack never records itself in the history and
reads it read-only: without a store beside the config it says so and shows this scan only;
a ``--history-url`` naming a SQLite file that does not exist is an error (exit 2), and no
file is created.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import click

from checker.config import load_config
from checker.errors import Diagnostic, UsageError
from checker.history import DEFAULT_FILE, History, default_url, shown_url
from checker.review import Point, Review, build_review
from checker.run import load_rules_for, run
from checker.severity import SEVERITY_NAMES

from ._common import (
    as_of_option,
    config_option,
    evidence_options,
    guard,
    pair_outputs,
    print_causes,
    progress_option,
    request_from,
    write_report,
)

__all__ = ["review", "review_html", "review_json"]

FORMATS = ("html", "json")
_CHART_W = 450
_X0 = 180.0


def _bars(v: Review) -> tuple[list[dict[str, Any]], int]:
    top = max((t.failing for t in v.trend), default=0) or 1
    bars: list[dict[str, Any]] = []
    for i, t in enumerate(v.trend):
        x = _X0
        segs = []
        for sev in SEVERITY_NAMES:
            n = t.by_severity[sev]
            if n:
                w = round(n / top * _CHART_W, 1)
                segs.append({"sev": sev, "n": n, "x": round(x, 1), "w": w})
                x += w
        parts = " · ".join(f"{sev} {t.by_severity[sev]}" for sev in SEVERITY_NAMES)
        bars.append({"y": i * 26, "label": t.as_of[:10], "current": t.current,
                     "segments": segs, "text": f"{t.failing} failing: {parts}"})
    return bars, len(v.trend) * 26


def review_html(v: Review, result: Any) -> str:
    """The pack as one self-contained, printable HTML page."""
    from checker.commands.reports import _env
    from checker.reporters._common import neutralise_document

    bars, h = _bars(v)
    return neutralise_document(str(_env().get_template("review.html.j2").render(
        r=result, v=v, bars=bars, chart_h=h, chart_w=_CHART_W, x0=_X0,
        severities=SEVERITY_NAMES)))


def review_json(v: Review) -> str:
    """The pack as JSON (the same figures as the HTML page)."""
    doc = dataclasses.asdict(v)
    doc["time_to_close"] = v.time_to_close
    doc["time_to_close_by_severity"] = {k: {"closed": n, "median_days": m}
                                        for k, (n, m) in v.time_to_close_by_severity.items()}
    for k, src in zip(doc["kpis"], v.kpis, strict=True):
        k["pct"] = src.pct
        k["previous_pct"] = src.previous_pct
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@click.command()
@config_option
@as_of_option
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable). Default: html.")
@click.option("-o", "--output", "outputs", multiple=True,
              help="Output file for the format in the same position ('-' = stdout).")
@click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL",
              help="History store with the recorded scans: sqlite:///PATH or "
              "postgresql://USER@HOST/DB (default: .aimscheck-history.sqlite beside the "
              "config).")
@evidence_options
@progress_option
@guard
def review(config_path: Path, as_of: str | None, formats: tuple[str, ...],
           outputs: tuple[str, ...], history_url: str | None, evidence: Path | None,
           waivers: Path | None, progress: bool | None) -> None:
    """Management-review pack (9.3): trends, new/resolved/overdue, time to close, KPIs."""
    pairs = pair_outputs(formats, outputs, "html")
    loaded = load_config(config_path)
    if history_url:  # a store named outright must be there: reading never creates one
        absent = History(history_url).missing()
        if absent is not None:
            raise UsageError(Diagnostic(
                "--history-url", 0, 0, "E388",
                f"no history store at {absent}: the management review reads the scans "
                "recorded there",
                "record scans with `aimscheck scan --record --history-url "
                f"{shown_url(history_url)}` first, or correct the URL"))
    outcome = run(request_from(config_path, loaded=loaded, as_of=as_of, progress=progress,
                               evidence=evidence, waivers=waivers, history_url=history_url,
                               outputs=outputs))
    result = outcome.result
    for n in outcome.notes:
        click.echo(n, err=True)
    print_causes(outcome)
    recorded: list[Point] = []
    if history_url or (loaded.base_dir / DEFAULT_FILE).exists():
        store = History(history_url or default_url(loaded.path))
        recorded = [Point(as_of=a, findings=f) for a, f in store.timeline(result.as_of)]
    else:
        click.echo("note: no history store (record scans with 'aimscheck scan --record'): "
                   "the pack has this scan only", err=True)
    v = build_review(recorded, result, load_rules_for(loaded))
    rendered = [review_html(v, result) if f == "html" else review_json(v) for f, _ in pairs]
    for (fmt, out), text in zip(pairs, rendered, strict=True):
        write_report(text, out, f"{fmt} management review")
    ttc = v.time_to_close
    click.echo(f"review: {len(v.trend)} scans, {v.open_count} open, {len(v.new)} new, "
               f"{len(v.resolved)} resolved, {len(v.overdue)} overdue, {ttc['closed']} closed "
               "in the history", err=True)
    if result.exit_code == 3:
        click.echo("aimscheck: evidence incomplete — the pack's figures are not complete "
                   "(exit 3)", err=True)
        sys.exit(3)

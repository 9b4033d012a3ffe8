"""The ``scan`` options of the evidence locker, history, baseline and waivers.

``checker.cli.scan`` stays thin: it adds :func:`scan_options` and calls
:func:`extended_scan`, which runs the pipeline stages in order — collect (live, or load a
snapshot with ``--evidence``) → evaluate → apply waivers → apply the baseline → summarise
→ record in the history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import LoadedConfig
from .engine import exit_code_for, summarise
from .errors import Diagnostic, UsageError
from .findings import FAILING, Finding, ScanResult
from .pipeline import Collected, build_sources, collect, run_scan
from .rules import CompiledRule
from .store import EvidenceStore
from .timeutil import parse_ts

__all__ = ["apply_baseline", "extended_scan", "load_baseline", "scan_options"]

F = TypeVar("F", bound=Callable[..., Any])

Key = tuple[str, str, str]


def scan_options(fn: F) -> F:
    """The click options of :func:`extended_scan`."""
    fn = click.option("--evidence", "evidence", metavar="DIR",
                      type=click.Path(file_okay=False, path_type=Path),
                      help="Evaluate an evidence snapshot ('evidence pull') offline; no "
                      "adapter runs. --as-of defaults to the snapshot's.")(fn)
    fn = click.option("--record", is_flag=True,
                      help="Record this scan in the history store.")(fn)
    fn = click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL",
                      help="History store: sqlite:///PATH or postgresql://USER@HOST/DB "
                      "(default: .aimscheck-history.sqlite beside the config).")(fn)
    fn = click.option("--baseline", "baseline", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="A previous JSON output: fail only on findings not failing in it "
                      "(a check that passed there and fails now still fails).")(fn)
    fn = click.option("--waivers", "waivers", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="A waivers file (default: the config's 'waivers:').")(fn)
    return fn


def load_baseline(path: Path) -> dict[Key, str]:
    """(rule, kind, id) → status from a previous ``--format json`` output."""
    try:
        data = json.loads(path.read_text("utf-8"))
        items = data["findings"]
        return {(str(f["rule_id"]), str(f["target_kind"]), str(f["target_id"])):
                str(f["status"]) for f in items}
    except OSError as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E394", f"cannot read the baseline: "
                                    f"{exc.strerror or exc}")) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E394",
                                    f"not a scan JSON output ({type(exc).__name__}: {exc})",
                                    "make the baseline with 'aimscheck scan --format json "
                                    "-o FILE'")) from None


def apply_baseline(findings: list[Finding], base: dict[Key, str]) -> list[Finding]:
    """Mark each failing finding ``known``, ``new`` or ``regressed`` against the baseline."""
    out = []
    for f in findings:
        if f.status != "fail":
            out.append(f)
            continue
        before = base.get((f.rule_id, f.target_kind, f.target_id))
        if before in FAILING:
            mark = "known"
        elif before in ("pass", "warn", "waived"):
            mark = "regressed"
        else:
            mark = "new"
        out.append(f.model_copy(update={"baseline": mark}))
    return out


def finish(result: ScanResult, findings: list[Finding], **update: Any) -> ScanResult:
    """The result with new findings, summary and exit code.

    Known baseline failures do not fail the run; errors always do.
    """
    counted = [f for f in findings if f.baseline != "known"]
    summary = summarise(findings, result.fail_on)
    gate_view = summarise(counted, result.fail_on)
    summary["failing"] = gate_view["failing"]
    summary["owners"] = gate_view["owners"]
    if any(f.baseline for f in findings):
        summary["baseline_known"] = sum(1 for f in findings if f.baseline == "known")
    source_errors = any(s.status == "error" for s in result.sources)
    return result.model_copy(update={
        "findings": tuple(findings), "summary": summary,
        "exit_code": exit_code_for(counted, result.fail_on, source_errors), **update})


def extended_scan(loaded: LoadedConfig, rules: list[CompiledRule], as_of: datetime | None,
                  *, progress: bool, evidence: Path | None, record: bool,
                  history_url: str | None, baseline: Path | None, waivers: Path | None,
                  now: Callable[[], datetime]) -> tuple[ScanResult, dict[str, Any]]:
    """Run a scan with the locker, waiver, baseline and history options.

    Args:
        loaded: The config.
        rules: The compiled rules.
        as_of: ``--as-of`` (None: the snapshot's as-of with ``--evidence``, else now()).
        progress: Let adapters draw progress.
        evidence: A snapshot folder to evaluate offline.
        record: Record the result in the history store.
        history_url: The history store (default: SQLite beside the config).
        baseline: A previous JSON output.
        waivers: A waivers file (default: the config's).
        now: The clock used when neither --as-of nor a snapshot fixes the time.
    """
    from .locker import load_snapshot, rule_pack_digest, snapshot_config_overrides

    digest: str | None = None
    if evidence is not None:
        snap = load_snapshot(evidence)
        digest = snap.digest
        overrides = snapshot_config_overrides(snap)
        if overrides:
            loaded.config = loaded.config.model_copy(update=overrides)
        when = as_of or parse_ts(str(snap.manifest["as_of"]))
        current = rule_pack_digest(loaded.config.rule_packs, loaded.base_dir)
        if current != snap.manifest.get("rule_pack_digest"):
            click.echo(f"note: the rule packs changed since the snapshot was pulled "
                       f"({snap.manifest.get('rule_pack_digest')} then, {current} now)",
                       err=True)
        collected: Collected = snap.collected
    else:
        when = as_of or now()
        needed = frozenset().union(*(r.needs for r in rules)) if rules else frozenset()
        needed = needed | {"person", "subject", "release"}
        collected = collect(build_sources(loaded, when, progress=progress), needed)
    result, timings = run_scan(loaded, rules, when, progress=progress, collected=collected)
    found = list(result.findings)
    wpath = waivers
    if wpath is None and loaded.config.waivers:
        wpath = loaded.base_dir / loaded.config.waivers
    if wpath is not None:
        from .waivers import apply_waivers, load_waivers

        lw = load_waivers(wpath, {r.id for r in rules})
        store = EvidenceStore(collected.bundle, collected.incomplete, as_of=when,
                              tz=loaded.config.settings.tz)
        locs = {w.id: lw.locator(i) for i, w in enumerate(lw.data.waivers)}
        found, notes = apply_waivers(found, lw.data, store, when, locators=locs,
                                     record_ids=frozenset(a.id for a in
                                                          collected.bundle.approvals))
        for n in notes:
            click.echo(f"warning: {n}", err=True)
    if baseline is not None:
        found = apply_baseline(found, load_baseline(baseline))
    if loaded.config.escalation:
        from .escalation import escalate_from_history

        found = escalate_from_history(loaded, found, when, collected.bundle.people,
                                      history_url)
    result = finish(result, found, evidence_digest=digest)
    if record:
        from .history import History, default_url, shown_url

        url = history_url or default_url(loaded.path)
        scan_id = History(url).record(result)
        click.echo(f"recorded scan #{scan_id} in {shown_url(url)}", err=True)
    return result, timings

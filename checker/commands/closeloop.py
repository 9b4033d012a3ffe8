"""Commands that close the loop: ``tickets sync`` and ``notify``.

Both scan (with the config's waivers and escalation ladder) and then act on the failing
findings for the people who must act; both are dry runs unless told otherwise.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from checker.config import LoadedConfig, load_config
from checker.errors import ConfigError, Diagnostic
from checker.findings import ScanResult
from checker.identity import IdentityIndex
from checker.run import run

from ._common import (
    as_of_option,
    config_option,
    guard,
    parse_as_of_value,
    print_causes,
    request_from,
)

__all__ = ["loop_scan", "notify", "tickets", "tickets_sync"]


def loop_scan(loaded: LoadedConfig, as_of: datetime, *, waivers: Path | None,
              history_url: str | None, progress: bool | None
              ) -> tuple[ScanResult, IdentityIndex]:
    """Scan like ``scan`` does and keep the people the scan saw.

    The scan is the one run path (:func:`checker.run.run`): waivers, the record limit and
    the escalation ladder (from the history) apply exactly as in ``scan``. The people are
    the scan's own identity index (``store.identity``): every people source merged as the
    checks merged them, with the absences of absence sources and undated leave placed at
    the as-of. Who must act — owner, deputy, escalation target — is decided by the scan
    (:func:`checker.availability.availability` under the config's settings at its as-of);
    the index only finds those people's tracker accounts, so a recipient or assignee is
    always someone the scan could name, never a person it passed over.
    """
    outcome = run(request_from(loaded.path, loaded=loaded, as_of=as_of,
                               progress=progress, waivers=waivers, history_url=history_url))
    for n in outcome.notes:
        click.echo(n, err=True)
    print_causes(outcome)
    return outcome.result, outcome.store.identity


def _loop_options(fn: Any) -> Any:
    fn = config_option(fn)
    fn = as_of_option(fn)
    fn = click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path),
                      help="A waivers file (default: the config's 'waivers:').")(fn)
    fn = click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL",
                      help="History store for escalation ages (default: "
                      ".aimscheck-history.sqlite beside the config).")(fn)
    fn = click.option("--progress/--no-progress", default=None,
                      help="Progress on the terminal.")(fn)
    return fn


@click.group()
def tickets() -> None:
    """Tickets in the issue tracker for failing findings (config 'tickets:')."""


@tickets.command("sync")
@_loop_options
@click.option("--apply", "apply_", is_flag=True,
              help="Perform the plan (default: a dry run that only prints it).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the plan and the outcome of every ticket as JSON.")
@guard
def tickets_sync(config_path: Path, as_of: str | None, waivers: Path | None,
                 history_url: str | None, progress: bool | None, apply_: bool,
                 report_path: Path | None) -> None:
    """One ticket per failing finding, assigned to its owner; closed when it is fixed.

    Exit 0: done (or planned); 3: a tracker call failed (the report lists what was and
    was not changed) or evidence was incomplete; 2: config error.
    """
    from checker.errors import redact
    from checker.tickets import (
        SyncReport,
        apply_plan,
        build_tracker,
        make_plan,
        render_plan,
        render_report,
        report_json,
    )

    from ._common import write_atomic

    loaded = load_config(config_path)
    cfg = loaded.config.tickets
    if cfg is None:
        raise ConfigError(Diagnostic(str(config_path), 0, 0, "E600",
                                     "no 'tickets:' section in the config",
                                     "add tickets: {project: KEY, connection: {site: …}} "
                                     "(README: Closing the loop)"))
    when = parse_as_of_value(as_of) or datetime.now(UTC).replace(microsecond=0)
    tracker = build_tracker(cfg, located=loaded.located, base_dir=loaded.base_dir, as_of=when)
    try:
        result, identity = loop_scan(loaded, when, waivers=waivers, history_url=history_url,
                                     progress=progress)
        plan = make_plan(result, identity, tracker, cfg)
        click.echo(render_plan(plan, result, tracker.site, applied=apply_), nl=False)
        code = 3 if plan.incomplete else 0
        if plan.incomplete:
            click.echo("evidence incomplete: a source could not be read (see 'aimscheck "
                       "scan'); tickets of missing findings were kept open", err=True)
        report: SyncReport | None = None
        if apply_:
            report = apply_plan(plan, tracker)
            click.echo(render_report(report), nl=False)
            if not report.ok:
                code = 3
        if report_path is not None:
            write_atomic(report_path, redact(report_json(plan, result, tracker.site,
                                                         applied=apply_, rep=report)))
            click.echo(f"wrote the sync report to {report_path}", err=True)
    finally:
        tracker.close()
    sys.exit(code)


@click.command()
@_loop_options
@click.option("--eml", "eml", type=click.Path(file_okay=False, path_type=Path),
              help="Write one .eml file per person into this folder.")
@click.option("--send", is_flag=True,
              help="Send the messages through the SMTP relay of notify.smtp (STARTTLS).")
@guard
def notify(config_path: Path, as_of: str | None, waivers: Path | None,
           history_url: str | None, progress: bool | None, eml: Path | None,
           send: bool) -> None:
    """One message per person who must act: their findings, oldest first, fixes, deadlines.

    A dry run by default (prints who would get what); --eml DIR writes RFC 5322 files,
    --send delivers them. Exit 0: done; 3: delivery failed part-way (the report says who
    got theirs) or evidence was incomplete; 2: config error.
    """
    from checker.notify import build_digests, render_plan, send_smtp, write_eml

    loaded = load_config(config_path)
    cfg = loaded.config.notify
    if cfg is None:
        raise ConfigError(Diagnostic(str(config_path), 0, 0, "E620",
                                     "no 'notify:' section in the config",
                                     "add notify: {sender: aims@example.com, smtp: {host: …}}"
                                     " (README: Closing the loop)"))
    if send and cfg.smtp is None:
        raise ConfigError(loaded.located.diag(("notify",), "E620",
                                              "--send needs notify.smtp (host, port …)",
                                              "add smtp: {host: smtp.example.com}"))
    when = parse_as_of_value(as_of) or datetime.now(UTC).replace(microsecond=0)
    result, _ = loop_scan(loaded, when, waivers=waivers, history_url=history_url,
                          progress=progress)
    digests, unreachable = build_digests(result, cfg, loaded.config.escalation,
                                         loaded.config.organisation)
    mode = "sending" if send else ("writing .eml files" if eml else
                                   "dry run: nothing sent (--eml DIR or --send)")
    click.echo(render_plan(digests, unreachable, mode=mode), nl=False)
    code = 3 if result.exit_code == 3 else 0
    if eml is not None:
        paths = write_eml(digests, eml)
        click.echo(f"wrote {len(paths)} message(s) to {eml}", err=True)
    if send:
        assert cfg.smtp is not None
        done = send_smtp(digests, cfg.smtp, loaded.base_dir)
        click.echo(f"sent: {len(done.sent)}")
        for who in done.sent:
            click.echo(f"  sent          {who}")
        for who in done.failed:
            click.echo(f"  FAILED        {who}")
        for who in done.not_attempted:
            click.echo(f"  not sent      {who} (not attempted after the failure)")
        if done.failed or done.not_attempted:
            code = 3
    sys.exit(code)

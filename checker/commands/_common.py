"""What every command shares: options, error handling, the request, and terminal output.

Commands build a :class:`checker.run.ScanRequest` with :func:`request_from`, call
:func:`checker.run.run`, render the result, then :func:`finish` prints the notes, each
distinct cause of a failed source once, the summary line, and records the history — after
the reports are written, so a history failure never loses a report nor changes the exit
code. Only this package writes to the terminal.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from checker.config import SEVERITIES, LoadedConfig, load_config
from checker.errors import AimscheckError, Diagnostic, UsageError, redact
from checker.findings import PASSES_MODES
from checker.outputs import check_outputs, config_inputs, write_atomic
from checker.registry import UnknownName
from checker.timeutil import parse_as_of

if TYPE_CHECKING:
    # The reporters, the run and the result model are imported where a command runs, not
    # when this module is imported: `rules list`, `--help` and `schema` never load them
    # (issue 18: start-up CPU).
    from checker.findings import ScanResult
    from checker.run import GateSpec, RunOutcome, ScanRequest

__all__ = [
    "CONFIG_NAME",
    "FormatChoice",
    "TerminalProgress",
    "as_of_option",
    "common_options",
    "common_options_for",
    "config_option",
    "debug_dump",
    "discover_config",
    "emit",
    "emit_timed",
    "evidence_options",
    "fail",
    "finish",
    "guard",
    "packs_from",
    "pair_outputs",
    "parse_as_of_value",
    "print_causes",
    "progress_flag",
    "progress_option",
    "quiet_option",
    "request_from",
    "run_options",
    "soft_fail_option",
    "write_atomic",
    "write_report",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Exit code when standard output's reader went away mid-report (as a SIGPIPE death: 128+13).
BROKEN_PIPE = 141


def fail(exc: AimscheckError) -> None:
    """Print an error's diagnostics and exit with its code."""
    for d in exc.diagnostics:
        click.echo(d.render(), err=True)
    n = len(exc.diagnostics)
    click.echo(f"aimscheck: {n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(exc.exit_code)


def guard(fn: F) -> F:
    """Turn our errors into diagnostics + exit codes; never show a traceback by default."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AimscheckError as exc:
            fail(exc)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except BrokenPipeError:
            # The reader of standard output went away (`aimscheck diff … | head`): stop
            # quietly, as a process killed by SIGPIPE does (128 + 13), never with a verdict.
            # Standard output is pointed at /dev/null so the final flush cannot fail again.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(BROKEN_PIPE)
        except Exception as exc:
            if os.environ.get("AIMSCHECK_DEBUG"):
                click.echo(redact(traceback.format_exc()), err=True)
            click.echo(redact(f"aimscheck: internal error E900: {type(exc).__name__}: {exc} "
                              "(set AIMSCHECK_DEBUG=1 for a traceback; please report this)"),
                       err=True)
            sys.exit(2)
        return None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def parse_as_of_value(value: str | None) -> datetime | None:
    """``--as-of`` as a timestamp (None when not given: the run picks now or the snapshot's)."""
    if value is None:
        return None
    try:
        return parse_as_of(value)
    except ValueError as exc:
        raise UsageError(Diagnostic("--as-of", 0, 0, "E001", f"invalid date or timestamp "
                                    f"{value!r}: {exc}",
                                    "use YYYY-MM-DD or an ISO 8601 timestamp with an offset, "
                                    "e.g. 2026-11-30T09:00:00+01:00")) from None


def debug_dump(config: Any, result: ScanResult, timings: Any) -> None:
    """With --debug: the effective config, source statuses and timings, redacted."""
    if not os.environ.get("AIMSCHECK_DEBUG"):
        return
    dump = {"config": config, "sources": [s.model_dump(mode="json") for s in result.sources],
            "timings": timings, "summary": result.summary}
    click.echo(redact("aimscheck debug: " + json.dumps(dump, indent=2, default=str,
                                                     ensure_ascii=False)), err=True)


_SARIF_ROOT = "aimscheck.sarif_root"


def _remember_sarif_root(ctx: click.Context, _param: click.Parameter,
                         value: Path | None) -> None:
    if value is not None:
        ctx.meta[_SARIF_ROOT] = value.resolve()


_PASSES = "aimscheck.passes"


def _remember_passes(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.meta[_PASSES] = value


def pair_outputs(formats: Sequence[str], outputs: Sequence[str],
                 default: str) -> list[tuple[str, str | None]]:
    """Each ``--format`` with the ``-o`` in the same position (``None``: standard output).

    No ``--format`` means ``default``; a format without an ``-o``, or with ``-o -``, goes to
    standard output. Checked before anything is written: more ``-o`` than formats, or more
    than one format on standard output, is a usage error (E002), the same in every command.
    """
    fmts = list(formats) or [default]
    outs = list(outputs)
    if len(outs) > len(fmts):
        raise UsageError(Diagnostic("-o", 0, 0, "E002", "more -o/--output than --format",
                                    "give one --format per -o, in the same order"))
    pairs = [(f, outs[i] if i < len(outs) and outs[i] != "-" else None)
             for i, f in enumerate(fmts)]
    if sum(1 for _, out in pairs if out is None) > 1:
        raise UsageError(Diagnostic("--format", 0, 0, "E002",
                                    "only one format can go to standard output",
                                    "give the others an -o FILE"))
    return pairs


def write_report(text: str, output: str | None, what: str) -> None:
    """``text`` to the file ``output``, saying so on stderr (None or ``-``: standard output)."""
    if output is None or output == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(Path(output), text)
        click.echo(f"wrote {what} to {output}", err=True)


def emit(result: ScanResult, formats: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    """Render each format (all first, so a failing reporter writes nothing) and write them."""
    from checker.reporters import load_plugins as load_reporter_plugins
    from checker.reporters import reporter_registry

    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_SARIF_ROOT) is not None:
        result = result.model_copy(update={"repo_root": ctx.meta[_SARIF_ROOT]})
    if ctx is not None and ctx.meta.get(_PASSES, "compact") != result.passes_mode:
        result = result.model_copy(update={"passes_mode": ctx.meta[_PASSES]})
    pairs = pair_outputs(formats, outputs, "text")
    fmts = [f for f, _ in pairs]
    broken = load_reporter_plugins()
    if broken:  # a broken format plugin: write nothing (fail closed)
        raise UsageError(broken)
    reporters = []
    for f in fmts:
        try:
            reporters.append(reporter_registry.get(f)())
        except UnknownName as exc:
            raise UsageError(Diagnostic("--format", 0, 0, "E003", str(exc),
                                        exc.hint or "formats: " +
                                        ", ".join(reporter_registry.names()))) from None
    sign_key = ctx.meta.get(_SIGN_KEY) if ctx is not None else None
    signed = [i for i, (f, out) in enumerate(pairs) if f == "json" and out is not None]
    key = None
    if sign_key is not None:
        if not signed:
            raise UsageError(Diagnostic("--sign-key", 0, 0, "E405", "--sign-key signs the JSON "
                                        "result, but no JSON output goes to a file",
                                        "add -f json -o result.json"))
        from checker.signing import load_private_key

        key = load_private_key(sign_key)  # before anything is written
    rendered = [redact(r.render(result)) for r in reporters]
    for i, ((fmt, out), text) in enumerate(zip(pairs, rendered, strict=True)):
        if out is None:
            if fmt == "text" and sys.stdout.isatty():
                from ._terminal import present

                text = present(text)
            click.echo(text, nl=False)
        else:
            write_atomic(Path(out), text)
            click.echo(f"wrote {fmt} report to {out}", err=True)
            if key is not None and i in signed:
                from checker.signing import key_id, result_signature_path, sign_result

                sig = result_signature_path(Path(out))
                write_atomic(sig, sign_result(text, Path(out).name, key))
                click.echo(f"signed {out} with key {key_id(key.public_key())}: {sig}",
                           err=True)


def emit_timed(outcome: RunOutcome, formats: tuple[str, ...], outputs: tuple[str, ...],
               started: float) -> None:
    """Emit the reports; with ``AIMSCHECK_TIMINGS=1`` also print the stage timings.

    The timings go to stderr as one JSON line (seconds): ``setup`` (config and rules),
    ``collect`` (adapters: load and normalise), ``index`` (the evidence store),
    ``evaluate``, ``summarise`` (waivers, baseline and building the result), ``report``
    (render and write) and ``total`` (after interpreter start-up). Benchmarks read them.
    """
    before = time.perf_counter()
    emit(outcome.result, formats, outputs)
    if os.environ.get("AIMSCHECK_TIMINGS") == "1":
        t = outcome.timings
        now = time.perf_counter()
        ran = before - sum(t[k] for k in ("collect", "index", "evaluate", "post"))
        out: dict[str, Any] = {"setup": ran - started,
                               **{k: t[k] for k in ("collect", "index", "evaluate")},
                               "summarise": t["post"], "report": now - before,
                               "total": now - started, "sources": t.get("sources", {})}
        click.echo("aimscheck-timings: " + json.dumps(out, sort_keys=True), err=True)


class TerminalProgress:
    """Draws each source's progress on stderr (a terminal only; CI logs stay quiet)."""

    def source_started(self, name: str, adapter: str) -> None:
        """A source is about to be read."""
        sys.stderr.write(f"reading {name} ({adapter})…\n")
        sys.stderr.flush()

    def source_finished(self, name: str, records: int, seconds: float) -> None:
        """A source was read completely."""
        sys.stderr.write(f"  {name}: {records:,} records in {seconds:.1f} s\n")
        sys.stderr.flush()


def progress_flag(flag: bool | None) -> bool:
    """``--progress/--no-progress``, defaulting to a terminal without ``CI``."""
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not os.environ.get("CI")


CONFIG_NAME = "aimscheck.yaml"


def discover_config(start: Path | None = None) -> Path:
    """``aimscheck.yaml`` in the working directory or the nearest folder above it.

    The search stops at the root of the git work tree (a folder holding ``.git``) or the
    file system. When there is none, ``aimscheck.yaml`` (so the error names that file).
    A config found above is returned relative to the working directory.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return Path(os.path.relpath(candidate, here)) if folder != here else Path(
                CONFIG_NAME)
        if (folder / ".git").exists():
            break
    return Path(CONFIG_NAME)


def _config_default(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path:
    if value is None or ctx.get_parameter_source(param.name or "") in (
            click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP):
        return discover_config() if value is None or str(value) == CONFIG_NAME else value
    return value


config_option = click.option(
    "-c", "--config", "config_path", default=CONFIG_NAME, show_default=True,
    envvar="AIMSCHECK_CONFIG", show_envvar=True, callback=_config_default,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The config file; its paths are relative to it. Default: aimscheck.yaml here or "
    "in the nearest folder above (up to the git work tree's root).")
as_of_option = click.option(
    "--as-of", "as_of", metavar="DATE|TIMESTAMP", envvar="AIMSCHECK_AS_OF", show_envvar=True,
    help="Evaluate as of this time (default: now, or the snapshot's with --evidence). "
    "A date means 00:00 UTC.")
progress_option = click.option(
    "--progress/--no-progress", default=None,
    help="Progress on the terminal (default: when stderr is a TTY and CI is unset).")
quiet_option = click.option(
    "-q", "--quiet", is_flag=True,
    help="No summary line and no notes on stderr (errors and causes are still printed).")


class FormatChoice(click.Choice[str]):
    """The registered output formats, looked up when first needed (help, completion, use)."""

    def __init__(self) -> None:
        super().__init__([], case_sensitive=True)

    @property
    def choices(self) -> tuple[str, ...]:
        """Every registered format name, plugins included (their problems stop `emit`)."""
        from checker.reporters import load_plugins as load_reporter_plugins
        from checker.reporters import reporter_registry

        load_reporter_plugins()
        return tuple(reporter_registry.names())

    @choices.setter
    def choices(self, _value: Any) -> None:
        pass

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        """A registered format, or a usage error with a did-you-mean hint."""
        if value in self.choices:
            return value
        from checker.registry import did_you_mean

        hint = did_you_mean(str(value), list(self.choices))
        self.fail(f"{value!r} is not one of {', '.join(map(repr, self.choices))}"
                  + (f"; {hint}" if hint else ""), param, ctx)


_SOFT_FAIL = "aimscheck.soft_fail"


def _remember_soft_fail(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_SOFT_FAIL] = True


soft_fail_option = click.option(
    "--soft-fail", is_flag=True, expose_value=False, callback=_remember_soft_fail,
    envvar="AIMSCHECK_SOFT_FAIL", show_envvar=True,
    help="Report-only: exit 0 instead of 1 when findings fail (every report is still "
    "written; config errors (2) and missing evidence (3) still fail). Also 'soft_fail: "
    "true' in the config.")


def common_options(fn: F) -> F:
    """Config, as-of, formats and outputs (default text), fail-on, soft-fail, progress, quiet."""
    return _common_options(fn, "text")


def common_options_for(default_format: str) -> Callable[[F], F]:
    """:func:`common_options` for a command whose default format is ``default_format``."""
    return functools.partial(_common_options, default_format=default_format)


def _common_options(fn: F, default_format: str) -> F:
    fn = config_option(fn)
    fn = as_of_option(fn)
    fn = click.option("-f", "--format", "formats", multiple=True, type=FormatChoice(),
                      help=f"Output format (repeatable). Default: {default_format}.")(fn)
    fn = click.option("-o", "--output", "outputs", multiple=True,
                      help="Output file for the format in the same position ('-' = stdout).")(fn)
    fn = click.option("--fail-on", type=click.Choice(SEVERITIES),
                      envvar="AIMSCHECK_FAIL_ON", show_envvar=True,
                      help="Lowest severity that fails the run (default: the config's).")(fn)
    fn = soft_fail_option(fn)
    fn = click.option("--sarif-root", type=click.Path(file_okay=False, path_type=Path),
                      expose_value=False, callback=_remember_sarif_root,
                      envvar="AIMSCHECK_SARIF_ROOT",
                      help="Make SARIF and github paths relative to this folder (default: "
                      "the git work tree of the config file).")(fn)
    fn = click.option("--passes", type=click.Choice(PASSES_MODES), expose_value=False,
                      callback=_remember_passes, envvar="AIMSCHECK_PASSES", show_envvar=True,
                      help="How the JSON and JUnit reports show passing findings: 'compact' "
                      "(default: per rule, the passing targets in the JSON's 'passes' and "
                      "one JUnit test case) or 'full' (every pass as a whole finding with "
                      "its message, owners and evidence, and one JUnit test case each).")(fn)
    fn = progress_option(fn)
    fn = quiet_option(fn)
    return fn


_PUBLIC_KEY = "aimscheck.public_key"


def _remember_public_key(ctx: click.Context, _param: click.Parameter,
                         value: Path | None) -> None:
    if value is not None:
        ctx.meta[_PUBLIC_KEY] = value


def evidence_options(fn: F) -> F:
    """``--evidence DIR`` and ``--waivers FILE``: what every command that evaluates takes."""
    fn = click.option("--public-key", metavar="PEM",
                      type=click.Path(dir_okay=False, path_type=Path),
                      expose_value=False, callback=_remember_public_key,
                      help="With --evidence: the snapshot's signature must verify under this "
                      "Ed25519 public key (see 'evidence pull --sign-key').")(fn)
    fn = click.option("--evidence", "evidence", metavar="DIR",
                      type=click.Path(file_okay=False, path_type=Path),
                      help="Evaluate an evidence snapshot ('evidence pull') offline; no "
                      "adapter runs. --as-of defaults to the snapshot's.")(fn)
    fn = click.option("--waivers", "waivers", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="A waivers file (default: the config's 'waivers:').")(fn)
    return fn


_SIGN_KEY = "aimscheck.sign_key"


def _remember_sign_key(ctx: click.Context, _param: click.Parameter,
                       value: Path | None) -> None:
    if value is not None:
        ctx.meta[_SIGN_KEY] = value


def run_options(fn: F) -> F:
    """Snapshot, waivers, baseline and history: the options of scan, report and gate."""
    fn = evidence_options(fn)
    fn = click.option("--sign-key", metavar="PEM",
                      type=click.Path(dir_okay=False, path_type=Path),
                      expose_value=False, callback=_remember_sign_key,
                      help="Sign the JSON result (-f json -o FILE) with this Ed25519 private "
                      "key: FILE.sig.json, a DSSE envelope over an in-toto Statement; check "
                      "it with 'aimscheck verify-result FILE --public-key PUB'.")(fn)
    fn = click.option("--record", is_flag=True,
                      help="Record this run in the history store (after the reports are "
                      "written; a history failure does not change the exit code).")(fn)
    fn = click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL",
                      help="History store: sqlite:///PATH or postgresql://USER@HOST/DB "
                      "(default: .aimscheck-history.sqlite beside the config).")(fn)
    fn = click.option("--baseline", "baseline", metavar="FILE",
                      type=click.Path(dir_okay=False, path_type=Path),
                      help="A previous JSON output: fail only on findings not failing in it "
                      "(a check that passed there and fails now still fails).")(fn)
    return fn


def request_from(config_path: Path, *, as_of: str | datetime | None = None,
                 fail_on: str | None = None,
                 progress: bool | None = None, gate: GateSpec | None = None,
                 evidence: Path | None = None, waivers: Path | None = None,
                 baseline: Path | None = None, record: bool = False,
                 history_url: str | None = None, read_all: bool = False,
                 capture_raw: bool = False,
                 loaded: LoadedConfig | None = None,
                 outputs: Sequence[str | None] = (),
                 inputs: Sequence[Path | None] = ()) -> ScanRequest:
    """The request of a command's options (the config is loaded here).

    ``outputs`` (the ``-o`` files) are checked before anything is read: none may be an
    input of the run (the config, its evidence, waivers, baseline, snapshot, ``inputs``) or
    repeat another, and each must be writable (E403/E404, see :mod:`checker.outputs`).
    """
    from checker.run import ScanRequest

    loaded = loaded or load_config(config_path)
    ctx = click.get_current_context(silent=True)
    sign_key = ctx.meta.get(_SIGN_KEY) if ctx is not None else None
    outs = [o for o in outputs if o]
    if sign_key is not None:  # the signatures are outputs too; a bad key fails before the run
        from checker.signing import load_private_key, result_signature_path

        load_private_key(sign_key)
        outs += [str(result_signature_path(Path(o))) for o in outs if o != "-"]
    check_outputs(outs, [*config_inputs(loaded), evidence, waivers, baseline, sign_key,
                         *inputs])
    public_key = ctx.meta.get(_PUBLIC_KEY) if ctx is not None else None
    if public_key is not None and evidence is None:
        raise UsageError(Diagnostic("--public-key", 0, 0, "E002", "--public-key checks a "
                                    "snapshot's signature: it needs --evidence DIR",
                                    "add --evidence DIR, or drop --public-key"))
    return ScanRequest(
        public_key=public_key,
        loaded=loaded,
        as_of=as_of if isinstance(as_of, datetime) else parse_as_of_value(as_of),
        mode="gate" if gate is not None else "scan", gate=gate, evidence=evidence,
        waivers=waivers, baseline=baseline, record=record, history_url=history_url,
        fail_on=fail_on, progress=TerminalProgress() if progress_flag(progress) else None,
        read_all=read_all, capture_raw=capture_raw,
        now=lambda: datetime.now(UTC).replace(microsecond=0))


def packs_from(paths: tuple[str, ...], config_path: Path) -> tuple[list[str], Path | None]:
    """The rule packs named on the command line, else the config's, else iso42001."""
    if paths:
        return list(paths), Path.cwd()
    if config_path.exists():
        loaded = load_config(config_path)
        return loaded.config.rule_packs, loaded.base_dir
    return ["iso42001"], None


def print_causes(outcome: RunOutcome) -> None:
    """Each distinct cause of a failed source, once, compiler-style, on stderr."""
    for d in outcome.diagnostics:
        click.echo(d.render(), err=True)


def finish(outcome: RunOutcome, *, quiet: bool = False, summary: bool = True,
           code: int | None = None) -> None:
    """After the reports: notes, causes, summary line, history; then exit.

    Args:
        outcome: The run.
        quiet: Leave out the notes and the summary line (causes are always printed).
        summary: Print the scan's one-line summary.
        code: The exit code (default: the result's).
    """
    from checker.reporters._common import summary_line
    from checker.run import record_history

    if not quiet:
        for n in outcome.notes:
            click.echo(n, err=True)
    print_causes(outcome)
    if summary and not quiet:
        click.echo(summary_line(outcome.result), err=True)
    if outcome.request.record:
        try:
            line = record_history(outcome)
        except Exception as exc:  # whatever fails, the reports stand and so does the code
            if isinstance(exc, AimscheckError):
                for d in exc.diagnostics:
                    click.echo(d.render(), err=True)
            else:
                click.echo(redact(f"aimscheck: history store failed: {type(exc).__name__}: "
                                  f"{exc}"), err=True)
            click.echo("aimscheck: the run was not recorded in the history; its reports "
                       "were written and its exit code stands", err=True)
        else:
            if not quiet:
                click.echo(line, err=True)
    final = outcome.result.exit_code if code is None else code
    ctx = click.get_current_context(silent=True)
    soft = (ctx is not None and bool(ctx.meta.get(_SOFT_FAIL))) or outcome.config.soft_fail
    if final == 1 and soft:
        click.echo("aimscheck: soft-fail: findings fail, exiting 0 (report-only)", err=True)
        final = 0
    sys.exit(final)

"""The ``aimscheck`` command line: thin wrappers over :mod:`checker.pipeline`.

Exit codes: 0 no failing finding at or above ``--fail-on``; 1 failing findings; 2 usage,
config or rule-file error; 3 evidence could not be collected (fail closed).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import SEVERITIES, load_config
from .errors import AimscheckError, Diagnostic, UsageError, redact
from .findings import ScanResult
from .pipeline import GateSpec, load_rules_for, run_scan
from .registry import UnknownName
from .reporters import reporter_registry
from .scanrun import extended_scan, scan_options
from .timeutil import parse_as_of

__all__ = ["main"]

F = TypeVar("F", bound=Callable[..., Any])


def _fail(exc: AimscheckError) -> None:
    for d in exc.diagnostics:
        click.echo(d.render(), err=True)
    n = len(exc.diagnostics)
    click.echo(f"aimscheck: {n} error{'s' if n != 1 else ''}", err=True)
    sys.exit(exc.exit_code)


def _guard(fn: F) -> F:
    """Turn our errors into diagnostics + exit codes; never show a traceback by default."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AimscheckError as exc:
            _fail(exc)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("AIMSCHECK_DEBUG"):
                click.echo(redact(traceback.format_exc()), err=True)
            click.echo(redact(f"aimscheck: internal error E900: {type(exc).__name__}: {exc} "
                              "(set AIMSCHECK_DEBUG=1 for a traceback; please report this)"),
                       err=True)
            sys.exit(2)
        return None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature


def _as_of(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
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


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers never see a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; reports are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_SARIF_ROOT = "aimscheck.sarif_root"


def _remember_sarif_root(ctx: click.Context, _param: click.Parameter,
                         value: Path | None) -> None:
    if value is not None:
        ctx.meta[_SARIF_ROOT] = value.resolve()


def _emit(result: ScanResult, formats: tuple[str, ...], outputs: tuple[str, ...]) -> None:
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.meta.get(_SARIF_ROOT) is not None:
        result = result.model_copy(update={"repo_root": ctx.meta[_SARIF_ROOT]})
    fmts = list(formats) or ["text"]
    outs = list(outputs)
    if len(outs) > len(fmts):
        raise UsageError(Diagnostic("-o", 0, 0, "E002", "more -o/--output than --format",
                                    "give one --format per -o, in the same order"))
    reporters = []
    for f in fmts:
        try:
            reporters.append(reporter_registry.get(f)())
        except UnknownName as exc:
            raise UsageError(Diagnostic("--format", 0, 0, "E003", str(exc),
                                        exc.hint or "formats: " +
                                        ", ".join(reporter_registry.names()))) from None
    to_stdout = [i for i in range(len(fmts)) if i >= len(outs) or outs[i] == "-"]
    if len(to_stdout) > 1:
        raise UsageError(Diagnostic("--format", 0, 0, "E002",
                                    "only one format can go to standard output",
                                    "give the others an -o FILE"))
    # render everything first so that a failing reporter writes nothing at all
    rendered = [redact(r.render(result)) for r in reporters]
    for i, text in enumerate(rendered):
        if i in to_stdout:
            click.echo(text, nl=False)
        else:
            write_atomic(Path(outs[i]), text)
            click.echo(f"wrote {fmts[i]} report to {outs[i]}", err=True)


def _emit_timed(result: ScanResult, formats: tuple[str, ...], outputs: tuple[str, ...],
                timings: dict[str, Any], started: float, ran: float) -> None:
    """Emit the reports; with ``AIMSCHECK_TIMINGS=1`` also print the stage timings.

    The timings go to stderr as one JSON line (seconds): ``setup`` (config and rules),
    ``collect`` (adapters: load and normalise), ``index`` (the evidence store),
    ``evaluate``, ``summarise`` (the rest of building the result), ``report`` (render and
    write) and ``total`` (after interpreter start-up). Benchmarks read them.
    """
    before = time.perf_counter()
    _emit(result, formats, outputs)
    if os.environ.get("AIMSCHECK_TIMINGS") == "1":
        now = time.perf_counter()
        stages: dict[str, float] = {k: timings[k] for k in ("collect", "index", "evaluate")
                                    if k in timings}
        out: dict[str, Any] = {"setup": ran - started, **stages,
               "summarise": before - ran - sum(stages.values()),
               "report": now - before, "total": now - started,
               "sources": timings.get("sources", {})}
        click.echo("aimscheck-timings: " + json.dumps(out, sort_keys=True), err=True)


def _common(fn: F) -> F:
    fn = click.option("-c", "--config", "config_path", default="aimscheck.yaml",
                      show_default=True, type=click.Path(dir_okay=False, path_type=Path),
                      help="The config file; its paths are relative to it.")(fn)
    fn = click.option("--as-of", "as_of", metavar="DATE|TIMESTAMP",
                      help="Evaluate as of this time (default: now). A date means 00:00 UTC.")(fn)
    fn = click.option("-f", "--format", "formats", multiple=True,
                      help="Output format (repeatable): " + ", ".join(
                          reporter_registry.names()) + ". Default: text.")(fn)
    fn = click.option("-o", "--output", "outputs", multiple=True,
                      help="Output file for the format in the same position ('-' = stdout).")(fn)
    fn = click.option("--fail-on", type=click.Choice(SEVERITIES),
                      help="Lowest severity that fails the run (default: the config's).")(fn)
    fn = click.option("--sarif-root", type=click.Path(file_okay=False, path_type=Path),
                      expose_value=False, callback=_remember_sarif_root,
                      envvar="AIMSCHECK_SARIF_ROOT",
                      help="Make SARIF and github paths relative to this folder (default: "
                      "the git work tree of the config file).")(fn)
    fn = click.option("--progress/--no-progress", default=None,
                      help="Progress on the terminal (default: when stderr is a TTY and CI "
                      "is unset).")(fn)
    return fn


def _progress(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return sys.stderr.isatty() and not os.environ.get("CI")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aimscheck")
@click.option("--debug", is_flag=True,
              help="Print a debug dump (config, sources, timings) and tracebacks to stderr; "
              "secrets are redacted.")
def main(debug: bool = False) -> None:
    """ISO/IEC 42001 accountability checks: named owners for every AI system, risk and release."""
    if debug:
        os.environ["AIMSCHECK_DEBUG"] = "1"
    # A scan builds millions of long-lived evidence objects and almost no reference cycles;
    # with the default thresholds the cyclic collector re-walks them all again and again
    # (measured: 2-2.5x the run time at 10k-100k employees; benchmarks/RESULTS.md).
    gc.set_threshold(200_000, 50, 1_000)


@main.command()
@_common
@scan_options
@_guard
def scan(config_path: Path, as_of: str | None, formats: tuple[str, ...],
         outputs: tuple[str, ...], fail_on: str | None, progress: bool | None,
         **locker: Any) -> None:
    """Scan all evidence against all rules; findings grouped by who must act."""
    started = time.perf_counter()
    loaded = load_config(config_path)
    if fail_on:
        loaded.config = loaded.config.model_copy(update={"fail_on": fail_on})
    rules = load_rules_for(loaded)
    ran = time.perf_counter()
    # evidence locker, history, waivers, escalation (reads the history)
    if any(locker.values()) or loaded.config.waivers or loaded.config.escalation:
        result, timings = extended_scan(loaded, rules, _as_of(as_of) if as_of else None,
                                        progress=_progress(progress),
                                        now=lambda: _as_of(None), **locker)
    else:
        result, timings = run_scan(loaded, rules, _as_of(as_of), progress=_progress(progress))
    _emit_timed(result, formats, outputs, timings, started, ran)
    debug_dump(loaded.config.model_dump(mode="json"), result, timings)
    sys.exit(result.exit_code)


@main.group()
def gate() -> None:
    """Gates for CI: block a release unless the evidence says it may ship."""


@gate.command("release")
@click.option("--model", required=True, help="Registered model name.")
@click.option("--version", "version", required=True, help="Model version.")
@_common
@_guard
def gate_release(model: str, version: str, config_path: Path, as_of: str | None,
                 formats: tuple[str, ...], outputs: tuple[str, ...], fail_on: str | None,
                 progress: bool | None) -> None:
    """Decide one release: exit 0 to release, 1 to block, 3 when evidence is missing."""
    started = time.perf_counter()
    loaded = load_config(config_path)
    if fail_on:
        loaded.config = loaded.config.model_copy(update={"fail_on": fail_on})
    rules = load_rules_for(loaded)
    ran = time.perf_counter()
    result, timings = run_scan(loaded, rules, _as_of(as_of), gate=GateSpec(model, version),
                               progress=_progress(progress))
    _emit_timed(result, formats, outputs, timings, started, ran)
    sys.exit(result.exit_code)


@main.group()
def rules() -> None:
    """List, show, validate and test rules."""


def _packs_from(paths: tuple[str, ...], config_path: Path) -> tuple[list[str], Path | None]:
    if paths:
        return list(paths), Path.cwd()
    if config_path.exists():
        loaded = load_config(config_path)
        return loaded.config.rule_packs, loaded.base_dir
    return ["iso42001"], None


@rules.command("list")
@click.argument("packs", nargs=-1)
@click.option("-c", "--config", "config_path", default="aimscheck.yaml",
              type=click.Path(dir_okay=False, path_type=Path))
@_guard
def rules_list(packs: tuple[str, ...], config_path: Path) -> None:
    """List the rules of the configured (or given) packs."""
    from .rules import load_packs

    names, base = _packs_from(packs, config_path)
    for r in load_packs(names, base):
        d = r.data
        refs = ", ".join(d["references"].get("iso42001", []))
        click.echo(f"{r.id:14} {d['severity']:8} {d['title']}  [{refs}]")


@rules.command("show")
@click.argument("rule_id")
@click.option("-c", "--config", "config_path", default="aimscheck.yaml",
              type=click.Path(dir_okay=False, path_type=Path))
@_guard
def rules_show(rule_id: str, config_path: Path) -> None:
    """Show one rule: text, params (with config overrides), checks and their arguments."""
    from .checks import check_registry
    from .rules import load_packs

    names, base = _packs_from((), config_path)
    found = {r.id: r for r in load_packs(names, base)}
    if rule_id not in found:
        from .registry import did_you_mean

        raise UsageError(Diagnostic(rule_id, 0, 0, "E004", f"no rule {rule_id!r}",
                                    did_you_mean(rule_id, sorted(found)) or
                                    "see 'aimscheck rules list'"))
    r = found[rule_id]
    d = r.data
    overrides: dict[str, Any] = {}
    if config_path.exists():
        ov = load_config(config_path).config.rules.get(rule_id)
        overrides = dict(ov.params) if ov else {}
    click.echo(f"{r.id}: {d['title']}")
    click.echo(f"  file:          {r.located.file}")
    click.echo(f"  severity:      {d['severity']}"
               + ("  (good practice supporting the references)" if d.get("good_practice")
                  else ""))
    click.echo(f"  applies to:    {', '.join(d['applies_to'])}")
    for fw, ids in d["references"].items():
        click.echo(f"  {fw + ':':14} {', '.join(ids)}")
    click.echo(f"  gates:         {', '.join(d.get('gates') or []) or '-'}")
    click.echo(f"  finding owner: {' → '.join(d['finding_owner'])} → accountable_executive")
    if d.get("description"):
        click.echo(f"\n{d['description'].strip()}")
    click.echo(f"\nRemediation: {d['remediation']}")
    params = d.get("params") or {}
    if params:
        click.echo("\nParams (override in aimscheck.yaml under rules: "
                   f"{rule_id}: params:):")
        for k, v in params.items():
            cur = f"  (config: {json.dumps(overrides[k])})" if k in overrides else ""
            click.echo(f"  {k} = {json.dumps(v)}{cur}")
    used: list[str] = []

    def walk(conds: list[Any]) -> None:
        for c in conds:
            if isinstance(c, dict):
                for name, args in c.items():
                    used.append(name)
                    if name in ("all", "any"):
                        walk(args)
                    elif name == "not":
                        walk([args])

    walk([*(d.get("where") or []), *d["require"]])
    click.echo("\nChecks:")
    for name in dict.fromkeys(used):
        if name in ("all", "any", "not"):
            continue
        cls = check_registry.get(name)
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        click.echo(f"  {name}: {summary}")
        for fname, field in cls.Args.model_fields.items():
            default = "required" if field.is_required() else f"default {field.default!r}"
            click.echo(f"    {fname} ({default}): {field.description or ''}")


@rules.command("validate")
@click.argument("packs", nargs=-1)
@click.option("-c", "--config", "config_path", default="aimscheck.yaml",
              type=click.Path(dir_okay=False, path_type=Path))
@_guard
def rules_validate(packs: tuple[str, ...], config_path: Path) -> None:
    """Validate rule files (schema, checks, arguments, references); no evidence is read."""
    from .rules import compile_rules, load_packs

    names, base = _packs_from(packs, config_path)
    loaded_rules = load_packs(names, base)
    if not packs and config_path.exists():
        loaded = load_config(config_path)
        compile_rules(loaded_rules, loaded.config, loaded.located)
    click.echo(f"{len(loaded_rules)} rules valid in {', '.join(names)}")


@rules.command("test")
@click.argument("packs", nargs=-1)
@click.option("-k", "select", help="Only rules whose id contains this text.")
@_guard
def rules_test(packs: tuple[str, ...], select: str | None) -> None:
    """Run each rule's test cases (<ID>.test.yaml beside the rule)."""
    from .casetest import run_pack_cases

    names = list(packs) or ["iso42001"]
    total = failed = 0
    for name in names:
        for res in run_pack_cases(name, Path.cwd(), select=select):
            total += 1
            if res.ok:
                click.echo(f"PASS {res.rule_id} :: {res.case}")
            else:
                failed += 1
                click.echo(f"FAIL {res.rule_id} :: {res.case}\n  {res.detail}")
    click.echo(f"{total - failed} passed, {failed} failed")
    if total == 0:
        raise UsageError(Diagnostic(", ".join(names), 0, 0, "E209", "no test cases found",
                                    "add <RULE-ID>.test.yaml beside each rule"))
    sys.exit(1 if failed else 0)


STARTER = """\
# aimscheck configuration. Paths are relative to this file.
# Docs: README.md; the format: checker/schemas/config.schema.json.
version: 1
organisation: Example Ltd
# The last link of every finding-owner chain: an active individual in HR.
accountable_executive: ceo@example.com
rule_packs: [iso42001]      # installed packs by name, or folders of your own rules
fail_on: low                # lowest severity that fails 'scan' and 'gate'

sources:
  # The AIMS register: AI systems, models, datasets, risks, controls, vendors, policies.
  - adapter: register
    path: register.yaml
  # People from an HR export; map your columns to ours.
  - adapter: hr_csv
    path: hr/people.csv
    columns: {id: employee_id, email: work_email, name: full_name, status: status,
              hired: hire_date, terminated: termination_date}
  # Training completions from the LMS.
  - adapter: lms_csv
    path: training/completions.csv
    columns: {person: email, course: course_id, completed: completed_on}
  # Anything else (approvals, reviews, incidents, releases …) as JSON Lines.
  - adapter: jsonl
    path: evidence/
    kinds: [approval, review, release, incident, event, alert]

settings:
  production_stages: [production]
  production_aliases: [production, prod, champion]

# Per-rule overrides: see 'aimscheck rules show RULE-ID' for each rule's params.
rules: {}
#  AIMS-RSK-001:
#    params: {cadence_days: 60}
"""


def _with_hr_preset(text: str, preset: str) -> str:
    """The starter config with its hr_csv entry spelled out from an adapter preset.

    The hr_csv adapter is found through the adapter registry (checker never imports
    evidence_adapters); it renders its own preset as a ``sources:`` entry.
    """
    from .adapters import adapter_registry

    cls: Any = adapter_registry().get("hr_csv")
    names: list[str] = cls.preset_names()
    if preset not in names:
        from .registry import did_you_mean

        raise UsageError(Diagnostic("--hr", 0, 0, "E001", f"unknown HR preset {preset!r}",
                                    did_you_mean(preset, names)
                                    or "available: " + ", ".join(names)))
    start = text.index("  - adapter: hr_csv\n")
    end = text.index("  # Training completions", start)
    snippet: str = cls.preset_source_yaml(preset)
    return text[:start] + snippet + text[end:]


@main.command()
@click.option("-o", "--output", default="aimscheck.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--hr", "hr_preset", default=None, metavar="PRESET",
              help="Write the column mapping of an HR export preset (workday, bamboohr, "
                   "personio) into the hr_csv source.")
@_guard
def init(output: Path, force: bool, hr_preset: str | None) -> None:
    """Write a commented starter config."""
    if output.exists() and not force:
        raise UsageError(Diagnostic(str(output), 0, 0, "E005", "file exists",
                                    "use --force to overwrite it"))
    text = STARTER
    if hr_preset is not None:
        text = _with_hr_preset(text, hr_preset)
    write_atomic(output, text)
    click.echo(f"wrote {output}")


# Commands of other areas (reports, evidence locker, history …) register themselves here.
from . import commands as _commands  # noqa: E402,F401  # imported for its side effect

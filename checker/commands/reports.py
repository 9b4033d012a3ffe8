"""Reports for people: ``report``, ``matrix`` and ``owners``.

- ``aimscheck report`` is a scan rendered for people (default: the HTML self-assessment),
  optionally with readiness over time from earlier scans.
- ``aimscheck matrix`` exports the accountability matrix (CSV, JSON or HTML).
- ``aimscheck owners PERSON`` lists everything a person owns, backs up or must act on —
  the question asked when someone resigns.

Exit codes follow ``scan``: ``report`` exits like the scan; ``matrix`` and ``owners`` exit 0,
or 3 when evidence could not be collected (the answer may be incomplete).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import click
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from pydantic import ValidationError

from checker.cli import _as_of, _common, _emit, _guard, _progress, main, write_atomic
from checker.config import LoadedConfig, load_config
from checker.errors import Diagnostic, UsageError
from checker.evidence import Person
from checker.findings import FAILING, HistoryPoint, MatrixRow, ScanResult
from checker.pipeline import build_sources, collect, load_rules_for, run_scan
from checker.reporters._common import readiness_pct, who
from checker.store import EvidenceStore
from checker.timeutil import parse_ts

__all__ = ["csv_safe", "history_points", "matrix_csv", "matrix_html", "matrix_json"]

_CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Neutralise a cell a spreadsheet would run as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(_CSV_TRIGGERS) else value


def _load(config_path: Path, fail_on: str | None) -> LoadedConfig:
    loaded = load_config(config_path)
    if fail_on:
        loaded.config = loaded.config.model_copy(update={"fail_on": fail_on})
    return loaded


def _point(r: ScanResult) -> HistoryPoint:
    return HistoryPoint(as_of=r.as_of, readiness=readiness_pct(r.summary),
                        failing=int(r.summary.get("failing", 0)),
                        total=int(r.summary.get("total", 0)))


def history_points(paths: tuple[Path, ...], current: ScanResult) -> tuple[HistoryPoint, ...]:
    """Readiness points from earlier ``scan --format json`` results plus the current scan.

    A folder contributes every ``*.json`` in it. Points are sorted by as-of; a later file
    with the same as-of replaces an earlier one; the current scan wins its own as-of.
    """
    files: list[Path] = []
    for p in paths:
        files.extend(sorted(p.glob("*.json")) if p.is_dir() else [p])
    by_as_of: dict[str, HistoryPoint] = {}
    for f in files:
        try:
            data: Any = json.loads(f.read_text("utf-8"))
            r = ScanResult.model_validate(data)
        except (OSError, ValueError, ValidationError) as exc:
            raise UsageError(Diagnostic(str(f), 0, 0, "E402",
                                        f"not a scan result: {type(exc).__name__}",
                                        "pass files written by 'aimscheck scan --format json'"
                                        )) from None
        by_as_of[r.as_of] = _point(r)
    by_as_of[current.as_of] = _point(current)
    return tuple(by_as_of[k] for k in sorted(by_as_of))


@main.command()
@_common
@click.option("--history", "history", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="Earlier 'scan --format json' results (files or folders, repeatable) for "
              "readiness over time.")
@_guard
def report(config_path: Path, as_of: str | None, formats: tuple[str, ...],
           outputs: tuple[str, ...], fail_on: str | None, progress: bool | None,
           history: tuple[Path, ...]) -> None:
    """A scan rendered for people: the HTML self-assessment by default.

    Formats: html, markdown, sarif, oscal, json (and the scan formats). Exits like scan.
    """
    loaded = _load(config_path, fail_on)
    rules = load_rules_for(loaded)
    result, _ = run_scan(loaded, rules, _as_of(as_of), progress=_progress(progress))
    if history:
        result = result.model_copy(update={"history": history_points(history, result)})
    _emit(result, formats or ("html",), outputs)
    sys.exit(result.exit_code)


# -- the accountability matrix ---------------------------------------------------------

_MATRIX_COLUMNS = ("subject_kind", "subject_id", "subject_name", "defined_at", "role",
                   "handle", "person_id", "person_name", "email", "status", "detail")


def matrix_csv(rows: tuple[MatrixRow, ...]) -> str:
    """One line per (subject, role); a subject without owners gets one line with no role."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_MATRIX_COLUMNS)
    for m in rows:
        base = [m.kind, m.id, m.name, m.locator]
        if not m.owners:
            w.writerow([csv_safe(c) for c in [*base, "", "", "", "", "", "none", ""]])
        for o in m.owners:
            cells = [*base, o.role, o.handle, o.person_id or "", o.name or "", o.email or "",
                     o.status, o.detail]
            w.writerow([csv_safe(c) for c in cells])
    return buf.getvalue()


def matrix_json(result: ScanResult) -> str:
    """The matrix with the organisation and as-of."""
    doc = {"organisation": result.organisation, "as_of": result.as_of,
           "matrix": [m.model_dump(mode="json") for m in result.matrix]}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _env() -> Environment:
    return Environment(loader=PackageLoader("checker", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True)


def matrix_html(result: ScanResult) -> str:
    """The matrix as a self-contained HTML page."""
    return str(_env().get_template("matrix.html.j2").render(r=result))


def _collect_and_scan(config_path: Path, as_of: str | None, progress: bool | None
                      ) -> tuple[ScanResult, EvidenceStore]:
    loaded = _load(config_path, None)
    rules = load_rules_for(loaded)
    t = _as_of(as_of)
    needed = frozenset().union(*(r.needs for r in rules)) if rules else frozenset()
    collected = collect(build_sources(loaded, t, progress=_progress(progress)),
                        needed | {"person", "subject", "release"})
    result, _ = run_scan(loaded, rules, t, collected=collected)
    return result, EvidenceStore(collected.bundle, collected.incomplete, as_of=t,
                                 tz=loaded.config.settings.tz)


def _warn_incomplete(result: ScanResult) -> int:
    bad = [s for s in result.sources if s.status == "error"]
    for s in bad:
        click.echo(f"aimscheck: source {s.name} ({s.adapter}) could not be read; "
                   "the answer may be incomplete", err=True)
        for d in s.diagnostics:
            click.echo(f"  {d}", err=True)
    return 3 if bad else 0


def _write(text: str, output: str | None, what: str) -> None:
    if output is None or output == "-":
        click.echo(text, nl=False)
    else:
        write_atomic(Path(output), text)
        click.echo(f"wrote {what} to {output}", err=True)


_config_opt = click.option("-c", "--config", "config_path", default="aimscheck.yaml",
                           show_default=True,
                           type=click.Path(dir_okay=False, path_type=Path),
                           help="The config file; its paths are relative to it.")
_as_of_opt = click.option("--as-of", "as_of", metavar="DATE|TIMESTAMP",
                          help="Evaluate as of this time (default: now).")
_progress_opt = click.option("--progress/--no-progress", default=None,
                             help="Progress on the terminal.")


@main.command()
@_config_opt
@_as_of_opt
@click.option("-f", "--format", "fmt", type=click.Choice(["csv", "json", "html"]),
              default="csv", show_default=True)
@click.option("-o", "--output", help="Output file ('-' or absent = stdout).")
@_progress_opt
@_guard
def matrix(config_path: Path, as_of: str | None, fmt: str, output: str | None,
           progress: bool | None) -> None:
    """The accountability matrix: every subject, its owners by role and their status."""
    result, _ = _collect_and_scan(config_path, as_of, progress)
    text = {"csv": lambda: matrix_csv(result.matrix), "json": lambda: matrix_json(result),
            "html": lambda: matrix_html(result)}[fmt]()
    _write(text, output, f"{fmt} matrix")
    sys.exit(_warn_incomplete(result))


# -- one person's accountability -----------------------------------------------------------


def _person_report(person: Person, result: ScanResult, store: EvidenceStore) -> dict[str, Any]:
    at = parse_ts(result.as_of)
    status = ("active" if person.active_at(at) else
              "on_leave" if person.employed_at(at) else "terminated")
    roles: list[dict[str, str]] = []
    for m in result.matrix:
        for o in m.owners:
            if o.person_id == person.id:
                roles.append({"subject": m.key, "name": m.name, "role": o.role,
                              "status": o.status, "defined_at": m.locator})
    history: list[dict[str, str]] = []
    for m in result.matrix:
        s = store.subject(m.key)
        if s is None:
            continue
        for span in s.history:
            p = store.identity.resolve(span.owner)
            if p is not None and p.id == person.id and span.end is not None:
                history.append({"subject": m.key, "role": span.role,
                                "from": span.start.date().isoformat(),
                                "to": span.end.date().isoformat()})
    must_act: list[dict[str, Any]] = []
    deputy_for: list[dict[str, Any]] = []
    for f in result.findings:
        if f.status not in FAILING:
            continue
        item = {"rule_id": f.rule_id, "severity": f.severity, "status": f.status,
                "target": f.target, "message": f.message, "remediation": f.remediation,
                "owner": who(f.owner)}
        if f.owner.id == person.id or person.id in f.act:
            must_act.append(item)
        elif f.deputy is not None and f.deputy.id == person.id:
            deputy_for.append(item)
    return {
        "person": {"id": person.id, "name": person.name, "email": person.primary_email,
                   "status": status},
        "as_of": result.as_of,
        "owns": [r for r in roles if r["role"] != "backup"],
        "backs_up": [r for r in roles if r["role"] == "backup"],
        "must_act_on": must_act,
        "deputy_for": deputy_for,
        "previously_owned": history,
    }


def _person_text(d: dict[str, Any]) -> str:
    p = d["person"]
    out = [f"{p['name']} <{p['email']}> ({p['id']}), {p['status'].replace('_', ' ')} "
           f"as of {d['as_of']}", ""]

    def roles(title: str, items: list[dict[str, str]]) -> None:
        out.append(f"{title} ({len(items)})")
        for r in items:
            out.append(f"  {r['subject']:34} {r['role']:12} {r['name']}  [{r['defined_at']}]")
        if not items:
            out.append("  —")
        out.append("")

    def findings(title: str, items: list[dict[str, Any]]) -> None:
        out.append(f"{title} ({len(items)})")
        for f in items:
            out.append(f"  {f['status'].upper():5} {f['severity']:8} {f['rule_id']} "
                       f"{f['target']}: {f['message']}")
            out.append(f"        fix: {f['remediation']}")
        if not items:
            out.append("  —")
        out.append("")

    roles("Owns", d["owns"])
    roles("Backs up", d["backs_up"])
    findings("Must act on", d["must_act_on"])
    findings("Deputy for", d["deputy_for"])
    if d["previously_owned"]:
        out.append(f"Previously owned ({len(d['previously_owned'])})")
        for h in d["previously_owned"]:
            out.append(f"  {h['subject']:34} {h['role']:12} {h['from']} to {h['to']}")
        out.append("")
    return "\n".join(out)


@main.command()
@click.argument("person")
@_config_opt
@_as_of_opt
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("-o", "--output", help="Output file ('-' or absent = stdout).")
@_progress_opt
@_guard
def owners(person: str, config_path: Path, as_of: str | None, fmt: str, output: str | None,
           progress: bool | None) -> None:
    """Everything PERSON owns, backs up or must act on (any handle: email, id, account id)."""
    result, store = _collect_and_scan(config_path, as_of, progress)
    p = store.identity.resolve(person)
    if p is None:
        raise UsageError(Diagnostic(person, 0, 0, "E401", f"no person {person!r} in the evidence",
                                    "give an email, employee number or account id known to HR"))
    d = _person_report(p, result, store)
    text = (json.dumps(d, indent=2, ensure_ascii=False) + "\n" if fmt == "json"
            else _person_text(d))
    _write(text, output, f"{fmt} owner report")
    sys.exit(_warn_incomplete(result))

"""Reports for people: ``report``, ``matrix`` and ``owners``.

- ``aimscheck report`` is a scan rendered for people (default: the HTML self-assessment),
  optionally with readiness over time from earlier scans.
- ``aimscheck matrix`` exports the accountability matrix (CSV, JSON or HTML).
- ``aimscheck owners PERSON`` lists everything a person owns, backs up or must act on —
  the question asked when someone resigns.

All three run the one scan path (:func:`checker.run.run`) with the same request options as
``scan`` (snapshot, waivers, record limit). Exit codes: ``report`` exits like the scan;
``matrix`` and ``owners`` are exports: they exit 0, or 3 exactly when the scan would (the
answer may be incomplete).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from checker.availability import availability, owner_status
from checker.config import Settings
from checker.errors import Diagnostic, EvidenceError, UsageError
from checker.evidence import Person
from checker.findings import FAILING, OWNER_STATUS_ORDER, HistoryPoint, MatrixRow, ScanResult
from checker.matrix import STATUS_LABEL, concentration, role_columns, role_label
from checker.reporters._common import (
    csv_safe,
    neutralise,
    neutralise_document,
    readiness_pct,
    who,
)
from checker.run import RunOutcome, run
from checker.store import EvidenceStore
from checker.timeutil import parse_ts

from ._common import (
    as_of_option,
    common_options_for,
    config_option,
    emit,
    evidence_options,
    finish,
    guard,
    pair_outputs,
    print_causes,
    progress_option,
    quiet_option,
    request_from,
    run_options,
    write_report,
)

__all__ = ["concentration_csv", "csv_safe", "history_points", "matrix", "matrix_csv",
           "matrix_html", "matrix_json", "owners", "report"]




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


@click.command()
@common_options_for("html")
@run_options
@click.option("--history", "history", multiple=True,
              type=click.Path(exists=True, path_type=Path),
              help="Earlier 'scan --format json' results (files or folders, repeatable) for "
              "readiness over time.")
@guard
def report(config_path: Path, as_of: str | None, formats: tuple[str, ...],
           outputs: tuple[str, ...], fail_on: str | None, progress: bool | None, quiet: bool,
           evidence: Path | None, waivers: Path | None, record: bool, history_url: str | None,
           baseline: Path | None, history: tuple[Path, ...]) -> None:
    """A scan rendered for people: the HTML self-assessment by default.

    Formats: html, markdown, sarif, oscal, json (and the scan formats). Exits like scan.
    """
    pair_outputs(formats, outputs, "html")  # before the run: no evidence read in vain
    outcome = run(request_from(config_path, as_of=as_of, fail_on=fail_on, progress=progress,
                               evidence=evidence, waivers=waivers, baseline=baseline,
                               record=record, history_url=history_url, outputs=outputs,
                               inputs=history))
    result = outcome.result
    if history:
        result = result.model_copy(update={"history": history_points(history, result)})
    emit(result, formats or ("html",), outputs)
    finish(outcome, quiet=quiet)


# -- the accountability matrix ---------------------------------------------------------

_MATRIX_COLUMNS = ("subject_kind", "subject_id", "subject_name", "defined_at", "role",
                   "handle", "person_id", "person_name", "email", "status", "detail")


def matrix_csv(rows: tuple[MatrixRow, ...]) -> str:
    """One line per (subject, role), gaps first.

    A required role nobody holds is a line with status ``missing``; a subject with no role
    at all (retired) gets one line with no role.
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_MATRIX_COLUMNS)
    for m in rows:
        base = [m.kind, m.id, m.name, m.locator]
        if not m.owners:
            w.writerow([csv_safe(c) for c in [*base, "", "", "", "", "",
                                               "retired" if m.retired else "none", ""]])
        for o in m.owners:
            cells = [*base, o.role, o.handle, o.person_id or "", o.name or "", o.email or "",
                     o.status, o.detail]
            w.writerow([csv_safe(c) for c in cells])
    return buf.getvalue()


_CONCENTRATION_COLUMNS = ("person_id", "person_name", "email", "status", "roles",
                          "by_role", "subjects", "sole_owner_of", "overloaded",
                          "max_roles", "flags")


def concentration_rows(result: ScanResult) -> list[dict[str, Any]]:
    """The concentration view as plain data (flagged people first)."""
    return [{"person_id": p.person_id, "person_name": p.name, "email": p.email,
             "status": p.status, "roles": p.role_count, "by_role": p.roles,
             "subjects": list(p.subjects), "sole_owner_of": list(p.sole_owner_of),
             "overloaded": p.overloaded, "max_roles": p.max_roles, "flags": p.flags}
            for p in concentration(result.matrix, result.concentration_max_roles)]


def concentration_csv(result: ScanResult) -> str:
    """One line per person holding an owner role: counts, sole-owner subjects and flags."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_CONCENTRATION_COLUMNS)
    for p in concentration_rows(result):
        cells = [p["person_id"], p["person_name"], p["email"] or "", p["status"], p["roles"],
                 "; ".join(f"{k} {v}" for k, v in p["by_role"].items()),
                 len(p["subjects"]), " ".join(p["sole_owner_of"]),
                 "yes" if p["overloaded"] else "no", p["max_roles"], "; ".join(p["flags"])]
        w.writerow([csv_safe(str(c)) for c in cells])
    return buf.getvalue()


def matrix_json(result: ScanResult) -> str:
    """The matrix (gaps first) and the concentration view, with the organisation and as-of."""
    doc = {"organisation": result.organisation, "as_of": result.as_of,
           "matrix": [m.model_dump(mode="json") for m in result.matrix],
           "concentration": concentration_rows(result)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _finalize(value: Any) -> Any:
    """A plain-text ``{{ value }}``: control characters, CR and LF shown as escapes."""
    if isinstance(value, str) and not hasattr(value, "__html__"):
        return neutralise(value)
    return value


def _env() -> Any:
    """The Jinja environment of the matrix and review pages (as the HTML report's)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("checker", "templates"),
                       autoescape=select_autoescape(default=True, default_for_string=True),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                       keep_trailing_newline=True, finalize=_finalize)


def matrix_html(result: ScanResult) -> str:
    """The matrix grid and the concentration view as a self-contained HTML page."""
    return neutralise_document(str(_env().get_template("matrix.html.j2").render(
        r=result, roles=role_columns(result.matrix), role_label=role_label,
        status_label=STATUS_LABEL, status_order=OWNER_STATUS_ORDER,
        people=concentration(result.matrix, result.concentration_max_roles))))


def _export_code(outcome: RunOutcome) -> int:
    """An export exits 0, or 3 exactly when the scan would (evidence incomplete)."""
    bad = [x for x in outcome.result.sources if x.status == "error"]
    if bad:
        click.echo(f"aimscheck: {len(bad)} source(s) could not be read ("
                   + ", ".join(x.name for x in bad) + "); the answer may be incomplete",
                   err=True)
    return 3 if outcome.result.exit_code == 3 else 0


@click.command()
@config_option
@as_of_option
@click.option("-f", "--format", "fmt",
              type=click.Choice(["csv", "json", "html", "concentration-csv"]),
              default="csv", show_default=True,
              help="csv: one line per subject and role (gaps first, a required role nobody "
              "holds is 'missing'); concentration-csv: one line per person (roles held, "
              "subjects they alone can act on, overload); json and html: both.")
@click.option("-o", "--output", help="Output file ('-' or absent = stdout).")
@evidence_options
@progress_option
@quiet_option
@guard
def matrix(config_path: Path, as_of: str | None, fmt: str, output: str | None,
           evidence: Path | None, waivers: Path | None, progress: bool | None,
           quiet: bool) -> None:
    """The accountability matrix: every subject, its owners by role and their status."""
    outcome = run(request_from(config_path, as_of=as_of, progress=progress,
                               evidence=evidence, waivers=waivers, outputs=[output]))
    result = outcome.result
    text = {"csv": lambda: matrix_csv(result.matrix), "json": lambda: matrix_json(result),
            "html": lambda: matrix_html(result),
            "concentration-csv": lambda: concentration_csv(result)}[fmt]()
    write_report(text, output, f"{fmt} matrix")
    finish(outcome, quiet=quiet, summary=False, code=_export_code(outcome))


# -- one person's accountability -----------------------------------------------------------


def _person_report(person: Person, result: ScanResult, store: EvidenceStore,
                   settings: Settings) -> dict[str, Any]:
    at = parse_ts(result.as_of)
    # the config's availability policy (shared-mailbox patterns, contractors), as the scan,
    # its owner resolution and its matrix rows judged this person
    avail = availability(store.identity, person.id, at, settings)
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
        # the matrix's words for the same verdict (one mapping: owner_status), and its
        # reason when the person cannot be accountable (as a matrix cell's detail)
        "person": {"id": person.id, "name": person.name, "email": person.primary_email,
                   "status": owner_status(avail), "detail": avail.detail},
        "as_of": result.as_of,
        "owns": [r for r in roles if r["role"] != "backup"],
        "backs_up": [r for r in roles if r["role"] == "backup"],
        "must_act_on": must_act,
        "deputy_for": deputy_for,
        "previously_owned": history,
    }


def _person_text(d: dict[str, Any]) -> str:
    p = d["person"]
    out = [f"{p['name']} <{p['email']}> ({p['id']}), {STATUS_LABEL[p['status']]} "
           f"as of {d['as_of']}"]
    if p["detail"]:
        out.append(f"  {p['detail']}")
    out.append("")

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


@click.command()
@click.argument("person")
@config_option
@as_of_option
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("-o", "--output", help="Output file ('-' or absent = stdout).")
@evidence_options
@progress_option
@quiet_option
@guard
def owners(person: str, config_path: Path, as_of: str | None, fmt: str, output: str | None,
           evidence: Path | None, waivers: Path | None, progress: bool | None,
           quiet: bool) -> None:
    """Everything PERSON owns, backs up or must act on (any handle: email, id, account id)."""
    outcome = run(request_from(config_path, as_of=as_of, progress=progress,
                               evidence=evidence, waivers=waivers, outputs=[output]))
    result, store = outcome.result, outcome.store
    p = store.identity.resolve(person)
    if p is None and "person" in store.incomplete:
        print_causes(outcome)
        raise EvidenceError(Diagnostic(
            person, 0, 0, "E401", f"cannot look up {person!r}: the people evidence is "
            "incomplete", "fix the people source named above, then ask again"))
    if p is None:
        raise UsageError(Diagnostic(person, 0, 0, "E401", f"no person {person!r} in the evidence",
                                    "give an email, employee number or account id known to HR"))
    d = _person_report(p, result, store, outcome.config.settings)
    text = (json.dumps(d, indent=2, ensure_ascii=False) + "\n" if fmt == "json"
            else _person_text(d))
    write_report(text, output, f"{fmt} owner report")
    finish(outcome, quiet=quiet, summary=False, code=_export_code(outcome))

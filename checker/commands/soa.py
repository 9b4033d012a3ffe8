"""``aimscheck soa``: the Statement of Applicability (ISO/IEC 42001 6.1.3).

All 38 Annex A controls with the organisation's applicability decision and justification
(the SoA file named by ``soa:`` in the config, or ``--soa``), the named control owner from
the register, the automated evidence (rules, results, date) and, kept apart, the manual
evidence still required. Exits 0 when written, 3 when evidence could not be collected (the
automated columns would be incomplete), 2 on a bad SoA file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from checker.config import load_config
from checker.run import run
from checker.soa import SoaFile, build_soa, load_soa, render_soa

from ._common import (
    as_of_option,
    config_option,
    evidence_options,
    guard,
    pair_outputs,
    print_causes,
    request_from,
    write_report,
)

__all__ = ["soa"]

FORMATS = ("html", "csv", "markdown", "json", "oscal")


@click.command()
@config_option
@as_of_option
@click.option("--soa", "soa_path", type=click.Path(dir_okay=False, path_type=Path),
              help="The SoA decisions file (default: the config's 'soa:').")
@click.option("-f", "--format", "formats", multiple=True, type=click.Choice(FORMATS),
              help="Output format (repeatable). Default: html.")
@click.option("-o", "--output", "outputs", multiple=True,
              help="Output file for the format in the same position ('-' = stdout).")
@click.option("--progress/--no-progress", default=None,
              help="Progress on the terminal (default: when stderr is a TTY and CI is unset).")
@evidence_options
@guard
def soa(config_path: Path, as_of: str | None, soa_path: Path | None,
        formats: tuple[str, ...], outputs: tuple[str, ...], progress: bool | None,
        evidence: Path | None, waivers: Path | None) -> None:
    """Statement of Applicability: every Annex A control, decision, owner and evidence."""
    loaded = load_config(config_path)
    path = soa_path or (loaded.base_dir / loaded.config.soa if loaded.config.soa else None)
    decisions = load_soa(path) if path is not None else SoaFile()
    if path is None:
        click.echo("note: no SoA file ('soa:' in the config or --soa): every control is "
                   "listed as undecided", err=True)
    pairs = pair_outputs(formats, outputs, "html")
    outcome = run(request_from(config_path, loaded=loaded, as_of=as_of, progress=progress,
                               evidence=evidence, waivers=waivers, outputs=outputs,
                               inputs=[path]))
    result = outcome.result
    for n in outcome.notes:
        click.echo(n, err=True)
    print_causes(outcome)
    rows = build_soa(result, decisions)
    rendered = [render_soa(rows, result, f) for f, _ in pairs]
    for (fmt, out), text in zip(pairs, rendered, strict=True):
        write_report(text, out, f"{fmt} SoA")
    undecided = sum(1 for r in rows if r.implementation == "undecided")
    gaps = sum(1 for r in rows if r.gaps)
    click.echo(f"SoA: {len(rows)} Annex A controls, {undecided} undecided, {gaps} with gaps",
               err=True)
    if result.exit_code == 3:
        click.echo("aimscheck: evidence incomplete — the automated evidence columns are not "
                   "complete (exit 3)", err=True)
        sys.exit(3)

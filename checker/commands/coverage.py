"""``aimscheck rules coverage``: the Statement of Applicability from code.

Lists every ISO/IEC 42001 clause leaf (32) and Annex A control (38) as ``automated``,
``partial`` or ``manual``, with the rules that check it and, where it is not automated,
what is left to a human. No evidence is read.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click

from checker.coverage import CoverageEntry, build_coverage
from checker.rules import compile_rule, load_packs

from ._common import config_option, guard, packs_from

__all__ = ["coverage_payload", "rules_coverage"]


def coverage_payload(entries: list[CoverageEntry]) -> dict[str, object]:
    """The JSON document: summary counts, then clauses and Annex A controls."""
    summary: dict[str, dict[str, int]] = {}
    for e in entries:
        fam = summary.setdefault(e.family, {"total": 0, "automated": 0, "partial": 0,
                                            "manual": 0})
        fam["total"] += 1
        fam[e.status] += 1
    return {
        "summary": summary,
        "clauses": [asdict(e) for e in entries if e.family == "clause"],
        "annex_a": [asdict(e) for e in entries if e.family == "annex_a"],
    }


def _text(entries: list[CoverageEntry]) -> str:
    lines: list[str] = []
    for family, heading in (("clause", "Clauses 4-10 (leaf requirements)"),
                            ("annex_a", "Annex A controls")):
        rows = [e for e in entries if e.family == family]
        counts = {s: sum(1 for e in rows if e.status == s)
                  for s in ("automated", "partial", "manual")}
        lines.append(f"{heading}: {len(rows)} — " + ", ".join(f"{n} {s}"
                                                           for s, n in counts.items()))
        for e in rows:
            lines.append(f"  {e.id:8} {e.status:9} {e.title}")
            if e.rules:
                lines.append(f"           rules: {', '.join(e.rules)}")
            if e.note:
                lines.append(f"           note:  {e.note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


@click.command("coverage")
@click.argument("packs", nargs=-1)
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
@guard
def rules_coverage(packs: tuple[str, ...], config_path: Path, fmt: str) -> None:
    """Which ISO/IEC 42001 clauses and Annex A controls the rules check (no evidence read)."""
    names, base = packs_from(packs, config_path)
    compiled = []
    for r in load_packs(names, base):
        c, _ = compile_rule(r, {})
        if c is not None:
            compiled.append(c)
    entries = build_coverage(compiled)
    if fmt == "json":
        click.echo(json.dumps(coverage_payload(entries), indent=2, ensure_ascii=False))
    else:
        click.echo(_text(entries), nl=False)

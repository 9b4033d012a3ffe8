"""``aimscheck schema`` (the JSON Schemas, for editors) and ``aimscheck config check``.

``config check`` validates configs as a scan would before reading any evidence: the file
against the config model, every ``sources:`` entry against its adapter's config model, the
rule packs and the rules' overrides, and the waivers file — all problems at once, each with
file:line. It reads no evidence and needs no credentials, so it suits a pre-commit hook.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from checker.errors import AimscheckError, Diagnostic

from ._common import CONFIG_NAME, discover_config, fail, guard, write_atomic

__all__ = ["config", "schema"]


@click.command()
@click.argument("name", type=click.Choice(["config", "rule", "waivers", "findings"]))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write it to this file (default: standard output).")
@guard
def schema(name: str, output: Path | None) -> None:
    """Print a JSON Schema: config (with the installed adapters), rule, waivers, findings.

    Point your editor at it, e.g. the first line of aimscheck.yaml:
    '# yaml-language-server: $schema=aimscheck.schema.json'.
    """
    from checker.schemagen import render
    from checker.schemagen import schema as build

    text = render(build(name))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"wrote the {name} schema to {output}", err=True)


@click.group()
def config() -> None:
    """Check configuration files."""


@config.command("check")
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@guard
def config_check(files: tuple[Path, ...]) -> None:
    """Validate configs without reading evidence (default: the discovered aimscheck.yaml).

    Checks the file, each source's adapter keys, the rule packs, rule overrides and the
    waivers file. Exit 0 when all are valid, 2 with every problem as file:line otherwise.
    """
    from checker.config import load_config
    from checker.rules import compile_rules, load_packs
    from checker.run import build_sources
    from checker.waivers import load_waivers

    paths = list(files) or [discover_config()]
    problems: list[Diagnostic] = []
    for path in paths:
        if path.name != CONFIG_NAME and not path.name.startswith("aimscheck"):
            continue  # pre-commit passes every changed YAML file; only configs are checked
        try:
            loaded = load_config(path)
            build_sources(loaded, datetime.now(UTC))  # adapters' keys; nothing is read
            rules = load_packs(loaded.config.rule_packs, loaded.base_dir)
            compile_rules(rules, loaded.config, loaded.located)
            if loaded.config.waivers:
                load_waivers(loaded.base_dir / loaded.config.waivers, {r.id for r in rules})
        except AimscheckError as exc:
            problems.extend(exc.diagnostics)
            continue
        click.echo(f"{path}: valid ({len(loaded.config.sources)} sources, {len(rules)} rules)")
    if problems:
        fail(AimscheckError(problems))

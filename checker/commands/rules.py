"""``aimscheck rules list|show|validate|test|coverage``: rule packs, no evidence read."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from checker.config import load_config
from checker.errors import Diagnostic, UsageError

from ._common import config_option, guard, packs_from
from .coverage import rules_coverage

__all__ = ["rules"]


@click.group()
def rules() -> None:
    """List, show, validate and test rules."""


@rules.command("list")
@click.argument("packs", nargs=-1)
@config_option
@guard
def rules_list(packs: tuple[str, ...], config_path: Path) -> None:
    """List the rules of the configured (or given) packs."""
    from checker.rules import load_packs

    names, base = packs_from(packs, config_path)
    for r in load_packs(names, base):
        d = r.data
        refs = ", ".join(d["references"].get("iso42001", []))
        click.echo(f"{r.id:14} {d['severity']:8} {d['title']}  [{refs}]")


@rules.command("show")
@click.argument("rule_id")
@config_option
@guard
def rules_show(rule_id: str, config_path: Path) -> None:
    """Show one rule: text, params (with config overrides), checks and their arguments."""
    from checker.checks import check_registry
    from checker.rules import load_packs

    names, base = packs_from((), config_path)
    found = {r.id: r for r in load_packs(names, base)}
    if rule_id not in found:
        from checker.registry import did_you_mean

        raise UsageError(Diagnostic(rule_id, 0, 0, "E004", f"no rule {rule_id!r}",
                                    did_you_mean(rule_id, sorted(found)) or
                                    "see 'aimscheck rules list'"))
    r = found[rule_id]
    d = r.data
    overrides: dict[str, Any] = {}
    applies_to = list(d["applies_to"])
    chain = list(d["finding_owner"])
    by_kind: dict[str, list[str]] = {}
    known: dict[str, list[str]] = {}
    if config_path.exists():
        cfg = load_config(config_path).config
        known = dict(cfg.settings.known_people)
        ov = cfg.rules.get(rule_id)
        overrides = dict(ov.params) if ov else {}
        if ov is not None and ov.applies_to:
            applies_to = list(ov.applies_to)
        if ov is not None and ov.finding_owner:
            chain = list(ov.finding_owner)
        else:
            by_kind = {k: v for k, v in cfg.finding_owners.items() if k in applies_to}
    click.echo(f"{r.id}: {d['title']}")
    click.echo(f"  file:          {r.located.file}")
    click.echo(f"  severity:      {d['severity']}"
               + ("  (good practice supporting the references)" if d.get("good_practice")
                  else ""))
    click.echo(f"  applies to:    {', '.join(applies_to)}"
               + ("  (config)" if applies_to != list(d["applies_to"]) else ""))
    for fw, ids in d["references"].items():
        click.echo(f"  {fw + ':':14} {', '.join(ids)}")
    click.echo(f"  gates:         {', '.join(d.get('gates') or []) or '-'}")
    shown = " → ".join([*chain, "accountable_executive"])
    if by_kind:
        for kind in applies_to:
            kchain = by_kind.get(kind, chain)
            tag = "  (config finding_owners)" if kind in by_kind else ""
            click.echo(f"  finding owner ({kind}): "
                       f"{' → '.join([*kchain, 'accountable_executive'])}{tag}")
    else:
        click.echo(f"  finding owner: {shown}"
                   + ("  (config)" if chain != list(d["finding_owner"]) else ""))
    if _uses_check(d, "people_known"):
        _show_known_people(applies_to, known)
    if d.get("description"):
        click.echo(f"\n{d['description'].strip()}")
    click.echo(f"\nRemediation: {d['remediation']}")
    params = d.get("params") or {}
    if params:
        click.echo("\nParams (override in aimscheck.yaml under rules: "
                   f"{rule_id}: params:):")
        for k, v in params.items():
            if k in overrides:
                click.echo(f"  {k} = {json.dumps(overrides[k])}  (config; rule default "
                           f"{json.dumps(v)})")
            else:
                click.echo(f"  {k} = {json.dumps(v)}")
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


def _uses_check(d: dict[str, Any], name: str) -> bool:
    """Whether a rule's conditions use the check ``name`` anywhere."""
    def walk(c: Any) -> bool:
        if isinstance(c, dict):
            return any(k == name or walk(v) for k, v in c.items())
        if isinstance(c, list):
            return any(walk(x) for x in c)
        return False
    return walk([*(d.get("where") or []), *d["require"]])


def _show_known_people(applies_to: list[str], known: dict[str, list[str]]) -> None:
    """The reference fields that must resolve to a known person (settings.known_people)."""
    if not any(k in known for k in applies_to):
        click.echo("  must resolve to a known person: every reference field (default)")
        return
    for kind in applies_to:
        if kind in known:
            click.echo(f"  must resolve ({kind}): {', '.join(known[kind]) or 'nothing'}"
                       "  (config settings.known_people)")
        else:
            click.echo(f"  must resolve ({kind}): every reference field (default)")


@rules.command("validate")
@click.argument("packs", nargs=-1)
@config_option
@guard
def rules_validate(packs: tuple[str, ...], config_path: Path) -> None:
    """Validate rule files (schema, checks, arguments, references); no evidence is read."""
    from checker.rules import compile_rules, load_packs

    names, base = packs_from(packs, config_path)
    loaded_rules = load_packs(names, base)
    if not packs and config_path.exists():
        loaded = load_config(config_path)
        compile_rules(loaded_rules, loaded.config, loaded.located)
    click.echo(f"{len(loaded_rules)} rules valid in {', '.join(names)}")


@rules.command("test")
@click.argument("packs", nargs=-1)
@click.option("-k", "select", help="Only rules whose id contains this text.")
@config_option
@guard
def rules_test(packs: tuple[str, ...], select: str | None, config_path: Path) -> None:
    """Run each rule's test cases (<ID>.test.yaml beside the rule).

    Without PACKS: the config's rule packs (folders relative to it), else iso42001.
    """
    from checker.casetest import run_pack_cases

    names, base = packs_from(packs, config_path)
    total = failed = 0
    for name in names:
        for res in run_pack_cases(name, base or Path.cwd(), select=select):
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


rules.add_command(rules_coverage)

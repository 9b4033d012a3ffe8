"""Rule packs: find, load, validate and compile rule files.

Validation happens in full before any evidence is read: YAML syntax, the JSON Schema in
``checker/schemas/rule.schema.json``, then semantics (check names, each check's own
argument model, params, target kinds, ISO 42001 references). Every problem of every file
is reported at once, as ``file:line:col: error CODE message`` with a hint.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from .checks import check_registry
from .checks import load_plugins as load_check_plugins
from .checks.base import Check
from .checks.logic import AllCheck
from .config import Config, pydantic_diagnostics
from .errors import Diagnostic, RuleError
from .evidence import SUBJECT_KINDS
from .iso42001 import is_valid_id
from .registry import UnknownName, did_you_mean
from .yamlsrc import Located, load_yaml_file

__all__ = [
    "CompiledRule",
    "LoadedRule",
    "compile_rule",
    "compile_rules",
    "find_pack",
    "load_packs",
    "load_rule_file",
    "rule_files",
]

_PARAM_RE = re.compile(r"^\$\{([a-z_][a-z0-9_]*)\}$")


@cache
def rule_schema() -> dict[str, Any]:
    """The rule-file JSON Schema."""
    text = files("checker").joinpath("schemas/rule.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass
class LoadedRule:
    """A schema-valid rule document with its source."""

    data: dict[str, Any]
    located: Located
    path: Path
    pack: str
    in_pack: str = ""

    @property
    def id(self) -> str:
        """The rule id."""
        return str(self.data["id"])

    @property
    def pack_file(self) -> str:
        """The file named relative to its pack (``iso42001/AIMS-COV-001.yaml``).

        This is the name outputs carry: it is the same on every machine, in every working
        directory and for every install location.
        """
        return f"{self.pack}/{self.in_pack or self.path.name}"


@dataclass
class CompiledRule:
    """A rule ready to evaluate."""

    id: str
    title: str
    severity: str
    applies_to: list[str]
    where: list[Check[Any, Any]]
    require: list[Check[Any, Any]]
    params: dict[str, Any]
    finding_owner: list[str]
    gates: list[str]
    remediation: str
    references: dict[str, list[str]]
    good_practice: bool
    file: str
    pack: str
    line: int = 1
    description: str = ""
    tags: list[str] = field(default_factory=list)
    #: target kind → finding-owner chain, where the config sets one (else ``finding_owner``)
    owner_by_kind: dict[str, list[str]] = field(default_factory=dict)

    def chain_for(self, kind: str) -> list[str]:
        """The effective finding-owner chain for targets of ``kind``."""
        return self.owner_by_kind.get(kind, self.finding_owner)

    @property
    def needs(self) -> frozenset[str]:
        """Evidence kinds the rule reads, including the kinds of its targets.

        A rule that applies to incidents needs the incident source even when none of its
        checks reads incidents otherwise: a skipped or failed source must never look clean.
        """
        out: set[str] = {"subject" if k in SUBJECT_KINDS else k for k in self.applies_to}
        for c in (*self.where, *self.require):
            out |= c.all_needs()
        return frozenset(out)


def find_pack(name: str, base_dir: Path | None = None) -> tuple[Path, str]:
    """Resolve a pack name (entry point ``aimscheck.rule_packs``) or a folder path."""
    eps = {ep.name: ep for ep in entry_points(group="aimscheck.rule_packs")}
    if name in eps:
        return Path(eps[name].load()), name
    p = Path(name)
    if base_dir is not None and not p.is_absolute():
        p = base_dir / p
    if p.is_dir():
        return p, p.name
    hint = did_you_mean(name, sorted(eps)) or (
        "name an installed pack (" + ", ".join(sorted(eps)) + ") or an existing folder")
    raise RuleError(Diagnostic(name, 0, 0, "E210", f"rule pack {name!r} not found", hint))


def rule_files(folder: Path) -> list[Path]:
    """Rule files of a pack (``*.yaml`` except ``*.test.yaml``), sorted."""
    return sorted(p for p in folder.rglob("*.yaml") if not p.name.endswith(".test.yaml"))


def _schema_diags(data: Any, located: Located) -> list[Diagnostic]:
    validator = jsonschema.Draft202012Validator(rule_schema())
    out: list[Diagnostic] = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            for key in sorted(set(err.instance) - allowed):
                hint = did_you_mean(key, sorted(allowed)) or "remove it"
                out.append(located.diag((*path, key), "E111", f"unknown key {key!r}", hint,
                                        key=True))
        elif err.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", err.message)
            for key in missing or ["?"]:
                out.append(located.diag(path, "E112", f"missing required key {key!r}",
                                        f"add '{key}:'"))
        elif err.validator in ("minProperties", "maxProperties") and path and path[0] in (
                "where", "require"):
            out.append(located.diag(path, "E114", "a condition must have exactly one check "
                                    "name as its key", "write '- check_name: {args}'"))
        else:
            where = ".".join(str(p) for p in path) or "(top level)"
            val = err.instance
            shown = repr(val) if not isinstance(val, dict | list) else type(val).__name__
            out.append(located.diag(path, "E110", f"{where}: {err.message.split(chr(10))[0]}"
                                    if len(err.message) < 160 else
                                    f"{where}: invalid value {shown[:60]} ({err.validator})"))
    return out


def load_rule_file(path: Path, pack: str, display: str | None = None
                   ) -> tuple[LoadedRule | None, list[Diagnostic]]:
    """Load one rule file and validate it against the JSON Schema."""
    located, diags = load_yaml_file(path, display)
    if located is None:
        return None, diags
    data = located.data
    if not isinstance(data, dict):
        return None, [located.diag((), "E115", "a rule file must be a mapping",
                                   "start with 'id: AIMS-XXX-001'")]
    diags = _schema_diags(data, located)
    rid = data.get("id")
    if isinstance(rid, str) and rid != path.stem:
        diags.append(located.diag(("id",), "E202", f"rule id {rid!r} does not match the file "
                                  f"name {path.name!r}", f"rename the file to {rid}.yaml"))
    refs = data.get("references")
    if isinstance(refs, dict) and isinstance(refs.get("iso42001"), list):
        for i, ref in enumerate(refs["iso42001"]):
            if not isinstance(ref, str) or not is_valid_id(ref):
                diags.append(located.diag(
                    ("references", "iso42001", i), "E207",
                    f"{ref!r} is not an ISO/IEC 42001 clause leaf or Annex A control id",
                    "use a leaf clause such as '5.3' or a control such as 'A.3.2' "
                    "(objectives like A.6.1 and A.n.1 are not controls)"))
    rule = LoadedRule(data, located, path, pack)
    if diags:
        # Report semantic problems (unknown checks, bad arguments) in the same run as the
        # schema problems: a rule author fixes everything at once.
        diags.extend(_semantic_diags(rule))
        return None, diags
    return rule, []


def _semantic_diags(rule: LoadedRule) -> list[Diagnostic]:
    """Condition diagnostics of a rule that failed the schema, where they can be found."""
    out: list[Diagnostic] = []
    params = rule.data.get("params")
    params = dict(params) if isinstance(params, dict) else {}
    for section in ("where", "require"):
        conds = rule.data.get(section)
        if not isinstance(conds, list):
            continue
        for i, c in enumerate(conds):
            if isinstance(c, dict) and len(c) == 1:
                _compile_cond(c, rule, params, (section, i), out)
    return out


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_packs(names: Sequence[str], base_dir: Path | None = None) -> list[LoadedRule]:
    """Load every rule of the named packs; raise RuleError with all problems."""
    diags: list[Diagnostic] = []
    rules: list[LoadedRule] = []
    seen: dict[str, LoadedRule] = {}
    for name in names:
        folder, pack = find_pack(name, base_dir)
        for path in rule_files(folder):
            rule, d = load_rule_file(path, pack, _display(path))
            diags.extend(d)
            if rule is None:
                continue
            rule.in_pack = path.relative_to(folder).as_posix()
            if rule.id in seen:
                diags.append(rule.located.diag(("id",), "E204", f"duplicate rule id {rule.id!r}",
                                               f"also defined in {seen[rule.id].located.file}"))
                continue
            seen[rule.id] = rule
            rules.append(rule)
    # A check plugin that failed to load could be the one a rule names: stop (fail closed).
    diags.extend(load_check_plugins())
    # compile once with defaults so that check names and arguments are validated too
    for rule in rules:
        _, d = compile_rule(rule, {})
        diags.extend(d)
    if diags:
        raise RuleError(sorted(diags))
    return rules


def _substitute(value: Any, params: dict[str, Any], located: Located,
                path: tuple[str | int, ...], diags: list[Diagnostic]) -> Any:
    if isinstance(value, str):
        m = _PARAM_RE.match(value)
        if m:
            if m.group(1) not in params:
                diags.append(located.diag(path, "E205", f"unknown param {m.group(1)!r}",
                                          did_you_mean(m.group(1), sorted(params))
                                          or "declare it under 'params:'"))
                return None
            return params[m.group(1)]
        return value
    if isinstance(value, dict):
        return {k: _substitute(v, params, located, (*path, k), diags) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, params, located, (*path, i), diags) for i, v in enumerate(value)]
    return value


def _compile_cond(cond: Any, rule: LoadedRule, params: dict[str, Any],
                  path: tuple[str | int, ...], diags: list[Diagnostic]
                  ) -> Check[Any, Any] | None:
    located = rule.located
    if not isinstance(cond, dict) or len(cond) != 1:
        diags.append(located.diag(path, "E114", "a condition must have exactly one check name "
                                  "as its key", "write '- check_name: {args}'"))
        return None
    (name, args), = cond.items()
    try:
        cls = check_registry.get(name)
    except UnknownName as exc:
        diags.append(located.diag((*path, name), "E201", f"unknown check {name!r} at "
                                  f"{_path_text(path)}", exc.hint, key=True))
        return None
    if issubclass(cls, AllCheck):
        items: list[Any]
        if name == "not":
            items = [args]
            sub_paths: list[tuple[str | int, ...]] = [(*path, name)]
        elif isinstance(args, list) and args:
            items = args
            sub_paths = [(*path, name, i) for i in range(len(args))]
        else:
            diags.append(located.diag((*path, name), "E203",
                                      f"'{name}' needs a non-empty list of conditions"))
            return None
        children = [_compile_cond(c, rule, params, p, diags) for c, p in zip(items, sub_paths,
                                                                             strict=True)]
        if any(c is None for c in children):
            return None
        return cls(None, [c for c in children if c is not None])
    args = {} if args is None else args
    if not isinstance(args, dict):
        diags.append(located.diag((*path, name), "E203",
                                  f"arguments of {name!r} must be a mapping, got "
                                  f"{type(args).__name__}", f"write '{name}: {{...}}'"))
        return None
    before = len(diags)
    real = _substitute(args, params, located, (*path, name), diags)
    _numbers_in_range(real, located, (*path, name), diags)
    if len(diags) > before:
        return None
    try:
        parsed = cls.Args.model_validate(real)
    except ValidationError as exc:
        for d in pydantic_diagnostics(exc, located, (*path, name), ("E203",) * 3):
            diags.append(Diagnostic(d.file, d.line, d.col, "E203",
                                    f"check {name!r}: {d.message}", d.hint or
                                    f"see 'aimscheck rules show' for the arguments of {name}"))
        return None
    kinds = cls.target_kinds
    if kinds is not None:
        bad = [k for k in rule.data.get("applies_to", []) if k not in kinds]
        if bad and path[0] == "require":
            diags.append(located.diag((*path, name), "E206",
                                      f"check {name!r} cannot judge {', '.join(bad)}",
                                      f"it applies to: {', '.join(sorted(kinds))}", key=True))
    return cls(parsed)


#: The largest number a check argument may hold (days, hours, counts): ~270 years of days,
#: so that the rules' date arithmetic around any --as-of stays inside the calendar.
MAX_NUMBER = 100_000


def _numbers_in_range(value: Any, located: Located, path: tuple[str | int, ...],
                      diags: list[Diagnostic]) -> None:
    """Refuse numbers no rule can mean (huge, infinite, NaN) before they reach a check."""
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        if not math.isfinite(value) or abs(value) > MAX_NUMBER:
            shown = (f"{value:.3g}" if isinstance(value, float) else str(value)
                     if abs(value) < 10**20 else f"of {value.bit_length()} bits")
            diags.append(located.diag(path, "E203", f"number {shown} at {_path_text(path)} is "
                                      f"out of range", f"use a finite number between "
                                      f"-{MAX_NUMBER:,} and {MAX_NUMBER:,}"))
    elif isinstance(value, dict):
        for k, v in value.items():
            _numbers_in_range(v, located, (*path, k), diags)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _numbers_in_range(v, located, (*path, i), diags)


def _path_text(path: tuple[str | int, ...]) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def compile_rule(rule: LoadedRule, overrides: dict[str, Any],
                 severity: str | None = None) -> tuple[CompiledRule | None, list[Diagnostic]]:
    """Compile a loaded rule with param ``overrides`` (from the config)."""
    d = rule.data
    diags: list[Diagnostic] = []
    params = dict(d.get("params") or {})
    params.update(overrides)
    where = [_compile_cond(c, rule, params, ("where", i), diags)
             for i, c in enumerate(d.get("where") or [])]
    require = [_compile_cond(c, rule, params, ("require", i), diags)
               for i, c in enumerate(d["require"])]
    if diags:
        return None, diags
    return CompiledRule(
        id=d["id"], title=d["title"], severity=severity or d["severity"],
        applies_to=list(d["applies_to"]),
        where=[c for c in where if c is not None], require=[c for c in require if c is not None],
        params=params, finding_owner=list(d["finding_owner"]), gates=list(d.get("gates") or []),
        remediation=d["remediation"], references={k: list(v) for k, v in d["references"].items()},
        good_practice=bool(d.get("good_practice", False)), file=rule.pack_file,
        pack=rule.pack, line=rule.located.at(("id",))[0], description=d.get("description", ""),
        tags=list(d.get("tags") or []),
    ), []


def compile_rules(rules: Iterable[LoadedRule], config: Config,
                  config_located: Located | None = None) -> list[CompiledRule]:
    """Compile every enabled rule with the config's overrides; RuleError on problems."""
    diags: list[Diagnostic] = []
    out: list[CompiledRule] = []
    by_id = {r.id: r for r in rules}
    for rid in sorted(config.rules):
        if rid not in by_id and config_located is not None:
            diags.append(config_located.diag(("rules", rid), "E208",
                                             f"config overrides unknown rule {rid!r}",
                                             did_you_mean(rid, sorted(by_id)) or
                                             "check the id with 'aimscheck rules list'",
                                             key=True))
    for rid, rule in sorted(by_id.items()):
        ov = config.rules.get(rid)
        if ov is not None and not ov.enabled:
            continue
        overrides = dict(ov.params) if ov else {}
        declared = set(rule.data.get("params") or {})
        for key in sorted(set(overrides) - declared):
            msg = f"rule {rid} has no param {key!r}"
            hint = (did_you_mean(key, sorted(declared))
                    or f"its params are: {', '.join(sorted(declared)) or 'none'}")
            diags.append(config_located.diag(("rules", rid, "params", key), "E205", msg, hint,
                                             key=True) if config_located else
                         Diagnostic("config", 0, 0, "E205", msg, hint))
        compiled, d = compile_rule(rule, overrides, ov.severity if ov else None)
        if compiled is not None:
            d.extend(_apply_ownership(compiled, ov.applies_to if ov else None,
                                      ov.finding_owner if ov else None, config,
                                      config_located))
        if config_located is not None and d and overrides:
            # the bad value came from the config: point there as well
            diags.append(config_located.diag(("rules", rid, "params"), "E203",
                                             f"params for {rid} are invalid (see below)"))
        diags.extend(d)
        if compiled is not None:
            out.append(compiled)
    if diags:
        raise RuleError(sorted(diags))
    return out


def _apply_ownership(rule: CompiledRule, applies_to: list[str] | None,
                     finding_owner: list[str] | None, config: Config,
                     located: Located | None) -> list[Diagnostic]:
    """The config's ``applies_to`` / ``finding_owner`` overrides and per-kind chains."""
    diags: list[Diagnostic] = []
    if applies_to is not None:
        allowed: set[str] | None = None
        for c in (*rule.where, *rule.require):
            kinds = c.target_kinds
            if kinds is not None:
                allowed = set(kinds) if allowed is None else allowed & kinds
        bad = [k for k in applies_to if allowed is not None and k not in allowed]
        if bad:
            msg = (f"rule {rule.id} cannot apply to {', '.join(bad)}: its checks understand "
                   f"{', '.join(sorted(allowed or ()))}")
            diags.append(located.diag(("rules", rule.id, "applies_to"), "E206", msg)
                         if located else Diagnostic("config", 0, 0, "E206", msg))
        else:
            rule.applies_to = list(applies_to)
    if finding_owner is not None:
        rule.finding_owner = list(finding_owner)
    else:
        rule.owner_by_kind = {k: list(v) for k, v in config.finding_owners.items()
                              if k in rule.applies_to}
    return diags

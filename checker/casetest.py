"""The rule test-case harness (``aimscheck rules test`` and ``pytest -k RULE-ID``).

Each rule ``<ID>.yaml`` has a case file ``<ID>.test.yaml`` beside it::

    as_of: 2026-11-30              # frozen "now" (date or timestamp with offset)
    accountable_executive: ceo@example.com
    params: {cadence_days: 90}     # optional overrides of the rule's params
    settings: {}                   # optional Settings overrides
    evidence:                      # shared by every case (records without provenance)
      people: [...]
      subjects: [...]
    cases:
      - name: backup present passes
        evidence: {subjects: [...]}        # added to the shared evidence
        incomplete: [training]             # optional: pretend a source failed
        expect: pass                       # or: error, or a mapping:
      - name: missing backup fails
        expect:
          fail: [ai_system/chatbot]        # exact set of failing targets
          warn: []                         # exact (default: none)
          error: []                        # exact (default: none)
          owner: {ai_system/chatbot: jane@example.com}
          message: {ai_system/chatbot: "no backup owner"}   # substring

Records are validated through the same models as live evidence; mistakes are reported
with ``file:line``. Expectations are strict both ways: a target failing that the case does
not list is a failed case, and so is a listed target that passes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .config import Config, Settings, pydantic_diagnostics
from .engine import evaluate
from .errors import Diagnostic, RuleError
from .evidence import RECORD_TYPES, EvidenceBundle, Provenance
from .findings import Finding
from .rules import LoadedRule, compile_rule, find_pack, load_packs
from .store import EvidenceStore
from .timeutil import day_start, parse_as_of
from .yamlsrc import Located, load_yaml_file

__all__ = ["CaseResult", "iter_case_files", "run_case_file", "run_pack_cases"]

_FIELDS = {attr: (kind, model) for kind, (attr, model) in RECORD_TYPES.items()}
_CASE_KEYS = {"as_of", "accountable_executive", "params", "settings", "evidence", "cases",
              "rule"}
_EXPECT_KEYS = {"fail", "warn", "error", "owner", "message", "not_applicable"}


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case."""

    rule_id: str
    case: str
    ok: bool
    detail: str
    file: str


def _bundle(raw: Any, located: Located, path: tuple[str | int, ...],
            diags: list[Diagnostic]) -> EvidenceBundle:
    b = EvidenceBundle()
    if raw is None:
        return b
    if not isinstance(raw, dict):
        diags.append(located.diag(path, "E130", "evidence must be a mapping of record lists",
                                  "keys: " + ", ".join(sorted(_FIELDS))))
        return b
    fetched = datetime(2000, 1, 1, tzinfo=UTC)
    for key, items in raw.items():
        if key not in _FIELDS:
            diags.append(located.diag((*path, key), "E131", f"unknown evidence list {key!r}",
                                      "keys: " + ", ".join(sorted(_FIELDS)), key=True))
            continue
        kind, model = _FIELDS[key]
        for i, item in enumerate(items or []):
            line, _ = located.at((*path, key, i))
            if not isinstance(item, dict):
                diags.append(located.diag((*path, key, i), "E132", f"a {kind} must be a mapping"))
                continue
            data = {k: (day_start(v) if isinstance(v, date) and not isinstance(v, datetime)
                        else v) for k, v in item.items()}
            data = _dates_deep(data)
            data["provenance"] = Provenance(adapter="case", locator=f"{located.file}:{line}",
                                            fetched_at=fetched)
            try:
                rec = model.model_validate(data)
            except ValidationError as exc:
                diags.extend(pydantic_diagnostics(exc, located, (*path, key, i), ("E138",) * 3))
                continue
            getattr(b, key).append(rec)
        b.kinds = b.kinds | {kind}
    return b


def _dates_deep(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _dates_deep(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_dates_deep(x) for x in v]
    if isinstance(v, date) and not isinstance(v, datetime):
        return day_start(v)
    return v


def iter_case_files(folder: Path) -> list[Path]:
    """Case files under a pack folder, sorted."""
    return sorted(folder.rglob("*.test.yaml"))


def _check(findings: list[Finding], expect: Any, store: EvidenceStore) -> str | None:
    by_status: dict[str, set[str]] = {}
    for f in findings:
        by_status.setdefault(f.status, set()).add(f.target)
    got = {s: sorted(v) for s, v in by_status.items()}
    if expect == "pass":
        bad = {s: got.get(s) for s in ("fail", "error", "warn") if got.get(s)}
        if bad:
            return f"expected pass, got {bad}"
        if not got.get("pass"):
            return f"expected pass, but nothing passed (got {got})"
        return None
    if expect == "error":
        if not got.get("error"):
            return f"expected error, got {got}"
        if got.get("pass"):
            return f"expected error, but {got['pass']} passed"
        return None
    assert isinstance(expect, dict)
    problems = []
    for status in ("fail", "warn", "error"):
        want = sorted(expect.get(status) or [])
        have = got.get(status, [])
        if want != have:
            problems.append(f"{status}: expected {want}, got {have}")
    if "not_applicable" in expect:
        want = sorted(expect["not_applicable"] or [])
        if want != got.get("not_applicable", []):
            problems.append(f"not_applicable: expected {want}, got "
                            f"{got.get('not_applicable', [])}")
    by_target = {f.target: f for f in findings}
    for target, handle in (expect.get("owner") or {}).items():
        hit = by_target.get(target)
        p = store.identity.resolve(handle)
        if hit is None:
            problems.append(f"owner: no finding for {target}")
        elif p is None:
            problems.append(f"owner: {handle!r} is not a person in the case evidence")
        elif hit.owner.id != p.id:
            problems.append(f"owner of {target}: expected {p.name} ({p.id}), got "
                            f"{hit.owner.name} ({hit.owner.id})")
    for target, text in (expect.get("message") or {}).items():
        hit = by_target.get(target)
        if hit is None or str(text).casefold() not in hit.message.casefold():
            problems.append(f"message of {target}: expected to contain {text!r}, got "
                            f"{hit.message if hit else None!r}")
    return "; ".join(problems) or None


def run_case_file(path: Path, rule: LoadedRule, display: str | None = None
                  ) -> Iterator[CaseResult]:
    """Run every case in one case file against ``rule``."""
    located, diags = load_yaml_file(path, display)
    if located is None:
        raise RuleError(diags)
    doc = located.data
    if not isinstance(doc, dict):
        raise RuleError(located.diag((), "E133", "a case file must be a mapping"))
    for key in sorted(set(doc) - _CASE_KEYS):
        diags.append(located.diag((key,), "E133", f"unknown key {key!r} in case file",
                                  "keys: " + ", ".join(sorted(_CASE_KEYS)), key=True))
    cases: list[Any] = doc.get("cases") or []
    if not isinstance(cases, list) or not cases:
        diags.append(located.diag(("cases",), "E134", "a case file needs a non-empty 'cases' list"))
    if "as_of" not in doc:
        diags.append(located.diag((), "E134", "a case file needs a frozen 'as_of'"))
    if diags:
        raise RuleError(diags)
    raw_as_of = doc["as_of"]
    as_of = (day_start(raw_as_of) if isinstance(raw_as_of, date)
             and not isinstance(raw_as_of, datetime) else
             raw_as_of if isinstance(raw_as_of, datetime) else parse_as_of(str(raw_as_of)))
    try:
        settings = Settings.model_validate(doc.get("settings") or {})
    except ValidationError as exc:
        raise RuleError(pydantic_diagnostics(exc, located, ("settings",))) from None
    executive = str(doc.get("accountable_executive", "ceo@example.com"))
    config = Config(organisation="case", accountable_executive=executive, settings=settings,
                    rule_packs=[])
    compiled, d = compile_rule(rule, dict(doc.get("params") or {}))
    if compiled is None:
        raise RuleError(d)
    base = _bundle(doc.get("evidence"), located, ("evidence",), diags)
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or "name" not in case or "expect" not in case:
            diags.append(located.diag(("cases", i), "E135", "each case needs 'name' and 'expect'"))
            continue
        for key in sorted(set(case) - {"name", "evidence", "expect", "incomplete", "as_of"}):
            diags.append(located.diag(("cases", i, key), "E135", f"unknown case key {key!r}",
                                      key=True))
        exp = case["expect"]
        if not (exp in ("pass", "error") or (isinstance(exp, dict)
                                              and set(exp) <= _EXPECT_KEYS)):
            diags.append(located.diag(("cases", i, "expect"), "E136",
                                      "expect must be pass, error, or a mapping of "
                                      + ", ".join(sorted(_EXPECT_KEYS))))
    if diags:
        raise RuleError(diags)
    for i, case in enumerate(cases):
        extra = _bundle(case.get("evidence"), located, ("cases", i, "evidence"), diags)
        if diags:
            raise RuleError(diags)
        bundle = EvidenceBundle()
        bundle.extend(base)
        bundle.extend(extra)
        incomplete = {k: [Diagnostic(f"{located.file}", located.at(("cases", i))[0], 0, "E300",
                                     f"{k} source failed (simulated by the case)")]
                      for k in case.get("incomplete") or []}
        case_as_of = as_of
        if "as_of" in case:
            v = case["as_of"]
            case_as_of = (day_start(v) if isinstance(v, date) and not isinstance(v, datetime)
                          else v if isinstance(v, datetime) else parse_as_of(str(v)))
        store = EvidenceStore(bundle, incomplete, as_of=case_as_of, tz=config.settings.tz)
        findings = evaluate([compiled], store, case_as_of, config)
        problem = _check(findings, case["expect"], store)
        detail = problem or "ok"
        if problem:
            detail += "\n  findings: " + "; ".join(
                f"{f.status} {f.target} [{f.owner.name}]: {f.message}" for f in findings)
        yield CaseResult(rule.id, str(case["name"]), problem is None, detail,
                         f"{located.file}:{located.at(('cases', i))[0]}")


def run_pack_cases(name: str, base_dir: Path | None = None, *, select: str | None = None
                   ) -> Iterator[CaseResult]:
    """Run every case file of a pack (by name or folder)."""
    folder, _ = find_pack(name, base_dir)
    rules = {r.id: r for r in load_packs([str(folder)], base_dir)}
    for path in iter_case_files(folder):
        rid = path.name[: -len(".test.yaml")]
        if select and select not in rid:
            continue
        if rid not in rules:
            raise RuleError(Diagnostic(str(path), 1, 1, "E137",
                                       f"case file for unknown rule {rid!r}",
                                       f"add {rid}.yaml beside it, or rename the case file"))
        yield from run_case_file(path, rules[rid], _rel(path))


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)

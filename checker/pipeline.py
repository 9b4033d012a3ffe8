"""The pipeline as plain functions: load → validate → plan → collect → evaluate → report.

The CLI is a thin layer over these; so are tests and the rule-case harness.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from . import __version__
from .adapters import (
    Adapter,
    SourceContext,
    adapter_class,
    adapter_names,
    reset_record_limit,
    set_record_limit,
)
from .config import LoadedConfig, pydantic_diagnostics
from .engine import NO_TARGET, evaluate, exit_code_for, summarise
from .errors import (
    ConfigError,
    Diagnostic,
    EvidenceError,
    redact,
)
from .evidence import RECORD_TYPES, EvidenceBundle
from .findings import Finding, OwnerRef, ScanResult, SourceStatus, UnmatchedRecords
from .matrix import build_matrix, coverage_rows, evidence_links
from .owners import resolve_owner
from .registry import UnknownName
from .rules import CompiledRule, compile_rules, load_packs
from .store import EvidenceStore
from .timeutil import format_ts

__all__ = [
    "Collected",
    "GateSpec",
    "build_sources",
    "collect",
    "load_rules_for",
    "run_scan",
]


@dataclass
class Collected:
    """The outcome of the collect stage."""

    bundle: EvidenceBundle
    statuses: list[SourceStatus]
    incomplete: dict[str, list[Diagnostic]]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def errors(self) -> bool:
        """True when any source failed."""
        return any(s.status == "error" for s in self.statuses)


@dataclass(frozen=True)
class GateSpec:
    """``gate release --model M --version V``."""

    model: str
    version: str

    @property
    def release_id(self) -> str:
        """``model:version``."""
        return f"{self.model}:{self.version}"


def load_rules_for(loaded: LoadedConfig) -> list[CompiledRule]:
    """Load, validate and compile the config's rule packs (no evidence is read)."""
    cfg = loaded.config
    rules = load_packs(cfg.rule_packs, loaded.base_dir)
    return compile_rules(rules, cfg, loaded.located)


def build_sources(loaded: LoadedConfig, as_of: datetime, *, progress: bool = False,
                  only_models: frozenset[str] | None = None) -> list[tuple[str, Adapter]]:
    """Instantiate every configured source; ConfigError lists every bad entry.

    ``only_models`` is passed to each adapter as a hint (``gate release``): a model
    registry adapter may read just those models.
    """
    out: list[tuple[str, Adapter]] = []
    diags: list[Diagnostic] = []
    names: set[str] = set()
    fetched_at = datetime.now(UTC)
    for i, raw in enumerate(loaded.config.sources):
        entry = dict(raw)
        adapter_name = entry.pop("adapter", None)
        name = str(entry.pop("name", adapter_name or f"source{i}"))
        if not isinstance(adapter_name, str):
            diags.append(loaded.located.diag(("sources", i), "E121",
                                             "source has no 'adapter' key",
                                             "available: " + ", ".join(adapter_names())))
            continue
        try:
            cls = adapter_class(adapter_name)
        except UnknownName as exc:
            diags.append(loaded.located.diag(("sources", i, "adapter"), "E121",
                                             f"unknown adapter {adapter_name!r}",
                                             exc.hint or "available: "
                                             + ", ".join(adapter_names())))
            continue
        if name in names:
            diags.append(loaded.located.diag(("sources", i, "name"), "E122",
                                             f"duplicate source name {name!r}",
                                             "give each source a distinct 'name'"))
        names.add(name)
        try:
            cfg = cls.Config.model_validate(entry)
        except ValidationError as exc:
            diags.extend(pydantic_diagnostics(exc, loaded.located, ("sources", i)))
            continue
        ctx = SourceContext(loaded.base_dir, name, fetched_at, as_of, progress,
                            only_models=only_models)
        out.append((name, cls(cfg, ctx)))
    if diags:
        raise ConfigError(sorted(diags))
    return out


def _count(b: EvidenceBundle) -> int:
    return sum(len(getattr(b, attr)) for attr, _ in RECORD_TYPES.values())


def collect(sources: list[tuple[str, Adapter]], needed: frozenset[str] | None = None,
            *, limit: int | None = None) -> Collected:
    """Run each adapter; a failing source marks its kinds incomplete (fail closed)."""
    token = set_record_limit(limit)
    try:
        return _collect(sources, needed)
    finally:
        reset_record_limit(token)


def _collect(sources: list[tuple[str, Adapter]], needed: frozenset[str] | None) -> Collected:
    bundle = EvidenceBundle()
    statuses: list[SourceStatus] = []
    incomplete: dict[str, list[Diagnostic]] = {}
    timings: dict[str, float] = {}
    if needed is not None and "person" in needed:
        needed = needed | {"absence"}  # whether a person is available depends on absences
    for name, adapter in sources:
        kinds = adapter.kinds()
        if needed is not None and not (kinds & needed):
            statuses.append(SourceStatus(
                name=name, adapter=adapter.name, status="skipped", kinds=tuple(sorted(kinds)),
                records=0, diagnostics=("not read: no selected rule needs "
                                        + ", ".join(sorted(kinds)),)))
            continue
        t0 = time.perf_counter()
        if adapter.ctx.progress:  # terminal only; CI logs stay quiet
            sys.stderr.write(f"reading {name} ({adapter.name})…\n")
            sys.stderr.flush()
        try:
            got = adapter.collect()
        except EvidenceError as exc:
            for k in sorted(kinds):
                incomplete.setdefault(k, []).extend(exc.diagnostics)
            statuses.append(SourceStatus(
                name=name, adapter=adapter.name, status="error", kinds=tuple(sorted(kinds)),
                records=0, diagnostics=tuple(d.one_line() for d in exc.diagnostics)))
            continue
        except Exception as exc:
            d = Diagnostic(name, 0, 0, "E900",
                           redact(f"adapter {adapter.name!r} crashed: {type(exc).__name__}: "
                                  f"{exc}"), "this is a bug in the adapter; please report it")
            for k in sorted(kinds):
                incomplete.setdefault(k, []).append(d)
            statuses.append(SourceStatus(name=name, adapter=adapter.name, status="error",
                                         kinds=tuple(sorted(kinds)), records=0,
                                         diagnostics=(d.one_line(),)))
            continue
        finally:
            timings[name] = time.perf_counter() - t0
        got.tag(name)
        bundle.extend(got)
        records = _count(got)
        if adapter.ctx.progress:
            sys.stderr.write(f"  {name}: {records:,} records in {timings[name]:.1f} s\n")
            sys.stderr.flush()
        statuses.append(SourceStatus(name=name, adapter=adapter.name, status="ok",
                                     kinds=tuple(sorted(kinds | got.kinds)), records=records))
    return Collected(bundle, statuses, incomplete, timings)


#: Evidence kinds a rule reads only to find reasons to fail (a trigger event that needs a
#: review, a change that makes a sign-off stale): with no source of such a kind at all,
#: their absence would read as "nothing happened" — a pass. Such a rule is an ``error``.
ABSENCE_READS_AS_PASS: frozenset[str] = frozenset({"event"})


def unsourced_kinds(rules: list[CompiledRule], statuses: list[SourceStatus]
                    ) -> dict[str, list[Diagnostic]]:
    """Kinds in :data:`ABSENCE_READS_AS_PASS` that a rule needs and no source provides."""
    provided = {k for s in statuses for k in s.kinds}
    out: dict[str, list[Diagnostic]] = {}
    for kind in sorted(ABSENCE_READS_AS_PASS - provided):
        users = sorted(r.id for r in rules if kind in r.needs)
        if users:
            out[kind] = [Diagnostic(
                "(config)", 0, 0, "E333",
                f"no source provides {kind!r} evidence, which {', '.join(users)} "
                f"{'needs' if len(users) == 1 else 'need'}; without it "
                f"{'that rule' if len(users) == 1 else 'those rules'} cannot tell "
                "'nothing happened' from 'not recorded'",
                f"add a source of {kind} records (e.g. the model registry's versions, a "
                "Jira changelog, a jsonl file), or disable the rule in the config")]
    return out


def _duplicate_diags(store: EvidenceStore) -> list[Diagnostic]:
    out = []
    for first, dup in store.duplicate_subjects:
        out.append(Diagnostic(dup.provenance.locator, 0, 0, "E310",
                              f"duplicate subject {dup.key!r}",
                              f"also defined at {first.provenance.locator}"))
    for first_r, dup_r in store.duplicate_releases:
        out.append(Diagnostic(
            f"{dup_r.provenance.adapter}: {dup_r.provenance.locator}", 0, 0, "E332",
            f"duplicate release {dup_r.id!r}: also recorded as {first_r.id!r} at "
            f"{first_r.provenance.adapter}: {first_r.provenance.locator}",
            "keep one record per model version: drop it from one source (or give that "
            "source a filter); no record is picked"))
    for c in store.identity.conflicts:
        out.append(Diagnostic(c.second, 0, 0, "E311", c.message(),
                              "one handle must name one person: fix the export or identity "
                              "map so that each email, id and account belongs to one person"))
    return out


def run_scan(
    loaded: LoadedConfig,
    rules: list[CompiledRule],
    as_of: datetime,
    *,
    gate: GateSpec | None = None,
    progress: bool = False,
    collected: Collected | None = None,
) -> tuple[ScanResult, dict[str, Any]]:
    """Collect (unless given), evaluate and summarise; return the result and timings."""
    cfg = loaded.config
    timings: dict[str, Any] = {}
    if gate is not None:
        rules = [r for r in rules if "release" in r.gates]
    t0 = time.perf_counter()
    if collected is None:
        needed = frozenset().union(*(r.needs for r in rules)) if rules else frozenset()
        needed = needed | {"person", "subject", "release"}
        hint = frozenset({gate.model}) if gate is not None else None
        collected = collect(build_sources(loaded, as_of, progress=progress, only_models=hint),
                            needed, limit=cfg.settings.max_records_per_source)
    t1 = time.perf_counter()
    incomplete = dict(collected.incomplete)
    for kind, diags in unsourced_kinds(rules, collected.statuses).items():
        incomplete.setdefault(kind, []).extend(diags)
    if incomplete.get("absence"):
        # Absences decide who is available: without them no people rule can pass.
        incomplete["person"] = [*incomplete.get("person", []), *incomplete["absence"]]
    store = EvidenceStore(collected.bundle, incomplete, as_of=as_of, tz=cfg.settings.tz)
    merge_kinds = {"E310": "subject", "E311": "person", "E332": "release"}
    for d in _duplicate_diags(store):
        store.incomplete.setdefault(merge_kinds[d.code], []).append(d)
    statuses = list(collected.statuses)
    if store.duplicate_subjects or store.identity.conflicts or store.duplicate_releases:
        statuses.append(SourceStatus(name="(merge)", adapter="store", status="error",
                                     kinds=("person", "release", "subject"), records=0,
                                     diagnostics=tuple(d.one_line()
                                                       for d in _duplicate_diags(store))))
    unmatched = unmatched_records(store)
    statuses = _strict_unmatched(statuses, unmatched, collected.bundle.strict_sources,
                                 store.incomplete)
    only: set[str] | None = None
    gate_info: dict[str, str] | None = None
    if gate is not None:
        only, gate_info = _gate_scope(store, gate, cfg.accountable_executive)
    t2 = time.perf_counter()
    findings: list[Finding] = evaluate(rules, store, as_of, cfg,
                                       gate_release=gate.release_id if gate else None, only=only)
    if gate is not None and gate_info and gate_info.get("found") == "no":
        findings = _release_missing(findings, gate, store, cfg.accountable_executive, as_of)
    t3 = time.perf_counter()
    source_errors = any(s.status == "error" for s in statuses)
    code = exit_code_for(findings, cfg.fail_on, source_errors)
    result = ScanResult(
        tool_version=__version__, organisation=cfg.organisation, as_of=format_ts(as_of),
        mode="gate" if gate else "scan", gate=gate_info, fail_on=cfg.fail_on,
        rule_packs=tuple(cfg.rule_packs), sources=tuple(statuses), unmatched=unmatched,
        findings=tuple(findings),
        summary=summarise(findings, cfg.fail_on), exit_code=code,
        coverage=coverage_rows(rules), matrix=build_matrix(store, rules, as_of, cfg.settings),
        links=evidence_links(collected.bundle, {e for f in findings for e in f.evidence}),
        config_file=loaded.path,
    )
    timings.update(collect=t1 - t0, index=t2 - t1, evaluate=t3 - t2,
                   sources=collected.timings)
    return result, timings


#: How many locators and handles of unmatched records a report shows per source and kind.
UNMATCHED_SHOWN = 5


def unmatched_records(store: EvidenceStore) -> tuple[UnmatchedRecords, ...]:
    """Per source and kind, the records that name no known person (count + first few)."""
    return tuple(
        UnmatchedRecords(source=u.source, kind=u.kind, count=len(u.locators),
                         first=tuple(u.locators[:UNMATCHED_SHOWN]),
                         handles=tuple(dict.fromkeys(u.handles))[:UNMATCHED_SHOWN])
        for _, u in sorted(store.unmatched.items()))


def _strict_unmatched(statuses: list[SourceStatus], unmatched: tuple[UnmatchedRecords, ...],
                      strict: set[str], incomplete: dict[str, list[Diagnostic]],
                      ) -> list[SourceStatus]:
    """A source configured with ``unknown_people: error`` fails when any row names nobody."""
    out = list(statuses)
    for u in unmatched:
        if u.source not in strict:
            continue
        d = Diagnostic(u.first[0].rsplit(":", 1)[0] if u.first else u.source, 0, 0, "E312",
                       f"{u.count} {u.kind} record(s) name no known person (first: "
                       f"{', '.join(u.first)}; handles {', '.join(map(repr, u.handles))})",
                       "add the people to an HR source, fix the handles, or set "
                       "`unknown_people: report` on the source")
        incomplete.setdefault(u.kind, []).append(d)
        if u.kind == "absence":
            incomplete.setdefault("person", []).append(d)
        for i, s in enumerate(out):
            if s.name == u.source:
                out[i] = s.model_copy(update={"status": "error",
                                              "diagnostics": (*s.diagnostics, d.one_line())})
    return out


def _gate_scope(store: EvidenceStore, gate: GateSpec, executive: str
                ) -> tuple[set[str], dict[str, str]]:
    """Targets a release touches: itself, its model, its AI system and that system's risks.

    Sibling models of the same AI system are not touched by this release (and a registry
    adapter given the ``only_models`` hint does not even read them), so they stay out.
    """
    info = {"type": "release", "model": gate.model, "version": gate.version}
    rel = store.release(gate.model, gate.version)
    if rel is None:
        info["found"] = "no"
        return set(), info
    info["found"] = "yes"
    scope = {f"release/{rel.id}"}
    model = store.subject(rel.model, "model")
    if model is not None:
        scope.add(model.key)
    system = store.system_of(rel)
    if system is not None:
        scope.add(system.key)
        info["system"] = system.id
        for child in store.children(system.id):
            if child.kind == "risk":
                scope.add(child.key)
    return scope, info


def _release_missing(findings: list[Finding], gate: GateSpec, store: EvidenceStore,
                     executive: str, as_of: datetime) -> list[Finding]:
    owner, _ = resolve_owner(store, store.subject(gate.model, "model") or NO_TARGET, ["primary"],
                             executive, as_of)
    ref = (OwnerRef(id=owner.person.id, name=owner.person.name, email=owner.person.primary_email,
                    via=owner.via) if owner else
           OwnerRef(id=executive, name=executive, via="accountable_executive"))
    return [*findings, Finding(
        rule_id="AIMS-GATE-000", title="The release being gated exists in the evidence",
        severity="critical", status="error", target_kind="release",
        target_id=gate.release_id, target_name=f"{gate.model} v{gate.version}",
        message=f"release {gate.release_id} was not found in any source; the gate cannot "
                "open on missing evidence", owner=ref,
        remediation="Check the model name and version, and that the model registry source "
                    "is configured.")]

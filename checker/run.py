"""The one way to run a scan: a frozen :class:`ScanRequest` and :func:`run`.

Every command — ``scan``, ``report``, ``gate release``, ``matrix``, ``owners``,
``evidence pull`` and the history (``scan --record`` feeds ``history``/``diff``) — builds a
request and calls :func:`run`, whose stages are plain functions::

    plan      rules (a gate keeps its gate's), the evidence kinds they need, the as-of,
              the snapshot, the waivers file and the baseline (all read and validated
              before any source is)
    collect   every needed source (live, under the record limit), or the snapshot
    evaluate  rules × targets at the as-of (gate: the release's scope only)
    post      waivers → baseline → escalation (from the history) → summary, exit code

Waivers, the baseline, the record limit (``settings.max_records_per_source``) and
snapshots are applied here and nowhere else, so every command gives the same verdict for
the same request. History is written by :func:`record_history`, which a command calls
after its reports are written. The core never writes to the terminal: it returns notes
and diagnostics in a :class:`RunOutcome`, and progress goes to an observer.
"""

from __future__ import annotations

import hashlib
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import ValidationError

from . import __version__
from .adapters import (
    Adapter,
    SourceContext,
    adapter_class,
    adapter_names,
    reset_record_limit,
    set_record_limit,
    system_ref,
    widen_systems,
)
from .config import Config, LoadedConfig, pydantic_diagnostics
from .engine import NO_TARGET, evaluate_compact, exit_code_for, summarise
from .errors import AimscheckError, ConfigError, Diagnostic, EvidenceError, UsageError, redact
from .evidence import RECORD_TYPES, EvidenceBundle
from .findings import (
    FAILING,
    ClosedFinding,
    Finding,
    OwnerRef,
    PassGroup,
    PassRecord,
    ScanResult,
    SourceStatus,
    UnmatchedRecords,
)
from .matrix import build_matrix, coverage_rows, evidence_links
from .owners import resolve_owner
from .registry import UnknownName
from .rules import CompiledRule, compile_rules, load_packs
from .safefile import reset_file_byte_limit, set_file_byte_limit
from .severity import Severity
from .store import EvidenceStore
from .timeutil import format_ts, parse_ts

__all__ = [
    "ABSENCE_READS_AS_PASS",
    "Baseline",
    "Collected",
    "GateSpec",
    "ProgressObserver",
    "RunOutcome",
    "ScanRequest",
    "SourceRun",
    "apply_baseline",
    "baseline_first_seen",
    "baseline_resolved",
    "load_baseline",
    "load_rules_for",
    "pass_groups",
    "record_history",
    "run",
    "source_causes",
    "unmatched_records",
    "unsourced_kinds",
]

Key = tuple[str, str, str]
#: Kinds every scan reads: who is who, what exists, what was released.
BASE_KINDS = frozenset({"person", "subject", "release"})


class ProgressObserver(Protocol):
    """Told when each source starts and ends (the CLI draws it on a terminal)."""

    def source_started(self, name: str, adapter: str) -> None:
        """A source is about to be read."""

    def source_finished(self, name: str, records: int, seconds: float) -> None:
        """A source was read completely."""


@dataclass(frozen=True)
class GateSpec:
    """``gate release --model M --version V``."""

    model: str
    version: str

    @property
    def release_id(self) -> str:
        """``model:version``."""
        return f"{self.model}:{self.version}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class ScanRequest:
    """Everything one run needs. Commands build it; :func:`run` never changes it.

    Attributes:
        loaded: The config (its ``fail_on`` is overridden by ``fail_on`` when given).
        rules: Compiled rules; None loads the config's packs.
        as_of: The evaluation time; None = the snapshot's as-of, else ``now()``.
        mode: ``scan`` or ``gate`` (then ``gate`` names the release).
        gate: The release a gate decides.
        evidence: A snapshot folder to evaluate offline instead of reading sources.
        public_key: With ``evidence``: the snapshot's signature must verify under this
            Ed25519 public key (PEM), else the run stops (E397–E399).
        waivers: A waivers file; None = the config's ``waivers:`` (if any).
        baseline: A previous ``--format json`` output.
        record: Record the result in the history store (see :func:`record_history`).
        history_url: The history store (None: SQLite beside the config).
        record_limit: Most records one source may yield; None =
            ``settings.max_records_per_source``.
        fail_on: Overrides the config's ``fail_on``.
        progress: Told about each source; None = quiet (adapters draw nothing either).
        read_all: Read every source even when no rule needs it (``evidence pull``).
        capture_raw: Keep every raw payload each adapter hands over (``evidence pull``).
        now: The clock, used only when neither ``as_of`` nor a snapshot fixes the time.
    """

    loaded: LoadedConfig
    rules: tuple[CompiledRule, ...] | None = None
    as_of: datetime | None = None
    mode: Literal["scan", "gate"] = "scan"
    gate: GateSpec | None = None
    evidence: Path | None = None
    public_key: Path | None = None
    waivers: Path | None = None
    baseline: Path | None = None
    record: bool = False
    history_url: str | None = None
    record_limit: int | None = None
    fail_on: str | None = None
    progress: ProgressObserver | None = None
    read_all: bool = False
    capture_raw: bool = False
    now: Callable[[], datetime] = _now

    def __post_init__(self) -> None:
        if (self.mode == "gate") != (self.gate is not None):
            raise ValueError("a gate request names its release, and only a gate request does")


@dataclass
class SourceRun:
    """What collecting one source gave: its status, records and (when captured) payloads."""

    name: str
    adapter: Adapter | None
    status: SourceStatus
    bundle: EvidenceBundle
    incomplete: dict[str, list[Diagnostic]]
    started_at: datetime
    finished_at: datetime
    seconds: float
    payloads: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Collected:
    """The outcome of the collect stage."""

    bundle: EvidenceBundle
    statuses: list[SourceStatus]
    incomplete: dict[str, list[Diagnostic]]
    timings: dict[str, float] = field(default_factory=dict)
    sources: list[SourceRun] = field(default_factory=list)

    @property
    def errors(self) -> bool:
        """True when any source failed."""
        return any(s.status == "error" for s in self.statuses)


@dataclass
class RunOutcome:
    """What :func:`run` returns; only the command line prints any of it.

    Attributes:
        result: The scan result every reporter reads.
        store: The evidence store (``owners`` reads people from it).
        collected: The collect stage's output (``evidence pull`` writes it).
        request: The request, with its as-of fixed.
        config: The effective config (``fail_on`` and snapshot overrides applied).
        timings: Seconds per stage (``plan``, ``collect``, ``index``, ``evaluate``,
            ``post``) and per source (``sources``).
        notes: Lines for the user (``warning: …``, ``note: …``).
        diagnostics: Each distinct cause of a failed source, once.
    """

    result: ScanResult
    store: EvidenceStore
    collected: Collected
    request: ScanRequest
    config: Config
    timings: dict[str, Any]
    notes: list[str]
    diagnostics: list[Diagnostic]


# ---------------------------------------------------------------- plan


def load_rules_for(loaded: LoadedConfig) -> list[CompiledRule]:
    """Load, validate and compile the config's rule packs (no evidence is read)."""
    cfg = loaded.config
    rules = load_packs(cfg.rule_packs, loaded.base_dir)
    return compile_rules(rules, cfg, loaded.located)


class Baseline(dict[Key, str]):
    """(rule, kind, id) → status from a previous ``--format json`` output.

    ``as_of`` is the baseline's as-of; ``since`` holds, per failing finding, when it was
    first seen (its ``failing_since`` in the baseline, else the baseline's as-of).
    """

    as_of: str = ""
    since: dict[Key, str]


def load_baseline(path: Path) -> Baseline:
    """(rule, kind, id) → status from a previous ``--format json`` output."""
    import json

    try:
        data = json.loads(path.read_text("utf-8"))
        items = data["findings"]
        out = Baseline()
        for g in data.get("passes") or ():  # the compact passes: "kind/id" per rule
            for t in g["targets"]:
                kind, _, tid = str(t).partition("/")
                out[(str(g["rule_id"]), kind, tid)] = "pass"
        out.update({(str(f["rule_id"]), str(f["target_kind"]), str(f["target_id"])):
                    str(f["status"]) for f in items})
        out.as_of = str(data.get("as_of") or "")
        out.since = {(str(f["rule_id"]), str(f["target_kind"]), str(f["target_id"])):
                     str(f.get("failing_since") or out.as_of)
                     for f in items if f["status"] in FAILING}
        return out
    except OSError as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E394", f"cannot read the baseline: "
                                    f"{exc.strerror or exc}")) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E394",
                                    f"not a scan JSON output ({type(exc).__name__}: {exc})",
                                    "make the baseline with 'aimscheck scan --format json "
                                    "-o FILE'")) from None


@dataclass
class _Plan:
    config: Config
    rules: list[CompiledRule]
    as_of: datetime
    needed: frozenset[str] | None
    snapshot: Any  # locker.Snapshot | None (the locker imports this module)
    waivers: Any  # waivers.LoadedWaivers | None
    baseline: Baseline | None
    limit: int
    notes: list[str]


def _plan(req: ScanRequest) -> _Plan:
    from .locker import load_snapshot, rule_pack_digest, snapshot_config_overrides

    loaded = req.loaded
    cfg = loaded.config
    if req.fail_on:
        cfg = cfg.model_copy(update={"fail_on": req.fail_on})
    rules = list(req.rules) if req.rules is not None else load_rules_for(loaded)
    notes: list[str] = []
    snapshot = None
    waivers = None
    wpath = req.waivers
    if wpath is None and cfg.waivers:
        wpath = loaded.base_dir / cfg.waivers
    if req.evidence is not None and req.gate is not None:
        from .locker import config_file_digest, load_snapshot_for_gate

        if wpath is not None:  # read first: the slice must hold whom the waivers name
            from .waivers import load_waivers

            waivers = load_waivers(wpath, {r.id for r in rules})
        named = waivers.data.waivers if waivers is not None else []
        snapshot = load_snapshot_for_gate(
            req.evidence, req.public_key, model=req.gate.model, version=req.gate.version,
            as_of=format_ts(req.as_of) if req.as_of is not None else None,
            rules_digest=rule_pack_digest(cfg.rule_packs, loaded.base_dir),
            config_digest=config_file_digest(loaded.path), rules=rules, notes=notes,
            waiver_people=[h for w in named for h in (w.approved_by, w.requested_by)],
            waiver_records=[w.risk_acceptance for w in named])
    elif req.evidence is not None:
        snapshot = load_snapshot(req.evidence, req.public_key)
    if snapshot is not None and req.evidence is not None:
        pulled_for = snapshot.manifest.get("organisation")
        if pulled_for != cfg.organisation:
            # a snapshot of one organisation evaluated under another's config and rules would
            # report the wrong owners, waivers and thresholds with a valid-looking digest
            raise UsageError(Diagnostic(
                str(req.evidence), 0, 0, "E387", f"the snapshot was pulled for organisation "
                f"{pulled_for!r}; this config is for {cfg.organisation!r}",
                "scan the snapshot with the config it was pulled with"))
        overrides = snapshot_config_overrides(snapshot)
        if overrides:
            cfg = cfg.model_copy(update=overrides)
        current = rule_pack_digest(cfg.rule_packs, loaded.base_dir)
        then = snapshot.manifest.get("rule_pack_digest")
        if current != then:
            notes.append(f"note: the rule packs changed since the snapshot was pulled "
                         f"({then} then, {current} now)")
    as_of = req.as_of
    if as_of is None:
        as_of = parse_ts(str(snapshot.manifest["as_of"])) if snapshot else req.now()
    if wpath is not None and waivers is None:
        from .waivers import load_waivers

        waivers = load_waivers(wpath, {r.id for r in rules})
    baseline = load_baseline(req.baseline) if req.baseline is not None else None
    if req.gate is not None:
        rules = [r for r in rules if "release" in r.gates]
    needed: frozenset[str] | None = None
    if not req.read_all:
        needed = frozenset().union(*(r.needs for r in rules)) | BASE_KINDS
        if "person" in needed:
            needed = needed | {"absence"}  # whether a person is available depends on absences
    limit = req.record_limit or cfg.settings.max_records_per_source
    return _Plan(cfg, rules, as_of, needed, snapshot, waivers, baseline, limit, notes)


# ---------------------------------------------------------------- collect


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
        flags: dict[str, bool] = {}
        for flag in ("allow_outside", "allow_empty"):  # every source may say these
            # an adapter that declares the flag itself validates (and reads) it too
            value = entry.get(flag, False) if flag in cls.Config.model_fields else entry.pop(
                flag, False)
            if not isinstance(value, bool):
                diags.append(loaded.located.diag(("sources", i, flag), "E113",
                                                 f"{flag} must be true or false, got "
                                                 f"{type(value).__name__}"))
            flags[flag] = value is True
        try:
            cfg = cls.Config.model_validate(entry)
        except ValidationError as exc:
            diags.extend(pydantic_diagnostics(exc, loaded.located, ("sources", i)))
            continue
        ctx = SourceContext(loaded.base_dir, name, fetched_at, as_of, progress,
                            only_models=only_models, allow_outside=flags["allow_outside"],
                            allow_empty=flags["allow_empty"])
        out.append((name, cls(cfg, ctx)))
    if diags:
        raise ConfigError(sorted(diags))
    return out


def _count(b: EvidenceBundle) -> int:
    return sum(len(getattr(b, attr)) for attr, _ in RECORD_TYPES.values())


class _Recorder:
    """Keeps every raw payload an adapter hands over, under a safe relative name."""

    def __init__(self) -> None:
        self.payloads: dict[str, bytes] = {}

    def __call__(self, name: str, payload: bytes) -> None:
        from .locker import safe_rel

        rel = safe_rel(name)
        if rel in self.payloads:
            if self.payloads[rel] == payload:
                return
            stem, i = rel, 2
            while rel in self.payloads:
                rel = f"{stem}.{i}"
                i += 1
        self.payloads[rel] = bytes(payload)


def _collect_one(name: str, adapter: Adapter, needed: frozenset[str] | None,
                 observer: ProgressObserver | None, capture: bool) -> SourceRun:
    kinds = adapter.kinds()
    started = datetime.now(UTC)
    if needed is not None and not (kinds & needed):
        return SourceRun(name, adapter, SourceStatus(
            name=name, adapter=adapter.name, status="skipped", kinds=tuple(sorted(kinds)),
            records=0, diagnostics=("not read: no selected rule needs "
                                    + ", ".join(sorted(kinds)),)),
            EvidenceBundle(), {}, started, started, 0.0)
    rec = _Recorder() if capture else None
    if rec is not None:
        adapter.ctx = replace(adapter.ctx, recorder=rec)
    if observer is not None:
        observer.source_started(name, adapter.name)
    t0 = time.perf_counter()
    diags: list[Diagnostic] | None = None
    got = EvidenceBundle()
    try:
        got = adapter.collect()
    except EvidenceError as exc:
        diags = list(exc.diagnostics)
    except OSError as exc:  # a read the adapter did not wrap: refused, too large, gone
        where = adapter.ctx.display(Path(exc.filename)) if exc.filename else name
        diags = [Diagnostic(where, 0, 0, "E300", f"cannot read file: {exc.strerror or exc}",
                            "check the path (relative paths are resolved from the config "
                            "file's folder)")]
    except Exception as exc:
        diags = [Diagnostic(name, 0, 0, "E900",
                            redact(f"adapter {adapter.name!r} crashed: {type(exc).__name__}: "
                                   f"{exc}"), "this is a bug in the adapter; please report it")]
    seconds = time.perf_counter() - t0
    finished = datetime.now(UTC)
    payloads = rec.payloads if rec is not None else {}
    if diags is not None:
        return SourceRun(name, adapter, SourceStatus(
            name=name, adapter=adapter.name, status="error", kinds=tuple(sorted(kinds)),
            records=0, diagnostics=tuple(d.one_line() for d in diags)),
            EvidenceBundle(), {k: list(diags) for k in sorted(kinds)},
            started, finished, seconds, payloads)
    got.tag(name)
    records = _count(got)
    if observer is not None:
        observer.source_finished(name, records, seconds)
    return SourceRun(name, adapter, SourceStatus(
        name=name, adapter=adapter.name, status="ok", kinds=tuple(sorted(kinds | got.kinds)),
        records=records), got, {}, started, finished, seconds, payloads)


def _limit_source(src: SourceRun, limit: int) -> SourceRun:
    """A source past the record limit is an error, whoever counted (adapter or snapshot)."""
    if src.status.status != "ok" or src.status.records <= limit:
        return src
    d = Diagnostic(src.name, 0, 0, "E313",
                   f"more than {limit:,} records ({src.status.records:,}): the source is "
                   "not used", "raise settings.max_records_per_source if this volume is "
                   "expected, or narrow the source")
    kinds = src.status.kinds
    return replace(src, status=src.status.model_copy(update={
        "status": "error", "records": 0, "diagnostics": (d.one_line(),)}),
        bundle=EvidenceBundle(), incomplete={k: [d] for k in kinds})


def _assemble(runs: list[SourceRun]) -> Collected:
    bundle = EvidenceBundle()
    incomplete: dict[str, list[Diagnostic]] = {}
    for src in runs:
        bundle.extend(src.bundle)
        for k, ds in src.incomplete.items():
            incomplete.setdefault(k, []).extend(ds)
    return Collected(bundle, [s.status for s in runs], incomplete,
                     {s.name: s.seconds for s in runs if s.status.status != "skipped"}, runs)


def _collect(req: ScanRequest, plan: _Plan) -> Collected:
    if plan.snapshot is not None:
        runs = [_limit_source(s, plan.limit) for s in plan.snapshot.sources]
        return _assemble(runs)
    loaded = req.loaded
    hint = frozenset({req.gate.model}) if req.gate is not None else None
    sources = build_sources(loaded, plan.as_of, progress=req.progress is not None,
                            only_models=hint)
    token = set_record_limit(plan.limit)
    btoken = set_file_byte_limit(plan.config.settings.max_file_bytes)
    try:
        if hint is None:
            runs = [_collect_one(name, adapter, plan.needed, req.progress, req.capture_raw)
                    for name, adapter in sources]
        else:
            runs = _collect_gated(sources, hint, plan.needed, req)
    finally:
        reset_file_byte_limit(btoken)
        reset_record_limit(token)
    return _assemble([_limit_source(s, plan.limit) for s in runs])


def _gated_systems(hint: frozenset[str], bundles: list[EvidenceBundle]
                   ) -> tuple[frozenset[str], tuple[frozenset[str], ...]]:
    """What the sources read before the registries say about the gated models' AI systems.

    Returns the systems they link a gated model to (a model subject's ``system``, a
    release's ``system``), with every other name of each, and the id/name groups of every
    AI system they describe (a registry tag may name a system by either).
    """
    folds = {m.casefold() for m in hint}
    seed: set[str] = set()
    groups: dict[frozenset[str], None] = {}
    for b in bundles:
        for s in b.subjects:
            ref = s.attributes.get("system")
            if s.kind == "ai_system":
                groups[frozenset({system_ref(s.id), system_ref(s.name)})] = None
            elif s.kind == "model" and s.id.casefold() in folds and isinstance(ref, str):
                seed.add(system_ref(ref))
        seed.update(system_ref(r.system) for r in b.releases
                    if r.system and r.model.casefold() in folds)
    seed.discard("")
    widen_systems(seed, groups)
    return frozenset(seed), tuple(groups)


def _collect_gated(sources: list[tuple[str, Adapter]], hint: frozenset[str],
                   needed: frozenset[str] | None, req: ScanRequest) -> list[SourceRun]:
    """Collect for ``gate release``: a registry reads the gated model and the others' models.

    A registry reads the gated model and every model another source records a release of.
    A release recorded twice (a case variant, or the same release from a second source) is
    an E332 that fails the run closed, whatever model is gated — as the scan of the same
    config does. A registry reading only the gated model would not see the other copy of a
    release another source names, so those sources are read first and their models join
    the hint.

    Then what the registries found decides whether one must read more (rare, so read
    again): a model that two registries both list (in any letter case) is read by each, so
    the duplicate the scan reports (E314/E332) fails the gate of any model closed, as a
    duplicate inside one registry does; likewise an AI system two registries both describe
    (``listed_systems``: a duplicate subject, E314); and an AI system one registry found a
    gated model in (``read_systems``) is read by every registry, so that siblings of the
    gated model held elsewhere (their versions are the system's changes) count as in the
    scan. The systems the sources read first link a gated model to (a register's model
    entry), with each system's other name, are passed from the start. Runs keep the
    config's order.
    """
    runs: dict[int, SourceRun] = {}
    named: set[str] = set()
    for i, (name, adapter) in enumerate(sources):
        if not adapter.honours_only_models:
            runs[i] = _collect_one(name, adapter, needed, req.progress, req.capture_raw)
            named.update(r.model for r in runs[i].bundle.releases)
    wider = hint | frozenset(named)
    seed, aliases = _gated_systems(hint, [run.bundle for run in runs.values()])
    registries = [i for i, (_, adapter) in enumerate(sources) if adapter.honours_only_models]
    for i in registries:
        name, adapter = sources[i]
        adapter.ctx = replace(adapter.ctx, only_models=wider, only_systems=seed or None,
                              system_aliases=aliases)
        runs[i] = _collect_one(name, adapter, needed, req.progress, req.capture_raw)
    for _ in range(2 * len(registries) + 2):  # each round only widens; sets are finite
        holders: dict[str, int] = defaultdict(int)
        for i in registries:
            for fold in sources[i][1].listed_models or ():
                holders[fold] += 1
        twice = frozenset(f for f, n in holders.items() if n > 1)
        described: dict[str, int] = defaultdict(int)
        for i in registries:
            for ref in sources[i][1].listed_systems or ():
                described[ref] += 1
        shared = frozenset(ref for ref, n in described.items() if n > 1)
        read = frozenset().union(*(sources[i][1].read_systems or () for i in registries))
        again = False
        for i in registries:
            name, adapter = sources[i]
            models = frozenset(adapter.ctx.only_models or ())
            folds = {m.casefold() for m in models}
            more = (twice & (adapter.listed_models or frozenset())) - folds
            systems = read | (shared & (adapter.listed_systems or frozenset()))
            had = frozenset(adapter.ctx.only_systems or ())
            if not more and systems <= (had | (adapter.read_systems or frozenset())):
                continue
            adapter.ctx = replace(adapter.ctx, only_models=models | more,
                                  only_systems=had | systems)
            runs[i] = _collect_one(name, adapter, needed, req.progress, req.capture_raw)
            again = True
        if not again:
            break
    return [runs[i] for i in range(len(sources))]


# ---------------------------------------------------------------- evaluate

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
        out.append(Diagnostic(dup.provenance.locator, 0, 0, "E314",
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
        out.append(Diagnostic(c.second, 0, 0, "E315", c.message(),
                              "one handle must name one person: fix the export or identity "
                              "map so that each email, id and account belongs to one person"))
    return out


#: How many locators and handles of unmatched records a report shows per source and kind.
UNMATCHED_SHOWN = 5


def unmatched_records(store: EvidenceStore) -> tuple[UnmatchedRecords, ...]:
    """Per source and kind, the records that name no known person (count + first few)."""
    return tuple(
        UnmatchedRecords(source=u.source, kind=u.kind, count=len(u.locators),
                         first=tuple(u.locators[:UNMATCHED_SHOWN]),
                         handles=tuple(dict.fromkeys(u.handles))[:UNMATCHED_SHOWN])
        for _, u in sorted(store.unmatched.items()))


@dataclass
class _Strict:
    statuses: list[SourceStatus]
    diagnostics: list[Diagnostic]


def _strict_unmatched(statuses: list[SourceStatus], unmatched: tuple[UnmatchedRecords, ...],
                      strict: set[str], incomplete: dict[str, list[Diagnostic]],
                      ) -> _Strict:
    """A source configured with ``unknown_people: error`` fails when any row names nobody."""
    out = list(statuses)
    diags: list[Diagnostic] = []
    for u in unmatched:
        if u.source not in strict:
            continue
        d = Diagnostic(u.first[0].rsplit(":", 1)[0] if u.first else u.source, 0, 0, "E312",
                       f"{u.count} {u.kind} record(s) name no known person (first: "
                       f"{', '.join(u.first)}; handles {', '.join(map(repr, u.handles))})",
                       "add the people to an HR source, fix the handles, or set "
                       "`unknown_people: report` on the source")
        diags.append(d)
        incomplete.setdefault(u.kind, []).append(d)
        if u.kind == "absence":
            incomplete.setdefault("person", []).append(d)
        for i, s in enumerate(out):
            if s.name == u.source:
                out[i] = s.model_copy(update={"status": "error",
                                              "diagnostics": (*s.diagnostics, d.one_line())})
    return _Strict(out, diags)


def _gate_scope(store: EvidenceStore, gate: GateSpec) -> tuple[set[str], dict[str, str]]:
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
                     cfg: Config, as_of: datetime) -> list[Finding]:
    executive = cfg.accountable_executive
    owner, _ = resolve_owner(store, store.subject(gate.model, "model") or NO_TARGET, ["primary"],
                             executive, as_of, cfg.settings)
    ref = (OwnerRef(id=owner.person.id, name=owner.person.name, email=owner.person.primary_email,
                    via=owner.via) if owner else
           OwnerRef(id=executive, name=executive, via="accountable_executive"))
    return [*findings, Finding(
        rule_id="AIMS-GATE-000", title="The release being gated exists in the evidence",
        severity=Severity.CRITICAL, status="error", target_kind="release",
        target_id=gate.release_id, target_name=f"{gate.model} v{gate.version}",
        message=f"release {gate.release_id} was not found in any source; the gate cannot "
                "open on missing evidence", owner=ref,
        remediation="Check the model name and version, and that the model registry source "
                    "is configured.")]


# ---------------------------------------------------------------- post-process


def apply_baseline(findings: list[Finding], base: dict[Key, str]) -> list[Finding]:
    """Mark each failing finding ``known``, ``new`` or ``regressed`` against the baseline."""
    out = []
    for f in findings:
        if f.status != "fail":
            out.append(f)
            continue
        before = base.get((f.rule_id, f.target_kind, f.target_id))
        if before in FAILING:
            mark = "known"
        elif before in ("pass", "warn", "waived"):
            mark = "regressed"
        else:
            mark = "new"
        out.append(f.model_copy(update={"baseline": mark}))
    return out


def baseline_first_seen(findings: list[Finding], base: Baseline, now: str) -> list[Finding]:
    """Failing findings known to the baseline are first seen when the baseline saw them.

    Recorded history wins when it knows an earlier sighting; the earlier of the two is kept.
    """
    out = []
    for f in findings:
        seen = base.since.get((f.rule_id, f.target_kind, f.target_id))
        if f.status in FAILING and seen and seen < (f.failing_since or now):
            f = f.model_copy(update={"failing_since": seen})
        out.append(f)
    return out


def baseline_resolved(findings: list[Finding], base: Baseline, now: str,
                      known: set[Key], passes: Iterable[PassRecord] = ()
                      ) -> tuple[ClosedFinding, ...]:
    """Findings that failed in the baseline and no longer fail (not already in ``known``).

    ``passes`` are this scan's compact passes (not among ``findings``).
    """
    current = {(p.rule_id, p.target_kind, p.target_id): "pass" for p in passes}
    current.update({(f.rule_id, f.target_kind, f.target_id): f.status for f in findings})
    return tuple(
        ClosedFinding(rule_id=k[0], target_kind=k[1], target_id=k[2],
                      first_seen=base.since.get(k, base.as_of) or now, closed_at=now,
                      status_now=current.get(k, "gone"))
        for k, st in sorted(base.items())
        if st in FAILING and current.get(k) not in FAILING and k not in known)


def _summary(findings: list[Finding], fail_on: str, source_errors: bool, passes: int = 0
             ) -> tuple[dict[str, object], int]:
    """Summary and exit code; known baseline failures do not fail the run, errors always do."""
    counted = [f for f in findings if f.baseline != "known"]
    summary = summarise(findings, fail_on, passes)
    gate_view = summarise(counted, fail_on)
    summary["failing"] = gate_view["failing"]
    summary["owners"] = gate_view["owners"]
    if any(f.baseline for f in findings):
        summary["baseline_known"] = sum(1 for f in findings if f.baseline == "known")
    return summary, exit_code_for(counted, fail_on, source_errors)


def source_causes(collected: Collected, extra: Iterable[Diagnostic] = ()) -> list[Diagnostic]:
    """Each distinct diagnostic of a failed source, in the order sources were read."""
    seen: dict[tuple[str, int, int, str, str], Diagnostic] = {}
    for src in collected.sources:
        for ds in src.incomplete.values():
            for d in ds:
                seen.setdefault((d.file, d.line, d.col, d.code, d.message), d)
    for ds in collected.incomplete.values():
        for d in ds:
            seen.setdefault((d.file, d.line, d.col, d.code, d.message), d)
    for d in extra:
        seen.setdefault((d.file, d.line, d.col, d.code, d.message), d)
    return list(seen.values())


# ---------------------------------------------------------------- run


def run(req: ScanRequest) -> RunOutcome:
    """Plan, collect, evaluate and post-process one request.

    Raises:
        ConfigError, RuleError, UsageError: the config, rules, waivers file or baseline is
            invalid (nothing was collected).
        EvidenceError: the snapshot was tampered with or does not load.
    """
    t0 = time.perf_counter()
    plan = _plan(req)
    cfg, as_of = plan.config, plan.as_of
    t1 = time.perf_counter()
    collected = _collect(req, plan)
    t2 = time.perf_counter()
    incomplete = dict(collected.incomplete)
    unsourced = unsourced_kinds(plan.rules, collected.statuses)
    for kind, diags in unsourced.items():
        incomplete.setdefault(kind, []).extend(diags)
    if incomplete.get("absence"):
        # Absences decide who is available: without them no people rule can pass.
        incomplete["person"] = [*incomplete.get("person", []), *incomplete["absence"]]
    store = EvidenceStore(collected.bundle, incomplete, as_of=as_of, tz=cfg.settings.tz)
    if plan.snapshot is not None and plan.snapshot.unmatched is not None:
        from .gateindex import restore_unmatched

        restore_unmatched(store, plan.snapshot.unmatched)
    dups = _duplicate_diags(store)
    merge_kinds = {"E314": "subject", "E315": "person", "E332": "release"}
    for d in dups:
        store.incomplete.setdefault(merge_kinds[d.code], []).append(d)
    statuses = list(collected.statuses)
    if dups:
        statuses.append(SourceStatus(name="(merge)", adapter="store", status="error",
                                     kinds=("person", "release", "subject"), records=0,
                                     diagnostics=tuple(d.one_line() for d in dups)))
    unmatched = unmatched_records(store)
    # Sources configured with `unknown_people: error` (read from the config too, so a
    # replayed snapshot keeps the rule).
    strict_names = collected.bundle.strict_sources | {
        str(e.get("name", e.get("adapter") or f"source{i}"))
        for i, e in enumerate(cfg.sources) if e.get("unknown_people") == "error"}
    strict = _strict_unmatched(statuses, unmatched, strict_names, store.incomplete)
    statuses = strict.statuses
    only: set[str] | None = None
    gate_info: dict[str, str] | None = None
    if req.gate is not None:
        only, gate_info = _gate_scope(store, req.gate)
    t3 = time.perf_counter()
    findings, passes = evaluate_compact(
        plan.rules, store, as_of, cfg, gate_release=req.gate.release_id if req.gate else None,
        only=only)
    if req.gate is not None and gate_info and gate_info.get("found") == "no":
        findings = _release_missing(findings, req.gate, store, cfg, as_of)
    t4 = time.perf_counter()
    notes = list(plan.notes)
    if plan.waivers is not None:
        from .waivers import apply_waivers

        lw = plan.waivers
        locs = {w.id: lw.locator(i) for i, w in enumerate(lw.data.waivers)}
        findings, wnotes = apply_waivers(
            findings, lw.data, store, as_of, policy=cfg.waiver_policy, locators=locs,
            record_ids=frozenset(a.id for a in collected.bundle.approvals),
            settings=cfg.settings, passes=passes)
        notes.extend(f"warning: {n}" for n in wnotes)
    if plan.baseline is not None:
        findings = apply_baseline(findings, plan.baseline)
    from .escalation import age_from_history

    try:
        findings, closed = age_from_history(req.loaded, findings, as_of, store.identity,
                                            req.history_url, passes, notes=notes)
    except UsageError as exc:
        if not any(d.code == "E388" for d in exc.diagnostics):
            raise
        # An unreachable history store must not cost the verdict or the reports: the
        # findings keep their statuses, only their age and escalation are unknown.
        closed = ()
        notes.extend(f"warning: {d.one_line()}; findings are not aged or escalated this run"
                     for d in exc.diagnostics)
    if plan.baseline is not None:
        findings = baseline_first_seen(findings, plan.baseline, format_ts(as_of))
        closed = (*closed, *baseline_resolved(findings, plan.baseline, format_ts(as_of),
                                              {(c.rule_id, c.target_kind, c.target_id)
                                               for c in closed}, passes))
    source_errors = any(s.status == "error" for s in statuses)
    summary, code = _summary(findings, cfg.fail_on, source_errors, len(passes))
    result = ScanResult(
        tool_version=__version__, organisation=cfg.organisation, as_of=format_ts(as_of),
        mode=req.mode, gate=gate_info, fail_on=cfg.fail_on,
        rule_packs=tuple(cfg.rule_packs), sources=tuple(statuses), unmatched=unmatched,
        findings=tuple(findings), passes=pass_groups(passes), closed=closed, summary=summary,
        exit_code=code,
        corrective_action_days=dict(cfg.settings.corrective_action_days),
        concentration_max_roles=cfg.settings.concentration_max_roles,
        rule_pack_digest=_rule_pack_digest(cfg, req.loaded.base_dir),
        config_digest="sha256:" + hashlib.sha256(req.loaded.path.read_bytes()).hexdigest()
        if req.loaded.path.is_file() else None,
        prepared_by=cfg.prepared_by,
        coverage=coverage_rows(plan.rules),
        matrix=build_matrix(store, plan.rules, as_of, cfg.settings),
        links=evidence_links(collected.bundle, itertools.chain(
            (e for f in findings for e in f.evidence), (e for p in passes for e in p.evidence))),
        evidence_digest=plan.snapshot.digest if plan.snapshot is not None else None,
        config_file=req.loaded.path,
    ).with_pass_records(tuple(passes))
    t5 = time.perf_counter()
    timings: dict[str, Any] = {"plan": t1 - t0, "collect": t2 - t1, "index": t3 - t2,
                               "evaluate": t4 - t3, "post": t5 - t4,
                               "sources": collected.timings}
    fixed = replace(req, as_of=as_of)
    return RunOutcome(result, store, collected, fixed, cfg, timings, notes,
                      source_causes(collected, [*dups, *(d for ds in unsourced.values()
                                                         for d in ds), *strict.diagnostics]))


def pass_groups(passes: Iterable[PassRecord]) -> tuple[PassGroup, ...]:
    """The compact passes of a scan: per rule, its passing targets (``kind/id``), sorted."""
    by_rule: dict[str, list[str]] = {}
    for p in passes:
        by_rule.setdefault(p.rule_id, []).append(f"{p.target_kind}/{p.target_id}")
    return tuple(PassGroup.model_construct(rule_id=r, count=len(ts), targets=tuple(ts))
                 for r, ts in sorted(by_rule.items()))


def _rule_pack_digest(cfg: Config, base_dir: Path) -> str | None:
    """The packs' digest for the report's document control (None if a pack moved away)."""
    from .locker import rule_pack_digest

    try:
        return rule_pack_digest(cfg.rule_packs, base_dir)
    except (OSError, AimscheckError):
        return None


def record_history(outcome: RunOutcome) -> str:
    """Record the outcome in the request's history store; return a line for the user.

    Call it after the reports are written: a history failure (raised as UsageError E388)
    must never lose a report nor change the exit code.
    """
    from .history import History, default_url, shown_url

    req = outcome.request
    url = req.history_url or default_url(req.loaded.path)
    scan_id = History(url).record(outcome.result)
    return f"recorded scan #{scan_id} in {shown_url(url)}"

"""The gate index of an evidence snapshot: per release, the records its gate reads.

``evidence pull`` writes two files into the snapshot (both listed, hashed and signed in the
manifest like every other file)::

    index/gate.json       validity (as-of, rule-pack and config digests, the checks of the
                          gated rules), the org-wide facts a slice cannot see (records that
                          name nobody), and release/model → slice (byte range + SHA-256)
    index/slices.jsonl    one line per slice: byte ranges of the record lines it selects in
                          records/<source>/<kind>.jsonl, and the SHA-256 of those bytes

A **slice** is what the gate of any release of one AI system reads: the system, every
subject linked to it (models, risks, datasets …), the subjects its records name, the
releases of those models, the approvals, reviews, events, incidents and alerts about any
of them, and every person any of those records names (plus the accountable executive, the
people the escalation ladder names, and the managers above each), with all of those
people's source records, trainings and absences. A release whose system cannot be
resolved gets the slice of its model (or of itself). The slice is a superset: the gate's
store built from it answers every question the gated rules ask about the release's scope
exactly as the full store would.

``gate release --evidence SNAP`` (:func:`load_release_slice`) reads the manifest (and
checks its signature with ``--public-key``), the index (its SHA-256 from the manifest),
the slice line (its SHA-256 from the index) and the selected record bytes (their SHA-256
from the slice line), so every byte it evaluates is verified, without hashing or parsing
the rest of the snapshot. Files it does not read are not checked: ``evidence verify``
checks the whole snapshot.

The index is not used — the gate loads the whole snapshot as before, and says why in a
note — when it is missing or of another format, when the gate's as-of, rule packs or
config differ from the pull's, when a gated rule uses a check that is not built in (its
reads are unknown), or when the pull found an org-wide merge problem (duplicate subjects or
releases, one handle claimed by two people), which only the full load reports. So the
indexed gate gives the full-load gate's verdict and findings, or is not used.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from .errors import Diagnostic, EvidenceError
from .evidence import RECORD_TYPES
from .identity import normalise_handle
from .locker import source_header
from .timeutil import parse_ts

if TYPE_CHECKING:
    from .rules import CompiledRule
    from .run import RunOutcome, SourceRun
    from .store import EvidenceStore

__all__ = ["FORMAT", "INDEX", "SLICES", "IndexedSlice", "build_gate_index",
           "gate_checks_known", "load_release_slice"]

FORMAT = "aimscheck-gate-index/2"
INDEX = "index/gate.json"
SLICES = "index/slices.jsonl"
#: Checks whose reads a slice covers: the built-in ones (``checker.checks.*``).
_BUILTIN = "checker.checks."


def _norm(ref: str) -> str:
    return ref.strip().casefold()  # as checker.store compares references


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _field_names(tp: type) -> tuple[str, ...]:
    fields = getattr(tp, "model_fields", None)  # pydantic
    if isinstance(fields, dict):
        return tuple(fields)
    if dataclasses.is_dataclass(tp):
        return tuple(f.name for f in dataclasses.fields(tp))
    struct = getattr(tp, "__struct_fields__", None)  # msgspec
    if isinstance(struct, tuple):
        return struct
    return tuple(n for c in tp.__mro__ for n in getattr(c, "__slots__", ()))


_NAMES: dict[type, tuple[str, ...]] = {}


def _strings(x: Any, out: list[str]) -> None:
    """Every string value inside a record (provenance left out), whatever its representation."""
    if isinstance(x, str):
        out.append(x)
    elif isinstance(x, dict):
        for v in x.values():
            _strings(v, out)
    elif isinstance(x, list | tuple | set | frozenset):
        for v in x:
            _strings(v, out)
    elif x is not None and not isinstance(x, int | float | bool):
        tp = type(x)
        names = _NAMES.get(tp)
        if names is None:
            names = _NAMES[tp] = _field_names(tp)
        for n in names:
            if n != "provenance":
                _strings(getattr(x, n, None), out)


def gate_checks_known(rules: Iterable[CompiledRule]) -> str | None:
    """None when every check of the gated rules is built in, else the first one that is not."""
    def walk(checks: Iterable[Any]) -> Iterator[Any]:
        for c in checks:
            yield c
            kids = getattr(c, "children", None)
            if callable(kids):
                yield from walk(kids())

    for r in rules:
        if "release" not in r.gates:
            continue
        for c in walk([*r.where, *r.require]):
            if not type(c).__module__.startswith(_BUILTIN):
                return f"{r.id} uses the check {type(c).name or type(c).__name__!r} " \
                       f"({type(c).__module__})"
    return None


# ---------------------------------------------------------------- pull: build


class _Positions:
    """Where each record object is in the snapshot: (records file, line index)."""

    def __init__(self) -> None:
        self.of: dict[int, tuple[str, int]] = {}

    def add(self, rel: str, records: list[Any]) -> None:
        for i, r in enumerate(records):
            self.of[id(r)] = (rel, i)


def build_gate_index(outcome: RunOutcome, files: dict[str, bytes],
                     records_of: dict[tuple[str, str], str], *, as_of: str,
                     rule_pack_digest: str, config_digest: str,
                     pseudonymise: Callable[[str], str] | None = None) -> dict[str, bytes]:
    """The index files for a snapshot being written.

    Args:
        outcome: The pull's run (``read_all``): its store and every source's records.
        files: The snapshot's files so far (the records files' final bytes).
        records_of: (source name, kind) → the records file of that source and kind.
        as_of: The snapshot's as-of (the index is valid at it only).
        rule_pack_digest: The rule packs it was built for.
        config_digest: The config file it was built for.
        pseudonymise: For a pseudonymised snapshot: the handles the index itself names
            (records that name nobody) are pseudonymised like the records.
    """
    pseudo = pseudonymise or (lambda v: v)
    store = outcome.store
    head: dict[str, Any] = {"format": FORMAT, "as_of": as_of,
                            "rule_pack_digest": rule_pack_digest,
                            "config_digest": config_digest, "unusable": None}

    def finish(slices: list[bytes], releases: dict[str, int], models: dict[str, int],
               base: int | None) -> dict[str, bytes]:
        body = b"".join(slices)
        table: list[list[Any]] = []
        at = 0
        for line in slices:  # slice number → [offset, length, SHA-256] in slices.jsonl
            table.append([at, len(line), _sha(line)])
            at += len(line)
        index = {**head, "slices": table, "base": base, "releases": releases, "models": models,
                 "unmatched": [[u.source, u.kind, u.locators, [pseudo(h) for h in u.handles]]
                               for _, u in sorted(store.unmatched.items())]}
        return {INDEX: (json.dumps(index, sort_keys=True, separators=(",", ":")) + "\n"
                        ).encode("utf-8"), SLICES: body}

    problems = [*(f"duplicate subject {d.key!r}" for _, d in store.duplicate_subjects),
                *(f"duplicate release {d.id!r}" for _, d in store.duplicate_releases),
                *("one handle is claimed by two people" for _ in store.identity.conflicts)]
    # a handle two people claim resolves to nobody in the full store, but could resolve
    # in a slice holding only one of them
    if any(store.identity.is_ambiguous(h) for p in outcome.collected.bundle.people
           for h in (p.id, *p.emails, *p.handles) if h and h.strip()):
        problems.append("one handle is claimed by two people")
    if problems:
        head["unusable"] = f"the pull found {len(problems)} org-wide merge problem(s) " \
                           f"(first: {problems[0]}); only the full load reports them"
        return finish([], {}, {}, None)

    # byte offsets of every line of every records file
    pos = _Positions()
    offsets: dict[str, list[int]] = {}
    for src in outcome.collected.sources:
        for kind, (attr, _) in RECORD_TYPES.items():
            recs = getattr(src.bundle, attr)
            rel = records_of.get((src.name, kind))
            if not recs or rel is None:
                continue
            data = files[rel]
            starts = [0]
            at = data.find(b"\n")
            while at != -1:
                starts.append(at + 1)
                at = data.find(b"\n", at + 1)
            if len(starts) - 1 != len(recs):
                head["unusable"] = f"{rel}: {len(starts) - 1} lines for {len(recs)} records"
                return finish([], {}, {}, None)
            offsets[rel] = starts
            pos.add(rel, recs)

    bundle = outcome.collected.bundle
    identity = store.identity

    # people: person id → every source record of that person; trainings, absences by id
    records_by_key: dict[str, list[Any]] = defaultdict(list)
    for p in bundle.people:
        for h in (p.id, *p.emails, *p.handles, p.employee_number):
            if h and h.strip():
                records_by_key[normalise_handle(h)].append(p)
    by_person: dict[str, list[Any]] = defaultdict(list)
    personal: list[Any] = [*bundle.trainings, *bundle.absences]
    for t in personal:
        tp = identity.resolve(t.person)
        if tp is not None:
            by_person[tp.id].append(t)

    person_cache: dict[str, tuple[int, ...]] = {}

    def person_records(pid: str) -> tuple[int, ...]:
        got = person_cache.get(pid)
        if got is not None:
            return got
        p = identity.by_id(pid)
        out: dict[int, Any] = {}
        if p is not None:
            for h in (p.id, *p.emails, *p.handles, p.employee_number):
                if h and h.strip():
                    for r in records_by_key.get(normalise_handle(h), ()):
                        out[id(r)] = r
            for r in identity.records(p):
                out.setdefault(id(r), r)
        for r in by_person.get(pid, ()):
            out[id(r)] = r
        got = person_cache[pid] = tuple(k for k in out if k in pos.of)
        return got

    resolved: dict[str, str | None] = {}

    def person_id(handle: str) -> str | None:
        if handle not in resolved:  # most strings recur across groups: resolve each once
            p = identity.resolve(handle)
            resolved[handle] = p.id if p is not None else None
        return resolved[handle]

    def people_closure(handles: Iterable[str]) -> set[str]:
        ids: set[str] = set()
        todo = [pid for h in set(handles) if (pid := person_id(h)) is not None]
        while todo:  # the managers above each person too (escalation names them)
            pid = todo.pop()
            if pid in ids:
                continue
            ids.add(pid)
            p = identity.by_id(pid)
            if p is not None and p.manager:
                m = person_id(p.manager)
                if m is not None:
                    todo.append(m)
        return ids

    # records about subjects, by the reference they carry
    approvals: dict[str, list[Any]] = defaultdict(list)
    for a in bundle.approvals:
        approvals[_norm(a.subject)].append(a)
        if a.model and a.version:
            approvals[_norm(f"{a.model}:{a.version}")].append(a)
    reviews: dict[str, list[Any]] = defaultdict(list)
    for rv in bundle.reviews:
        reviews[_norm(rv.subject)].append(rv)
    events: dict[str, list[Any]] = defaultdict(list)
    for e in bundle.events:
        events[_norm(e.subject)].append(e)
    alerts: dict[str, list[Any]] = defaultdict(list)
    for al in bundle.alerts:
        alerts[_norm(al.subject)].append(al)
    incidents: dict[str, list[Any]] = defaultdict(list)
    for inc in bundle.incidents:
        if inc.system:
            incidents[_norm(inc.system)].append(inc)
    subjects_by_key: dict[str, list[Any]] = defaultdict(list)
    # a bare id or an AI system's name that several subjects share resolves to nobody in
    # the full store; the slice holds all of them, so that it resolves to nobody there too
    same_ref: dict[str, set[str]] = defaultdict(set)
    for s in bundle.subjects:
        subjects_by_key[_norm(s.key)].append(s)
        same_ref[_norm(s.id)].add(_norm(s.key))
        if s.kind == "ai_system":
            same_ref[_norm(s.name)].add(_norm(s.key))
    shared_ref = {ref: keys for ref, keys in same_ref.items() if len(keys) > 1}
    releases_by_model: dict[str, list[Any]] = defaultdict(list)
    for r in bundle.releases:
        releases_by_model[_norm(r.model)].append(r)

    def system_key(rel: Any) -> str | None:
        sysobj = store.system_of(rel)
        return sysobj.key if sysobj is not None else None

    class _EventsBySystem:
        def __init__(self) -> None:
            self.by: dict[str, list[Any]] = defaultdict(list)
            for e in bundle.events:
                found = store.resolve_system(e.subject)
                if found is not None:
                    self.by[found.key].append(e)

        def get_many(self, keys: Iterable[str]) -> list[Any]:
            return [e for k in keys for e in self.by.get(k, ())]

    bundle_events_by_system = _EventsBySystem()
    # people every gate may name: the executive, and the escalation ladder's named people
    always = [outcome.config.accountable_executive,
              *(step.to for step in outcome.config.escalation
                if step.to not in ("deputy", "manager", "accountable_executive"))]

    def group_slice(subject_keys: set[str], rels: list[Any]) -> bytes:
        """The slice line of a group of subjects and releases."""
        subs: dict[int, Any] = {}
        keys = set(subject_keys)
        strings: list[str] = []
        for _ in range(3):  # the subjects named by the group's records, two hops
            for k in sorted(keys):
                for s in subjects_by_key.get(_norm(k), ()):
                    subs.setdefault(id(s), s)
            strings = []
            for s in subs.values():
                _strings(s, strings)
            for r in rels:
                _strings(r, strings)
            for v in set(strings):
                keys.update(shared_ref.get(_norm(v), ()))
                hit = store.subject(v) if v.strip() else None
                if hit is not None:
                    keys.add(hit.key)
                found = store.resolve_system(v) if v.strip() else None
                if found is not None:
                    keys.add(found.key)
        for k in sorted(keys):
            for s in subjects_by_key.get(_norm(k), ()):
                subs.setdefault(id(s), s)
        refs = {_norm(v) for v in strings if v.strip()}
        for s in subs.values():
            refs |= {_norm(s.key), _norm(s.id), _norm(s.name)}
        for r in rels:
            refs |= {_norm(r.id), _norm(r.model), _norm(f"model/{r.model}")}
            if r.system:
                refs.add(_norm(r.system))
        picked: dict[int, Any] = {**subs, **{id(r): r for r in rels}}
        for ref in refs:
            for table in (approvals, reviews, events, alerts, incidents):
                for x in table.get(ref, ()):
                    picked.setdefault(id(x), x)
        sys_keys = {k for k in keys if k.startswith("ai_system/")}
        for e in bundle_events_by_system.get_many(sys_keys):
            picked.setdefault(id(e), e)
        handles: list[str] = list(always)
        for x in picked.values():
            _strings(x, handles)
        people = people_closure(handles)
        chosen = set(k for k in picked if k in pos.of)
        for pid in sorted(people):
            chosen.update(person_records(pid))
        return slice_line(chosen)


    def slice_line(chosen: Iterable[int]) -> bytes:
        per_file: dict[str, list[int]] = defaultdict(list)
        for k in chosen:
            rel, i = pos.of[k]
            per_file[rel].append(i)
        ranges: dict[str, list[list[int]]] = {}
        digest = hashlib.sha256()
        for rel in sorted(per_file):
            starts = offsets[rel]
            data = memoryview(files[rel])
            spans: list[list[int]] = []
            for i in sorted(set(per_file[rel])):
                a, b = starts[i], starts[i + 1]
                if spans and spans[-1][0] + spans[-1][1] == a:
                    spans[-1][1] += b - a
                else:
                    spans.append([a, b - a])
            for a, n in spans:
                digest.update(data[a:a + n])
            ranges[rel] = spans
        return (json.dumps({"ranges": ranges, "sha256": "sha256:" + digest.hexdigest()},
                           sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")

    slices: list[bytes] = []

    def add(line: bytes) -> int:
        slices.append(line)
        return len(slices) - 1

    # group releases: by AI system, else by model, else alone
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in store.releases():
        key = system_key(r) or f"model/{_norm(r.model)}"
        groups[key].append(r)
    # every model with a subject gets its system's slice (a gate of an unknown version)
    model_group: dict[str, str] = {}
    for m in store.subjects("model"):
        sysobj = store.system_of(m)
        model_group[_norm(m.id)] = sysobj.key if sysobj is not None else f"model/{_norm(m.id)}"
    for g in set(model_group.values()) - set(groups):
        groups[g] = []
    release_entries: dict[str, int] = {}
    group_entries: dict[str, int] = {}
    for g in sorted(groups):
        rels = list(groups[g])
        seed = {g} if g.startswith("ai_system/") else set()
        if g.startswith("ai_system/"):
            sysobj = store.subject(g)
            if sysobj is not None:
                seed |= {c.key for c in store.children(sysobj.id)}
        for r in rels:
            seed.add(f"model/{_norm(r.model)}")
        models = {k.split("/", 1)[1] for k in seed if k.startswith("model/")}
        rels = list({id(r): r for m in models for r in releases_by_model.get(m, ())
                     } .values()) + rels
        rels = list({id(r): r for r in rels}.values())
        entry = add(group_slice(seed, rels))
        group_entries[g] = entry
        for r in groups[g]:
            release_entries[_norm(r.id)] = entry
    model_entries = {m: group_entries[g] for m, g in sorted(model_group.items())}
    base = add(slice_line(set().union(*(person_records(p)
                                        for p in people_closure(always)))))
    return finish(slices, release_entries, model_entries, base)


# ---------------------------------------------------------------- gate: load


@dataclass
class IndexedSlice:
    """What the gate reads from an indexed snapshot: the slice's sources and org-wide facts."""

    sources: list[SourceRun]
    unmatched: list[tuple[str, str, list[str], list[str]]]


def _fail(where: str, code: str, message: str, hint: str = "") -> EvidenceError:
    return EvidenceError(Diagnostic(where, 0, 0, code, message, hint))


def _read_verified(folder: Path, rel: str, expected: str | None) -> bytes:
    path = folder / rel
    try:
        data = path.read_bytes()
    except OSError:
        raise _fail(str(path), "E382", "file removed: listed in the manifest but missing"
                    ) from None
    got = _sha(data)
    if got != expected:
        raise _fail(str(path), "E381", f"file changed: SHA-256 is {got}, the manifest "
                    f"records {expected}")
    return data


def index_reason(folder: Path, manifest: dict[str, Any], *, as_of: str, rules_digest: str,
                 config_digest: str, rules: list[CompiledRule]) -> tuple[dict[str, Any] | None,
                                                                         str]:
    """The verified index, or None and why the gate must load the whole snapshot."""
    listed = manifest.get("files") or {}
    if INDEX not in listed or SLICES not in listed:
        return None, "the snapshot has no gate index (pulled by an older aimscheck)"
    data = _read_verified(folder, INDEX, listed[INDEX])
    index = json.loads(data)
    if index.get("format") != FORMAT:
        return None, f"the gate index is of format {index.get('format')!r}, not {FORMAT!r}"
    if index.get("unusable"):
        return None, str(index["unusable"])
    if index.get("as_of") != as_of:
        return None, f"the gate's as-of {as_of} is not the snapshot's {index.get('as_of')}"
    if index.get("rule_pack_digest") != rules_digest:
        return None, "the rule packs changed since the snapshot was pulled"
    if index.get("config_digest") != config_digest:
        return None, "the config changed since the snapshot was pulled"
    unknown = gate_checks_known(rules)
    if unknown:
        return None, f"{unknown} is not built in: what it reads is not indexed"
    return index, ""


def load_release_slice(folder: Path, manifest: dict[str, Any], index: dict[str, Any],
                       model: str, version: str) -> IndexedSlice:
    """Read and verify the slice of ``model:version`` (or of its model, or the base).

    Raises:
        EvidenceError: a byte read does not match the SHA-256 that vouches for it (E381),
            or a record does not validate (E395).
    """
    listed = manifest.get("files") or {}
    table = index["slices"]
    numbers = [index.get("base")]
    hit = index["releases"].get(_norm(f"{model}:{version}"))
    numbers.append(hit if hit is not None else index["models"].get(_norm(model)))
    entries = [table[i] for i in numbers if i is not None]
    slices_path = folder / SLICES
    lines_of: dict[str, dict[int, bytes]] = defaultdict(dict)  # file → line start → bytes
    with slices_path.open("rb") as fh:
        for entry in entries:
            if not entry:
                continue
            start, length, sha = entry
            fh.seek(start)
            line = fh.read(length)
            if _sha(line) != sha:
                raise _fail(str(slices_path), "E381", "file changed: a gate-index slice does "
                            "not match the SHA-256 the index records",
                            "the snapshot was altered after it was pulled")
            sl = json.loads(line)
            digest = hashlib.sha256()
            read: list[tuple[str, int, bytes]] = []
            for rel in sorted(sl["ranges"]):
                if rel not in listed:
                    raise _fail(str(folder / rel), "E382", "the gate index names a file the "
                                "manifest does not list")
                with (folder / rel).open("rb") as rf:
                    for a, n in sl["ranges"][rel]:
                        rf.seek(a)
                        chunk = rf.read(n)
                        digest.update(chunk)
                        read.append((rel, a, chunk))
            if "sha256:" + digest.hexdigest() != sl["sha256"]:
                raise _fail(str(folder), "E381", "file changed: records a gate-index slice "
                            "selects do not match their SHA-256",
                            "the snapshot was altered after it was pulled")
            for rel, a, chunk in read:  # verified: split into lines at their file offsets
                for ln in chunk.split(b"\n"):
                    if ln.strip():
                        lines_of[rel][a] = ln
                    a += len(ln) + 1
    runs: list[SourceRun] = []
    diags: list[Diagnostic] = []
    from .run import SourceRun

    for src in manifest.get("sources", []):
        status, incomplete, part = source_header(src)
        for rel in src.get("records", []):
            kind = PurePosixPath(rel).stem
            if kind not in RECORD_TYPES:
                diags.append(Diagnostic(rel, 0, 0, "E395", f"unknown record kind {kind!r}"))
                continue
            attr, rmodel = RECORD_TYPES[kind]
            target: list[Any] = getattr(part, attr)
            # file order = collection order (the full load's order), de-duplicated
            got = lines_of.get(rel, {})
            for a in sorted(got):
                try:
                    target.append(rmodel.model_validate(json.loads(got[a])))
                except ValueError as exc:
                    diags.append(Diagnostic(rel, 0, 0, "E395", f"record does not validate: "
                                            f"{str(exc).splitlines()[0]}"))
        part.tag(str(src["status"].get("name", "")))
        started = parse_ts(str(src.get("started_at") or manifest["as_of"]))
        finished = parse_ts(str(src.get("finished_at") or manifest["as_of"]))
        runs.append(SourceRun(str(src["name"]), None, status, part, incomplete, started,
                              finished, 0.0))
    if diags:
        raise EvidenceError(diags)
    unmatched = [(str(s), str(k), list(loc), list(h)) for s, k, loc, h in index["unmatched"]]
    return IndexedSlice(runs, unmatched)


def uncovered(sources: list[SourceRun], handles: Iterable[str], records: Iterable[str]
              ) -> str | None:
    """The first waiver reference a slice cannot answer (a person or record outside it)."""
    keys: set[str] = set()
    ids: set[str] = set()
    for src in sources:
        b = src.bundle
        for p in b.people:
            keys.update(normalise_handle(h) for h in (p.id, *p.emails, *p.handles,
                                                      p.employee_number) if h and h.strip())
        for s in b.subjects:
            ids.update({_norm(s.id), _norm(s.key)})
        ids.update(_norm(x.id) for x in b.reviews)
        ids.update(_norm(x.id) for x in b.approvals)
    for h in handles:
        if h and h.strip() and normalise_handle(h) not in keys:
            return f"the waivers name {h!r}, who is outside the release's slice"
    for r in records:
        if r and r.strip() and _norm(r) not in ids:
            return f"the waivers name the record {r!r}, which is outside the release's slice"
    return None


def restore_unmatched(store: EvidenceStore, unmatched: list[tuple[str, str, list[str],
                                                                   list[str]]]) -> None:
    """Give a slice's store the org-wide records that name nobody (found at pull)."""
    from .store import Unmatched

    store.unmatched = {}
    for source, kind, locators, handles in unmatched:
        u = Unmatched(source, kind)
        u.locators.extend(locators)
        u.handles.extend(handles)
        store.unmatched[(source, kind)] = u

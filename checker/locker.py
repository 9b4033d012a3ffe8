"""The evidence locker: snapshots of collected evidence that can be verified and replayed.

A snapshot is a folder::

    manifest.json                      what, when, from where, and the SHA-256 of every file
    raw/<source>/<payload name>        every raw payload exactly as an adapter received it
    records/<source>/<kind>.jsonl      the normalised records, in collection order

``manifest.json`` lists the SHA-256 of every other file, the adapters (with versions),
each source's outcome and collection times, the rule-pack digest, and the digest of the
previous snapshot (``--previous``), so that snapshots form a hash chain. The digest of a
snapshot is the SHA-256 of its ``manifest.json``; scans of a snapshot carry it as
``evidence_digest``.

Secrets never reach a snapshot: adapters hand over response bodies only (never request
headers), and every payload is scrubbed of the values of secret-looking environment
variables (``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*KEY*`` …) and of every secret
registered with :func:`checker.errors.register_secret` before it is written.

With ``pseudonymise`` every individual's names, emails and handles are replaced, in the
raw payloads and in the records alike, by keyed HMAC-SHA256 tokens: the same handle always
gives the same token, so identity links (and so the rules' verdicts) are kept. The key is
read from the environment variable :data:`PSEUDONYM_KEY_ENV`; it is never written to the
snapshot (the manifest holds only a key id, an HMAC of a fixed text, to tell which key was
used).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, packages_distributions, version
from pathlib import Path, PurePosixPath
from typing import Any

from . import __version__
from .adapters import Adapter
from .config import Settings
from .errors import (  # _SECRETS: the values adapters registered, scrubbed from payloads
    _SECRETS,
    Diagnostic,
    EvidenceError,
    UsageError,
    redact,
    register_secret,
)
from .evidence import RECORD_TYPES, EvidenceBundle, Person
from .findings import SourceStatus
from .identity import normalise_handle
from .rules import find_pack, rule_files
from .run import RunOutcome, SourceRun
from .timeutil import format_ts, parse_ts

__all__ = [
    "FORMAT",
    "PSEUDONYM_KEY_ENV",
    "Pseudonymiser",
    "PullTarget",
    "Snapshot",
    "VerifyReport",
    "load_snapshot",
    "manifest_digest",
    "prepare_pull",
    "rule_pack_digest",
    "safe_rel",
    "verify",
    "write_snapshot",
]

FORMAT = "aimscheck-evidence-snapshot/1"
PSEUDONYM_KEY_ENV = "AIMSCHECK_PSEUDONYM_KEY"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig.json"  # checker.signing.SIGNATURE
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|PRIVATE|"
                          r"CREDENTIAL|AUTH|COOKIE|SESSION|_KEY$", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_digest(folder: Path) -> str:
    """The digest of a snapshot: ``sha256:`` + the SHA-256 of its manifest.json."""
    try:
        return "sha256:" + _sha256((folder / MANIFEST).read_bytes())
    except OSError as exc:
        raise EvidenceError(Diagnostic(str(folder), 0, 0, "E380",
                                       f"not an evidence snapshot: cannot read {MANIFEST} "
                                       f"({exc.strerror or exc})",
                                       "pass a folder written by 'aimscheck evidence pull'")
                            ) from None


def rule_pack_digest(packs: Iterable[str], base_dir: Path | None) -> str:
    """SHA-256 over the rule files of the packs (names and bytes), order-independent."""
    h = hashlib.sha256()
    for name in packs:
        folder, pack = find_pack(name, base_dir)
        for path in rule_files(folder):
            rel = path.relative_to(folder).as_posix()
            h.update(f"{pack}/{rel}\0{_sha256(path.read_bytes())}\n".encode())
    return "sha256:" + h.hexdigest()


def config_file_digest(path: Path) -> str:
    """``sha256:`` + the SHA-256 of a config file's bytes (what a gate index is valid for)."""
    try:
        return "sha256:" + _sha256(path.read_bytes())
    except OSError:
        return "sha256:-"


def _adapter_version(adapter: Adapter) -> str:
    explicit = getattr(adapter, "version", None)
    if isinstance(explicit, str):
        return explicit
    top = type(adapter).__module__.split(".")[0]
    for dist in packages_distributions().get(top, []):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "unknown"


def _safe_part(name: str) -> str:
    """A file-system-safe single path component."""
    cleaned = re.sub(r"[^\w.@+-]", "_", name).strip(".")
    return cleaned or "_"


def safe_rel(name: str) -> str:
    """A payload name as a safe relative path (no absolute paths, no '..')."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", "")]
    return "/".join(_safe_part(p) if p != ".." else "__" for p in parts) or "_"


# ---------------------------------------------------------------- secrets


def _secret_values() -> list[str]:
    values = {v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= 6}
    values |= {s for s in _SECRETS if len(s) >= 4}
    return sorted(values, key=len, reverse=True)


def _scrub(payload: bytes, secrets: list[str]) -> tuple[bytes, int]:
    """Remove every secret from a payload; return the bytes and how many went.

    Secret values (registered, or in secret-looking variables) become ``[REDACTED]``; in a
    text payload, credentials written into URLs (user-info, ``?password=``) are masked too.
    """
    n = 0
    for s in secrets:
        needle = s.encode()
        if needle in payload:
            n += payload.count(needle)
            payload = payload.replace(needle, b"[REDACTED]")
    if b"://" in payload or b"=" in payload:
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            return payload, n
        masked = redact(text)
        if masked != text:
            n += 1
            payload = masked.encode("utf-8")
    return payload, n


# ---------------------------------------------------------------- pseudonymisation


class Pseudonymiser:
    """Keyed, consistent pseudonyms for the individuals in a bundle.

    Every handle of an individual (id, emails, other handles, employee number) maps to
    ``pn-<hmac>`` (emails keep an email shape: ``pn-<hmac>@pseudonymised.invalid``), and
    every name to ``Person <hmac>``. Handles compare as the identity index compares them
    (case-insensitively, ``mailto:`` dropped), so links survive. Shared mailboxes, groups
    and service accounts are not personal data and keep their handles, so the rules that
    detect them give the same verdicts.
    """

    def __init__(self, key: bytes, shared_patterns: Iterable[str] = ()) -> None:
        self._key = key
        self._shared = [re.compile(p, re.IGNORECASE) for p in shared_patterns]
        self._handles: dict[str, str] = {}
        self._names: dict[str, str] = {}
        self._keep: set[str] = set()

    @property
    def key_id(self) -> str:
        """Which key was used, without revealing it."""
        return hmac.new(self._key, b"aimscheck-key-id", "sha256").hexdigest()[:16]

    def _mac(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), "sha256").hexdigest()[:16]

    def token(self, handle: str) -> str:
        """The pseudonym of a handle."""
        norm = normalise_handle(handle)
        mac = self._mac("h:" + norm)
        return f"pn-{mac}@pseudonymised.invalid" if "@" in norm else f"pn-{mac}"

    def name_token(self, name: str) -> str:
        """The pseudonym of a display name."""
        return f"Person {self._mac('n:' + name.strip().casefold())[:10]}"

    def _is_shared(self, email: str) -> bool:
        return any(p.search(email) for p in self._shared)

    def learn(self, people: Iterable[Person]) -> None:
        """Learn every individual's handles and names from the people records."""
        for p in people:
            extra = [p.employee_number] if p.employee_number else []
            keys = [p.id, *p.emails, *p.handles, *extra]
            if p.kind != "individual":
                self._keep.update(normalise_handle(k) for k in keys if k)
                continue
            for k in keys:
                if k and k.strip():
                    self._handles[normalise_handle(k)] = self.token(k)
            if p.name.strip():
                self._names[p.name.strip().casefold()] = self.name_token(p.name)
                for part in p.name.split():
                    if len(part) >= 3:
                        self._names.setdefault(part.casefold(), self.name_token(part))

    def value(self, text: str) -> str:
        """Pseudonymise one string value of a record."""
        norm = normalise_handle(text) if text.strip() else ""
        if norm in self._keep:
            return text
        if norm in self._handles:
            return self._handles[norm]
        if text.strip().casefold() in self._names:
            return self._names[text.strip().casefold()]
        return self.text(text)

    def text(self, text: str) -> str:
        """Pseudonymise free text: every email, then every known handle and name."""
        def email(m: re.Match[str]) -> str:
            e = m.group(0)
            if normalise_handle(e) in self._keep or self._is_shared(e):
                return e
            return self._handles.get(normalise_handle(e)) or self.token(e)

        out = _EMAIL.sub(email, text)
        table = {**{k: v for k, v in self._handles.items() if "@" not in k},
                 **self._names}
        if not table:
            return out
        words = sorted(table, key=len, reverse=True)
        pattern = re.compile(r"(?<![\w@.-])(" + "|".join(re.escape(w) for w in words)
                             + r")(?![\w@-])", re.IGNORECASE)
        return pattern.sub(lambda m: table[m.group(0).casefold()], out)

    def record(self, data: Any, *, key: str | None = None) -> Any:
        """Pseudonymise a record's JSON data (provenance is kept: it locates, not names)."""
        if key == "provenance":
            return data
        if isinstance(data, dict):
            return {k: self.record(v, key=k) for k, v in data.items()}
        if isinstance(data, list):
            return [self.record(v) for v in data]
        if isinstance(data, str):
            if key == "name":
                folded = data.strip().casefold()
                return self._names.get(folded, self.value(data))
            return self.value(data)
        return data


def _pseudonymiser_from_env(shared: Iterable[str]) -> Pseudonymiser:
    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if len(key) < 16:
        raise UsageError(Diagnostic(
            "--pseudonymise", 0, 0, "E386",
            f"the pseudonymisation key is {'too short' if key else 'not set'}: "
            f"{PSEUDONYM_KEY_ENV} must hold at least 16 characters",
            f"generate one (e.g. 'openssl rand -hex 32'), keep it in your secret store, "
            f"and export it as {PSEUDONYM_KEY_ENV}; use the same key for every snapshot "
            "so that pseudonyms stay comparable"))
    register_secret(key)
    return Pseudonymiser(key.encode(), shared)


# ---------------------------------------------------------------- pull


def _diag_dict(d: Diagnostic) -> dict[str, Any]:
    return {k: v for k, v in dataclasses.asdict(d).items()}


def source_header(src: dict[str, Any]
                  ) -> tuple[SourceStatus, dict[str, list[Diagnostic]], EvidenceBundle]:
    """A manifest source entry's status, incomplete kinds and (empty) bundle of its kinds.

    Shared by the full load below and the gate index's slice load.
    """
    status = SourceStatus.model_validate(src["status"])
    incomplete = {k: [Diagnostic(**d) for d in ds]
                  for k, ds in src.get("incomplete", {}).items()}
    return status, incomplete, EvidenceBundle(kinds=frozenset(src.get("bundle_kinds", [])))


def _record_lines(bundle: EvidenceBundle, pseudo: Pseudonymiser | None
                  ) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for kind, (attr, _) in RECORD_TYPES.items():
        lines = []
        for rec in getattr(bundle, attr):
            data = rec.model_dump(mode="json")
            if pseudo is not None:
                data = pseudo.record(data)
            lines.append(json.dumps(data, sort_keys=True, ensure_ascii=False,
                                    separators=(",", ":")))
        if lines:
            out[kind] = lines
    return out


@dataclass(frozen=True)
class PullTarget:
    """Where and how ``evidence pull`` writes, checked before any source is read."""

    out_dir: Path
    previous: dict[str, str] | None
    pseudonymiser: Pseudonymiser | None
    signer: Any = None  # an Ed25519 private key (checker.signing), or None: unsigned


def prepare_pull(out_dir: Path, *, previous: Path | None = None, pseudonymise: bool = False,
                 settings: Settings | None = None, sign_key: Path | None = None
                 ) -> PullTarget:
    """Check the output folder, the previous snapshot and the key before collecting.

    Raises:
        UsageError: the output folder is not empty, or the key is missing.
        EvidenceError: the previous snapshot cannot be read.
    """
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise UsageError(Diagnostic(str(out_dir), 0, 0, "E385",
                                    "output folder exists and is not empty",
                                    "snapshots are never overwritten: pick a new folder"))
    prev_info: dict[str, str] | None = None
    if previous is not None:
        rel = os.path.relpath(previous.resolve(), out_dir.resolve())
        prev_info = {"digest": manifest_digest(previous), "path": Path(rel).as_posix()}
    shared = (settings or Settings()).shared_mailbox_patterns
    pseudo = _pseudonymiser_from_env(shared) if pseudonymise else None
    signer = None
    if sign_key is not None:
        from .signing import load_private_key

        signer = load_private_key(sign_key)
    return PullTarget(out_dir, prev_info, pseudo, signer)


def write_snapshot(target: PullTarget, outcome: RunOutcome) -> tuple[dict[str, Any], str]:
    """Write what a run collected (``capture_raw``, ``read_all``) as a snapshot.

    The run is the one scan path: the record limit and every source's outcome are the
    scan's. Returns the manifest and the new snapshot's digest.
    """
    loaded = outcome.request.loaded
    cfg = outcome.config
    pseudo = target.pseudonymiser
    runs = outcome.collected.sources
    if pseudo is not None:
        pseudo.learn(outcome.collected.bundle.people)
    secrets = _secret_values()
    files: dict[str, bytes] = {}
    src_entries: list[dict[str, Any]] = []
    records_of: dict[tuple[str, str], str] = {}
    redactions = 0
    for src in runs:
        name = src.name
        folder = _safe_part(name)
        raw_names = []
        for pname, payload in sorted(src.payloads.items()):
            data, n = _scrub(payload, secrets)
            redactions += n
            if pseudo is not None:
                try:
                    data = pseudo.text(data.decode("utf-8")).encode("utf-8")
                except UnicodeDecodeError:
                    raise UsageError(Diagnostic(
                        f"{name}:{pname}", 0, 0, "E386",
                        "cannot pseudonymise a payload that is not UTF-8 text",
                        "pull this source without --pseudonymise, or convert its export "
                        "to UTF-8")) from None
            rel = f"raw/{folder}/{pname}"
            files[rel] = data
            raw_names.append(rel)
        rec_names = []
        for kind, lines in _record_lines(src.bundle, pseudo).items():
            rel = f"records/{folder}/{kind}.jsonl"
            text = "\n".join(lines) + "\n"
            data, n = _scrub(text.encode("utf-8"), secrets)
            redactions += n
            files[rel] = data
            rec_names.append(rel)
            records_of[(name, kind)] = rel
        src_entries.append({
            "name": name, "adapter": src.status.adapter,
            "adapter_version": _adapter_version(src.adapter) if src.adapter else "unknown",
            "status": src.status.model_dump(mode="json"),
            "bundle_kinds": sorted(src.bundle.kinds),
            "started_at": format_ts(src.started_at), "finished_at": format_ts(src.finished_at),
            "incomplete": {k: [_diag_dict(d) for d in ds]
                           for k, ds in sorted(src.incomplete.items())},
            "raw": raw_names, "records": rec_names,
        })
    packs_digest = rule_pack_digest(cfg.rule_packs, loaded.base_dir)
    from .gateindex import build_gate_index

    for rel, data in build_gate_index(
            outcome, files, records_of, as_of=outcome.result.as_of,
            rule_pack_digest=packs_digest, config_digest=config_file_digest(loaded.path),
            pseudonymise=pseudo.value if pseudo is not None else None).items():
        files[rel], n = _scrub(data, secrets)
        redactions += n
    executive = cfg.accountable_executive
    if pseudo is not None:
        executive = pseudo.value(executive)
    started = min((s.started_at for s in runs), default=datetime.now(UTC))
    finished = max((s.finished_at for s in runs), default=started)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tool_version": __version__,
        "organisation": cfg.organisation,
        "config": loaded.path.name,
        "as_of": outcome.result.as_of,
        "collected": {"started_at": format_ts(started), "finished_at": format_ts(finished)},
        "rule_packs": list(cfg.rule_packs),
        "rule_pack_digest": packs_digest,
        "previous": target.previous,
        "pseudonymised": ({"method": "hmac-sha256", "key_env": PSEUDONYM_KEY_ENV,
                           "key_id": pseudo.key_id} if pseudo is not None else None),
        "accountable_executive": executive,
        "redactions": redactions,
        "sources": src_entries,
        "files": {rel: "sha256:" + _sha256(data) for rel, data in sorted(files.items())},
    }
    out_dir = target.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    text = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    # the manifest names no secret either: diagnostics may quote a payload
    scrubbed, _ = _scrub(redact(text).encode("utf-8"), secrets)
    (out_dir / MANIFEST).write_bytes(scrubbed)
    if target.signer is not None:
        from .signing import sign_manifest

        sign_manifest(out_dir, manifest, target.signer)
    return manifest, manifest_digest(out_dir)


# ---------------------------------------------------------------- verify


@dataclass
class VerifyReport:
    """What ``evidence verify`` found, snapshot by snapshot along the chain."""

    problems: list[Diagnostic] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checked: list[tuple[Path, str, int]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing was tampered with."""
        return not self.problems


def _read_manifest(folder: Path) -> dict[str, Any]:
    digest = manifest_digest(folder)  # raises E380 when there is none
    try:
        data = json.loads((folder / MANIFEST).read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvidenceError(Diagnostic(str(folder / MANIFEST), 0, 0, "E380",
                                       f"manifest is not valid JSON: {exc}",
                                       "the snapshot is damaged")) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EvidenceError(Diagnostic(str(folder / MANIFEST), 0, 0, "E396",
                                       f"unsupported snapshot format {data.get('format')!r}"
                                       if isinstance(data, dict) else "manifest is not a "
                                       "JSON object", f"expected {FORMAT!r}"))
    del digest
    return data


def _verify_files(folder: Path, manifest: dict[str, Any], report: VerifyReport) -> None:
    listed: dict[str, str] = dict(manifest.get("files") or {})
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    present.discard(MANIFEST)
    present.discard(SIGNATURE)  # signs the manifest; checked with a public key
    for rel in sorted(listed):
        path = folder / rel
        if rel not in present:
            report.problems.append(Diagnostic(str(path), 0, 0, "E382",
                                              "file removed: listed in the manifest but "
                                              "missing"))
            continue
        got = "sha256:" + _sha256(path.read_bytes())
        if got != listed[rel]:
            report.problems.append(Diagnostic(str(path), 0, 0, "E381",
                                              f"file changed: SHA-256 is {got}, the "
                                              f"manifest records {listed[rel]}"))
    for rel in sorted(present - set(listed)):
        report.problems.append(Diagnostic(str(folder / rel), 0, 0, "E383",
                                          "file added: not listed in the manifest"))


def verify(folder: Path, previous: Path | None = None, *, depth: int = 1000,
           public_key: Path | None = None) -> VerifyReport:
    """Check a snapshot's files against its manifest, then follow the hash chain.

    Every snapshot along the chain is checked: each file's SHA-256 (changed), files listed
    but missing (removed), files present but not listed (added), and that the previous
    snapshot's manifest has the digest this one recorded (chain break). A previous
    snapshot that cannot be found is noted, not failed (it may be archived elsewhere);
    point at it with ``previous``.

    With ``public_key``, each snapshot's signature must verify under it (E397–E399): only
    then is a consistently edited snapshot (record changed, hash recomputed) detected.
    Without it, a signature present is noted as not checked.
    """
    from .signing import load_public_key, verify_signature

    key = load_public_key(public_key) if public_key is not None else None
    report = VerifyReport()
    current: Path | None = folder
    explicit = previous
    seen: set[Path] = set()
    while current is not None and depth > 0:
        depth -= 1
        resolved = current.resolve()
        if resolved in seen:
            report.problems.append(Diagnostic(str(current), 0, 0, "E384",
                                              "chain loops back to a snapshot already "
                                              "checked"))
            break
        seen.add(resolved)
        try:
            manifest = _read_manifest(current)
        except EvidenceError as exc:
            report.problems.extend(exc.diagnostics)
            break
        before = len(report.problems)
        if key is not None:
            report.problems.extend(verify_signature(current, key))
        elif (current / SIGNATURE).is_file():
            report.notes.append(f"{current}: signed, but the signature was not checked "
                                "(pass --public-key)")
        _verify_files(current, manifest, report)
        report.checked.append((current, manifest_digest(current),
                               len(report.problems) - before))
        prev = manifest.get("previous")
        if not prev:
            break
        candidate = explicit or (current / str(prev.get("path", ""))).resolve()
        explicit = None
        if not (candidate / MANIFEST).is_file():
            report.notes.append(f"{current}: previous snapshot {prev.get('path')} "
                                f"({prev.get('digest')}) not found; chain link not checked "
                                "(pass --previous DIR)")
            break
        actual = manifest_digest(candidate)
        if actual != prev.get("digest"):
            report.problems.append(Diagnostic(
                str(current / MANIFEST), 0, 0, "E384",
                f"chain break: the previous snapshot {candidate} has digest {actual}, but "
                f"this snapshot recorded {prev.get('digest')}",
                "the previous snapshot (or this manifest) was altered or replaced"))
        current = candidate
    return report


# ---------------------------------------------------------------- load (replay)


@dataclass
class Snapshot:
    """A verified snapshot loaded for an offline scan: its sources as the collect stage's."""

    folder: Path
    manifest: dict[str, Any]
    digest: str
    sources: list[SourceRun]
    #: Indexed gate: the org-wide records naming nobody, found at pull (else None: the
    #: store finds them in the records it loads).
    unmatched: list[tuple[str, str, list[str], list[str]]] | None = None


def load_snapshot(folder: Path, public_key: Path | None = None) -> Snapshot:
    """Verify a snapshot's own files (and signature) and load its records, source by source.

    Raises:
        EvidenceError: the snapshot was tampered with (E381–E383), its signature does not
            hold under ``public_key`` (E397–E399), or a record does not validate (E395). A
            tampered snapshot is never evaluated.
    """
    report = VerifyReport()
    manifest = _read_manifest(folder)
    if public_key is not None:
        from .signing import load_public_key, require_valid

        require_valid(folder, load_public_key(public_key))
    _verify_files(folder, manifest, report)
    if report.problems:
        raise EvidenceError(report.problems)
    runs: list[SourceRun] = []
    diags: list[Diagnostic] = []
    for src in manifest.get("sources", []):
        status, incomplete, part = source_header(src)
        for rel in src.get("records", []):
            kind = PurePosixPath(rel).stem
            if kind not in RECORD_TYPES:
                diags.append(Diagnostic(rel, 0, 0, "E395", f"unknown record kind {kind!r}"))
                continue
            attr, model = RECORD_TYPES[kind]
            target: list[Any] = getattr(part, attr)
            text = (folder / rel).read_text("utf-8")
            for i, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    target.append(model.model_validate(json.loads(line)))
                except ValueError as exc:
                    diags.append(Diagnostic(rel, i, 0, "E395",
                                            f"record does not validate: "
                                            f"{str(exc).splitlines()[0]}"))
        part.tag(str(src["status"].get("name", "")))
        started = parse_ts(str(src.get("started_at") or manifest["as_of"]))
        finished = parse_ts(str(src.get("finished_at") or manifest["as_of"]))
        runs.append(SourceRun(str(src["name"]), None, status, part, incomplete, started,
                              finished, 0.0))
    if diags:
        raise EvidenceError(diags)
    return Snapshot(folder, manifest, manifest_digest(folder), runs)


def load_snapshot_for_gate(folder: Path, public_key: Path | None, *, model: str, version: str,
                           as_of: str | None, rules_digest: str, config_digest: str,
                           rules: list[Any], notes: list[str],
                           waiver_people: Iterable[str] = (),
                           waiver_records: Iterable[str] = ()) -> Snapshot:
    """Load what the gate of ``model:version`` reads, through the snapshot's gate index.

    The manifest (and with ``public_key`` its signature) is checked first, exactly as for a
    full load; then :mod:`checker.gateindex` verifies and reads the release's slice. When
    the index cannot be used the whole snapshot is loaded (:func:`load_snapshot`) and a note
    says why. The people and records the waivers name (approvers, requesters, risk
    acceptances) must be in the slice too, else the whole snapshot is loaded.
    """
    from .gateindex import index_reason, load_release_slice, uncovered

    manifest = _read_manifest(folder)
    if public_key is not None:
        from .signing import load_public_key, require_valid

        require_valid(folder, load_public_key(public_key))
    index, why = index_reason(folder, manifest, as_of=as_of or str(manifest.get("as_of")),
                              rules_digest=rules_digest, config_digest=config_digest,
                              rules=rules)
    if index is None:
        notes.append(f"note: gate index not used ({why}); loading the whole snapshot")
        return load_snapshot(folder, public_key)
    got = load_release_slice(folder, manifest, index, model, version)
    outside = uncovered(got.sources, waiver_people, waiver_records)
    if outside:
        notes.append(f"note: gate index not used ({outside}); loading the whole snapshot")
        return load_snapshot(folder, public_key)
    n = sum(s.bundle.count() for s in got.sources)
    notes.append(f"note: gate index used: {n} of the snapshot's records read")
    return Snapshot(folder, manifest, manifest_digest(folder), got.sources, got.unmatched)


def snapshot_config_overrides(snapshot: Snapshot) -> dict[str, Any]:
    """Config values a replay must take from the snapshot (pseudonymised executive)."""
    if snapshot.manifest.get("pseudonymised"):
        return {"accountable_executive": snapshot.manifest["accountable_executive"]}
    return {}


# Kept for adapters written against the recorder hook: the signature they receive.
Recorder = Callable[[str, bytes], None]

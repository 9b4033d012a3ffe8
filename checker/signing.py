"""Signed evidence snapshots: an in-toto Statement in a DSSE envelope, signed with Ed25519.

A snapshot's ``manifest.json`` lists the SHA-256 of every other file, so a signature over
the manifest covers the whole snapshot. Without a signature those hashes prove only that
the files match the manifest: anyone who can write the folder can edit a record, recompute
its hash and rewrite the manifest. With ``evidence pull --sign-key KEY`` the puller signs
the manifest's digest; ``evidence verify --public-key PUB`` (and ``scan --evidence DIR
--public-key PUB``) then detect any edit, however consistent, unless the editor also holds
the private key.

The envelope (``manifest.sig.json``) follows DSSE v1: ``payloadType``
``application/vnd.in-toto+json``, ``payload`` the base64 of an in-toto Statement v1 whose
subject is ``manifest.json`` with its SHA-256, and one signature over
``PAE(payloadType, payload)`` with the key id (SHA-256 of the raw public key, 16 hex).
Keys are PEM files (PKCS#8 private, SubjectPublicKeyInfo public); a passphrase for the
private key is read from ``AIMSCHECK_SIGNING_KEY_PASSPHRASE`` when set.

Scan results are signed the same way (:func:`sign_result`, :func:`verify_result`):
``scan|report|gate --sign-key KEY -f json -o result.json`` writes ``result.json.sig.json``,
a DSSE envelope over an in-toto Statement whose subject is the JSON output's file name and
SHA-256 (predicate type :data:`RESULT_PREDICATE_TYPE`: organisation, as-of, exit code,
summary). ``aimscheck verify-result result.json --public-key PUB`` checks it: E405 not
signed, E406 the signature does not verify, E407 the result was changed after signing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import Diagnostic, EvidenceError, UsageError

__all__ = [
    "PAYLOAD_TYPE",
    "PREDICATE_TYPE",
    "RESULT_PREDICATE_TYPE",
    "SIGNATURE",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "result_signature_path",
    "sign_manifest",
    "sign_result",
    "verify_result",
    "verify_signature",
]

SIGNATURE = "manifest.sig.json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://aimscheck.dev/evidence-snapshot/v1"
RESULT_PREDICATE_TYPE = "https://aimscheck.dev/scan-result/v1"
PASSPHRASE_ENV = "AIMSCHECK_SIGNING_KEY_PASSPHRASE"


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def key_id(public: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, 16 hex digits: names a key without revealing much."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read(path: Path, what: str, option: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E006", f"cannot read the {what}: "
                                    f"{exc.strerror or exc}", f"pass a PEM file to {option}")
                         ) from None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (E006 when it is not one)."""
    data = _read(path, "signing key", "--sign-key")
    passphrase = os.environ.get(PASSPHRASE_ENV)
    try:
        key = serialization.load_pem_private_key(
            data, password=passphrase.encode() if passphrase else None)
    except (ValueError, TypeError) as exc:
        raise UsageError(Diagnostic(str(path), 0, 0, "E006", f"not a usable PEM private key "
                                    f"({type(exc).__name__})", "generate one with 'aimscheck "
                                    f"evidence keygen'; an encrypted key needs {PASSPHRASE_ENV}"
                                    )) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UsageError(Diagnostic(str(path), 0, 0, "E006", "the signing key is not Ed25519",
                                    "generate one with 'aimscheck evidence keygen'"))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (E006 when it is not one)."""
    data = _read(path, "public key", "--public-key")
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise UsageError(Diagnostic(str(path), 0, 0, "E006", "not a PEM public key",
                                    "pass the .pub.pem written by 'aimscheck evidence keygen'")
                         ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(Diagnostic(str(path), 0, 0, "E006", "the public key is not Ed25519",
                                    "pass the .pub.pem written by 'aimscheck evidence keygen'"))
    return key


def generate_keypair(private: Path, public: Path) -> str:
    """Write a new Ed25519 key pair (private 0600); return its key id."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub = key.public_key()
    public.write_bytes(pub.public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo))
    return key_id(pub)


def sign_manifest(folder: Path, manifest: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """Write ``manifest.sig.json`` for the snapshot in ``folder``; return the key id."""
    digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": "manifest.json", "digest": {"sha256": digest}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"format": manifest.get("format"),
                      "organisation": manifest.get("organisation"),
                      "as_of": manifest.get("as_of"),
                      "files": len(manifest.get("files") or {})},
    }
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    kid = key_id(key.public_key())
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": kid,
                        "sig": base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()}],
    }
    (folder / SIGNATURE).write_text(json.dumps(envelope, indent=2, sort_keys=True) + "\n",
                                    encoding="utf-8")
    return kid


def verify_signature(folder: Path, public: Ed25519PublicKey) -> list[Diagnostic]:
    """Problems with the snapshot's signature under ``public`` (empty: it holds).

    E397 not signed; E398 the envelope is damaged or the signature does not verify with
    this key; E399 the manifest was changed after it was signed.
    """
    where = str(folder / SIGNATURE)
    missing = Diagnostic(where, 0, 0, "E397", "the snapshot is not signed, but a public key "
                         "was given", "pull with --sign-key, or verify without --public-key "
                         "(which proves much less: see SECURITY.md)")
    opened = _open_envelope(folder / SIGNATURE, public, missing=missing, code="E398",
                            what="snapshot")
    if isinstance(opened, Diagnostic):
        return [opened]
    _, subject, signed = opened
    actual = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    if subject.get("name") != "manifest.json" or signed != actual:
        return [Diagnostic(str(folder / "manifest.json"), 0, 0, "E399",
                           f"the manifest was changed after it was signed (signed "
                           f"sha256:{signed}, now sha256:{actual})",
                           "the snapshot was edited: do not use it as evidence")]
    return []


def require_valid(folder: Path, public: Ed25519PublicKey) -> None:
    """Raise EvidenceError unless the snapshot's signature holds under ``public``."""
    problems = verify_signature(folder, public)
    if problems:
        raise EvidenceError(problems)


def _envelope(statement: dict[str, Any], key: Ed25519PrivateKey) -> str:
    """A DSSE envelope (JSON text) over ``statement``, signed with ``key``."""
    payload = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    envelope = {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(payload).decode(),
        "signatures": [{"keyid": key_id(key.public_key()),
                        "sig": base64.b64encode(key.sign(pae(PAYLOAD_TYPE, payload))).decode()}],
    }
    return json.dumps(envelope, indent=2, sort_keys=True) + "\n"


def result_signature_path(result: Path) -> Path:
    """Where the signature of a JSON scan result is written: ``<result>.sig.json``."""
    return result.with_name(result.name + ".sig.json")


def sign_result(result_json: str, name: str, key: Ed25519PrivateKey) -> str:
    """The DSSE envelope (JSON text) signing a scan result's JSON output.

    Args:
        result_json: The exact text written to the JSON output file.
        name: The output's file name (the Statement's subject).
        key: The signer's private key.
    """
    data = json.loads(result_json)
    digest = hashlib.sha256(result_json.encode("utf-8")).hexdigest()
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": RESULT_PREDICATE_TYPE,
        "predicate": {"organisation": data.get("organisation"), "as_of": data.get("as_of"),
                      "mode": data.get("mode"), "exit_code": data.get("exit_code"),
                      "summary": data.get("summary"), "tool_version": data.get("tool_version")},
    }
    return _envelope(statement, key)


def verify_result(result: Path, public: Ed25519PublicKey, signature: Path | None = None,
                  ) -> tuple[list[Diagnostic], dict[str, Any]]:
    """Problems with a scan result's signature (empty: it holds), and the signed predicate.

    E405 no signature; E406 the envelope is damaged, not a scan-result statement, or does
    not verify under ``public``; E407 the result file was changed after it was signed.
    """
    sig = signature or result_signature_path(result)
    missing = Diagnostic(str(sig), 0, 0, "E405", "the scan result is not signed (no signature "
                         "file)", "sign it with 'scan --sign-key KEY -f json -o FILE', or "
                         "pass --signature")
    opened = _open_envelope(sig, public, missing=missing, code="E406", what="result",
                            predicate_type=RESULT_PREDICATE_TYPE)
    if isinstance(opened, Diagnostic):
        return [opened], {}
    statement, _, signed = opened
    predicate = statement.get("predicate") or {}
    try:
        actual = hashlib.sha256(result.read_bytes()).hexdigest()
    except OSError as exc:
        return [Diagnostic(str(result), 0, 0, "E406", f"cannot read the result: "
                           f"{exc.strerror or exc}")], {}
    if signed != actual:
        return [Diagnostic(str(result), 0, 0, "E407",
                           f"the scan result was changed after it was signed (signed "
                           f"sha256:{signed}, now sha256:{actual})",
                           "do not trust this result: re-run the scan")], predicate
    # the subject's name is informational (a result may be renamed); its digest binds
    return [], predicate


def _open_envelope(path: Path, public: Ed25519PublicKey, *, missing: Diagnostic, code: str,
                   what: str, predicate_type: str | None = None
                   ) -> tuple[dict[str, Any], dict[str, Any], str] | Diagnostic:
    """The verified statement of the DSSE envelope at ``path``, or its one problem.

    Returns the in-toto statement, its first subject and that subject's signed sha256; or
    ``missing`` when there is no envelope, else a ``code`` diagnostic (unreadable,
    malformed, another key, does not verify, or not of ``predicate_type``). ``what`` names
    the signed thing in hints. Shared by snapshot and scan-result verification.
    """
    where = str(path)
    try:
        envelope = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return missing
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Diagnostic(where, 0, 0, code, f"signature envelope unreadable: {exc}")
    try:
        if envelope["payloadType"] != PAYLOAD_TYPE:
            raise ValueError(f"payloadType {envelope['payloadType']!r}")
        payload = base64.b64decode(envelope["payload"], validate=True)
        kid = key_id(public)
        sigs = [s for s in envelope["signatures"] if s.get("keyid") == kid]
        if not sigs:
            return Diagnostic(where, 0, 0, code, f"no signature by key {kid}",
                              f"the {what} was signed with another key (keys "
                              + ", ".join(str(s.get("keyid")) for s in envelope["signatures"])
                              + ")")
        public.verify(base64.b64decode(sigs[0]["sig"], validate=True),
                      pae(PAYLOAD_TYPE, payload))
        statement = json.loads(payload)
        if predicate_type is not None and statement.get("predicateType") != predicate_type:
            raise ValueError(f"predicateType {statement.get('predicateType')!r} is not a "
                             "scan result")
        subject = statement["subject"][0]
        signed = subject["digest"]["sha256"]
    except InvalidSignature:
        return Diagnostic(where, 0, 0, code, "the signature does not verify: the envelope "
                          "was altered or signed by another key")
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        return Diagnostic(where, 0, 0, code, f"signature envelope malformed ({exc})")
    return statement, subject, signed

"""Signed snapshots (issue 17): a consistent edit is caught with the public key, not without.

The unsigned mode checks hashes only: editing a record and recomputing its SHA-256 in the
manifest passes ``evidence verify``. With ``evidence pull --sign-key`` and ``--public-key``
on ``evidence verify`` and ``scan --evidence``, the same edit is E399; another key's
signature or a damaged envelope is E398; a missing signature under a key is E397. A
snapshot replayed under another organisation's config is refused (E387).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tests.conftest import AS_OF, Runner


@pytest.fixture
def keys(run_cli: Runner, tmp_path: Path) -> tuple[Path, Path]:
    priv, pub = tmp_path / "signing.pem", tmp_path / "signing.pub.pem"
    res = run_cli("evidence", "keygen", priv, pub)
    assert res.returncode == 0, res.stderr
    assert priv.stat().st_mode & 0o077 == 0  # the private key is not readable by others
    return priv, pub


@pytest.fixture
def signed(run_cli: Runner, demo_copy: Path, tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    out = tmp_path / "signed"
    res = run_cli("evidence", "pull", "-c", demo_copy, "-o", out, "--as-of", AS_OF,
                  "--sign-key", keys[0])
    assert res.returncode == 0, res.stderr
    env = json.loads((out / "manifest.sig.json").read_text("utf-8"))
    assert env["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(env["payload"]))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"][0]["digest"]["sha256"] == hashlib.sha256(
        (out / "manifest.json").read_bytes()).hexdigest()
    return out


def consistent_edit(snap: Path) -> None:
    """Change a record and recompute its hash in the manifest: hashes alone still agree."""
    rec = snap / "records" / "hr" / "person.jsonl"
    rec.write_text(rec.read_text("utf-8").replace('"active"', '"terminated"', 1), "utf-8")
    m = json.loads((snap / "manifest.json").read_text("utf-8"))
    m["files"]["records/hr/person.jsonl"] = "sha256:" + hashlib.sha256(
        rec.read_bytes()).hexdigest()
    (snap / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def test_signed_snapshot_verifies(run_cli: Runner, signed: Path,
                                  keys: tuple[Path, Path]) -> None:
    res = run_cli("evidence", "verify", signed, "--public-key", keys[1])
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok")
    unkeyed = run_cli("evidence", "verify", signed)
    assert unkeyed.returncode == 0
    assert "signature was not checked" in unkeyed.stderr


def test_consistent_edit_is_detected_only_with_the_key(run_cli: Runner, demo_copy: Path,
                                                       signed: Path,
                                                       keys: tuple[Path, Path]) -> None:
    consistent_edit(signed)
    # what the unsigned mode does NOT prove: the edit passes the hash check
    assert run_cli("evidence", "verify", signed).returncode == 0
    res = run_cli("evidence", "verify", signed, "--public-key", keys[1])
    assert res.returncode == 1
    assert " E399 " in res.stderr
    assert "manifest.json" in res.stderr
    scan = run_cli("scan", "-c", demo_copy, "--evidence", signed, "--public-key", keys[1])
    assert scan.returncode == 3, scan.stderr
    assert " E399 " in scan.stderr


def test_other_key_and_unsigned_are_refused(run_cli: Runner, demo_copy: Path, signed: Path,
                                            tmp_path: Path) -> None:
    other_priv, other_pub = tmp_path / "other.pem", tmp_path / "other.pub.pem"
    assert run_cli("evidence", "keygen", other_priv, other_pub).returncode == 0
    res = run_cli("evidence", "verify", signed, "--public-key", other_pub)
    assert res.returncode == 1
    assert " E398 " in res.stderr
    unsigned = tmp_path / "unsigned"
    assert run_cli("evidence", "pull", "-c", demo_copy, "-o", unsigned, "--as-of",
                   AS_OF).returncode == 0
    res = run_cli("scan", "-c", demo_copy, "--evidence", unsigned, "--public-key", other_pub)
    assert res.returncode == 3
    assert " E397 " in res.stderr


def test_forged_signature_is_refused(run_cli: Runner, signed: Path,
                                     keys: tuple[Path, Path]) -> None:
    """Re-signing the edited manifest's digest needs the private key: a forged statement
    (new digest, old signature) does not verify."""
    consistent_edit(signed)
    env_path = signed / "manifest.sig.json"
    env = json.loads(env_path.read_text("utf-8"))
    statement = json.loads(base64.b64decode(env["payload"]))
    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(
        (signed / "manifest.json").read_bytes()).hexdigest()
    env["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    env_path.write_text(json.dumps(env), "utf-8")
    res = run_cli("evidence", "verify", signed, "--public-key", keys[1])
    assert res.returncode == 1
    assert " E398 " in res.stderr


def test_snapshot_of_another_organisation_is_refused(run_cli: Runner, demo_copy: Path,
                                                     signed: Path) -> None:
    other = demo_copy.parent / "other.yaml"
    other.write_text(demo_copy.read_text("utf-8").replace(
        "organisation: Northwind Analytics GmbH", "organisation: Contoso AG"), "utf-8")
    res = run_cli("scan", "-c", other, "--evidence", signed)
    assert res.returncode == 2, res.stderr
    assert " E387 " in res.stderr
    assert "Northwind Analytics GmbH" in res.stderr


def test_public_key_without_evidence_is_a_usage_error(run_cli: Runner, demo_copy: Path,
                                                      keys: tuple[Path, Path]) -> None:
    res = run_cli("scan", "-c", demo_copy, "--public-key", keys[1])
    assert res.returncode == 2
    assert "--evidence" in res.stderr

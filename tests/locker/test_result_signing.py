"""Signed scan results (issue 17): `scan|report|gate --sign-key` and `verify-result`.

The JSON result is signed with the same DSSE/in-toto Ed25519 envelope as snapshots
(``checker.signing``). Editing one finding — however carefully, keeping valid JSON — is
E407; another key or a forged envelope is E406; no signature is E405.
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
    assert run_cli("evidence", "keygen", priv, pub).returncode == 0
    return priv, pub


@pytest.fixture
def signed(run_cli: Runner, demo_copy: Path, tmp_path: Path,
           keys: tuple[Path, Path]) -> Path:
    out = tmp_path / "result.json"
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o", out,
                  "--sign-key", keys[0])
    assert res.returncode == 1, res.stderr  # the demo has failing findings: still signed
    sig = out.with_name("result.json.sig.json")
    assert f"signed {out}" in res.stderr
    env = json.loads(sig.read_text("utf-8"))
    assert env["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(env["payload"]))
    assert statement["predicateType"] == "https://aimscheck.dev/scan-result/v1"
    assert statement["subject"][0] == {
        "name": "result.json",
        "digest": {"sha256": hashlib.sha256(out.read_bytes()).hexdigest()}}
    assert statement["predicate"]["exit_code"] == 1
    return out


def test_signed_result_verifies(run_cli: Runner, signed: Path, keys: tuple[Path, Path]
                                ) -> None:
    res = run_cli("verify-result", signed, "--public-key", keys[1])
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(f"ok {signed}: signed by key ")
    assert "exit code 1" in res.stdout


def test_one_edited_finding_is_detected(run_cli: Runner, signed: Path,
                                        keys: tuple[Path, Path]) -> None:
    data = json.loads(signed.read_text("utf-8"))
    victim = next(f for f in data["findings"] if f["status"] == "fail")
    victim["status"] = "pass"  # one finding, valid JSON, everything else untouched
    signed.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    res = run_cli("verify-result", signed, "--public-key", keys[1])
    assert res.returncode == 1
    assert "E407" in res.stderr
    assert "changed after it was signed" in res.stderr


def test_another_key_or_a_forged_envelope_is_refused(run_cli: Runner, signed: Path,
                                                     keys: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    other_priv, other_pub = tmp_path / "o.pem", tmp_path / "o.pub.pem"
    assert run_cli("evidence", "keygen", other_priv, other_pub).returncode == 0
    res = run_cli("verify-result", signed, "--public-key", other_pub)
    assert res.returncode == 1
    assert "E406" in res.stderr
    # an attacker edits the result and rewrites the statement's digest: the signature fails
    sig = signed.with_name("result.json.sig.json")
    signed.write_text(signed.read_text("utf-8").replace('"fail"', '"pass"', 1), "utf-8")
    env = json.loads(sig.read_text("utf-8"))
    st = json.loads(base64.b64decode(env["payload"]))
    st["subject"][0]["digest"]["sha256"] = hashlib.sha256(signed.read_bytes()).hexdigest()
    env["payload"] = base64.b64encode(json.dumps(st).encode()).decode()
    sig.write_text(json.dumps(env), "utf-8")
    res = run_cli("verify-result", signed, "--public-key", keys[1])
    assert res.returncode == 1
    assert "E406" in res.stderr
    assert "does not verify" in res.stderr


def test_unsigned_result_and_missing_json_output(run_cli: Runner, demo_copy: Path,
                                                 tmp_path: Path, keys: tuple[Path, Path]
                                                 ) -> None:
    out = tmp_path / "plain.json"
    run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o", out)
    res = run_cli("verify-result", out, "--public-key", keys[1])
    assert res.returncode == 1
    assert "E405" in res.stderr
    # --sign-key without a JSON file output: refused before anything is written
    txt = tmp_path / "out.txt"
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-o", txt, "--sign-key", keys[0])
    assert res.returncode == 2
    assert "E405" in res.stderr
    assert not txt.exists()
    # a public key is not a signing key
    res = run_cli("scan", "-c", demo_copy, "--as-of", AS_OF, "-f", "json", "-o", out,
                  "--sign-key", keys[1])
    assert res.returncode == 2
    assert "E006" in res.stderr


def test_report_signs_its_json_too(run_cli: Runner, demo_copy: Path, tmp_path: Path,
                                   keys: tuple[Path, Path]) -> None:
    out = tmp_path / "r.json"
    res = run_cli("report", "-c", demo_copy, "--as-of", AS_OF, "-f", "html", "-o",
                  tmp_path / "r.html", "-f", "json", "-o", out, "--sign-key", keys[0])
    assert res.returncode in (0, 1), res.stderr
    assert run_cli("verify-result", out, "--public-key", keys[1]).returncode == 0
    assert not (tmp_path / "r.html.sig.json").exists()  # only the JSON result is signed

"""Evidence locker: pull, verify (tampering, chain), offline replay, secrets, privacy."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from tests.conftest import AS_OF, Runner

CANARIES = {
    "JIRA_API_TOKEN": "canary-jira-7f3a9c1e5b",
    "MLFLOW_TRACKING_TOKEN": "canary-mlflow-2b8d4e6f0a",
    "SCIM_BEARER_TOKEN": "canary-scim-9e1c3a5b7d",
    "LRS_PASSWORD": "canary-lrs-4f6a8c0e2b",
}


def pull(run_cli: Runner, config: Path, out: Path, *extra: str | Path,
         env: dict[str, str] | None = None) -> str:
    res = run_cli("evidence", "pull", "-c", config, "-o", out, "--as-of", AS_OF, *extra,
                  env=env)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


@pytest.fixture
def snap(run_cli: Runner, demo_copy: Path, tmp_path: Path) -> Path:
    out = tmp_path / "snap1"
    digest = pull(run_cli, demo_copy, out, env=CANARIES)
    assert digest.startswith("sha256:")
    return out


def test_snapshot_layout_and_manifest(snap: Path) -> None:
    m = json.loads((snap / "manifest.json").read_text("utf-8"))
    assert m["format"] == "aimscheck-evidence-snapshot/1"
    assert m["rule_pack_digest"].startswith("sha256:")
    assert m["previous"] is None
    names = {s["name"]: s for s in m["sources"]}
    assert {"register", "hr", "lms"} <= set(names)
    assert names["hr"]["adapter"] == "hr_csv"
    assert names["hr"]["adapter_version"]
    assert names["hr"]["started_at"] <= names["hr"]["finished_at"]
    for rel in m["files"]:
        assert (snap / rel).is_file()
    # raw payloads are the files exactly as read
    demo = snap.parent / "demo"
    assert (snap / "raw/hr/hr/people.csv").read_bytes() == (demo / "hr/people.csv").read_bytes()
    assert (snap / "records/hr/person.jsonl").read_text("utf-8").count("\n") > 10


def test_verify_intact(run_cli: Runner, snap: Path) -> None:
    res = run_cli("evidence", "verify", snap)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ok")


@pytest.mark.parametrize("tamper", ["change", "delete", "add"])
def test_verify_detects_tampering(run_cli: Runner, snap: Path, tamper: str) -> None:
    target = snap / "records" / "hr" / "person.jsonl"
    if tamper == "change":
        target.write_text(target.read_text("utf-8").replace("Active", "Activ"), "utf-8")
        target.write_bytes(target.read_bytes() + b" ")
        code, word = "E381", "changed"
    elif tamper == "delete":
        target.unlink()
        code, word = "E382", "removed"
    else:
        target = snap / "raw" / "hr" / "extra.csv"
        target.write_text("id\n1\n", "utf-8")
        code, word = "E383", "added"
    res = run_cli("evidence", "verify", snap)
    assert res.returncode == 1
    assert code in res.stderr
    assert word in res.stderr
    assert target.name in res.stderr
    assert "TAMPERED" in res.stdout


def test_chain_and_chain_break(run_cli: Runner, demo_copy: Path, snap: Path,
                               tmp_path: Path) -> None:
    first = run_cli("evidence", "verify", snap).stdout.split()[2]
    second = tmp_path / "snap2"
    pull(run_cli, demo_copy, second, "--previous", snap)
    m = json.loads((second / "manifest.json").read_text("utf-8"))
    assert m["previous"]["digest"] == first
    ok = run_cli("evidence", "verify", second)
    assert ok.returncode == 0, ok.stderr
    assert len(ok.stdout.strip().splitlines()) == 2  # both links checked
    # rewrite the first snapshot consistently (file + its manifest hash): only the chain shows it
    rec = snap / "records" / "register" / "subject.jsonl"
    rec.write_bytes(rec.read_bytes() + b"\n")
    m1 = json.loads((snap / "manifest.json").read_text("utf-8"))
    m1["files"]["records/register/subject.jsonl"] = "sha256:" + hashlib.sha256(
        rec.read_bytes()).hexdigest()
    (snap / "manifest.json").write_text(json.dumps(m1, indent=2, sort_keys=True) + "\n")
    assert run_cli("evidence", "verify", snap).returncode == 0  # alone it looks intact
    broken = run_cli("evidence", "verify", second)
    assert broken.returncode == 1
    assert "E384" in broken.stderr
    assert "chain break" in broken.stderr


def test_replay_is_byte_identical_and_carries_digest(run_cli: Runner, demo_copy: Path,
                                                     snap: Path, tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"replay{i}.json"
        res = run_cli("scan", "-c", demo_copy, "--evidence", snap, "--as-of", AS_OF,
                      "-f", "json", "-o", out)
        assert res.returncode == 1, res.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    data = json.loads(outs[0])
    digest = run_cli("evidence", "verify", snap).stdout.split()[2]
    assert data["evidence_digest"] == digest
    # the snapshot is the evidence: changing the live files afterwards changes nothing
    (demo_copy.parent / "hr" / "people.csv").write_text("garbage\n", "utf-8")
    again = tmp_path / "replay-after.json"
    run_cli("scan", "-c", demo_copy, "--evidence", snap, "--as-of", AS_OF, "-f", "json",
            "-o", again)
    assert again.read_bytes() == outs[0]
    # a later as-of replays the same evidence into the future
    later = run_cli("scan", "-c", demo_copy, "--evidence", snap, "--as-of", "2027-06-30",
                    "-f", "json")
    assert json.loads(later.stdout)["as_of"].startswith("2027-06-30")


def test_tampered_snapshot_is_never_scanned(run_cli: Runner, demo_copy: Path,
                                            snap: Path) -> None:
    (snap / "records" / "hr" / "person.jsonl").write_text("{}\n", "utf-8")
    res = run_cli("scan", "-c", demo_copy, "--evidence", snap, "--as-of", AS_OF)
    assert res.returncode == 3
    assert "E381" in res.stderr


def test_no_secret_in_snapshot(snap: Path, tmp_path: Path, run_cli: Runner,
                               demo_copy: Path) -> None:
    # a payload that echoes a token back (as a misbehaving API might) is scrubbed too
    leaky = demo_copy.parent / "evidence" / "events.jsonl"
    leaky.write_text(leaky.read_text("utf-8").replace(
        '"type"', f'"note": "token {CANARIES["JIRA_API_TOKEN"]}", "type"', 1), "utf-8")
    out = tmp_path / "leaky"
    run_cli("evidence", "pull", "-c", demo_copy, "-o", out, "--as-of", AS_OF, env=CANARIES)
    for folder in (snap, out):
        for path in folder.rglob("*"):
            if path.is_file():
                blob = path.read_bytes()
                for value in CANARIES.values():
                    assert value.encode() not in blob, f"{value} leaked into {path}"
    assert json.loads((out / "manifest.json").read_text("utf-8"))["redactions"] >= 1


def test_pseudonymised_snapshot_keeps_verdicts(run_cli: Runner, demo_copy: Path, snap: Path,
                                               tmp_path: Path) -> None:
    env = {"AIMSCHECK_PSEUDONYM_KEY": "test-key-0123456789abcdef"}
    assert run_cli("evidence", "pull", "-c", demo_copy, "-o", tmp_path / "nokey",
                   "--pseudonymise").returncode == 2  # no key, no snapshot
    ps = tmp_path / "pseudo"
    pull(run_cli, demo_copy, ps, "--pseudonymise", env=env)
    for rel in ("raw/hr/hr/people.csv", "raw/lms/training/completions.csv",
                "records/hr/person.jsonl", "records/lms/training.jsonl",
                "records/register/subject.jsonl"):
        text = (ps / rel).read_text("utf-8")
        assert "daniel.okafor@northwind.example" not in text.lower(), rel
        assert "Okafor" not in text, rel
    plain = json.loads(run_cli("scan", "-c", demo_copy, "--evidence", snap, "--as-of", AS_OF,
                               "-f", "json").stdout)
    res = run_cli("scan", "-c", demo_copy, "--evidence", ps, "--as-of", AS_OF, "-f", "json")
    assert res.returncode == plain["exit_code"], res.stderr
    pseudo = json.loads(res.stdout)

    def verdicts(d: dict) -> list[tuple[str, str, str, str]]:  # type: ignore[type-arg]
        return sorted((f["rule_id"], f["target_kind"], f["target_id"], f["status"])
                      for f in d["findings"] if f["target_kind"] != "person")

    assert verdicts(pseudo) == verdicts(plain)
    assert "Okafor" not in res.stdout
    # same key, same pseudonyms: two snapshots stay comparable
    ps2 = tmp_path / "pseudo2"
    pull(run_cli, demo_copy, ps2, "--pseudonymise", env=env)
    def ids(folder: Path) -> list[tuple[str, str]]:
        lines = (folder / "records/hr/person.jsonl").read_text("utf-8").splitlines()
        return [(json.loads(x)["id"], json.loads(x)["name"]) for x in lines]

    assert ids(ps2) == ids(ps)


def test_output_folder_is_never_overwritten(run_cli: Runner, demo_copy: Path,
                                            snap: Path) -> None:
    res = run_cli("evidence", "pull", "-c", demo_copy, "-o", snap)
    assert res.returncode == 2
    assert "E385" in res.stderr
    shutil.rmtree(snap / "raw")
    assert run_cli("evidence", "verify", snap).returncode == 1

"""The gate index of a snapshot (issue 18): the indexed gate equals the full-load gate.

``evidence pull`` writes index/gate.json and index/slices.jsonl; ``gate release --evidence``
reads only the release's slice. Each test compares it with the full load of the same
snapshot (forced by a byte-different copy of the config, which the index refuses: "the
config changed") on verdict, findings, summary and gate info, and checks the fail-closed
paths: signatures (E398/E399), edited bytes (E381), incomplete sources (exit 3),
duplicate release records (index not used: only the full load reports E332), waivers, and
an as-of or config the index was not built for.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.bench.test_generator import _load
from tests.conftest import AS_OF, DEMO, Runner, aimscheck_exe

USED = "note: gate index used"
NOT_USED = "note: gate index not used"
WAIVERS = """\
version: 1
waivers:
  - id: WVR-ONE
    rule: AIMS-OWN-003
    subject: ai_system/churn-predictor
    reason: The ML platform team hands the system to a named owner in December.
    requested_by: jonas.becker@northwind.example
    approved_by: {approver}
    start: 2026-11-20
    expiry: 2026-12-15
    risk_acceptance: RSK-010
"""


class Org:
    """A copy of an organisation, its snapshot, and a config copy that forces a full load."""

    def __init__(self, root: Path, config: Path, run: Runner, *extra: str | Path) -> None:
        self.config = config
        self.full = config.with_name("aimscheck-full.yaml")
        self.full.write_text(config.read_text("utf-8") + "\n# full load\n", "utf-8")
        self.snap = root / "snap"
        self.run = run
        self.pulled = run("evidence", "pull", "-c", config, "--as-of", AS_OF, "-o", self.snap,
                          *extra)
        assert self.pulled.stdout.startswith("sha256:"), self.pulled.stderr

    def gate(self, model: str, version: str, *extra: str | Path, full: bool = False,
             snap: Path | None = None) -> tuple[int, dict[str, Any], str]:
        res = self.run("gate", "release", "-c", self.full if full else self.config,
                       "--evidence", snap or self.snap, "--model", model, "--version",
                       version, "-f", "json", *extra)
        doc = json.loads(res.stdout) if res.stdout.strip() else {}
        return res.returncode, doc, res.stderr


def _same(indexed: tuple[int, dict[str, Any], str], full: tuple[int, dict[str, Any], str]
          ) -> None:
    code, doc, err = indexed
    fcode, fdoc, ferr = full
    assert USED in err, err
    assert f"{NOT_USED} (the config changed" in ferr, ferr
    assert code == fcode, (err, ferr)
    for key in ("findings", "summary", "gate", "exit_code", "sources", "unmatched",
                "evidence_digest"):
        assert doc[key] == fdoc[key], key


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Org:
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(DEMO, root / "demo")
    return Org(root, root / "demo" / "aimscheck.yaml", _runner())


def _runner() -> Runner:
    import os
    import subprocess

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([aimscheck_exe(), *map(str, args)], capture_output=True,
                              text=True, env={**os.environ, "CI": "true"}, timeout=600,
                              check=False)

    return run


@pytest.mark.parametrize(("model", "version"), [
    ("credit-risk-scorer", "12"), ("credit-risk-scorer", "13"), ("churn-xgb", "5"),
    ("fraud-gbm", "7"), ("churn-xgb", "99"), ("no-such-model", "1")])
def test_indexed_gate_equals_the_full_load_on_the_demo(demo: Org, model: str,
                                                       version: str) -> None:
    indexed = demo.gate(model, version)
    _same(indexed, demo.gate(model, version, full=True))
    if model == "no-such-model":
        assert indexed[0] == 3
        assert any(f["rule_id"] == "AIMS-GATE-000" for f in indexed[1]["findings"])
    if (model, version) == ("credit-risk-scorer", "13"):
        assert indexed[0] == 1  # blocked


def test_the_slice_is_a_small_part_of_the_snapshot(demo: Org) -> None:
    _, _, err = demo.gate("fraud-gbm", "7")
    read = int(err.split(USED + ": ", 1)[1].split()[0])
    manifest = json.loads((demo.snap / "manifest.json").read_text("utf-8"))
    total = sum(s["status"]["records"] for s in manifest["sources"])
    assert 0 < read < total


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Org, dict[str, Any]]:
    generate = _load("generate")
    root = tmp_path_factory.mktemp("gen")
    generate.generate(400, root / "org")
    planted = json.loads((root / "org" / "planted.json").read_text("utf-8"))
    return Org(root, root / "org" / "aimscheck.yaml", _runner()), planted


def test_indexed_gate_equals_the_full_load_on_a_generated_organisation(
        generated: tuple[Org, dict[str, Any]]) -> None:
    org, planted = generated
    blocked = sorted(planted["release_approved"])[:2]
    releases = [r.split(":") for r in blocked]
    rows = (org.snap / "records" / "releases" / "release.jsonl").read_text().splitlines()
    for line in rows[:60:20]:
        rec = json.loads(line)
        releases.append([rec["model"], rec["version"]])
    releases.append(["model-999999", "1"])
    codes = set()
    for model, version in releases:
        indexed = org.gate(model, version)
        _same(indexed, org.gate(model, version, full=True))
        codes.add(indexed[0])
    assert 1 in codes  # the planted unapproved releases block
    assert 3 in codes  # the unknown model


def test_a_signed_snapshot_is_checked_before_the_index_is_read(
        run_cli: Runner, demo: Org, tmp_path: Path) -> None:
    priv, pub = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    other, other_pub = tmp_path / "o.pem", tmp_path / "o.pub.pem"
    assert run_cli("evidence", "keygen", priv, pub).returncode == 0
    assert run_cli("evidence", "keygen", other, other_pub).returncode == 0
    snap = tmp_path / "signed"
    res = run_cli("evidence", "pull", "-c", demo.config, "--as-of", AS_OF, "-o", snap,
                  "--sign-key", priv)
    assert res.returncode == 0, res.stderr
    good = demo.gate("churn-xgb", "5", "--public-key", pub, snap=snap)
    _same(good, demo.gate("churn-xgb", "5", "--public-key", pub, snap=snap, full=True))
    code, _, err = demo.gate("churn-xgb", "5", "--public-key", other_pub, snap=snap)
    assert code == 3
    assert "E398" in err
    # a consistent edit of a record the slice reads (hash recomputed in the manifest)
    rec = snap / "records" / "hr" / "person.jsonl"
    rec.write_text(rec.read_text("utf-8").replace('"active"', '"terminated"'), "utf-8")
    m = json.loads((snap / "manifest.json").read_text("utf-8"))
    m["files"]["records/hr/person.jsonl"] = "sha256:" + hashlib.sha256(
        rec.read_bytes()).hexdigest()
    (snap / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
    code, _, err = demo.gate("churn-xgb", "5", "--public-key", pub, snap=snap)
    assert code == 3
    assert "E399" in err
    # without the key the edited bytes no longer match the index's slice hash
    code, _, err = demo.gate("churn-xgb", "5", snap=snap)
    assert code == 3
    assert "E381" in err


def test_edited_index_or_records_fail_closed(demo: Org, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(demo.snap, snap)
    index = snap / "index" / "gate.json"
    index.write_text(index.read_text("utf-8").replace('"releases"', '"releases" ', 1))
    code, _, err = demo.gate("churn-xgb", "5", snap=snap)
    assert (code, "E381" in err) == (3, True), err
    shutil.rmtree(snap)
    shutil.copytree(demo.snap, snap)
    rec = snap / "records" / "approvals" / "approval.jsonl"
    rec.write_text(rec.read_text("utf-8").replace("approved", "rejected"), "utf-8")
    code, _, err = demo.gate("credit-risk-scorer", "12", snap=snap)
    assert (code, "E381" in err) == (3, True), err


def test_an_incomplete_source_fails_the_indexed_gate(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    cfg = tmp_path / "demo" / "aimscheck.yaml"
    (tmp_path / "demo" / "training").joinpath("completions.csv").write_text(
        "not,a,valid\nfile\n", "utf-8")
    org = Org(tmp_path, cfg, _runner())
    assert org.pulled.returncode == 3
    indexed = org.gate("churn-xgb", "5")
    _same(indexed, org.gate("churn-xgb", "5", full=True))
    assert indexed[0] == 3
    assert indexed[1]["summary"]["error"] > 0


def test_duplicate_release_records_are_reported_by_the_full_load(tmp_path: Path) -> None:
    shutil.copytree(DEMO, tmp_path / "demo")
    cfg = tmp_path / "demo" / "aimscheck.yaml"
    first = (tmp_path / "demo" / "evidence" / "releases.jsonl").read_text().splitlines()[1]
    (tmp_path / "demo" / "evidence" / "releases-ci.jsonl").write_text(first + "\n", "utf-8")
    with cfg.open("a", encoding="utf-8") as fh:
        fh.write("\n  - adapter: jsonl\n    name: releases-ci\n"
                 "    path: evidence/releases-ci.jsonl\n    kind: release\n")
    org = Org(tmp_path, cfg, _runner())
    code, _, err = org.gate("credit-risk-scorer", "12")
    assert code == 3
    assert f"{NOT_USED} (the pull found 1 org-wide merge problem" in err
    assert "E332" in err


def test_waivers_apply_alike_and_outside_people_load_everything(demo: Org,
                                                                tmp_path: Path) -> None:
    inside = tmp_path / "waivers.yaml"
    inside.write_text(WAIVERS.format(approver="arjun.mehta@northwind.example"), "utf-8")
    indexed = demo.gate("churn-xgb", "5", "--waivers", inside)
    _same(indexed, demo.gate("churn-xgb", "5", "--waivers", inside, full=True))
    statuses = {(f["rule_id"], f["target_id"]): f["status"] for f in indexed[1]["findings"]}
    assert statuses[("AIMS-OWN-003", "churn-predictor")] == "waived"
    outside = tmp_path / "outside.yaml"
    outside.write_text(WAIVERS.format(approver="nobody.known@northwind.example"), "utf-8")
    code, doc, err = demo.gate("churn-xgb", "5", "--waivers", outside)
    assert "outside the release's slice" in err
    full = demo.gate("churn-xgb", "5", "--waivers", outside, full=True)
    assert (code, doc["findings"]) == (full[0], full[1]["findings"])


def test_another_as_of_loads_the_whole_snapshot(demo: Org) -> None:
    code, doc, err = demo.gate("churn-xgb", "5", "--as-of", "2026-11-29")
    assert f"{NOT_USED} (the gate's as-of 2026-11-29T00:00:00Z is not the snapshot's" in err
    assert doc["as_of"].startswith("2026-11-29")
    assert code in (0, 1, 3)


def test_a_name_two_systems_share_resolves_to_nobody_in_the_slice_too(tmp_path: Path) -> None:
    # The release names its system by a name two AI systems share: the full store cannot
    # resolve it (no system, so the release's scope is just the release and its model);
    # the slice must hold both systems, or it would resolve to the one it holds.
    shutil.copytree(DEMO, tmp_path / "demo")
    cfg = tmp_path / "demo" / "aimscheck.yaml"
    reg = tmp_path / "demo" / "register.yaml"
    reg.write_text(reg.read_text("utf-8").replace("ai_systems:\n", (
        "ai_systems:\n  - id: credit-scoring-eu\n    name: Consumer credit scoring\n"
        "    risk_tier: high\n    lifecycle: production\n    in_scope: true\n"
        "    owners: {primary: wei.chen@northwind.example}\n"), 1), "utf-8")
    rel = tmp_path / "demo" / "evidence" / "releases.jsonl"
    rel.write_text(rel.read_text("utf-8").replace(
        '"version": "12", "system": "credit-scoring"',
        '"version": "12", "system": "Consumer credit scoring"'), "utf-8")
    org = Org(tmp_path, cfg, _runner())
    indexed = org.gate("credit-risk-scorer", "12")
    _same(indexed, org.gate("credit-risk-scorer", "12", full=True))
    assert "system" not in indexed[1]["gate"]


def test_escalation_to_a_named_person_reaches_the_slice(tmp_path: Path) -> None:
    # the ladder names someone no record of the release's system names: the slice holds them
    shutil.copytree(DEMO, tmp_path / "demo")
    cfg = tmp_path / "demo" / "aimscheck.yaml"
    with cfg.open("a", encoding="utf-8") as fh:
        fh.write("\nescalation:\n  - {after_days: 1, to: mei.tanaka@northwind.example}\n")
    history = f"sqlite:///{(tmp_path / 'h.sqlite').as_posix()}"
    run = _runner()
    old = run("scan", "-c", cfg, "--as-of", "2026-11-01", "--record", "--history-url",
              history, "-q", "-f", "json", "-o", tmp_path / "old.json")
    assert old.returncode in (1, 3), old.stderr
    org = Org(tmp_path, cfg, run)
    indexed = org.gate("churn-xgb", "5", "--history-url", history)
    _same(indexed, org.gate("churn-xgb", "5", "--history-url", history, full=True))
    escalated = {f["escalated_to"]["email"] for f in indexed[1]["findings"]
                 if f.get("escalated_to")}
    assert escalated == {"mei.tanaka@northwind.example"}


def test_a_pseudonymised_snapshot_gates_alike(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMSCHECK_PSEUDONYM_KEY", "k" * 32)
    shutil.copytree(DEMO, tmp_path / "demo")
    org = Org(tmp_path, tmp_path / "demo" / "aimscheck.yaml", _runner(), "--pseudonymise")
    assert "northwind.example" not in (org.snap / "index" / "gate.json").read_text("utf-8")
    for model, version in (("credit-risk-scorer", "13"), ("churn-xgb", "5")):
        _same(org.gate(model, version), org.gate(model, version, full=True))

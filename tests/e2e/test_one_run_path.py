"""One run path (issue 13): every command gives the same verdict for the same request.

Every command that evaluates — scan, report, gate release, matrix, owners, evidence pull
(+ scan --evidence) and the history (scan/report/gate --record, then history/diff) — is run
on the demo under each variant: the config's waivers, a record limit, history recording and
a snapshot. Within a variant the findings' statuses are the same everywhere and so is the
exit code: scan, report and gate exit alike; the exports (matrix, owners, evidence pull) exit
3 exactly when the scan does, else 0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AS_OF, DEMO, REPO, Runner, aimscheck_exe

GATE = ("churn-xgb", "5")
PERSON = "jonas.becker@northwind.example"
WAIVED = ("AIMS-OWN-003", "ai_system/churn-predictor")
WAIVERS = """\
version: 1
waivers:
  - id: WVR-ONE
    rule: AIMS-OWN-003
    subject: ai_system/churn-predictor
    reason: The ML platform team hands the system to a named owner in December.
    requested_by: jonas.becker@northwind.example
    approved_by: arjun.mehta@northwind.example
    start: 2026-11-20
    expiry: 2026-12-15
    risk_acceptance: RSK-010
"""
VARIANTS = ("plain", "waivers", "record_limit", "history", "snapshot")
COMMANDS = ("scan", "report", "gate", "matrix", "owners", "pull")

Statuses = dict[tuple[str, str], str]


def _cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": "true"}
    return subprocess.run([aimscheck_exe(), *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, env=env, timeout=300, check=False)


def _statuses(doc: dict[str, Any]) -> Statuses:
    return {(f["rule_id"], f"{f['target_kind']}/{f['target_id']}"): f["status"]
            for f in doc["findings"]}


class Variant:
    """A copy of the demo set up for one variant, and the arguments every command gets."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root
        shutil.copytree(DEMO, root / "demo")
        self.config = root / "demo" / "aimscheck.yaml"
        self.history = f"sqlite:///{(root / 'history.sqlite').as_posix()}"
        self.extra: list[str | Path] = []
        text = self.config.read_text("utf-8")
        if name == "waivers":
            (root / "demo" / "waivers.yaml").write_text(WAIVERS, "utf-8")
            text += "\nwaivers: waivers.yaml\n"
        if name == "record_limit":
            text = text.replace("settings:\n", "settings:\n  max_records_per_source: 6\n", 1)
        self.config.write_text(text, "utf-8")
        if name == "snapshot":
            self.snapshot = root / "snap"
            pulled = _cli("evidence", "pull", "-c", self.config, "--as-of", AS_OF,
                          "-o", self.snapshot)
            assert pulled.returncode == 0, pulled.stderr
            self.pull_code = pulled.returncode
            self.extra = ["--evidence", self.snapshot]
        ref = self.run("scan", "-f", "json")
        self.scan_code = ref.returncode
        self.scan: dict[str, Any] = json.loads(ref.stdout)
        self.statuses = _statuses(self.scan)

    def run(self, *args: str | Path, record: bool = False) -> subprocess.CompletedProcess[str]:
        """A command of this variant (with --record into the variant's history when asked)."""
        more: list[str | Path] = (["--record", "--history-url", self.history]
                                  if record else [])
        head, rest = (args[:2], args[2:]) if args[0] in ("gate", "evidence") else (
            args[:1], args[1:])
        return _cli(*head, "-c", self.config, "--as-of", AS_OF, *self.extra, *more, *rest)

    @property
    def export_code(self) -> int:
        return 3 if self.scan_code == 3 else 0


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Variant]:
    return {v: Variant(v, tmp_path_factory.mktemp(v)) for v in VARIANTS}


def test_the_variants_mean_what_they_say(variants: dict[str, Variant]) -> None:
    plain, waivers = variants["plain"], variants["waivers"]
    assert plain.scan_code == 1
    assert plain.statuses[WAIVED] == "fail"
    assert waivers.statuses[WAIVED] == "waived"
    assert variants["record_limit"].scan_code == 3
    assert any(s["status"] == "error" and "E313" in " ".join(s["diagnostics"])
               for s in variants["record_limit"].scan["sources"])
    assert variants["snapshot"].statuses == plain.statuses
    assert variants["snapshot"].scan["evidence_digest"]


def _same_as_scan(v: Variant, got: Statuses, *, subjects_only: bool = False) -> None:
    assert got, "no findings to compare"
    for key, status in got.items():
        if subjects_only and key[1].startswith("release/"):
            continue  # a gate treats its release as going to production now
        assert v.statuses.get(key) == status, (v.name, key, status, v.statuses.get(key))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_command_gives_the_scans_verdict(variants: dict[str, Variant], variant: str,
                                               command: str, tmp_path: Path) -> None:
    v = variants[variant]
    record = variant == "history" and command in ("scan", "report", "gate")
    if command in ("scan", "report"):
        res = v.run(command, "-f", "json", record=record)
        assert res.returncode == v.scan_code, res.stderr
        doc = json.loads(res.stdout)
        assert _statuses(doc) == v.statuses
    elif command == "gate":
        res = v.run("gate", "release", "--model", GATE[0], "--version", GATE[1], "-f", "json",
                    record=record)
        assert res.returncode == v.scan_code, res.stderr
        doc = json.loads(res.stdout)
        _same_as_scan(v, _statuses(doc), subjects_only=True)
        if variant == "waivers":  # the config's waiver waives in the gate too
            assert _statuses(doc)[WAIVED] == "waived"
    elif command == "matrix":
        res = v.run("matrix", "-f", "json")
        assert res.returncode == v.export_code, res.stderr
        assert json.loads(res.stdout)["matrix"] == v.scan["matrix"]
    elif command == "owners":
        res = v.run("owners", PERSON, "-f", "json")
        assert res.returncode == v.export_code, res.stderr
        if variant == "record_limit":  # the people source is over the limit: no answer
            assert "E401 cannot look up" in res.stderr
            assert "E313" in res.stderr
            return
        doc = json.loads(res.stdout)
        got = {(i["rule_id"], i["target"]): i["status"] for i in doc["must_act_on"]}
        _same_as_scan(v, got)
        if variant == "waivers":
            assert WAIVED not in got  # waived: nobody must act on it
    else:  # evidence pull, then a scan of the snapshot
        snap = tmp_path / "snap"
        if variant == "snapshot":
            snap, code = v.snapshot, v.pull_code
        else:
            pulled = _cli("evidence", "pull", "-c", v.config, "--as-of", AS_OF, "-o", snap)
            code = pulled.returncode
            assert pulled.stdout.startswith("sha256:"), pulled.stderr
        assert code == v.export_code
        res = _cli("scan", "-c", v.config, "--evidence", snap, "-f", "json")
        assert res.returncode == v.scan_code, res.stderr
        assert _statuses(json.loads(res.stdout)) == v.statuses
    if record:
        rows = json.loads(_cli("history", "-c", v.config, "--history-url", v.history,
                               "-f", "json").stdout)
        last = rows[-1]
        summary = doc["summary"]
        assert (last["failed"], last["errors"], last["waived"], last["exit_code"]) == (
            summary["fail"], summary["error"], summary["waived"], res.returncode)


def test_history_diff_after_recorded_runs(variants: dict[str, Variant]) -> None:
    v = variants["history"]
    for _ in range(2):
        assert v.run("scan", "-f", "json", "-q", record=True).returncode == v.scan_code
    res = _cli("diff", "-c", v.config, "--history-url", v.history, "-f", "json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["new"] == [] and d["resolved"] == []  # noqa: PT018  # one fact: nothing moved
    assert len(d["still_open"]) == v.scan["summary"]["fail"] + v.scan["summary"]["error"]


def test_a_history_failure_keeps_the_report_and_the_exit_code(tmp_path: Path) -> None:
    out = tmp_path / "scan.json"
    bad = f"sqlite:///{(tmp_path / 'no' / 'such' / 'dir' / 'h.sqlite').as_posix()}"
    res = _cli("scan", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, "--record",
               "--history-url", bad, "-f", "json", "-o", out)
    assert res.returncode == 1, res.stderr
    assert json.loads(out.read_text("utf-8"))["exit_code"] == 1
    assert "not recorded in the history" in res.stderr
    assert res.stderr.index("wrote json report") < res.stderr.index("E388")


# -- every broken source reported once ------------------------------------------------------


@pytest.fixture(scope="module")
def typo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo with one HR column mapped to a column the export does not have."""
    dst = tmp_path_factory.mktemp("typo") / "demo"
    shutil.copytree(DEMO, dst)
    cfg = dst / "aimscheck.yaml"
    text = cfg.read_text("utf-8")
    assert "      first_name: first_name\n" in text
    cfg.write_text(text.replace("      first_name: first_name\n",
                                "      first_name: firstname\n"), "utf-8")
    return cfg


def test_a_broken_source_is_reported_once_on_stderr_also_with_output_files(
        typo: Path, tmp_path: Path) -> None:
    res = _cli("scan", "-c", typo, "--as-of", AS_OF, "-f", "json", "-o", tmp_path / "r.json",
               "-f", "sarif", "-o", tmp_path / "r.sarif")
    assert res.returncode == 3
    causes = [line for line in res.stderr.splitlines() if "E301" in line]
    assert len(causes) == 1, res.stderr
    assert causes[0].startswith("hr/people.csv:1:1: error E301 column 'firstname'")
    assert "hint: did you mean 'first_name'" in res.stderr
    assert "ERROR (evidence incomplete):" in res.stderr  # the one-line summary
    doc = json.loads((tmp_path / "r.json").read_text("utf-8"))
    errors = [f for f in doc["findings"] if f["status"] == "error"]
    assert len(errors) > 100  # JSON keeps every finding
    quiet = _cli("scan", "-c", typo, "--as-of", AS_OF, "-f", "json", "-o",
                 tmp_path / "q.json", "-q")
    assert [line for line in quiet.stderr.splitlines() if "E301" in line] == causes
    assert "ERROR (evidence incomplete):" not in quiet.stderr


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_reports_for_people_name_each_cause_once(typo: Path, fmt: str) -> None:
    res = _cli("scan", "-c", typo, "--as-of", AS_OF, "-f", fmt, "-q")
    assert res.returncode == 3
    # the source list names the cause, and the grouped errors name it once more
    assert 1 <= res.stdout.count("E301 column") <= 2, res.stdout.count("E301 column")


def test_every_command_prints_the_summary_line_unless_quiet() -> None:
    for fmt in ("json", "junit", "html"):
        res = _cli("scan", "-c", DEMO / "aimscheck.yaml", "--as-of", AS_OF, "-f", fmt)
        assert res.stderr.strip().splitlines()[-1].startswith("FAIL: "), res.stderr


# -- stable paths -------------------------------------------------------------------------


def _second_install(root: Path) -> Path:
    """A copy of the installed packages on another path, with their entry points."""
    shutil.copytree(REPO / "checker", root / "checker")
    shutil.copytree(REPO / "evidence_adapters", root / "evidence_adapters")
    shutil.copytree(REPO / "rules", root / "aimscheck_rules")
    info = root / "aimscheck-0.0.0.dist-info"
    info.mkdir()
    dist = distribution("aimscheck")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: aimscheck\nVersion: "
                                   f"{dist.version}\n", "utf-8")
    (info / "entry_points.txt").write_text(dist.read_text("entry_points.txt") or "", "utf-8")
    return root


def test_demo_json_is_byte_identical_across_working_dirs_and_installs(tmp_path: Path) -> None:
    config = DEMO / "aimscheck.yaml"
    args = ["scan", "-c", str(config), "--as-of", AS_OF, "-f", "json", "-q"]
    here = _cli(*args, cwd=REPO)
    elsewhere = _cli(*args, cwd=tmp_path)
    assert here.stdout == elsewhere.stdout
    inst = _second_install(tmp_path / "other-install")
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(inst)}
    where = subprocess.run([sys.executable, "-c", "import checker, aimscheck_rules; "
                            "print(checker.__file__); print(aimscheck_rules.iso42001)"],
                           cwd=tmp_path, capture_output=True, text=True, env=env, check=True)
    assert all(line.startswith(str(inst)) for line in where.stdout.splitlines()), where.stdout
    other = subprocess.run([sys.executable, "-m", "checker", *args], cwd=tmp_path,
                           capture_output=True, text=True, env=env, timeout=300, check=False)
    assert other.returncode == here.returncode, other.stderr
    assert other.stdout == here.stdout
    doc = json.loads(here.stdout)
    files = {f["rule_file"] for f in doc["findings"]}
    assert "iso42001/AIMS-COV-001.yaml" in files
    for path in (str(REPO), str(tmp_path), str(Path.home())):
        assert path not in here.stdout


def test_commands_import_downward() -> None:
    for module in (REPO / "checker" / "commands").glob("*.py"):
        text = module.read_text("utf-8")
        assert "from checker.cli import" not in text, module.name
        assert "import checker.cli" not in text, module.name


def test_one_assembly_of_a_scan(run_cli: Runner) -> None:
    """Only checker/run.py calls the engine and the adapters for a command."""
    callers = []
    for module in (REPO / "checker").rglob("*.py"):
        text = module.read_text("utf-8")
        if module.name in ("run.py", "casetest.py", "engine.py"):
            continue
        if ("evaluate(" in text and "from .engine import" in text) or ".collect()" in text:
            callers.append(module.relative_to(REPO).as_posix())
    assert callers == [], callers
    assert run_cli("--help").returncode == 0

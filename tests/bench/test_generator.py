"""The benchmark's synthetic organisation: deterministic, and its planted gaps are found.

Correctness only: no timings are asserted here (benchmarks/bench.py reports those).
"""

from __future__ import annotations

import filecmp
import importlib.util
import json
from pathlib import Path
from types import ModuleType

from tests.conftest import REPO, Runner

BENCH = REPO / "benchmarks"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


generate = _load("generate")
floor = _load("floor")


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_same_size_and_seed_give_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate.generate(200, a)
    generate.generate(200, b)
    files = _tree(a)
    assert files == _tree(b)
    assert "register.yaml" in files
    assert "bench-input.json" in files
    _, mismatch, errors = filecmp.cmpfiles(a, b, files, shallow=False)
    assert mismatch == []
    assert errors == []


def test_scan_finds_the_planted_violations(tmp_path: Path, run_cli: Runner) -> None:
    org = tmp_path / "org"
    generate.generate(200, org)
    out = tmp_path / "six.json"
    res = run_cli("scan", "-c", org / "aimscheck-six.yaml", "--as-of", generate.AS_OF_TEXT,
                  "-f", "json", "-o", out)
    assert res.returncode == 1, res.stderr
    failing: dict[str, set[str]] = {}
    for f in json.loads(out.read_text("utf-8"))["findings"]:
        assert f["status"] != "error", f
        if f["status"] == "fail":
            key = (f["target_id"] if f["target_kind"] in ("release", "incident")
                   else f"{f['target_kind']}/{f['target_id']}")
            failing.setdefault(f["rule_id"], set()).add(key)
    planted = json.loads((org / "planted.json").read_text("utf-8"))
    expected = floor.check(json.loads((org / "bench-input.json").read_text("utf-8")))
    rules = {p.stem for p in (BENCH / "rules").glob("AIMS-*.yaml")}
    assert sum(len(v) for v in planted.values()) >= 5
    compared = 0
    for check, rule_id in floor.RULE_IDS.items():
        assert set(planted[check]) <= expected[check], check  # the floor sees them too
        if rule_id not in rules:
            continue
        compared += 1
        assert set(planted[check]) <= failing.get(rule_id, set()), check
        # and nothing else: aimscheck's findings equal the floor's, check by check
        assert failing.get(rule_id, set()) == expected[check], check
    assert compared >= 5


def test_the_full_scan_of_the_generated_organisation_runs(tmp_path: Path,
                                                          run_cli: Runner) -> None:
    org = tmp_path / "org"
    generate.generate(200, org)
    res = run_cli("scan", "-c", org / "aimscheck.yaml", "--as-of", generate.AS_OF_TEXT,
                  "-f", "json", "-o", tmp_path / "iso.json",
                  env={"AIMSCHECK_TIMINGS": "1"})
    assert res.returncode == 1, res.stderr
    line = next(x for x in res.stderr.splitlines() if x.startswith("aimscheck-timings: "))
    stages = json.loads(line.split(": ", 1)[1])
    assert {"setup", "collect", "index", "evaluate", "summarise", "report", "total"} <= set(
        stages)

"""Issue 18: the non-pass findings and their owners are identical before and after.

The 10k organisation is generated (benchmarks/generate.py, fixed seed) and scanned with the
iso42001 pack at the fixed as-of; every non-pass finding (rule, target, status, severity,
owner, deputy, who must act, message, evidence) and the summary counts must equal the
reference taken from main before the performance work
(tests/bench/data/findings-10k.jsonl.gz, written by benchmarks/reference_findings.py).
Not timed: it guards correctness of the faster load, evaluation and reporting.

If a change of a finding is intended, regenerate the reference (and say why in the commit):
    python benchmarks/generate.py 10000 /tmp/org10k
    aimscheck scan -c /tmp/org10k/aimscheck.yaml --as-of 2026-11-30 -f json -o /tmp/iso.json
    python benchmarks/reference_findings.py /tmp/iso.json tests/bench/data/findings-10k.jsonl.gz
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from tests.bench.test_generator import _load
from tests.conftest import Runner

generate = _load("generate")
reference = _load("reference_findings")
REFERENCE = Path(__file__).resolve().parent / "data" / "findings-10k.jsonl.gz"
SHOW = 15


def _diff(expected: list[str], actual: list[str]) -> str:
    missing = list((Counter(expected) - Counter(actual)).elements())
    extra = list((Counter(actual) - Counter(expected)).elements())
    out = [f"{len(missing)} reference finding(s) missing, {len(extra)} new/changed finding(s)"]
    out += ["- " + x for x in missing[:SHOW]]
    if len(missing) > SHOW:
        out.append(f"- … {len(missing) - SHOW} more")
    out += ["+ " + x for x in extra[:SHOW]]
    if len(extra) > SHOW:
        out.append(f"+ … {len(extra) - SHOW} more")
    return "\n".join(out)


def test_non_pass_findings_and_owners_unchanged_on_the_10k_organisation(
        tmp_path: Path, run_cli: Runner) -> None:
    org = tmp_path / "org"
    generate.generate(reference.N, org, seed=reference.SEED)
    out = tmp_path / "iso.json"
    res = run_cli("scan", "-c", org / "aimscheck.yaml", "--as-of", reference.AS_OF,
                  "-f", "json", "-o", out)
    report = json.loads(out.read_text("utf-8"))
    assert res.returncode == report["exit_code"], res.stderr[-2000:]
    want_header, want = reference.read(REFERENCE)
    got, got_header = reference.finding_lines(report), reference.header(report)
    del report
    assert len(want) > 20_000  # the reference is the real 10k scan, not an empty file
    assert got == want, _diff(want, got)
    assert got_header == want_header

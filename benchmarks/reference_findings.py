"""The non-pass findings of a JSON report as sorted lines: the "finding sets unchanged" reference.

Each non-pass finding (fail, warn, error, not_applicable, waived…) becomes one compact JSON
line: rule, target kind and id, status, severity, owner and deputy (id, via), who must act,
escalation, message and evidence. Sorted, the lines compare as sets with readable diffs.
``tests/bench/test_findings_unchanged.py`` scans the generated 10k organisation and compares
its lines with ``tests/bench/data/findings-10k.jsonl.gz``, written by this script from main
before the performance work of issue 18 (so any change to a non-pass finding shows).

Usage:
    python benchmarks/reference_findings.py REPORT.json OUT.jsonl.gz   # write the reference
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

#: The scan the reference was taken from (benchmarks/generate.py N, seed, as-of).
N = 10_000
SEED = 42
AS_OF = "2026-11-30"
#: Summary counts that must stay the same (passes are counted even when recorded compactly).
SUMMARY_KEYS = ("total", "pass", "warn", "fail", "error", "waived", "not_applicable",
                "failing", "owners")


def _who(person: dict[str, Any] | None) -> list[Any] | None:
    return None if person is None else [person.get("id"), person.get("via")]


def finding_lines(report: dict[str, Any]) -> list[str]:
    """One sorted line per non-pass finding of a JSON report."""
    lines = []
    for f in report["findings"]:
        if f["status"] == "pass":
            continue
        row = [f["rule_id"], f["target_kind"], f["target_id"], f["status"], f["severity"],
               _who(f.get("owner")), _who(f.get("deputy")), f.get("act"),
               f.get("escalated_to"), f["message"], f.get("evidence")]
        lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
    lines.sort()
    return lines


def header(report: dict[str, Any]) -> str:
    """The first line of the reference: exit code and summary counts."""
    summary = {k: report["summary"].get(k) for k in SUMMARY_KEYS}
    return json.dumps({"exit_code": report["exit_code"], "summary": summary},
                      sort_keys=True, separators=(",", ":"))


def write(report: dict[str, Any], out: Path) -> None:
    """Write the gzipped reference (header line, then the sorted finding lines)."""
    text = "\n".join([header(report), *finding_lines(report)]) + "\n"
    out.write_bytes(gzip.compress(text.encode("utf-8"), 9, mtime=0))


def read(path: Path) -> tuple[str, list[str]]:
    """The header and the finding lines of a reference file."""
    lines = gzip.decompress(path.read_bytes()).decode("utf-8").splitlines()
    return lines[0], lines[1:]


def main() -> None:
    report = json.loads(Path(sys.argv[1]).read_text("utf-8"))
    write(report, Path(sys.argv[2]))


if __name__ == "__main__":
    main()

"""Start-up cost of the command line: CPU time and imports of ``aimscheck --help`` & co.

    python benchmarks/startup.py [--runs 10] [--budget 0.25]

For each command line it reports the median CPU time (user + system, of the child process,
over ``--runs`` runs) and, from one run under ``python -X importtime``, the total import
time and the slowest top-level imports. It exits 1 when ``aimscheck --help`` needs more CPU
than the budget (0.25 s) — a benchmark to run by hand or in a scheduled job, never a timed
test. The command table of ``checker/cli.py`` (lazy command imports) is what keeps
``--help`` and completion of command names cheap.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys

CASES = [
    ("aimscheck --help", ["-m", "checker", "--help"]),
    ("aimscheck --version", ["-m", "checker", "--version"]),
    ("aimscheck scan --help", ["-m", "checker", "scan", "--help"]),
    ("aimscheck rules list", ["-m", "checker", "rules", "list", "iso42001"]),
]
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def cpu_seconds(args: list[str]) -> float:
    """CPU time (user + system) of one child run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_profile(args: list[str]) -> tuple[float, list[tuple[float, str]]]:
    """Total import time and the slowest top-level imports (seconds), from -X importtime."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True,
                          text=True, check=False,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    top: list[tuple[float, str]] = []
    for line in proc.stderr.splitlines():
        m = _LINE.match(line)
        if m and len(m.group(3)) == 1:  # imported by the program itself, not by a module
            top.append((int(m.group(2)) / 1e6, m.group(4)))
    return sum(t for t, _ in top), sorted(top, reverse=True)[:5]


def main() -> int:
    """Measure every case; exit 1 when --help is over budget."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--budget", type=float, default=0.25,
                    help="CPU seconds allowed for 'aimscheck --help' (default 0.25)")
    opts = ap.parse_args()
    over = False
    print(f"{'command':28} {'CPU median':>10} {'imports':>9}  slowest top-level imports")
    for name, args in CASES:
        cpu = statistics.median(cpu_seconds(args) for _ in range(opts.runs))
        total, slowest = import_profile(args)
        top = ", ".join(f"{mod} {t * 1000:.0f} ms" for t, mod in slowest[:3])
        print(f"{name:28} {cpu:>9.3f}s {total:>8.3f}s  {top}")
        if name == "aimscheck --help" and cpu > opts.budget:
            over = True
    if over:
        print(f"aimscheck --help is over its budget of {opts.budget} s CPU")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

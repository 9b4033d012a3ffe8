"""Evaluate benchmarks/opa/policy.rego with regopy (Microsoft's rego-cpp) over one JSON document.

Runs in its own venv (``make bench`` installs regopy there). Prints one JSON line with the
engine, load and evaluation seconds, and writes the failing targets per check to OUT.

Usage: python run_regopy.py POLICY INPUT_JSON OUT_JSON
"""

from __future__ import annotations

import json
import sys
import time
from importlib.metadata import version

import regopy


def main() -> None:
    policy, doc, out = sys.argv[1:4]
    t0 = time.perf_counter()
    rego = regopy.Interpreter()
    with open(policy, encoding="utf-8") as fh:
        rego.add_module("bench", fh.read())
    with open(doc, encoding="utf-8") as fh:
        rego.add_data_json(fh.read())
    t1 = time.perf_counter()
    res = rego.query("data.aimscheck.bench.findings")
    t2 = time.perf_counter()
    if not res.ok():
        print(json.dumps({"error": str(res.node())[:2000]}))
        sys.exit(1)
    findings = json.loads(str(res))["expressions"][0]
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({k: sorted(v) for k, v in findings.items()}, fh)
    print(json.dumps({"engine": f"regopy {version('regopy')} (rego-cpp {regopy.rego_version()})",
                      "load": t1 - t0, "evaluate": t2 - t1}))


if __name__ == "__main__":
    main()

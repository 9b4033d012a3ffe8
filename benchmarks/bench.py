"""The scale benchmark: the installed ``aimscheck`` end to end at N = 1k, 10k, 100k.

For each size: generate the organisation (benchmarks/generate.py), then run, several times,

- ``aimscheck scan`` with the built-in iso42001 pack (the nightly scan): wall time, peak RSS
  of the child, and the stage split from ``AIMSCHECK_TIMINGS=1`` (load+normalise =
  collect + index; evaluate; report = building the result + rendering);
- ``aimscheck scan`` with the six-check pack (benchmarks/rules), whose failing findings
  are compared with the floor (benchmarks/floor.py) and with OPA (benchmarks/opa);
- the floor, and OPA where asked (``--opa-sizes``; it is slow: see RESULTS.md);

- the JSON and JUnit report sizes of the iso42001 scan (it writes both, as CI does);
- ``aimscheck evidence pull`` once, then ``aimscheck gate release --evidence SNAP`` (the
  indexed gate) for a production release, a blocked one and an unknown model: median wall,
  CPU and peak RSS, and whether the index was used (``--gate-sizes``, default: every size);

then ``aimscheck gate release`` from the live sources on the largest organisation (the
full load, for before/after), start-up CPU (benchmarks/startup.py's command lines), and
the scaling exponents log(t2/t1)/log(n2/n1) per phase. Prints a table and writes the
figures (every run's, not only the medians) as JSON under benchmarks/results/. Medians
throughout; never part of ``make test``.

Usage: python benchmarks/bench.py [--sizes 1000,10000,100000] [--runs 3]
       [--gate-sizes 10000,100000] [--opa-python PATH] [--opa-sizes 1000]
       [--out benchmarks/results/NAME.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from floor import RULE_IDS  # noqa: E402  # benchmarks/ is not a package
from generate import AS_OF_TEXT, generate  # noqa: E402

FAILING = ("fail", "error")


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float | None = None
        ) -> dict[str, Any]:
    """Run a child; return wall seconds, peak RSS (MiB), exit code, stdout and stderr."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"timeout": True, "wall": time.perf_counter() - t0}
    wall = time.perf_counter() - t0
    # the child has been reaped by communicate(); its rusage is in RUSAGE_CHILDREN's max
    return {"wall": wall, "rc": proc.returncode, "stdout": out, "stderr": err}


def run_rss(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a child, reaping it with wait4 to read its own peak RSS."""
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as null, subprocess.Popen(
            cmd, stdout=null, stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})}) as proc:
        assert proc.stderr is not None
        err = proc.stderr.read().decode("utf-8", "replace")
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    return {"wall": wall, "rc": proc.returncode, "rss_mib": usage.ru_maxrss / 1024,
            "cpu": usage.ru_utime + usage.ru_stime, "stderr": err}


def timings_of(stderr: str) -> dict[str, Any]:
    for line in stderr.splitlines():
        if line.startswith("aimscheck-timings: "):
            return dict(json.loads(line.split(": ", 1)[1]))
    raise RuntimeError("no aimscheck-timings line on stderr:\n" + stderr[-2000:])


def aimscheck_bin() -> str:
    exe = shutil.which("aimscheck", path=str(Path(sys.executable).parent)) or shutil.which(
        "aimscheck")
    if exe is None:
        raise SystemExit("bench: the installed `aimscheck` command was not found")
    return exe


def scan(exe: str, config: Path, out: Path, junit: Path | None = None) -> dict[str, Any]:
    more = ["-f", "junit", "-o", str(junit)] if junit is not None else []
    r = run_rss([exe, "scan", "-c", str(config), "--as-of", AS_OF_TEXT, "--no-progress",
                 "-f", "json", "-o", str(out), *more], {"AIMSCHECK_TIMINGS": "1"})
    if r["rc"] not in (0, 1, 3):  # 3: the generated organisation has incomplete records
        raise RuntimeError(f"scan exited {r['rc']}:\n{r['stderr'][-3000:]}")
    t = timings_of(r["stderr"])
    got = {"wall": r["wall"], "rss_mib": r["rss_mib"], "cpu": r["cpu"], "rc": r["rc"],
           "load": t["collect"] + t["index"], "evaluate": t["evaluate"],
           "report": t["summarise"] + t["report"], "setup": t["setup"],
           "sources": t["sources"], "json_bytes": out.stat().st_size}
    if junit is not None:
        got["junit_bytes"] = junit.stat().st_size
        got["junit_testcases"] = junit.read_bytes().count(b"<testcase")
    return got


def failing_sets(findings_json: Path) -> dict[str, set[str]]:
    data = json.loads(findings_json.read_text(encoding="utf-8"))
    by_rule: dict[str, set[str]] = {}
    for f in data["findings"]:
        if f["status"] in FAILING:
            key = f["target_id"] if f["target_kind"] in ("release", "incident") else \
                f"{f['target_kind']}/{f['target_id']}"
            by_rule.setdefault(f["rule_id"], set()).add(key)
    return by_rule


def compare(name: str, theirs: dict[str, list[str]], ours: dict[str, set[str]],
            rules_present: set[str]) -> dict[str, Any]:
    """Equality of finding sets per check (only checks aimscheck's pack expresses)."""
    out: dict[str, Any] = {}
    for check, rule_id in RULE_IDS.items():
        if rule_id not in rules_present:
            out[check] = {"compared": False, name: len(theirs.get(check, []))}
            continue
        a, b = set(theirs.get(check, [])), ours.get(rule_id, set())
        out[check] = {"compared": True, "equal": a == b, name: len(a), "aimscheck": len(b),
                      f"only_{name}": sorted(a - b)[:5], "only_aimscheck": sorted(b - a)[:5]}
    return out


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def exponent(n1: int, t1: float, n2: int, t2: float) -> float:
    return math.log(t2 / t1) / math.log(n2 / n1)


def bench_size(n: int, args: argparse.Namespace, exe: str) -> dict[str, Any]:
    d = args.workdir / f"n{n}"
    t0 = time.perf_counter()
    generate(n, d)
    gen_s = time.perf_counter() - t0
    rules_present = {p.stem for p in (HERE / "rules").glob("AIMS-*.yaml")
                     if not p.name.endswith(".test.yaml")}
    res: dict[str, Any] = {"n": n, "generate_s": gen_s, "records": {}}
    doc = json.loads((d / "bench-input.json").read_text(encoding="utf-8"))
    res["records"] = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
    res["records"]["total"] = sum(res["records"].values())
    del doc
    full = [scan(exe, d / "aimscheck.yaml", d / "findings-iso.json", d / "report-iso.xml")
            for _ in range(args.runs)]
    six = [scan(exe, d / "aimscheck-six.yaml", d / "findings-six.json")
           for _ in range(args.runs)]
    floors = []
    for _ in range(args.runs):
        r = run_rss([sys.executable, str(HERE / "floor.py"), str(d / "bench-input.json"),
                     str(d / "floor.json")])
        if r["rc"] != 0:
            raise RuntimeError(r["stderr"])
        floors.append(r)
    # the floor prints its own split on stdout: run once more to read it (cheap)
    fr = run([sys.executable, str(HERE / "floor.py"), str(d / "bench-input.json")])
    floor_split = json.loads(fr["stdout"])
    ours = failing_sets(d / "findings-six.json")
    floor_sets = json.loads((d / "floor.json").read_text(encoding="utf-8"))
    res["floor_vs_aimscheck"] = compare("floor", floor_sets, ours, rules_present)

    def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
        return {k: med([r[k] for r in runs]) for k in ("wall", "rss_mib", "load", "evaluate",
                                                      "report")}

    res["scan_iso42001"] = {**summary(full), "json_bytes": full[-1]["json_bytes"],
                            "junit_bytes": full[-1]["junit_bytes"],
                            "junit_testcases": full[-1]["junit_testcases"]}
    res["scan_six"] = summary(six)
    res["floor"] = {"wall": med([r["wall"] for r in floors]),
                    "rss_mib": med([r["rss_mib"] for r in floors]),
                    "load": floor_split["load"], "evaluate": floor_split["evaluate"]}
    res["ratio_to_floor"] = {"scan_iso42001_wall": res["scan_iso42001"]["wall"]
                             / res["floor"]["wall"],
                             "scan_six_wall": res["scan_six"]["wall"] / res["floor"]["wall"],
                             "scan_six_evaluate": res["scan_six"]["evaluate"]
                             / max(res["floor"]["evaluate"], 1e-9)}
    res["raw"] = {"scan_iso42001": full, "scan_six": six,
                  "floor": [{k: r[k] for k in ("wall", "rss_mib", "cpu")} for r in floors]}
    if n in args.gate_sizes:
        res["gate_snapshot"] = gate_snapshot(exe, d, args.gate_runs)
    if args.opa_python and n in args.opa_sizes:
        opa_runs = []
        for _ in range(args.opa_runs):
            r = run([args.opa_python, str(HERE / "opa" / "run_regopy.py"),
                     str(HERE / "opa" / "policy.rego"), str(d / "bench-input.json"),
                     str(d / "opa.json")], timeout=args.opa_timeout)
            if r.get("timeout"):
                opa_runs.append({"timeout": True, "wall": r["wall"]})
                break
            if r["rc"] != 0:
                raise RuntimeError(f"OPA failed:\n{r['stdout']}\n{r['stderr']}")
            opa_runs.append({"wall": r["wall"], **json.loads(r["stdout"])})
        done = [r for r in opa_runs if not r.get("timeout")]
        if done:
            opa_sets = json.loads((d / "opa.json").read_text(encoding="utf-8"))
            res["opa"] = {"engine": done[0]["engine"], "wall": med([r["wall"] for r in done]),
                          "load": med([r["load"] for r in done]),
                          "evaluate": med([r["evaluate"] for r in done])}
            res["opa_vs_aimscheck"] = compare("opa", opa_sets, ours, rules_present)
            res["opa_ratio_wall"] = res["opa"]["wall"] / res["scan_six"]["wall"]
            res["opa_ratio_evaluate"] = (res["opa"]["evaluate"]
                                         / max(res["scan_six"]["evaluate"], 1e-9))
        else:
            res["opa"] = {"timeout_s": args.opa_timeout}
    return res


def gate(exe: str, d: Path, runs: int) -> dict[str, Any]:
    rel = None
    with (d / "evidence" / "releases.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["stage"] == "Production":
                rel = r
                break
    assert rel is not None
    walls, rss, rcs = [], [], []
    for _ in range(runs):
        r = run_rss([exe, "gate", "release", "--model", rel["model"], "--version",
                     rel["version"], "-c", str(d / "aimscheck.yaml"), "--as-of", AS_OF_TEXT,
                     "--no-progress"], {"AIMSCHECK_TIMINGS": "1"})
        walls.append(r["wall"])
        rss.append(r["rss_mib"])
        rcs.append(r["rc"])
    return {"release": f"{rel['model']}:{rel['version']}", "wall": med(walls),
            "rss_mib": med(rss), "exit_codes": sorted(set(rcs))}


def gate_snapshot(exe: str, d: Path, runs: int) -> dict[str, Any]:
    """Pull a snapshot once, then time the indexed gate for three kinds of release."""
    snap = d / "snapshot"
    if snap.exists():
        shutil.rmtree(snap)
    pull = run_rss([exe, "evidence", "pull", "-c", str(d / "aimscheck.yaml"), "--as-of",
                    AS_OF_TEXT, "--no-progress", "-o", str(snap)])
    if pull["rc"] not in (0, 3):
        raise RuntimeError(f"evidence pull exited {pull['rc']}:\n{pull['stderr'][-3000:]}")
    planted = json.loads((d / "planted.json").read_text(encoding="utf-8"))
    production = None
    with (d / "evidence" / "releases.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if r["stage"] == "Production":
                production = f"{r['model']}:{r['version']}"
                break
    assert production is not None
    cases = {"production": production,
             "blocked": sorted(planted["release_approved"])[0],
             "unknown model": "model-unknown:1"}
    out: dict[str, Any] = {"pull_wall": pull["wall"], "pull_rss_mib": pull["rss_mib"],
                           "snapshot_bytes": sum(p.stat().st_size for p in snap.rglob("*")
                                                 if p.is_file()),
                           "index_bytes": sum(p.stat().st_size
                                              for p in (snap / "index").glob("*")),
                           "cases": {}}
    for name, release in cases.items():
        model, version = release.rsplit(":", 1)
        rs = [run_rss([exe, "gate", "release", "--model", model, "--version", version,
                       "-c", str(d / "aimscheck.yaml"), "--evidence", str(snap),
                       "--no-progress", "-f", "json", "-o", str(d / "gate.json")])
              for _ in range(runs)]
        used = "note: gate index used" in rs[-1]["stderr"]
        out["cases"][name] = {"release": release, "wall": med([r["wall"] for r in rs]),
                              "cpu": med([r["cpu"] for r in rs]),
                              "rss_mib": med([r["rss_mib"] for r in rs]),
                              "exit_codes": sorted({r["rc"] for r in rs}),
                              "index_used": used, "walls": [r["wall"] for r in rs]}
    return out


def startup(runs: int) -> dict[str, float]:
    """Median CPU seconds of the start-up command lines of benchmarks/startup.py."""
    from startup import CASES, cpu_seconds

    return {name: med([cpu_seconds(args) for _ in range(runs)]) for name, args in CASES}


def table(results: dict[str, Any]) -> str:
    lines = []
    head = (f"{'N':>7} {'records':>8} | {'scan s':>7} {'RSS MiB':>8} {'load':>6} {'eval':>6} "
            f"{'report':>6} | {'six s':>6} {'six ev':>6} | {'floor':>6} {'fl ev':>6} | "
            f"{'OPA s':>7} {'ratio':>6} | equal")
    lines.append(head)
    lines.append("-" * len(head))
    for r in results["sizes"]:
        s, x, f = r["scan_iso42001"], r["scan_six"], r["floor"]
        opa = r.get("opa", {})
        eq_f = all(c["equal"] for c in r["floor_vs_aimscheck"].values() if c["compared"])
        eq_o = (all(c["equal"] for c in r["opa_vs_aimscheck"].values() if c["compared"])
                if "opa_vs_aimscheck" in r else None)
        opa_s = f"{opa['wall']:7.2f}" if "wall" in opa else (
            "timeout" if opa else "      -")
        ratio = f"{r['opa_ratio_wall']:6.1f}" if "opa_ratio_wall" in r else "     -"
        lines.append(
            f"{r['n']:>7} {r['records']['total']:>8} | {s['wall']:7.2f} {s['rss_mib']:8.0f} "
            f"{s['load']:6.2f} {s['evaluate']:6.2f} {s['report']:6.2f} | {x['wall']:6.2f} "
            f"{x['evaluate']:6.2f} | {f['wall']:6.2f} {f['evaluate']:6.2f} | {opa_s} {ratio} | "
            f"floor={'yes' if eq_f else 'NO'} "
            f"opa={'-' if eq_o is None else 'yes' if eq_o else 'NO'}")
    lines.append("")
    for r in results["sizes"]:
        s, q = r["scan_iso42001"], r["ratio_to_floor"]
        lines.append(f"N={r['n']}: iso42001 scan {s['wall']:.2f} s = "
                     f"{q['scan_iso42001_wall']:.1f}x the floor; "
                     f"six-check {q['scan_six_wall']:.1f}x (evaluate "
                     f"{q['scan_six_evaluate']:.1f}x); JSON {s['json_bytes'] / 2**20:.1f} MiB, "
                     f"JUnit {s['junit_bytes'] / 2**20:.1f} MiB "
                     f"({s['junit_testcases']} test cases)")
        g = r.get("gate_snapshot")
        if g:
            lines.append(f"N={r['n']}: evidence pull {g['pull_wall']:.1f} s "
                         f"{g['pull_rss_mib']:.0f} MiB; snapshot "
                         f"{g['snapshot_bytes'] / 2**20:.0f} MiB, index "
                         f"{g['index_bytes'] / 2**20:.1f} MiB")
            for name, c in g["cases"].items():
                lines.append(f"N={r['n']}: gate --evidence ({name} {c['release']}): "
                             f"{c['wall']:.2f} s wall, {c['cpu']:.2f} s CPU, "
                             f"{c['rss_mib']:.0f} MiB, exit {c['exit_codes']}, index "
                             f"{'used' if c['index_used'] else 'NOT used'}")
    for k, v in results.get("exponents", {}).items():
        lines.append(f"scaling exponent {k}: {v:.2f}")
    if "gate" in results:
        g = results["gate"]
        lines.append(f"gate release {g['release']} on N={g['n']} from the live sources (full "
                     f"load): {g['wall']:.2f} s, {g['rss_mib']:.0f} MiB (exit {g['exit_codes']})")
    for name, cpu in results.get("startup_cpu", {}).items():
        lines.append(f"start-up CPU {name}: {cpu:.3f} s")
    for r in results["sizes"]:
        if "opa" in r and "engine" in r["opa"]:
            lines.append(f"OPA engine: {r['opa']['engine']}")
            break
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description="aimscheck scale benchmark")
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gate-runs", type=int, default=5,
                    help="runs of each indexed gate (the live full-load gate runs once)")
    ap.add_argument("--gate-sizes", default="10000,100000",
                    help="sizes whose snapshot gate is measured (each costs one pull)")
    ap.add_argument("--startup-runs", type=int, default=5)
    ap.add_argument("--opa-python", help="python of a venv with regopy installed")
    ap.add_argument("--opa-sizes", default="1000")
    ap.add_argument("--opa-runs", type=int, default=3)
    ap.add_argument("--opa-timeout", type=float, default=600)
    ap.add_argument("--workdir", type=Path, default=ROOT / "build" / "bench")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    args.opa_sizes = {int(x) for x in args.opa_sizes.split(",") if x}
    args.gate_sizes = {int(x) for x in args.gate_sizes.split(",") if x}
    exe = aimscheck_bin()
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "runs": args.runs, "sizes": []}
    for n in sizes:
        print(f"bench: N = {n} …", file=sys.stderr, flush=True)
        results["sizes"].append(bench_size(n, args, exe))
    by_n = {r["n"]: r for r in results["sizes"]}
    ns = sorted(by_n)
    results["exponents"] = {}
    for a, b in itertools.pairwise(ns):
        for phase in ("wall", "load", "evaluate", "report", "rss_mib"):
            results["exponents"][f"scan {phase} {a}->{b}"] = exponent(
                a, by_n[a]["scan_iso42001"][phase], b, by_n[b]["scan_iso42001"][phase])
        results["exponents"][f"six-check evaluate {a}->{b}"] = exponent(
            a, by_n[a]["scan_six"]["evaluate"], b, by_n[b]["scan_six"]["evaluate"])
    results["gate"] = {"n": ns[-1], **gate(exe, args.workdir / f"n{ns[-1]}", 1)}
    results["startup_cpu"] = startup(args.startup_runs)
    text = table(results)
    print(text)
    out = args.out or HERE / "results" / f"bench-{results['date'][:10]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    bad = [r["n"] for r in results["sizes"]
           if not all(c["equal"] for c in r["floor_vs_aimscheck"].values() if c["compared"])
           or not all(c["equal"] for c in r.get("opa_vs_aimscheck", {}).values()
                      if c["compared"])]
    if bad:
        raise SystemExit(f"bench: finding sets differ at N = {bad}")


if __name__ == "__main__":
    main()

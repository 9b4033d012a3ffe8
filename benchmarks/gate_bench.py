"""Benchmark ``aimscheck gate release``: the demo, and a large generated MLflow registry.

Prints figures, asserts nothing. Each figure is the median wall time of several runs of the
installed ``aimscheck`` command (a fresh process each time, as in CI), next to a baseline
measured in the same run on the same machine: ``aimscheck --version`` (interpreter start-up
plus importing the CLI). The large registry is saved MLflow REST responses (offline source):
5,000 registered models and 20,000 model versions, 1,000 per page, as a live scan records them.

    .venv/bin/python benchmarks/gate_bench.py [--runs 5] [--models 5000] [--versions 4]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "fixtures" / "demo"
AIMSCHECK = str(Path(sys.executable).parent / "aimscheck")
AS_OF = "2026-11-30"
SYSTEMS = ["credit-scoring", "fraud-detection", "support-chatbot", "doc-summariser",
           "churn-predictor"]
PEOPLE = ["nadia.petrova@northwind.example", "priya.raman@northwind.example",
          "wei.chen@northwind.example", "fatima.alsayed@northwind.example",
          "pedro.alves@northwind.example", "jonas.becker@northwind.example"]
USERS = ["nadia.petrova", "wei.chen", "daniel.okafor", "jonas.becker", "pedro.alves"]
PAGE = 1000


def _pages(folder: Path, endpoint: str, key: str, items: list[dict[str, Any]]) -> int:
    out = folder / endpoint
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    for n, start in enumerate(range(0, len(items), PAGE), start=1):
        body: dict[str, Any] = {key: items[start:start + PAGE]}
        if start + PAGE < len(items):
            body["next_page_token"] = f"token-{n}"
        (out / f"page-{n:04d}.json").write_text(json.dumps(body), encoding="utf-8")
    return n


def generate(folder: Path, n_models: int, per_model: int) -> tuple[str, str]:
    """Write saved registered-models/model-versions pages; return the model/version to gate."""
    rnd = random.Random(42)
    models, versions = [], []
    t0 = 1_760_000_000_000
    for i in range(n_models):
        name = f"bench-model-{i:05d}"
        owners = rnd.sample(PEOPLE, 2)
        models.append({"name": name, "creation_timestamp": t0, "last_updated_timestamp": t0,
                       "tags": [{"key": "owner.primary", "value": owners[0]},
                                {"key": "owner.backup", "value": owners[1]},
                                {"key": "ai_system", "value": rnd.choice(SYSTEMS)},
                                {"key": "risk_tier", "value": "low"}],
                       "aliases": [{"alias": "champion", "version": str(per_model)}]})
        for v in range(1, per_model + 1):
            prod = v == per_model
            versions.append({
                "name": name, "version": str(v), "creation_timestamp": t0 + v * 86_400_000,
                "user_id": rnd.choice(USERS), "current_stage": "Production" if prod else
                "Archived", "source": f"runs:/{i:08x}{v:04x}/model", "run_id": f"{i:08x}{v:04x}",
                "status": "READY",
                "tags": [{"key": "deployed_by", "value": "tomas.obrien"},
                         {"key": "deployed_at", "value": "2026-11-01T10:00:00Z"}] if prod else []})
    _pages(folder, "registered-models/search", "registered_models", models)
    _pages(folder, "model-versions/search", "model_versions", versions)
    return f"bench-model-{n_models // 2:05d}", str(per_model)


def large_config(folder: Path, offline: Path) -> Path:
    """The demo config with absolute paths and the releases from the saved registry."""
    cfg = yaml.safe_load((DEMO / "aimscheck.yaml").read_text(encoding="utf-8"))

    def absolute(entry: dict[str, Any]) -> None:
        for k, v in entry.items():
            if k == "path" and isinstance(v, str):
                entry[k] = str(DEMO / v)
            elif isinstance(v, dict):
                absolute(v)

    sources = []
    for s in cfg["sources"]:
        if s.get("adapter") == "jsonl" and s.get("kind") == "release":
            sources.append({"adapter": "mlflow", "name": "mlflow", "offline": str(offline)})
            continue
        absolute(s)
        sources.append(s)
    cfg["sources"] = sources
    path = folder / "aimscheck.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    return path


def timed(args: list[str], runs: int, ok: tuple[int, ...] = (0, 1)) -> float:
    """Median seconds of ``runs`` executions (one warm-up run first)."""
    times = []
    for i in range(runs + 1):
        t = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, text=True)
        dt = time.perf_counter() - t
        if proc.returncode not in ok:
            raise SystemExit(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        if i:
            times.append(dt)
    return statistics.median(times)


def main() -> int:
    """Run the benchmark and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", type=int, default=5000)
    ap.add_argument("--versions", type=int, default=4, help="versions per model")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="aimscheck-bench-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        model, version = generate(folder / "mlflow", args.models, args.versions)
        gen = time.perf_counter() - t
        config = large_config(folder, folder / "mlflow")
        demo = ["-c", str(DEMO / "aimscheck.yaml"), "--as-of", AS_OF]
        large = ["-c", str(config), "--as-of", AS_OF]
        base = timed([AIMSCHECK, "--version"], args.runs, ok=(0,))
        rows = [
            ("baseline: aimscheck --version", base),
            ("gate, demo (credit-risk-scorer 13)",
             timed([AIMSCHECK, "gate", "release", "--model", "credit-risk-scorer",
                    "--version", "13", *demo], args.runs)),
            ("scan, demo", timed([AIMSCHECK, "scan", *demo], args.runs)),
            (f"gate, large registry ({model} {version})",
             timed([AIMSCHECK, "gate", "release", "--model", model, "--version", version,
                    *large], args.runs)),
            ("scan, large registry", timed([AIMSCHECK, "scan", *large], max(1, args.runs // 2))),
        ]
    print(f"aimscheck gate benchmark — median of {args.runs} runs (after one warm-up); "
          f"large registry: {args.models:,} models, {args.models * args.versions:,} versions "
          f"in saved MLflow pages of {PAGE} (generated in {gen:.1f} s)")
    width = max(len(r[0]) for r in rows)
    for label, secs in rows:
        print(f"  {label:<{width}}  {secs * 1000:8.0f} ms   {secs / base:5.1f}× baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())

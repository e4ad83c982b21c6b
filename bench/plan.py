#!/usr/bin/env python3
"""Planning speed: the CLI's cold start and resolve() throughput in one process.

1. Cold process: `python -m selector plan --model meta-llama/Llama-2-13b-hf --json`, each run a fresh
   interpreter (wall time of the whole process, output checked to be the plan JSON). Median of --runs
   (default 15, at least 10); target <= 0.3 s. `python -c pass` is timed alongside as the interpreter floor.
2. In process: resolve() over every catalog model x {uneven, even} with default settings, after one warm-up
   pass (the first pass pays the catalog load and template compilation; it is reported on its own).

    .venv/bin/python bench/plan.py
    .venv/bin/python bench/plan.py --runs 30 --passes 5

A figure-printing benchmark, not a test (pytest collects tests/ only).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = "meta-llama/Llama-2-13b-hf"
TARGET_COLD_S = 0.3


def cold_runs(runs: int) -> tuple[list[float], list[float]]:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    plan_argv = [sys.executable, "-m", "selector", "plan", "--model", MODEL, "--json"]
    bare_argv = [sys.executable, "-c", "pass"]
    plan_times, bare_times = [], []
    for _ in range(runs):  # interleaved, so machine load hits both series alike
        start = time.perf_counter()
        done = subprocess.run(plan_argv, cwd=ROOT, env=env, capture_output=True, text=True)
        plan_times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"plan failed ({done.returncode}): {done.stderr}")
        if json.loads(done.stdout)["model"] != MODEL:
            raise SystemExit("plan --json printed a plan for another model")
        start = time.perf_counter()
        subprocess.run(bare_argv, cwd=ROOT, env=env, check=True)
        bare_times.append(time.perf_counter() - start)
    return plan_times, bare_times


def throughput(passes: int) -> dict:
    from selector.errors import SelectorError
    from selector.model_shape import catalog_model_ids
    from selector.request import Request
    from selector.resolve import resolve

    requests = [Request(model=m, traffic=t) for m in catalog_model_ids() for t in ("uneven", "even")]

    def one_pass() -> tuple[int, int]:
        ok = failed = 0
        for request in requests:
            try:
                resolve(request)
                ok += 1
            except SelectorError:
                failed += 1
        return ok, failed

    start = time.perf_counter()
    ok, failed = one_pass()
    first = time.perf_counter() - start
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        one_pass()
        times.append(time.perf_counter() - start)
    best = statistics.median(times)
    return {"requests": len(requests), "ok": ok, "failed": failed, "first_pass_s": first,
            "median_pass_s": best, "per_second": len(requests) / best, "ms_each": best / len(requests) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold processes (at least 10)")
    parser.add_argument("--passes", type=int, default=3, help="timed in-process passes over the catalog")
    args = parser.parse_args()
    if args.runs < 10:
        parser.error("--runs must be at least 10")

    plan_times, bare_times = cold_runs(args.runs)
    cold = statistics.median(plan_times)
    bare = statistics.median(bare_times)
    print(f"Cold process: python -m selector plan --model {MODEL} --json  ({args.runs} runs)")
    print(f"  median {cold:.3f} s   min {min(plan_times):.3f} s   max {max(plan_times):.3f} s   "
          f"target <= {TARGET_COLD_S} s: {'ok' if cold <= TARGET_COLD_S else 'OVER'}")
    print(f"  python -c pass (interpreter floor): median {bare:.3f} s")

    result = throughput(args.passes)
    print(f"In-process resolve(): {result['requests']} requests (catalog models x uneven/even, defaults), "
          f"{result['ok']} plans, {result['failed']} SelectorError")
    print(f"  first pass (catalog load, template compile): {result['first_pass_s']:.3f} s")
    print(f"  warm pass, median of {args.passes}: {result['median_pass_s']:.3f} s = "
          f"{result['per_second']:.0f} resolve()/s ({result['ms_each']:.2f} ms each)")


if __name__ == "__main__":
    main()

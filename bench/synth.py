#!/usr/bin/env python3
"""Synthesis time of app.py against a hand-written floor app, for N = 1, 10 and 50 endpoints.

For each N a deployments file with N distinct endpoints is generated from the model catalog (models, traffic,
preference and region vary so the plans differ; every entry is checked to resolve first). Then, interleaved
in this one process tree, whole-process wall time of

    app      python app.py              (CDK_CONTEXT_JSON = cdk.json context + {"deployments": FILE})
    floor    python bench/floor_app.py  (CDK_CONTEXT_JSON = cdk.json context + {"bench_endpoints": N})

each with CDK_OUTDIR set to a fresh temporary folder, as the CDK CLI runs an app. The order alternates per
pair (app first, then floor first) so drift hits both. Prints, per N, median wall times and their ratio, the
median of the per-pair ratios app / floor (the target: <= 1.25; the two runs of a pair are adjacent in time, so
a load spike from other jobs on a shared machine hits both), and CPU time of the process and its node child.

    .venv/bin/python bench/synth.py                  # N = 1, 10, 50; 3 pairs each
    .venv/bin/python bench/synth.py --sizes 1 10 --pairs 5

A figure-printing benchmark, not a test (pytest collects tests/ only).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selector.errors import SelectorError  # noqa: E402
from selector.model_shape import catalog_model_ids  # noqa: E402
from selector.request import Request  # noqa: E402
from selector.resolve import resolve  # noqa: E402

TARGET_RATIO = 1.25
REGIONS = (None, "us-west-2", None, "eu-west-1")  # None: region-agnostic stack (CfnMapping for the image)
VARIANTS = (("uneven", "balanced"), ("even", "balanced"), ("uneven", "cost"), ("even", "cost"))


def slug(model_id: str) -> str:
    tail = model_id.split("/")[-1].lower()
    out = "".join(ch if ch.isalnum() else "-" for ch in tail).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out[:40].rstrip("-")


def deployment_entries(count: int) -> list[dict]:
    """`count` deployments that all resolve, cycling models first, then traffic/preference variants."""
    entries: list[dict] = []
    models = catalog_model_ids()
    position = 0
    while len(entries) < count:
        model = models[position % len(models)]
        traffic, prefer = VARIANTS[(position // len(models)) % len(VARIANTS)]
        region = REGIONS[position % len(REGIONS)]
        position += 1
        request = Request(model=model, traffic=traffic, prefer=prefer, region=region or "us-east-1")
        try:
            resolve(request)
        except SelectorError:
            continue  # e.g. a 405B model no catalog instance holds at full precision
        entry = {"name": f"b{len(entries):03d}-{slug(model)}", "model": model, "traffic": traffic, "prefer": prefer}
        if region:
            entry["region"] = region
        entries.append(entry)
        if position > 20 * count + 100:
            raise SystemExit(f"only {len(entries)} of {count} generated deployments resolve")
    return entries


def write_deployments(count: int, folder: Path) -> Path:
    import yaml

    path = folder / f"bench-{count}.yaml"
    document = {"defaults": {"tags": {"team": "bench"}}, "deployments": deployment_entries(count)}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def base_context() -> dict:
    """The context the CDK CLI passes from cdk.json."""
    return dict(json.loads((ROOT / "cdk.json").read_text()).get("context", {}))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str], context: dict, expected_templates: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its node child) of one synthesis into a fresh folder."""
    outdir = Path(tempfile.mkdtemp(prefix="lmi-bench-out-"))
    env = dict(os.environ, CDK_OUTDIR=str(outdir), CDK_CONTEXT_JSON=json.dumps(context),
               JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20", PYTHONDONTWRITEBYTECODE="1")
    try:
        cpu_before = children_cpu()
        start = time.perf_counter()
        done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        cpu = children_cpu() - cpu_before
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        templates = len(list(outdir.glob("*.template.json")))
        if templates != expected_templates:
            raise SystemExit(f"{' '.join(argv)} wrote {templates} templates, expected {expected_templates}")
        return elapsed, cpu
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def measure(count: int, pairs: int, folder: Path) -> dict:
    deployments = write_deployments(count, folder)
    runs = {
        "app": ([sys.executable, "app.py"], dict(base_context(), deployments=str(deployments))),
        "floor": ([sys.executable, "bench/floor_app.py"], dict(base_context(), bench_endpoints=count)),
    }
    wall: dict[str, list[float]] = {"app": [], "floor": []}
    cpu: dict[str, list[float]] = {"app": [], "floor": []}
    for pair in range(pairs):
        for label in (("app", "floor") if pair % 2 == 0 else ("floor", "app")):
            argv, context = runs[label]
            seconds, cpu_seconds = run_once(argv, context, count)
            wall[label].append(seconds)
            cpu[label].append(cpu_seconds)
        print(f"  N={count:>3} pair {pair + 1}/{pairs}: app {wall['app'][-1]:6.2f} s ({cpu['app'][-1]:5.2f} s CPU), "
              f"floor {wall['floor'][-1]:6.2f} s ({cpu['floor'][-1]:5.2f} s CPU)", flush=True)
    med = {f"{kind}_{label}": statistics.median(series[label])
           for kind, series in (("wall", wall), ("cpu", cpu)) for label in ("app", "floor")}
    pair_ratios = [a / f for a, f in zip(wall["app"], wall["floor"], strict=True)]
    return {"n": count, **med, "ratio": med["wall_app"] / med["wall_floor"],
            "pair_ratio": statistics.median(pair_ratios), "cpu_ratio": med["cpu_app"] / med["cpu_floor"],
            "pair_ratios": pair_ratios, "wall": wall, "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--pairs", type=int, default=3, help="interleaved app/floor pairs per N (median taken)")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")

    folder = Path(tempfile.mkdtemp(prefix="lmi-bench-"))
    load_before = os.getloadavg()[0]
    rows = []
    try:
        for count in args.sizes:
            rows.append(measure(count, args.pairs, folder))
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    print()
    print(f"Synthesis time, median of {args.pairs} interleaved pairs (whole process incl. its node child; "
          f"CDK_OUTDIR = fresh temp dir); load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    print(f"{'N':>4}  {'app wall s':>10}  {'floor wall s':>12}  {'ratio':>6}  {'pair ratio':>10}  {'extra ms/N':>10}  "
          f"{'app CPU s':>9}  {'floor CPU s':>11}  {'CPU ratio':>9}  target <= {TARGET_RATIO}")
    for row in rows:
        verdict = "ok" if row["pair_ratio"] <= TARGET_RATIO else "OVER"
        per_stack = (row["wall_app"] - row["wall_floor"]) / row["n"] * 1000
        print(f"{row['n']:>4}  {row['wall_app']:10.2f}  {row['wall_floor']:12.2f}  {row['ratio']:6.2f}  "
              f"{row['pair_ratio']:10.2f}  {per_stack:+10.0f}  {row['cpu_app']:9.2f}  {row['cpu_floor']:11.2f}  "
              f"{row['cpu_ratio']:9.2f}  {verdict}")
    print("ratio: median app wall / median floor wall. pair ratio: median over pairs of app / floor of the same pair\n"
          "(the two runs of a pair are adjacent in time, so a load spike from other jobs hits both; the verdict uses\n"
          "it). extra ms/N: (app - floor) median wall / N. CPU: user + sys of python and node.")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()

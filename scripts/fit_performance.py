#!/usr/bin/env python3
"""Fit the estimator's efficiency factors to the published measurements, deterministically.

Factors (selector/data/accelerator_performance.json "efficiency"):
  per accelerator kind (nvidia, neuron): decode_bandwidth_efficiency, prefill_mfu, ttft_overhead_ms
  per instance family: allreduce_latency_us (p4d takes p4de's: the same NVSwitch fabric, and its only public
  rows are excluded)
Method: exhaustive grid search minimising the largest |log(estimate / measured)| over the rows marked
`fit: true` of that kind (minimax: the test bound is a maximum), ties broken by the sum of squared log errors.
The other rows are held out and only validated.

    .venv/bin/python scripts/fit_performance.py           # print the fit and every row's error
    .venv/bin/python scripts/fit_performance.py --write   # also store the factors in the data file
"""
from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selector.catalog import DATA_DIR, load_catalog  # noqa: E402
from selector.performance import DATA_FILE, performance_data  # noqa: E402
from selector.performance_check import predict, row_workload  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "published_throughput.yaml"
GRID = {
    "decode_bandwidth_efficiency": [round(0.50 + 0.05 * i, 2) for i in range(11)],
    "prefill_mfu": [round(0.10 + 0.05 * i, 2) for i in range(14)],
    "ttft_overhead_ms": [0.0, 1.0, 2.5, 5.0, 10.0, 20.0],
}
INT4_GRID = [round(0.2 + 0.05 * i, 2) for i in range(17)]
LATENCY_GRID = [5.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0, 130.0, 160.0, 200.0]
KIND_FAMILIES = {"nvidia": ("g5", "p4de"), "neuron": ("inf2",)}


def rows() -> list[dict]:
    return yaml.safe_load(FIXTURE.read_text())["rows"]


def kind_of(row: dict) -> str:
    return load_catalog().instances[row["instance"]].accelerator_kind


def score(fit_rows: list[tuple[dict, tuple]]) -> tuple[float, float]:
    errors = [math.log(predict(r, prepared) / r["measured"]) for r, prepared in fit_rows]
    return max(abs(e) for e in errors), sum(e * e for e in errors)


def fit_kind(kind: str, all_rows: list[dict]) -> dict:
    """Stage 1: the 16-bit rows fix bandwidth, MFU, overhead and latencies. Stage 2: the AWQ/GPTQ rows fix the
    4-bit weight-only bandwidth factor (1.0 where no such row exists: not fitted)."""
    data = performance_data()
    prepared = [(r, row_workload(r)) for r in all_rows
                if r.get("fit") and not r.get("excluded") and kind_of(r) == kind]
    full = [(r, p) for r, p in prepared if not p[1].int4_weight_only]
    int4 = [(r, p) for r, p in prepared if p[1].int4_weight_only]
    families = KIND_FAMILIES[kind]
    best: tuple[tuple[float, float], float, float, float, tuple[float, ...]] | None = None
    for bw, mfu, overhead in itertools.product(*GRID.values()):
        data["efficiency"][kind] = {"decode_bandwidth_efficiency": bw, "prefill_mfu": mfu,
                                    "ttft_overhead_ms": overhead, "int4_weight_only_bandwidth_factor": 1.0}
        for lats in itertools.product(LATENCY_GRID, repeat=len(families)):
            data["efficiency"]["allreduce_latency_us"].update(dict(zip(families, lats, strict=True)))
            found = score(full)
            if best is None or found < best[0]:
                best = (found, bw, mfu, overhead, lats)
    if best is None:
        raise SystemExit("the parameter grid is empty: nothing was scored")
    (worst, _), bw, mfu, overhead, lats = best
    entry = {"decode_bandwidth_efficiency": bw, "prefill_mfu": mfu, "ttft_overhead_ms": overhead,
             "int4_weight_only_bandwidth_factor": 1.0}
    data["efficiency"][kind] = entry
    data["efficiency"]["allreduce_latency_us"].update(dict(zip(families, lats, strict=True)))
    if int4:
        scored = []
        for factor in INT4_GRID:
            entry["int4_weight_only_bandwidth_factor"] = factor
            scored.append((score(int4), factor))
        (worst4, _), entry["int4_weight_only_bandwidth_factor"] = min(scored)
        worst = max(worst, worst4)
    return {"rows": [r["id"] for r, _ in prepared], "worst_abs_log_error": round(worst, 4),
            "latencies": dict(zip(families, lats, strict=True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="store the fitted factors in the data file")
    args = parser.parse_args()
    data = performance_data()
    data.setdefault("efficiency", {}).setdefault("allreduce_latency_us", {})
    all_rows = rows()
    fits = {kind: fit_kind(kind, all_rows) for kind in KIND_FAMILIES}
    lat = data["efficiency"]["allreduce_latency_us"]
    lat["p4d"] = lat["p4de"]
    for kind, result in fits.items():
        entry = data["efficiency"][kind]
        entry["fit"] = (f"scripts/fit_performance.py: grid search minimising the largest |log(estimate/measured)| "
                        f"over the fit rows; worst fit-row error {math.exp(result['worst_abs_log_error']) - 1:+.1%}")
        entry["fit_rows"] = result["rows"]
        entry["source"] = "tests/fixtures/published_throughput.yaml (each row names its public source)"
        print(f"{kind}: {json.dumps({k: v for k, v in entry.items() if k not in ('fit_rows', 'source')})}, "
              f"all-reduce latency {result['latencies']} us, fit rows {len(result['rows'])}")
    data["efficiency"]["allreduce_latency_note"] = (
        "fitted per family; p4d takes p4de's value (same NVSwitch fabric; its only public rows are excluded)")
    print("row                                      metric                 measured   estimate    error")
    for r in all_rows:
        est = predict(r)
        flag = "excluded" if r.get("excluded") else ("fit" if r.get("fit") else "held out")
        print(f"{r['id']:40} {r['metric']:22} {r['measured']:9.2f} {est:10.2f} {est / r['measured'] - 1:+8.1%}  {flag}")
    if args.write:
        path = DATA_DIR / DATA_FILE
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()

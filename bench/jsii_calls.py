#!/usr/bin/env python3
"""Count and time the jsii round-trips (python -> node) of a CDK app, by phase and by call.

Phases: import (loading assemblies), build (from cdk.App() to app.synth()) and synth (one call: node does the
rest). Run it in place of `python`, with the same CDK_OUTDIR / CDK_CONTEXT_JSON the app needs:

    CDK_OUTDIR=$(mktemp -d) CDK_CONTEXT_JSON='{"deployments": "deployments/default.yaml"}' \\
        .venv/bin/python bench/jsii_calls.py app.py
    CDK_OUTDIR=$(mktemp -d) CDK_CONTEXT_JSON='{"bench_endpoints": 10}' .venv/bin/python bench/jsii_calls.py \\
        bench/floor_app.py --top 20

Counts are deterministic (docs/performance.md compares them before and after a change); times are not.
"""
from __future__ import annotations

import argparse
import atexit
import collections
import runpy
import sys
import time
from pathlib import Path

import jsii._kernel.providers.process as process

KINDS = ("load", "create", "get", "set", "sget", "sset", "invoke", "sinvoke", "complete")
stats: dict[tuple[str, str, str], list] = collections.defaultdict(lambda: [0, 0.0])
phase = ["import"]


def _wrap(kind: str) -> None:
    original = getattr(process.ProcessProvider, kind)

    def timed(self, request, *args, **kwargs):
        if kind == "load":
            name = request.name
        else:
            name = (getattr(request, "fqn", None) or "") + "." + (
                getattr(request, "method", None) or getattr(request, "property", None) or "")
        start = time.perf_counter()
        try:
            return original(self, request, *args, **kwargs)
        finally:
            entry = stats[(phase[0], kind, name)]
            entry[0] += 1
            entry[1] += time.perf_counter() - start

    setattr(process.ProcessProvider, kind, timed)


def _mark_phases() -> None:
    import aws_cdk as cdk

    app_init, app_synth = cdk.App.__init__, cdk.App.synth

    def init(self, *args, **kwargs):
        phase[0] = "build"
        return app_init(self, *args, **kwargs)

    def synth(self, *args, **kwargs):
        phase[0] = "synth"
        return app_synth(self, *args, **kwargs)

    # The profiler wraps the class's own methods on purpose, for the whole process.
    cdk.App.__init__, cdk.App.synth = init, synth  # type: ignore[method-assign]


def _report(top: int) -> None:
    totals: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for (name, _, _), (count, seconds) in stats.items():
        totals[name][0] += count
        totals[name][1] += seconds
    for name in ("import", "build", "synth"):
        count, seconds = totals.get(name, (0, 0.0))
        print(f"{name:7} {count:6} calls {seconds:7.2f} s", file=sys.stderr)
    if top:
        print(f"top {top} by count:", file=sys.stderr)
        for (name, kind, what), (count, seconds) in sorted(stats.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"  {name:7} {kind:8} {count:6} {seconds * 1000:8.0f} ms  {what}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script", help="the CDK app to run, e.g. app.py")
    parser.add_argument("--top", type=int, default=0, help="also list the N most frequent calls")
    args = parser.parse_args()
    for kind in KINDS:
        _wrap(kind)
    _mark_phases()
    atexit.register(_report, args.top)
    sys.argv = [args.script]
    sys.path[0] = str(Path(args.script).resolve().parent)  # as `python SCRIPT` would have it
    runpy.run_path(args.script, run_name="__main__")


if __name__ == "__main__":
    main()

"""The candidate's estimated time to first token and time per output token meet the request's SLO.

Not applicable without an `slo`. The estimate (selector/performance.py, fitted to public measurements listed
in tests/fixtures/published_throughput.yaml, ±35%) is taken at the largest batch per model copy whose TPOT
meets the target; a candidate is rejected when even batch 1 misses the TPOT target, or when one request of
the load's mean input length (else the plan's max input) misses the TTFT target.
"""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "meets_slo"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    slo = ctx.request.slo
    if slo is None:
        return None
    from selector.performance_plan import candidate_sizing, request_lengths

    from selector.performance import MissingPerformanceData

    try:
        est = candidate_sizing(candidate, ctx).estimate
    except MissingPerformanceData as missing:
        return Rejection(NAME, f"the SLO cannot be checked: {missing}")
    inputs, _ = request_lengths(ctx)
    tpot, ttft = slo.time_per_output_token_ms, slo.time_to_first_token_ms
    if tpot is not None and est.tpot_ms > tpot:
        return Rejection(NAME, f"estimated time per output token {est.tpot_ms:.1f} ms at batch 1 exceeds the "
                               f"{tpot:g} ms target (±{est.uncertainty:.0%}) on {candidate.instance.name} at TP "
                               f"{candidate.tp}")
    if ttft is not None and est.ttft_ms > ttft:
        return Rejection(NAME, f"estimated time to first token {est.ttft_ms:,.0f} ms for {inputs} input tokens "
                               f"exceeds the {ttft:g} ms target (±{est.uncertainty:.0%}) on "
                               f"{candidate.instance.name} at TP {candidate.tp}")
    return None

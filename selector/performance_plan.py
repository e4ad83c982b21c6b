"""The estimator applied to the resolver's candidates: lengths, SLO batch, instance count, the plan's figures.

selector/performance.py is the physics; this module decides which request shape and batch the physics is
asked about:
- with a load: its mean input/output tokens; without: the plan's length limits (full-length requests, the
  worst case the memory model sized the plan for);
- the batch: the planned max batch per model copy, lowered to the largest that meets a TPOT target;
- the instance count: the load's requests per minute over what one instance completes per minute.
"""
from __future__ import annotations

from typing import Any

from selector.errors import SelectorError
from selector.performance import MissingPerformanceData, Sizing, size_for_load, slo_batch, workload
from selector.rules.base import Candidate, Context, Verdict
from selector.sizing import max_batch_size


def request_lengths(ctx: Context) -> tuple[int, int]:
    """(input, output) tokens per request: the load's means, else the limits the plan is built for."""
    request, runtime = ctx.request, ctx.catalog.runtime
    if request.load is not None:
        return request.load.mean_input_tokens, request.load.mean_output_tokens
    output = request.max_output_tokens or min(runtime["default_max_output_tokens"], ctx.max_model_len // 2)
    output = min(output, ctx.max_model_len - 1)
    inputs = request.max_input_tokens or ctx.max_model_len - output
    return max(1, min(inputs, ctx.max_model_len - output)), output


def candidate_sizing(candidate: Candidate, ctx: Context, batch: int | None = None) -> Sizing:
    """The candidate's figures at the largest batch meeting the TPOT target, sized for the load."""
    memory = ctx.memory(candidate)
    batch = batch or max(1, max_batch_size(candidate, memory, ctx.catalog))
    inputs, outputs = request_lengths(ctx)
    slo, load = ctx.request.slo, ctx.request.load
    target = slo.time_per_output_token_ms if slo else None
    replicas = candidate.instance.devices // candidate.tp
    est = slo_batch(candidate.instance, workload(candidate, memory, ctx.shape), batch, inputs, outputs, target,
                    replicas)
    return size_for_load(est, candidate.instance.hourly_usd, load.requests_per_minute if load else None)


def cost_keys(candidates: list[Candidate], ctx: Context) -> dict[str, float] | None:
    """prefer cost with a load or SLO: rank by the fleet's $/1M output tokens (instance count x $/h over the
    load's tokens/h, or $/h over the SLO batch's tokens/h without a load) instead of one instance's $/h."""
    request = ctx.request
    if request.prefer != "cost" or (request.load is None and request.slo is None):
        return None
    try:
        return {c.label: candidate_sizing(c, ctx).fleet_usd_per_million_output_tokens for c in candidates}
    except MissingPerformanceData:
        return None  # one candidate has no figures: rank every candidate by $/h rather than mix the two


def plan_performance(best: Candidate, ctx: Context, batch: int) -> dict[str, Any]:
    """The plan's `performance` object: the estimate at the (SLO) batch, and with a load the fleet size."""
    try:
        sizing = candidate_sizing(best, ctx, batch)
    except MissingPerformanceData as missing:
        return {"estimate_missing": str(missing)}
    out = sizing.estimate.as_dict()
    if ctx.request.load is not None:
        out.update(sizing.as_dict())
    if ctx.request.slo is not None:
        slo = ctx.request.slo
        out["slo"] = {"time_to_first_token_ms": slo.time_to_first_token_ms,
                      "time_per_output_token_ms": slo.time_per_output_token_ms}
    return out


def rationale_line(best: Candidate, ctx: Context, batch: int) -> str:
    try:
        sizing = candidate_sizing(best, ctx, batch)
    except MissingPerformanceData as missing:
        return f"No throughput or latency estimate: {missing}."
    inputs, outputs = request_lengths(ctx)
    where = "at the load's mean lengths" if ctx.request.load else "for full-length requests"
    line = f"Estimated {where} ({inputs} in / {outputs} out tokens): {sizing.estimate.summary}."
    if ctx.shape.num_experts > 1:
        line += (f" Mixture-of-experts: costed as if all {ctx.shape.num_experts} experts were read and computed every "
                 "step, which is conservative at small batches and not validated by a public measurement "
                 "(docs/performance.md, section 4 known limits).")
    load = ctx.request.load
    if load is not None:
        line += (f" {load.requests_per_minute:g} requests/min need {sizing.instances} instance"
                 f"{'s' if sizing.instances > 1 else ''} (autoscaling {sizing.min_instances}-{sizing.max_instances}), "
                 f"${sizing.fleet_usd_per_million_output_tokens:,.2f} per 1M output tokens at that load.")
    return line


def _estimate_or_none(candidate: Candidate, ctx: Context):
    try:
        return candidate_sizing(candidate, ctx, 1).estimate
    except MissingPerformanceData:
        return None


def slo_refusal(verdicts: list[Verdict], ctx: Context) -> SelectorError:
    """No candidate meets the SLO: name the best TTFT and TPOT any memory-feasible candidate achieves."""
    slo = ctx.request.slo
    assert slo is not None, "meets_slo refuses candidates only when the request sets an slo"
    missed = [c for c, r in verdicts if r is not None and r.rule == "meets_slo"]
    estimates = [(c, _estimate_or_none(c, ctx)) for c in missed]
    estimates = [(c, e) for c, e in estimates if e is not None]
    if not estimates:
        return SelectorError("slo", ctx.request.slo, "no candidate has performance figures to check the SLO against",
                             "Drop the SLO, or plan on families listed in selector/data/accelerator_performance.json")
    fastest_ttft = min(estimates, key=lambda ce: ce[1].ttft_ms)
    fastest_tpot = min(estimates, key=lambda ce: ce[1].tpot_ms)
    parts = []
    if slo.time_to_first_token_ms is not None:
        parts.append(f"time_to_first_token_ms {slo.time_to_first_token_ms:g}: best estimate "
                     f"{fastest_ttft[1].ttft_ms:,.0f} ms ({fastest_ttft[0].label})")
    if slo.time_per_output_token_ms is not None:
        parts.append(f"time_per_output_token_ms {slo.time_per_output_token_ms:g}: best estimate "
                     f"{fastest_tpot[1].tpot_ms:.1f} ms at batch 1 ({fastest_tpot[0].label})")
    value = {k: v for k, v in (("time_to_first_token_ms", slo.time_to_first_token_ms),
                               ("time_per_output_token_ms", slo.time_per_output_token_ms)) if v is not None}
    return SelectorError(
        "slo", value, "no plan meets it by the estimate (±35%): " + "; ".join(parts),
        "Relax the target to at least the best estimate, allow more instance families, or lower the input length",
    )


def check_load_slo(request) -> None:
    """Positive numbers only: a zero or negative rate, length or target has no meaning."""
    checks = []
    if request.load is not None:
        checks += [("load.requests_per_minute", request.load.requests_per_minute),
                   ("load.mean_input_tokens", request.load.mean_input_tokens),
                   ("load.mean_output_tokens", request.load.mean_output_tokens)]
    if request.slo is not None:
        checks += [("slo.time_to_first_token_ms", request.slo.time_to_first_token_ms),
                   ("slo.time_per_output_token_ms", request.slo.time_per_output_token_ms)]
    for name, value in checks:
        if value is not None and not value > 0:
            raise SelectorError(name, value, "must be a positive number", f"Give {name} greater than 0")
    if request.slo is not None and request.slo.time_to_first_token_ms is None \
            and request.slo.time_per_output_token_ms is None:
        raise SelectorError("slo", {}, "names no target", "Give time_to_first_token_ms and/or time_per_output_token_ms")

"""Each device holds its share of the weights plus KV cache for min_concurrency full-length sequences."""
from __future__ import annotations

from selector.catalog import GIB
from selector.rules.base import Candidate, Context, Rejection

NAME = "device_memory_fits"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    mem = ctx.memory(candidate)
    if mem.fits:
        return None
    usable = mem.usable_per_device_bytes / GIB
    weights = mem.weights_per_device_bytes / GIB
    if mem.kv_budget_per_device_bytes <= 0:
        return Rejection(
            NAME,
            f"weights need {weights:.1f} GiB per device at TP {candidate.tp}, {candidate.instance.name} "
            f"leaves {usable:.1f} GiB usable per device",
        )
    need = mem.required_tokens * mem.kv_bytes_per_token_per_device / GIB
    return Rejection(
        NAME,
        f"weights {weights:.1f} GiB + KV cache {need:.1f} GiB for {ctx.min_concurrency} x {ctx.max_model_len} "
        f"tokens exceed {usable:.1f} GiB usable per device on {candidate.instance.name} at TP {candidate.tp} "
        f"(room for {mem.kv_token_capacity} tokens)",
    )

"""Each device holds its share of the weights plus KV cache for min_concurrency full-length sequences within
what vLLM would give it (CUDA-visible total x gpu_memory_utilization, less non-torch memory and the profile run's
activation peak: selector/memory.py, docs/memory.md), and one model copy may batch that many (backend cap: 256,
or 32 on Neuron)."""
from __future__ import annotations

from selector.catalog import GIB
from selector.memory import SERVING_DTYPE_BYTES
from selector.rules.base import Candidate, Context, Rejection
from selector.sizing import batch_cap

NAME = "device_memory_fits"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    cap = batch_cap(candidate, ctx.catalog)
    if ctx.min_concurrency > cap:
        return Rejection(NAME, f"min_concurrency {ctx.min_concurrency} exceeds the {cap} sequences one "
                               f"{candidate.backend.display_name} model copy batches; use instance_count or "
                               f"autoscaling for more")
    mem = ctx.memory(candidate)
    usable = mem.usable_per_device_bytes / GIB
    offer = candidate.backend.runtime_quantization.get(candidate.quantization.name)
    if offer and offer.loads_full_precision and not ctx.shape.prequantized:
        full = ctx.shape.total_params() * SERVING_DTYPE_BYTES / candidate.tp / GIB
        if full > usable:
            return Rejection(NAME, f"{candidate.backend.display_name} {offer.method} loads the 16-bit weights "
                                   f"before quantizing: {full:.1f} GiB per device at TP {candidate.tp} exceeds "
                                   f"{usable:.1f} GiB usable on {candidate.instance.name}")
    engine = _engine_limit(candidate, ctx, mem.engine_token_limit)
    if engine:
        return engine
    if mem.fits:
        return None
    weights = mem.weights_per_device_bytes / GIB
    if mem.kv_budget_per_device_bytes <= 0:
        latent = (f" (and the multi-head latent attention KV cache {mem.kv_bytes_per_token_per_device:,} bytes per "
                  f"token per device)") if ctx.shape.mla else ""
        return Rejection(
            NAME,
            f"weights need {weights:.1f} GiB per device at TP {candidate.tp}{latent}, {candidate.instance.name} "
            f"leaves {usable:.1f} GiB usable per device",
        )
    need = mem.required_tokens * mem.kv_bytes_per_token_per_device / GIB
    return Rejection(
        NAME,
        f"weights {weights:.1f} GiB + KV cache {need:.1f} GiB for {ctx.min_concurrency} x {ctx.max_model_len} "
        f"tokens exceed {usable:.1f} GiB usable per device on {candidate.instance.name} at TP {candidate.tp} "
        f"(room for {mem.kv_token_capacity} tokens)",
    )


def _engine_limit(candidate: Candidate, ctx: Context, limit: int | None) -> Rejection | None:
    """TensorRT-LLM processes a whole prompt in one engine step: it must fit the largest engine DJL measured for this
    model on this GPU (runtime.json trtllm_measured_max_tokens)."""
    if limit is None:
        return None
    where = f"{ctx.shape.model_id} on {candidate.instance.accelerator} at TP {candidate.tp}"
    source = "DJL's TensorRT-LLM max_num_tokens tutorial, LMI 0.28.0"
    if limit == 0:
        return Rejection(NAME, f"TensorRT-LLM runs out of memory for {where} at every max_num_tokens ({source})")
    default_out = ctx.catalog.runtime["default_max_output_tokens"]
    prompt = ctx.request.max_input_tokens or ctx.max_model_len - min(default_out, ctx.max_model_len // 2)
    if prompt <= limit:
        return None
    return Rejection(NAME, f"a {prompt}-token prompt needs a TensorRT-LLM engine of at least {prompt} tokens; "
                           f"{where} fits at most {limit} ({source})")

"""The backend applies the quantization method at that container version, for that architecture.

Runtime methods are applied at load or compile time; AWQ/GPTQ/FP8 checkpoints must already be quantized
and are read as they are (vLLM/lmi-dist load AOT checkpoints, TensorRT-LLM quantizes while compiling, DeepSpeed and
NeuronX quantize to int8 at load: the vllm_user_guide.md and trt_llm_user_guide.md under
https://github.com/deepjavalibrary/djl-serving/blob/d21927c4a692335fba62a87cc430a5fc00c5f790/serving/docs/lmi/user_guides/;
offers per version in selector/data/backends.json).
"""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection
from selector.versions import at_least

NAME = "quantization_offered"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    backend, version = candidate.backend, candidate.image.version
    method = candidate.quantization.name
    checkpoint = ctx.shape.prequantized
    if checkpoint:
        since = backend.prequantized.get(checkpoint)
        if since is None or not at_least(version, since):
            loaders = [b.name for b in ctx.catalog.backends.values() if checkpoint in b.prequantized]
            return Rejection(
                NAME,
                f"{backend.display_name} {version} does not load {checkpoint.upper()} pre-quantized "
                f"checkpoints; backends that do: {', '.join(loaders) or 'none'}",
            )
        return None
    if method == "none":
        return None
    offer = backend.runtime_quantization.get(method)
    if offer is None or not at_least(version, offer.since):
        offered = [m for m, q in backend.runtime_quantization.items() if at_least(version, q.since)]
        extra = " (AWQ/GPTQ need a checkpoint that is already quantized)" if method in ("awq", "gptq") else ""
        return Rejection(
            NAME,
            f"{backend.display_name} {version} does not quantize to {method} at load{extra}; "
            f"it offers: {', '.join(offered) or 'no runtime quantization'}",
        )
    if ctx.shape.architecture in offer.excluded_architectures:
        return Rejection(
            NAME, f"{backend.display_name} {method} does not apply to {ctx.shape.architecture}",
        )
    if offer.architectures is not None and ctx.shape.architecture not in offer.architectures:
        return Rejection(
            NAME,
            f"{backend.display_name} {method} supports only {', '.join(sorted(offer.architectures))}, "
            f"not {ctx.shape.architecture}",
        )
    return None

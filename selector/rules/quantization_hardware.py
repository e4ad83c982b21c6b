"""The accelerator can run the quantized kernels (TensorRT-LLM FP8 needs compute capability 8.9+)."""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "quantization_hardware"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    offer = candidate.backend.runtime_quantization.get(candidate.quantization.name)
    if offer is None or offer.min_compute_capability is None or ctx.shape.prequantized:
        return None
    capability = candidate.instance.compute_capability
    if capability is not None and capability >= offer.min_compute_capability:
        return None
    return Rejection(
        NAME,
        f"{candidate.backend.display_name} {candidate.quantization.name} needs compute capability "
        f"{offer.min_compute_capability}+ (Ada/Hopper); {candidate.instance.name} has "
        f"{candidate.instance.accelerator} ({capability})",
    )

"""The accelerator can run the quantized kernels.

- Runtime quantization: a method's minimum compute capability (TensorRT-LLM FP8 needs 8.9+), from backends.json.
- Block-quantized FP8 checkpoints (quantization_config.weight_block_size: DeepSeek-V3, Qwen3-*-FP8) need native FP8
  (compute capability 8.9+): vLLM runs FP8 weight-only on Ampere through its Marlin kernel, but not block-wise FP8
  ("Marlin doesn't support block-wise fp8", vllm/model_executor/layers/quantization/fp8.py Fp8LinearMethod, still
  so in late-2025 vLLM; vllm-project/vllm issue #13885: DeepSeek-R1 FP8 cannot be deployed on Ampere).
"""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "quantization_hardware"
NATIVE_FP8 = 8.9  # Ada Lovelace and Hopper (selector/data/gpu_architectures.json)


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    capability = candidate.instance.compute_capability
    if ctx.shape.fp8_block is not None and candidate.instance.accelerator_kind == "nvidia":
        if capability is not None and capability >= NATIVE_FP8:
            return None
        return Rejection(
            NAME,
            f"the checkpoint is block-quantized FP8 (weight_block_size {list(ctx.shape.fp8_block)}), which vLLM runs "
            f"only with native FP8 (compute capability {NATIVE_FP8}+, Ada/Hopper): its Ampere Marlin path does not "
            f"take block-wise scales; {candidate.instance.name} has {candidate.instance.accelerator} ({capability})",
        )
    offer = candidate.backend.runtime_quantization.get(candidate.quantization.name)
    if offer is None or offer.min_compute_capability is None or ctx.shape.prequantized:
        return None
    if capability is not None and capability >= offer.min_compute_capability:
        return None
    return Rejection(
        NAME,
        f"{candidate.backend.display_name} {candidate.quantization.name} needs compute capability "
        f"{offer.min_compute_capability}+ (Ada/Hopper); {candidate.instance.name} has "
        f"{candidate.instance.accelerator} ({capability})",
    )

"""A method that quantizes by calibrating the unquantized model needs the whole model's 16-bit weights in the
instance's device memory while it calibrates (spread over every GPU, not one TP shard), before the smaller
quantized engine is built.

TensorRT-LLM 0.33.0 hands option.quant_algo to its LLM API (djl-serving trt_llm_partition.py); AWQ, SmoothQuant
and FP8 go through ModelOpt, whose quantize_and_export loads the checkpoint with device_map="auto" over every
visible GPU and runs the calibration set through it. Which offers calibrate, and where, is data
(selector/data/backends.json runtime_quantization.<method>.calibration, with sources). This is a necessary
condition: calibration activations (one 512-token sample at a time by default) come on top.
"""
from __future__ import annotations

from selector.catalog import GIB
from selector.memory import SERVING_DTYPE_BYTES
from selector.rules.base import Candidate, Context, Rejection

NAME = "calibration_memory_fits"
ALL_DEVICES = "all_devices"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    offer = candidate.backend.runtime_quantization.get(candidate.quantization.name)
    if offer is None or offer.calibration is None or ctx.shape.prequantized:
        return None
    if offer.calibration != ALL_DEVICES:
        raise ValueError(f"unknown calibration placement {offer.calibration!r} in backends.json")
    weights = ctx.shape.total_params() * SERVING_DTYPE_BYTES
    devices = candidate.instance.accelerators
    capacity = ctx.memory(candidate).device_capacity_bytes * devices
    if weights <= capacity:
        return None
    return Rejection(
        NAME,
        f"{candidate.backend.display_name} {offer.method} calibrates the unquantized model first: its 16-bit "
        f"weights ({weights / GIB:.1f} GiB) exceed the {capacity / GIB:.1f} GiB of all {devices} GPU(s) of "
        f"{candidate.instance.name}",
    )

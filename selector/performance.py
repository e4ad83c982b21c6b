"""Throughput, latency and cost per token of a plan, from the hardware's physics (issue 15).

Why a model and not a table: no public table covers every model x instance x TP x quantization the selector
plans, but three bounds do, and the public measurements in tests/fixtures/published_throughput.yaml pin
their efficiencies.

- Decode is memory-bandwidth bound at small batches: every step reads each device's weights and the KV cache
  of every sequence in the batch; at large batches it turns compute bound (2 x params FLOPs per token). The
  step takes the larger of the two (a roofline), plus the tensor-parallel all-reduces: two per layer
  (attention and MLP), each a fixed latency plus its bytes over the instance's interconnect.
- Prefill (time to first token) is compute bound: 2 x params x input tokens over the dense TFLOPS of the
  dtype the backend computes in, times an MFU, split across TP, plus the weights read once, the all-reduces
  of the prompt's activations and a fixed per-request overhead.
- Neuron: the same, per NeuronCore (the unit LMI's tensor_parallel_degree counts on Inf2).

Quantized weights read fewer bytes: the estimate takes the memory model's weights_per_device_bytes and
kv_bytes_per_token_per_device, so AWQ/GPTQ/fp8/int8 plans decode faster exactly as far as they shrink the
bytes. The compute dtype follows what the hardware runs: W8A8 (SmoothQuant) on int8 tensor cores; fp8 on
Ampere is weight-only (computes in 16 bit); Neuron runs fp8 at its cFP8 rate.

Every hardware figure and fitted factor lives in selector/data/accelerator_performance.json with its source.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from selector.catalog import Instance, read_data

DATA_FILE = "accelerator_performance.json"
ACTIVATION_BYTES = 2  # fp16/bf16 activations on the wire
GB = 1e9
HOUR_S = 3600
INT4_WEIGHT_ONLY = ("awq", "gptq")


@lru_cache(maxsize=1)
def performance_data() -> dict[str, Any]:
    return read_data(DATA_FILE)


@dataclass(frozen=True)
class Hardware:
    """One device (GPU or NeuronCore) of an instance family, and the factors fitted for its kind."""

    accelerator: str
    bandwidth_gbps: float
    tflops: dict[str, float]
    link_gbps: float
    interconnect: str
    bandwidth_efficiency: float
    prefill_mfu: float
    ttft_overhead_ms: float
    allreduce_latency_us: float
    int4_bandwidth_factor: float


class MissingPerformanceData(LookupError):
    """The data file has no figure for this instance's family or device: plans say so instead of estimating."""

    def __init__(self, instance: Instance, what: str) -> None:
        super().__init__(f"{DATA_FILE} has no {what} for {instance.name} ({instance.family}, {instance.accelerator})")


def hardware(instance: Instance) -> Hardware:
    data = performance_data()
    family = data["families"].get(instance.family)
    if family is None:
        raise MissingPerformanceData(instance, "family entry (interconnect, link bandwidth)")
    device = data["accelerators"].get(family["accelerator"])
    if device is None or not device.get("dense_tflops") or not device.get("memory_bandwidth_gbps"):
        raise MissingPerformanceData(instance, f"bandwidth or dense TFLOPS of {family['accelerator']}")
    if instance.family not in data["efficiency"]["allreduce_latency_us"]:
        raise MissingPerformanceData(instance, "all-reduce latency")
    kind = data["efficiency"][instance.accelerator_kind]
    return Hardware(
        accelerator=family["accelerator"],
        bandwidth_gbps=device["memory_bandwidth_gbps"],
        tflops=device["dense_tflops"],
        link_gbps=family["link_gbps"],
        interconnect=family["interconnect"],
        bandwidth_efficiency=kind["decode_bandwidth_efficiency"],
        prefill_mfu=kind["prefill_mfu"],
        ttft_overhead_ms=kind["ttft_overhead_ms"],
        allreduce_latency_us=data["efficiency"]["allreduce_latency_us"][instance.family],
        int4_bandwidth_factor=kind["int4_weight_only_bandwidth_factor"],
    )


def compute_dtype(quantization: str, serving_dtype: str, instance: Instance) -> str:
    """The dtype the matrix multiplies run in: what the TFLOPS figure must be read for.

    SmoothQuant is W8A8 (int8 tensor cores). fp8 computes in fp8 only where the device has fp8 units
    (NeuronCore-v2's cFP8; no catalog GPU, compute capability < 8.9); elsewhere it is weight-only.
    AWQ/GPTQ/int8 weight-only methods dequantize and compute in 16 bit.
    """
    tflops = hardware(instance).tflops
    if quantization == "smoothquant" and "int8" in tflops:
        return "int8"
    if quantization == "fp8" and "fp8" in tflops:
        return "fp8"
    return serving_dtype if serving_dtype in tflops else "fp16"


@dataclass(frozen=True)
class Workload:
    """What one model copy computes: bytes it reads, FLOPs it does, activations it all-reduces."""

    weights_per_device_bytes: int
    kv_bytes_per_token_per_device: int
    params: int
    layers: int
    hidden_size: int
    tp: int
    dtype: str
    int4_weight_only: bool = False  # AWQ/GPTQ: 4-bit weights dequantized on the fly at each step


def _allreduce_s(hw: Hardware, work: Workload, tokens: int) -> float:
    """Two all-reduces per layer of `tokens` activations; nothing to reduce at TP 1.

    Each: a latency growing with log2(TP) (NCCL's tree and Neuron's collectives take log2 steps to reach every
    rank) plus the ring's 2 (TP - 1) / TP share of the payload over the link.
    """
    if work.tp == 1:
        return 0.0
    payload = tokens * work.hidden_size * ACTIVATION_BYTES * 2 * (work.tp - 1) / work.tp
    one = hw.allreduce_latency_us * 1e-6 * math.log2(work.tp) + payload / (hw.link_gbps * GB)
    return 2 * work.layers * one


def decode_step_s(hw: Hardware, work: Workload, batch: int, context_tokens: float) -> float:
    """One decode step for `batch` sequences of `context_tokens` average context, on one model copy."""
    read = work.weights_per_device_bytes + batch * context_tokens * work.kv_bytes_per_token_per_device
    efficiency = hw.bandwidth_efficiency * (hw.int4_bandwidth_factor if work.int4_weight_only else 1.0)
    memory = read / (hw.bandwidth_gbps * GB * efficiency)
    compute = 2 * work.params * batch / work.tp / (hw.tflops[work.dtype] * 1e12 * hw.prefill_mfu)
    return max(memory, compute) + _allreduce_s(hw, work, batch)


def prefill_s(hw: Hardware, work: Workload, tokens: int) -> float:
    """Prefill of `tokens` prompt tokens (one request, or a batch's prompts together) on one model copy."""
    compute = 2 * work.params * tokens / work.tp / (hw.tflops[work.dtype] * 1e12 * hw.prefill_mfu)
    weights = work.weights_per_device_bytes / (hw.bandwidth_gbps * GB * hw.bandwidth_efficiency)
    return hw.ttft_overhead_ms / 1000 + compute + weights + _allreduce_s(hw, work, tokens)


@dataclass(frozen=True)
class Estimate:
    """The figures a plan shows, at `batch` concurrent sequences per model copy."""

    batch: int
    replicas: int
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float
    tokens_per_s_per_sequence: float
    tokens_per_s_per_instance: float  # output tokens, all model copies, prefill time included
    usd_per_million_output_tokens: float
    uncertainty: float
    accelerator: str
    interconnect: str
    compute_dtype: str

    def as_dict(self) -> dict[str, Any]:
        low, high = 1 - self.uncertainty, 1 + self.uncertainty
        return {
            "batch": self.batch,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "time_to_first_token_ms": round(self.ttft_ms, 1),
            "time_per_output_token_ms": round(self.tpot_ms, 2),
            "tokens_per_s_per_sequence": round(self.tokens_per_s_per_sequence, 1),
            "tokens_per_s_per_instance": round(self.tokens_per_s_per_instance, 1),
            "usd_per_million_output_tokens": round(self.usd_per_million_output_tokens, 4),
            "usd_per_million_output_tokens_range": [round(self.usd_per_million_output_tokens / high, 4),
                                                    round(self.usd_per_million_output_tokens / low, 4)],
            "uncertainty": self.uncertainty,
            "accelerator": self.accelerator,
            "interconnect": self.interconnect,
            "compute_dtype": self.compute_dtype,
            "method": "roofline estimate fitted to public measurements (docs/performance.md)",
        }

    @property
    def summary(self) -> str:
        pct = round(self.uncertainty * 100)
        copies = f"{self.replicas} model cop{'y' if self.replicas == 1 else 'ies'}"
        return (f"~{self.tokens_per_s_per_instance:,.0f} output tokens/s per instance ({copies} at batch "
                f"{self.batch}; TTFT {self.ttft_ms:,.0f} ms, TPOT {self.tpot_ms:.1f} ms, "
                f"{self.tokens_per_s_per_sequence:.0f} tokens/s per sequence), "
                f"${self.usd_per_million_output_tokens:,.2f} per 1M output tokens (±{pct}%)")


def estimate_workload(instance: Instance, work: Workload, batch: int, input_tokens: int, output_tokens: int,
                      replicas: int = 1) -> Estimate:
    """Figures for `batch` sequences of input/output tokens on each of `replicas` model copies."""
    hw = hardware(instance)
    batch = max(1, batch)
    context = input_tokens + output_tokens / 2  # average context over the decode
    step = decode_step_s(hw, work, batch, context)
    ttft = prefill_s(hw, work, input_tokens)
    # A copy's cycle: prefill the batch's prompts, then decode them together (continuous batching in steady
    # state spends the same time on prefills per finished request).
    cycle = prefill_s(hw, work, batch * input_tokens) + output_tokens * step
    per_instance = replicas * batch * output_tokens / cycle
    return Estimate(
        batch=batch, replicas=replicas, input_tokens=input_tokens, output_tokens=output_tokens,
        ttft_ms=ttft * 1000, tpot_ms=step * 1000, tokens_per_s_per_sequence=1 / step,
        tokens_per_s_per_instance=per_instance,
        usd_per_million_output_tokens=instance.hourly_usd / (per_instance * HOUR_S) * 1e6,
        uncertainty=performance_data()["uncertainty"], accelerator=hw.accelerator,
        interconnect=hw.interconnect, compute_dtype=work.dtype,
    )


def workload(candidate, memory, shape) -> Workload:
    """The Workload of a resolver candidate, from the memory model's per-device bytes."""
    return Workload(
        weights_per_device_bytes=memory.weights_per_device_bytes,
        kv_bytes_per_token_per_device=memory.kv_bytes_per_token_per_device,
        params=shape.total_params(),
        layers=shape.num_layers + (shape.num_decoder_layers if shape.encoder_decoder else 0),
        hidden_size=shape.hidden_size,
        tp=candidate.tp,
        dtype=compute_dtype(candidate.quantization.name, shape.serving_dtype, candidate.instance),
        int4_weight_only=is_int4_weight_only(candidate.quantization.name, shape.prequantized),
    )


def is_int4_weight_only(quantization: str, prequantized: str | None) -> bool:
    return quantization in INT4_WEIGHT_ONLY or prequantized in INT4_WEIGHT_ONLY


def estimate(candidate, memory, shape, batch: int, input_tokens: int, output_tokens: int) -> Estimate:
    """Figures for a resolver candidate at `batch` sequences per model copy."""
    replicas = candidate.instance.devices // candidate.tp
    return estimate_workload(candidate.instance, workload(candidate, memory, shape), batch, input_tokens,
                             output_tokens, replicas)


# --- load and SLO -------------------------------------------------------------------------------------------

BURST_FACTOR = 2  # autoscaling ceiling: twice the mean arrival rate (a policy choice, stated in the plan)


@dataclass(frozen=True)
class Sizing:
    """How many instances a load needs, at the largest batch that still meets the SLO."""

    estimate: Estimate
    instances: int
    min_instances: int
    max_instances: int
    requests_per_minute: float | None
    fleet_usd_per_million_output_tokens: float  # fleet $/h over the load's output tokens/h (or at full batch)

    def as_dict(self) -> dict[str, Any]:
        return {
            "instance_count": self.instances,
            "autoscaling": {"min_instances": self.min_instances, "max_instances": self.max_instances,
                            "max_is": f"{BURST_FACTOR} x the mean requests_per_minute"},
            "requests_per_minute": self.requests_per_minute,
            "usd_per_million_output_tokens_at_load": round(self.fleet_usd_per_million_output_tokens, 4),
        }


def slo_batch(instance: Instance, work: Workload, max_batch: int, input_tokens: int, output_tokens: int,
              tpot_target_ms: float | None, replicas: int = 1) -> Estimate:
    """The estimate at the largest batch <= max_batch whose TPOT meets the target (batch 1 if none does)."""
    if tpot_target_ms is None:
        return estimate_workload(instance, work, max_batch, input_tokens, output_tokens, replicas)
    low, high = 1, max(1, max_batch)
    best = estimate_workload(instance, work, 1, input_tokens, output_tokens, replicas)
    while low <= high:  # TPOT grows with batch: bisect for the largest batch that meets it
        mid = (low + high) // 2
        found = estimate_workload(instance, work, mid, input_tokens, output_tokens, replicas)
        if found.tpot_ms <= tpot_target_ms:
            best, low = found, mid + 1
        else:
            high = mid - 1
    return best


def size_for_load(est: Estimate, hourly_usd: float, requests_per_minute: float | None) -> Sizing:
    """Instances for the load (ceil of arrival rate / per-instance completion rate); one without a load."""
    if not requests_per_minute:
        return Sizing(est, 1, 1, 1, None, est.usd_per_million_output_tokens)
    per_instance_rpm = est.tokens_per_s_per_instance / est.output_tokens * 60
    need = requests_per_minute / per_instance_rpm
    instances = max(1, math.ceil(need - 1e-9))
    tokens_per_hour = requests_per_minute * 60 * est.output_tokens
    return Sizing(
        est, instances, instances, max(instances, math.ceil(need * BURST_FACTOR - 1e-9)), requests_per_minute,
        instances * hourly_usd / tokens_per_hour * 1e6,
    )

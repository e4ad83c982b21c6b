"""Per-device memory arithmetic (DESIGN.md "Memory model"), every number kept for --json.

A device is one GPU, or one NeuronCore on Inf2 (the unit LMI's tensor_parallel_degree counts there).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from selector.catalog import GIB, Catalog, Instance, QuantizationMethod
from selector.model_shape import ModelShape

SERVING_DTYPE_BYTES = 2  # fp16/bf16: LMI never serves fp32 weights


def weight_bytes(shape: ModelShape, method: QuantizationMethod) -> int:
    """Weights as served: quantization shrinks the block linear layers; embeddings stay 16-bit.

    A pre-quantized checkpoint is served as stored, at its own bits and group size.
    """
    if shape.prequantized:
        return shape.checkpoint_bytes()
    if method.weight_bits is None:
        return shape.total_params() * SERVING_DTYPE_BYTES
    per_param = method.weight_bits / 8
    if method.group_size:
        per_param += method.group_overhead_bytes / method.group_size
    return math.ceil(shape.block_params() * per_param) + shape.embedding_params() * SERVING_DTYPE_BYTES


def kv_bytes_per_token(shape: ModelShape, kv_dtype_bytes: int, tp: int = 1) -> int:
    """K and V for one token on one device (GQA-aware; KV heads are replicated when TP exceeds them).

    Encoder-decoder models count decoder self- and cross-attention (a conservative bound).
    """
    heads_per_device = max(1, shape.num_kv_heads // tp) if tp > 1 else shape.num_kv_heads
    layers = shape.num_decoder_layers * (2 if shape.encoder_decoder else 1)
    return 2 * layers * heads_per_device * shape.head_dim * kv_dtype_bytes


def device_capacity_bytes(instance: Instance, catalog: Catalog) -> int:
    if instance.accelerator_kind == "neuron":
        return int(catalog.runtime["neuron_core_memory_gib"] * GIB)
    return int(instance.accelerator_memory_gib * GIB)


def usable_bytes(instance: Instance, catalog: Catalog) -> int:
    """What weights and KV cache may use on one device after utilization and runtime overhead."""
    runtime = catalog.runtime
    capacity = device_capacity_bytes(instance, catalog)
    if instance.accelerator_kind == "neuron":
        return int(capacity * runtime["neuron_memory_utilization"])
    return int(capacity * runtime["gpu_memory_utilization"] - runtime["gpu_runtime_overhead_gib"] * GIB)


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    weights_per_device_bytes: int
    kv_bytes_per_token: int
    kv_bytes_per_token_per_device: int
    device_capacity_bytes: int
    usable_per_device_bytes: int
    kv_budget_per_device_bytes: int
    kv_token_capacity: int  # tokens one model copy can hold
    required_tokens: int  # min_concurrency x max_model_len
    max_model_len: int

    @property
    def fits(self) -> bool:
        return self.kv_budget_per_device_bytes > 0 and self.kv_token_capacity >= self.required_tokens

    def per_device_bytes(self, batch: int) -> int:
        """Weights plus KV for `batch` full-length sequences on one device."""
        kv = batch * self.max_model_len * self.kv_bytes_per_token_per_device
        return self.weights_per_device_bytes + kv

    def as_dict(self, batch: int) -> dict[str, int]:
        data = asdict(self)
        data["per_device_bytes"] = self.per_device_bytes(batch)
        return data


def estimate(
    shape: ModelShape, method: QuantizationMethod, instance: Instance, tp: int,
    max_model_len: int, min_concurrency: int, catalog: Catalog,
) -> MemoryEstimate:
    weights = weight_bytes(shape, method)
    weights_per_device = math.ceil(weights / tp)
    kv_dtype = catalog.runtime["kv_cache_dtype_bytes"]
    kv_device = kv_bytes_per_token(shape, kv_dtype, tp)
    usable = usable_bytes(instance, catalog)
    budget = usable - weights_per_device
    return MemoryEstimate(
        weights_bytes=weights,
        weights_per_device_bytes=weights_per_device,
        kv_bytes_per_token=kv_bytes_per_token(shape, kv_dtype),
        kv_bytes_per_token_per_device=kv_device,
        device_capacity_bytes=device_capacity_bytes(instance, catalog),
        usable_per_device_bytes=usable,
        kv_budget_per_device_bytes=budget,
        kv_token_capacity=max(0, budget) // kv_device,
        required_tokens=min_concurrency * max_model_len,
        max_model_len=max_model_len,
    )

"""Per-device memory arithmetic, every number kept for --json (docs/memory.md walks through it).

A device is one GPU, or one NeuronCore on Inf2 (the unit LMI's tensor_parallel_degree counts there).

GPU budgets follow how vLLM sizes its KV cache (vllm/v1/worker/gpu_worker.py determine_available_memory):
KV = CUDA-visible total x gpu_memory_utilization - (weights + activation peak of a profile run + non-torch memory).
The CUDA context's share outside the budget and CUDA graphs live in the remaining (1 - utilization).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from selector.catalog import GIB, Catalog, Instance, QuantizationMethod, read_data
from selector.model_shape import ModelShape, model_type_data
from selector.versions import version_key

MIB = 1024**2
SERVING_DTYPE_BYTES = 2  # fp16/bf16: LMI never serves fp32 weights


@lru_cache(maxsize=1)
def accelerator_memory() -> dict[str, Any]:
    """CUDA-visible (and nominal) memory per accelerator type, with sources (instances.json)."""
    return read_data("instances.json")["accelerator_memory"]


def accelerator_key(instance: Instance) -> str:
    if instance.accelerator_kind == "neuron":
        return instance.accelerator
    return f"{instance.accelerator}-{instance.accelerator_memory_gib:g}GB" if instance.accelerator == "A100" \
        else instance.accelerator


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


def kv_bytes_per_token(shape: ModelShape, kv_dtype_bytes: int, tp: int = 1, window: SlidingKv | None = None,
                       latent: bool = True) -> int:
    """K and V for one token on one device (GQA-aware; KV heads are replicated when TP exceeds them).

    Encoder-decoder models count decoder self- and cross-attention (a conservative bound). Multi-head latent
    attention stores one latent of kv_lora_rank + qk_rope_head_dim values per token and layer, not K and V per head,
    and every TP rank holds all of it (vLLM MLAAttentionSpec: one KV head, no factor 2). With `window` (the engine
    allocates sliding-window layers by their window) the figure is the per-sequence KV at window.max_model_len
    spread over its tokens, so capacity in tokens still divides by max_model_len into whole sequences. latent=False:
    an engine without an MLA cache (model_types.json mla_kv) keeps K and V per head at the padded head size.
    """
    layers = shape.num_decoder_layers * (2 if shape.encoder_decoder else 1)
    heads_per_device = max(1, shape.num_kv_heads // tp) if tp > 1 else shape.num_kv_heads
    if shape.mla and latent:
        per_layer = shape.mla.latent_dim * kv_dtype_bytes
    elif shape.mla:
        per_layer = 2 * heads_per_device * model_type_data()["mla_kv"]["expanded_head_dim"] * kv_dtype_bytes
    else:
        per_layer = 2 * heads_per_device * shape.head_dim * kv_dtype_bytes
    if window is None or not shape.sliding_layers or not shape.sliding_window:
        return layers * per_layer
    length = window.max_model_len
    held = min(length, (math.ceil((shape.sliding_window - 1 + window.batched_tokens) / window.block_tokens) + 1)
               * window.block_tokens)
    per_sequence = per_layer * ((layers - shape.sliding_layers) * length + shape.sliding_layers * held)
    return math.ceil(per_sequence / length)


def latent_kv(backend: str | None, version: str | None) -> bool:
    """Whether the engine caches MLA as one latent: LMI vllm from model_types.json mla_kv's version."""
    since = model_type_data()["mla_kv"]["lmi_vllm_since"]
    return backend == "vllm" and version is not None and version_key(version) >= version_key(since)


@dataclass(frozen=True)
class SlidingKv:
    """How a windowing engine sizes sliding-window layers (model_types.json sliding_window_kv)."""

    max_model_len: int
    batched_tokens: int  # max_num_batched_tokens: one prefill chunk beyond the window is held too
    block_tokens: int


def sliding_kv(shape: ModelShape, backend: str | None, version: str | None, max_model_len: int,
               eng: Engine) -> SlidingKv | None:
    """vLLM's hybrid KV cache manager (LMI vllm from the version in model_types.json) windows sliding layers;
    every other engine and older vLLM allocate the full context for every layer, so they get None."""
    rule = model_type_data()["sliding_window_kv"]
    if not shape.sliding_layers or backend != "vllm" or version is None \
            or version_key(version) < version_key(rule["lmi_vllm_since"]):
        return None
    return SlidingKv(max_model_len, eng.profile_tokens, rule["block_tokens"])


def device_capacity_bytes(instance: Instance, catalog: Catalog) -> int:
    """What the device runtime reports as total memory: CUDA-visible for GPUs, HBM per NeuronCore on Inf2."""
    facts = accelerator_memory()[accelerator_key(instance)]
    if instance.accelerator_kind == "neuron":
        return int(facts["neuron_core_hbm_gib"] * GIB)
    return int(facts["cuda_visible_mib"] * MIB)


@dataclass(frozen=True)
class Engine:
    """How the serving engine profiles activation memory (see runtime.json notes)."""

    profile_tokens: int  # max_num_batched_tokens of the profile forward pass
    sampler_fp32_copies: int  # float32 vocab-wide tensors the sampler holds per sampled row


def engine(backend: str | None, version: str | None, max_model_len: int, catalog: Catalog) -> Engine:
    """vLLM V1 (LMI vllm >= 0.33.0) profiles 2048 tokens with a lean sampler; V0 (older vllm, lmi-dist) and the
    other GPU engines are held to a whole max_model_len prompt and V0's heavier sampler when vLLM-based.

    lmi-dist 0.25.0-0.26.0 (lmi_dist 0.9.4 / 8.0.0 in the djl-deepspeed image) is not vLLM but its own paged
    attention engine, which warms up on max_rolling_batch_prefill_tokens (4096 by default at 0.26.0-dlc,
    lmi_dist_rb_properties.py @ 1635512c) and sizes its KV cache from what is left; lmi-dist 0.27.0 (lmi_dist
    9.0.0) already takes vLLM's engine arguments (lmi_dist_rb_properties.py @ 049a929b). Every lmi-dist version
    is therefore held to the conservative V0 profile: a whole max_model_len prompt and V0's sampler."""
    rt = catalog.runtime
    base = rt["vllm_profile_tokens"]
    v1 = backend == "vllm" and version is not None and version_key(version) >= version_key(rt["vllm_v1_since"])
    if v1:
        return Engine(base, rt["vllm_v1_sampler_fp32_copies"])
    copies = rt["vllm_v0_sampler_fp32_copies"] if backend in ("vllm", "lmi-dist") else rt["vllm_v1_sampler_fp32_copies"]
    return Engine(max(max_model_len, base), copies)


def activation_bytes(shape: ModelShape, tp: int, eng: Engine, catalog: Catalog) -> int:
    """Peak transient memory of the profile run on one device: the larger of the forward pass (residual, hidden and
    normed states of every token plus the TP-sharded MLP up/gate and activation outputs) and the sampler (float32
    vocab-wide rows for up to max_num_seqs sequences). Checked against vLLM's logged figures in tests/test_memory.py."""
    rt = catalog.runtime
    mlp_width = shape.intermediate_size * shape.experts_per_token
    mlp = (3 if shape.gated_mlp else 2) * math.ceil(mlp_width / tp)
    forward = eng.profile_tokens * (4 * shape.hidden_size + mlp) * rt["activation_dtype_bytes"]
    rows = min(rt["vllm_profile_seqs"], eng.profile_tokens)
    sampler = rows * shape.vocab_size * rt["logits_dtype_bytes"] * eng.sampler_fp32_copies
    return max(forward, sampler)


def usable_bytes(instance: Instance, catalog: Catalog, activation: int = 0) -> int:
    """What weights and KV cache may use on one device: vLLM's utilization share of the CUDA-visible total less
    non-torch memory and the activation peak; on Neuron LMI's ~0.9 of a core's HBM (compiled graphs, no profiling)."""
    runtime = catalog.runtime
    capacity = device_capacity_bytes(instance, catalog)
    if instance.accelerator_kind == "neuron":
        return int(capacity * runtime["neuron_memory_utilization"])
    overhead = runtime["gpu_non_torch_overhead_gib"] * GIB
    return int(capacity * runtime["gpu_memory_utilization"] - overhead - activation)


@dataclass(frozen=True)
class MemoryEstimate:
    weights_bytes: int
    weights_per_device_bytes: int
    kv_bytes_per_token: int
    kv_bytes_per_token_per_device: int
    device_capacity_bytes: int
    activation_per_device_bytes: int
    usable_per_device_bytes: int
    kv_budget_per_device_bytes: int
    kv_token_capacity: int  # tokens one model copy can hold
    required_tokens: int  # min_concurrency x max_model_len
    max_model_len: int
    engine_token_limit: int | None = None  # TensorRT-LLM: largest max_num_tokens measured to fit (None: unknown)

    @property
    def fits(self) -> bool:
        return self.kv_budget_per_device_bytes > 0 and self.kv_token_capacity >= self.required_tokens

    def per_device_bytes(self, batch: int) -> int:
        """Weights plus KV for `batch` full-length sequences on one device."""
        kv = batch * self.max_model_len * self.kv_bytes_per_token_per_device
        return self.weights_per_device_bytes + kv

    def as_dict(self, batch: int) -> dict[str, int]:
        data = asdict(self)
        if self.engine_token_limit is None:
            del data["engine_token_limit"]
        data["per_device_bytes"] = self.per_device_bytes(batch)
        return data


def trtllm_token_limit(shape: ModelShape, instance: Instance, tp: int, catalog: Catalog) -> int | None:
    """The largest max_num_tokens DJL measured a TensorRT-LLM engine of this model to fit on this GPU at this TP
    (runtime.json trtllm_measured_max_tokens; 0 = Out of Memory), or None when not measured."""
    key = f"{shape.model_id}|{accelerator_key(instance)}|{tp}"
    return catalog.runtime["trtllm_measured_max_tokens"].get(key)


def estimate(
    shape: ModelShape, method: QuantizationMethod, instance: Instance, tp: int,
    max_model_len: int, min_concurrency: int, catalog: Catalog,
    backend: str | None = None, version: str | None = None,
) -> MemoryEstimate:
    weights = weight_bytes(shape, method)
    weights_per_device = math.ceil(weights / tp)
    kv_dtype = catalog.runtime["kv_cache_dtype_bytes"]
    eng = engine(backend, version, max_model_len, catalog)
    window = sliding_kv(shape, backend, version, max_model_len, eng) if instance.accelerator_kind != "neuron" else None
    latent = latent_kv(backend, version)
    kv_device = kv_bytes_per_token(shape, kv_dtype, tp, window, latent)
    activation = 0
    if instance.accelerator_kind != "neuron":
        activation = activation_bytes(shape, tp, eng, catalog)
    usable = usable_bytes(instance, catalog, activation)
    budget = usable - weights_per_device
    return MemoryEstimate(
        weights_bytes=weights,
        weights_per_device_bytes=weights_per_device,
        kv_bytes_per_token=kv_bytes_per_token(shape, kv_dtype, 1, window, latent),
        kv_bytes_per_token_per_device=kv_device,
        device_capacity_bytes=device_capacity_bytes(instance, catalog),
        activation_per_device_bytes=activation,
        usable_per_device_bytes=usable,
        kv_budget_per_device_bytes=budget,
        kv_token_capacity=max(0, budget) // kv_device,
        required_tokens=min_concurrency * max_model_len,
        max_model_len=max_model_len,
        engine_token_limit=trtllm_token_limit(shape, instance, tp, catalog) if backend == "tensorrtllm" else None,
    )

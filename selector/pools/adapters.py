"""LoRA adapters on a vLLM base model: the serving.properties keys and the memory they take.

vLLM reserves GPU memory for `max_loras` adapter slots at `max_lora_rank` before it sizes the KV cache, so every
adapter slot is taken out of the KV budget the selector's memory model (selector/memory.py) gave the base model:

    lora bytes = max_lora_rank x sum over target modules of (in + out) x layers x 2 bytes (fp16/bf16) x max_loras

Target modules are every linear layer vLLM can adapt in a decoder block: q, k, v, o and the MLP (gate, up, down
for gated MLPs; fc1, fc2 otherwise). Each device is charged the whole adapter (no division by TP): vLLM shards only
part of each LoRA pair across ranks unless fully_sharded_loras is set, so this is an upper bound. The CPU side
cache (`max_cpu_loras` adapters at their own rank) is host RAM, added to the component's memory reservation.

Keys and the versions that read them: selector/data/container_options.json (djl-serving's
properties_manager/vllm_rb_properties.py at each release branch; from 0.32.0 max_lora_rank and max_cpu_loras
reach vllm.EngineArgs by name), checked by tests/test_conformance.py.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING
from collections.abc import Sequence

from selector.catalog import load_catalog
from selector.model_shape import ModelShape
from selector.plan import Plan
from selector.render import render_file
from selector.versions import at_least

if TYPE_CHECKING:
    from selector.pools.config import Adapter

LORA_DTYPE_BYTES = 2  # adapters are served in the base model's fp16/bf16
FIRST_LORA_VERSION = "0.28.0"  # first vLLM image in selector/data/container_options.json that reads the keys
LORA_KEYS = ("option.enable_lora", "option.max_loras", "option.max_lora_rank", "option.max_cpu_loras")


def module_widths(shape: ModelShape) -> int:
    """Sum of (in + out) features over the adaptable linear layers of one decoder block."""
    h, attention, kv = shape.hidden_size, shape.attention_width, shape.num_kv_heads * shape.head_dim
    width = shape.dense_intermediate_size or shape.intermediate_size
    q, k, v, o = h + attention, h + kv, h + kv, attention + h
    mlp = 3 * (h + width) if shape.gated_mlp else 2 * (h + width)
    return q + k + v + o + mlp


def adapter_bytes(shape: ModelShape, rank: int) -> int:
    """One adapter of rank `rank` over every target module of every layer."""
    return rank * module_widths(shape) * shape.num_layers * LORA_DTYPE_BYTES


def gpu_lora_bytes(shape: ModelShape, adapters: Sequence[Adapter]) -> int:
    """What vLLM reserves on each device: max_loras slots at max_lora_rank."""
    if not adapters:
        return 0
    return adapter_bytes(shape, max(a.rank for a in adapters)) * len(adapters)


def cpu_lora_bytes(shape: ModelShape, adapters: Sequence[Adapter]) -> int:
    """Host RAM of the CPU adapter cache (max_cpu_loras = every adapter, each at its own rank)."""
    return sum(adapter_bytes(shape, a.rank) for a in adapters)


def lora_options(adapters: Sequence[Adapter]) -> dict[str, str]:
    """Every adapter fits in one batch (max_loras) and in the CPU cache (max_cpu_loras)."""
    if not adapters:
        return {}
    return {"option.enable_lora": "true", "option.max_loras": str(len(adapters)),
            "option.max_lora_rank": str(max(a.rank for a in adapters)), "option.max_cpu_loras": str(len(adapters))}


def lora_problem(plan: Plan) -> str | None:
    """Why this plan cannot serve adapters, or None."""
    if plan.backend != "vllm":
        return f"LoRA adapters need the vLLM backend (multi-LoRA); the plan runs {plan.backend_display}"
    if not at_least(plan.container_version, FIRST_LORA_VERSION):
        return (f"container {plan.container_version} predates the LoRA keys this project checked "
                f"(option.enable_lora ... from {FIRST_LORA_VERSION})")
    return None


def with_adapters(plan: Plan, shape: ModelShape, adapters: Sequence[Adapter]) -> Plan | str:
    """The plan with LoRA keys and the KV budget lowered by the adapter slots; a reason string when the batch the
    plan promises (min_concurrency full-length sequences) no longer fits."""
    if not adapters:
        return plan
    problem = lora_problem(plan)
    if problem:
        return problem
    runtime = load_catalog().runtime
    memory = dict(plan.memory)
    lora = gpu_lora_bytes(shape, adapters)
    budget = memory["kv_budget_per_device_bytes"] - lora
    per_token = memory["kv_bytes_per_token_per_device"]
    tokens = max(0, budget) // per_token
    batch = min(tokens // plan.max_model_len, runtime["max_batch_size_cap"])
    if batch < plan.min_concurrency:
        return (f"{len(adapters)} adapter slot(s) at rank {max(a.rank for a in adapters)} take "
                f"{lora / 2**30:.2f} GiB per device, leaving KV cache for {batch} full-length sequences of "
                f"{plan.max_model_len} tokens; the plan needs {plan.min_concurrency}")
    memory.update(lora_bytes_per_device=lora, kv_budget_per_device_bytes=budget, kv_token_capacity=tokens,
                  per_device_bytes=memory["weights_per_device_bytes"] + lora + batch * plan.max_model_len * per_token)
    options = dict(plan.serving_properties, **lora_options(adapters))
    options["option.max_rolling_batch_size"] = str(batch)
    header = {"model_id": options.get("option.model_id", plan.model_id), "architecture": plan.architecture,
              "backend_display": plan.backend_display, "image_tag": plan.image_tag,
              "instance_type": plan.instance_type, "tp": plan.tensor_parallel_degree,
              "quantization": plan.quantization, "max_model_len": plan.max_model_len, "max_batch_size": batch}
    note = (f"LoRA: {len(adapters)} adapter slot(s) at rank {max(a.rank for a in adapters)} reserve "
            f"{lora / 2**30:.2f} GiB per device (rank x (in+out) x modules x {shape.num_layers} layers x "
            f"{LORA_DTYPE_BYTES} bytes x slots), so the batch is {batch} (was {plan.max_batch_size}).")
    return replace(plan, max_batch_size=batch, memory=memory, serving_properties=options,
                   serving_properties_text=render_file(options, header), rationale=plan.rationale + (note,))

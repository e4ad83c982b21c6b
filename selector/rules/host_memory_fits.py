"""Host RAM holds what the loader keeps resident while the weights go to the devices, plus headroom.

How the loaders load (docs/memory.md "Host RAM"):
- GPU engines (vLLM, TensorRT-LLM, DeepSpeed): a pickle .bin shard is torch.load-ed whole into RAM by every TP
  rank, safetensors are mmapped. The selector does not know the checkpoint's file format, so it assumes the
  checkpoint as stored (its own dtype: fp32 for GPT-J's main branch) may pass through RAM, plus headroom bounded
  by the LMI instance guide (~7B fp16 goes to ml.g5.2xlarge, not the 16 GiB ml.g5.xlarge).
- Transformers NeuronX loads one 16-bit CPU copy (low_cpu_mem_usage, dtype cast while loading) before compiling
  and moving it to the NeuronCores, so host RAM holds the 16-bit weights, not an fp32 checkpoint, plus headroom
  bounded by DJL's own Llama-2-7B fp16 TP 2 run on the 16 GiB ml.inf2.xlarge. Constants: selector/data/runtime.json.
"""
from __future__ import annotations

from selector.catalog import GIB
from selector.memory import SERVING_DTYPE_BYTES
from selector.rules.base import Candidate, Context, Rejection

NAME = "host_memory_fits"


SPLIT_MODEL_OPTION = "option.load_split_model"


def loads_split_model(ctx: Context) -> bool:
    """The user passed `option.load_split_model: true`: the weights were saved split per layer for Transformers
    NeuronX, which then loads and compiles them layer by layer instead of holding one 16-bit CPU copy
    (djl-serving serving/docs/lmi/user_guides/tnx_user_guide.md and neuron_utils/model_loader.py @ 0.29.0-dlc;
    DJL's tuning guide loads Llama-2-13B int8 this way on the 16 GiB ml.inf2.xlarge:
    https://github.com/deepjavalibrary/djl-serving/blob/1635512c8b7dff917e99d825713ab390a10e5ea7/serving/docs/lmi/tuning_guides/tnx_tuning_guide.md)."""
    return str(ctx.request.options.get(SPLIT_MODEL_OPTION, "")).strip().lower() == "true"


def resident_bytes(candidate: Candidate, ctx: Context) -> tuple[int, str]:
    """Bytes the loader keeps in host RAM at its peak, and what they are."""
    shape = ctx.shape
    if candidate.instance.accelerator_kind == "neuron" and loads_split_model(ctx):
        layer = -(-shape.block_params() // max(1, shape.num_layers))
        return (shape.embedding_params() + layer) * SERVING_DTYPE_BYTES, \
            "16-bit embeddings and one layer at a time (pre-split checkpoint, option.load_split_model)"
    if candidate.instance.accelerator_kind == "neuron" and not shape.prequantized:
        return shape.total_params() * SERVING_DTYPE_BYTES, "16-bit weights"
    return shape.stored_bytes(), f"checkpoint as stored, {shape.stored_as}"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    runtime = ctx.catalog.runtime
    key = "neuron_host_memory_headroom_gib" if candidate.instance.accelerator_kind == "neuron" \
        else "host_memory_headroom_gib"
    headroom = int(runtime[key] * GIB)
    resident, what = resident_bytes(candidate, ctx)
    host = int(candidate.instance.host_memory_gib * GIB)
    if resident + headroom <= host:
        return None
    return Rejection(
        NAME,
        f"{candidate.instance.name} has {candidate.instance.host_memory_gib:g} GiB host RAM; loading needs "
        f"{(resident + headroom) / GIB:.1f} GiB ({what} {resident / GIB:.1f} GiB + "
        f"{headroom / GIB:g} GiB headroom)",
    )

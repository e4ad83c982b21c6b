"""A block-quantized FP8 checkpoint shards only between its scale tiles.

Checkpoints such as DeepSeek-V3 and Qwen3-*-FP8 store one scale per block_n x block_k tile of every weight
(quantization_config.weight_block_size). vLLM splits a column-parallel weight (q/k/v, gate/up, each expert's
gate/up) along its output rows and a row-parallel one (o, down) along its input columns, and refuses to load when
a shard does not hold whole tiles: "The output_size of gate's and up's weight = 192 is not divisible by weight
quantization block_n = 128" (vllm-project/vllm issue #17569, Qwen3-235B-A22B-FP8 at TP 8; the check is in
vllm/model_executor/layers/quantization/fp8.py, Fp8LinearMethod and Fp8MoEMethod create_weights). The shards
checked here are the MLP widths (dense, routed expert, shared expert) and the attention heads' widths; with
options: {option.enable_expert_parallel: true} vLLM places whole routed experts on each rank instead of cutting them
(the usual way Qwen3-235B-A22B-FP8 runs at TP 8), so their width is not cut.
"""
from __future__ import annotations

from selector.model_shape import ModelShape
from selector.rules.base import Candidate, Context, Rejection

NAME = "fp8_blocks_divide_tp"


def _sharded_widths(shape: ModelShape) -> dict[str, int]:
    """The whole widths TP splits: MLP widths and the attention projections' head widths."""
    widths: dict[str, int] = {}
    if shape.num_experts > 1:
        widths["routed expert width"] = shape.intermediate_size
        if shape.shared_expert_size:
            widths["shared expert width"] = shape.shared_expert_size
        if shape.moe_layers < shape.num_layers:
            widths["dense MLP width"] = shape.dense_intermediate_size
    else:
        widths["MLP width"] = shape.intermediate_size
    if shape.mla is not None:
        m = shape.mla
        widths["query heads' width"] = shape.num_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim)
        widths["key/value up-projection width"] = shape.num_heads * (m.qk_nope_head_dim + m.v_head_dim)
        widths["output projection width"] = shape.num_heads * m.v_head_dim
    else:
        widths["query heads' width"] = shape.num_heads * shape.head_dim
    return widths


def shard_widths(shape: ModelShape, tp: int) -> dict[str, int | None]:
    """Per-device widths at `tp` (None: the width does not even split evenly); key/value heads are replicated
    when TP exceeds their count, so a device then holds one head."""
    out: dict[str, int | None] = {
        name: width // tp if width % tp == 0 else None for name, width in _sharded_widths(shape).items()}
    if shape.mla is None:
        out["key/value heads' width"] = max(1, shape.num_kv_heads // tp) * shape.head_dim
    return out


def _whole_tiles(shape: ModelShape, tp: int, tile: int) -> dict[str, int | None]:
    """The per-device widths at `tp` that are not whole tiles."""
    return {name: w for name, w in shard_widths(shape, tp).items() if w is None or w % tile}


EXPERT_PARALLEL_OPTION = "option.enable_expert_parallel"  # vLLM: experts spread whole over the ranks, not cut by TP


def _expert_parallel(ctx: Context) -> bool:
    """Only the exact key with true: LMI hands vLLM the key as written (ModelInfo.java keeps its case, and vLLM keeps
    only EngineArgs names) and turns only true/false into a flag (construct_vllm_args_list)."""
    return str(ctx.request.options.get(EXPERT_PARALLEL_OPTION, "")).lower() == "true"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    block = ctx.shape.fp8_block
    if block is None or candidate.tp == 1 or candidate.backend.accelerator_kind != "nvidia":
        return None
    tile = max(block)
    bad = _whole_tiles(ctx.shape, candidate.tp, tile)
    if _expert_parallel(ctx):  # each rank holds whole experts: only the routed experts' cut goes away
        bad.pop("routed expert width", None)
    if not bad:
        return None
    name, width = sorted(bad.items())[0]
    fits = [t for t in (1, 2, 4, 8, 16) if not _whole_tiles(ctx.shape, t, tile)]
    shown = "does not split evenly" if width is None else str(width)
    return Rejection(NAME, f"TP {candidate.tp} cuts the block-quantized FP8 weights inside their {block[0]}x{block[1]} "
                           f"scale tiles ({name} per device: {shown}); vLLM refuses to load it. TP that keeps whole "
                           f"tiles: {', '.join(map(str, fits))}")

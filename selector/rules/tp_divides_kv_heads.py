"""TP degree divides the KV heads, or is a multiple of them (then each device keeps a replica).

This is the condition vLLM checks for GQA/MQA models (LlamaAttention: KV heads divisible by TP, or TP divisible
by the KV heads, which are then replicated; https://github.com/vllm-project/vllm/blob/v0.6.3/vllm/model_executor/models/llama.py);
"TP divides the KV heads" alone would wrongly forbid sharding multi-query models such as StarCoder.
"""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "tp_divides_kv_heads"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    if candidate.backend.pads_attention_heads:
        return None  # not applicable: NeuronX pads heads to a multiple of the TP degree
    kv, tp = ctx.shape.num_kv_heads, candidate.tp
    if kv % tp == 0 or tp % kv == 0:
        return None
    options = [t for t in (1, 2, 4, 8, 12, 16, 24) if kv % t == 0 or t % kv == 0]
    return Rejection(NAME, f"TP {tp} does not divide {kv} KV heads; feasible TP: {', '.join(map(str, options))}")

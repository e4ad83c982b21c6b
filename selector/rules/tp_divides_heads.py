"""TP degree divides the attention heads, so each device holds whole heads."""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "tp_divides_heads"


def feasible(count: int, options: list[int]) -> list[int]:
    return [tp for tp in options if count % tp == 0]


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    if candidate.backend.pads_attention_heads:
        return None  # not applicable: NeuronX pads heads to a multiple of the TP degree
    heads = ctx.shape.num_heads
    if heads % candidate.tp == 0:
        return None
    options = feasible(heads, [1, 2, 4, 8, 12, 16, 24, 32])
    return Rejection(
        NAME,
        f"TP {candidate.tp} does not divide {heads} attention heads; feasible TP: {', '.join(map(str, options))}",
    )

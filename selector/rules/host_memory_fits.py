"""Host RAM holds the checkpoint as stored plus headroom for the OS and model server while loading.

lmi-facts 7: ml.g5.xlarge has 16 GiB of RAM for a 24 GiB GPU; the LMI guide sends ~7B fp16 models to
ml.g5.2xlarge or larger. Headroom: selector/data/runtime.json.
"""
from __future__ import annotations

from selector.catalog import GIB
from selector.rules.base import Candidate, Context, Rejection

NAME = "host_memory_fits"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    headroom = int(ctx.catalog.runtime["host_memory_headroom_gib"] * GIB)
    checkpoint = ctx.shape.checkpoint_bytes()
    host = int(candidate.instance.host_memory_gib * GIB)
    if checkpoint + headroom <= host:
        return None
    return Rejection(
        NAME,
        f"{candidate.instance.name} has {candidate.instance.host_memory_gib:g} GiB host RAM; loading needs "
        f"{(checkpoint + headroom) / GIB:.1f} GiB (checkpoint {checkpoint / GIB:.1f} GiB + "
        f"{headroom / GIB:g} GiB headroom)",
    )

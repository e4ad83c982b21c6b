"""The backend runs on the instance's accelerator: NeuronX only on Inf2, the others only on NVIDIA GPUs."""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "backend_runs_on_accelerator"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    backend, instance = candidate.backend, candidate.instance
    if backend.accelerator_kind == instance.accelerator_kind:
        return None
    fitting = sorted({i.family for i in ctx.catalog.instances.values() if i.accelerator_kind == backend.accelerator_kind})
    return Rejection(
        NAME,
        f"{backend.display_name} runs on {backend.accelerator_kind} accelerators, {instance.name} has "
        f"{instance.accelerator}; families that fit: {', '.join(fitting)}",
    )

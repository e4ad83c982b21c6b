"""TP degree is at most the instance's devices (GPUs, or NeuronCores on Inf2)."""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "tp_within_devices"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    devices = candidate.instance.devices
    if candidate.tp <= devices:
        return None
    unit = "NeuronCores" if candidate.instance.accelerator_kind == "neuron" else "GPUs"
    return Rejection(NAME, f"TP {candidate.tp} exceeds the {devices} {unit} of {candidate.instance.name}")

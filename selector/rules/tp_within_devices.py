"""TP degree is one the backend shards across and at most the instance's devices (GPUs, or NeuronCores on Inf2)."""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "tp_within_devices"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    degrees = candidate.backend.tp_degrees
    if candidate.tp not in degrees:
        fitting = [tp for tp in degrees if tp <= candidate.instance.devices]
        return Rejection(NAME, f"{candidate.backend.display_name} shards across TP {', '.join(map(str, degrees))}, "
                               f"not {candidate.tp}; the degrees that fit {candidate.instance.name}: "
                               f"{', '.join(map(str, fitting))}")
    devices = candidate.instance.devices
    if candidate.tp <= devices:
        return None
    unit = "NeuronCores" if candidate.instance.accelerator_kind == "neuron" else "GPUs"
    return Rejection(NAME, f"TP {candidate.tp} exceeds the {devices} {unit} of {candidate.instance.name}")

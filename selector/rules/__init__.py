"""Feasibility rules: architecture first, then hardware, then memory.

Traffic pattern and cost are not pass/fail rules; they rank the survivors (selector/ranking.py).
Adding a rule = one file here, one line in RULES, one table-driven test file.
"""
from __future__ import annotations

from types import ModuleType

from selector.rules import (
    architecture_supported,
    backend_runs_on_accelerator,
    calibration_memory_fits,
    device_memory_fits,
    fp8_blocks_divide_tp,
    host_memory_fits,
    image_in_region,
    image_runs_on_gpu,
    libraries_support_model,
    meets_slo,
    quantization_hardware,
    quantization_offered,
    tp_divides_heads,
    tp_divides_kv_heads,
    tp_within_devices,
)
from selector.rules.base import Candidate, Context, MissingFact, Rejection

RULES: tuple[ModuleType, ...] = (
    architecture_supported,
    libraries_support_model,
    backend_runs_on_accelerator,
    image_in_region,
    image_runs_on_gpu,
    quantization_offered,
    quantization_hardware,
    tp_within_devices,
    tp_divides_heads,
    tp_divides_kv_heads,
    fp8_blocks_divide_tp,
    host_memory_fits,
    device_memory_fits,
    calibration_memory_fits,
    meets_slo,
)

RULE_ORDER = {rule.NAME: index for index, rule in enumerate(RULES)}
"""Rule name -> position: a later rule's rejection means the candidate got further (more telling)."""


def first_rejection(candidate: Candidate, ctx: Context) -> Rejection | None:
    """Run the rules in order; the first failure is the candidate's reason. A missing fact rejects."""
    for rule in RULES:
        try:
            verdict = rule.check(candidate, ctx)
        except MissingFact as missing:
            return Rejection(rule.NAME, f"needs {missing.fact}, which the model config does not give")
        if verdict is not None:
            return verdict
    return None


def describe() -> list[tuple[str, str]]:
    """(name, the condition in one sentence) straight from each rule's docstring."""
    return [(rule.NAME, " ".join((rule.__doc__ or "").strip().split("\n\n")[0].split())) for rule in RULES]

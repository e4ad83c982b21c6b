"""The image's CUDA toolkit can target the GPU (Blackwell needs a cu128+ image, i.e. LMI 0.33.0 or newer).

A GPU of compute capability X runs only kernels built by a CUDA toolkit that knows X; the toolkit an LMI image
carries is the cuNNN suffix of its tag. Facts per architecture: selector/data/gpu_architectures.json.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from selector.catalog import read_data
from selector.rules.base import Candidate, Context, Rejection
from selector.versions import version_key

NAME = "image_runs_on_gpu"


@lru_cache(maxsize=1)
def gpu_architectures() -> dict[str, Any]:
    return read_data("gpu_architectures.json")


def image_cuda(tag: str) -> str | None:
    """'0.33.0-lmi15.0.0-cu128' -> '12.8'; None for tags without a CUDA suffix (Neuron images)."""
    found = re.search(gpu_architectures()["image_cuda"]["pattern"], tag)
    return f"{found.group(1)}.{found.group(2)}" if found else None


def first_cuda(compute_capability: float) -> str | None:
    """The first CUDA toolkit that targets this compute capability (None: not in the data)."""
    entry = gpu_architectures()["architectures"].get(f"{compute_capability:.1f}")
    return entry["first_cuda"] if entry else None


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    instance = candidate.instance
    if instance.accelerator_kind != "nvidia" or instance.compute_capability is None:
        return None
    cuda = image_cuda(candidate.image.tag)
    if cuda is None:
        return None
    needed = first_cuda(instance.compute_capability)
    if needed is None:
        return Rejection(NAME, f"{instance.accelerator} (compute capability {instance.compute_capability}) is not "
                               f"in selector/data/gpu_architectures.json: no CUDA minimum is known for it")
    if version_key(cuda) >= version_key(needed):
        return None
    return Rejection(
        NAME,
        f"{candidate.image.tag} is built with CUDA {cuda}; {instance.accelerator} (compute capability "
        f"{instance.compute_capability}) needs CUDA {needed}+",
    )

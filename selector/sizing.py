"""Batch and token limits for the chosen candidate, derived from its memory estimate."""
from __future__ import annotations

from selector.catalog import Catalog
from selector.memory import MemoryEstimate
from selector.rules.base import Candidate


def batch_cap(candidate: Candidate, catalog: Catalog) -> int:
    """The most sequences one model copy batches: the backend default, 32 on Neuron (compiled buckets)."""
    if candidate.instance.accelerator_kind == "neuron":
        return catalog.runtime["neuron_batch_size_cap"]
    return catalog.runtime["max_batch_size_cap"]


def max_batch_size(candidate: Candidate, memory: MemoryEstimate, catalog: Catalog) -> int:
    """Full-length sequences one model copy holds in KV cache, capped at the backend's default.

    Counting every sequence at max_model_len is conservative: paged KV caches usually hold more.
    Neuron compiles fixed batch buckets: the largest power of two, capped at 32 (LMI smart default).
    """
    fits = min(memory.kv_token_capacity // memory.max_model_len, batch_cap(candidate, catalog))
    if candidate.instance.accelerator_kind == "neuron":
        return 1 << (fits.bit_length() - 1)
    return fits


def max_num_tokens(batch: int, max_input_tokens: int, memory: MemoryEstimate, catalog: Catalog) -> int:
    """TensorRT-LLM tokens per engine step: batch x input x alpha, at least one full prompt; where DJL measured the
    largest engine that fits this model on this GPU, at most half of it (the tutorial's advice), still >= a prompt."""
    rt = catalog.runtime
    guess = max(max_input_tokens, round(batch * max_input_tokens * rt["trtllm_max_num_tokens_alpha"]))
    tokens = min(guess, max(max_input_tokens, memory.kv_token_capacity))
    if memory.engine_token_limit is not None:
        advised = int(memory.engine_token_limit * rt["trtllm_max_num_tokens_fraction"])
        tokens = min(tokens, max(max_input_tokens, advised))
    return tokens


def clamp(value: float, low: int, high: int) -> int:
    return int(max(low, min(high, round(value))))


def model_loading_timeout_s(checkpoint_bytes: int, compiled: bool, catalog: Catalog) -> int:
    """option.model_loading_timeout: LMI's 1800 s default, plus the checkpoint at a conservative throughput
    and compile time for TensorRT-LLM/NeuronX, capped at SageMaker's 3600 s startup limit. The endpoint's
    startup health check uses the same figure, so neither gives up before the other."""
    rt = catalog.runtime
    seconds = model_loading_needs_s(checkpoint_bytes, compiled, catalog)
    return clamp(seconds, rt["model_loading_timeout_s"], rt["endpoint_timeout_max_s"])


def model_loading_needs_s(checkpoint_bytes: int, compiled: bool, catalog: Catalog) -> float:
    """The allowance model_loading_timeout_s gives before SageMaker's cap: LMI's own 1800 s default (a timeout,
    not a load time), the checkpoint at the planning throughput, and the compile allowance."""
    rt = catalog.runtime
    return rt["model_loading_timeout_s"] + download_and_compile_s(checkpoint_bytes, compiled, catalog)


def download_and_compile_s(checkpoint_bytes: int, compiled: bool, catalog: Catalog) -> float:
    """What a start must fit in SageMaker's startup limit at least: the download at the planning throughput
    (selector/data/runtime.json download_bytes_per_s) and, for compiled backends, the compile allowance."""
    rt = catalog.runtime
    return checkpoint_bytes / rt["download_bytes_per_s"] + (rt["compile_allowance_s"] if compiled else 0)

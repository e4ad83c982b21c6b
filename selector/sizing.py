"""Batch and token limits for the chosen candidate, derived from its memory estimate."""
from __future__ import annotations

from selector.catalog import Catalog
from selector.memory import MemoryEstimate
from selector.rules.base import Candidate


def max_batch_size(candidate: Candidate, memory: MemoryEstimate, catalog: Catalog) -> int:
    """Full-length sequences one model copy holds in KV cache, capped at the backend's default.

    Counting every sequence at max_model_len is conservative: paged KV caches usually hold more.
    Neuron compiles fixed batch buckets: the largest power of two, capped at 32 (LMI smart default).
    """
    fits = memory.kv_token_capacity // memory.max_model_len
    if candidate.instance.accelerator_kind == "neuron":
        cap = min(fits, catalog.runtime["neuron_batch_size_cap"])
        return 1 << (cap.bit_length() - 1)
    return min(fits, catalog.runtime["max_batch_size_cap"])


def max_num_tokens(batch: int, max_input_tokens: int, memory: MemoryEstimate, catalog: Catalog) -> int:
    """TensorRT-LLM tokens per engine step: batch x input x alpha, at least one full prompt."""
    alpha = catalog.runtime["trtllm_max_num_tokens_alpha"]
    guess = max(max_input_tokens, round(batch * max_input_tokens * alpha))
    return min(guess, max(max_input_tokens, memory.kv_token_capacity))

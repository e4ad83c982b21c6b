"""Put the estimator in a published benchmark's shoes: the same model, instance, TP, batch and lengths,
and the same metric as the benchmark reports it (tests/fixtures/published_throughput.yaml).

Used by tests/test_performance.py (the +-35% check), scripts/fit_performance.py (the fit) and
docs/performance.md (the error table), so all three compute a row the same way.
"""
from __future__ import annotations

from typing import Any

from selector.catalog import load_catalog
from selector.memory import kv_bytes_per_token, weight_bytes
from selector.model_shape import load_model
from selector.performance import Workload, compute_dtype, estimate_workload, is_int4_weight_only

METRICS = ("tpot_ms", "ttft_ms", "output_tokens_per_s", "output_tokens_per_s_per_gpu", "e2e_ms_per_token")


def row_workload(row: dict[str, Any]) -> tuple[Any, Workload]:
    catalog = load_catalog()
    shape = load_model(row["model"])
    instance = catalog.instances[row["instance"]]
    method = catalog.methods[row["quantization"]]
    tp = row["tp"]
    work = Workload(
        weights_per_device_bytes=-(-weight_bytes(shape, method) // tp),
        kv_bytes_per_token_per_device=kv_bytes_per_token(shape, catalog.runtime["kv_cache_dtype_bytes"], tp),
        params=shape.total_params(),
        layers=shape.num_layers + (shape.num_decoder_layers if shape.encoder_decoder else 0),
        hidden_size=shape.hidden_size,
        tp=tp,
        dtype=compute_dtype(row["quantization"], shape.serving_dtype, instance),
        int4_weight_only=is_int4_weight_only(row["quantization"], shape.prequantized),
    )
    return instance, work


def predict(row: dict[str, Any], prepared: tuple[Any, Workload] | None = None) -> float:
    """The estimator's figure for the row's metric (`prepared`: row_workload(row), when already computed)."""
    instance, work = prepared or row_workload(row)
    est = estimate_workload(instance, work, row["batch"], row["input_tokens"], row["output_tokens"])
    metric = row["metric"]
    if metric == "tpot_ms":
        return est.tpot_ms
    if metric == "ttft_ms":
        return est.ttft_ms
    if metric == "output_tokens_per_s":
        return est.tokens_per_s_per_instance
    if metric == "output_tokens_per_s_per_gpu":
        return est.tokens_per_s_per_instance / row["tp"]
    if metric == "e2e_ms_per_token":
        out = row["output_tokens"]
        return (est.ttft_ms + (out - 1) * est.tpot_ms) / out
    raise ValueError(f"unknown metric {metric!r}; known: {', '.join(METRICS)}")


def relative_error(row: dict[str, Any]) -> float:
    """(estimate - measured) / measured."""
    return predict(row) / row["measured"] - 1

"""Memory arithmetic: GQA-aware KV cache, quantized weights, per-device budgets."""
from __future__ import annotations

import pytest

from selector.catalog import GIB, load_catalog
from selector.memory import kv_bytes_per_token, usable_bytes, weight_bytes
from selector.model_shape import load_model


@pytest.mark.parametrize("model_id,expected", [
    ("meta-llama/Llama-2-70b-hf", 327_680),   # 2 x 80 layers x 8 KV heads x 128 x 2 B (issue 2 example)
    ("meta-llama/Llama-2-13b-hf", 819_200),   # equals the guide's hidden_size form: no GQA
    ("meta-llama/Meta-Llama-3-8B", 131_072),
    ("tiiuae/falcon-7b", 8_192),              # multi-query: one KV head
])
def test_kv_bytes_per_token(model_id, expected):
    assert kv_bytes_per_token(load_model(model_id), 2) == expected


def test_guide_formula_overcounts_gqa():
    shape = load_model("meta-llama/Llama-2-70b-hf")
    guide = 2 * 2 * shape.num_layers * shape.hidden_size
    assert guide == 8 * kv_bytes_per_token(shape, 2)


def test_kv_per_device_splits_heads_and_replicates_below_one():
    shape = load_model("meta-llama/Llama-2-70b-hf")
    assert kv_bytes_per_token(shape, 2, tp=8) == 327_680 // 8
    starcoder = load_model("bigcode/starcoder")
    assert kv_bytes_per_token(starcoder, 2, tp=8) == kv_bytes_per_token(starcoder, 2)  # 1 KV head, replicated


def test_weights_by_method():
    catalog = load_catalog()
    shape = load_model("meta-llama/Llama-2-13b-hf")
    none = weight_bytes(shape, catalog.methods["none"])
    assert none == shape.total_params() * 2
    int8 = weight_bytes(shape, catalog.methods["int8"])
    awq = weight_bytes(shape, catalog.methods["awq"])
    embeddings = shape.embedding_params() * 2
    assert int8 == shape.block_params() + embeddings
    assert awq == pytest.approx(shape.block_params() * (0.5 + 2.5 / 128) + embeddings, rel=1e-6)


def test_usable_bytes_per_device():
    catalog = load_catalog()
    g5 = catalog.instances["ml.g5.2xlarge"]
    assert usable_bytes(g5, catalog) == int(24 * GIB * 0.9 - 1 * GIB)
    inf2 = catalog.instances["ml.inf2.8xlarge"]
    assert usable_bytes(inf2, catalog) == int(16 * GIB * 0.9)

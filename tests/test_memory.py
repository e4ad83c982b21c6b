"""Memory arithmetic: GQA-aware KV cache, quantized weights, per-device budgets."""
from __future__ import annotations

import math

import pytest

from selector.catalog import GIB, load_catalog
from selector.memory import (
    MIB, Engine, activation_bytes, device_capacity_bytes, engine, estimate, kv_bytes_per_token, usable_bytes,
    weight_bytes,
)
from selector.model_shape import load_model, shape_from_config


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


@pytest.mark.parametrize("instance,mib", [
    ("ml.g5.2xlarge", 22587),     # torch.cuda total_memory on an A10G (nvidia-smi shows 23028 MiB)
    ("ml.p4d.24xlarge", 40339),   # CUDA deviceQuery on A100-SXM4-40GB (nvidia-smi 40960 MiB)
    ("ml.p4de.24xlarge", 81158),  # CUDA deviceQuery on A100-SXM4-80GB (nvidia-smi 81920 MiB)
    ("ml.inf2.xlarge", 16 * 1024),  # HBM per NeuronCore-v2
])
def test_capacity_is_what_the_runtime_reports_not_nominal(instance, mib):
    catalog = load_catalog()
    assert device_capacity_bytes(catalog.instances[instance], catalog) == mib * MIB


def test_usable_bytes_per_device():
    catalog = load_catalog()
    g5 = catalog.instances["ml.g5.2xlarge"]
    assert usable_bytes(g5, catalog) == int(22587 * MIB * 0.9 - 0.25 * GIB)
    assert usable_bytes(g5, catalog, activation=GIB) == int(22587 * MIB * 0.9 - 1.25 * GIB)
    inf2 = catalog.instances["ml.inf2.8xlarge"]
    assert usable_bytes(inf2, catalog) == int(16 * GIB * 0.9)


LLAMA3_8B = "meta-llama/Meta-Llama-3-8B"
QWEN25_14B = {  # Qwen/Qwen2.5-14B-Instruct config.json subset (the model in vllm-project/vllm#13061)
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 5120, "intermediate_size": 13824,
    "num_attention_heads": 40, "num_key_value_heads": 8, "num_hidden_layers": 48, "vocab_size": 152064,
    "max_position_embeddings": 32768, "torch_dtype": "bfloat16", "tie_word_embeddings": False,
}


@pytest.mark.parametrize("shape,tp,eng,logged_gib", [
    # vLLM V0 (PR #10511): Meta-Llama-3-8B, max_num_batched_tokens 8192, activation peak 1.26 GiB at TP 1 and TP 2
    pytest.param(LLAMA3_8B, 1, "v0", 1.26, id="llama3-8b-v0-tp1"),
    pytest.param(LLAMA3_8B, 2, "v0", 1.26, id="llama3-8b-v0-tp2"),
    # vLLM V1 (issue #13061): Qwen2.5-14B at TP 2, 2048 batched tokens, activation peak 0.19 GiB
    pytest.param(QWEN25_14B, 2, "v1", 0.19, id="qwen2.5-14b-v1-tp2"),
])
def test_activation_model_bounds_vllm_logged_peaks(shape, tp, eng, logged_gib):
    """The activation model must not claim less than vLLM itself logged, nor more than twice that."""
    catalog = load_catalog()
    shape = load_model(shape) if isinstance(shape, str) else shape_from_config(shape, "qwen", "test")
    rt = catalog.runtime
    profile = Engine(8192, rt["vllm_v0_sampler_fp32_copies"]) if eng == "v0" else \
        Engine(2048, rt["vllm_v1_sampler_fp32_copies"])
    modelled = activation_bytes(shape, tp, profile, catalog) / GIB
    assert logged_gib <= modelled <= 2 * logged_gib


@pytest.mark.parametrize("backend,version,max_model_len,tokens", [
    ("vllm", "0.38.0", 4096, 2048),       # V1: chunked prefill, SchedulerConfig default 2048
    ("vllm", "0.33.0", 8192, 2048),
    ("vllm", "0.32.0", 4096, 4096),       # V0: max(max_model_len, 2048)
    ("lmi-dist", "0.32.0", 1024, 2048),
    ("tensorrtllm", "0.33.0", 4096, 4096),
])
def test_profile_tokens_follow_the_engine(backend, version, max_model_len, tokens):
    assert engine(backend, version, max_model_len, load_catalog()).profile_tokens == tokens


@pytest.mark.parametrize("model,instance,tp,length,kv_tokens", [
    # issue 9: Llama-2-70B on g5.48xlarge holds ~20 full 4096-token sequences, not 29
    ("meta-llama/Llama-2-70b-hf", "ml.g5.48xlarge", 8, 4096, (20 * 4096, 22 * 4096)),
    # Llama-2-7B on one A10G: vLLM's ~0.9 x 22 GiB less 12.55 GiB of weights leaves ~14k tokens of KV
    ("meta-llama/Llama-2-7b-hf", "ml.g5.2xlarge", 1, 4096, (13_000, 15_000)),
])
def test_kv_capacity_of_the_precedents(model, instance, tp, length, kv_tokens):
    catalog = load_catalog()
    mem = estimate(load_model(model), catalog.methods["none"], catalog.instances[instance], tp, length, 1, catalog,
                   "vllm", "0.38.0")
    low, high = kv_tokens
    assert low <= mem.kv_token_capacity <= high


# --- multi-head latent attention and sliding-window layers (issue 13) --------------------------------------------
# openai/gpt-oss-20b config.json (https://huggingface.co/openai/gpt-oss-20b/blob/main/config.json, shape subset as
# copied in ai-dynamo/aiconfigurator model_configs/openai--gpt-oss-20b_config.json @095f58a5): not in the catalog
# because backends.json has no mxfp4 pre-quantized method yet.
GPT_OSS_20B = {
    "architectures": ["GptOssForCausalLM"],
    "experts_per_token": 4,
    "head_dim": 64,
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "max_position_embeddings": 131072,
    "model_type": "gpt_oss",
    "num_attention_heads": 64,
    "num_experts_per_tok": 4,
    "num_hidden_layers": 24,
    "num_key_value_heads": 8,
    "num_local_experts": 32,
    "quantization_config": {"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                                                      "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"},
    "sliding_window": 128,
    "tie_word_embeddings": False,
    "vocab_size": 201088,
    "layer_types": ["sliding_attention", "full_attention"] * 12,
}


def test_mla_kv_is_the_latent_not_heads_times_head_dim():
    """DeepSeek-V3: 61 layers x (kv_lora_rank 512 + qk_rope_head_dim 64) x 2 B, one latent shared by all 128 heads
    (vLLM MLAAttentionSpec stores a single latent vector); expanded K and V per head would be 85 times more."""
    shape = load_model("deepseek-ai/DeepSeek-V3")
    assert kv_bytes_per_token(shape, 2) == 61 * (512 + 64) * 2 == 70_272
    naive = 2 * 61 * 128 * (128 + 64) * 2  # K (nope + rope) and V per head, if the latent were expanded
    assert naive == 5_996_544 and naive // kv_bytes_per_token(shape, 2) == 85
    assert kv_bytes_per_token(shape, 2, tp=8) == 70_272  # every TP rank holds the whole latent


def test_sliding_window_layers_hold_their_window_on_vllm_with_the_hybrid_allocator():
    """Gemma 2 9B: 42 layers, every even one a 4096-token sliding window, 8 KV heads x 256 x 2 B x K and V =
    8,192 B per layer and token. At 8,192 tokens a sliding layer holds min(8192, (ceil((4096 - 1 + 2048) / 16) + 1)
    x 16) = 6,160 tokens (vLLM SlidingWindowSpec with max_num_batched_tokens 2048, block 16)."""
    catalog = load_catalog()
    shape = load_model("google/gemma-2-9b-it")
    assert (shape.sliding_layers, shape.sliding_window) == (21, 4096)
    full = 42 * 8_192
    windowed = 21 * 8_192 + 21 * 8_192 * 6_160 // 8_192
    inst = catalog.instances["ml.g5.12xlarge"]
    method = catalog.methods["none"]
    new = estimate(shape, method, inst, 4, 8192, 4, catalog, backend="vllm", version="0.34.0")
    old = estimate(shape, method, inst, 4, 8192, 4, catalog, backend="vllm", version="0.33.0")
    dist = estimate(shape, method, inst, 4, 8192, 4, catalog, backend="lmi-dist", version="0.32.0")
    assert new.kv_bytes_per_token == windowed == 301_392
    assert new.kv_bytes_per_token_per_device == windowed // 4
    assert old.kv_bytes_per_token == dist.kv_bytes_per_token == full == 344_064  # full context before vLLM 0.10


def test_gpt_oss_alternating_layers_and_mxfp4_experts():
    """gpt-oss-20b: layer_types alternates sliding (window 128) and full attention; at 131,072 tokens a sliding layer
    holds (ceil((128 - 1 + 2048) / 16) + 1) x 16 = 2,192 tokens. Expert weights are MXFP4 (4.25 bits), the rest bf16,
    which is why the model card says it runs within 16 GB."""
    shape = shape_from_config(GPT_OSS_20B, "openai/gpt-oss-20b", "config.json")
    assert (shape.sliding_layers, shape.sliding_window, shape.num_layers) == (12, 128, 24)
    assert shape.prequantized == "mxfp4" and shape.experts_per_token == 4
    expert = 24 * 32 * 3 * 2880 * 2880
    assert shape.expert_params() == expert
    assert shape.checkpoint_bytes() == math.ceil(expert * 4.25 / 8) + 2 * (shape.total_params() - expert)
    assert 13e9 < shape.checkpoint_bytes() < 16e9
    per_layer = 2 * 8 * 64 * 2
    from selector.memory import SlidingKv

    window = SlidingKv(131_072, 2048, 16)
    assert kv_bytes_per_token(shape, 2, 1, window) == math.ceil(
        per_layer * (12 * 131_072 + 12 * 2_192) / 131_072)
    assert kv_bytes_per_token(shape, 2) == 24 * per_layer


def test_mla_kv_is_version_aware():
    """vLLM caches the latent since v0.7.1 (LMI 0.32.0, vLLM 0.7.3); before (LMI 0.29.0-0.31.0, lmi-dist) K and V are
    kept per head, padded to 256: DeepSeek-V2-Lite 2 x 27 layers x 16 heads x 256 x 2 B vs 27 x 576 x 2 B."""
    catalog = load_catalog()
    shape = load_model("deepseek-ai/DeepSeek-V2-Lite")
    inst, method = catalog.instances["ml.g5.12xlarge"], catalog.methods["none"]
    old = estimate(shape, method, inst, 4, 4096, 4, catalog, backend="vllm", version="0.31.0")
    new = estimate(shape, method, inst, 4, 4096, 4, catalog, backend="vllm", version="0.32.0")
    assert old.kv_bytes_per_token == 2 * 27 * 16 * 256 * 2 == 442_368
    assert old.kv_bytes_per_token_per_device == 442_368 // 4
    assert new.kv_bytes_per_token == new.kv_bytes_per_token_per_device == 27 * 576 * 2 == 31_104

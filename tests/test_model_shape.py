"""One normalizer for catalog entries and local config.json files, across the families' key spellings."""
from __future__ import annotations

import json

import pytest

from selector.errors import SelectorError
from selector.model_shape import load_model, shape_from_config


@pytest.mark.parametrize("model_id,layers,hidden,heads,kv,head_dim,experts,tied,gated", [
    ("meta-llama/Llama-2-70b-hf", 80, 8192, 64, 8, 128, 1, False, True),
    ("mistralai/Mixtral-8x7B-v0.1", 32, 4096, 32, 8, 128, 8, False, True),
    ("tiiuae/falcon-7b", 32, 4544, 71, 1, 64, 1, True, False),
    ("tiiuae/falcon-40b", 60, 8192, 128, 8, 64, 1, True, False),
    ("google/flan-t5-xl", 24, 2048, 32, 32, 64, 1, False, True),
    ("bigcode/starcoder", 40, 6144, 48, 1, 128, 1, True, False),
    ("google/gemma-7b", 28, 3072, 16, 16, 256, 1, True, True),
    ("bigscience/bloom", 70, 14336, 112, 112, 128, 1, True, False),
    ("mosaicml/mpt-7b", 32, 4096, 32, 32, 128, 1, True, False),
])
def test_shapes_normalized(model_id, layers, hidden, heads, kv, head_dim, experts, tied, gated):
    s = load_model(model_id)
    assert (s.num_layers, s.hidden_size, s.num_heads, s.num_kv_heads, s.head_dim, s.num_experts,
            s.tied_embeddings, s.gated_mlp) == (layers, hidden, heads, kv, head_dim, experts, tied, gated)


def test_catalog_lookup_is_case_insensitive_and_knows_aliases():
    assert load_model("META-LLAMA/llama-2-13b-HF").model_id == "meta-llama/Llama-2-13b-hf"
    assert load_model("meta-llama/Llama-2-13b-chat-hf").model_id == "meta-llama/Llama-2-13b-hf"


@pytest.mark.parametrize("model_id,method,bits", [
    ("TheBloke/Llama-2-70B-AWQ", "awq", 4),
    ("TheBloke/Llama-2-13B-GPTQ", "gptq", 4),
    ("RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8", "fp8", 8),
])
def test_prequantized_checkpoints_detected(model_id, method, bits):
    s = load_model(model_id)
    assert (s.prequantized, s.quant_bits) == (method, bits)
    assert s.checkpoint_bytes() < s.total_params() * 2 * 0.6


def test_local_config_json(tmp_path):
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": 12, "n_embd": 768,
              "n_head": 12, "n_positions": 1024, "vocab_size": 50257}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    s = load_model(str(path))
    assert (s.num_layers, s.hidden_size, s.intermediate_size, s.max_positions) == (12, 768, 3072, 1024)
    assert s.total_params() == pytest.approx(124_439_808, rel=0.01)  # GPT-2 small
    assert load_model(str(tmp_path)).num_layers == 12  # a folder holding config.json works too


@pytest.mark.parametrize("config,field", [
    ({"model_type": "llama"}, "architectures"),
    ({"architectures": ["X"], "model_type": "mamba2"}, "model_type"),
    ({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 8, "num_attention_heads": 1,
      "vocab_size": 10, "max_position_embeddings": 8}, "layer count"),
    ({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8,
      "num_attention_heads": 1, "vocab_size": 10, "max_position_embeddings": 8,
      "quantization_config": {"quant_method": "hqq"}}, "quant_method"),
])
def test_bad_configs_name_the_missing_fact(config, field):
    with pytest.raises(SelectorError) as info:
        shape_from_config(config, "x", "config.json")
    assert field in info.value.field or field in info.value.paragraph()


def test_unknown_model_suggests_close_ids():
    with pytest.raises(SelectorError) as info:
        load_model("meta-llama/Llama-2-13b-hff")
    assert "Did you mean meta-llama/llama-2-13b-hf" in info.value.paragraph()
    assert "never downloads" in info.value.paragraph()


def _qwen_moe(**extra):
    config = {"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "hidden_size": 2048,
              "intermediate_size": 5632, "moe_intermediate_size": 1408, "shared_expert_intermediate_size": 5632,
              "num_experts": 60, "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
              "vocab_size": 151936, "max_position_embeddings": 8192, "tie_word_embeddings": False}
    return dict(config, **extra)


def test_qwen_moe_counts_routed_and_shared_experts():
    """Qwen1.5-MoE-A2.7B publishes 14.3B parameters; counting it as dense would give ~1.9B."""
    shape = shape_from_config(_qwen_moe(), "qwen-moe", "config.json")
    assert (shape.num_experts, shape.moe_layers, shape.shared_expert_size) == (60, 24, 5632)
    assert shape.total_params() == pytest.approx(14.3e9, rel=0.02)
    sparse = shape_from_config(_qwen_moe(decoder_sparse_step=2), "qwen-moe", "config.json")
    assert sparse.moe_layers == 12 and sparse.total_params() < shape.total_params()


def test_unmodelled_moe_layouts_are_refused():
    config = _qwen_moe()
    del config["moe_intermediate_size"]
    with pytest.raises(SelectorError) as info:
        shape_from_config(config, "x", "config.json")
    assert "mixture-of-experts layout" in info.value.paragraph()


@pytest.mark.parametrize("bits,group,gib", [(4, 128, 34.5), (4, -1, 33.0), (8, 128, 66.0)])
def test_prequantized_bytes_follow_the_checkpoint(bits, group, gib):
    from selector.catalog import GIB

    config = dict(load_model_config("meta-llama/Llama-2-70b-hf"),
                  quantization_config={"quant_method": "gptq", "bits": bits, "group_size": group})
    shape = shape_from_config(config, "x", "config.json")
    assert shape.checkpoint_bytes() / GIB == pytest.approx(gib, abs=0.6)


def load_model_config(model_id: str) -> dict:
    from selector.model_shape import catalog_entry

    entry = catalog_entry(model_id)
    assert entry is not None, model_id
    return dict(entry["config"])


def _llama(**extra):
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "num_hidden_layers": 2, "hidden_size": 64,
              "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "max_position_embeddings": 256}
    return shape_from_config({**config, **extra}, "x", "config.json")


@pytest.mark.parametrize("extra,dtype,bytes_per_param", [
    ({}, "float32", 4),  # no torch_dtype: transformers saved fp32 weights (issue 9: GPT-J)
    ({"torch_dtype": "float16"}, "float16", 2),
    ({"dtype": "bfloat16"}, "bfloat16", 2),  # transformers >= 4.56 spelling
    ({"torch_dtype": "float32"}, "float32", 4),
])
def test_checkpoint_dtype_comes_from_the_config(extra, dtype, bytes_per_param):
    s = _llama(**extra)
    assert s.checkpoint_dtype == dtype
    assert s.checkpoint_bytes() == s.total_params() * bytes_per_param
    assert s.serving_dtype in ("fp16", "bf16")  # serving stays 16-bit whatever the checkpoint holds


def test_gpt_j_main_is_fp32_and_its_float16_revision_is_half():
    main = load_model("EleutherAI/gpt-j-6b")
    assert main.checkpoint_dtype == "float32"
    assert main.checkpoint_bytes() / 1e9 == pytest.approx(24.2, rel=0.02)  # ~24 GB on the hub
    half = load_model("EleutherAI/gpt-j-6b", revision="float16")
    assert (half.checkpoint_dtype, half.revision, half.serving_dtype) == ("float16", "float16", "fp16")
    assert half.checkpoint_bytes() * 2 == main.checkpoint_bytes()
    assert load_model("EleutherAI/gpt-j-6b", revision="some-branch").checkpoint_dtype == "float32"


def test_t5_context_limit_beyond_n_positions():
    s = load_model("google/flan-t5-xl")
    assert (s.max_positions, s.max_context) == (512, 2048)
    assert load_model("meta-llama/Llama-2-7b-hf").max_context == 4096


@pytest.mark.parametrize("model_id,top_k", [
    ("mistralai/Mixtral-8x7B-v0.1", 2), ("databricks/dbrx-instruct", 4), ("meta-llama/Llama-2-7b-hf", 1),
])
def test_experts_per_token(model_id, top_k):
    assert load_model(model_id).experts_per_token == top_k


def test_deepseek_v3_latent_attention_and_moe_layout():
    """DeepSeek-V3: 3 dense layers then 58 MoE layers of 256 routed + 1 shared expert (2048 wide), top-8; attention
    through q_lora_rank 1536 / kv_lora_rank 512 projections. 671B published (README_WEIGHTS.md, without the MTP
    module), so the count must come from the latent projections, not heads x head_dim."""
    shape = load_model("deepseek-ai/DeepSeek-V3")
    assert shape.mla is not None and shape.mla.latent_dim == 576
    assert (shape.moe_layers, shape.num_experts, shape.shared_expert_size, shape.experts_per_token) == (58, 256, 2048, 8)
    assert (shape.intermediate_size, shape.dense_intermediate_size) == (2048, 18432)
    hidden, heads = 7168, 128
    attention = (hidden * 1536 + 1536 * heads * 192) + hidden * 576 + 512 * heads * 256 + heads * 128 * hidden
    assert shape._attention_params() == attention
    assert shape.total_params() == pytest.approx(671e9, rel=0.001)
    assert shape.prequantized == "fp8"


def test_deepseek_v2_lite_projects_queries_directly():
    shape = load_model("deepseek-ai/DeepSeek-V2-Lite")
    assert shape.mla is not None and shape.mla.q_lora_rank == 0
    assert (shape.moe_layers, shape.num_experts, shape.shared_expert_size) == (26, 64, 2 * 1408)


@pytest.mark.parametrize("model_id,sliding,window", [
    ("google/gemma-2-9b-it", 21, 4096),    # every even layer of 42
    ("google/gemma-3-1b-it", 22, 512),     # 5 local : 1 global (sliding_window_pattern 6) over 26 layers
    ("mistralai/Mistral-7B-v0.1", 0, None),  # window not confirmed in every LMI vLLM: counted at full context
    ("Qwen/Qwen2.5-7B", 0, None),          # use_sliding_window false
])
def test_sliding_window_layers(model_id, sliding, window):
    shape = load_model(model_id)
    assert (shape.sliding_layers, shape.sliding_window) == (sliding, window)


def test_deepseek_v3_stores_its_multi_token_prediction_module():
    """The checkpoint as published holds 684,531,386,000 parameters (the HF safetensors total, models.json
    params_source): the 671B main model plus the MTP module vLLM does not serve."""
    from selector.model_shape import load_model

    shape = load_model("deepseek-ai/DeepSeek-V3")
    assert abs(shape.total_params() + shape.mtp_params() - 684_531_386_000) / 684_531_386_000 < 0.001
    assert shape.stored_bytes() > shape.checkpoint_bytes()
    assert load_model("moonshotai/Kimi-K2-Instruct").stored_bytes() == load_model(
        "moonshotai/Kimi-K2-Instruct").checkpoint_bytes()  # num_nextn_predict_layers 0


@pytest.mark.parametrize("value", ["x", -1, 1.5, True, 10**9])
def test_a_bad_num_nextn_predict_layers_is_refused(tmp_path, value):
    import json

    from selector.catalog import read_data
    from selector.errors import SelectorError
    from selector.model_shape import load_model

    entry = next(m for m in read_data("models.json")["models"] if m["id"] == "deepseek-ai/DeepSeek-V3")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(entry["config"], num_nextn_predict_layers=value)))
    with pytest.raises(SelectorError, match="num_nextn_predict_layers"):
        load_model(str(path))

"""A model's shape, read from the bundled catalog or a local HF config.json (never from the hub).

Catalog entries hold the verbatim config.json subset, so both sources go through one normalizer. Parameter
counts are computed from the shape (not parsed from the name) so memory estimates follow the real layout:
GQA, gated MLPs, mixture-of-experts, tied embeddings and encoder-decoder stacks.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from selector.catalog import load_catalog, read_data
from selector.errors import SelectorError, one_of

# HF config key spellings per quantity, in the order the families use them.
LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
HIDDEN_KEYS = ("hidden_size", "n_embd", "n_embed", "d_model")
HEAD_KEYS = ("num_attention_heads", "n_head", "n_heads", "num_heads")
FFN_KEYS = ("intermediate_size", "n_inner", "ffn_dim", "d_ff", "ffn_hidden_size")
POSITION_KEYS = ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length")
PREQUANTIZED_METHODS = {"awq": "awq", "gptq": "gptq", "fp8": "fp8", "fbgemm_fp8": "fp8", "mxfp4": "mxfp4"}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}


# config.json keys the shape is computed from: whole numbers (counts and sizes), mappings, flags.
POSITIVE_KEYS = (*LAYER_KEYS, *HIDDEN_KEYS, *HEAD_KEYS, *FFN_KEYS, *POSITION_KEYS, "vocab_size", "padded_vocab_size",
                 "num_key_value_heads", "num_kv_heads", "head_dim", "d_kv", "num_decoder_layers", "num_local_experts",
                 "kv_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim", "n_routed_experts",
                 "n_shared_experts", "first_k_dense_replace", "moe_layer_freq", "sliding_window",
                 "sliding_window_pattern")
MAX_MTP_LAYERS = 16  # num_nextn_predict_layers: DeepSeek-V3 stores 1
MAPPING_KEYS = ("quantization_config", "ffn_config", "attn_config", "rope_scaling")
MAX_ROPE_TYPE_CHARS = 64  # longest rope_type kept (real ones: linear, dynamic, yarn, longrope, llama3, ...)
NESTED_POSITIVE_KEYS = {"quantization_config": ("bits", "w_bit", "group_size", "q_group_size"),
                        "ffn_config": ("moe_num_experts", "ffn_hidden_size"), "attn_config": ("kv_n_heads",)}
MAX_CONFIG_NUMBER = 2**40  # far above any real model; keeps the memory arithmetic within float range



@dataclass(frozen=True)
class Mla:
    """Multi-head latent attention (DeepSeek-V2/V3, Kimi-K2): queries and keys/values pass through low-rank
    projections, and the KV cache holds one latent of kv_lora_rank + qk_rope_head_dim values per token and layer
    (vllm/v1/kv_cache_interface.py: "For MLA we only store a single latent vector")."""

    q_lora_rank: int  # 0: queries are projected directly from the hidden state (DeepSeek-V2-Lite)
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int

    @property
    def latent_dim(self) -> int:
        return self.kv_lora_rank + self.qk_rope_head_dim


@dataclass(frozen=True)
class ModelShape:
    model_id: str
    architecture: str
    model_type: str
    num_layers: int
    num_decoder_layers: int  # layers that keep a KV cache (all of them for decoder-only models)
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    tied_embeddings: bool
    num_experts: int  # 1 for dense models
    moe_layers: int  # layers whose MLP is a mixture of experts (0 for dense models)
    dense_intermediate_size: int  # FFN width of the other (dense) layers
    shared_expert_size: int  # FFN width of always-active shared experts in MoE layers (Qwen2-MoE), else 0
    gated_mlp: bool
    encoder_decoder: bool
    learned_positions: bool
    checkpoint_dtype: str  # float16 | bfloat16 | float32
    prequantized: str | None  # awq | gptq | fp8 when the checkpoint is already quantized
    quant_bits: int | None
    quant_group_size: int | None
    published_params: int | None
    source: str
    from_catalog: bool = False
    experts_per_token: int = 1  # routed experts each token passes through (1 for dense models)
    context_limit: int | None = None  # longest input + output the model serves, when not its max positions
    revision: str | None = None  # the hub revision whose checkpoint dtype this shape describes
    # The catalog's publishers run the model with trust_remote_code (its config names its own code, auto_map, for a
    # model_type or tokenizer the container's libraries do not know): the plan renders option.trust_remote_code.
    trust_remote_code: bool = False
    ships_code: bool = False  # a local config.json with auto_map: the user decides about trust_remote_code
    mla: Mla | None = None  # multi-head latent attention dimensions (None: MHA/GQA/MQA)
    fp8_block: tuple[int, int] | None = None  # block-quantized FP8 checkpoints: weight_block_size [block_n, block_k]
    mtp_layers: int = 0  # DeepSeek-V3's multi-token-prediction modules (num_nextn_predict_layers): stored, not served
    sliding_window: int | None = None  # tokens a sliding-window layer attends to
    sliding_layers: int = 0  # layers that attend only to the last sliding_window tokens
    rope_type: str | None = None  # rope_scaling.rope_type (or its older spelling .type): some need newer libraries

    @property
    def max_context(self) -> int:
        """Longest input + output: max positions, or a sourced serving limit for relative-position models (T5)."""
        return max(self.max_positions, self.context_limit or 0)

    @property
    def attention_width(self) -> int:
        return self.num_heads * self.head_dim

    @property
    def serving_dtype(self) -> str:
        """fp16 checkpoints serve in fp16; bf16 and fp32 ones in bf16 (fp32 T5 overflows in fp16). Serving is always
        16-bit; only host RAM, download and disk see the checkpoint's own dtype (checkpoint_bytes)."""
        return "fp16" if self.checkpoint_dtype == "float16" else "bf16"

    @property
    def stored_as(self) -> str:
        """How the checkpoint stores its weights, for messages: a pre-quantized checkpoint's method first (its
        config's torch_dtype names only the modules left unquantized)."""
        if self.prequantized:
            return f"{self.prequantized.upper()} pre-quantized, other modules {self.checkpoint_dtype}"
        return self.checkpoint_dtype

    def _attention_params(self) -> int:
        if self.mla:
            m, heads, hidden = self.mla, self.num_heads, self.hidden_size
            qk = m.qk_nope_head_dim + m.qk_rope_head_dim
            q = hidden * m.q_lora_rank + m.q_lora_rank * heads * qk if m.q_lora_rank else hidden * heads * qk
            kv = hidden * m.latent_dim + m.kv_lora_rank * heads * (m.qk_nope_head_dim + m.v_head_dim)
            return q + kv + heads * m.v_head_dim * hidden
        kv_width = self.num_kv_heads * self.head_dim
        return 2 * self.hidden_size * self.attention_width + 2 * self.hidden_size * kv_width

    def _ffn(self, width: int) -> int:
        return (3 if self.gated_mlp else 2) * self.hidden_size * width

    def _mlp_params(self) -> int:
        """MLP parameters summed over all layers: routed experts + router + shared experts, or dense."""
        moe = self.num_experts * self._ffn(self.intermediate_size) + self.hidden_size * self.num_experts
        moe += self._ffn(self.shared_expert_size) if self.shared_expert_size else 0
        dense_layers = self.num_layers - self.moe_layers
        return self.moe_layers * moe + dense_layers * self._ffn(self.dense_intermediate_size)

    def expert_params(self) -> int:
        """Routed-expert weights of all MoE layers (what MXFP4 checkpoints store in 4-bit blocks)."""
        return self.moe_layers * self.num_experts * self._ffn(self.intermediate_size) if self.num_experts > 1 else 0

    def block_params(self) -> int:
        """Parameters in the transformer blocks' linear layers: what weight quantization shrinks.

        Biases and norms (well under 0.1% of any catalog model) are left out.
        """
        if not self.encoder_decoder:
            return self.num_layers * self._attention_params() + self._mlp_params()
        encoder = self.num_layers * (self._attention_params() + self._ffn(self.intermediate_size))
        decoder = self.num_decoder_layers * (2 * self._attention_params() + self._ffn(self.intermediate_size))
        return encoder + decoder  # the decoder adds cross-attention

    def embedding_params(self) -> int:
        """Token embeddings, untied LM head and learned positions: these stay in fp16/bf16."""
        tokens = self.vocab_size * self.hidden_size
        head = 0 if self.tied_embeddings else tokens
        positions = self.max_positions * self.hidden_size if self.learned_positions else 0
        return tokens + head + positions

    def total_params(self) -> int:
        return self.block_params() + self.embedding_params()

    def mtp_params(self) -> int:
        """Parameters of the multi-token-prediction modules the checkpoint stores after the main model (DeepSeek-V3
        README_WEIGHTS.md: each is one more decoder layer, an eh_proj of 2h x h, and its own copies of the embedding
        and output head). vLLM skips them unless speculative decoding asks for them, so they are stored, not served."""
        if not self.mtp_layers:
            return 0
        h = self.hidden_size
        moe = self.num_experts * self._ffn(self.intermediate_size) + h * self.num_experts
        moe += self._ffn(self.shared_expert_size) if self.shared_expert_size else 0
        return self.mtp_layers * (self._attention_params() + moe + 2 * h * h + self.embedding_params())

    def stored_bytes(self) -> int:
        """Bytes of the checkpoint as published: what is downloaded and passes through host memory (the served
        weights, checkpoint_bytes(), plus any multi-token-prediction modules, stored in the checkpoint's format)."""
        extra = self.mtp_params()
        if not extra:
            return self.checkpoint_bytes()
        served = self.total_params()
        return self.checkpoint_bytes() + math.ceil(self.checkpoint_bytes() * extra / served)

    def checkpoint_bytes(self) -> int:
        """Bytes of the checkpoint as stored (what is downloaded, passes through host memory and, for a
        pre-quantized checkpoint, sits on the devices): its own bits and group size, 16-bit embeddings."""
        if self.prequantized == "mxfp4":
            # OCP MX: 32-element blocks of 4-bit values sharing one 8-bit scale = 4.25 bits per expert weight;
            # attention, router and embeddings stay 16-bit (the checkpoint's modules_to_not_convert).
            expert = self.expert_params()
            bits = model_type_data()["mxfp4"]["bits_per_expert_weight"]
            return math.ceil(expert * bits / 8) + 2 * (self.total_params() - expert)
        if self.prequantized and self.quant_bits:
            per_param = self.quant_bits / 8
            if self.quant_group_size:
                per_param += _group_overhead_bytes(self.prequantized) / self.quant_group_size
            return int(self.block_params() * per_param) + 2 * self.embedding_params()
        return self.total_params() * DTYPE_BYTES.get(self.checkpoint_dtype, 2)


def _bad(source: str, key: str, value: Any, what: str) -> SelectorError:
    return SelectorError(f"model config {key}", value, f"{source} must give {what} here",
                         "Use the config.json saved with the model weights")


def check_names(config: dict[str, Any], source: str) -> None:
    """architectures and model_type identify the layout; they must be a list of names and a name."""
    architectures = config.get("architectures")
    if architectures is not None and not (
        isinstance(architectures, list) and architectures and all(isinstance(a, str) and a for a in architectures)
    ):
        raise _bad(source, "architectures", architectures, "a non-empty list of class names (e.g. [LlamaForCausalLM])")
    if config.get("model_type") is not None and not isinstance(config["model_type"], str):
        raise _bad(source, "model_type", config["model_type"], "a string (e.g. llama)")


def check_config(config: dict[str, Any], source: str) -> None:
    """A config must hold the types the shape is computed from: a string or 0 there is no model, and
    nonsense must surface as one SelectorError naming the key, never as a crash deeper down."""
    def bad(key: str, value: Any, what: str) -> SelectorError:
        return _bad(source, key, value, what)

    for key in MAPPING_KEYS:
        if config.get(key) and not isinstance(config[key], dict):
            raise bad(key, config[key], "a JSON object")
    checks = [(key, config.get(key)) for key in POSITIVE_KEYS]
    checks += [(f"{parent}.{key}", config[parent].get(key))
               for parent, keys in NESTED_POSITIVE_KEYS.items() if config.get(parent) for key in keys]
    for key, value in checks:
        if key.endswith("group_size") and value == -1:
            continue  # GPTQ's per-channel quantization: one group per output row
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= MAX_CONFIG_NUMBER):
            raise bad(key, value, f"a whole number from 0 to {MAX_CONFIG_NUMBER}")
    first = {}
    for keys in (LAYER_KEYS, HIDDEN_KEYS, HEAD_KEYS, FFN_KEYS, ("vocab_size", "padded_vocab_size")):
        first[keys[0]] = next((config[k] for k in keys if config.get(k) is not None), None)
        if first[keys[0]] == 0 or (first[keys[0]] is None and keys[0] == "vocab_size"):
            raise SelectorError(f"model config {keys[0]}", first[keys[0]],
                                f"{source} needs a positive {' or '.join(keys)}",
                                "Use the config.json saved with the model weights")
    heads, hidden = first[HEAD_KEYS[0]], first[HIDDEN_KEYS[0]]
    if heads and hidden and hidden < heads and not (config.get("head_dim") or config.get("d_kv")):
        raise bad(HIDDEN_KEYS[0], hidden, f"at least the {heads} attention heads (each head needs a width)")
    for key in ("num_key_value_heads", "num_kv_heads"):
        if heads and config.get(key) and heads % config[key]:
            raise bad(key, config[key], f"a divisor of the {heads} attention heads")
    if "expansion_ratio" in config and (config["expansion_ratio"] is not None or first[FFN_KEYS[0]] is None) and (
        isinstance(config["expansion_ratio"], bool) or not isinstance(config["expansion_ratio"], (int, float))
        or not 0 < config["expansion_ratio"] < 1e6
    ):
        raise bad("expansion_ratio", config["expansion_ratio"], "a positive number")
    groups = (config.get("quantization_config") or {}).get("config_groups")
    if groups and not (isinstance(groups, dict) and all(
            isinstance(g, dict) and isinstance(g.get("weights", {}), dict) for g in groups.values())):
        raise bad("quantization_config.config_groups", "{...}", "an object of {weights: {...}} groups")
    for key in ("tie_word_embeddings", "is_encoder_decoder", "multi_query", "new_decoder_architecture"):
        if config.get(key) is not None and not isinstance(config[key], bool):
            raise bad(key, config[key], "true or false")


def _group_overhead_bytes(method: str) -> float:
    """Scale + zero point bytes per quantization group (a fact of the method, kept in backends.json)."""
    return load_catalog().methods[method].group_overhead_bytes


@lru_cache(maxsize=1)
def model_type_data() -> dict[str, Any]:
    """model_types.json, read once per process: layout traits and the engine rules for MLA / sliding windows."""
    return read_data("model_types.json")


def _model_types() -> dict[str, Any]:
    """Layout traits per HF model_type, read once per process (every config normalization needs them)."""
    return model_type_data()["model_types"]


def _first(config: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if config.get(key) is not None:
            return config[key]
    return None


def _kv_heads(config: dict[str, Any], model_type: str, heads: int) -> int:
    if config.get("num_key_value_heads"):
        return int(config["num_key_value_heads"])
    if model_type in ("falcon", "RefinedWeb", "RefinedWebModel"):
        if config.get("new_decoder_architecture"):
            return int(config.get("num_kv_heads") or heads)
        return 1 if config.get("multi_query", True) else heads
    if config.get("multi_query"):
        return 1
    attn = config.get("attn_config") or {}
    if attn.get("kv_n_heads"):
        return int(attn["kv_n_heads"])
    return heads


@dataclass(frozen=True)
class MoeLayout:
    experts: int
    expert_ffn: int | None  # per-expert FFN width when the config stores it apart from the dense one
    moe_layers: int | None  # None: every layer
    shared_ffn: int


DENSE = MoeLayout(1, None, 0, 0)
UNMODELLED_MOE_KEYS = ("n_routed_experts", "n_shared_experts", "num_experts_per_token")


def _moe(config: dict[str, Any], layers: int) -> MoeLayout:
    """Mixture-of-experts layout in the spellings of Mixtral, DBRX and Qwen2/Qwen3-MoE; others are refused
    rather than counted as dense (which would under-count memory many times over)."""
    if config.get("num_local_experts"):
        return MoeLayout(int(config["num_local_experts"]), None, None, 0)
    ffn = config.get("ffn_config") or {}
    if ffn.get("moe_num_experts"):
        return MoeLayout(int(ffn["moe_num_experts"]), ffn.get("ffn_hidden_size"), None, 0)
    if config.get("num_experts") and config.get("moe_intermediate_size"):
        step = int(config.get("decoder_sparse_step") or 1)
        dense_only = set(config.get("mlp_only_layers") or [])
        moe_layers = sum(1 for i in range(layers) if (i + 1) % step == 0 and i not in dense_only)
        return MoeLayout(int(config["num_experts"]), int(config["moe_intermediate_size"]), moe_layers,
                         int(config.get("shared_expert_intermediate_size") or 0))
    if config.get("n_routed_experts") and config.get("moe_intermediate_size"):
        # DeepSeek-V2/V3 (modeling_deepseek.py): layer i is MoE when i >= first_k_dense_replace and
        # i % moe_layer_freq == 0; n_shared_experts always-active experts of moe_intermediate_size each.
        first_dense = int(config.get("first_k_dense_replace") or 0)
        freq = int(config.get("moe_layer_freq") or 1)
        moe_layers = sum(1 for i in range(layers) if i >= first_dense and i % freq == 0)
        width = int(config["moe_intermediate_size"])
        return MoeLayout(int(config["n_routed_experts"]), width, moe_layers,
                         int(config.get("n_shared_experts") or 0) * width)
    unknown = [key for key in (*UNMODELLED_MOE_KEYS, "num_experts") if config.get(key)]
    if unknown:
        raise SelectorError(
            f"model config {unknown[0]}", config[unknown[0]],
            "this mixture-of-experts layout is not one the memory model understands",
            "Supported: Mixtral (num_local_experts), DBRX (ffn_config), Qwen-MoE (num_experts + moe_intermediate_size) "
            "and DeepSeek (n_routed_experts + moe_intermediate_size)",
        )
    return DENSE


def _prequantized(config: dict[str, Any]) -> tuple[str | None, int | None, int | None]:
    q = config.get("quantization_config")
    if not q:
        return None, None, None
    method = str(q.get("quant_method", "")).lower()
    if method == "compressed-tensors":
        groups: dict[str, Any] = q.get("config_groups") or {}
        first_group: dict[str, Any] = next(iter(groups.values()), {})
        weights = first_group.get("weights", {})
        if weights.get("type") == "float" and weights.get("num_bits") == 8:
            return "fp8", 8, None
        method = "unknown compressed-tensors scheme"
    if method not in PREQUANTIZED_METHODS:
        raise SelectorError(
            "quantization_config.quant_method",
            method,
            "this pre-quantized checkpoint format is not one LMI backends load",
            f"Supported pre-quantized formats: {one_of(sorted(set(PREQUANTIZED_METHODS)))}",
        )
    canonical = PREQUANTIZED_METHODS[method]
    if canonical == "mxfp4":
        return canonical, 4, 32  # OCP Microscaling: 32-element blocks, see ModelShape.checkpoint_bytes
    bits = 8 if canonical == "fp8" else int(q.get("bits") or q.get("w_bit") or 4)
    group = q.get("group_size") or q.get("q_group_size")
    return canonical, bits, int(group) if group and int(group) > 0 else None


def shape_from_config(
    config: dict[str, Any], model_id: str, source: str, published: int | None = None, from_catalog: bool = False,
) -> ModelShape:
    """Normalize one HF config.json dict; a missing fact is an error naming the key, never a guess."""
    types = _model_types()
    architectures = config.get("architectures") or []
    model_type = config.get("model_type")
    if not architectures or not model_type:
        missing = "architectures" if not architectures else "model_type"
        raise SelectorError(f"model config {missing}", None, f"{source} has no '{missing}' key", "Use the config.json saved with the model weights")
    check_names(config, source)
    traits = types.get(model_type)
    if traits is None:
        raise SelectorError(
            "model_type", model_type, f"the selector does not know the layout of this model type ({source})",
            f"Known model types: {one_of(sorted(types), 40)}",
        )
    check_config(config, source)

    def need(keys: tuple[str, ...], what: str) -> Any:
        value = _first(config, keys)
        if value is None:
            raise SelectorError(f"model config {what}", None, f"{source} has none of {', '.join(keys)}")
        return value

    layers = int(need(LAYER_KEYS, "layer count"))
    hidden = int(need(HIDDEN_KEYS, "hidden size"))
    heads = int(need(HEAD_KEYS, "attention heads"))
    moe = _moe(config, layers)
    dense_ffn = _first(config, FFN_KEYS)
    if dense_ffn is None:
        dense_ffn = int(config.get("expansion_ratio", 4) * hidden)
    ffn = moe.expert_ffn or dense_ffn
    positions = _first(config, POSITION_KEYS) or traits["max_positions_default"]
    if positions is None:
        raise SelectorError("model config max positions", None, f"{source} has none of {', '.join(POSITION_KEYS)}")
    encoder_decoder = bool(config.get("is_encoder_decoder")) or model_type == "t5"
    gated = traits["mlp"] == "gated" or str(config.get("feed_forward_proj", "")).startswith("gated")
    method, bits, group = _prequantized(config)
    # transformers writes torch_dtype (dtype from v4.56) when it saves a checkpoint; a config without either is
    # an older save whose weights are float32 (EleutherAI/gpt-j-6b main: no torch_dtype, ~24 GB of fp32).
    dtype_key = "torch_dtype" if config.get("torch_dtype") else "dtype"
    raw_dtype = config.get(dtype_key) or "float32"
    if not isinstance(raw_dtype, str):
        raise _bad(source, dtype_key, raw_dtype, "a dtype name (float16, bfloat16 or float32)")
    dtype = raw_dtype
    return ModelShape(
        model_id=model_id,
        architecture=architectures[0],
        model_type=model_type,
        num_layers=layers,
        num_decoder_layers=int(config.get("num_decoder_layers") or layers) if encoder_decoder else layers,
        hidden_size=hidden,
        num_heads=heads,
        num_kv_heads=_kv_heads(config, model_type, heads),
        head_dim=int(config.get("head_dim") or config.get("d_kv") or hidden // heads),
        intermediate_size=int(ffn),
        vocab_size=int(need(("vocab_size", "padded_vocab_size"), "vocab_size")),
        max_positions=int(positions),
        tied_embeddings=bool(config.get("tie_word_embeddings", traits["tie_word_embeddings_default"])),
        num_experts=moe.experts,
        moe_layers=layers if moe.moe_layers is None and moe.experts > 1 else (moe.moe_layers or 0),
        dense_intermediate_size=int(dense_ffn),
        shared_expert_size=moe.shared_ffn,
        gated_mlp=gated,
        encoder_decoder=encoder_decoder,
        learned_positions=traits["learned_position_embeddings"],
        checkpoint_dtype=dtype if dtype in DTYPE_BYTES else "float32",
        prequantized=method,
        quant_bits=bits,
        quant_group_size=group,
        published_params=published,
        source=source,
        from_catalog=from_catalog,
        experts_per_token=_experts_per_token(config, moe.experts),
        context_limit=traits.get("relative_position_context_limit"),
        mla=_mla(config),
        fp8_block=_fp8_block(config) if method == "fp8" else None,
        mtp_layers=_mtp_layers(config, source),
        rope_type=_rope_type(config, source),
        **_sliding(config, traits, layers, int(positions)),
    )


def _mtp_layers(config: dict[str, Any], source: str) -> int:
    value = config.get("num_nextn_predict_layers") or 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_MTP_LAYERS:
        raise _bad(source, "num_nextn_predict_layers", value, f"a whole number from 0 to {MAX_MTP_LAYERS}")
    return value


def _fp8_block(config: dict[str, Any]) -> tuple[int, int] | None:
    """weight_block_size of a block-quantized FP8 checkpoint (DeepSeek-V3, Qwen3-FP8): one scale per
    block_n x block_k tile of every weight, so a tensor-parallel shard must cut between tiles."""
    block = (config.get("quantization_config") or {}).get("weight_block_size")
    if block is None:
        return None
    if not (isinstance(block, list) and len(block) == 2 and all(
            isinstance(b, int) and not isinstance(b, bool) and 0 < b <= 4096 for b in block)):
        raise SelectorError("quantization_config.weight_block_size", block,
                            "must be two positive integers [block_n, block_k] (at most 4096)",
                            "Use the config.json saved with the model weights (e.g. [128, 128])")
    return int(block[0]), int(block[1])


def _rope_type(config: dict[str, Any], source: str) -> str | None:
    """rope_scaling's type: transformers reads rope_type, and type as its older spelling (Llama 3.1 writes
    rope_type llama3, which transformers parses from 4.43 on; selector/data/model_requirements.json)."""
    rope = config.get("rope_scaling")
    if not rope:
        return None
    value = rope.get("rope_type", rope.get("type"))
    if value is None:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ROPE_TYPE_CHARS:
        raise _bad(source, "rope_scaling.rope_type", value,
                   f"a name of at most {MAX_ROPE_TYPE_CHARS} characters (e.g. llama3, yarn, linear)")
    return value


def _mla(config: dict[str, Any]) -> Mla | None:
    """DeepSeek-style multi-head latent attention, recognised by kv_lora_rank (modeling_deepseek.py)."""
    if not config.get("kv_lora_rank"):
        return None
    missing = [k for k in ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim") if not config.get(k)]
    if missing:
        raise SelectorError(f"model config {missing[0]}", None,
                            "a latent-attention config (kv_lora_rank) must also give the head dimensions",
                            "Use the config.json saved with the model weights")
    return Mla(int(config.get("q_lora_rank") or 0), int(config["kv_lora_rank"]), int(config["qk_nope_head_dim"]),
               int(config["qk_rope_head_dim"]), int(config["v_head_dim"]))


def _sliding(config: dict[str, Any], traits: dict[str, Any], layers: int, positions: int) -> dict[str, Any]:
    """Layers that attend only to a sliding window, for model types whose layout model_types.json records
    (sliding_layers): an explicit layer_types list (gpt-oss, newer Gemma saves), every even layer (Gemma 2),
    or all but every sliding_window_pattern-th layer (Gemma 3). Other configs with a sliding_window (Mistral v0.1,
    Phi-3, Starcoder2, Qwen use_sliding_window) are kept at full context: the conservative count."""
    layout, window = traits.get("sliding_layers"), config.get("sliding_window")
    if not layout or not window or window >= positions:
        return {}
    kinds = config.get("layer_types")
    if isinstance(kinds, list) and len(kinds) == layers:
        count = sum(1 for kind in kinds if kind == "sliding_attention")
    elif layout == "even":
        count = (layers + 1) // 2
    elif layout == "pattern" and config.get("sliding_window_pattern"):
        count = sum(1 for i in range(layers) if (i + 1) % int(config["sliding_window_pattern"]))
    else:
        return {}
    return {"sliding_window": int(window), "sliding_layers": count} if count else {}


def _experts_per_token(config: dict[str, Any], experts: int) -> int:
    """Top-k routing of a mixture-of-experts model: Mixtral/Qwen-MoE num_experts_per_tok, DBRX ffn_config.moe_top_k."""
    if experts <= 1:
        return 1
    top_k = config.get("num_experts_per_tok") or (config.get("ffn_config") or {}).get("moe_top_k") or 2
    return int(top_k) if isinstance(top_k, int) and not isinstance(top_k, bool) and 0 < top_k <= experts else 2


@lru_cache(maxsize=1)
def _catalog_models() -> dict[str, dict[str, Any]]:
    """Lower-cased id and alias -> catalog entry (HF ids are case-insensitive on the hub)."""
    index: dict[str, dict[str, Any]] = {}
    for entry in read_data("models.json")["models"]:
        for name in [entry["id"], *entry.get("aliases", [])]:
            index[name.lower()] = entry
    return index


def catalog_model_ids() -> list[str]:
    return sorted({entry["id"] for entry in _catalog_models().values()})


def catalog_entry(model_id: str) -> dict[str, Any] | None:
    return _catalog_models().get(model_id.lower())


def load_model(model: str, model_config: str | None = None, revision: str | None = None) -> ModelShape:
    """Resolve `model` (catalog id, path to config.json, or S3/hub id with a local `model_config`).

    A `revision` of a catalog model that the catalog lists (e.g. EleutherAI/gpt-j-6b revision float16) changes the
    checkpoint dtype to that revision's; a local config.json already describes the revision it was saved from."""
    for field, value in (("model_config", model_config), ("model", model)):
        if value and "\0" in value:
            raise SelectorError(field, value, "contains a NUL character, so it is neither a path nor a model id")
    if model_config:
        return _from_file(Path(model_config), model, "model_config")
    path = Path(model)
    try:
        is_model_dir = path.is_dir() and (path / "config.json").is_file()
    except (OSError, ValueError) as exc:
        detail = (exc.strerror if isinstance(exc, OSError) else None) or exc
        raise SelectorError("model", model, f"is not a usable path ({detail})",
                            "Give a catalog id (python -m selector catalog models) or a path to a config.json") from None
    if path.suffix == ".json" or is_model_dir:
        return _from_file(path / "config.json" if path.is_dir() else path, str(path), "model")
    entry = catalog_entry(model)
    if entry is not None:
        shape = shape_from_config(entry["config"], entry["id"], entry["source"], entry.get("published_params"), True)
        shape = replace(shape, trust_remote_code="trust_remote_code" in entry)
        return with_revision(shape, entry, revision)
    close = difflib.get_close_matches(model.lower(), list(_catalog_models()), n=3, cutoff=0.6)
    hint = f"Did you mean {one_of(close)}? " if close else ""
    raise SelectorError(
        "model", model,
        "not in the bundled catalog and not a path to a config.json (the selector never downloads from the hub)",
        hint + "Pass a local config.json (model_config) for other models, or list the catalog with: python -m selector catalog models",
    )


def with_revision(shape: ModelShape, entry: dict[str, Any], revision: str | None) -> ModelShape:
    """The catalog's known revisions carry their own checkpoint dtype (sourced in models.json)."""
    known = (entry.get("revisions") or {}).get(revision or "")
    if not known:
        return shape
    return replace(shape, checkpoint_dtype=known["torch_dtype"], revision=revision)


def _from_file(path: Path, model_id: str, field: str) -> ModelShape:
    """A local config.json, read only through the input boundary (regular file, size and depth capped)."""
    from selector.input_boundary import read_json_object
    from selector.validate import check_local_config

    config = read_json_object(str(path), field)
    check_local_config(config, str(path))
    return replace(shape_from_config(config, model_id, str(path)), ships_code=bool(config.get("auto_map")))

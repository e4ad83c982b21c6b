"""The decision, end to end in-process: issue examples, pins honoured or refused, invariants over the catalog."""
from __future__ import annotations

import json

import pytest

from selector import Request, SelectorError, resolve
from selector.model_shape import catalog_model_ids

US_EAST_LMI = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130"


def test_llama2_13b_default():
    plan = resolve(Request(model="meta-llama/Llama-2-13b-hf"))
    assert (plan.backend, plan.instance_type, plan.tensor_parallel_degree, plan.quantization) == \
        ("vllm", "ml.g5.12xlarge", 4, "none")
    assert plan.image_uri == US_EAST_LMI


def test_llama2_13b_even_traffic_goes_to_tensorrtllm_on_g5():
    plan = resolve(Request(model="meta-llama/Llama-2-13b-hf", traffic="even", max_input_tokens=1024,
                           max_output_tokens=512))
    assert plan.backend == "tensorrtllm"
    assert plan.instance_type.startswith("ml.g5.")
    assert plan.serving_properties["option.max_input_len"] == "1024"
    # 0.33.0's trt_llm_partition.py reads option.max_seq_len, the whole sequence (input + output); nothing there
    # reads option.max_output_len (tests/test_conformance.py)
    assert plan.serving_properties["option.max_seq_len"] == "1536"
    assert "option.max_output_len" not in plan.serving_properties


@pytest.mark.parametrize("traffic", ["even", "uneven"])
@pytest.mark.parametrize("prefer", ["balanced", "cost"])
def test_t5_never_vllm(traffic, prefer):
    plan = resolve(Request(model="google/flan-t5-xl", traffic=traffic, prefer=prefer))
    assert plan.backend in ("tensorrtllm", "lmi-dist")


def test_llama2_70b_on_g5_48xlarge():
    plan = resolve(Request(model="meta-llama/Llama-2-70b-hf", families=("g5", "p4d", "p4de")))
    assert (plan.instance_type, plan.tensor_parallel_degree) == ("ml.g5.48xlarge", 8)
    assert plan.memory["kv_bytes_per_token"] == 327_680


def test_cost_considers_inf2_and_quantization():
    plan = resolve(Request(model="mistralai/Mistral-7B-v0.1", prefer="cost", families=("inf2",),
                           max_input_tokens=1536, max_output_tokens=512))
    assert plan.backend == "neuronx" and plan.instance_type.startswith("ml.inf2.")
    assert any("deprecated" in w for w in plan.warnings)
    quantized = resolve(Request(model="meta-llama/Llama-2-13b-hf", prefer="cost"))
    assert quantized.quantization != "none"
    assert quantized.hourly_usd < resolve(Request(model="meta-llama/Llama-2-13b-hf")).hourly_usd


@pytest.mark.parametrize("model_id", catalog_model_ids())
def test_every_catalog_model_cost_never_dearer_than_balanced(model_id):
    try:
        balanced = resolve(Request(model=model_id))
    except SelectorError:
        balanced = None
    try:
        cost = resolve(Request(model=model_id, prefer="cost"))
    except SelectorError as exc:
        _assert_larger_than_every_default_instance(model_id, exc)
        return
    if balanced is not None:
        assert cost.hourly_usd <= balanced.hourly_usd
    for plan in filter(None, (balanced, cost)):
        mem = plan.memory
        assert mem["per_device_bytes"] <= mem["usable_per_device_bytes"]
        assert plan.max_batch_size >= plan.min_concurrency
        assert plan.tensor_parallel_degree <= plan.devices


def _assert_larger_than_every_default_instance(model_id: str, exc: SelectorError) -> None:
    """Only a model whose weights as loaded (the checkpoint; vLLM's fp8 reads 16-bit weights before quantizing) exceed
    what vLLM may use on every device of the largest default-family instance may go unplanned (DeepSeek-V3/R1 FP8,
    Kimi-K2, Qwen3-Coder-480B bf16: they need p5en-class memory), and the refusal must point at `families: all`
    when an opt-in family holds it."""
    from selector.catalog import load_catalog
    from selector.memory import usable_bytes
    from selector.model_shape import load_model

    catalog = load_catalog()
    defaults = [i for i in catalog.instances.values() if i.family in catalog.default_families]
    shape = load_model(model_id)
    if shape.fp8_block is not None:  # block-wise FP8 needs native FP8 hardware, which no seed family has
        assert all((i.compute_capability or 0) < 8.9 for i in defaults)
        assert "block-quantized FP8" in exc.paragraph() and "families: all" in exc.paragraph()
        return
    largest = max(usable_bytes(i, catalog) * i.devices for i in defaults)
    checkpoint = shape.checkpoint_bytes()
    assert checkpoint > largest, exc.paragraph()
    everywhere = max(usable_bytes(i, catalog) * i.devices for i in catalog.instances.values())
    if checkpoint < everywhere:
        assert "families: all" in exc.paragraph()
    else:
        assert "No catalog instance can hold it" in exc.paragraph()


def test_prequantized_checkpoint_never_sets_option_quantize():
    plan = resolve(Request(model="TheBloke/Llama-2-70B-AWQ"))
    assert (plan.backend, plan.quantization, plan.quantization_kind) == ("vllm", "awq", "prequantized")
    assert "option.quantize" not in plan.serving_properties


def test_runtime_quantization_sets_option_quantize():
    plan = resolve(Request(model="meta-llama/Llama-2-13b-hf", quantization="fp8", backend="vllm"))
    assert plan.serving_properties["option.quantize"] == "fp8"
    assert plan.instance_type == "ml.g5.12xlarge" or plan.hourly_usd <= 7.09


@pytest.mark.parametrize("pins,field,fragment", [
    (dict(backend="vllm", model="google/flan-t5-xl"), "backend", "does not run T5ForConditionalGeneration"),
    (dict(instance_type="ml.g5.xlarge", model="meta-llama/Llama-2-70b-hf"), "instance_type", "ml.g5.xlarge"),
    (dict(tensor_parallel_degree=3, model="meta-llama/Llama-2-13b-hf"), "tensor_parallel_degree",
     "shards across TP 1, 2, 4, 8, not 3"),
    (dict(backend="tensorrtllm", quantization="fp8", model="meta-llama/Llama-2-7b-hf", families=("g5", "p4d")),
     "backend + quantization", "compute capability 8.9+"),
    (dict(quantization="awq", backend="vllm", model="meta-llama/Llama-2-7b-hf"), "backend + quantization",
     "already quantized"),
    (dict(container_version="0.31.0", backend="tensorrtllm", model="meta-llama/Llama-2-7b-hf"), "container_version",
     "Published versions"),
    (dict(backend="neuronx", families=("g5",), model="meta-llama/Llama-2-7b-hf"), "backend", "Add one of inf2"),
    (dict(instance_type="ml.p4d.24xlarge", families=("g5",), model="meta-llama/Llama-2-7b-hf"), "instance_type",
     "contradicts families"),
    (dict(region="mars-east-1", model="meta-llama/Llama-2-7b-hf"), "region", "unknown region"),
    (dict(instance_type="ml.g5.3xlarge", model="meta-llama/Llama-2-7b-hf"), "instance_type", "Did you mean"),
    (dict(backend="neuronx", region="af-south-1", model="meta-llama/Llama-2-7b-hf"), "backend",
     "not published in af-south-1"),
    (dict(max_input_tokens=4000, max_output_tokens=512, model="meta-llama/Llama-2-7b-hf"),
     "max_input_tokens + max_output_tokens", "at most 4096"),
    (dict(quantization="gptq", model="TheBloke/Llama-2-70B-AWQ"), "quantization", "already quantized with AWQ"),
])
def test_impossible_requests_name_field_value_and_what_works(pins, field, fragment):
    with pytest.raises(SelectorError) as info:
        resolve(Request(**pins))
    error = info.value
    assert error.field == field
    assert fragment in error.paragraph()
    assert "\n" not in error.paragraph()


def test_pin_error_says_what_would_work():
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="google/flan-t5-xl", backend="vllm"))
    assert "Without the pin the plan would be: google/flan-t5-xl on tensorrtllm" in info.value.paragraph()


def test_nothing_fits_suggests_quantization():
    # Falcon-180B in 16 bit (335 GiB) exceeds ml.p4d.24xlarge's 8 x 40 GB; runtime int8 fits. (Llama-3.1-405B was
    # the example until its only quantized plan, DeepSpeed 0.27.0 int8, was found unable to read its config.)
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="tiiuae/falcon-180B", families=("p4d",)))
    assert info.value.field == "model"
    assert "allow quantization" in info.value.paragraph()
    assert resolve(Request(model="tiiuae/falcon-180B", families=("p4d",), prefer="cost")).quantization != "none"


def test_llama_3_1_405b_is_never_planned_on_a_container_that_cannot_read_its_config():
    """The cheapest plan used to be DeepSpeed 0.27.0 int8 on ml.p4de.24xlarge: its transformers 4.39.0 refuses
    rope_scaling.rope_type llama3 (libraries_support_model). On the default families nothing else fits, so the
    refusal names the family that does (p5en, 8 x H200, the model in 16 bit on vLLM)."""
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="meta-llama/Llama-3.1-405B", prefer="cost"))
    assert "p5en" in info.value.paragraph() and "deepspeed" not in info.value.paragraph().lower()
    plan = resolve(Request(model="meta-llama/Llama-3.1-405B", prefer="cost", families=("all",)))
    assert plan.backend != "deepspeed"


def test_defaulted_context_shrinks_before_giving_up():
    plan = resolve(Request(model="meta-llama/Llama-3.1-70B", families=("g5",), min_concurrency=64))
    assert plan.max_model_len < 8192
    assert any("shrunk" in line for line in plan.rationale)
    assert any("shrunk" in w for w in plan.warnings)


def test_explicit_lengths_never_shrink():
    with pytest.raises(SelectorError):
        resolve(Request(model="meta-llama/Llama-3.1-70B", families=("g5",), min_concurrency=64,
                        max_input_tokens=7000, max_output_tokens=1000))


def test_json_contract_fields_and_determinism():
    request = Request(model="mistralai/Mixtral-8x7B-v0.1", traffic="even", max_input_tokens=2048, max_output_tokens=256)
    first = json.dumps(resolve(request).to_json(), sort_keys=True)
    assert first == json.dumps(resolve(request).to_json(), sort_keys=True)
    data = json.loads(first)
    for key in ("backend", "quantization", "instance_type", "tensor_parallel_degree", "image_uri", "container_version",
                "max_model_len", "max_batch_size", "memory", "cost", "serving_properties", "rationale", "rejected",
                "warnings"):
        assert key in data
    for key in ("weights_bytes", "kv_bytes_per_token", "per_device_bytes", "device_capacity_bytes"):
        assert isinstance(data["memory"][key], int)
    assert data["cost"]["hourly_usd"] > 0
    assert all(set(r) == {"candidate", "rule", "reason"} for r in data["rejected"])


def test_rationale_explains_rejected_alternatives():
    plan = resolve(Request(model="tiiuae/falcon-7b", traffic="even", max_input_tokens=1024, max_output_tokens=256,
                           families=("g5", "inf2")))
    text = " ".join(plan.rationale)
    assert "Not neuronx: " in text and "does not run FalconForCausalLM" in text


def test_china_region_uses_cn_domain():
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", region="cn-north-1"))
    assert plan.image_uri.startswith("727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/djl-inference:")


def test_region_without_newest_image_falls_back_to_newest_published_there():
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", traffic="even", max_input_tokens=512,
                           max_output_tokens=128, region="ap-east-2"))
    assert plan.backend == "vllm"  # no TensorRT-LLM image in ap-east-2
    assert "Not tensorrtllm: " in " ".join(plan.rationale)


def test_t5_serves_beyond_n_positions_up_to_its_sourced_limit():
    """Issue 9: T5's relative position buckets do not cap context at n_positions 512; JumpStart serves Flan-T5 at
    1024 input / 2048 total. Defaults still stay at n_positions."""
    plan = resolve(Request(model="google/flan-t5-xl", max_input_tokens=1024, max_output_tokens=1024))
    assert plan.max_model_len == 2048
    assert resolve(Request(model="google/flan-t5-xl")).max_model_len == 512
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="google/flan-t5-xl", max_input_tokens=1024, max_output_tokens=1025))
    assert "at most 2048 tokens" in info.value.paragraph()


@pytest.mark.parametrize("kwargs,batch", [
    # issue 9: with CUDA-visible capacity 70B on g5.48xlarge batches ~20 full 4096-token sequences, not 29
    (dict(model="meta-llama/Llama-2-70b-hf", instance_type="ml.g5.48xlarge", tensor_parallel_degree=8), 21),
    (dict(model="meta-llama/Llama-2-7b-hf", instance_type="ml.g5.2xlarge", max_input_tokens=3072,
          max_output_tokens=1024), 3),
    (dict(model="tiiuae/falcon-40b", instance_type="ml.g5.12xlarge", tensor_parallel_degree=4,
          max_input_tokens=1024, max_output_tokens=1024), 3),
])
def test_aws_precedents_stay_feasible_at_cuda_visible_capacity(kwargs, batch):
    plan = resolve(Request(backend="vllm", min_concurrency=1, **kwargs))
    assert plan.max_batch_size == batch
    assert plan.memory["device_capacity_bytes"] < 24 * 1024**3


def test_revision_with_fp16_weights_sizes_host_ram_by_it():
    main = resolve(Request(model="EleutherAI/gpt-j-6b"))
    half = resolve(Request(model="EleutherAI/gpt-j-6b", revision="float16"))
    assert main.instance_type != "ml.g5.xlarge"  # fp32 checkpoint (~22.5 GiB) does not load in 16 GiB of RAM
    assert half.checkpoint_bytes * 2 == main.checkpoint_bytes
    assert half.serving_properties.get("option.revision") == "float16"


# --- DeepSeek-V3 (MLA + DeepSeek MoE, FP8 checkpoint) ----------------------------------------------------------
def test_deepseek_v3_refused_on_p5_names_the_latent_kv_and_weights():
    """The FP8 checkpoint holds ~673 GB (671B parameters at 1 byte, embeddings and lm_head in bf16): over the
    8 x 80 GB of ml.p5.48xlarge once vLLM keeps 10% back, so the refusal must say so with the MLA KV figure."""
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="deepseek-ai/DeepSeek-V3", instance_type="ml.p5.48xlarge"))
    text = info.value.paragraph()
    assert "weights need 78.3 GiB per device at TP 8" in text
    assert "multi-head latent attention KV cache 70,272 bytes per token per device" in text


def test_deepseek_v3_refused_on_ampere_for_its_block_fp8():
    """ml.p4de.24xlarge (A100) has the same 640 GB, but vLLM cannot run block-wise FP8 without native FP8."""
    with pytest.raises(SelectorError) as info:
        resolve(Request(model="deepseek-ai/DeepSeek-V3", instance_type="ml.p4de.24xlarge"))
    assert "block-quantized FP8 (weight_block_size [128, 128])" in info.value.paragraph()


def test_deepseek_v3_plans_on_p5en_with_the_latent_kv():
    from selector.catalog import load_catalog

    catalog = load_catalog()
    if "ml.p5en.48xlarge" not in catalog.instances:
        pytest.skip("ml.p5en.48xlarge (8 x H200 141 GB) is not in instances.json yet: the families work adds it")
    plan = resolve(Request(model="deepseek-ai/DeepSeek-V3", instance_type="ml.p5en.48xlarge",
                           families=(catalog.instances["ml.p5en.48xlarge"].family,)))
    assert (plan.backend, plan.quantization, plan.quantization_kind) == ("vllm", "fp8", "prequantized")
    assert plan.tensor_parallel_degree == 8
    assert plan.memory["kv_bytes_per_token"] == plan.memory["kv_bytes_per_token_per_device"] == 70_272
    assert plan.memory["per_device_bytes"] <= plan.memory["usable_per_device_bytes"]

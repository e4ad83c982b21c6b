"""serving.properties: keys the container version understands, values from the plan, stable bytes."""
from __future__ import annotations

import pytest

from selector import Request, SelectorError, resolve
from selector.render import parse_properties, render_options

BASE = dict(model_id="m", revision=None, architecture="LlamaForCausalLM", tp=4, dtype="fp16", max_model_len=4096,
            max_input_len=3584, max_output_len=512, max_num_tokens=8192, max_batch_size=16,
            gpu_memory_utilization=0.9, model_loading_timeout=1800, quantize=None, checkpoint_quantization=None,
            trust_remote_code=False)


@pytest.mark.parametrize("backend,version,present,absent", [
    ("tensorrtllm", "0.29.0", {"engine": "MPI", "option.rolling_batch": "trtllm"}, ["option.mpi_mode"]),
    # 0.33.0 compiles through djl's trt_llm_partition.py: max_seq_len (whole sequence), TensorRT-LLM dtype names.
    ("tensorrtllm", "0.33.0", {"engine": "Python", "option.mpi_mode": "true", "option.max_input_len": "3584",
                               "option.max_seq_len": "4096", "option.dtype": "float16"},
     ["option.max_output_len", "option.quantize"]),
    # 0.30.0-0.32.0: the user guide says option.max_output_len "now maps to max_seq_len" (the whole sequence).
    ("tensorrtllm", "0.32.0", {"engine": "Python", "option.mpi_mode": "true", "option.max_output_len": "4096",
                               "option.dtype": "fp16"}, ["option.max_seq_len"]),
    ("tensorrtllm", "0.29.0", {"option.max_output_len": "512"}, ["option.max_seq_len"]),
    ("lmi-dist", "0.29.0", {"engine": "MPI", "option.rolling_batch": "lmi-dist"}, ["option.mpi_mode"]),
    ("lmi-dist", "0.32.0", {"engine": "Python", "option.mpi_mode": "true"}, []),
    ("vllm", "0.34.0", {"option.rolling_batch": "vllm", "option.max_model_len": "4096"}, []),
    ("vllm", "0.38.0", {"engine": "Python", "option.max_rolling_batch_size": "16"}, ["option.rolling_batch"]),
    ("deepspeed", "0.27.0", {"engine": "MPI", "option.entryPoint": "djl_python.deepspeed", "option.max_tokens": "4096"}, []),
    ("neuronx", "0.29.0", {"option.n_positions": "4096", "option.rolling_batch": "auto",
                           "option.entryPoint": "djl_python.transformers_neuronx"}, []),
])
def test_keys_per_backend_and_version(backend, version, present, absent):
    options = render_options(backend, dict(BASE, container_version=version), {})
    for key, value in present.items():
        assert options[key] == value, key
    for key in absent:
        assert key not in options
    assert list(options) == sorted(options)


def test_t5_on_tensorrtllm_uses_guaranteed_no_evict():
    options = render_options("tensorrtllm", dict(BASE, container_version="0.32.0",
                                                 architecture="T5ForConditionalGeneration"), {})
    assert options["option.batch_scheduler_policy"] == "guaranteed_no_evict"


def test_t5_on_tensorrtllm_0_33_drops_the_key_nothing_reads():
    """trt_llm_partition.py at 0.33.0 reads no batch_scheduler_policy (TensorRT-LLM's default is no-evict)."""
    options = render_options("tensorrtllm", dict(BASE, container_version="0.33.0",
                                                 architecture="T5ForConditionalGeneration"), {})
    assert "option.batch_scheduler_policy" not in options


@pytest.mark.parametrize("version,key,value", [
    ("0.32.0", "option.quantize", "awq"), ("0.33.0", "option.quant_algo", "W4A16_AWQ"),
])
def test_tensorrtllm_quantization_key_follows_the_version(version, key, value):
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", backend="tensorrtllm", container_version=version,
                           quantization="awq", instance_type="ml.g5.12xlarge"))
    assert plan.serving_properties[key] == value
    assert {"option.quantize", "option.quant_algo"} - {key} & set(plan.serving_properties) == set()


@pytest.mark.parametrize("version,value", [("0.25.0", "bitsandbytes8"), ("0.26.0", "static_int8")])
def test_neuronx_int8_spelling_follows_the_version(version, value):
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", backend="neuronx", container_version=version,
                           quantization="int8", instance_type="ml.inf2.24xlarge"))
    assert plan.serving_properties["option.quantize"] == value


def test_deepspeed_smoothquant_serves_a_bf16_checkpoint_in_fp16():
    """DeepSpeedProperties refuses dtype=bf16 with smoothquant; fp16 is its own default for it."""
    plan = resolve(Request(model="meta-llama/Meta-Llama-3-8B", backend="deepspeed", container_version="0.27.0",
                           quantization="smoothquant", instance_type="ml.g5.12xlarge"))
    assert plan.serving_properties["option.dtype"] == "fp16"
    assert plan.serving_properties["option.quantize"] == "smoothquant"


def test_quantize_and_revision_only_when_set():
    options = render_options("vllm", dict(BASE, container_version="0.38.0", quantize="fp8", revision="abc123"), {})
    assert options["option.quantize"] == "fp8" and options["option.revision"] == "abc123"


def test_user_options_pass_through_but_never_override_the_plan():
    options = render_options("vllm", dict(BASE, container_version="0.38.0"), {"option.enable_prefix_caching": "true"})
    assert options["option.enable_prefix_caching"] == "true"
    with pytest.raises(SelectorError) as info:
        render_options("vllm", dict(BASE, container_version="0.38.0"), {"option.max_model_len": "9"})
    assert info.value.field == "options.option.max_model_len"


def test_rendered_file_has_header_and_sorted_keys():
    # 4 x 2048 tokens: on one A10G's CUDA-visible 22.06 GiB, 4 full 4096-token sequences no longer fit (docs/memory.md)
    request = Request(model="meta-llama/Llama-2-7b-hf", max_input_tokens=1536, max_output_tokens=512)
    plan = resolve(request)
    text = plan.serving_properties_text
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("ml.g5.2xlarge" in line for line in header)
    assert parse_properties(text) == plan.serving_properties
    keys = [line.split("=")[0] for line in text.splitlines() if line and not line.startswith("#")]
    assert keys == sorted(keys)
    assert text == resolve(request).serving_properties_text


@pytest.mark.parametrize("backend,version,expected", [
    ("lmi-dist", "0.28.0", "gptq"), ("vllm", "0.29.0", "gptq"), ("lmi-dist", "0.32.0", None), ("vllm", "0.38.0", None),
])
def test_prequantized_checkpoints_name_their_method_only_before_0_30(backend, version, expected):
    options = render_options(backend, dict(BASE, container_version=version, checkpoint_quantization="gptq"), {})
    assert options.get("option.quantize") == expected


def test_every_template_key_is_a_plan_key():
    """Pass-through options are refused for every key any template emits, in any version."""
    from selector.render import PLAN_KEYS

    for backend in ("vllm", "lmi-dist", "tensorrtllm", "deepspeed", "neuronx"):
        for version in ("0.25.0", "0.29.0", "0.30.0", "0.33.0", "0.38.0"):
            for quantize, revision, arch in ((None, None, "LlamaForCausalLM"), ("fp8", "r", "T5ForConditionalGeneration")):
                values = dict(BASE, container_version=version, quantize=quantize, revision=revision,
                              architecture=arch, checkpoint_quantization="awq", trust_remote_code=True)
                # option.trust_remote_code is the one key a user may also set, for a model of their own
                assert set(render_options(backend, values, {})) <= PLAN_KEYS | {"option.trust_remote_code"}


def test_plan_keys_are_refused_even_where_the_template_omits_them():
    with pytest.raises(SelectorError) as info:
        render_options("vllm", dict(BASE, container_version="0.38.0"), {"option.rolling_batch": "lmi-dist"})
    assert info.value.field == "options.option.rolling_batch"


@pytest.mark.parametrize("backend", ["vllm", "lmi-dist", "tensorrtllm", "deepspeed", "neuronx"])
def test_trust_remote_code_only_when_the_model_needs_it(backend):
    version = {"deepspeed": "0.27.0", "neuronx": "0.29.0", "lmi-dist": "0.32.0"}.get(backend, "0.33.0")
    plain = render_options(backend, dict(BASE, container_version=version), {})
    needed = render_options(backend, dict(BASE, container_version=version, trust_remote_code=True), {})
    assert "option.trust_remote_code" not in plain
    assert needed["option.trust_remote_code"] == "true"


def test_every_plan_key_names_what_to_set_instead():
    from selector.render import DRIVERS, PLAN_KEYS

    lengths = {"option.max_model_len", "option.max_input_len", "option.max_output_len", "option.max_tokens",
               "option.n_positions", "option.max_seq_len"}
    assert PLAN_KEYS <= set(DRIVERS) | lengths


@pytest.mark.parametrize("key,fragment", [
    ("option.quantization", "reads it as option.quantize (an alias of the same setting)"),  # vLLM Field(alias=...)
    ("option.tensor_parallel_size", "Instead: set tensor_parallel_degree"),
    ("option.max_num_seqs", "Instead: set min_concurrency"),
    ("option.model", "Instead: set model"),
    ("option.pipeline_parallel_degree", "tensor parallelism only"),
])
def test_vllm_names_and_aliases_of_planned_settings_are_refused(key, fragment):
    from selector.errors import SelectorError
    from selector.request import Request
    from selector.resolve import resolve

    with pytest.raises(SelectorError) as info:
        resolve(Request(model="meta-llama/Meta-Llama-3-8B", options={key: "2"}))
    assert fragment in info.value.paragraph()

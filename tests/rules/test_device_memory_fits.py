import pytest

from selector.rules import device_memory_fits
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,instance,tp,model,method,length,expect", [
    pytest.param("vllm", "ml.g5.48xlarge", 8, "meta-llama/Llama-2-70b-hf", "none", 4096, None, id="70b-g5-48xl"),
    pytest.param("vllm", "ml.g5.12xlarge", 4, "meta-llama/Llama-2-70b-hf", "none", 4096,
                 "weights need 32.1 GiB per device at TP 4", id="70b-weights-too-big"),
    pytest.param("vllm", "ml.g5.2xlarge", 1, "meta-llama/Llama-2-7b-hf", "fp8", 8192,
                 "KV cache 16.0 GiB for 4 x 8192 tokens exceed", id="7b-fp8-kv-too-big"),
    pytest.param("vllm", "ml.g5.2xlarge", 1, "meta-llama/Llama-2-13b-hf", "fp8", 1024,
                 "loads the 16-bit weights before quantizing: 24.2 GiB", id="13b-fp8-loads-16-bit-first"),
    pytest.param("vllm", "ml.g5.2xlarge", 1, "meta-llama/Llama-2-7b-hf", "fp8", 4096, None, id="7b-fp8"),
    pytest.param("neuronx", "ml.inf2.8xlarge", 2, "meta-llama/Llama-2-7b-hf", "none", 2048, None, id="7b-inf2-2-cores"),
    pytest.param("vllm", "ml.g5.12xlarge", 4, "meta-llama/Llama-2-70b-hf", "fp8", 4096,
                 "vLLM fp8 loads the 16-bit weights before quantizing: 32.1 GiB per device", id="fp8-load-needs-16-bit"),
])
def test_device_memory_fits(backend, instance, tp, model, method, length, expect):
    verdict = device_memory_fits.check(candidate(backend, instance, tp=tp, quantization=method),
                                       context(model, max_model_len=length))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


@pytest.mark.parametrize("backend,instance,min_concurrency,expect", [
    pytest.param("vllm", "ml.g5.48xlarge", 256, None, id="gpu-at-cap"),
    pytest.param("vllm", "ml.g5.48xlarge", 300, "min_concurrency 300 exceeds the 256 sequences", id="gpu-over-cap"),
    pytest.param("neuronx", "ml.inf2.48xlarge", 64, "exceeds the 32 sequences", id="neuron-over-cap"),
])
def test_batch_cap(backend, instance, min_concurrency, expect):
    verdict = device_memory_fits.check(candidate(backend, instance, tp=8),
                                       context("meta-llama/Llama-3.2-1B", max_model_len=256,
                                               min_concurrency=min_concurrency))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


@pytest.mark.parametrize("instance,tp,model,max_input,expect", [
    # DJL's max_num_tokens tutorial (LMI 0.28.0): Llama-3-70B on g5.48xlarge TP 8 is Out of Memory at any size
    pytest.param("ml.g5.48xlarge", 8, "meta-llama/Meta-Llama-3-70B", 1024, "runs out of memory", id="llama3-70b-oom"),
    pytest.param("ml.p4d.24xlarge", 8, "meta-llama/Meta-Llama-3-70B", 1024, None, id="llama3-70b-p4d-82000"),
    # Gemma-7B on one A10G: at most 1190 tokens per engine step
    pytest.param("ml.g5.2xlarge", 1, "google/gemma-7b", 2048, "fits at most 1190", id="gemma-7b-tp1-long-prompt"),
    pytest.param("ml.g5.2xlarge", 1, "google/gemma-7b", 1024, None, id="gemma-7b-tp1-short-prompt"),
])
def test_tensorrtllm_engine_must_fit_a_prompt(instance, tp, model, max_input, expect):
    verdict = device_memory_fits.check(
        candidate("tensorrtllm", instance, tp=tp),
        context(model, max_model_len=max_input + 512, min_concurrency=1, max_input_tokens=max_input,
                max_output_tokens=512))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


def test_tensorrtllm_max_num_tokens_stays_within_half_the_measured_engine():
    from selector import Request, resolve

    plan = resolve(Request(model="meta-llama/Llama-2-70b-hf", backend="tensorrtllm", instance_type="ml.g5.48xlarge",
                           tensor_parallel_degree=8, max_input_tokens=1024, max_output_tokens=512))
    assert plan.memory["engine_token_limit"] == 4100
    assert int(plan.serving_properties["option.max_num_tokens"]) == 2050  # the tutorial: max_tokens / 2

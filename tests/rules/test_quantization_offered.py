import pytest

from selector.rules import quantization_offered
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,method,model,version,expect", [
    pytest.param("vllm", "none", "meta-llama/Llama-2-7b-hf", None, None, id="none-always"),
    pytest.param("vllm", "fp8", "meta-llama/Llama-2-7b-hf", None, None, id="vllm-fp8-runtime"),
    pytest.param("vllm", "fp8", "meta-llama/Llama-2-7b-hf", "0.29.0", "it offers: no runtime quantization",
                 id="vllm-fp8-before-0.30"),
    pytest.param("vllm", "awq", "meta-llama/Llama-2-7b-hf", None, "AWQ/GPTQ need a checkpoint that is already quantized",
                 id="vllm-awq-needs-prequantized"),
    pytest.param("tensorrtllm", "awq", "meta-llama/Llama-2-7b-hf", None, None, id="trt-awq-runtime-llama"),
    pytest.param("tensorrtllm", "awq", "tiiuae/falcon-7b", None, "supports only", id="trt-awq-not-falcon"),
    pytest.param("tensorrtllm", "smoothquant", "mistralai/Mistral-7B-v0.1", None, None, id="trt-smoothquant-mistral"),
    pytest.param("deepspeed", "int8", "EleutherAI/gpt-j-6b", None, None, id="deepspeed-int8"),
    pytest.param("neuronx", "int8", "meta-llama/Llama-2-7b-hf", None, None, id="neuronx-int8"),
    pytest.param("neuronx", "fp8", "meta-llama/Llama-2-7b-hf", None, "it offers: int8", id="neuronx-no-fp8"),
    pytest.param("vllm", "awq", "TheBloke/Llama-2-70B-AWQ", None, None, id="vllm-reads-awq-checkpoint"),
    pytest.param("vllm", "gptq", "TheBloke/Llama-2-13B-GPTQ", "0.29.0", "does not load GPTQ", id="vllm-gptq-before-0.30"),
    pytest.param("lmi-dist", "fp8", "meta-llama/Llama-2-7b-hf", None, None, id="lmi-dist-fp8-llama"),
    pytest.param("lmi-dist", "fp8", "google/flan-t5-xxl", None, "does not apply to T5ForConditionalGeneration",
                 id="lmi-dist-fp8-not-t5"),
    pytest.param("tensorrtllm", "awq", "TheBloke/Llama-2-70B-AWQ", None,
                 "does not load AWQ pre-quantized checkpoints; backends that do: lmi-dist, vllm", id="trt-no-awq-checkpoint"),
])
def test_quantization_offered(backend, method, model, version, expect):
    instance = "ml.inf2.8xlarge" if backend == "neuronx" else "ml.g5.2xlarge"
    verdict = quantization_offered.check(candidate(backend, instance, quantization=method, version=version),
                                         context(model))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason

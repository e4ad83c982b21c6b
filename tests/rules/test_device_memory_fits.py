import pytest

from selector.rules import device_memory_fits
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,instance,tp,model,method,length,expect", [
    pytest.param("vllm", "ml.g5.48xlarge", 8, "meta-llama/Llama-2-70b-hf", "none", 4096, None, id="70b-g5-48xl"),
    pytest.param("vllm", "ml.g5.12xlarge", 4, "meta-llama/Llama-2-70b-hf", "none", 4096,
                 "weights need 32.1 GiB per device at TP 4", id="70b-weights-too-big"),
    pytest.param("vllm", "ml.g5.2xlarge", 1, "meta-llama/Llama-2-13b-hf", "fp8", 4096,
                 "KV cache 12.5 GiB for 4 x 4096 tokens exceed", id="13b-fp8-kv-too-big"),
    pytest.param("vllm", "ml.g5.2xlarge", 1, "meta-llama/Llama-2-13b-hf", "fp8", 1024, None, id="13b-fp8-short"),
    pytest.param("neuronx", "ml.inf2.8xlarge", 2, "meta-llama/Llama-2-7b-hf", "none", 2048, None, id="7b-inf2-2-cores"),
])
def test_device_memory_fits(backend, instance, tp, model, method, length, expect):
    verdict = device_memory_fits.check(candidate(backend, instance, tp=tp, quantization=method),
                                       context(model, max_model_len=length))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason

import pytest

from selector.rules import tp_within_devices
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,instance,tp,expect", [
    pytest.param("vllm", "ml.g5.12xlarge", 4, None, id="all-gpus"),
    pytest.param("vllm", "ml.g5.12xlarge", 8, "exceeds the 4 GPUs of ml.g5.12xlarge", id="too-many-gpus"),
    pytest.param("neuronx", "ml.inf2.24xlarge", 12, None, id="neuron-cores-count"),
    pytest.param("neuronx", "ml.inf2.xlarge", 4, "exceeds the 2 NeuronCores", id="too-many-cores"),
])
def test_tp_within_devices(backend, instance, tp, expect):
    verdict = tp_within_devices.check(candidate(backend, instance, tp=tp), context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason


@pytest.mark.parametrize("backend,instance,tp,expect", [
    pytest.param("vllm", "ml.g5.48xlarge", 3, "vLLM shards across TP 1, 2, 4, 8, not 3", id="gpu-tp-3"),
    pytest.param("neuronx", "ml.inf2.24xlarge", 3, "the degrees that fit ml.inf2.24xlarge: 1, 2, 4, 8, 12", id="neuron-tp-3"),
    pytest.param("neuronx", "ml.inf2.48xlarge", 24, None, id="neuron-all-cores"),
])
def test_tp_degree_is_one_the_backend_uses(backend, instance, tp, expect):
    verdict = tp_within_devices.check(candidate(backend, instance, tp=tp), context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

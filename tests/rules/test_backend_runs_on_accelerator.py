import pytest

from selector.rules import backend_runs_on_accelerator
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,instance,expect", [
    pytest.param("vllm", "ml.g5.2xlarge", None, id="gpu-backend-on-gpu"),
    pytest.param("neuronx", "ml.inf2.xlarge", None, id="neuronx-on-inf2"),
    pytest.param("neuronx", "ml.g5.2xlarge", "families that fit: inf2", id="neuronx-on-g5"),
    pytest.param("vllm", "ml.inf2.xlarge", "families that fit: g5, g6, g6e, p4d, p4de, p5", id="vllm-on-inf2"),
    pytest.param("tensorrtllm", "ml.inf2.48xlarge", "has Inferentia2", id="trt-on-inf2"),
])
def test_backend_runs_on_accelerator(backend, instance, expect):
    verdict = backend_runs_on_accelerator.check(candidate(backend, instance), context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

import pytest

from selector.rules import quantization_hardware
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,method,instance,expect", [
    pytest.param("tensorrtllm", "fp8", "ml.g5.2xlarge", "needs compute capability 8.9+", id="trt-fp8-a10g"),
    pytest.param("tensorrtllm", "fp8", "ml.p4d.24xlarge", "A100 (8.0)", id="trt-fp8-a100"),
    pytest.param("vllm", "fp8", "ml.g5.2xlarge", None, id="vllm-fp8-weight-only-on-ampere"),
    pytest.param("tensorrtllm", "awq", "ml.g5.2xlarge", None, id="not-applicable-no-minimum"),
    pytest.param("vllm", "none", "ml.g5.2xlarge", None, id="not-applicable-none"),
])
def test_quantization_hardware(backend, method, instance, expect):
    verdict = quantization_hardware.check(candidate(backend, instance, quantization=method),
                                          context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

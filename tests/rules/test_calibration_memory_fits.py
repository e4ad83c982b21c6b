"""TensorRT-LLM's calibrated quantization (AWQ, SmoothQuant, FP8) holds the whole 16-bit model over every GPU."""
import pytest

from selector.rules import calibration_memory_fits
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,method,model,instance,tp,expect", [
    pytest.param("tensorrtllm", "awq", "codellama/CodeLlama-34b-hf", "ml.g5.2xlarge", 1, "exceed the 22.1 GiB",
                 id="codellama-34b-awq-one-a10g"),
    pytest.param("tensorrtllm", "awq", "meta-llama/Llama-2-70b-hf", "ml.g5.12xlarge", 4, "of all 4 GPU(s)",
                 id="llama2-70b-awq-g5.12xlarge"),
    pytest.param("tensorrtllm", "awq", "meta-llama/Llama-2-70b-hf", "ml.g5.48xlarge", 4, None,
                 id="llama2-70b-awq-g5.48xlarge-tp4-uses-all-8-gpus"),
    pytest.param("tensorrtllm", "smoothquant", "meta-llama/Llama-2-13b-hf", "ml.g5.2xlarge", 1, "calibrates",
                 id="llama2-13b-smoothquant-one-a10g"),
    pytest.param("tensorrtllm", "awq", "meta-llama/Llama-2-7b-hf", "ml.g5.2xlarge", 1, None,
                 id="llama2-7b-awq-fits"),
    pytest.param("tensorrtllm", "none", "meta-llama/Llama-2-70b-hf", "ml.g5.2xlarge", 1, None,
                 id="no-quantization-no-calibration"),
    pytest.param("vllm", "fp8", "meta-llama/Llama-2-70b-hf", "ml.g5.2xlarge", 1, None,
                 id="vllm-fp8-not-calibrated"),
    pytest.param("deepspeed", "smoothquant", "meta-llama/Llama-2-70b-hf", "ml.g5.2xlarge", 1, None,
                 id="deepspeed-smoothquant-not-in-data"),
])
def test_calibration_memory_fits(backend, method, model, instance, tp, expect):
    verdict = calibration_memory_fits.check(candidate(backend, instance, tp=tp, quantization=method), context(model))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


def test_prequantized_checkpoints_need_no_calibration():
    verdict = calibration_memory_fits.check(candidate("vllm", "ml.g5.2xlarge", quantization="awq"),
                                            context("TheBloke/Llama-2-70B-AWQ"))
    assert verdict is None

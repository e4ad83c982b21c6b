import pytest

from selector.rules import image_in_region
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,region,expect", [
    pytest.param("vllm", "us-east-1", None, id="lmi-in-us-east-1"),
    pytest.param("vllm", "cn-north-1", None, id="lmi-in-china"),
    pytest.param("neuronx", "af-south-1", "is not published in af-south-1; regions that have it:", id="neuronx-not-af-south-1"),
    pytest.param("tensorrtllm", "ap-east-2", "djl-tensorrtllm 0.33.0", id="trt-not-ap-east-2"),
])
def test_image_in_region(backend, region, expect):
    instance = "ml.inf2.8xlarge" if backend == "neuronx" else "ml.g5.2xlarge"
    verdict = image_in_region.check(candidate(backend, instance), context("meta-llama/Llama-2-7b-hf", region=region))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

import pytest

from selector.rules import host_memory_fits
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("instance,model,expect", [
    pytest.param("ml.g5.2xlarge", "meta-llama/Llama-2-7b-hf", None, id="7b-on-32gib"),
    pytest.param("ml.g5.xlarge", "meta-llama/Llama-2-7b-hf", "has 16 GiB host RAM; loading needs 16.6 GiB",
                 id="7b-fp16-on-16gib"),
    pytest.param("ml.g5.xlarge", "TheBloke/Llama-2-13B-GPTQ", None, id="gptq-13b-fits-16gib"),
])
def test_host_memory_fits(instance, model, expect):
    verdict = host_memory_fits.check(candidate("vllm", instance), context(model))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

import pytest

from selector.rules import architecture_supported
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,instance,model,version,expect", [
    pytest.param("vllm", "ml.g5.2xlarge", "meta-llama/Llama-2-7b-hf", None, None, id="pass-llama-vllm"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", "google/flan-t5-xl", "0.32.0", None, id="pass-t5-trt-0.32"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", "google/flan-t5-xl", "0.33.0", "does not run T5ForConditionalGeneration",
                 id="t5-not-trt-llm-api-0.33"),
    pytest.param("lmi-dist", "ml.g5.2xlarge", "google/flan-t5-xl", None, None, id="pass-t5-lmi-dist"),
    pytest.param("vllm", "ml.g5.2xlarge", "google/flan-t5-xl", None,
                 "does not run T5ForConditionalGeneration; backends that run it: lmi-dist, tensorrtllm", id="t5-not-vllm"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", "google/gemma-7b", "0.27.0", "does not run GemmaForCausalLM",
                 id="gemma-before-trt-0.28"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", "google/gemma-7b", "0.28.0", None, id="gemma-since-trt-0.28"),
    pytest.param("neuronx", "ml.inf2.8xlarge", "tiiuae/falcon-7b", None, "does not run FalconForCausalLM",
                 id="falcon-not-neuronx"),
    pytest.param("deepspeed", "ml.g5.2xlarge", "mistralai/Mixtral-8x7B-v0.1", None, "does not run MixtralForCausalLM",
                 id="mixtral-not-deepspeed"),
])
def test_architecture_supported(backend, instance, model, version, expect):
    verdict = architecture_supported.check(candidate(backend, instance, version=version), context(model))
    if expect is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.rule == "architecture_supported"
        assert expect in verdict.reason

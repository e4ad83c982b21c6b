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


@pytest.mark.parametrize("backend,instance,model,revision,expect", [
    # GPT-J's main branch is fp32 (~22.5 GiB): it must not be planned onto a 16 GiB host
    pytest.param("vllm", "ml.g5.xlarge", "EleutherAI/gpt-j-6b", None, "checkpoint as stored, float32 22.5 GiB",
                 id="gpt-j-fp32-on-16gib"),
    pytest.param("vllm", "ml.g5.2xlarge", "EleutherAI/gpt-j-6b", None, None, id="gpt-j-fp32-on-32gib"),
    pytest.param("vllm", "ml.g5.xlarge", "EleutherAI/gpt-j-6b", "float16", None, id="gpt-j-fp16-revision-on-16gib"),
    # DJL's Neuron tuning guide ran Llama-2-7B fp16 at TP 2 on ml.inf2.xlarge (16 GiB RAM)
    pytest.param("neuronx", "ml.inf2.xlarge", "meta-llama/Llama-2-7b-hf", None, None, id="7b-on-inf2-xlarge"),
    pytest.param("neuronx", "ml.inf2.xlarge", "meta-llama/Llama-2-13b-hf", None, "16-bit weights 24.2 GiB",
                 id="13b-fp16-not-on-inf2-xlarge"),
])
def test_host_memory_follows_the_loader(backend, instance, model, revision, expect):
    from selector.catalog import load_catalog
    from selector.model_shape import load_model
    from selector.request import Request
    from selector.rules.base import Context

    ctx = Context(Request(model=model, revision=revision), load_model(model, revision=revision), load_catalog(),
                  2048, 1)
    verdict = host_memory_fits.check(candidate(backend, instance, tp=2 if backend == "neuronx" else 1), ctx)
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


@pytest.mark.parametrize("options,expect", [
    # DJL's tuning guide: Llama-2-13B int8 from a pre-split checkpoint on the 16 GiB ml.inf2.xlarge
    pytest.param({"option.load_split_model": "true"}, None, id="pre-split-13b-on-inf2-xlarge"),
    pytest.param({"option.load_split_model": "false"}, "16-bit weights 24.2 GiB", id="not-split"),
    pytest.param({}, "16-bit weights 24.2 GiB", id="hub-checkpoint"),
])
def test_pre_split_neuron_checkpoint_loads_layer_by_layer(options, expect):
    from selector.catalog import load_catalog
    from selector.model_shape import load_model
    from selector.request import Request
    from selector.rules.base import Context

    model = "meta-llama/Llama-2-13b-hf"
    ctx = Context(Request(model=model, options=options), load_model(model), load_catalog(), 512, 1)
    verdict = host_memory_fits.check(candidate("neuronx", "ml.inf2.xlarge", tp=2, quantization="int8"), ctx)
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert verdict is not None and expect in verdict.reason

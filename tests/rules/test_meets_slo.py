import pytest

from selector.request import Load, Slo
from selector.rules import meets_slo
from tests.rules.helpers import candidate, context

LOAD = Load(requests_per_minute=60, mean_input_tokens=512, mean_output_tokens=256)


@pytest.mark.parametrize("model,backend,instance,tp,slo,load,expect", [
    pytest.param("meta-llama/Llama-2-7b-hf", "vllm", "ml.g5.2xlarge", 1, None, None, None, id="no-slo-not-applicable"),
    pytest.param("meta-llama/Llama-2-7b-hf", "vllm", "ml.g5.2xlarge", 1, Slo(1000, 100), LOAD, None, id="meets-both"),
    pytest.param("meta-llama/Llama-2-7b-hf", "vllm", "ml.g5.2xlarge", 1, Slo(None, 10), LOAD,
                 "estimated time per output token 2", id="tpot-missed-even-at-batch-1"),
    pytest.param("meta-llama/Llama-2-7b-hf", "vllm", "ml.g5.2xlarge", 1, Slo(20, None), LOAD,
                 "ms for 512 input tokens exceeds the 20 ms target", id="ttft-missed"),
    pytest.param("meta-llama/Llama-2-7b-hf", "vllm", "ml.p4d.24xlarge", 1, Slo(None, 12), LOAD, None,
                 id="faster-gpu-meets-tpot"),
    pytest.param("meta-llama/Llama-2-13b-hf", "neuronx", "ml.inf2.24xlarge", 4, Slo(None, 15), None,
                 "on ml.inf2.24xlarge at TP 4", id="neuron-four-cores-too-slow"),
])
def test_meets_slo(model, backend, instance, tp, slo, load, expect):
    verdict = meets_slo.check(candidate(backend, instance, tp=tp), context(model, slo=slo, load=load))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason
        assert "target (±35%)" in verdict.reason

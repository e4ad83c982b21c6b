import pytest

from selector.rules import tp_divides_heads
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("model,tp,expect", [
    pytest.param("meta-llama/Llama-2-13b-hf", 4, None, id="40-heads-tp4"),
    pytest.param("meta-llama/Llama-2-13b-hf", 8, None, id="40-heads-tp8"),
    pytest.param("tiiuae/falcon-7b", 2, "TP 2 does not divide 71 attention heads; feasible TP: 1", id="falcon-71-heads"),
    pytest.param("meta-llama/Llama-2-7b-hf", 12, "feasible TP: 1, 2, 4, 8, 16, 32", id="32-heads-tp12"),
])
def test_tp_divides_heads(model, tp, expect):
    verdict = tp_divides_heads.check(candidate("vllm", "ml.g5.48xlarge", tp=tp), context(model))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason


def test_not_applicable_where_heads_are_padded():
    """NeuronX pads heads to a multiple of TP: Llama-2-70B's 64 heads on all 24 NeuronCores of inf2.48xlarge."""
    assert tp_divides_heads.check(candidate("neuronx", "ml.inf2.48xlarge", tp=24),
                                  context("meta-llama/Llama-2-70b-hf")) is None

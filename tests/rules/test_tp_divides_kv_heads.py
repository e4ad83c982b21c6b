import pytest

from selector.rules import tp_divides_kv_heads
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("model,tp,expect", [
    pytest.param("meta-llama/Llama-2-70b-hf", 8, None, id="gqa-8-kv-tp8"),
    pytest.param("bigcode/starcoder", 8, None, id="mqa-replicated"),
    pytest.param("Qwen/Qwen2-7B", 8, None, id="4-kv-heads-tp8-replicated"),
    pytest.param("meta-llama/Llama-2-70b-hf", 12, "TP 12 does not divide 8 KV heads; feasible TP: 1, 2, 4, 8, 16", id="8-kv-tp12"),
    pytest.param("meta-llama/Llama-2-13b-hf", 3, "TP 3 does not divide 40 KV heads", id="40-kv-tp3"),
])
def test_tp_divides_kv_heads(model, tp, expect):
    verdict = tp_divides_kv_heads.check(candidate("vllm", "ml.g5.48xlarge", tp=tp), context(model))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason

"""Block-quantized FP8 checkpoints shard only between their scale tiles (vLLM refuses otherwise)."""
import pytest

from selector.rules import fp8_blocks_divide_tp
from selector.rules.fp8_blocks_divide_tp import shard_widths
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("model,instance,tp,expect", [
    # Qwen3-235B-A22B-FP8: experts 1536 wide -> 192 per device at TP 8 (vllm-project/vllm issue #17569)
    pytest.param("Qwen/Qwen3-235B-A22B-FP8", "ml.p5en.48xlarge", 8, ("routed expert width per device: 192", "whole tiles: 1, 2, 4"),
                 id="qwen3-235b-fp8-tp8"),
    pytest.param("Qwen/Qwen3-235B-A22B-FP8", "ml.p5en.48xlarge", 4, None, id="qwen3-235b-fp8-tp4"),
    # Qwen3-30B-A3B-FP8: experts 768 wide -> 192 at TP 4
    pytest.param("Qwen/Qwen3-30B-A3B-FP8", "ml.g6e.12xlarge", 4, ("routed expert width per device: 192", "whole tiles: 1, 2"),
                 id="qwen3-30b-fp8-tp4"),
    pytest.param("Qwen/Qwen3-30B-A3B-FP8", "ml.g6e.12xlarge", 2, None, id="qwen3-30b-fp8-tp2"),
    # DeepSeek-V3: experts 2048 -> 256, dense 18432 -> 2304, MLA heads 128 x 192 -> 3072 at TP 8
    pytest.param("deepseek-ai/DeepSeek-V3", "ml.p5en.48xlarge", 8, None, id="deepseek-v3-tp8"),
    # not block-quantized: the rule does not apply
    pytest.param("RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8", "ml.g6.12xlarge", 4, None, id="per-tensor-fp8"),
    pytest.param("meta-llama/Llama-2-7b-hf", "ml.g5.12xlarge", 4, None, id="not-fp8"),
])
def test_fp8_blocks_divide_tp(model, instance, tp, expect):
    verdict = fp8_blocks_divide_tp.check(candidate("vllm", instance, tp=tp, quantization="fp8"), context(model))
    assert (verdict is None) == (expect is None)
    if expect:
        width, fits = expect
        assert width in verdict.reason and verdict.reason.endswith(fits)


def test_widths_follow_the_config():
    from selector.model_shape import load_model

    shape = load_model("deepseek-ai/DeepSeek-V3")
    widths = shard_widths(shape, 8)
    assert widths["routed expert width"] == 2048 // 8 and widths["dense MLP width"] == 18432 // 8
    assert widths["query heads' width"] == 128 * (128 + 64) // 8


def test_expert_parallelism_keeps_routed_experts_whole():
    ctx = context("Qwen/Qwen3-235B-A22B-FP8")
    from dataclasses import replace

    ep = replace(ctx, request=replace(ctx.request, options={"option.enable_expert_parallel": "true"}))
    assert fp8_blocks_divide_tp.check(candidate("vllm", "ml.p5en.48xlarge", tp=8, quantization="fp8"), ep) is None


@pytest.mark.parametrize("options", [
    {"option.enable_expert_parallel": "yes"},  # LMI turns only true/false into a flag: vLLM gets a stray 'yes'
    {"option.ENABLE_EXPERT_PARALLEL": "true"},  # handed to vLLM as written; not an EngineArgs name, so dropped
])
def test_only_the_spelling_the_container_honours_keeps_experts_whole(options):
    from dataclasses import replace

    ctx = context("Qwen/Qwen3-235B-A22B-FP8")
    ep = replace(ctx, request=replace(ctx.request, options=options))
    assert fp8_blocks_divide_tp.check(candidate("vllm", "ml.p5en.48xlarge", tp=8, quantization="fp8"), ep) is not None

"""A container whose transformers/vLLM is older than the model needs is refused, naming the feature, both versions
and the first container version that has it; from that version on the candidate passes (per backend)."""
import pytest

from selector import Request, SelectorError, resolve
from selector.rules import libraries_support_model
from tests.rules.helpers import candidate, context

LLAMA31 = "meta-llama/Llama-3.1-8B"
ROPE = "Llama 3.1 RoPE scaling (rope_scaling.rope_type llama3) needs transformers >= 4.43.0"


@pytest.mark.parametrize("backend,instance,model,version,expect", [
    # Llama 3.1 (rope_type llama3): transformers 4.43.0 or later, per backend (container_libraries.json).
    pytest.param("deepspeed", "ml.g5.2xlarge", LLAMA31, "0.27.0",
                 f"DeepSpeed 0.27.0 ships transformers 4.39.0; {ROPE}; no published DeepSpeed container has it",
                 id="deepspeed-0.27-never"),
    pytest.param("lmi-dist", "ml.g5.2xlarge", LLAMA31, "0.27.0",
                 f"lmi-dist 0.27.0 ships transformers 4.39.0; {ROPE}; first lmi-dist container with it: 0.29.0",
                 id="lmi-dist-deepspeed-image-0.27"),
    pytest.param("lmi-dist", "ml.g5.2xlarge", LLAMA31, "0.28.0",
                 f"lmi-dist 0.28.0 ships transformers 4.41.1; {ROPE}; first lmi-dist container with it: 0.29.0",
                 id="lmi-dist-0.28"),
    pytest.param("lmi-dist", "ml.g5.2xlarge", LLAMA31, "0.29.0", None, id="pass-lmi-dist-0.29"),
    pytest.param("lmi-dist", "ml.g5.2xlarge", LLAMA31, "0.32.0", None, id="pass-lmi-dist-0.32-floor"),
    pytest.param("vllm", "ml.g5.2xlarge", LLAMA31, "0.28.0",
                 f"vLLM 0.28.0 ships transformers 4.41.1; {ROPE}; first vLLM container with it: 0.29.0",
                 id="vllm-0.28"),
    pytest.param("vllm", "ml.g5.2xlarge", LLAMA31, "0.29.0", None, id="pass-vllm-0.29"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", LLAMA31, "0.28.0",
                 f"TensorRT-LLM 0.28.0 ships transformers 4.40.0; {ROPE}; first TensorRT-LLM container with it: 0.30.0",
                 id="trt-0.28"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", LLAMA31, "0.29.0",
                 f"TensorRT-LLM 0.29.0 ships transformers 4.42.4; {ROPE}; first TensorRT-LLM container with it: 0.30.0",
                 id="trt-0.29"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", LLAMA31, "0.30.0", None, id="pass-trt-0.30"),
    # Mistral-Nemo: head_dim 128 is not 5120 / 32; vLLM's Llama/Mistral code reads it from 0.5.3 (PR #6548)
    pytest.param("vllm", "ml.g5.12xlarge", "mistralai/Mistral-Nemo-Base-2407", "0.28.0",
                 "vLLM 0.28.0 ships vllm 0.4.2; an explicit head_dim that differs from hidden_size / num_attention_heads "
                 "(Mistral-Nemo) needs vllm >= 0.5.3; first vLLM container with it: 0.29.0", id="nemo-vllm-0.28"),
    pytest.param("vllm", "ml.g5.12xlarge", "mistralai/Mistral-Nemo-Base-2407", "0.29.0", None, id="pass-nemo-vllm-0.29"),
    # Gemma's own model code always read head_dim: the feature is scoped to the Llama/Mistral classes
    pytest.param("vllm", "ml.g5.12xlarge", "google/gemma-7b", "0.28.0", None, id="pass-gemma-head-dim-own-code"),
    # DBRX entered transformers in 4.40.0
    pytest.param("lmi-dist", "ml.p4d.24xlarge", "databricks/dbrx-instruct", "0.27.0",
                 "lmi-dist 0.27.0 ships transformers 4.39.0; DBRX (model_type dbrx) needs transformers >= 4.40.0; "
                 "first lmi-dist container with it: 0.28.0", id="dbrx-lmi-dist-0.27"),
    pytest.param("tensorrtllm", "ml.g5.2xlarge", LLAMA31, "0.33.0", None, id="pass-trt-0.33-unpinned-transformers"),
    pytest.param("neuronx", "ml.inf2.8xlarge", LLAMA31, "0.28.0",
                 f"Transformers NeuronX 0.28.0 ships transformers 4.36.2; {ROPE}; first Transformers NeuronX container "
                 "with it: 0.29.0", id="neuronx-0.28"),
    pytest.param("neuronx", "ml.inf2.8xlarge", LLAMA31, "0.29.0", None, id="pass-neuronx-0.29"),
    pytest.param("vllm", "ml.g5.12xlarge", "meta-llama/Llama-3.3-70B-Instruct", "0.28.0", ROPE, id="llama-3.3-vllm-0.28"),
    pytest.param("vllm", "ml.g5.2xlarge", "meta-llama/Llama-3.2-1B", "0.28.0", ROPE, id="llama-3.2-vllm-0.28"),
    # Models without such a feature are untouched, even on the oldest containers.
    pytest.param("deepspeed", "ml.g5.2xlarge", "meta-llama/Llama-2-7b-hf", "0.25.0", None, id="pass-llama2-deepspeed"),
    pytest.param("vllm", "ml.g5.2xlarge", "meta-llama/Meta-Llama-3-8B", "0.28.0", None, id="pass-llama3-vllm-0.28"),
    # Kimi-K2: vLLM v0.10.0rc1 or later (Moonshot's deploy guide); DeepSeek-V3: vLLM 0.6.6 (DeepSeek's README).
    pytest.param("vllm", "ml.p5en.48xlarge", "moonshotai/Kimi-K2-Instruct", "0.32.0",
                 "vLLM 0.32.0 ships vllm 0.7.3; Kimi-K2 (model_type kimi_k2) needs vllm >= 0.10.0rc1; "
                 "first vLLM container with it: 0.34.0", id="kimi-vllm-0.32"),
    pytest.param("vllm", "ml.p5en.48xlarge", "moonshotai/Kimi-K2-Instruct", "0.33.0",
                 "vLLM 0.33.0 ships vllm 0.8.4; Kimi-K2 (model_type kimi_k2) needs vllm >= 0.10.0rc1; "
                 "first vLLM container with it: 0.34.0", id="kimi-vllm-0.33"),
    pytest.param("vllm", "ml.p5en.48xlarge", "moonshotai/Kimi-K2-Instruct", "0.34.0", None, id="pass-kimi-vllm-0.34"),
    pytest.param("vllm", "ml.p5en.48xlarge", "deepseek-ai/DeepSeek-V3", "0.32.0", None, id="pass-deepseek-v3-vllm-0.32"),
])
def test_libraries_support_model(backend, instance, model, version, expect):
    verdict = libraries_support_model.check(candidate(backend, instance, version=version), context(model))
    if expect is None:
        assert verdict is None
    else:
        assert verdict is not None and verdict.rule == "libraries_support_model"
        assert expect in verdict.reason


@pytest.mark.parametrize("pins,fragment", [
    pytest.param(dict(model=LLAMA31, backend="deepspeed"), "DeepSpeed 0.27.0 ships transformers 4.39.0", id="deepspeed"),
    pytest.param(dict(model=LLAMA31, backend="deepspeed", container_version="0.27.0"),
                 "no published DeepSpeed container has it", id="deepspeed-0.27"),
    pytest.param(dict(model=LLAMA31, backend="lmi-dist", container_version="0.28.0"),
                 "first lmi-dist container with it: 0.29.0", id="lmi-dist-0.28"),
    pytest.param(dict(model=LLAMA31, backend="vllm", container_version="0.28.0"),
                 "first vLLM container with it: 0.29.0", id="vllm-0.28"),
    pytest.param(dict(model="moonshotai/Kimi-K2-Instruct", backend="vllm", container_version="0.32.0",
                      families=("all",)), "needs vllm >= 0.10.0rc1", id="kimi-0.32"),
    pytest.param(dict(model="moonshotai/Kimi-K2-Instruct", backend="vllm", container_version="0.33.0",
                      families=("all",)), "needs vllm >= 0.10.0rc1", id="kimi-0.33"),
])
def test_pinned_too_old_container_is_refused_with_the_reason(pins, fragment):
    with pytest.raises(SelectorError) as info:
        resolve(Request(**pins))
    assert "no plan honours this pin" in info.value.paragraph()
    assert fragment in info.value.paragraph()


@pytest.mark.parametrize("backend", ["lmi-dist", "vllm"])
def test_llama_3_1_is_planned_from_0_29_0(backend):
    """AWS's own JumpStart Llama-3.1 deployments start at 0.29.0 (tests/fixtures/reference_deployments.yaml)."""
    plan = resolve(Request(model=LLAMA31, backend=backend, container_version="0.29.0"))
    assert plan.backend == backend and "0.29.0" in plan.image_uri

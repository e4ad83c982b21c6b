import pytest

from selector.rules import quantization_hardware
from tests.rules.helpers import candidate, context


@pytest.mark.parametrize("backend,method,instance,expect", [
    pytest.param("tensorrtllm", "fp8", "ml.g5.2xlarge", "needs compute capability 8.9+", id="trt-fp8-a10g"),
    pytest.param("tensorrtllm", "fp8", "ml.p4d.24xlarge", "A100 (8.0)", id="trt-fp8-a100"),
    pytest.param("vllm", "fp8", "ml.g5.2xlarge", None, id="vllm-fp8-weight-only-on-ampere"),
    pytest.param("tensorrtllm", "awq", "ml.g5.2xlarge", None, id="not-applicable-no-minimum"),
    pytest.param("vllm", "none", "ml.g5.2xlarge", None, id="not-applicable-none"),
])
def test_quantization_hardware(backend, method, instance, expect):
    verdict = quantization_hardware.check(candidate(backend, instance, quantization=method),
                                          context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None)
    if expect:
        assert expect in verdict.reason


# fp8 per family (issue 13): native W8A8 fp8 needs compute capability 8.9+ (Ada g6/g6e, Hopper p5); on Ampere
# (g5, p4d, p4de) TensorRT-LLM refuses it and vLLM runs it weight-only (W8A16), which the plan warns about.
FAMILY_FP8 = [
    ("ml.g5.12xlarge", False), ("ml.p4d.24xlarge", False), ("ml.p4de.24xlarge", False),
    ("ml.g6.12xlarge", True), ("ml.g6e.12xlarge", True), ("ml.p5.48xlarge", True), ("ml.p5en.48xlarge", True),
]


def test_fp8_table_covers_every_gpu_family():
    from selector.catalog import load_catalog

    instances = load_catalog().instances
    gpu_families = {i.family for i in instances.values() if i.accelerator_kind == "nvidia"}
    assert {instances[name].family for name, _ in FAMILY_FP8} == gpu_families


@pytest.mark.parametrize("instance,native", FAMILY_FP8)
def test_fp8_per_family(instance, native):
    from selector.catalog import load_catalog
    from selector.performance import compute_dtype

    ctx = context("meta-llama/Llama-2-7b-hf")
    trt = quantization_hardware.check(candidate("tensorrtllm", instance, quantization="fp8"), ctx)
    assert (trt is None) == native
    assert quantization_hardware.check(candidate("vllm", instance, quantization="fp8"), ctx) is None
    i = load_catalog().instances[instance]
    assert compute_dtype("fp8", "bf16", i) == ("fp8" if native else "bf16")


@pytest.mark.parametrize("instance,native", FAMILY_FP8)
def test_fp8_weight_only_warning_per_family(instance, native):
    from selector.request import Request
    from selector.resolve import resolve

    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", quantization="fp8", backend="vllm", instance_type=instance))
    weight_only = [w for w in plan.warnings if "runs weight-only (W8A16)" in w]
    assert bool(weight_only) != native

"""lmi-dist in the djl-deepspeed image (0.25.0-0.27.0), as AWS's published deployments pinned it.

The keys are held against djl-serving's lmi_dist_rb_properties.py / lmi_dist_rolling_batch.py at each release
branch (selector/data/container_options.json, built from those branches by scripts/build_container_options.py);
these tests check the version-dependent choices the template makes on top of that."""
from __future__ import annotations

import pytest

from selector.errors import SelectorError
from selector.request import Request
from selector.resolve import resolve

LLAMA = "meta-llama/Llama-2-7b-hf"


def plan_at(model: str, version: str | None, instance: str = "ml.g5.2xlarge", tp: int = 1):
    return resolve(Request(model=model, backend="lmi-dist", instance_type=instance, tensor_parallel_degree=tp,
                           container_version=version, min_concurrency=1))


def test_unpinned_lmi_dist_stays_on_the_newest_image():
    assert plan_at(LLAMA, None).container_version == "0.32.0"


@pytest.mark.parametrize("version", ["0.25.0", "0.26.0"])
def test_own_engine_versions_get_no_vllm_keys(version):
    props = plan_at(LLAMA, version).serving_properties
    assert props["engine"] == "MPI"
    assert props["option.rolling_batch"] == "lmi-dist"
    assert "option.max_model_len" not in props
    assert "option.gpu_memory_utilization" not in props
    assert "option.mpi_mode" not in props


def test_lmi_dist_9_reads_vllm_engine_arguments():
    props = plan_at(LLAMA, "0.27.0").serving_properties
    assert props["engine"] == "MPI"
    assert "option.max_model_len" in props and "option.gpu_memory_utilization" in props


def test_gptq_before_0_27_renders_quantize_without_dtype():
    # lmi_dist_rolling_batch.py @ 0.25.0-dlc: "Can't set both dtype ... and quantize"
    props = plan_at("TheBloke/Llama-2-13B-GPTQ", "0.25.0").serving_properties
    assert props["option.quantize"] == "gptq"
    assert "option.dtype" not in props


def test_awq_and_mixtral_are_refused_at_0_25():
    with pytest.raises(SelectorError):
        plan_at("TheBloke/Llama-2-7B-Chat-AWQ", "0.25.0")
    with pytest.raises(SelectorError):
        plan_at("mistralai/Mixtral-8x7B-v0.1", "0.25.0", "ml.g5.48xlarge", 8)

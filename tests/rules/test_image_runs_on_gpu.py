"""image_runs_on_gpu: an image's CUDA (its tag's cuNNN) must know the GPU's compute capability.

The thresholds come from NVIDIA's CUDA release notes (selector/data/gpu_architectures.json); the tags from
sagemaker-core's image catalog. Blackwell parts are not priced in the catalog yet, so those rows run the rule on
a p5 instance with the Blackwell compute capability put in.
"""
from dataclasses import replace

import pytest

from selector.catalog import load_catalog
from selector.rules import image_runs_on_gpu
from selector.rules.base import Candidate
from tests.rules.helpers import candidate, context


def _on(backend: str, instance: str, version: str, capability: float | None = None) -> Candidate:
    """The backend's image at `version`; images older than a backend's range (DeepSpeed 0.19.0-0.24.0) are
    taken from images.json directly, so the rule is tested on every CUDA the catalog publishes."""
    catalog = load_catalog()
    b = catalog.backends[backend]
    image = catalog.images.versions[b.containers[0].framework][version]
    c = replace(candidate(backend, instance), image=image)
    if capability is not None:
        c = replace(c, instance=replace(c.instance, compute_capability=capability))
    return c


@pytest.mark.parametrize("backend,instance,version,capability,expect", [
    pytest.param("vllm", "ml.g5.2xlarge", "0.28.0", None, None, id="a10g-cu124"),
    pytest.param("vllm", "ml.p4d.24xlarge", "0.28.0", None, None, id="a100-cu124"),
    pytest.param("vllm", "ml.g6.xlarge", "0.28.0", None, None, id="l4-cu124"),
    pytest.param("vllm", "ml.g6e.2xlarge", "0.38.0", None, None, id="l40s-cu130"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.28.0", None, None, id="h100-cu124"),
    pytest.param("tensorrtllm", "ml.p5.48xlarge", "0.25.0", None, None, id="h100-trt-cu122"),
    pytest.param("deepspeed", "ml.g6e.12xlarge", "0.19.0", None, "needs CUDA 11.8+", id="l40s-deepspeed-cu113"),
    pytest.param("deepspeed", "ml.p5.48xlarge", "0.22.1", None, None, id="h100-deepspeed-cu118"),
    pytest.param("deepspeed", "ml.g6.xlarge", "0.21.0", None, "CUDA 11.7; L4 (compute capability 8.9) needs CUDA 11.8+",
                 id="l4-deepspeed-cu117"),
    pytest.param("deepspeed", "ml.g5.2xlarge", "0.19.0", None, None, id="a10g-deepspeed-cu113"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.32.0", 10.0, "CUDA 12.6; H100 (compute capability 10.0) needs CUDA 12.8+",
                 id="b200-cu126-refused"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.33.0", 10.0, None, id="b200-cu128"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.33.0", 10.3, "needs CUDA 12.9+", id="b300-cu128-refused"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.36.0", 10.3, None, id="b300-cu130"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.35.0", 12.0, None, id="rtx-pro-cu128"),
    pytest.param("tensorrtllm", "ml.p5.48xlarge", "0.32.0", 12.0, "needs CUDA 12.8+", id="rtx-pro-trt-cu125"),
    pytest.param("vllm", "ml.p5.48xlarge", "0.38.0", 11.0, "no CUDA minimum is known", id="unknown-architecture"),
    pytest.param("neuronx", "ml.inf2.xlarge", "0.29.0", None, None, id="neuron-not-applicable"),
])
def test_image_runs_on_gpu(backend, instance, version, capability, expect):
    verdict = image_runs_on_gpu.check(_on(backend, instance, version, capability), context("meta-llama/Llama-2-7b-hf"))
    assert (verdict is None) == (expect is None), verdict
    if expect:
        assert expect in verdict.reason


@pytest.mark.parametrize("tag,cuda", [
    ("0.33.0-lmi15.0.0-cu128", "12.8"), ("0.36.0-lmi27.0.0-cu130", "13.0"), ("0.19.0-deepspeed0.7.3-cu113", "11.3"),
    ("0.30.0-tensorrtllm0.12.0-cu125", "12.5"), ("0.29.0-neuronx-sdk2.19.1", None),
])
def test_image_cuda_from_tag(tag, cuda):
    assert image_runs_on_gpu.image_cuda(tag) == cuda


def test_every_catalog_gpu_has_an_architecture_entry():
    """A new family cannot enter the catalog without its CUDA minimum."""
    for instance in load_catalog().instances.values():
        if instance.accelerator_kind == "nvidia":
            assert image_runs_on_gpu.first_cuda(instance.compute_capability) is not None, instance.name


def test_every_published_gpu_image_tag_names_its_cuda():
    images = load_catalog().images.versions
    for framework in ("djl-lmi", "djl-tensorrtllm", "djl-deepspeed"):
        for image in images[framework].values():
            assert image_runs_on_gpu.image_cuda(image.tag), image.tag

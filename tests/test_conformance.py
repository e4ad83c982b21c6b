"""Every plan the selector can make is accepted, key by key and value by value, by its container version.

The facts come from djl-serving's own configuration code at the release branch each image was built from
(selector/data/container_options.json, rebuilt and checked against the source by
scripts/build_container_options.py). Each backend x container version x quantization x model x instance is
resolved through the public resolve() with pins, then held against those facts twice: as the serving.properties
file, and as OPTION_* environment variables mapped back through that version's own environment rule.
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from selector import Request, SelectorError, resolve
from selector.catalog import load_catalog, supports_architecture
from selector.conformance import (
    accepts, conformance, engine_variable, environment_to_properties, facts, problems, reads,
)
from selector.delivery import environment_delivery_error, to_environment
from selector.model_shape import load_model
from selector.versions import at_least, version_key

# A spread of catalog models: Llama (fp16 and bf16), Mistral, Mixtral, Falcon, GPT-J (fp32 checkpoint),
# GPT-NeoX, T5, and pre-quantized AWQ, GPTQ and FP8 checkpoints.
MODELS = (
    "meta-llama/Llama-2-7b-hf", "meta-llama/Meta-Llama-3-8B", "codellama/CodeLlama-13b-hf",
    "mistralai/Mistral-7B-v0.1", "mistralai/Mixtral-8x7B-v0.1", "tiiuae/falcon-7b", "EleutherAI/gpt-j-6b",
    "EleutherAI/gpt-neox-20b", "google/flan-t5-xl", "TheBloke/Llama-2-70B-AWQ", "TheBloke/Llama-2-13B-GPTQ",
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8", "mosaicml/mpt-7b",  # mpt: option.trust_remote_code=true
)
resolve_module = importlib.import_module("selector.resolve")  # the package exports a function of that name
INSTANCES = {"nvidia": ("ml.g5.12xlarge", "ml.p4de.24xlarge"), "neuron": ("ml.inf2.48xlarge",)}


def backend_versions() -> list[tuple[str, str]]:
    catalog = load_catalog()
    return [
        (name, image.version)
        for name, backend in sorted(catalog.backends.items())
        for container in backend.containers
        for image in sorted(catalog.images.in_range(container), key=lambda i: version_key(i.version))
    ]


def methods_for(backend_name: str, version: str, model: str) -> list[str]:
    """The quantizations the backend offers this model at this version (runtime, or its checkpoint's)."""
    catalog = load_catalog()
    backend = catalog.backends[backend_name]
    shape = load_model(model)
    if not supports_architecture(catalog, backend, shape.architecture, version):
        return []
    if shape.prequantized:
        since = backend.prequantized.get(shape.prequantized)
        return [shape.prequantized] if since and at_least(version, since) else []
    out = ["none"]
    for method, offer in sorted(backend.runtime_quantization.items()):
        if not at_least(version, offer.since):
            continue
        if offer.architectures is not None and shape.architecture not in offer.architectures:
            continue
        if shape.architecture in offer.excluded_architectures:
            continue
        out.append(method)
    return out


@pytest.fixture(autouse=True)
def cheap_refusals():
    """A refused pin normally re-plans without pins for its hint; that costs time and is not under test here."""
    token = resolve_module._PROBING.set(True)  # what resolve_without_hints() does
    yield
    resolve_module._PROBING.reset(token)


def plans_for(backend_name: str, version: str):
    catalog = load_catalog()
    kind = catalog.backends[backend_name].accelerator_kind
    for model in MODELS:
        for method in methods_for(backend_name, version, model):
            for instance in INSTANCES[kind]:
                request = Request(model=model, backend=backend_name, container_version=version,
                                  quantization=method, instance_type=instance)
                try:
                    yield request, resolve(request)
                except SelectorError:
                    yield request, None  # not a plan the selector makes (memory, TP); nothing to render


@pytest.mark.parametrize("backend_name,version", backend_versions(), ids=lambda v: str(v))
def test_every_rendered_plan_is_read_by_its_container(backend_name, version):
    made = 0
    failures = []
    for request, plan in plans_for(backend_name, version):
        if plan is None:
            continue
        made += 1
        label = f"{request.model} {request.quantization} {request.instance_type}"
        options = plan.serving_properties
        failures += [f"{label} [file]: {p}" for p in problems(backend_name, version, options, complete=True)]
        error = environment_delivery_error(plan)
        if error is None:
            back = environment_to_properties(to_environment(options), version)
            if back != options:
                failures.append(f"{label} [environment]: the container reads {back}, the plan is {options}")
            failures += [f"{label} [environment]: {p}" for p in problems(backend_name, version, back, complete=True)]
        else:
            # Refused only where the container really has no variable for engine.
            assert engine_variable(version) is None and "engine" in options, (label, error)
            lost = environment_to_properties(to_environment(options), version)
            assert "engine" not in lost and problems(backend_name, version, lost, complete=True), label
    assert made, f"no plan was made for {backend_name} {version}: the table needs a model it serves"
    assert not failures, "\n".join(failures)


def test_every_quantization_option_in_data_is_accepted_where_offered():
    """backends.json's version-ranged option for each method is read, with that value, by every version."""
    catalog = load_catalog()
    wrong = []
    for name, version in backend_versions():
        backend = catalog.backends[name]
        for method, offer in backend.runtime_quantization.items():
            option = offer.option_at(version)
            if not at_least(version, offer.since) or option is None:
                continue
            if not accepts(name, version, option.key, option.value):
                wrong.append(f"{name} {version} {method}: {option.key}={option.value}")
        for method, since in backend.prequantized.items():
            if at_least(version, since) and not at_least(version, "0.30.0"):
                if not accepts(name, version, "option.quantize", method):
                    wrong.append(f"{name} {version} checkpoint {method}: option.quantize={method}")
    assert not wrong, wrong


def test_facts_cover_every_backend_and_version_the_selector_renders():
    missing = [f"{b} {v}" for b, v in backend_versions() if facts(b, v) is None]
    assert not missing, missing


@pytest.mark.parametrize("backend_name,version,verified", [
    ("vllm", "0.38.0", True), ("tensorrtllm", "0.33.0", True), ("tensorrtllm", "0.32.0", False),
    ("tensorrtllm", "0.25.0", False), ("deepspeed", "0.25.0", True), ("neuronx", "0.25.0", True),
])
def test_verified_or_not_is_said(backend_name, version, verified):
    check = conformance(backend_name, version)
    assert check.verified is verified
    assert "djl-serving" in check.source
    if not verified:
        assert "tensorrt_llm_toolkit" in check.note


@pytest.mark.parametrize("backend_name,version,key,value,expect", [
    ("neuronx", "0.25.0", "option.quantize", "static_int8", False),
    ("neuronx", "0.25.0", "option.quantize", "bitsandbytes8", True),
    ("neuronx", "0.26.0", "option.quantize", "static_int8", True),
    ("tensorrtllm", "0.33.0", "option.dtype", "fp16", False),
    ("tensorrtllm", "0.33.0", "option.dtype", "float16", True),
    ("tensorrtllm", "0.33.0", "option.quant_algo", "W4A16_AWQ", True),
    ("vllm", "0.38.0", "option.dtype", "bf16", True),
])
def test_accepts_table(backend_name, version, key, value, expect):
    assert accepts(backend_name, version, key, value) is expect


@pytest.mark.parametrize("backend_name,version,key,expect", [
    ("tensorrtllm", "0.33.0", "option.max_output_len", False),
    ("tensorrtllm", "0.33.0", "option.batch_scheduler_policy", False),
    ("tensorrtllm", "0.33.0", "option.quantize", False),
    ("tensorrtllm", "0.33.0", "option.max_seq_len", True),
    ("tensorrtllm", "0.32.0", "option.max_output_len", True),
    ("deepspeed", "0.27.0", "option.max_tokens", True),
    # fields of the properties classes (selector/option_types.py checks their declared types)
    ("vllm", "0.31.0", "option.enforce_eager", True),
    ("vllm", "0.32.0", "option.enforce_eager", False),  # undeclared from 0.32.0: an EngineArgs pass-through
    ("vllm", "0.38.0", "option.max_num_batched_tokens", True),  # Field alias of max_rolling_batch_prefill_tokens
    ("neuronx", "0.29.0", "option.load_split_model", True),
])
def test_reads_table(backend_name, version, key, expect):
    assert reads(backend_name, version, key) is expect


def test_deepspeed_refuses_bf16_with_smoothquant_in_the_facts():
    bad = {"option.quantize": "smoothquant", "option.dtype": "bf16"}
    assert any("bf16" in p for p in problems("deepspeed", "0.26.0", bad))
    assert not any("refused" in p for p in problems("deepspeed", "0.26.0", dict(bad, **{"option.dtype": "fp16"})))


@pytest.mark.parametrize("version,engine", [("0.26.0", None), ("0.27.0", "OPTION_ENGINE"), ("0.38.0", "OPTION_ENGINE")])
def test_engine_variable_by_version(version, engine):
    assert engine_variable(version) == engine


def test_environment_delivery_below_0_27_is_refused_with_a_paragraph():
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf", backend="deepspeed", container_version="0.26.0"))
    error = environment_delivery_error(plan)
    assert error is not None and "delivery: tarball" in error.paragraph()
    assert environment_delivery_error(resolve(Request(model="meta-llama/Llama-2-7b-hf", backend="deepspeed",
                                                      container_version="0.27.0"))) is None


MIRROR = os.environ.get("DJL_SERVING_GIT", "")


@pytest.mark.skipif(not MIRROR or not Path(MIRROR).is_dir(),
                    reason="needs a git clone of https://github.com/deepjavalibrary/djl-serving (set DJL_SERVING_GIT)")
def test_catalog_matches_the_source():
    """Dev machines with a djl-serving mirror re-derive the catalog from the release branches."""
    from scripts.build_container_options import main

    assert main([MIRROR, "--check"]) == 0


def test_environment_delivery_below_0_27_is_bad_input_naming_the_deployment():
    from selector.deployments import parse_deployments, resolve_all

    parsed = parse_deployments({"deployments": [{"name": "ds", "model": "meta-llama/Llama-2-7b-hf",
                                                 "backend": "deepspeed", "container_version": "0.26.0",
                                                 "delivery": "environment"}]})
    with pytest.raises(SelectorError) as info:
        resolve_all(parsed)
    assert info.value.field == "deployments[ds].delivery"
    assert "OPTION_ENGINE" in info.value.paragraph()

"""container_libraries.json (what each image carries) and model_requirements.json (what a model needs).

The library versions are re-derived from djl-serving's release branches when a mirror is available
(DJL_SERVING_GIT); without one, the committed file is still held to its shape: every backend x image version the
selector plans has a transformers record with its evidence, and every requirement has a public source.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from selector.catalog import read_data
from selector.errors import SelectorError
from selector.libraries import installed, library_version_key, requirements
from selector.model_shape import catalog_model_ids, load_model, shape_from_config

MIRROR = os.environ.get("DJL_SERVING_GIT", "")
EVIDENCE = re.compile(r"^deepjavalibrary/djl-serving (\S+) serving/(docker|docs)/\S+ @ [0-9a-f]{40}$")


@pytest.mark.skipif(not MIRROR or not Path(MIRROR).is_dir(),
                    reason="needs a git clone of https://github.com/deepjavalibrary/djl-serving (set DJL_SERVING_GIT)")
def test_library_versions_match_the_source():
    """Dev machines with a djl-serving mirror re-read every Dockerfile/requirements line at its release branch."""
    from scripts.build_container_libraries import main

    assert main([MIRROR, "--check"]) == 0


def _planned() -> dict[str, list[str]]:
    from scripts.build_container_libraries import planned_versions

    return planned_versions()


def test_every_planned_container_has_its_transformers_version_with_evidence():
    doc = read_data("container_libraries.json")
    assert doc["as_of"] and doc["source"]
    planned = _planned()
    assert {b: list(v) for b, v in doc["backends"].items()} == planned
    unpinned = []
    for backend, versions in doc["backends"].items():
        for version, entry in versions.items():
            for library, record in entry["libraries"].items():
                if record["version"] is None:
                    assert record["reason"], (backend, version, library)
                    unpinned.append((backend, version, library))
                    continue
                library_version_key(record["version"])  # parses
                found = EVIDENCE.match(record["evidence"])
                assert found and found.group(1) == entry["branch"], record["evidence"]
                assert record["version"] in record["matched"]
            assert "transformers" in entry["libraries"], (backend, version)
    # TensorRT-LLM 0.33.0 takes transformers from the tensorrt_llm wheel; djl-serving does not pin it.
    assert unpinned == [("tensorrtllm", "0.33.0", "transformers")]


def test_vllm_is_recorded_for_the_backends_that_run_on_it():
    planned = _planned()
    for backend in ("vllm", "lmi-dist"):
        for version in planned[backend]:
            record = installed(backend, version, "vllm")
            assert record is not None and record.version, (backend, version)
    for backend in ("deepspeed", "neuronx", "tensorrtllm"):
        assert all(installed(backend, v, "vllm") is None for v in planned[backend])
    # One image, two engines: at 0.32.0 each has its own virtualenv and vLLM.
    assert installed("vllm", "0.32.0", "vllm").version == "0.7.3"
    assert installed("lmi-dist", "0.32.0", "vllm").version == "0.6.3.post1"


def test_every_requirement_has_a_public_source_and_a_date():
    doc = read_data("model_requirements.json")
    entries = [*doc["config_features"], *doc["model_types"].values()]
    known_types = read_data("model_types.json")["model_types"]
    assert set(doc["model_types"]) <= set(known_types)
    for entry in entries:
        assert entry["as_of"] == "2026-11-30" and "https://" in entry["source"], entry
        library_version_key(entry["min_version"])
        assert entry["library"] in ("transformers", "vllm")
        assert "lmi-facts" not in entry["source"] and "shared" not in entry["source"]


def test_every_llama_3_x_catalog_model_carries_the_rope_requirement():
    llama3x = [m for m in catalog_model_ids() if re.search(r"Llama-3\.[123]", m)]
    assert len(llama3x) >= 7
    for model in llama3x:
        needs = requirements(load_model(model))
        assert [(r.library, r.min_version) for r in needs] == [("transformers", "4.43.0")], model
    assert requirements(load_model("meta-llama/Meta-Llama-3-8B")) == []  # Llama 3 (no rope_scaling)


@pytest.mark.parametrize("rope,expect", [
    ({"rope_type": "llama3", "factor": 8.0}, "llama3"),
    ({"type": "linear", "factor": 4.0}, "linear"),  # the older spelling transformers still reads
    (None, None),
    ({"factor": 2.0}, None),
])
def test_rope_type_is_read_from_either_spelling(rope, expect):
    config = json.loads(json.dumps(next(
        e for e in read_data("models.json")["models"] if e["id"] == "meta-llama/Llama-3.1-8B")["config"]))
    config["rope_scaling"] = rope
    assert shape_from_config(config, "local", "config.json").rope_type == expect


@pytest.mark.parametrize("rope", [
    "llama3", ["llama3"], {"rope_type": 3}, {"rope_type": ""}, {"rope_type": "x" * 65}, {"type": ["yarn"]},
])
def test_malformed_rope_scaling_is_bad_input_naming_the_key(rope):
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
              "num_attention_heads": 32, "num_hidden_layers": 32, "intermediate_size": 14336,
              "vocab_size": 128256, "max_position_embeddings": 8192, "rope_scaling": rope}
    with pytest.raises(SelectorError) as info:
        shape_from_config(config, "local", "config.json")
    assert "rope_scaling" in info.value.paragraph()


def test_library_versions_order_as_pip_does():
    order = ["0.2.7", "0.4.2", "0.5.3", "0.5.3.post1", "0.8.4", "0.10.0rc1", "0.10.0", "0.10.2", "0.23.1.dev4",
             "0.23.1", "4.39.0", "4.43.0", "4.43.2"]
    assert sorted(order, key=library_version_key) == order
    with pytest.raises(ValueError):
        library_version_key(">= 4.56.0")

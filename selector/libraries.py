"""Which library versions an LMI container carries, and which ones a model needs (typed views of two data files).

container_libraries.json holds the transformers (and vLLM) version of every backend x image version the selector
plans, read from djl-serving's Dockerfiles at each release branch; model_requirements.json holds what a model's
config features or model type need, each with its public source. The rule libraries_support_model compares them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from selector.catalog import read_data
from selector.model_shape import ModelShape

# PEP 440 subset the data uses: 4.43.2, 0.5.3.post1, 0.10.0rc1, 0.23.1.dev4.
_VERSION = re.compile(r"^(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.post(\d+))?(?:\.dev(\d+))?$")
_PHASE = {"a": 1, "b": 2, "rc": 3}


def library_version_key(version: str) -> tuple[tuple[int, ...], int, int, int]:
    """Orders release, pre-release, post- and dev-releases as pip does: 0.10.0rc1 < 0.10.0 < 0.10.0.post1."""
    found = _VERSION.match(version)
    if found is None:
        raise ValueError(f"not a library version: {version!r}")
    release = tuple(int(part) for part in found.group(1).split("."))
    release += (0,) * (4 - len(release))
    pre, pre_n, post, dev = found.group(2), found.group(3), found.group(4), found.group(5)
    if pre:
        return release, _PHASE[pre], int(pre_n), -1 if dev else int(post or 0)
    if dev and not post:
        return release, 0, int(dev), 0  # X.devN comes before every pre-release of X
    return release, 4, int(post or 0), 0


@dataclass(frozen=True)
class Requirement:
    """`library` at `min_version` or later, because of `what` (a config feature or the model type)."""

    what: str
    library: str
    min_version: str
    source: str


@dataclass(frozen=True)
class Installed:
    version: str | None  # None: djl-serving does not pin it (reason says why); nothing can be refused on it
    at_least: bool  # True: a floor (a version range, or a base environment a per-engine venv may upgrade)
    reason: str | None = None


@lru_cache(maxsize=1)
def _containers() -> dict[str, dict[str, dict[str, Installed]]]:
    doc = read_data("container_libraries.json")["backends"]
    return {
        backend: {
            version: {lib: Installed(e["version"], bool(e.get("at_least")), e.get("reason"))
                      for lib, e in entry["libraries"].items()}
            for version, entry in versions.items()
        }
        for backend, versions in doc.items()
    }


def installed(backend: str, version: str, library: str) -> Installed | None:
    """The library version in this backend's image (None: not recorded, e.g. vLLM in a TensorRT-LLM image)."""
    return _containers().get(backend, {}).get(version, {}).get(library)


def recorded_versions(backend: str) -> list[str]:
    return list(_containers().get(backend, {}))


@lru_cache(maxsize=1)
def _requirements() -> dict:
    return read_data("model_requirements.json")


def requirements(shape: ModelShape) -> list[Requirement]:
    """What this model's config features and model type need, from model_requirements.json."""
    doc = _requirements()
    found = []
    for feature in doc["config_features"]:
        if feature.get("architectures") and shape.architecture not in feature["architectures"]:
            continue
        if _has_feature(shape, feature["key"], feature["value"]):
            found.append(Requirement(feature["what"], feature["library"], feature["min_version"], feature["source"]))
    by_type = doc["model_types"].get(shape.model_type)
    if by_type:
        found.append(Requirement(by_type["what"], by_type["library"], by_type["min_version"], by_type["source"]))
    return found


HEAD_DIM_DIFFERS = "differs from hidden_size / num_attention_heads"


def _has_feature(shape: ModelShape, key: str, value: str) -> bool:
    """The config features model_requirements.json can name (a new kind needs a line here)."""
    if key == "rope_scaling.rope_type":
        return shape.rope_type == value
    if key == "head_dim" and value == HEAD_DIM_DIFFERS:
        return shape.mla is None and shape.head_dim * shape.num_heads != shape.hidden_size
    raise ValueError(f"model_requirements.json: unknown config feature {key} = {value}")


def satisfies(backend: str, version: str, requirement: Requirement) -> bool | None:
    """True/False when the container's recorded version decides it; None when it does not record the library
    (the requirement does not concern this engine) or djl-serving does not pin it."""
    have = installed(backend, version, requirement.library)
    if have is None or have.version is None:
        return None
    return library_version_key(have.version) >= library_version_key(requirement.min_version)

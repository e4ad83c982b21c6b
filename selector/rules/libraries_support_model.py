"""The container carries the transformers (and vLLM) version the model needs.

An architecture class can be older than the model: Llama 3.1 is a LlamaForCausalLM, but its
rope_scaling.rope_type llama3 is parsed only by transformers 4.43 on, and Kimi-K2 needs vLLM 0.10. What each
container version carries comes from djl-serving's Dockerfiles at its release branch
(selector/data/container_libraries.json); what a model needs, with the publisher's or library's own statement,
from selector/data/model_requirements.json.
"""
from __future__ import annotations

from selector.libraries import Requirement, installed, recorded_versions, requirements, satisfies
from selector.rules.base import Candidate, Context, Rejection
from selector.versions import version_key

NAME = "libraries_support_model"


def _first_satisfying(backend: str, version: str, needs: list[Requirement]) -> str | None:
    """The first later container version of this backend whose libraries meet every requirement."""
    later = sorted((v for v in recorded_versions(backend) if version_key(v) > version_key(version)), key=version_key)
    return next((v for v in later if all(satisfies(backend, v, r) is not False for r in needs)), None)


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    needs = requirements(ctx.shape)
    if not needs:
        return None
    backend, version = candidate.backend, candidate.image.version
    for need in needs:
        if satisfies(backend.name, version, need) is not False:
            continue
        have = installed(backend.name, version, need.library)
        assert have is not None and have.version is not None  # satisfies() decided on it
        ships = f"only guarantees {need.library} >= {have.version}" if have.at_least else \
            f"ships {need.library} {have.version}"
        first = _first_satisfying(backend.name, version, needs)
        later = (f"first {backend.display_name} container with it: {first}" if first
                 else f"no published {backend.display_name} container has it")
        return Rejection(NAME, f"{backend.display_name} {version} {ships}; {need.what} needs {need.library} >= "
                               f"{need.min_version}; {later}")
    return None

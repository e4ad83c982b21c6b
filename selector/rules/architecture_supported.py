"""The backend's container runs the model's HF architecture.

The first factor of LMI's backend-selection guide
(https://github.com/deepjavalibrary/djl-serving/blob/d21927c4a692335fba62a87cc430a5fc00c5f790/serving/docs/lmi/deployment_guide/backend-selection.md);
the per-version lists live in selector/data/backends.json with their sources.
"""
from __future__ import annotations

from selector.catalog import Catalog, supports_architecture
from selector.rules.base import Candidate, Context, Rejection
from selector.versions import version_key

NAME = "architecture_supported"
_RUNNERS: dict[tuple[int, str], tuple[Catalog, list[str]]] = {}  # holds the catalog, so its id stays unique


def backends_running(catalog: Catalog, arch: str) -> list[str]:
    """Backends with any published container that runs `arch` (memoized: asked once per candidate)."""
    key = (id(catalog), arch)
    if key not in _RUNNERS:
        _RUNNERS[key] = (catalog, [
            b.name for b in catalog.backends.values()
            if any(supports_architecture(catalog, b, arch, image.version)
                   for c in b.containers for image in catalog.images.in_range(c))
        ])
    return _RUNNERS[key][1]


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    arch = ctx.shape.architecture
    backend, version = candidate.backend, candidate.image.version
    if supports_architecture(ctx.catalog, backend, arch, version):
        return None
    own = [image.version for c in backend.containers for image in ctx.catalog.images.in_range(c)
           if supports_architecture(ctx.catalog, backend, arch, image.version)]
    others = [name for name in backends_running(ctx.catalog, arch) if name != backend.name]
    if own:
        works = f"{backend.display_name} runs it in {', '.join(sorted(set(own), key=version_key))}"
        works += f"; other backends that run it: {', '.join(others)}" if others else ""
    else:
        works = f"backends that run it: {', '.join(others)}" if others else "no LMI backend runs it"
    return Rejection(NAME, f"{backend.display_name} {version} does not run {arch}; {works}")

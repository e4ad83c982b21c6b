"""Build one candidate and its context straight from the catalogs, so rule tests read like tables."""
from __future__ import annotations

from selector.catalog import load_catalog
from selector.model_shape import load_model
from selector.request import Request
from selector.rules.base import Candidate, Context


def candidate(backend: str, instance: str, tp: int = 1, quantization: str = "none",
              version: str | None = None) -> Candidate:
    catalog = load_catalog()
    b = catalog.backends[backend]
    images = [img for c in b.containers for img in catalog.images.in_range(c)]
    image = next(img for img in images if version in (None, img.version))
    return Candidate(b, image, catalog.methods[quantization], catalog.instances[instance], tp)


def context(model: str, region: str = "us-east-1", max_model_len: int = 4096, min_concurrency: int = 4,
            **request) -> Context:
    return Context(Request(model=model, region=region, **request), load_model(model), load_catalog(),
                   max_model_len, min_concurrency)

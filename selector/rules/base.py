"""What every feasibility rule shares: the candidate it judges, the context, and its verdict."""
from __future__ import annotations

from dataclasses import dataclass

from selector.catalog import Backend, Catalog, ImageVersion, Instance, QuantizationMethod
from selector.memory import MemoryEstimate
from selector.model_shape import ModelShape
from selector.request import Request


@dataclass(frozen=True)
class Candidate:
    backend: Backend
    image: ImageVersion
    quantization: QuantizationMethod
    instance: Instance
    tp: int

    @property
    def label(self) -> str:
        return (
            f"{self.backend.name} {self.image.version} {self.quantization.name} "
            f"{self.instance.name} TP{self.tp}"
        )


@dataclass(frozen=True)
class Context:
    """Facts shared by every candidate of one request."""

    request: Request
    shape: ModelShape
    catalog: Catalog
    max_model_len: int
    min_concurrency: int

    def memory(self, candidate: Candidate) -> MemoryEstimate:
        from selector.memory import estimate

        return estimate(
            self.shape, candidate.quantization, candidate.instance, candidate.tp,
            self.max_model_len, self.min_concurrency, self.catalog,
            candidate.backend.name, candidate.image.version,
        )


@dataclass(frozen=True)
class Rejection:
    rule: str
    reason: str


class MissingFact(Exception):
    """A rule needed a fact the model or catalog does not have; the resolver rejects the candidate."""

    def __init__(self, fact: str) -> None:
        super().__init__(fact)
        self.fact = fact


Verdict = tuple[Candidate, "Rejection | None"]
"""A candidate and the first rule that rejected it (None: feasible)."""

"""Order feasible candidates (factors 2 and 3 of LMI's backend-selection guide: traffic pattern, then cost;
https://github.com/deepjavalibrary/djl-serving/blob/d21927c4a692335fba62a87cc430a5fc00c5f790/serving/docs/lmi/deployment_guide/backend-selection.md).

balanced: current backends before deprecated ones, then the traffic pattern's backend order, GPU before
          Inf2, then the cheapest instance; full precision before quantized; more TP before less.
cost:     the cheapest hourly price first; at equal price a current backend beats a deprecated one (deprecated
          backends are allowed, never preferred), then the traffic order breaks ties, then full precision.
          With a load or an SLO the price is the estimated $/1M output tokens of the fleet that serves it
          (instance count x $/h over the load's tokens/h; selector/performance_plan.py), not one instance's $/h.
"""
from __future__ import annotations

from selector.catalog import Catalog
from selector.rules.base import Candidate
from selector.versions import version_key


def traffic_rank(catalog: Catalog, traffic: str, backend: str) -> int:
    order = catalog.traffic_order[traffic]
    return order.index(backend) if backend in order else len(order)


def sort_key(candidate: Candidate, catalog: Catalog, traffic: str, prefer: str,
             cost: dict[str, float] | None = None) -> tuple:
    rank = traffic_rank(catalog, traffic, candidate.backend.name)
    deprecated = candidate.backend.deprecated
    neuron = candidate.instance.accelerator_kind == "neuron"
    price = cost[candidate.label] if cost else candidate.instance.hourly_usd
    quantized = candidate.quantization.name != "none"
    tail = (-candidate.tp, tuple(-part for part in version_key(candidate.image.version)), candidate.instance.name)
    if prefer == "cost":
        return (price, deprecated, rank, quantized, neuron) + tail
    return (deprecated, rank, neuron, price, quantized) + tail


def rank(candidates: list[Candidate], catalog: Catalog, traffic: str, prefer: str,
         cost: dict[str, float] | None = None) -> list[Candidate]:
    """`cost`: candidate label -> the price to rank by under prefer cost (default: its instance's $/h)."""
    return sorted(candidates, key=lambda c: sort_key(c, catalog, traffic, prefer, cost))

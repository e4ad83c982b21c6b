"""Packing inference-component copies onto the fewest instances of one type (vector bin packing, 3 dimensions:
accelerators, host memory, CPU cores).

Algorithm (stated in README "Shared endpoints"):
- A lower bound LB = max over the three dimensions of ceil(total demand / capacity per instance).
- Up to EXACT_LIMIT copies: exact. For n = LB, LB+1, ... a depth-first search places the copies (largest first)
  into n instances, never trying two empty instances for the same copy (they are interchangeable) and pruning
  when the capacity left cannot hold what is left. The first n with a placement is the optimum.
- Above EXACT_LIMIT: first-fit decreasing (copies sorted by accelerators, then memory, then cores). For
  d-dimensional vector packing FFD uses at most (d + 1/3) x OPT + O(1) instances (Garey, Graham, Johnson and Yao,
  "Resource constrained scheduling as generalized bin packing", J. Combinatorial Theory A 21, 1976), i.e. at most
  10/3 x OPT here; the plan reports the count next to LB, so the real gap is visible.
Deterministic: same items, same placement.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

EXACT_LIMIT = 12  # copies; the search is exponential in the worst case, instant at this size
DIMENSIONS = ("accelerators", "memory_mb", "cpu_cores")


@dataclass(frozen=True)
class Demand:
    """One copy of one component: what SageMaker reserves on an instance for it."""

    key: str  # the component it belongs to
    accelerators: int
    memory_mb: int
    cpu_cores: float

    def vector(self) -> tuple[float, float, float]:
        return (self.accelerators, self.memory_mb, self.cpu_cores)


@dataclass(frozen=True)
class Capacity:
    accelerators: int
    memory_mb: int
    cpu_cores: float

    def vector(self) -> tuple[float, float, float]:
        return (self.accelerators, self.memory_mb, self.cpu_cores)


@dataclass(frozen=True)
class Packing:
    bins: tuple[tuple[str, ...], ...]  # per instance, the component key of each copy on it
    lower_bound: int
    exact: bool

    @property
    def count(self) -> int:
        return len(self.bins)


def fits(item: Demand, capacity: Capacity) -> bool:
    return all(a <= b for a, b in zip(item.vector(), capacity.vector(), strict=True))


def lower_bound(items: list[Demand], capacity: Capacity) -> int:
    if not items:
        return 0
    totals = [sum(i.vector()[d] for i in items) for d in range(3)]
    return max(1, *(math.ceil(t / c - 1e-9) for t, c in zip(totals, capacity.vector(), strict=True)))


def _order(items: list[Demand]) -> list[Demand]:
    return sorted(items, key=lambda i: (-i.accelerators, -i.memory_mb, -i.cpu_cores, i.key))


def first_fit_decreasing(items: list[Demand], capacity: Capacity) -> list[list[Demand]]:
    bins: list[list[Demand]] = []
    left: list[list[float]] = []
    for item in _order(items):
        for index, room in enumerate(left):
            if all(v <= r + 1e-9 for v, r in zip(item.vector(), room, strict=True)):
                bins[index].append(item)
                left[index] = [r - v for r, v in zip(room, item.vector(), strict=True)]
                break
        else:
            bins.append([item])
            left.append([c - v for c, v in zip(capacity.vector(), item.vector(), strict=True)])
    return bins


def _search(items: list[Demand], capacity: Capacity, n: int) -> list[list[Demand]] | None:
    """A placement of `items` (largest first) into n instances, or None."""
    left = [list(capacity.vector()) for _ in range(n)]
    placed: list[list[Demand]] = [[] for _ in range(n)]
    remaining = [sum(i.vector()[d] for i in items) for d in range(3)]

    def place(index: int) -> bool:
        if index == len(items):
            return True
        free = [sum(room[d] for room in left) for d in range(3)]
        if any(remaining[d] > free[d] + 1e-9 for d in range(3)):
            return False
        item = items[index]
        vector = item.vector()
        tried_empty = False
        for b in range(n):
            empty = not placed[b]
            if empty and tried_empty:
                continue  # empty instances are interchangeable
            if all(v <= r + 1e-9 for v, r in zip(vector, left[b], strict=True)):
                tried_empty = tried_empty or empty
                for d in range(3):
                    left[b][d] -= vector[d]
                    remaining[d] -= vector[d]
                placed[b].append(item)
                if place(index + 1):
                    return True
                placed[b].pop()
                for d in range(3):
                    left[b][d] += vector[d]
                    remaining[d] += vector[d]
        return False

    return placed if place(0) else None


def pack(items: list[Demand], capacity: Capacity) -> Packing | None:
    """The fewest instances holding every copy (exact up to EXACT_LIMIT copies), or None when a copy fits no
    instance at all."""
    if any(not fits(item, capacity) for item in items):
        return None
    bound = lower_bound(items, capacity)
    ordered = _order(items)
    if len(items) <= EXACT_LIMIT:
        for n in range(bound, len(items) + 1):
            found = _search(ordered, capacity, n)
            if found is not None:
                return Packing(tuple(tuple(i.key for i in b) for b in found if b), bound, True)
    bins = first_fit_decreasing(items, capacity)
    return Packing(tuple(tuple(i.key for i in b) for b in bins), bound, len(bins) == bound)

"""The nudge of issue 13: name a cheaper feasible instance outside the families a request planned on.

Newer families (g6, g6e, p5, p5en, ...) are an explicit opt-in, so a default request plans on the seed families;
this module tells it what the opt-in would save. It runs the same rules over only the families left out (one
extra pass, only when some were left out), so the resolver stays fast.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from selector.ranking import sort_key
from selector.rules import first_rejection
from selector.rules.base import Candidate, Context


@dataclass(frozen=True)
class Nudge:
    """The cheapest feasible candidate outside the planned families, and what it saves per hour."""

    instance_type: str
    family: str
    hourly_usd: float
    saving_usd: float
    price_confirmed: bool
    label: str

    def sentence(self, planned: str, planned_usd: float) -> str:
        unconfirmed = " (its price is unconfirmed in the catalog)" if not self.price_confirmed else ""
        return (f"{self.instance_type} would cost ${self.saving_usd:,.2f}/h less: add families: [{self.family}] "
                f"(or families: all). It serves {self.label} at ${self.hourly_usd:,.2f}/h{unconfirmed} vs "
                f"{planned} at ${planned_usd:,.2f}/h.")


def cheaper_outside(best: Candidate, ctx: Context, planned: tuple[str, ...]) -> Nudge | None:
    """None when the request pinned an instance type, already planned on every family, or nothing outside is
    cheaper than the chosen plan. Under prefer balanced the nudge keeps the chosen backend (a cheaper plan on a
    deprecated backend is no advice); under prefer cost any backend counts, ranked as cost ranks."""
    from selector.resolve import enumerate_candidates

    request, catalog = ctx.request, ctx.catalog
    others = tuple(f for f in catalog.families if f not in planned)
    if request.instance_type is not None or not others:
        return None
    outside = enumerate_candidates(replace(request, families=others), ctx.shape, catalog)
    same_backend = request.prefer != "cost"  # balanced keeps the chosen backend; cost takes any
    cheaper = sorted(
        (c for c in outside if c.instance.hourly_usd < best.instance.hourly_usd
         and (not same_backend or c.backend.name == best.backend.name)),
        key=lambda c: sort_key(c, catalog, request.traffic, "cost"),
    )
    for candidate in cheaper:
        if first_rejection(candidate, ctx) is None:
            instance = candidate.instance
            return Nudge(instance.name, instance.family, instance.hourly_usd,
                         round(best.instance.hourly_usd - instance.hourly_usd, 2), instance.price_confirmed,
                         _label(candidate))
    return None


def _label(candidate: Candidate) -> str:
    quant = "" if candidate.quantization.name == "none" else f" {candidate.quantization.name}"
    return f"{candidate.backend.display_name} {candidate.image.version}{quant} TP {candidate.tp}"

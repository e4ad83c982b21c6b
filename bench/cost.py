#!/usr/bin/env python3
"""What the plans cost per hour, against the LMI instance-type guide and a naive sizing rule.

Cases: every catalog model x traffic {even, uneven} x prefer {balanced, cost}, region us-east-1.
  even:   max_input_tokens 1024, max_output_tokens 512 (scaled down to the model's context when shorter)
  uneven: no lengths given (the selector's defaults: max_model_len = min(max positions, 8192), may shrink)
Each plan is checked to be feasible by the memory model: memory.per_device_bytes <= usable_per_device_bytes
in its --json contract.

References, priced from the same catalog (selector/data/instances.json):
  guide  the LMI Instance Type Selection guide's quick table (bench/lmi_instance_guide.json, djl-serving
         serving/docs/lmi/deployment_guide/instance-type-selection.md @ d21927c4),
         row picked by parameter count on a log scale: the boundary between two rows is their geometric mean
         (9.5B, 16.1B, 26.5B, 49.5B, 112B); models below 7B take the ~7B row (the smallest the guide has);
         the ~180B row reaches up to 289B (the same log half-width above as below); larger models have no row.
  naive  fp16 weights (params x 2 bytes), the cheapest G5 whose total GPU memory >= 1.2 x weights.

Cost per token (issue 15): every catalog model with prefer cost, ranked per hour (no load) and per token at
two reference loads (LOADS: mean 512 input / 256 output tokens, TPOT target 100 ms so no plan is unusably
slow); prints each model's estimated $/1M output tokens and the share of cases where the per-token ranking
picks a different instance than the per-hour ranking, with examples.

    .venv/bin/python bench/cost.py            # totals and every cheaper / dearer case with its reason
    .venv/bin/python bench/cost.py --quiet    # totals only
    .venv/bin/python bench/cost.py --families # seed families vs all families, one markdown row per model

Families (issue 13): every catalog model, prefer cost, the selector's default lengths, planned on the default
(seed) families g5/inf2/p4d/p4de and with families: all; the markdown table in docs/performance.md section 3.1
is this output. It also checks that the seed plan's nudge names the instance the all-families plan chose.

A figure-printing benchmark, not a test (pytest collects tests/ only).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from selector.catalog import GIB, load_catalog  # noqa: E402
from selector.errors import SelectorError  # noqa: E402
from selector.model_shape import catalog_model_ids, load_model  # noqa: E402
from selector.plan import Plan  # noqa: E402
from selector.request import Load, Request, Slo  # noqa: E402
from selector.resolve import enumerate_candidates, resolve  # noqa: E402
from selector.rules import RULES  # noqa: E402

GUIDE = json.loads((Path(__file__).resolve().parent / "lmi_instance_guide.json").read_text())
EVEN_LENGTHS = (1024, 512)
NAIVE_FACTOR = 1.2
FP16_BYTES = 2
RULE_ORDER = {rule.NAME: index for index, rule in enumerate(RULES)}


def guide_row(params: int) -> dict | None:
    """The quick-table row for this size: nearest row on a log scale (see the module docstring)."""
    rows = GUIDE["rows"]
    billions = params / 1e9
    for lower, upper in zip(rows, rows[1:], strict=False):
        if billions < math.sqrt(lower["params_b"] * upper["params_b"]):
            return lower
    last, before = rows[-1], rows[-2]
    return last if billions <= last["params_b"] ** 2 / math.sqrt(last["params_b"] * before["params_b"]) else None


def naive_instance(params: int) -> str | None:
    catalog = load_catalog()
    need = NAIVE_FACTOR * params * FP16_BYTES
    fits = [i for i in catalog.instances.values()
            if i.family == "g5" and i.accelerators * i.accelerator_memory_gib * GIB >= need]
    return min(fits, key=lambda i: (i.hourly_usd, i.name)).name if fits else None


def request_for(model: str, traffic: str, prefer: str) -> tuple[Request, str]:
    if traffic == "uneven":
        return Request(model=model, traffic=traffic, prefer=prefer), "default lengths"
    inputs, outputs = EVEN_LENGTHS
    limit = load_model(model).max_positions
    if inputs + outputs > limit:
        outputs = limit // 3
        inputs = limit - outputs
    return (Request(model=model, traffic=traffic, prefer=prefer, max_input_tokens=inputs, max_output_tokens=outputs),
            f"{inputs}/{outputs} tokens")


def gib(value: float) -> str:
    return f"{value / GIB:.1f} GiB"


@dataclass
class Case:
    model: str
    traffic: str
    prefer: str
    lengths: str
    params: int
    request: Request
    plan: dict | None = None
    error: str | None = None
    guide: str | None = None
    naive: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.model} [{self.traffic}, {self.prefer}]"

    @property
    def planned(self) -> dict:
        """The plan's JSON, for a case known to have one (compare() keeps only those)."""
        assert self.plan is not None, f"{self.label} has no plan: {self.error}"
        return self.plan


def plan_line(plan: dict) -> str:
    mem = plan["memory"]
    kv = plan["min_concurrency"] * plan["max_model_len"] * mem["kv_bytes_per_token_per_device"]
    quant = plan["quantization"]
    if plan["quantization_kind"] == "prequantized":
        quant = f"pre-quantized {quant}"
    return (f"{plan['backend']}, {quant}, {plan['instance_type']} TP {plan['tensor_parallel_degree']}: weights "
            f"{gib(mem['weights_per_device_bytes'])}/device + KV {gib(kv)} for {plan['min_concurrency']} x "
            f"{plan['max_model_len']} tokens <= {gib(mem['usable_per_device_bytes'])} usable")


def cheaper_reason(plan: dict, reference: str) -> tuple[str, str]:
    catalog = load_catalog()
    ref, mine = catalog.instances[reference], catalog.instances[plan["instance_type"]]
    drivers = []
    if plan["quantization_kind"] == "runtime":
        drivers.append(f"{plan['quantization']} quantization shrinks the weights")
    elif plan["quantization_kind"] == "prequantized":
        drivers.append(f"the checkpoint is pre-quantized ({plan['quantization']}), so weights are a fraction of fp16")
    if mine.accelerator_kind == "neuron":
        drivers.append("Inferentia2 NeuronCores hold it for less")
    if not drivers:
        if mine.accelerators * mine.accelerator_memory_gib < ref.accelerators * ref.accelerator_memory_gib:
            drivers.append("16-bit weights + KV for min_concurrency fit in less accelerator memory than the reference")
        else:
            drivers.append("the same accelerator memory for less (fewer vCPUs / less host RAM, enough to load it)")
    kinds = []
    if plan["quantization_kind"] == "runtime":
        kinds.append("runtime quantization")
    elif plan["quantization_kind"] == "prequantized":
        kinds.append("pre-quantized checkpoint")
    if mine.accelerator_kind == "neuron":
        kinds.append("Inferentia2")
    return " + ".join(kinds) or "16-bit on a cheaper GPU instance", f"{', and '.join(drivers)}; plan {plan_line(plan)}"


def why_not(plan: dict, instance: str, request: Request) -> tuple[str, str]:
    """(kind, sentence): why the plan is not on `instance` - the most telling rejection there, or the ranking."""
    rejected = [r for r in plan["rejected"] if r["candidate"].split()[3] == instance]
    labels = {c.label for c in enumerate_candidates(request, load_model(request.model), load_catalog())
              if c.instance.name == instance}
    feasible = sorted(labels - {r["candidate"] for r in rejected})
    if feasible:
        return "ranking", (f"{instance} is feasible ({feasible[0]}) but ranked lower: {plan['prefer']} puts "
                           f"{plan['backend']} first for {plan['traffic']} traffic")
    if not rejected:
        return "not a candidate", f"{instance} is not a candidate for this request"
    same = [r for r in rejected if r["candidate"].split()[0] == plan["backend"]] or rejected
    best = max(same, key=lambda r: (RULE_ORDER[r["rule"]], int(r["candidate"].split()[4].removeprefix("TP"))))
    kind = best["rule"]
    if kind == "device_memory_fits":
        kind = "device memory: weights" if best["reason"].startswith("weights need") else "device memory: KV cache"
    elif kind == "host_memory_fits":
        kind = "host RAM"
    return kind, f"on {instance}: {best['reason']} ({best['rule']}, {best['candidate']})"


def dearer_reason(plan: dict, reference: str, request: Request) -> tuple[str, str]:
    """Why not the reference instance and, when it differs, why not the next cheaper one below the plan."""
    catalog = load_catalog()
    price = plan["cost"]["hourly_usd"]
    below = [i for i in catalog.instances.values()
             if i.hourly_usd < price and i.name != reference and i.accelerator_kind == "nvidia"
             and i.hourly_usd > catalog.instances[reference].hourly_usd]
    kind, first = why_not(plan, reference, request)
    reasons = [first]
    if below:
        reasons.append(why_not(plan, max(below, key=lambda i: (i.hourly_usd, i.name)).name, request)[1])
    return kind, "; ".join(reasons) + f"; plan {plan_line(plan)}"


def run_cases() -> list[Case]:
    cases = []
    for model in catalog_model_ids():
        params = load_model(model).total_params()
        for traffic in ("even", "uneven"):
            for prefer in ("balanced", "cost"):
                request, lengths = request_for(model, traffic, prefer)
                case = Case(model, traffic, prefer, lengths, params, request)
                row = guide_row(params)
                case.guide = row["instance"] if row else None
                case.naive = naive_instance(params)
                try:
                    case.plan = resolve(request).to_json()
                except SelectorError as error:
                    case.error = error.paragraph()
                    cases.append(case)
                    continue
                mem = case.plan["memory"]
                if mem["per_device_bytes"] > mem["usable_per_device_bytes"]:
                    raise AssertionError(f"{case.label}: per_device_bytes {mem['per_device_bytes']} > "
                                         f"usable_per_device_bytes {mem['usable_per_device_bytes']}")
                cases.append(case)
    return cases


def compare(cases: list[Case], which: str, quiet: bool) -> None:
    catalog = load_catalog()
    title = {"guide": "LMI instance-type guide (djl-serving instance-type-selection.md @ d21927c4)",
             "naive": f"naive rule (fp16, cheapest G5 with GPU memory >= {NAIVE_FACTOR} x weights)"}[which]
    planned = [c for c in cases if c.plan]
    usable = [c for c in planned if getattr(c, which)]
    missing = [c for c in planned if not getattr(c, which)]
    plan_total = sum(c.planned["cost"]["hourly_usd"] for c in usable)
    ref_total = sum(catalog.instances[getattr(c, which)].hourly_usd for c in usable)
    cheaper = [c for c in usable if c.planned["cost"]["hourly_usd"] < catalog.instances[getattr(c, which)].hourly_usd]
    dearer = [c for c in usable if c.planned["cost"]["hourly_usd"] > catalog.instances[getattr(c, which)].hourly_usd]
    same = len(usable) - len(cheaper) - len(dearer)
    print(f"\n== Plans vs the {title}")
    print(f"  {len(usable)} cases with a reference: plans ${plan_total:,.2f}/h vs reference ${ref_total:,.2f}/h "
          f"({(plan_total / ref_total - 1) * 100:+.1f}%); cheaper {len(cheaper)}, same {same}, dearer {len(dearer)}")
    for prefer in ("balanced", "cost"):
        sub = [c for c in usable if c.prefer == prefer]
        p = sum(c.planned["cost"]["hourly_usd"] for c in sub)
        r = sum(catalog.instances[getattr(c, which)].hourly_usd for c in sub)
        print(f"    prefer {prefer:8}: ${p:,.2f}/h vs ${r:,.2f}/h ({(p / r - 1) * 100:+.1f}%) over {len(sub)} cases")
    if missing:
        names = sorted({c.model for c in missing})
        print(f"  no reference for {len(missing)} cases ({', '.join(names)}): "
              + ("beyond the guide's largest row" if which == "guide" else "no G5 holds 1.2 x fp16 weights"))
    explained = {
        "cheaper": [(c, *cheaper_reason(c.planned, getattr(c, which))) for c in cheaper],
        "dearer": [(c, *dearer_reason(c.planned, getattr(c, which), c.request)) for c in dearer],
    }
    for label, rows in explained.items():
        if rows:
            tally = Counter(kind for _, kind, _ in rows)
            print(f"  {label} because: " + "; ".join(f"{kind} {n}" for kind, n in tally.most_common()))
    if quiet:
        return
    for label, rows in explained.items():
        if not rows:
            continue
        print(f"  -- {label} than the reference:")
        for c, _, why in rows:
            ref = getattr(c, which)
            print(f"  {c.label}: ${c.planned['cost']['hourly_usd']:.2f} vs {ref} ${catalog.instances[ref].hourly_usd:.2f}"
                  f" ({c.params / 1e9:.1f}B, {c.lengths}) - {why}")


LOADS = {"light": Load(6, 512, 256), "heavy": Load(600, 512, 256)}
TOKEN_SLO = Slo(time_to_first_token_ms=None, time_per_output_token_ms=100)


def per_token(quiet: bool) -> None:
    """$/1M output tokens per catalog model, and how often ranking per token moves the plan to another instance."""
    print("\n== Cost per token (prefer cost; loads: " + ", ".join(
        f"{k} {v.requests_per_minute:g} req/min" for k, v in LOADS.items())
        + f", mean {LOADS['heavy'].mean_input_tokens}/{LOADS['heavy'].mean_output_tokens} tokens, TPOT <= "
        f"{TOKEN_SLO.time_per_output_token_ms:g} ms)")
    if not quiet:
        print(f"  {'model':48} {'per-hour plan':34} {'$/1M@batch':>10}  {'heavy-load plan':34} {'n':>3} {'$/1M@load':>9}")
    moved: Counter[str] = Counter()
    total: Counter[str] = Counter()
    examples: list[tuple[str, str, Plan, Plan]] = []
    for model in catalog_model_ids():
        try:
            hourly = resolve(Request(model=model, prefer="cost"))
        except SelectorError:
            print(f"  {model:48} cannot be planned")
            continue
        assert hourly.performance is not None  # resolve() estimates every plan it returns
        row = [f"  {model:48} {hourly.instance_type + ' ' + hourly.quantization:34} "
               f"{hourly.performance['usd_per_million_output_tokens']:10.2f}"]
        for name, load in LOADS.items():
            try:
                plan = resolve(Request(model=model, prefer="cost", load=load, slo=TOKEN_SLO))
            except SelectorError as error:
                row.append(f"  {name}: {error.problem[:60]}")
                continue
            total[name] += 1
            if plan.instance_type != hourly.instance_type:
                moved[name] += 1
                examples.append((model, name, hourly, plan))
            if name == "heavy":
                perf = plan.performance
                assert perf is not None  # resolve() estimates every plan it returns
                row.append(f"  {plan.instance_type + ' ' + plan.quantization:34} {perf['instance_count']:3} "
                           f"{perf['usd_per_million_output_tokens_at_load']:9.2f}")
        if not quiet:
            print("".join(row))
    for name in LOADS:
        share = moved[name] / total[name] if total[name] else 0.0
        print(f"  {name} load: per-token ranking picks another instance than per-hour in {moved[name]} of "
              f"{total[name]} models ({share:.0%})")
    for model, name, hourly, plan in examples[: (4 if quiet else 12)]:
        perf = plan.performance
        assert perf is not None  # resolve() estimates every plan it returns
        print(f"    e.g. {model} [{name}]: per hour {hourly.instance_type} ${hourly.hourly_usd:.2f}/h; per token "
              f"{plan.instance_type} x {perf['instance_count']} at ${perf['usd_per_million_output_tokens_at_load']:.2f}"
              f"/1M tokens ({perf['time_per_output_token_ms']:.0f} ms TPOT, batch {perf['batch']})")


def _cheapest(model: str, families: tuple[str, ...]):
    try:
        return resolve(Request(model=model, prefer="cost", families=families))
    except SelectorError as error:
        return error


def _cell(plan) -> str:
    if isinstance(plan, SelectorError):
        return "no plan"
    quant = "" if plan.quantization == "none" else f" {plan.quantization}"
    mark = "" if load_catalog().instances[plan.instance_type].price_confirmed else "*"
    return f"{plan.instance_type} TP {plan.tensor_parallel_degree}{quant} ${plan.hourly_usd:,.2f}{mark}"


def families_table() -> None:
    """The cheapest plan per catalog model on the seed families vs on every family, as markdown."""
    models = catalog_model_ids()
    rows, seed_total, all_total, cheaper, nudged, both = [], 0.0, 0.0, 0, 0, 0
    for model in models:
        seed, every = _cheapest(model, ()), _cheapest(model, ("all",))
        saving = ""
        if not isinstance(seed, SelectorError) and not isinstance(every, SelectorError):
            both += 1
            seed_total += seed.hourly_usd
            all_total += every.hourly_usd
            if every.hourly_usd < seed.hourly_usd:
                cheaper += 1
                saving = f"-${seed.hourly_usd - every.hourly_usd:,.2f} ({every.hourly_usd / seed.hourly_usd - 1:+.0%})"
                nudged += any(w.startswith(f"{every.instance_type} would cost") for w in seed.warnings)
        rows.append(f"| {model} | {_cell(seed)} | {_cell(every)} | {saving} |")
    catalog = load_catalog()
    print(f"Seed families ({', '.join(catalog.default_families)}) vs all families ({', '.join(catalog.families)}): "
          f"{len(models)} catalog models, prefer cost, default lengths, us-east-1.")
    print(f"Planned both ways: {both}; cheaper with all families: {cheaper}; sum of $/h {seed_total:,.2f} -> "
          f"{all_total:,.2f} ({all_total / seed_total - 1:+.1%}); the seed plan's nudge names the all-families "
          f"instance in {nudged} of {cheaper}.\n")
    print("| model | seed families | all families | difference |")
    print("|---|---|---|---:|")
    print("\n".join(rows))
    print("\n\\* price unconfirmed in the catalog (third-party copy; `price_note` in selector/data/instances.json)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="totals only, no per-case lines")
    parser.add_argument("--families", action="store_true", help="seed families vs all families, as markdown")
    args = parser.parse_args()
    if args.families:
        families_table()
        return

    catalog = load_catalog()
    cases = run_cases()
    planned = [c for c in cases if c.plan]
    print(f"Cost of plans: {len(catalog_model_ids())} catalog models x even/uneven x balanced/cost = "
          f"{len(cases)} cases; {len(planned)} planned, every one within usable memory per device; "
          f"prices {catalog.price_region} as of {catalog.price_as_of}")
    rows = ", ".join(f"~{r['params_b']}B -> {r['instance']} (${catalog.instances[r['instance']].hourly_usd:.2f}/h)"
                     for r in GUIDE["rows"])
    print(f"Guide rows by parameter count: {rows}")
    compare(cases, "guide", args.quiet)
    compare(cases, "naive", args.quiet)
    failed = [c for c in cases if c.error]
    print(f"\n== Cases that cannot be planned: {len(failed)}")
    for c in failed:
        print(f"  {c.label} ({c.params / 1e9:.1f}B, {c.lengths}): {c.error}")
    per_token(args.quiet)


if __name__ == "__main__":
    main()

"""Plan a shared endpoint: each model's smallest reservation, then the cheapest packing of the pool.

For every instance type the pool allows (NVIDIA GPUs; vLLM, the backend whose multi-LoRA adapter components
SageMaker serves), each model gets the smallest tensor-parallel degree that resolve() accepts on that type, with
the pins backend=vllm, instance_type and tensor_parallel_degree: the same rules and memory model as a standalone
endpoint, so a component holds its weights and min_concurrency full-length sequences. Its reservation is:

- NumberOfAcceleratorDevicesRequired = TP;
- MinMemoryRequiredInMb = the host RAM need of the rule host_memory_fits (checkpoint as stored plus the runtime
  headroom, selector/data/runtime.json) plus the CPU cache of its LoRA adapters (selector/pools/adapters.py);
- NumberOfCpuCoresRequired = its accelerators' share of the instance's physical cores (vCPUs / 2: EC2 G5/P4
  instances run two threads per core), so CPU never blocks a placement the accelerators allow.

Copies (`copies.initial` and `copies.max`) are packed onto instances of each type (selector/pools/packing.py,
exact up to 12 copies); the cheapest type wins (ties: fewer instances, then the cheaper type, then the name).
The comparison is one endpoint per model: each model's own standalone plan (resolve() without pins over the same
instance choice) at one instance per copy. A pool that would cost more than that is refused with both prices.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from selector.catalog import ALL_FAMILIES, GIB, Instance, load_catalog
from selector.errors import SelectorError
from selector.model_shape import load_model
from selector.plan import HOURS_PER_MONTH, Plan
from selector.pools.adapters import cpu_lora_bytes, with_adapters
from selector.pools.config import DEFAULT_COPIES, Adapter, Copies, EndpointPool
from selector.pools.packing import EXACT_LIMIT, Capacity, Demand, Packing, pack
from selector.request import Request
from selector.resolve import resolve

MIB = 1024**2
POOL_BACKEND = "vllm"
VARIANT_NAME = "AllTraffic"
THREADS_PER_CORE = 2


class PoolRefusal(Exception):
    """Why a pool cannot be planned; `deployment` names the member it is about (None: the pool itself)."""

    def __init__(self, deployment: str | None, field: str, value: Any, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.deployment, self.field, self.value, self.problem, self.hint = deployment, field, value, problem, hint
        self.all: list[PoolRefusal] = [self]  # every member's refusal when several members fail on their own


def _each_standalone(name: str, pool: EndpointPool, members: list[Member]) -> dict[str, Plan]:
    """Every member's own plan; one PoolRefusal naming all the members that fail on their own (not only the first)."""
    plans, refusals = {}, []
    for m in members:
        try:
            plans[m.name] = standalone(m, pool, name)
        except PoolRefusal as refusal:
            refusals.append(refusal)
    if refusals:
        refusals[0].all = refusals
        raise refusals[0]
    return plans


@dataclass(frozen=True)
class Member:
    """One deployment of the pool, as the planner needs it (selector/deployments.py builds these)."""

    name: str
    request: Request
    copies: Copies = DEFAULT_COPIES
    adapters: tuple[Adapter, ...] = ()


@dataclass(frozen=True)
class Reservation:
    accelerators: int
    memory_mb: int
    cpu_cores: float

    def to_json(self) -> dict[str, Any]:
        return {"NumberOfAcceleratorDevicesRequired": self.accelerators, "MinMemoryRequiredInMb": self.memory_mb,
                "NumberOfCpuCoresRequired": self.cpu_cores}


@dataclass(frozen=True)
class Component:
    name: str  # the inference component's name: <pool>-<deployment>
    deployment: str
    plan: Plan  # on the pool's instance type, TP = accelerators reserved, LoRA keys when it has adapters
    reservation: Reservation
    copies: Copies
    adapters: tuple[Adapter, ...]
    standalone: Plan  # the model's own endpoint, for the comparison
    why: str

    def adapter_component(self, adapter: Adapter) -> str:
        return f"{self.name}-{adapter.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "inference_component": self.name, "deployment": self.deployment, "model": self.plan.model_id,
            "tensor_parallel_degree": self.plan.tensor_parallel_degree, "reservation": self.reservation.to_json(),
            "copies": self.copies.model_dump(), "max_batch_size": self.plan.max_batch_size,
            "max_model_len": self.plan.max_model_len, "image_uri": self.plan.image_uri,
            "serving_properties": dict(self.plan.serving_properties),
            "adapters": [{"inference_component": self.adapter_component(a), "s3_uri": a.s3_uri, "rank": a.rank}
                         for a in self.adapters],
            "standalone": {"instance_type": self.standalone.instance_type,
                           "tensor_parallel_degree": self.standalone.tensor_parallel_degree,
                           "hourly_usd": round(self.standalone.hourly_usd * self.copies.initial, 2)},
            "why": self.why,
        }


@dataclass(frozen=True)
class PoolPlan:
    name: str
    pool: EndpointPool
    instance: Instance
    components: tuple[Component, ...]
    packing: Packing  # initial copies
    max_packing: Packing  # max copies
    initial_instances: int
    max_instances: int
    considered: tuple[str, ...]  # one line per instance type: its cost, or why it could not host the pool
    price_as_of: str

    @property
    def instance_type(self) -> str:
        return self.instance.name

    @property
    def hourly_usd(self) -> float:
        return round(self.initial_instances * self.instance.hourly_usd, 2)

    @property
    def separate_hourly_usd(self) -> float:
        return round(sum(c.standalone.hourly_usd * c.copies.initial for c in self.components), 2)

    @property
    def scale_to_zero(self) -> bool:
        return self.pool.min_instances == 0

    @property
    def algorithm(self) -> str:
        copies = sum(len(b) for b in self.packing.bins)
        if copies <= EXACT_LIMIT:
            return f"exact search ({copies} copies <= {EXACT_LIMIT}): {self.packing.count} instance(s) is the minimum"
        return (f"first-fit decreasing ({copies} copies > {EXACT_LIMIT}): {self.packing.count} instance(s), lower "
                f"bound {self.packing.lower_bound} (FFD <= (3 + 1/3) x optimum for 3 dimensions)")

    @property
    def summary(self) -> str:
        count = len(self.components) + sum(len(c.adapters) for c in self.components)
        return (f"{count} inference component{'s' if count != 1 else ''} on {self.instance_type} x "
                f"{self.initial_instances}, ${self.hourly_usd:.2f}/h (separate endpoints: ${self.separate_hourly_usd:.2f}/h)")

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.name, "instance_type": self.instance_type, "initial_instances": self.initial_instances,
            "min_instances": self.pool.min_instances, "max_instances": self.max_instances,
            "routing": self.pool.routing, "algorithm": self.algorithm,
            "placement": [list(b) for b in self.packing.bins],
            "lower_bound": self.packing.lower_bound,
            "hourly_usd": self.hourly_usd, "monthly_usd": round(self.hourly_usd * HOURS_PER_MONTH, 2),
            "separate_hourly_usd": self.separate_hourly_usd,
            "separate_monthly_usd": round(self.separate_hourly_usd * HOURS_PER_MONTH, 2),
            "savings_hourly_usd": round(self.separate_hourly_usd - self.hourly_usd, 2),
            "price_as_of": self.price_as_of,
            "considered": list(self.considered),
            "components": [c.to_json() for c in self.components],
        }


def pool_instances(name: str, pool: EndpointPool) -> list[Instance]:
    catalog = load_catalog()
    if pool.instance_type is not None:
        instance = catalog.instances.get(pool.instance_type)
        if instance is None:
            raise PoolRefusal(None, f"endpoints[{name}].instance_type", pool.instance_type,
                              "is not an instance type of the catalog",
                              "Use one of " + ", ".join(sorted(i for i, v in catalog.instances.items()
                                                              if v.accelerator_kind == "nvidia")))
        chosen = [instance]
    else:
        families = list(catalog.requested_families(tuple(pool.families or ())))
        if not pool.families or ALL_FAMILIES in pool.families:  # default or all: the GPU families among them
            gpu = {i.family for i in catalog.instances.values() if i.accelerator_kind == "nvidia"}
            families = [f for f in families if f in gpu]
        unknown = [f for f in families if f not in catalog.families]
        if unknown:
            raise PoolRefusal(None, f"endpoints[{name}].families", unknown, "are not instance families of the catalog",
                              "Use " + ", ".join(sorted(catalog.families)))
        chosen = [i for i in catalog.instances.values() if i.family in families]
    neuron = sorted(i.name for i in chosen if i.accelerator_kind != "nvidia")
    if neuron:
        raise PoolRefusal(None, f"endpoints[{name}]", neuron,
                          "Inferentia instances cannot host this project's inference components: they run vLLM "
                          "(NVIDIA GPUs), whose multi-LoRA adapter components SageMaker serves; NeuronX compiles "
                          "for a fixed TP and batch per model",
                          "Use GPU families (g5, p4d, p4de) for the pool, or give the model its own endpoint")
    return sorted(chosen, key=lambda i: (i.hourly_usd, i.name))


def capacity(instance: Instance) -> Capacity:
    return Capacity(instance.devices, int(instance.host_memory_gib * 1024), instance.vcpu / THREADS_PER_CORE)


def _cores(instance: Instance, tp: int) -> float:
    share = instance.vcpu / THREADS_PER_CORE * tp / instance.devices
    return max(0.25, math.floor(share * 4) / 4)  # NumberOfCpuCores: a float, at least 0.25 (botocore shape)


_CACHE: dict[tuple, tuple[Plan, Reservation, str] | str] = {}


def reserve(member: Member, instance: Instance, max_model_len: int) -> tuple[Plan, Reservation, str] | str:
    """(plan, reservation, why) for the smallest TP that holds the model on `instance` at the standalone plan's
    max_model_len (resolve() halves the length rather than fail; a pool must not serve shorter prompts), or why
    none does."""
    key = (repr(member.request), member.adapters, instance.name, max_model_len)
    if key in _CACHE:
        return _CACHE[key]
    catalog = load_catalog()
    degrees = [member.request.tensor_parallel_degree] if member.request.tensor_parallel_degree else \
        [tp for tp in catalog.backends[POOL_BACKEND].tp_degrees if tp <= instance.devices]
    reasons: list[str] = []
    result: tuple[Plan, Reservation, str] | str = ""
    for tp in degrees:
        request = replace(member.request, backend=POOL_BACKEND, instance_type=instance.name, families=(),
                          tensor_parallel_degree=tp)
        try:
            plan = _resolve_quietly(request)
        except SelectorError as error:
            reasons.append(f"TP {tp}: {error.problem.removeprefix('no plan honours this pin: ')}")
            continue
        if plan.max_model_len < max_model_len:
            reasons.append(f"TP {tp}: only {plan.max_model_len} tokens of context fit, the model's own plan serves "
                           f"{max_model_len}")
            continue
        shape = load_model(request.model, request.model_config)
        adapted = with_adapters(plan, shape, member.adapters)
        if isinstance(adapted, str):
            reasons.append(f"TP {tp}: {adapted}")
            continue
        headroom = int(catalog.runtime["host_memory_headroom_gib"] * GIB)
        memory = math.ceil((plan.checkpoint_bytes + headroom + cpu_lora_bytes(shape, member.adapters)) / MIB)
        reservation = Reservation(tp, memory, _cores(instance, tp))
        smaller = f" ({'; '.join(reasons)})" if reasons else ""
        why = (f"TP {tp} on {instance.name}: the smallest degree that holds the weights and "
               f"{plan.min_concurrency} x {plan.max_model_len}-token KV cache{smaller}; host RAM "
               f"{memory / 1024:.1f} GiB = checkpoint + {headroom / GIB:g} GiB headroom"
               + (" + adapter CPU cache" if member.adapters else ""))
        result = (adapted, reservation, why)
        break
    else:
        result = "; ".join(reasons) or f"no tensor-parallel degree fits {instance.name}"
    _CACHE[key] = result
    return result


def _resolve_quietly(request: Request) -> Plan:
    """resolve() with pins, without the re-plans a refusal normally adds to its hint (the pool planner tries many
    pins and reports its own reasons)."""
    from selector.resolve import resolve_without_hints

    return resolve_without_hints(request)


_STANDALONE: dict[str, Plan | SelectorError] = {}


def standalone(member: Member, pool: EndpointPool, pool_name: str = "") -> Plan:
    """The model's own endpoint over the same instance choice (its plan if it were not in the pool)."""
    request = replace(member.request, families=tuple(pool.families or member.request.families),
                      instance_type=pool.instance_type or member.request.instance_type)
    key = repr(request)
    if key not in _STANDALONE:
        try:
            _STANDALONE[key] = resolve(request)
        except SelectorError as error:
            _STANDALONE[key] = error
    found = _STANDALONE[key]
    if isinstance(found, SelectorError) and found.field.startswith("options."):  # a bad value, on any instance
        raise PoolRefusal(member.name, found.field, found.value, found.problem, found.hint)
    if isinstance(found, SelectorError):
        where = pool.instance_type or ", ".join(pool.families or ("every GPU family",))
        raise PoolRefusal(member.name, "model", member.request.model,
                          f"fits no instance type the endpoint may use ({where}): "
                          + found.problem.removeprefix("no plan honours this pin: ").removeprefix("no candidate can serve it: "),
                          "Allow larger instance types for the pool, shorten max_input_tokens / max_output_tokens, or "
                          "give the model its own endpoint")
    return found


def plan_pool(name: str, pool: EndpointPool, members: list[Member], price_as_of: str | None = None) -> PoolPlan:
    """The cheapest packing of the members' copies onto one instance type; PoolRefusal when there is none."""
    if not members:
        raise PoolRefusal(None, f"endpoints[{name}]", name, "no deployment names this endpoint",
                          f"Add endpoint: {name} to the deployments it should host, or remove it")
    instances = pool_instances(name, pool)
    separate = _each_standalone(name, pool, members)
    considered: list[str] = []
    best: tuple | None = None
    unfit: dict[str, list[str]] = {m.name: [] for m in members}
    for instance in instances:
        reserved = {m.name: reserve(m, instance, separate[m.name].max_model_len) for m in members}
        missing = [n for n, r in reserved.items() if isinstance(r, str)]
        if missing:
            for n in missing:
                unfit[n].append(f"{instance.name}: {reserved[n]}")
            considered.append(f"{instance.name}: cannot host {', '.join(missing)}")
            continue
        items = [Demand(m.name, *_vector(reserved[m.name])) for m in members for _ in range(m.copies.initial)]
        at_max = [Demand(m.name, *_vector(reserved[m.name])) for m in members for _ in range(m.copies.max)]
        packing, max_packing = pack(items, capacity(instance)), pack(at_max, capacity(instance))
        assert packing is not None and max_packing is not None  # every reservation fits its own instance type
        initial = max(packing.count, pool.min_instances, 1)
        if pool.max_instances is not None and max_packing.count > pool.max_instances:
            considered.append(f"{instance.name}: max copies need {max_packing.count} instances, above max_instances "
                              f"{pool.max_instances}")
            continue
        cost = initial * instance.hourly_usd
        considered.append(f"{instance.name}: {initial} x ${instance.hourly_usd:.2f} = ${cost:.2f}/h")
        rank = (round(cost, 6), initial, instance.hourly_usd, instance.name)
        if best is None or rank < best[0]:
            best = (rank, instance, reserved, packing, max_packing, initial)
    if best is None:
        for m in members:
            if len(unfit[m.name]) == len(instances):
                raise PoolRefusal(m.name, "model", m.request.model,
                                  f"fits no instance type of endpoint {name}: " + " | ".join(unfit[m.name]),
                                  "Allow larger instance families for the pool, shorten max_input_tokens / "
                                  "max_output_tokens, or give the model its own endpoint")
        raise PoolRefusal(None, f"endpoints[{name}]", name,
                          "no single instance type holds every model of the pool: " + "; ".join(considered),
                          "Split the pool, or allow more instance families")
    _, instance, reserved, packing, max_packing, initial = best
    components = []
    for m in members:
        plan, reservation, why = reserved[m.name]
        hosts = [i + 1 for i, b in enumerate(packing.bins) if m.name in b]
        where = f"; copies on instance {', '.join(map(str, hosts))} of {packing.count}" if hosts else ""
        components.append(Component(f"{name}-{m.name}", m.name, plan, reservation, m.copies, m.adapters,
                                    separate[m.name], why + where))
    result = PoolPlan(name, pool, instance, tuple(components), packing, max_packing, initial,
                      pool.max_instances or max(max_packing.count, initial), tuple(considered),
                      price_as_of or load_catalog().price_as_of)
    if result.hourly_usd > result.separate_hourly_usd + 1e-9:
        each = ", ".join(f"{c.deployment} ${c.standalone.hourly_usd:.2f}/h on {c.standalone.instance_type}"
                         for c in components)
        raise PoolRefusal(None, f"endpoints[{name}]", name,
                          f"the cheapest packing ({initial} x {instance.name}, ${result.hourly_usd:.2f}/h) costs more "
                          f"than one endpoint per model (${result.separate_hourly_usd:.2f}/h: {each}); one endpoint "
                          "has one instance type, and these models are cheapest on different ones",
                          "Give the model that needs the larger instance its own endpoint, or pin the pool's "
                          "instance_type if sharing is worth the difference")
    return result


def _vector(found: tuple[Plan, Reservation, str] | str) -> tuple[int, int, float]:
    assert not isinstance(found, str)
    r = found[1]
    return (r.accelerators, r.memory_mb, r.cpu_cores)

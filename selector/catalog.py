"""Typed, cached views of the reviewable data files in selector/data/.

Rules compare against these objects, never against literals, so a fact changes in one data file.
Loading is cached per process: `plan`, `resolve()` and a 50-stack synth read each file once.
"""
from __future__ import annotations

import importlib.resources
import json
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from selector.versions import in_range, version_key

# Package data (selector/data/*.json), found through importlib so an installed wheel reads its own copy; a Path,
# as files() gives for every installed (unzipped) package, so tools and tests can list the folder.
DATA_DIR = Path(str(importlib.resources.files("selector") / "data"))
GIB = 1024**3
ALL_FAMILIES = "all"  # families: all opts into every family in the catalog


def read_data(name: str) -> dict[str, Any]:
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Instance:
    """One SageMaker instance type; a 'device' is a GPU, or a NeuronCore on Inf2 (LMI's TP unit)."""

    name: str
    family: str
    accelerator: str
    accelerator_kind: str  # "nvidia" | "neuron"
    accelerators: int
    accelerator_memory_gib: float
    compute_capability: float | None
    neuron_cores: int
    vcpu: int
    host_memory_gib: float
    local_nvme: bool
    hourly_usd: float
    price_confirmed: bool  # False: a third-party or unlisted price (plans and `catalog instances` say so)
    price_as_of: str

    @property
    def devices(self) -> int:
        return self.neuron_cores if self.accelerator_kind == "neuron" else self.accelerators


@dataclass(frozen=True)
class ContainerRange:
    framework: str
    min_version: str | None
    max_version: str | None


@dataclass(frozen=True)
class QuantizeOption:
    """The serving.properties key and value that select a method from container version `since` on."""

    since: str
    key: str  # option.quantize, or option.quant_algo on TensorRT-LLM's LLM-API path (0.33.0+)
    value: str


@dataclass(frozen=True)
class RuntimeQuantization:
    method: str
    options: tuple[QuantizeOption, ...]  # oldest first; the container's spelling changes between versions
    since: str
    architectures: frozenset[str] | None  # None: every architecture the backend runs
    excluded_architectures: frozenset[str]
    min_compute_capability: float | None
    loads_full_precision: bool  # the 16-bit weights are loaded onto the devices before quantizing
    serving_dtype: str | None = None  # the dtype the container requires with this method (None: the checkpoint's)
    calibration: str | None = None  # "all_devices": calibrating holds the whole 16-bit model over every GPU

    def option_at(self, version: str) -> QuantizeOption | None:
        """The key and value this container version reads for the method (None before it exists)."""
        found = [o for o in self.options if version_key(version) >= version_key(o.since)]
        return found[-1] if found else None


@dataclass(frozen=True)
class Backend:
    name: str
    display_name: str
    accelerator_kind: str
    compiled: bool
    status: str  # "current" | "deprecated"
    rolling_batch: str
    containers: tuple[ContainerRange, ...]
    architectures: dict[str, str]  # HF class name -> first container version that runs it
    architectures_removed: dict[str, str]  # HF class name -> first container version that no longer runs it
    inherits_architectures: str | None
    inherits_architectures_until: str | None  # the parent's entries dated after this do not apply
    pads_attention_heads: bool  # TP need not divide the heads (NeuronX pads them)
    tp_degrees: tuple[int, ...]  # the tensor-parallel degrees the backend shards across
    runtime_quantization: dict[str, RuntimeQuantization]
    prequantized: dict[str, str]  # method -> first container version that loads such checkpoints
    deprecation: str | None

    @property
    def deprecated(self) -> bool:
        return self.status != "current"


@dataclass(frozen=True)
class QuantizationMethod:
    name: str
    weight_bits: int | None
    group_size: int | None
    group_overhead_bytes: float


@dataclass(frozen=True)
class ImageVersion:
    framework: str
    version: str
    tag: str
    regions: frozenset[str]


@dataclass(frozen=True)
class Images:
    repository: str
    registries: dict[str, str]
    domains: dict[str, str]
    versions: dict[str, dict[str, ImageVersion]]  # framework -> version -> image
    as_of: str
    source: str

    def in_range(self, container: ContainerRange) -> list[ImageVersion]:
        """Published versions of a framework within a backend's range, newest first."""
        found = [
            image
            for version, image in self.versions.get(container.framework, {}).items()
            if in_range(version, container.min_version, container.max_version)
        ]
        return sorted(found, key=lambda image: version_key(image.version), reverse=True)

    def registry_host(self, region: str) -> str:
        return f"{self.registries[region]}.dkr.ecr.{region}.{self.domains[region]}"

    def uri(self, image: ImageVersion, region: str) -> str:
        return f"{self.registry_host(region)}/{self.repository}:{image.tag}"


@dataclass(frozen=True)
class Catalog:
    backends: dict[str, Backend]
    instances: dict[str, Instance]
    methods: dict[str, QuantizationMethod]
    traffic_order: dict[str, tuple[str, ...]]
    images: Images
    runtime: dict[str, Any]
    price_as_of: str
    price_region: str
    default_families: tuple[str, ...] = ()

    @property
    def families(self) -> tuple[str, ...]:
        return tuple(sorted({i.family for i in self.instances.values()}))

    def requested_families(self, families: tuple[str, ...]) -> tuple[str, ...]:
        """The families a request plans on: its list, every family for `all`, else the seed's default ones
        (issue 13: newer families are an explicit opt-in)."""
        if ALL_FAMILIES in families:
            return self.families
        return families or self.default_families

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted(self.images.registries))


def _from_data(cls: type, name: str, raw: dict[str, Any]) -> Any:
    """A catalog dataclass from its JSON entry: the fields it declares, nothing else (sources stay in data)."""
    return cls(name=name, **{f.name: raw[f.name] for f in fields(cls) if f.name != "name"})


def _backend(name: str, raw: dict[str, Any]) -> Backend:
    return Backend(
        name=name,
        display_name=raw["display_name"],
        accelerator_kind=raw["accelerator_kind"],
        compiled=raw["compiled"],
        status=raw["status"],
        rolling_batch=raw["rolling_batch"],
        containers=tuple(ContainerRange(**c) for c in raw["containers"]),
        architectures=dict(raw["architectures"]),
        architectures_removed=dict(raw["architectures_removed"]),
        inherits_architectures=raw["inherits_architectures"],
        inherits_architectures_until=raw["inherits_architectures_until"],
        pads_attention_heads=raw["pads_attention_heads"],
        tp_degrees=tuple(raw["tp_degrees"]),
        runtime_quantization={
            method: RuntimeQuantization(
                method=method,
                options=tuple(
                    QuantizeOption(o["since"], o["key"], o["value"])
                    for o in sorted(q["options"], key=lambda o: version_key(o["since"]))
                ),
                since=q["since"],
                architectures=frozenset(q["architectures"]) if q["architectures"] else None,
                excluded_architectures=frozenset(q["excluded_architectures"]),
                min_compute_capability=q["min_compute_capability"],
                loads_full_precision=q["loads_full_precision"],
                serving_dtype=q["serving_dtype"],
                calibration=(q["calibration"] or {}).get("placement"),
            )
            for method, q in raw["runtime_quantization"].items()
        },
        prequantized={method: q["since"] for method, q in raw["prequantized"].items()},
        deprecation=raw["deprecation"],
    )


def _images(raw: dict[str, Any]) -> Images:
    versions = {
        framework: {
            version: ImageVersion(framework, version, entry["tag"], frozenset(entry["regions"]))
            for version, entry in body["versions"].items()
        }
        for framework, body in raw["frameworks"].items()
    }
    return Images(
        repository=raw["repository"],
        registries=dict(raw["registries"]),
        domains=dict(raw["domains"]),
        versions=versions,
        as_of=raw["as_of"],
        source=raw["source"],
    )


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    backends_raw = read_data("backends.json")
    instances_doc = read_data("instances.json")
    instances_raw = instances_doc["instances"]
    return Catalog(
        backends={name: _backend(name, raw) for name, raw in backends_raw["backends"].items()},
        instances={
            name: _from_data(Instance, name, r)
            for name, r in instances_raw.items()
        },
        methods={
            name: QuantizationMethod(name, m["weight_bits"], m["group_size"], m["group_overhead_bytes"])
            for name, m in backends_raw["quantization_methods"].items()
        },
        traffic_order={k: tuple(v) for k, v in backends_raw["traffic_order"].items() if k != "source"},
        images=_images(read_data("images.json")),
        runtime=read_data("runtime.json"),
        price_as_of=instances_doc["price_as_of"],
        price_region=instances_doc["price_region"],
        default_families=tuple(instances_doc["default_families"]),
    )


def supports_architecture(catalog: Catalog, backend: Backend, architecture: str, version: str) -> bool:
    """Whether the backend's container at `version` runs this HF architecture class."""
    removed = backend.architectures_removed.get(architecture)
    if removed is not None and version_key(version) >= version_key(removed):
        return False
    since = backend.architectures.get(architecture)
    if since is not None and version_key(version) >= version_key(since):
        return True
    if backend.inherits_architectures:
        parent = catalog.backends[backend.inherits_architectures]
        since = parent.architectures.get(architecture)
        until = backend.inherits_architectures_until
        if since is not None and until is not None and version_key(since) > version_key(until):
            return False  # e.g. lmi-dist 0.32.0 bundles vLLM 0.6.3, not the vLLM of that djl-lmi release
        return supports_architecture(catalog, parent, architecture, version)
    return False


def supported_architectures(catalog: Catalog, backend: Backend, version: str) -> list[str]:
    names = set(backend.architectures)
    if backend.inherits_architectures:
        names |= set(catalog.backends[backend.inherits_architectures].architectures)
    return sorted(a for a in names if supports_architecture(catalog, backend, a, version))

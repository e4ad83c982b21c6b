"""The resolved plan: everything synthesis needs, and every number a reviewer needs to redo the choice."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Plan:
    model_id: str
    revision: str | None
    architecture: str
    params: int
    traffic: str
    prefer: str
    backend: str
    backend_display: str
    deprecated_backend: bool
    compiled_backend: bool
    container_framework: str
    container_version: str
    image_tag: str
    image_uri: str
    region: str
    quantization: str
    quantization_kind: str  # none | runtime | prequantized
    instance_type: str
    accelerator: str
    accelerator_kind: str
    devices: int
    local_nvme: bool
    tensor_parallel_degree: int
    replicas: int
    max_model_len: int
    max_input_tokens: int
    max_output_tokens: int
    max_batch_size: int
    min_concurrency: int
    checkpoint_bytes: int
    model_loading_timeout_s: int
    memory: dict[str, int]
    hourly_usd: float
    price_as_of: str
    serving_properties: dict[str, str]
    serving_properties_text: str
    rationale: tuple[str, ...]
    rejected: tuple[dict[str, str], ...]
    warnings: tuple[str, ...]
    alternatives: tuple[dict[str, Any], ...] = field(default=())
    performance: dict[str, Any] | None = None  # estimated tokens/s, TTFT, TPOT, $/1M tokens (selector/performance.py)

    @property
    def conformance(self) -> dict[str, Any]:
        """Whether the rendered keys and values were checked against this container version's own source
        (selector/data/container_options.json), which source, and what is not verified."""
        from selector.conformance import conformance

        return conformance(self.backend, self.container_version).to_json()

    @property
    def summary(self) -> str:
        """One line for stack descriptions, outputs and tables."""
        return (
            f"{self.model_id} on {self.backend} ({self.image_tag}), {self.quantization} quantization, "
            f"{self.instance_type} TP {self.tensor_parallel_degree}, ${self.hourly_usd:.2f}/h"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "revision": self.revision,
            "architecture": self.architecture,
            "params": self.params,
            "traffic": self.traffic,
            "prefer": self.prefer,
            "backend": self.backend,
            "quantization": self.quantization,
            "quantization_kind": self.quantization_kind,
            "instance_type": self.instance_type,
            "tensor_parallel_degree": self.tensor_parallel_degree,
            "replicas": self.replicas,
            "image_uri": self.image_uri,
            "image_tag": self.image_tag,
            "container_framework": self.container_framework,
            "container_version": self.container_version,
            "region": self.region,
            "max_model_len": self.max_model_len,
            "max_input_tokens": self.max_input_tokens,
            "max_output_tokens": self.max_output_tokens,
            "max_batch_size": self.max_batch_size,
            "min_concurrency": self.min_concurrency,
            "memory": dict(self.memory, checkpoint_bytes=self.checkpoint_bytes),
            "model_loading_timeout_s": self.model_loading_timeout_s,
            "cost": {
                "hourly_usd": self.hourly_usd,
                "monthly_usd": round(self.hourly_usd * HOURS_PER_MONTH, 2),
                "hours_per_month": HOURS_PER_MONTH,
                "price_as_of": self.price_as_of,
            },
            "serving_properties": dict(self.serving_properties),
            "rationale": list(self.rationale),
            "rejected": list(self.rejected),
            "warnings": list(self.warnings),
            "conformance": self.conformance,
            "alternatives": list(self.alternatives),
            "performance": self.performance,
        }

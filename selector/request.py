"""What a user asks for. Defaults follow issue 2: uneven traffic, balanced preference, all families."""
from __future__ import annotations

from dataclasses import dataclass, field

TRAFFIC = ("uneven", "even")
PREFERENCES = ("balanced", "cost")
QUANTIZATION_CHOICES = ("auto", "none", "awq", "gptq", "smoothquant", "int8", "fp8")
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Load:
    """Steady traffic one endpoint must serve (issue 15): it sets the instance count and $/1M tokens."""

    requests_per_minute: float
    mean_input_tokens: int
    mean_output_tokens: int


@dataclass(frozen=True)
class Slo:
    """Latency targets a plan must meet by its estimate; None: no target for that figure."""

    time_to_first_token_ms: float | None = None
    time_per_output_token_ms: float | None = None


@dataclass(frozen=True)
class Request:
    model: str
    model_config: str | None = None
    revision: str | None = None
    traffic: str = "uneven"
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    min_concurrency: int | None = None
    quantization: str | None = None  # None: "none" when balanced, "auto" when cost
    prefer: str = "balanced"
    families: tuple[str, ...] = ()
    backend: str | None = None
    instance_type: str | None = None
    tensor_parallel_degree: int | None = None
    container_version: str | None = None
    region: str = DEFAULT_REGION
    options: dict[str, str] = field(default_factory=dict)
    load: Load | None = None  # None: no load given; plans show estimates at their planned batch
    slo: Slo | None = None  # None: no latency target; no candidate is rejected for speed

    @property
    def quantization_policy(self) -> str:
        if self.quantization is not None:
            return self.quantization
        return "auto" if self.prefer == "cost" else "none"

    def pins(self) -> dict[str, object]:
        """The explicit pins, in the order errors name them."""
        pinned = {
            "backend": self.backend,
            "container_version": self.container_version,
            "instance_type": self.instance_type,
            "tensor_parallel_degree": self.tensor_parallel_degree,
        }
        if self.quantization not in (None, "auto"):
            pinned["quantization"] = self.quantization
        return {k: v for k, v in pinned.items() if v is not None}

"""How a plan's options reach the container: serving.properties keys <-> environment variables.

LMI reads `option.<name>` as OPTION_<NAME> and other keys as SERVING_<NAME>, except `engine`, which the
current containers take as OPTION_ENGINE (lmi-facts 4.1). Same plan -> same options either way.
"""
from __future__ import annotations

from selector.catalog import load_catalog
from selector.plan import Plan
from selector.sizing import clamp

OPTION_PREFIX = "option."


def environment_name(key: str) -> str:
    if key.startswith(OPTION_PREFIX):
        return "OPTION_" + key[len(OPTION_PREFIX):].upper()
    if key == "engine":
        return "OPTION_ENGINE"
    return "SERVING_" + key.upper()


def to_environment(options: dict[str, str]) -> dict[str, str]:
    return {environment_name(key): value for key, value in sorted(options.items())}


def download_timeout_s(plan: Plan) -> int:
    """ModelDataDownloadTimeoutInSeconds: a base plus the checkpoint at a conservative throughput."""
    rt = load_catalog().runtime
    seconds = rt["startup_base_s"] + plan.checkpoint_bytes / rt["download_bytes_per_s"]
    return clamp(seconds, rt["endpoint_timeout_min_s"], rt["endpoint_timeout_max_s"])


def startup_timeout_s(plan: Plan) -> int:
    """ContainerStartupHealthCheckTimeoutInSeconds: the plan's option.model_loading_timeout (>= 1800 s)."""
    return plan.model_loading_timeout_s


def volume_size_gb(plan: Plan) -> int | None:
    """EBS volume only where the instance has no local NVMe (Inf2); G5/P4 reject VolumeSizeInGB."""
    if plan.local_nvme:
        return None
    rt = load_catalog().runtime
    size = plan.checkpoint_bytes / 1e9 * rt["neuron_volume_factor"] + rt["neuron_volume_base_gb"]
    return clamp(size, 1, rt["volume_max_gb"])

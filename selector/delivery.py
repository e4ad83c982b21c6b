"""How a plan's options reach the container: serving.properties keys <-> environment variables.

LMI turns OPTION_<NAME> into `option.<name>` (ModelInfo.java), and from 0.27.0 OPTION_ENGINE into `engine`
(djl-serving #1676); before 0.27.0 no variable sets `engine`, so a plan that needs one cannot travel as
environment there (selector/data/container_options.json "environment", checked by tests/test_conformance.py).
Same plan -> same options either way.
"""
from __future__ import annotations

from selector.catalog import load_catalog
from selector.conformance import engine_variable
from selector.errors import SelectorError
from selector.plan import Plan
from selector.sizing import clamp

OPTION_PREFIX = "option."


# The only server-level keys ModelInfo.java takes from the environment (SERVING_MIN_WORKERS / SERVING_MAX_WORKERS,
# deepjavalibrary/djl-serving master wlm/src/main/java/ai/djl/serving/wlm/ModelInfo.java @ d21927c4): the other
# serving.properties keys outside option.* (job_queue_size, batch_size, max_batch_delay) have no variable.
SERVER_VARIABLES = {"minWorkers": "SERVING_MIN_WORKERS", "maxWorkers": "SERVING_MAX_WORKERS"}


def environment_name(key: str) -> str:
    if key.startswith(OPTION_PREFIX):
        return "OPTION_" + key[len(OPTION_PREFIX):].upper()
    if key == "engine":
        return "OPTION_ENGINE"
    return SERVER_VARIABLES.get(key, "SERVING_" + key.upper())


def to_environment(options: dict[str, str]) -> dict[str, str]:
    return {environment_name(key): value for key, value in sorted(options.items())}


def environment_delivery_error(plan: Plan, field: str = "delivery") -> SelectorError | None:
    """Why this plan cannot be delivered as environment variables, or None when it can.

    Below 0.27.0 OPTION_ENGINE lands as `option.engine`, which nothing reads, and the container infers the
    engine itself (e.g. Python for a Llama on the DeepSpeed image, where the plan needs MPI)."""
    limit = environment_value_limit()
    for key, value in sorted(plan.serving_properties.items()):
        if len(value) > limit:
            return SelectorError(field, "environment", f"{key} is {len(value)} characters; SageMaker accepts at most "
                                 f"{limit} per environment variable", "Use delivery: tarball (a serving.properties file)")
    if "engine" not in plan.serving_properties or engine_variable(plan.container_version):
        return None
    return SelectorError(
        field, "environment",
        f"{plan.backend_display} {plan.container_version} reads no environment variable for engine="
        f"{plan.serving_properties['engine']} (OPTION_ENGINE sets engine from container 0.27.0 on)",
        "Use delivery: tarball (a serving.properties file), or pin container_version 0.27.0 or newer",
    )


def environment_value_limit() -> int:
    """SageMaker's per-value limit of a container environment variable (selector/data/aws_limits.json)."""
    from selector.aws_names import limits

    return int(limits()["environment"]["value_max_chars"])


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

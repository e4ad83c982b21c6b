"""serving.properties from a plan's option values, through the backend's Jinja2 template.

Templates know which keys a container version understands; they never decide values. Output is sorted by
key under a comment header, so the same plan always gives the same bytes.
"""
from __future__ import annotations

import importlib.resources
from functools import lru_cache
from typing import Any

import jinja2

from selector.errors import SelectorError
from selector.versions import at_least

# The `templates` package's own files (package data in a wheel, the folder in a checkout), via importlib.
TEMPLATE_DIR = importlib.resources.files("templates")
# Keys the plan decides in some backend or container version. A pass-through option may not set them even
# where the chosen template leaves them out (e.g. option.rolling_batch on vLLM >= 0.35.0): that would change
# memory or batching behind the plan's back. tests/test_render.py checks every template key is listed.
PLAN_KEYS = frozenset({
    "engine", "option.mpi_mode", "option.entryPoint", "option.model_id", "option.revision", "option.rolling_batch",
    "option.tensor_parallel_degree", "option.dtype", "option.max_model_len", "option.max_rolling_batch_size",
    "option.gpu_memory_utilization", "option.model_loading_timeout", "option.quantize", "option.max_input_len",
    "option.max_output_len", "option.max_num_tokens", "option.max_tokens", "option.n_positions",
    "option.batch_scheduler_policy", "option.max_seq_len", "option.quant_algo",
})
DEFAULT_QUANTIZE_KEY = "option.quantize"
# What a user changes instead of overriding a key the plan sets (the request field that drives it).
DRIVERS = {
    "option.dtype": "the checkpoint's dtype decides it (float16 checkpoints serve in fp16, others in bf16); set "
                    "quantization for a smaller format",
    "option.quantize": "set quantization", "option.quant_algo": "set quantization",
    "option.tensor_parallel_degree": "set tensor_parallel_degree",
    "option.model_id": "set model", "option.revision": "set revision",
    "engine": "set backend", "option.rolling_batch": "set backend", "option.entryPoint": "set backend",
    "option.mpi_mode": "set backend",
    "option.max_rolling_batch_size": "set min_concurrency (the batch follows the memory left for the KV cache)",
    "option.max_num_tokens": "set max_input_tokens / min_concurrency",
    "option.gpu_memory_utilization": "the memory model fixes it (selector/data/runtime.json)",
    "option.model_loading_timeout": "the planner sizes it from the checkpoint (selector/data/runtime.json)",
    "option.batch_scheduler_policy": "the TensorRT-LLM template fixes it (templates/tensorrtllm.properties.j2)",
}
LENGTH_DRIVER = "set max_input_tokens / max_output_tokens"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """One template environment per process: a 50-stack synth compiles each template once."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("templates", "."),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def parse_properties(text: str) -> dict[str, str]:
    """key=value lines of a rendered template (comments and blank lines skipped); duplicates are bugs."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep:
            raise ValueError(f"template produced a line without '=': {line!r}")
        if key in result:
            raise ValueError(f"template produced {key} twice")
        result[key] = value
    return result


def render_options(backend: str, values: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    """The backend template's keys with the plan's values, plus the user's pass-through options."""
    template = environment().get_template(f"{backend}.properties.j2")
    version = values["container_version"]
    values = {"quantize_key": DEFAULT_QUANTIZE_KEY, **values}  # the key is version-ranged data (backends.json)
    rendered = template.render(**values, at_least=lambda since: at_least(version, since))
    options = parse_properties(rendered)
    # Keys compare without case: OPTION_* environment variables name them upper-case and reach the container
    # lower-cased, so option.TENSOR_PARALLEL_DEGREE would override the plan's TP in one delivery mode and not the other.
    planned = {key.lower() for key in (*options, *PLAN_KEYS)}
    seen: dict[str, str] = {}
    planned_values = {key.lower(): value.lower() for key, value in options.items()}
    for key, value in sorted(extra.items()):
        if planned_values.get(key.lower()) == str(value).lower():
            continue  # the plan sets the same value (e.g. option.trust_remote_code=true for a model that needs it)
        if key.lower() in planned:
            driver = next((d for k, d in DRIVERS.items() if k.lower() == key.lower()), LENGTH_DRIVER)
            raise SelectorError(
                f"options.{key}", value,
                "the plan already sets this key from the request (keys compare without case)",
                f"Instead: {driver}",
            )
        if key.lower() in seen:
            raise SelectorError(f"options.{key}", value, f"differs from options.{seen[key.lower()]} only in case; "
                                "as an environment variable both are the same OPTION_* name", "Keep one of them")
        seen[key.lower()] = key
        options[key] = str(value)
    return dict(sorted(options.items()))


def render_file(options: dict[str, str], header_values: dict[str, Any]) -> str:
    """The serving.properties file text: header comment, then sorted key=value lines."""
    header = environment().get_template("_header.j2").render(**header_values)
    body = "".join(f"{key}={value}\n" for key, value in sorted(options.items()))
    return header + body

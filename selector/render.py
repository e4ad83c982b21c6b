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
    # vLLM's own names for what the plan sets: LMI's vLLM properties hand unknown option.* keys to vLLM's engine
    # arguments after its own (generate_vllm_engine_arg_dict: `model` would replace the model id), and refuse
    # tensor_parallel_size / pipeline_parallel_size / max_num_seqs next to the DJL keys the plan always writes
    # (handle_lmi_vllm_config_conflicts), and any pipeline_parallel_degree but 1 (validate_pipeline_parallel):
    # deepjavalibrary/djl-serving master engines/python/setup/djl_python/properties_manager/vllm_rb_properties.py
    # @ d21927c4. The memory model shards by tensor parallelism only, so pipeline parallelism is the plan's too.
    "option.model", "option.tensor_parallel_size", "option.pipeline_parallel_size", "option.max_num_seqs",
    "option.pipeline_parallel_degree", "option.data_parallel_size", "option.data_parallel_size_local",
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
    "option.model": "set model", "option.tensor_parallel_size": "set tensor_parallel_degree",
    "option.pipeline_parallel_size": "leave it out: the plan shards by tensor parallelism only",
    "option.pipeline_parallel_degree": "leave it out: the plan shards by tensor parallelism only",
    "option.data_parallel_size": "leave it out: model copies follow the devices left over by TP (the plan sizes them)",
    "option.data_parallel_size_local": "leave it out: model copies follow the devices left over by TP (the plan sizes "
                                       "them)",
    "option.max_num_seqs": "set min_concurrency (the batch follows the memory left for the KV cache)",
    "option.trust_remote_code": "the catalog sets it for models whose publishers deploy them with it "
                                "(selector/data/models.json); serve another checkpoint to leave it out",
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
    read_as = _field_names(backend, version)
    seen: dict[str, str] = {}
    planned_values = {key.lower(): value.lower() for key, value in options.items()}
    for key, value in sorted(extra.items()):
        if planned_values.get(key.lower()) == str(value).lower():
            continue  # the plan sets the same value (e.g. option.trust_remote_code=true for a model that needs it)
        field = read_as.get(key.lower())
        if field and field != key.lower() and field in planned:
            raise SelectorError(
                f"options.{key}", value,
                f"the container reads it as {field} (an alias of the same setting), which the plan sets from the request",
                f"Instead: {_driver(field)}",
            )
        if key.lower() in planned:
            raise SelectorError(
                f"options.{key}", value,
                "the plan already sets this key from the request (keys compare without case)",
                f"Instead: {_driver(key)}",
            )
        if key.lower() in seen:
            raise SelectorError(f"options.{key}", value, f"differs from options.{seen[key.lower()]} only in case; "
                                "as an environment variable both are the same OPTION_* name", "Keep one of them")
        seen[key.lower()] = key
        options[key] = str(value)
    return dict(sorted(options.items()))


def _driver(key: str) -> str:
    return next((d for k, d in DRIVERS.items() if k.lower() == key.lower()), LENGTH_DRIVER)


def _field_names(backend: str, version: str) -> dict[str, str]:
    """option key -> option.<field> of the pydantic field that reads it, for keys that are aliases
    (Field(alias=...), e.g. vLLM's option.quantization for option.quantize); from container_options.json."""
    from selector.conformance import facts

    found = facts(backend, version)
    if found is None:
        return {}
    out = {}
    for key, fact in found.keys.items():
        for typed in fact.types:
            field = typed.declared.split(":", 1)[0].strip()
            if field.isidentifier() and key.startswith("option."):
                out[key.lower()] = f"option.{field}".lower()
    return out


def render_file(options: dict[str, str], header_values: dict[str, Any]) -> str:
    """The serving.properties file text: header comment, then sorted key=value lines."""
    header = environment().get_template("_header.j2").render(**header_values)
    body = "".join(f"{key}={value}\n" for key, value in sorted(options.items()))
    return header + body

"""Dev-only: rebuild selector/data/container_options.json from a local djl-serving git mirror.

Every fact below names the file of djl-serving that reads an option key (and, for enumerable keys, the
strings it accepts). Before a fact is written to the catalog this script opens that file at the release
branch each image was built from and checks that the key name and every value string really occur in it,
so a fact that no longer holds fails the build instead of landing in data. Nothing of djl-serving is copied:
only key names, value strings, paths and commit ids end up in the catalog.

Declared types: each backend builds pydantic properties classes from the option.* properties (CLASSES below). Their
fields (with those of their bases) are read with `ast`, never imported: the annotation in a small vocabulary (bool,
int, float, str, enum with its members, other; Optional as nullable), Field aliases as further names the container
reads, before-validators that rewrite a value first, the class's `extra` setting, and the pydantic generation of
the Properties base class. selector/option_types.py checks user option values against them.

    python -m scripts.build_container_options /path/to/djl-serving.git [--check]

--check compares with the committed catalog instead of writing it (used by tests when a mirror exists).
"""
from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from selector.versions import in_range, version_key

OUT = Path(__file__).resolve().parent.parent / "selector" / "data" / "container_options.json"
AS_OF = "2026-11-30"
REPO = "deepjavalibrary/djl-serving"
OPTION = "option."

# Image version (selector/data/images.json) -> the djl-serving branch it was built from. 0.36.0 is published
# as 0.36.0-lmi27.0.0 (branch 0.36.0-lmi27-dlc); 0.38.0 (lmi29) has no release branch yet: master stands for it.
BRANCHES = {
    "0.25.0": "0.25.0-dlc", "0.26.0": "0.26.0-dlc", "0.27.0": "0.27.0-dlc", "0.28.0": "0.28.0-dlc",
    "0.29.0": "0.29.0-dlc", "0.30.0": "0.30.0-dlc", "0.31.0": "0.31.0-dlc", "0.32.0": "0.32.0-dlc",
    "0.33.0": "0.33.0-dlc", "0.34.0": "0.34.0-dlc", "0.35.0": "0.35.0-dlc", "0.36.0": "0.36.0-lmi27-dlc",
    "0.38.0": "master",
}
# The versions of each backend's image that selector/data/images.json publishes within backends.json's range.
VERSIONS = {
    "deepspeed": ["0.25.0", "0.26.0", "0.27.0"],
    "neuronx": ["0.25.0", "0.26.0", "0.27.0", "0.28.0", "0.29.0"],
    "tensorrtllm": ["0.25.0", "0.26.0", "0.27.0", "0.28.0", "0.29.0", "0.30.0", "0.32.0", "0.33.0"],
    "lmi-dist": ["0.25.0", "0.26.0", "0.27.0", "0.28.0", "0.29.0", "0.30.0", "0.31.0", "0.32.0"],
    "vllm": ["0.28.0", "0.29.0", "0.30.0", "0.31.0", "0.32.0", "0.33.0", "0.34.0", "0.35.0", "0.36.0", "0.38.0"],
}

PM = "engines/python/setup/djl_python/properties_manager"
PY = "engines/python/setup/djl_python"
PYMODEL = "engines/python/src/main/java/ai/djl/python/engine/PyModel.java"
MODELINFO = "wlm/src/main/java/ai/djl/serving/wlm/ModelInfo.java"
MPI_PROVIDER = "engines/python/src/main/java/ai/djl/python/engine/MpiEngineProvider.java"
PY_PROVIDER = "engines/python/src/main/java/ai/djl/python/engine/PyEngineProvider.java"
TRT_PARTITION = "serving/docker/partition/trt_llm_partition.py"
TRT_DOCS = "serving/docs/lmi/user_guides/trt_llm_user_guide.md"
TRT_CONFIG_DOCS = "serving/docs/lmi/deployment_guide/configurations.md"
TRT_DOCKERFILE = "serving/docker/tensorrt-llm.Dockerfile"
TRTLLM_UTILS = ("NVIDIA/TensorRT-LLM tensorrt_llm/_utils.py @ v0.21.0 (_str_to_trt_dtype_dict: float16, bfloat16, "
                "float32; no fp16/bf16 spelling): https://github.com/NVIDIA/TensorRT-LLM/blob/v0.21.0/tensorrt_llm/_utils.py")
TRTLLM_QUANT = ("NVIDIA/TensorRT-LLM tensorrt_llm/quantization/mode.py @ v0.21.0 (QuantAlgo W4A16_AWQ, "
                "W8A8_SQ_PER_CHANNEL, FP8): https://github.com/NVIDIA/TensorRT-LLM/blob/v0.21.0/tensorrt_llm/quantization/mode.py")


@dataclass(frozen=True)
class Fact:
    """`key` is read at versions [since, until] by `path`, which contains every token and every value."""

    key: str
    path: str
    tokens: tuple[str, ...]
    values: tuple[str, ...] | None = None  # None: not enumerable here (an int, a path, or passed on as is)
    since: str | None = None
    until: str | None = None
    value_tokens: bool = True  # check each value string occurs in the file
    note: str | None = None
    external: str | None = None  # a second, non-djl source the fact relies on (e.g. TensorRT-LLM)
    type: str | None = None  # how `path` parses the value (bool, int, float, str) where no pydantic class declares it


@dataclass(frozen=True)
class Unverified:
    """A key the container passes to code we cannot read (the closed TensorRT-LLM toolkit wheel)."""

    key: str
    reason: str
    docs_path: str
    docs_token: str
    values: tuple[str, ...] | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class Constraint:
    when: dict[str, str]
    key: str
    rejects: tuple[str, ...]
    path: str
    token: str
    since: str | None = None
    until: str | None = None


@dataclass
class BackendFacts:
    facts: list[Fact]
    unverified: list[Unverified] = field(default_factory=list)
    constraints: list[Constraint] = field(default_factory=list)
    unverified_reason: dict[str, str] = field(default_factory=dict)  # version -> why not verified


def common(engine_values: tuple[str, ...]) -> list[Fact]:
    """Keys every LMI container reads: the Java front end and the Properties base class."""
    return [
        Fact("engine", MODELINFO, ('prop.getProperty("engine")',), engine_values, value_tokens=False,
             note="the engine name picks the Java engine provider (Python, MPI)", type="str"),
        Fact("option.model_id", f"{PM}/properties.py", ('properties.get(\n            "model_id")',), type="str"),
        Fact("option.revision", f"{PM}/properties.py", ("revision",)),
        Fact("option.trust_remote_code", f"{PM}/properties.py", ("trust_remote_code",)),
        Fact("option.tensor_parallel_degree", f"{PM}/properties.py", ("tensor_parallel_degree",)),
        Fact("option.max_rolling_batch_size", f"{PM}/properties.py", ("max_rolling_batch_size",)),
        Fact("option.model_loading_timeout", PYMODEL, ('case "model_loading_timeout":', "Integer.parseInt(value)"),
             type="int"),
    ]


ENGINE_CHECKS = [
    Fact("engine", MPI_PROVIDER, ('"MPI"',)),
    Fact("engine", PY_PROVIDER, ('"Python"',)),
]

BACKENDS: dict[str, BackendFacts] = {
    "deepspeed": BackendFacts(
        facts=common(("MPI", "Python")) + [
            Fact("option.entryPoint", PYMODEL, ('case "entryPoint":',), ("djl_python.deepspeed",), value_tokens=False,
                 note="module djl_python/deepspeed.py exists at the branch", type="str"),
            Fact("option.rolling_batch", f"{PM}/ds_properties.py", ("DS_SUPPORTED_ROLLING_BATCH_TYPES",),
                 ("auto", "deepspeed", "disable"), value_tokens=False),
            Fact("option.rolling_batch", f"{PM}/properties.py", ('"deepspeed"', '"auto"', '"disable"')),
            Fact("option.dtype", f"{PM}/ds_properties.py", ("get_torch_dtype_from_str",), ("fp32", "fp16", "bf16", "int8")),
            Fact("option.max_tokens", f"{PM}/ds_properties.py", ("max_tokens",)),
            Fact("option.quantize", f"{PM}/ds_properties.py", ("DsQuantizeMethods",), ("smoothquant", "dynamic_int8")),
        ],
        constraints=[Constraint({"option.quantize": "smoothquant"}, "option.dtype", ("bf16",),
                                f"{PM}/ds_properties.py", "dtype should not be bf16 while using smoothquant")],
    ),
    "neuronx": BackendFacts(
        facts=common(("Python",)) + [
            Fact("option.entryPoint", PYMODEL, ('case "entryPoint":',), ("djl_python.transformers_neuronx",),
                 value_tokens=False, note="module djl_python/transformers_neuronx.py exists at the branch", type="str"),
            Fact("option.rolling_batch", f"{PM}/tnx_properties.py", ("TNX_SUPPORTED_ROLLING_BATCH_TYPES = ['auto']",),
                 ("auto", "disable"), until="0.27.0", value_tokens=False),
            Fact("option.rolling_batch", f"{PM}/tnx_properties.py", ("TNX_SUPPORTED_ROLLING_BATCH_TYPES",
                                                                     "RollingBatchEnum.auto.value"),
                 ("auto", "disable", "vllm", "lmi-dist", "tnx"), since="0.28.0", value_tokens=False),
            Fact("option.dtype", f"{PM}/tnx_properties.py", ("class Dtype",), ("fp32", "fp16", "bf16")),
            Fact("option.n_positions", f"{PM}/tnx_properties.py", ("n_positions",)),
            Fact("option.quantize", f"{PM}/tnx_properties.py", ("TnXQuantizeMethods",), ("bitsandbytes8",),
                 until="0.25.0"),
            Fact("option.quantize", f"{PM}/tnx_properties.py", ("TnXQuantizeMethods",), ("static_int8",),
                 since="0.26.0"),
        ],
    ),
    "tensorrtllm": BackendFacts(
        facts=common(("MPI", "Python")) + [
            Fact("option.mpi_mode", PYMODEL, ('case "mpi_mode":', "Boolean.parseBoolean(value)"), ("true",),
                 value_tokens=False, type="bool"),
            Fact("option.rolling_batch", f"{PM}/trt_properties.py", ("TRT_SUPPORTED_ROLLING_BATCH_TYPES",),
                 ("auto", "trtllm"), until="0.26.0", value_tokens=False),
            Fact("option.rolling_batch", f"{PM}/trt_properties.py", ("TRT_SUPPORTED_ROLLING_BATCH_TYPES",
                                                                     "RollingBatchEnum.disable.value"),
                 ("auto", "trtllm", "disable"), since="0.27.0", until="0.32.0", value_tokens=False),
            Fact("option.rolling_batch", f"{PM}/properties.py", ('trtllm = "trtllm"',), ("auto", "trtllm", "disable"),
                 since="0.33.0", value_tokens=False),
            # 0.33.0: TensorRT-LLM 0.21 through its LLM API; the JIT compile is djl's own trt_llm_partition.py.
            Fact("option.dtype", TRT_PARTITION, ('llm_kwargs["dtype"] = properties.pop("dtype")',),
                 ("auto", "float16", "bfloat16", "float32"), since="0.33.0", value_tokens=False,
                 external=TRTLLM_UTILS, type="str",
                 note="passed unchanged to tensorrt_llm.LLM(dtype=...), which knows TensorRT-LLM's own spellings"),
            Fact("option.dtype", f"{PM}/trt_properties.py", ("dtype: str = 'auto'",), since="0.33.0"),
            Fact("option.max_input_len", TRT_PARTITION, ("'max_input_len': args.max_input_len",), since="0.33.0"),
            Fact("option.max_seq_len", TRT_PARTITION, ("'max_seq_len': args.max_seq_len",), since="0.33.0",
                 note="the engine's whole-sequence limit (input + output)"),
            Fact("option.max_num_tokens", TRT_PARTITION, ("'max_num_tokens': args.max_num_tokens",), since="0.33.0"),
            Fact("option.max_rolling_batch_size", TRT_PARTITION,
                 ('properties["max_batch_size"] = properties["max_rolling_batch_size"]',), since="0.33.0"),
            Fact("option.quant_algo", TRT_PARTITION, ('QuantAlgo(\n            properties.pop("quant_algo").upper())',),
                 ("W4A16_AWQ", "W8A8_SQ_PER_CHANNEL", "FP8"), since="0.33.0", value_tokens=False,
                 external=TRTLLM_QUANT, type="str",
                 note="calibrated by TensorRT-LLM's ModelOpt path, which loads the whole 16-bit model with "
                      "device_map='auto' across the instance's GPUs"),
        ],
        unverified=[
            Unverified(k, "read by tensorrt_llm_toolkit.create_model_repo, a closed wheel "
                          "(publish.djl.ai/tensorrt-llm/toolkit) whose source is not public",
                       TRT_CONFIG_DOCS if k == "option.dtype" else TRT_DOCS, docs_token, values, since=since,
                       until="0.32.0")
            for k, docs_token, values, since in (
                ("option.dtype", "option.dtype", ("fp16", "bf16", "fp32"), "0.27.0"),
                ("option.max_input_len", "option.max_input_len", None, "0.27.0"),
                ("option.max_output_len", "option.max_output_len", None, "0.27.0"),
                ("option.max_num_tokens", "option.max_num_tokens", None, "0.27.0"),
                ("option.quantize", "option.quantize", ("awq", "smoothquant", "fp8"), "0.27.0"),
                ("option.batch_scheduler_policy", "option.batch_scheduler_policy",
                 ("max_utilization", "guaranteed_no_evict"), "0.27.0"),
            )
        ] + [
            # No TensorRT-LLM user guide in the 0.25.0/0.26.0 branches: the 0.27.0 guide says ">= 0.25.0" for
            # these keys (">= 0.26.0" for option.quantize).
            Unverified(k, "read by tensorrt_llm_toolkit.create_model_repo, a closed wheel whose source is not "
                          "public; documented from 0.25.0 in the 0.27.0-dlc user guide",
                       TRT_DOCKERFILE, "tensorrt_llm_toolkit", values, until="0.26.0")
            for k, values in (
                ("option.dtype", ("fp16", "bf16", "fp32")),
                ("option.max_input_len", None),
                ("option.max_output_len", None),
                ("option.max_num_tokens", None),
                ("option.quantize", ("awq", "smoothquant")),
                ("option.batch_scheduler_policy", ("max_utilization", "guaranteed_no_evict")),
            )
        ],
        unverified_reason={v: "TensorRT-LLM <= 0.32.0 compiles through tensorrt_llm_toolkit, a closed wheel; the "
                              "compile-time keys are checked against djl's user guide, not source"
                           for v in ("0.25.0", "0.26.0", "0.27.0", "0.28.0", "0.29.0", "0.30.0", "0.32.0")},
    ),
    "lmi-dist": BackendFacts(
        facts=common(("MPI", "Python")) + [
            Fact("option.mpi_mode", f"{PM}/lmi_dist_rb_properties.py", ("if not self.mpi_mode",), ("true",),
                 value_tokens=False, since="0.28.0", note="lmi-dist refuses to start without MPI mode"),
            Fact("option.mpi_mode", PYMODEL, ('case "mpi_mode":', "Boolean.parseBoolean(value)"), since="0.28.0",
                 type="bool"),
            Fact("option.rolling_batch", f"{PM}/properties.py", ('lmidist = "lmi-dist"',), ("lmi-dist",),
                 value_tokens=False),
            # 0.25.0-0.26.0 (lmi_dist 0.9.4 / 8.0.0 in the djl-deepspeed image): lmi-dist's own paged-attention
            # engine; the dtype is checked by get_torch_dtype_from_str, and there is no max_model_len or
            # gpu_memory_utilization yet.
            Fact("option.dtype", f"{PM}/hf_properties.py", ("def get_torch_dtype_from_str",), ("fp32", "fp16", "bf16"),
                 until="0.26.0"),
            Fact("option.dtype", f"{PM}/lmi_dist_rb_properties.py", ("get_torch_dtype_from_str",),
                 since="0.26.0", until="0.26.0"),
            Fact("option.dtype", f"{PY}/rolling_batch/rolling_batch_vllm_utils.py", ("DTYPE_MAPPER",),
                 ("fp32", "fp16", "bf16", "float32", "float16", "bfloat16", "auto"), since="0.27.0"),
            Fact("option.dtype", f"{PY}/rolling_batch/lmi_dist_rolling_batch.py", ("DTYPE_MAPPER[",), since="0.27.0"),
            Fact("option.max_model_len", f"{PM}/lmi_dist_rb_properties.py", ("max_model_len",), since="0.27.0"),
            Fact("option.gpu_memory_utilization", f"{PM}/lmi_dist_rb_properties.py", ("gpu_memory_utilization",),
                 since="0.27.0"),
            Fact("option.quantize", f"{PY}/rolling_batch/lmi_dist_rolling_batch.py", ("QUANTIZATION_SUPPORT_ALGO",),
                 ("gptq",), until="0.25.0", note="pre-quantized GPTQ checkpoints; not together with option.dtype"),
            Fact("option.quantize", f"{PM}/lmi_dist_rb_properties.py", ("LmiDistQuantizeMethods",),
                 ("awq", "gptq"), since="0.26.0", until="0.29.0"),
            Fact("option.quantize", f"{PM}/lmi_dist_rb_properties.py", ("LmiDistQuantizeMethods",),
                 ("awq", "gptq", "fp8"), since="0.30.0", until="0.30.0"),
            Fact("option.quantize", f"{PM}/lmi_dist_rb_properties.py", ("quantize: Optional[str] = None",),
                 None, since="0.31.0", note="passed on to vLLM's quantization argument as is"),
        ],
    ),
    "vllm": BackendFacts(
        facts=common(("Python",)) + [
            Fact("option.rolling_batch", f"{PM}/properties.py", ('vllm = "vllm"',), ("vllm",), value_tokens=False),
            Fact("option.dtype", f"{PY}/rolling_batch/rolling_batch_vllm_utils.py", ("DTYPE_MAPPER",),
                 ("fp32", "fp16", "bf16", "float32", "float16", "bfloat16", "auto"), until="0.32.0"),
            Fact("option.dtype", f"{PM}/vllm_rb_properties.py", ("DTYPE_MAPPER", "validate_dtype"),
                 ("fp32", "fp16", "bf16", "float32", "float16", "bfloat16", "auto"), since="0.33.0"),
            Fact("option.max_model_len", f"{PM}/vllm_rb_properties.py", ("max_model_len: Optional[int]",),
                 until="0.31.0"),
            Fact("option.gpu_memory_utilization", f"{PM}/vllm_rb_properties.py",
                 ("gpu_memory_utilization: Optional[float]",), until="0.31.0"),
            Fact("option.max_model_len", f"{PM}/vllm_rb_properties.py", ("EngineArgs.__annotations__",),
                 since="0.32.0", note="passed to vllm.EngineArgs.max_model_len (keys of EngineArgs pass through)"),
            Fact("option.gpu_memory_utilization", f"{PM}/vllm_rb_properties.py", ("EngineArgs.__annotations__",),
                 since="0.32.0", note="passed to vllm.EngineArgs.gpu_memory_utilization"),
            Fact("option.max_rolling_batch_size", f"{PM}/vllm_rb_properties.py",
                 ("'max_num_seqs': self.max_rolling_batch_size",), since="0.33.0"),
            Fact("option.quantize", f"{PM}/vllm_rb_properties.py", ("VllmQuantizeMethods",), ("awq", "gptq"),
                 until="0.29.0"),
            Fact("option.quantize", f"{PM}/vllm_rb_properties.py", ("VllmQuantizeMethods",), ("awq", "gptq", "fp8"),
                 since="0.30.0", until="0.30.0"),
            Fact("option.quantize", f"{PM}/vllm_rb_properties.py", ("quantize: Optional[str]",), None,
                 since="0.31.0", note="passed on to vLLM's quantization argument as is"),
            # Multi-LoRA (selector/pools/adapters.py): declared on VllmRbProperties up to 0.31.0; from 0.32.0
            # enable_lora is on the Properties base class and max_loras on VllmRbProperties (both handed to vLLM by
            # name), while max_lora_rank and max_cpu_loras reach vllm.EngineArgs through its annotations.
            Fact("option.enable_lora", f"{PM}/vllm_rb_properties.py", ("enable_lora: Optional[bool] = False",),
                 until="0.31.0"),
            Fact("option.enable_lora", f"{PM}/properties.py", ("enable_lora: bool = False",), since="0.32.0"),
            Fact("option.enable_lora", f"{PM}/vllm_rb_properties.py", ("'enable_lora': self.enable_lora",),
                 since="0.32.0"),
            Fact("option.max_loras", f"{PM}/vllm_rb_properties.py", ("max_loras: Optional[int] = 4",), until="0.31.0"),
            Fact("option.max_loras", f"{PM}/vllm_rb_properties.py", ("max_loras: int = 4", "'max_loras': self.max_loras"),
                 since="0.32.0"),
            Fact("option.max_lora_rank", f"{PM}/vllm_rb_properties.py", ("max_lora_rank: Optional[int] = 16",),
                 until="0.31.0"),
            Fact("option.max_lora_rank", f"{PM}/vllm_rb_properties.py", ("EngineArgs.__annotations__",),
                 since="0.32.0", note="passed to vllm.EngineArgs.max_lora_rank (keys of EngineArgs pass through)"),
            Fact("option.max_cpu_loras", f"{PM}/vllm_rb_properties.py", ("max_cpu_loras: Optional[int] = None",),
                 until="0.31.0"),
            Fact("option.max_cpu_loras", f"{PM}/vllm_rb_properties.py", ("EngineArgs.__annotations__",),
                 since="0.32.0", note="passed to vllm.EngineArgs.max_cpu_loras (keys of EngineArgs pass through)"),
        ],
    ),
}

class EnvironmentRule(TypedDict):
    """How one range of versions turns OPTION_* environment variables into properties, and where it is read."""

    min_version: str
    max_version: str | None  # None: up to the newest version
    engine_variable: str | None  # None: no environment variable sets `engine`
    branch: str
    path: str
    token: str
    note: str


ENVIRONMENT: list[EnvironmentRule] = [
    {"min_version": "0.25.0", "max_version": "0.26.0", "engine_variable": None,
     "branch": "0.26.0-dlc", "path": MODELINFO, "token": 'prop.putIfAbsent("option." + key, value);',
     "note": "every OPTION_<NAME> becomes option.<name> (OPTION_ENTRYPOINT -> option.entryPoint); there is no "
             "environment variable for `engine` (OPTION_ENGINE lands as option.engine, read by nothing)"},
    {"min_version": "0.27.0", "max_version": None, "engine_variable": "OPTION_ENGINE",
     "branch": "0.27.0-dlc", "path": MODELINFO, "token": 'prop.putIfAbsent("engine", value);',
     "note": "OPTION_ENGINE sets `engine` (djl-serving #1676); other OPTION_<NAME> become option.<name>"},
]


class Mirror:
    def __init__(self, git_dir: str) -> None:
        self.git_dir = git_dir
        self._cache: dict[tuple[str, str], str | None] = {}

    def commit(self, branch: str) -> str:
        return subprocess.run(["git", "-C", self.git_dir, "rev-parse", branch], check=True,
                              capture_output=True, text=True).stdout.strip()

    def text(self, branch: str, path: str) -> str | None:
        if (branch, path) not in self._cache:
            done = subprocess.run(["git", "-C", self.git_dir, "show", f"{branch}:{path}"],
                                  capture_output=True, text=True)
            self._cache[(branch, path)] = done.stdout if done.returncode == 0 else None
        return self._cache[(branch, path)]

    def exists(self, branch: str, path: str) -> bool:
        return self.text(branch, path) is not None

# --- Declared types: the pydantic properties classes each backend builds from serving.properties -------------------
#
# Each handler builds one or more pydantic models from the option.* properties (prefix stripped). A field's declared
# annotation decides which strings the container accepts for it; the class's `extra` setting decides what becomes of
# a key it does not declare. The classes are read with `ast` from the branch's source (never imported).


@dataclass(frozen=True)
class PropertiesClass:
    """`name` (defined in `path`) is built from the properties in one of `sites` (token `<name>(**properties)`)."""

    path: str
    name: str
    sites: tuple[str, ...]
    since: str | None = None
    until: str | None = None


HF_CLASS = PropertiesClass(f"{PM}/hf_properties.py", "HuggingFaceProperties",
                           (f"{PY}/huggingface.py", f"{PY}/lmi_vllm/vllm_async_service.py"))
CLASSES: dict[str, list[PropertiesClass]] = {
    "deepspeed": [PropertiesClass(f"{PM}/ds_properties.py", "DeepSpeedProperties", (f"{PY}/deepspeed.py",))],
    "neuronx": [PropertiesClass(f"{PM}/tnx_properties.py", "TransformerNeuronXProperties",
                                (f"{PY}/transformers_neuronx.py",))],
    "tensorrtllm": [PropertiesClass(f"{PM}/trt_properties.py", "TensorRtLlmProperties",
                                    (f"{PY}/tensorrt_llm.py", f"{PY}/lmi_trtllm/trtllm_async_service.py"))],
    "lmi-dist": [HF_CLASS, PropertiesClass(f"{PM}/lmi_dist_rb_properties.py", "LmiDistRbProperties",
                                           (f"{PY}/rolling_batch/lmi_dist_rolling_batch.py",), since="0.26.0")],
    "vllm": [HF_CLASS, PropertiesClass(f"{PM}/vllm_rb_properties.py", "VllmRbProperties",
                                       (f"{PY}/rolling_batch/vllm_rolling_batch.py",
                                        f"{PY}/lmi_vllm/vllm_async_service.py"))],
}
# What a class with extra='allow' does with the keys it keeps undeclared: (token in its file, sentence).
EXTRAS = {
    "VllmRbProperties": ("if k in EngineArgs.__annotations__",
                         "passes those naming a vllm.EngineArgs field to vLLM's engine-argument parser as --key value "
                         "and drops the rest"),
    "TensorRtLlmProperties": ("self.__pydantic_extra__",
                              "reads some of them by name for TensorRT-LLM's KV-cache and PyTorch configs and ignores "
                              "the rest"),
}
SCALARS = ("bool", "int", "float", "str")
V2_ONLY = {"field_validator", "model_validator", "ConfigDict"}  # names pydantic 1 does not have


@dataclass
class DeclaredField:
    """One field of a properties class: the names it is read under and its declared type."""

    name: str
    names: tuple[str, ...]  # alias first when there is one; the field name too unless only the alias populates
    declared: str  # the annotation as written in the source
    kind: dict  # {"type": bool|int|float|str|enum|other, "nullable": bool, "values"?: [...]}
    owner: str  # the class that declares it
    path: str
    coerced_by: str | None = None  # a before-validator that rewrites the value before the type applies
    coerced_in: str | None = None  # the file of that validator (a subclass may coerce a base class's field)


@dataclass
class ClassInfo:
    name: str
    path: str
    fields: dict[str, DeclaredField]
    extra: str  # allow | ignore | forbid
    populate_by_name: bool
    pydantic: str  # v1 | v2
    pydantic_token: str  # the import line that decides it


def _tree(mirror: Mirror, branch: str, path: str) -> ast.Module:
    text = mirror.text(branch, path)
    if text is None:
        raise SystemExit(f"{path} does not exist at {branch}")
    return ast.parse(text)


def _local_imports(tree: ast.Module) -> dict[str, str]:
    """Names imported from other djl_python modules -> the file that defines them."""
    out = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("djl_python."):
            path = "engines/python/setup/" + node.module.replace(".", "/") + ".py"
            out.update({alias.name: path for alias in node.names})
    return out


def _class_def(tree: ast.Module, name: str) -> ast.ClassDef | None:
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)


def _enum_values(mirror: Mirror, branch: str, path: str, name: str) -> tuple[str, list] | None:
    """(`str`|`int`, member values) when `name` is an Enum class defined in `path` or imported into it; each value
    is re-checked to occur, quoted (or as `= N`), in the file that defines the class."""
    tree = _tree(mirror, branch, path)
    node = _class_def(tree, name)
    if node is None:
        source = _local_imports(tree).get(name)
        return _enum_values(mirror, branch, source, name) if source else None
    bases = {ast.unparse(b) for b in node.bases}
    if not bases & {"Enum", "IntEnum", "str"}:
        return None
    kind = "int" if "IntEnum" in bases else "str"
    values: list[str | int] = [s.value.value for s in node.body if isinstance(s, ast.Assign)
                               and isinstance(s.value, ast.Constant) and isinstance(s.value.value, (str, int))]
    if not values or any(not isinstance(v, int if kind == "int" else str) for v in values):
        return None
    text = mirror.text(branch, path) or ""
    missing = [v for v in values if not any(t in text for t in (f"'{v}'", f'"{v}"', f"= {v}\n"))]
    if missing:
        raise SystemExit(f"{branch}:{path}: enum {name} values {missing} not found as written")
    return kind, values


def _classify(node: ast.expr, mirror: Mirror, branch: str, path: str) -> dict:
    """The declared annotation in the small vocabulary: bool, int, float, str, enum (values) or other."""
    nullable = False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        parts = [node.left, node.right]
    elif isinstance(node, ast.Subscript) and ast.unparse(node.value) in ("Optional", "Union"):
        inner = node.slice
        parts = list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
        nullable = ast.unparse(node.value) == "Optional"
    else:
        parts = [node]
    rest = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)
            and ast.unparse(p) != "NoneType"]
    nullable = nullable or len(rest) < len(parts)
    if len(rest) != 1:
        return {"type": "other", "nullable": nullable}
    inner = rest[0]
    text = ast.unparse(inner)
    if text in SCALARS:
        return {"type": text, "nullable": nullable}
    if isinstance(inner, ast.Subscript) and ast.unparse(inner.value) == "Literal":
        items = inner.slice.elts if isinstance(inner.slice, ast.Tuple) else [inner.slice]
        if all(isinstance(i, ast.Constant) and isinstance(i.value, str) for i in items):
            return {"type": "enum", "nullable": nullable, "enum": "str",
                    "values": [i.value for i in items if isinstance(i, ast.Constant)]}
    if isinstance(inner, ast.Name):
        found = _enum_values(mirror, branch, path, inner.id)
        if found:
            return {"type": "enum", "nullable": nullable, "enum": found[0], "values": found[1]}
    return {"type": "other", "nullable": nullable}


def _decorator(node: ast.expr) -> tuple[str, list[str], dict[str, object]] | None:
    if not isinstance(node, ast.Call):
        return None
    name = ast.unparse(node.func).split(".")[-1]
    args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    keywords: dict[str, object] = {k.arg: k.value.value for k in node.keywords
                                   if k.arg and isinstance(k.value, ast.Constant)}
    return name, [str(a) for a in args], keywords


def _config(node: ast.ClassDef) -> dict[str, object]:
    """`model_config = ConfigDict(...)` (pydantic 2) or `class Config:` (pydantic 1) settings of one class."""
    out: dict[str, object] = {}
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and any(ast.unparse(t) == "model_config" for t in stmt.targets) \
                and isinstance(stmt.value, ast.Call):
            out.update({k.arg: k.value.value for k in stmt.value.keywords
                        if k.arg and isinstance(k.value, ast.Constant)})
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and len(inner.targets) == 1:
                    key = ast.unparse(inner.targets[0])
                    value = inner.value.value if isinstance(inner.value, ast.Constant) else ast.unparse(inner.value)
                    key = "populate_by_name" if key == "allow_population_by_field_name" else key
                    out[key] = str(value).removeprefix("Extra.") if key == "extra" else value
    return out


def _pydantic_generation(mirror: Mirror, branch: str) -> tuple[str, str]:
    """v1 or v2, from the import that gives the Properties base class its BaseModel (0.27.0 imports pydantic.v1
    from pydantic 2; 0.25.0/0.26.0 use the pydantic 1 API), and that import line as evidence."""
    path = f"{PM}/properties.py"
    tree = _tree(mirror, branch, path)
    text = mirror.text(branch, path) or ""
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in ("pydantic", "pydantic.v1") \
                and "BaseModel" in {a.name for a in node.names}:
            token = ast.get_source_segment(text, node) or ""
            v2 = node.module == "pydantic" and bool(V2_ONLY & {a.name for a in node.names})
            return ("v2" if v2 else "v1"), token
    raise SystemExit(f"{branch}:{path}: no BaseModel import from pydantic")


def read_class(mirror: Mirror, branch: str, path: str, name: str) -> ClassInfo:
    """The fields of `name` and of its bases (a subclass's declaration wins), with config and before-validators."""
    tree = _tree(mirror, branch, path)
    text = mirror.text(branch, path) or ""
    node = _class_def(tree, name)
    if node is None:
        raise SystemExit(f"class {name} not found in {branch}:{path}")
    fields: dict[str, DeclaredField] = {}
    config: dict[str, object] = {}
    imports = _local_imports(tree)
    for base in node.bases:
        base_name = ast.unparse(base)
        source = path if _class_def(tree, base_name) else imports.get(base_name)
        if source:
            parent = read_class(mirror, branch, source, base_name)
            fields.update(parent.fields)
            config.update({"extra": parent.extra, "populate_by_name": parent.populate_by_name})
    config.update(_config(node))
    populate = bool(config.get("populate_by_name", False))
    before: dict[str, str] = {}
    for stmt in node.body:
        if not isinstance(stmt, ast.FunctionDef):
            continue
        for deco in stmt.decorator_list:
            parsed = _decorator(deco)
            if parsed is None:
                continue
            kind, args, keywords = parsed
            if kind in ("validator", "field_validator") and (keywords.get("pre") is True
                                                            or keywords.get("mode") == "before"):
                before.update({arg: stmt.name for arg in args})
            if kind in ("root_validator", "model_validator") and (keywords.get("pre") is True
                                                                 or keywords.get("mode") == "before"):
                for inner in ast.walk(stmt):  # properties['key'] = ... inside a before-validator sets the key
                    if isinstance(inner, ast.Assign):
                        for target in inner.targets:
                            if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) \
                                    and isinstance(target.slice.value, str):
                                before[target.slice.value] = stmt.name
    for field_name, df in list(fields.items()):
        if field_name in before:
            fields[field_name] = DeclaredField(df.name, df.names, df.declared, df.kind, df.owner, df.path,
                                               before[field_name], path)
    for stmt in node.body:
        if not isinstance(stmt, ast.AnnAssign) or not isinstance(stmt.target, ast.Name):
            continue
        field_name = stmt.target.id
        if field_name.startswith("_") or field_name == "model_config":
            continue
        alias: str | None = None
        if isinstance(stmt.value, ast.Call) and ast.unparse(stmt.value.func).split(".")[-1] == "Field":
            alias = next((str(k.value.value) for k in stmt.value.keywords
                          if k.arg == "alias" and isinstance(k.value, ast.Constant)), None)
        names = (alias, field_name) if alias and populate else ((alias,) if alias else (field_name,))
        declared = ast.get_source_segment(text, stmt.annotation) or ast.unparse(stmt.annotation)
        fields[field_name] = DeclaredField(field_name, names, declared, _classify(stmt.annotation, mirror, branch, path),
                                           name, path, before.get(field_name), path if field_name in before else None)
    generation, token = _pydantic_generation(mirror, branch)
    return ClassInfo(name, path, fields, str(config.get("extra", "ignore")), populate, generation, token)


def evidence(branch: str, path: str, commit: str) -> str:
    return f"{REPO} {branch} {path} @ {commit}"


def require(mirror: Mirror, branch: str, path: str, tokens: tuple[str, ...], what: str) -> None:
    text = mirror.text(branch, path)
    if text is None:
        raise SystemExit(f"{what}: {path} does not exist at {branch}")
    for token in tokens:
        if token not in text:
            raise SystemExit(f"{what}: {token!r} not found in {branch}:{path}")


def applies(since: str | None, until: str | None, version: str) -> bool:
    return in_range(version, since, until)


def _add_type(entry: dict, declared: dict) -> None:
    """One declaration of a key's type; the same declaration reached through two classes is kept once."""
    types = entry.setdefault("types", [])
    if declared not in types:
        types.append(declared)
        types.sort(key=lambda t: (t["by"], t["path"]))


def declared_types(mirror: Mirror, backend: str, version: str, branch: str, commit: str,
                   keys: dict[str, dict]) -> list[dict]:
    """Every field of the properties classes the backend builds at this version, as typed keys (added to `keys`),
    and the classes themselves (what they do with keys they do not declare). Each declaration is re-checked to
    occur in the file at the branch."""
    classes = []
    for spec in CLASSES[backend]:
        if not applies(spec.since, spec.until, version):
            continue
        what = f"{backend} {version} {spec.name}"
        built = f"{spec.name}(**properties)"
        site = next((s for s in spec.sites if built in (mirror.text(branch, s) or "")), None)
        if site is None:
            raise SystemExit(f"{what}: {built!r} found in none of {spec.sites} at {branch}")
        info = read_class(mirror, branch, spec.path, spec.name)
        require(mirror, branch, spec.path, (f"class {spec.name}(",), what)
        require(mirror, branch, f"{PM}/properties.py", (info.pydantic_token,), what)
        entry = {"class": spec.name, "evidence": evidence(branch, spec.path, commit),
                 "built_in": evidence(branch, site, commit), "extra": info.extra,
                 "pydantic": info.pydantic, "pydantic_evidence": info.pydantic_token}
        if info.extra != "ignore":
            if spec.name not in EXTRAS:
                raise SystemExit(f"{what}: extra='{info.extra}', but EXTRAS does not say what it does with them")
            token, sentence = EXTRAS[spec.name]
            require(mirror, branch, spec.path, (f"extra='{info.extra}'", token), what)
            entry["extras"] = sentence
        classes.append(entry)
        for field_ in info.fields.values():
            declaration = f"{field_.name}: {field_.declared}"
            require(mirror, branch, field_.path, (declaration, *field_.names), f"{what} {field_.name}")
            if field_.coerced_by and field_.coerced_in:
                require(mirror, branch, field_.coerced_in, (f"def {field_.coerced_by}",), f"{what} {field_.name}")
            declared = {"by": field_.owner, **field_.kind, "declared": declaration,
                        "path": field_.path, "parser": f"pydantic-{info.pydantic}"}
            if field_.coerced_by and field_.coerced_in:
                declared["coerced_by"] = f"{field_.coerced_by} in {field_.coerced_in}"
            for name in field_.names:
                entry = keys.setdefault(OPTION + name, {"evidence": [evidence(branch, field_.path, commit)],
                                                        "values": None})
                _add_type(entry, declared)
    return sorted(classes, key=lambda c: c["class"])


def build(mirror: Mirror) -> dict:
    backends: dict[str, dict] = {}
    for name, spec in BACKENDS.items():
        per_version: dict[str, dict] = {}
        for version in VERSIONS[name]:
            branch = BRANCHES[version]
            commit = mirror.commit(branch)
            keys: dict[str, dict] = {}
            for fact in spec.facts:
                if not applies(fact.since, fact.until, version):
                    continue
                what = f"{name} {version} {fact.key}"
                tokens = fact.tokens + (tuple(f"'{v}'" for v in fact.values) if fact.values and fact.value_tokens else ())
                if fact.values and fact.value_tokens:
                    # values may be quoted either way
                    text = mirror.text(branch, fact.path) or ""
                    missing = [v for v in fact.values if f"'{v}'" not in text and f'"{v}"' not in text]
                    if missing:
                        raise SystemExit(f"{what}: values {missing} not found in {branch}:{fact.path}")
                    tokens = fact.tokens
                require(mirror, branch, fact.path, tokens, what)
                if fact.key == "option.entryPoint":
                    if not fact.values:
                        raise SystemExit(f"{what}: the fact names no module to look for")
                    module = fact.values[0].replace(".", "/") + ".py"
                    if not mirror.exists(branch, f"engines/python/setup/{module}"):
                        raise SystemExit(f"{what}: {module} missing at {branch}")
                entry = keys.setdefault(fact.key, {"evidence": [], "values": None})
                entry["evidence"].append(evidence(branch, fact.path, commit))
                if fact.external:
                    entry["evidence"].append(fact.external)
                if fact.values is not None:
                    previous = entry["values"]
                    entry["values"] = sorted(fact.values if previous is None else set(previous) & set(fact.values))
                if fact.note:
                    entry["note"] = fact.note
                if fact.type:
                    _add_type(entry, {"by": fact.path.rsplit("/", 1)[-1], "type": fact.type, "nullable": False,
                                      "declared": fact.tokens[-1], "path": fact.path,
                                      "parser": "java" if fact.path.endswith(".java") else "python"})
            classes = declared_types(mirror, name, version, branch, commit, keys)
            if "engine" in keys:
                for check in ENGINE_CHECKS:
                    require(mirror, branch, check.path, check.tokens, f"{name} {version} engine")
            unverified: dict[str, dict] = {}
            for item in spec.unverified:
                if not applies(item.since, item.until, version):
                    continue
                require(mirror, branch, item.docs_path, (item.docs_token,), f"{name} {version} {item.key}")
                unverified[item.key] = {
                    "evidence": [evidence(branch, item.docs_path, commit)],
                    "reason": item.reason,
                    "values": sorted(item.values) if item.values else None,
                }
            constraints = []
            for c in spec.constraints:
                if not applies(c.since, c.until, version):
                    continue
                require(mirror, branch, c.path, (c.token,), f"{name} {version} constraint")
                constraints.append({"when": c.when, "key": c.key, "rejects": list(c.rejects),
                                    "evidence": evidence(branch, c.path, commit), "message": c.token})
            reason = spec.unverified_reason.get(version)
            per_version[version] = {
                "branch": branch,
                "commit": commit,
                "verified": reason is None and not unverified,
                "reason": reason,
                "keys": {k: keys[k] for k in sorted(keys)},
                "classes": classes,
                "unverified_keys": {k: unverified[k] for k in sorted(unverified)},
                "constraints": constraints,
            }
        backends[name] = {v: per_version[v] for v in sorted(per_version, key=version_key)}
    environment = []
    for rule in ENVIRONMENT:
        commit = mirror.commit(rule["branch"])
        require(mirror, rule["branch"], rule["path"], (rule["token"],), "environment rule")
        environment.append({"min_version": rule["min_version"], "max_version": rule["max_version"],
                            "engine_variable": rule["engine_variable"], "note": rule["note"],
                            "evidence": evidence(rule["branch"], rule["path"], commit)})
    return {
        "as_of": AS_OF,
        "source": (f"{REPO} release branches (0.25.0-dlc .. 0.36.0-lmi27-dlc; master for 0.38.0), read key by key; "
                   "rebuilt and re-checked against the source by scripts/build_container_options.py"),
        "environment": environment,
        "backends": backends,
    }


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dir", help="a djl-serving git directory (bare mirror or checkout)")
    parser.add_argument("--check", action="store_true", help="compare with the committed catalog")
    args = parser.parse_args(argv)
    return write_or_check(OUT, render(build(Mirror(args.git_dir))), args.check)


def write_or_check(out: Path, text: str, check: bool) -> int:
    """Write a generated catalog file, or (--check) compare it with the committed one: 1 when they differ."""
    if check:
        if not out.exists() or out.read_text() != text:
            print(f"{out} differs from what the source gives; rerun without --check", file=sys.stderr)
            return 1
        print(f"{out.name} matches the source")
        return 0
    out.write_text(text)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Dev-only: rebuild selector/data/container_options.json from a local djl-serving git mirror.

Every fact below names the file of djl-serving that reads an option key (and, for enumerable keys, the
strings it accepts). Before a fact is written to the catalog this script opens that file at the release
branch each image was built from and checks that the key name and every value string really occur in it,
so a fact that no longer holds fails the build instead of landing in data. Nothing of djl-serving is copied:
only key names, value strings, paths and commit ids end up in the catalog.

    python -m scripts.build_container_options /path/to/djl-serving.git [--check]

--check compares with the committed catalog instead of writing it (used by tests when a mirror exists).
"""
from __future__ import annotations

import argparse
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
             note="the engine name picks the Java engine provider (Python, MPI)"),
        Fact("option.model_id", f"{PM}/properties.py", ("model_id",)),
        Fact("option.revision", f"{PM}/properties.py", ("revision",)),
        Fact("option.trust_remote_code", f"{PM}/properties.py", ("trust_remote_code",)),
        Fact("option.tensor_parallel_degree", f"{PM}/properties.py", ("tensor_parallel_degree",)),
        Fact("option.max_rolling_batch_size", f"{PM}/properties.py", ("max_rolling_batch_size",)),
        Fact("option.model_loading_timeout", PYMODEL, ("model_loading_timeout",)),
    ]


ENGINE_CHECKS = [
    Fact("engine", MPI_PROVIDER, ('"MPI"',)),
    Fact("engine", PY_PROVIDER, ('"Python"',)),
]

BACKENDS: dict[str, BackendFacts] = {
    "deepspeed": BackendFacts(
        facts=common(("MPI", "Python")) + [
            Fact("option.entryPoint", PYMODEL, ("entryPoint",), ("djl_python.deepspeed",), value_tokens=False,
                 note="module djl_python/deepspeed.py exists at the branch"),
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
            Fact("option.entryPoint", PYMODEL, ("entryPoint",), ("djl_python.transformers_neuronx",), value_tokens=False,
                 note="module djl_python/transformers_neuronx.py exists at the branch"),
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
            Fact("option.mpi_mode", PYMODEL, ("mpi_mode",), ("true",), value_tokens=False),
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
                 external=TRTLLM_UTILS,
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
                 external=TRTLLM_QUANT,
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
            Fact("option.mpi_mode", PYMODEL, ("mpi_mode",), since="0.28.0"),
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
    text = render(build(Mirror(args.git_dir)))
    if args.check:
        if OUT.read_text() != text:
            print(f"{OUT} differs from what the source gives; rerun without --check", file=sys.stderr)
            return 1
        print("container_options.json matches the source")
        return 0
    OUT.write_text(text)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

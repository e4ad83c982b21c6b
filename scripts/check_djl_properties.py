"""Dev-only, independent check: run djl-serving's OWN properties classes on the files the selector renders.

Two steps, because old djl-serving branches need pydantic 1 and the selector needs pydantic 2:

1. In the project venv, render every plan of tests/test_conformance.py's table for one backend/version to JSON:
       .venv/bin/python -m scripts.check_djl_properties render --backend vllm --version 0.38.0 --out plans.json
2. In a separate venv that has only pydantic (1.x for 0.25.0/0.26.0, 2.x from 0.27.0), against a local
   checkout of the release branch (`git -C <mirror> worktree add /tmp/djl-0.38.0 master`, or `git archive`):
       /tmp/djlcheck-venv/bin/python scripts/check_djl_properties.py check --checkout /tmp/djl-0.38.0 --plans plans.json

Step 2 imports the branch's properties_manager modules from the checkout (nothing of djl-serving is copied
into this project) and builds, per plan, the class its handler builds, with the keys the Java front end
passes (option.* without the prefix; engine=MPI adds mpi_mode=true as ModelInfo.java does). The heavy
runtime libraries those modules import (torch, vllm, tensorrt_llm) are replaced by permissive stubs: the
check covers djl's own validators, not vLLM's or TensorRT-LLM's. Exit 1 if any plan is refused.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.abc
import importlib.machinery
import json
import sys
import types
from pathlib import Path
from typing import Any

STUB_ROOTS = ("torch", "vllm", "tensorrt_llm", "transformers", "numpy", "safetensors", "huggingface_hub")
CLASSES = {  # backend -> (module, class) the handler validates its properties with
    "deepspeed": [("ds_properties", "DeepSpeedProperties")],
    "neuronx": [("tnx_properties", "TransformerNeuronXProperties")],
    "tensorrtllm": [("trt_properties", "TensorRtLlmProperties")],
    "vllm": [("vllm_rb_properties", "VllmRbProperties")],
    "lmi-dist": [("lmi_dist_rb_properties", "LmiDistRbProperties")],
}
# Before lmi-dist had its own properties module (0.25.0-dlc: no lmi_dist_rb_properties.py), its handler
# (huggingface.py) validated with HuggingFaceProperties.
FALLBACK = {"lmi-dist": ("hf_properties", "HuggingFaceProperties")}


# ---------------------------------------------------------------- step 1: render (project venv)

def render(backend: str, version: str, out: Path) -> None:
    import importlib as _il

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    table = _il.import_module("tests.test_conformance")
    # Any: the package exports a function named resolve, so mypy cannot name this module's type.
    resolve_module: Any = _il.import_module("selector.resolve")
    token = resolve_module._PROBING.set(True)  # refused pins need no hints here (what resolve_without_hints does)
    try:
        plans = [{"label": f"{request.model} {request.quantization} {request.instance_type}",
                  "options": plan.serving_properties}
                 for request, plan in table.plans_for(backend, version) if plan is not None]
    finally:
        resolve_module._PROBING.reset(token)
    out.write_text(json.dumps({"backend": backend, "version": version, "plans": plans}, indent=1))
    print(f"{len(plans)} plans of {backend} {version} -> {out}")


# ---------------------------------------------------------------- step 2: check (djl venv)

class _AnyAttribute(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return None  # class-level defaults such as EngineArgs.max_num_batched_tokens


class _Permissive(metaclass=_AnyAttribute):
    """Stands in for any class of a stubbed library: takes any arguments, has any attribute."""

    __annotations__: dict = {}

    def __init__(self, *args, **kwargs):
        self.__dict__.update(kwargs)

    def __getattr__(self, name):
        return None

    def __class_getitem__(cls, item):
        return cls


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = type(name, (_Permissive,), {"__annotations__": {}})
        setattr(self, name, value)
        return value


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STUB_ROOTS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        if module.__name__ == "torch":
            cuda = _StubModule("torch.cuda")
            cuda.is_available = lambda: True
            cuda.is_bf16_supported = lambda: True  # A10G, A100 (the catalog's GPUs) support bf16
            cuda.device_count = lambda: 8
            module.cuda = cuda
            for name in ("float32", "float16", "bfloat16", "int8", "float8_e4m3fn"):
                setattr(module, name, f"torch.{name}")
        if module.__name__ == "vllm":
            # djl passes extra keys through when they are vllm.EngineArgs fields; these are the ones we render.
            class EngineArgs(_Permissive):
                quantization = None
                __annotations__ = {"max_model_len": int, "gpu_memory_utilization": float, "max_num_seqs": int,
                                   "quantization": str, "dtype": str, "tensor_parallel_size": int}
            module.EngineArgs = EngineArgs
            module.AsyncEngineArgs = type("AsyncEngineArgs", (EngineArgs,), {})


def _load(checkout: Path):
    sys.meta_path.insert(0, _StubFinder())
    root = checkout / "engines" / "python" / "setup" / "djl_python"
    for name, path in (("djl_python", root), ("djl_python.properties_manager", root / "properties_manager")):
        package = types.ModuleType(name)
        package.__path__ = [str(path)]  # a namespace: djl_python/__init__.py (inputs, numpy) is not run
        sys.modules[name] = package


def _properties(options: dict[str, str]) -> dict[str, str]:
    props = {k[len("option."):]: v for k, v in options.items() if k.startswith("option.")}
    if options.get("engine") in ("MPI", "DeepSpeed"):
        props.setdefault("mpi_mode", "true")  # ModelInfo.java (0.26.0+) / PyModel.java add it for MPI engines
    return props


def check(checkout: Path, plans_file: Path) -> int:
    data = json.loads(plans_file.read_text())
    _load(checkout)
    failures = 0
    for module_name, class_name in CLASSES[data["backend"]]:
        try:
            module = importlib.import_module(f"djl_python.properties_manager.{module_name}")
        except ModuleNotFoundError:
            if data["backend"] not in FALLBACK:
                raise
            module_name, class_name = FALLBACK[data["backend"]]
            module = importlib.import_module(f"djl_python.properties_manager.{module_name}")
        cls = getattr(module, class_name)
        for plan in data["plans"]:
            # A worker sees the GPUs of its model copy (DJL sets CUDA_VISIBLE_DEVICES per worker: TP of them),
            # which HuggingFaceProperties' device-map check compares with the TP degree.
            tp = int(plan["options"].get("option.tensor_parallel_degree", "1"))
            if "torch" in sys.modules:  # only classes that import torch ask for it
                sys.modules["torch"].cuda.device_count = lambda tp=tp: tp
            try:
                parsed = cls(**_properties(plan["options"]))
            except Exception as error:  # noqa: BLE001 - any refusal is the finding
                failures += 1
                print(f"REFUSED {data['backend']} {data['version']} {class_name} {plan['label']}: "
                      f"{' '.join(str(error).split())[:300]}")
                continue
            extra = sorted((getattr(parsed, "__pydantic_extra__", None) or {}).keys())
            note = f" (kept as extra, not a field: {', '.join(extra)})" if extra else ""
            print(f"ok      {data['backend']} {data['version']} {class_name} {plan['label']}{note}")
    print(f"{data['backend']} {data['version']}: {len(data['plans'])} plans, {failures} refused")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render")
    r.add_argument("--backend", required=True)
    r.add_argument("--version", required=True)
    r.add_argument("--out", type=Path, required=True)
    c = sub.add_parser("check")
    c.add_argument("--checkout", type=Path, required=True)
    c.add_argument("--plans", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "render":
        render(args.backend, args.version, args.out)
        return 0
    return check(args.checkout, args.plans)


if __name__ == "__main__":
    sys.exit(main())

"""A deployment's free `options:` are held to the types djl-serving's own properties classes declare.

The types come from selector/data/container_options.json (each backend's pydantic properties classes, read with
`ast` at the release branch of each image by scripts/build_container_options.py); the check is pydantic's own lax
parsing, of the generation that branch's classes use. A value the container's class would not parse is refused at
plan time (in process, `python -m selector validate FILE` and app.py's path, which `make synth` runs); a key no class
declares is a plan warning. Our own rendered values are held to the same types.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from selector import Request, SelectorError, resolve
from selector.conformance import facts
from selector.option_types import check_user_options, type_problem
from tests.test_conformance import backend_versions, plans_for

resolve_module = importlib.import_module("selector.resolve")
MODEL = "meta-llama/Llama-2-7b-hf"
INSTANCE = {"neuronx": "ml.inf2.48xlarge"}  # the others plan on their default GPU instance


@pytest.fixture(autouse=True)
def cheap_refusals():
    """A refused pin normally re-plans without pins for its hint; not under test here."""
    token = resolve_module._PROBING.set(True)  # what resolve_without_hints() does
    yield
    resolve_module._PROBING.reset(token)


def plan(backend: str, version: str, options: dict[str, str]):
    return resolve(Request(model=MODEL, backend=backend, container_version=version, options=options,
                           instance_type=INSTANCE.get(backend)))


@dataclass(frozen=True)
class Bad:
    backend: str
    version: str
    key: str
    value: str
    declared: str  # the declaration the problem must quote
    path: str  # the djl-serving file it must name
    works: str  # what the hint must offer

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.version}-{self.key.removeprefix('option.')}-{self.value}"


VLLM = "vllm_rb_properties.py"
LMID = "lmi_dist_rb_properties.py"
BOOL, INT, FLOAT = "true or false", "a whole number", "a number"
BAD = [
    Bad("vllm", "0.31.0", "option.enforce_eager", "maybe", "enforce_eager: Optional[bool]", VLLM, BOOL),
    Bad("vllm", "0.31.0", "option.max_rolling_batch_prefill_tokens", "lots", "Optional[int]", VLLM, INT),
    Bad("vllm", "0.31.0", "option.typical_acceptance_sampler_posterior_alpha", "high", "Optional[float]", VLLM, FLOAT),
    Bad("vllm", "0.38.0", "option.max_rolling_batch_prefill_tokens", "lots", "Optional[int]", VLLM, INT),
    Bad("vllm", "0.38.0", "option.max_num_batched_tokens", "4k", "Optional[int]", VLLM, INT),  # the Field alias
    Bad("vllm", "0.38.0", "option.cpu_offload_gb", "some", "cpu_offload_gb_per_gpu: float", VLLM, FLOAT),
    Bad("vllm", "0.38.0", "option.enable_auto_tool_choice", "maybe", "enable_auto_tool_choice: bool", VLLM, BOOL),
    Bad("vllm", "0.38.0", "option.chat_template_content_format", "xml", "Literal", VLLM, "one of auto, string, openai"),
    Bad("vllm", "0.38.0", "option.trust_remote_code", "perhaps", "trust_remote_code: bool", "properties.py", BOOL),
    Bad("lmi-dist", "0.32.0", "option.enforce_eager", "maybe", "enforce_eager: Optional[bool]", LMID, BOOL),
    Bad("lmi-dist", "0.32.0", "option.max_rolling_batch_prefill_tokens", "lots", "Optional[int]", LMID, INT),
    # pydantic 1 (the v1 API of 0.27.0) does not read "4096.0" as an int; pydantic 2 (0.28.0 on) does
    Bad("lmi-dist", "0.27.0", "option.max_rolling_batch_prefill_tokens", "4096.0", "Optional[int]", LMID, INT),
    Bad("lmi-dist", "0.27.0", "option.gpu_memory_utilisation", "x", "", "", ""),  # not declared: a warning only
    Bad("deepspeed", "0.27.0", "option.enable_cuda_graph", "maybe", "enable_cuda_graph: bool", "ds_properties.py", BOOL),
    Bad("deepspeed", "0.27.0", "option.training_mp_size", "two", "Optional[int]", "ds_properties.py", INT),
    Bad("deepspeed", "0.26.0", "option.smoothquant_alpha", "half", "Optional[float]", "ds_properties.py", FLOAT),
    Bad("neuronx", "0.29.0", "option.enable_saturate_infinity", "maybe", "Optional[bool]", "tnx_properties.py", BOOL),
    Bad("neuronx", "0.29.0", "option.speculative_length", "five", "speculative_length: int", "tnx_properties.py", INT),
    Bad("neuronx", "0.29.0", "option.model_loader", "torch", "TnXModelLoaders", "tnx_properties.py", "one of tnx"),
    Bad("neuronx", "0.25.0", "option.load_split_model", "maybe", "load_split_model: bool", "tnx_properties.py", BOOL),
    Bad("tensorrtllm", "0.33.0", "option.enable_chunked_prefill", "maybe", "bool", "trt_properties.py", BOOL),
    Bad("tensorrtllm", "0.33.0", "option.max_beam_width", "wide", "max_beam_width: int", "trt_properties.py", INT),
    Bad("tensorrtllm", "0.30.0", "option.waiting_steps", "some", "Optional[int]", "properties.py", INT),
]
REFUSED = [b for b in BAD if b.declared]


@pytest.mark.parametrize("bad", REFUSED, ids=lambda b: b.id)
def test_a_value_the_declared_type_does_not_parse_is_refused(bad: Bad):
    with pytest.raises(SelectorError) as info:
        plan(bad.backend, bad.version, {bad.key: bad.value})
    error = info.value
    text = error.paragraph()
    assert error.field == f"options.{bad.key}" and error.value == bad.value
    assert "\n" not in text and bad.declared in text and bad.path in text and bad.version in text, text
    assert "djl-serving" in text and bad.works in error.hint, (text, error.hint)


GOOD = [
    ("vllm", "0.31.0", "option.enforce_eager", ("true", "True", "false", "1", "0", "yes")),
    ("vllm", "0.31.0", "option.max_rolling_batch_prefill_tokens", ("4096", "8192")),
    ("vllm", "0.38.0", "option.cpu_offload_gb", ("0.85", "4", "1.5")),
    ("vllm", "0.38.0", "option.chat_template_content_format", ("openai", "string")),
    ("lmi-dist", "0.28.0", "option.max_rolling_batch_prefill_tokens", ("4096", "4096.0")),
    ("lmi-dist", "0.27.0", "option.max_rolling_batch_prefill_tokens", ("4096",)),
    ("deepspeed", "0.27.0", "option.enable_cuda_graph", ("true", "True", "1")),
    ("deepspeed", "0.26.0", "option.smoothquant_alpha", ("0.85",)),
    ("neuronx", "0.29.0", "option.speculative_length", ("5",)),
    ("tensorrtllm", "0.33.0", "option.enable_chunked_prefill", ("true", "False")),
]


@pytest.mark.parametrize("backend,version,key,values", GOOD, ids=lambda v: str(v))
def test_good_spellings_are_accepted(backend, version, key, values):
    for value in values:
        refused, _ = check_user_options(backend, version, {key: value})
        assert refused == [], (value, [p.sentence() for p in refused])
    made = plan(backend, version, {key: values[0]})
    assert made.serving_properties[key] == values[0]


@pytest.mark.parametrize("backend,version,key,meant", [
    ("vllm", "0.31.0", "option.gpu_memory_utilisation", "option.gpu_memory_utilization"),
    ("lmi-dist", "0.32.0", "option.enforce_eagre", "option.enforce_eager"),
    ("deepspeed", "0.27.0", "option.enable_cuda_graf", "option.enable_cuda_graph"),
    ("neuronx", "0.29.0", "option.load_split_modle", "option.load_split_model"),
    ("tensorrtllm", "0.30.0", "option.trust_remote_cod", "option.trust_remote_code"),
])
def test_an_undeclared_key_is_a_warning_with_the_nearest_key(backend, version, key, meant):
    made = plan(backend, version, {key: "1"})
    notes = [w for w in made.warnings if f"options.{key}" in w]
    assert len(notes) == 1, made.warnings
    assert f"Did you mean {meant}" in notes[0] and "which ignore undeclared keys" in notes[0], notes[0]
    assert made.serving_properties[key] == "1"  # passed through as written


@pytest.mark.parametrize("version", ["0.32.0", "0.35.0", "0.38.0"])
def test_a_key_vllm_classes_keep_as_extra_is_said_to_reach_vllms_parser(version):
    """From 0.32.0 VllmRbProperties has extra='allow': undeclared keys naming a vllm.EngineArgs field go to vLLM's
    argument parser. vLLM's own types are not read here, so even a bad value is only a warning."""
    made = plan("vllm", version, {"option.enforce_eager": "maybe"})
    notes = [w for w in made.warnings if "options.option.enforce_eager" in w]
    assert len(notes) == 1, made.warnings
    assert "extra='allow'" in notes[0] and "vLLM's engine-argument parser" in notes[0], notes[0]
    assert "neither the key nor its value is checked here" in notes[0] and "vLLM 0.28.0, 0.29.0, 0.30.0, 0.31.0 read it" in notes[0], notes[0]


def test_declared_keys_give_no_warning():
    made = plan("vllm", "0.31.0", {"option.enforce_eager": "true", "option.max_rolling_batch_prefill_tokens": "4096"})
    assert not [w for w in made.warnings if "options." in w], made.warnings


@pytest.mark.parametrize("backend,version,generation,extra", [
    ("deepspeed", "0.25.0", "v1", "ignore"), ("lmi-dist", "0.27.0", "v1", "ignore"),
    ("lmi-dist", "0.28.0", "v2", "ignore"), ("vllm", "0.31.0", "v2", "ignore"), ("vllm", "0.32.0", "v2", "allow"),
    ("vllm", "0.38.0", "v2", "allow"), ("tensorrtllm", "0.32.0", "v2", "ignore"),
    ("tensorrtllm", "0.33.0", "v2", "allow"),
])
def test_classes_pydantic_generation_and_extras(backend, version, generation, extra):
    found = facts(backend, version)
    assert found is not None and found.classes
    assert {c.pydantic for c in found.classes} == {generation}
    assert ("allow" if any(c.extra == "allow" for c in found.classes) else "ignore") == extra


@pytest.mark.parametrize("backend,version,key,read", [
    ("vllm", "0.38.0", "option.max_num_batched_tokens", True),  # Field(alias=...) with populate_by_name
    ("vllm", "0.38.0", "option.max_rolling_batch_prefill_tokens", True),
    ("deepspeed", "0.27.0", "option.deepspeed_config_path", True),  # pydantic 1 alias without population by name
    ("deepspeed", "0.27.0", "option.ds_config", False),
    ("vllm", "0.38.0", "option.enforce_eager", False),  # an EngineArgs pass-through, not declared by djl
])
def test_aliases_are_names_the_container_reads(backend, version, key, read):
    found = facts(backend, version)
    assert found is not None and (key in found.keys) is read


# --- the CLI: validate FILE and app.py's path (what `make synth` runs) exit 2 with a located paragraph -------------
CLI_ROWS = [b for b in REFUSED if b.id in {
    "vllm-0.31.0-enforce_eager-maybe", "vllm-0.38.0-max_num_batched_tokens-4k", "lmi-dist-0.32.0-enforce_eager-maybe",
    "deepspeed-0.27.0-training_mp_size-two", "neuronx-0.29.0-enable_saturate_infinity-maybe",
    "tensorrtllm-0.33.0-max_beam_width-wide", "deepspeed-0.26.0-smoothquant_alpha-half",
}]


GOOD_VALUE = {(b, v, k): values[0] for b, v, k, values in GOOD}


def deployments_file(bad: Bad, value: str) -> str:
    instance = f"    instance_type: {INSTANCE[bad.backend]}\n" if bad.backend in INSTANCE else ""
    return (f"deployments:\n  - name: chat\n    model: {MODEL}\n    backend: {bad.backend}\n"
            f"    container_version: \"{bad.version}\"\n{instance}    options:\n      {bad.key}: {value}\n")


@pytest.fixture(scope="module")
def cli_results(tmp_path_factory) -> tuple[dict[str, Path], dict[str, dict]]:
    """Each row's file with the bad value and, where GOOD has one, with a good value: one forking worker runs them
    all (tests/hostile/worker.py), as `validate FILE` and as app.py's path."""
    from tests.hostile.test_hostile import run_cases

    base = tmp_path_factory.mktemp("optypes")
    paths = {}
    for bad in CLI_ROWS:
        good = GOOD_VALUE.get((bad.backend, bad.version, bad.key))
        for kind, value in (("bad", bad.value), ("good", good)):
            if value is not None:
                paths[f"{bad.id}-{kind}"] = base / f"{bad.id}-{kind}.yaml"
                paths[f"{bad.id}-{kind}"].write_text(deployments_file(bad, value))
    jobs = [{"id": f"{name}@{mode}", "mode": mode, "args": [str(path)], "cwd": str(base)}
            for name, path in paths.items() for mode in ("validate", "app")]
    return paths, run_cases(jobs)


@pytest.mark.parametrize("bad", CLI_ROWS, ids=lambda b: b.id)
def test_cli_refuses_with_a_located_paragraph(bad: Bad, cli_results):
    paths, results = cli_results
    path = paths[f"{bad.id}-bad"]
    line = 8 if bad.backend in INSTANCE else 7  # the option's own line in deployments_file
    for mode in ("validate", "app"):
        result = results[f"{bad.id}-bad@{mode}"]
        assert result["exit"] == 2 and result["stdout"] == "", (mode, result)
        stderr = result["stderr"]
        assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
        assert f"deployments[chat].options.{bad.key} = '{bad.value}'" in stderr, stderr
        assert bad.declared in stderr and bad.works in stderr, stderr
        if mode == "validate":
            assert stderr.startswith(f"{path}:{line}:7: "), stderr
        else:
            assert stderr.startswith(f"error: {path}:{line}:7: "), stderr


def test_cli_accepts_good_values(cli_results):
    _, results = cli_results
    good = {name: r for name, r in results.items() if "-good@" in name}
    assert good
    for name, result in good.items():
        assert result["exit"] == 0 and "Traceback" not in result["stderr"], (name, result)


# --- our own rendered values are held to the same declared types ---------------------------------------------------
@pytest.mark.parametrize("backend_name,version", backend_versions(), ids=lambda v: str(v))
def test_every_rendered_key_has_a_declared_type_and_our_value_parses(backend_name, version):
    """Each key a template renders is typed by a djl-serving reader (a properties class, or PyModel.java's parse
    call), except keys no djl code types: those the closed TensorRT-LLM toolkit reads (<= 0.32.0, documented, not
    verified) and those vLLM >= 0.32.0 receives through EngineArgs by name. Every typed value parses."""
    found = facts(backend_name, version)
    assert found is not None
    made = checked = 0
    untyped, wrong = set(), []
    for request, plan_ in plans_for(backend_name, version):
        if plan_ is None:
            continue
        made += 1
        for key, value in plan_.serving_properties.items():
            fact = found.keys[key]
            if not fact.types:
                untyped.add(key)
                continue
            checked += sum(1 for t in fact.types if not t.coerced_by and t.type not in ("str", "other"))
            problem = type_problem(found, fact, value)
            if problem:
                wrong.append(f"{request.model} {request.instance_type} {key}={value}: {problem[0]}")
    assert made and checked, (made, checked)
    assert not wrong, "\n".join(wrong)
    keeps_extras = any(c.extra == "allow" for c in found.classes)
    allowed = {k for k, f in found.keys.items() if not f.verified or (keeps_extras and not f.types)}
    assert untyped <= allowed, sorted(untyped - allowed)


# --- shared endpoints and defaults: the refusal names the deployment and the option's own line --------------------
def test_a_bad_value_on_a_shared_endpoint_is_refused_at_its_line(tmp_path):
    from selector.deployments import check_file

    path = tmp_path / "pool.yaml"
    path.write_text("endpoints:\n  chat-pool:\n    families: [g5]\n    max_instances: 2\ndeployments:\n"
                    "  - name: llama\n    endpoint: chat-pool\n    model: meta-llama/Llama-2-13b-hf\n"
                    "    options:\n      option.max_rolling_batch_prefill_tokens: lots\n")
    _, problems = check_file(path)
    assert len(problems) == 1, [p.line_text() for p in problems]
    problem = problems[0]
    assert (problem.line, problem.column) == (10, 7), problem.line_text()
    assert problem.field == "deployments[llama].options.option.max_rolling_batch_prefill_tokens"
    assert "shared endpoint chat-pool" in problem.problem and "Optional[int]" in problem.problem
    assert "a whole number" in problem.hint


def test_a_bad_value_inherited_from_defaults_is_located_there(tmp_path):
    from selector.deployments import check_file

    path = tmp_path / "defaults.yaml"
    path.write_text("defaults:\n  backend: vllm\n  container_version: \"0.31.0\"\n  options:\n"
                    "    option.enforce_eager: maybe\ndeployments:\n  - name: a\n    model: meta-llama/Llama-2-7b-hf\n")
    _, problems = check_file(path)
    assert [(p.line, p.column) for p in problems] == [(5, 5)], [p.line_text() for p in problems]
    assert "enforce_eager: Optional[bool]" in problems[0].problem and problems[0].hint == "Write true or false"


def test_the_typo_of_a_published_notebook_gets_the_did_you_mean():
    """aws-samples/sagemaker-genai-hosting-examples 04-workshops/cost/lab1_LoRA_adapters.ipynb @ 80ee5ebf sets
    option.max_rolling_batch_prefill_tokes=2048 on lmi-dist 0.29.0 (tests/fixtures/reference_deployments.yaml,
    gh-llama2-7b-chat-lora-lmidist-g5-2xl): the container ignores it; the plan says so and names the real key."""
    made = plan("lmi-dist", "0.29.0", {"option.max_rolling_batch_prefill_tokes": "2048"})
    notes = [w for w in made.warnings if "max_rolling_batch_prefill_tokes" in w]
    assert len(notes) == 1 and "Did you mean option.max_rolling_batch_prefill_tokens?" in notes[0], made.warnings


# --- the builder's class reader, on a small source of the same shape (CI has no djl-serving mirror) ---------------
BASE_V2 = '''from enum import Enum
from typing import Optional
from pydantic import BaseModel, field_validator, model_validator, ConfigDict


class RollingBatchEnum(str, Enum):
    vllm = "vllm"
    disable = "disable"


class Properties(BaseModel):
    model_id_or_path: str
    rolling_batch: RollingBatchEnum = RollingBatchEnum.disable
    batch_size: int = 1
    model_config = ConfigDict(arbitrary_types_allowed=True)

    @field_validator('batch_size', mode='before')
    def validate_batch_size(cls, batch_size):
        return int(batch_size)

    @model_validator(mode='before')
    def set_model_id_or_path(cls, properties):
        properties['model_id_or_path'] = properties.get("model_id")
        return properties
'''
CHILD = '''from typing import Optional, Literal, List
from pydantic import Field, ConfigDict
from djl_python.properties_manager.properties import Properties


class ChildProperties(Properties):
    enforce_eager: Optional[bool] = None
    prefill: Optional[int] = Field(alias="max_num_batched_tokens", default=None)
    ratio: float | None = 0.9
    fmt: Literal["auto", "openai"] = "auto"
    shapes: Optional[List[int]] = None
    model_config = ConfigDict(extra='allow', populate_by_name=True)
'''


class FakeMirror:
    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def text(self, branch: str, path: str) -> str | None:
        return self.files.get(path)


def test_read_class_types_aliases_validators_and_extras():
    from scripts.build_container_options import PM, read_class

    mirror = FakeMirror({f"{PM}/properties.py": BASE_V2, f"{PM}/child.py": CHILD})
    info = read_class(mirror, "b", f"{PM}/child.py", "ChildProperties")
    assert (info.extra, info.populate_by_name, info.pydantic) == ("allow", True, "v2")
    kinds = {name: (f.kind["type"], f.kind["nullable"], f.names, f.coerced_by) for name, f in info.fields.items()}
    assert kinds["enforce_eager"] == ("bool", True, ("enforce_eager",), None)
    assert kinds["prefill"] == ("int", True, ("max_num_batched_tokens", "prefill"), None)
    assert kinds["ratio"] == ("float", True, ("ratio",), None)
    assert kinds["fmt"][0] == "enum" and info.fields["fmt"].kind["values"] == ["auto", "openai"]
    assert kinds["shapes"][0] == "other"
    assert kinds["rolling_batch"][0] == "enum" and info.fields["rolling_batch"].kind["values"] == ["vllm", "disable"]
    assert kinds["batch_size"][3] == "validate_batch_size"  # rewritten before the type applies: not checked
    assert kinds["model_id_or_path"][3] == "set_model_id_or_path"


def test_read_class_pydantic_1_api_and_alias_without_population_by_name():
    from scripts.build_container_options import PM, read_class

    base = BASE_V2.replace("from pydantic import BaseModel, field_validator, model_validator, ConfigDict",
                           "from pydantic.v1 import BaseModel, validator, root_validator")
    child = CHILD.replace("    model_config = ConfigDict(extra='allow', populate_by_name=True)\n", "")
    mirror = FakeMirror({f"{PM}/properties.py": base, f"{PM}/child.py": child})
    info = read_class(mirror, "b", f"{PM}/child.py", "ChildProperties")
    assert (info.extra, info.populate_by_name, info.pydantic) == ("ignore", False, "v1")
    assert info.fields["prefill"].names == ("max_num_batched_tokens",)


@pytest.mark.parametrize("options,refused", [
    ({"option.enable_auto_tool_choice": "true"}, True),
    ({"option.enable_auto_tool_choice": "true", "option.tool_call_parser": "llama3_json"}, False),
    ({"option.enable_auto_tool_choice": "false"}, False),
    ({"option.enable_reasoning": "true"}, True),
])
def test_a_switch_without_its_parser_is_refused_from_vllm_0_32(options, refused):
    """VllmRbProperties.validate_tool_call_parser / validate_reasoning_parser (0.32.0-dlc on) refuse the switch when
    the parser is absent (None is not a registered parser)."""
    from selector.errors import SelectorError

    try:
        resolve(Request(model="meta-llama/Llama-3.1-8B", options=options))
    except SelectorError as error:
        assert refused and "without option." in error.paragraph()
    else:
        assert not refused

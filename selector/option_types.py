"""The values of a deployment's free `options:` held to the types djl-serving itself declares for them.

A wrong value (option.enforce_eager=maybe) gives a plan whose container refuses to start, with pydantic's error in
its log: refusing it at plan time is better. The declared types come from the container's own properties classes
at the release branch of each image (selector/data/container_options.json, read with `ast` by
scripts/build_container_options.py); the check is pydantic's own lax parsing of a string into that type, with the
pydantic generation that version's classes use (the v1 API up to 0.27.0, v2 from 0.28.0).

What is not checked, and why it is a warning rather than a refusal:
- a key no properties class of the version declares. The Java front end and handler code also read some option.*
  keys by name, which the catalog does not enumerate, and a key may belong to an older or newer image: the plan says
  the key is not declared (and the nearest declared key, for typos) instead of refusing it;
- a key a class with extra='allow' keeps undeclared (vLLM >= 0.32.0 hands those naming a vllm.EngineArgs field to
  vLLM's argument parser; TensorRT-LLM >= 0.33.0 keeps them for its LLM API): vLLM's own types are not read here;
- a field whose value a before-validator rewrites first (its annotation alone decides nothing), and types outside
  bool/int/float/str/enum (lists, dicts, Any).
"""
from __future__ import annotations

import difflib
import enum
import re
from functools import lru_cache
from typing import Any

from selector.conformance import KeyFact, TypeFact, VersionFacts, facts, versions_reading
from selector.errors import Problem, one_of
from selector.render import PLAN_KEYS

DID_YOU_MEAN_CUTOFF = 0.8  # difflib ratio: gpu_memory_utilisation -> gpu_memory_utilization, not unrelated keys
JAVA_INT = re.compile(r"[-+]?[0-9]+", re.ASCII)  # Integer.parseInt: optional sign, decimal digits
JAVA_INT_MAX = 2**31 - 1
BACKEND_NAMES = {"vllm": "vLLM", "lmi-dist": "lmi-dist", "tensorrtllm": "TensorRT-LLM", "neuronx": "NeuronX",
                 "deepspeed": "DeepSpeed"}


def _python_type(kind: str, values: tuple[str | int, ...] | None) -> Any:
    """The Python type pydantic validates into: a scalar, or an Enum with the declared members."""
    if kind == "enum" and values is not None:
        base = int if all(isinstance(v, int) for v in values) else str
        return enum.Enum("Declared", {f"m{i}": v for i, v in enumerate(values)}, type=base)
    return {"bool": bool, "int": int, "float": float}[kind]


@lru_cache(maxsize=256)
def _validator(parser: str, kind: str, values: tuple[str | int, ...] | None) -> Any:
    """A callable that raises on a string pydantic (of the container's generation) would not parse."""
    target = _python_type(kind, values)
    if parser == "pydantic-v1":
        from pydantic.v1 import parse_obj_as

        return lambda text: parse_obj_as(target, text)
    from pydantic import TypeAdapter

    return TypeAdapter(target).validate_python


def parses(declared: TypeFact, value: str) -> bool:
    """Whether the reader would accept this string for the declared type (True where nothing is checkable)."""
    if declared.coerced_by or declared.type in ("str", "other"):
        return True
    if declared.parser == "java":
        if declared.type == "int":
            return bool(JAVA_INT.fullmatch(value)) and abs(int(value)) <= JAVA_INT_MAX
        if declared.type == "bool":  # Boolean.parseBoolean reads anything but "true" as false
            return value.lower() in ("true", "false")
        return True
    if not declared.parser.startswith("pydantic-"):
        return True
    try:
        _validator(declared.parser, declared.type, declared.values)(value)
    except Exception:  # noqa: BLE001 - pydantic.v1 and v2 raise different ValidationError types
        return False
    return True


def would_work(declared: TypeFact) -> str:
    """What to write instead, in the reader's own terms."""
    if declared.type == "bool":
        return "true or false"
    if declared.type == "int":
        return "a whole number, e.g. 4096"
    if declared.type == "float":
        return "a number, e.g. 0.9"
    if declared.type == "enum" and declared.values is not None:
        return "one of " + one_of([str(v) for v in declared.values])
    return "a value of type " + declared.declared


def type_problem(found: VersionFacts, fact: KeyFact, value: str) -> tuple[str, str] | None:
    """(problem, what would work) when a declared type of `fact` does not parse `value`, else None."""
    for declared in fact.types:
        if parses(declared, value):
            continue
        reader = f"{declared.by}.{declared.declared}" if declared.parser.startswith("pydantic") else \
            f"{declared.by} ({declared.declared})"
        problem = (f"{BACKEND_NAMES.get(found.backend, found.backend)} {found.version} reads it as {reader}, which "
                   f"does not parse this value, so the container refuses to start "
                   f"(deepjavalibrary/djl-serving {found.branch} {declared.path} @ {found.commit[:12]})")
        return problem, f"Write {would_work(declared)}"
    return None


def _short(evidence: str) -> str:
    """`owner/repo branch path @ sha` with the commit shortened to 12 characters, for a one-line warning."""
    head, _, commit = evidence.rpartition(" @ ")
    return f"{head} @ {commit[:12]}"


def _not_declared(found: VersionFacts, key: str) -> str:
    """The warning for a key no properties class of this version declares."""
    name = f"{BACKEND_NAMES.get(found.backend, found.backend)} {found.version}"
    keeping = [c for c in found.classes if c.extra == "allow"]
    classes = ", ".join(c.name for c in found.classes) or "its properties classes"
    if keeping:
        text = (f"options.{key} is declared by none of {name}'s properties classes ({classes}); "
                f"{keeping[0].name} has extra='allow' and {keeping[0].extras or 'keeps it'} ({_short(keeping[0].evidence)}): "
                "neither the key nor its value is checked here")
    else:
        text = (f"options.{key} is declared by none of {name}'s properties classes ({classes}), which ignore "
                f"undeclared keys: unless other container code reads it by name, it has no effect")
    elsewhere = [v for v in versions_reading(found.backend, key) if v != found.version]
    if elsewhere:
        text += f"; {BACKEND_NAMES.get(found.backend, found.backend)} {', '.join(elsewhere)} read{'s' if len(elsewhere) == 1 else ''} it"
    close = difflib.get_close_matches(key, sorted(found.keys), n=1, cutoff=DID_YOU_MEAN_CUTOFF)
    if close and not elsewhere:
        owned = " (the plan sets it from the request)" if close[0] in PLAN_KEYS else ""
        text += f". Did you mean {close[0]}{owned}?"
    return text.rstrip(".") + ("" if text.endswith("?") else ".")


# Switches whose model validator needs a partner key (VllmRbProperties.validate_tool_call_parser /
# validate_reasoning_parser: the parser must be one vLLM registers, so an absent one fails at start), from vLLM
# 0.32.0 (deepjavalibrary/djl-serving 0.32.0-dlc engines/python/setup/djl_python/properties_manager/
# vllm_rb_properties.py; still so at master @ d21927c4). Which parser names vLLM registers is not checked here.
NEEDS_PARTNER = {"option.enable_auto_tool_choice": "option.tool_call_parser",
                 "option.enable_reasoning": "option.reasoning_parser"}
PARTNERS_FROM = "0.32.0"


def _is_true(text: str | None) -> bool:
    """What the class's bool field makes of the value (pydantic's lax parsing, as the container does)."""
    if text is None:
        return False
    try:
        return bool(_validator("pydantic-v2", "bool", None)(text))
    except ValueError:
        return False  # not a bool at all: the type check refuses it


def _missing_partners(backend: str, version: str, options: dict[str, str]) -> list[Problem]:
    from selector.versions import version_key

    if backend != "vllm" or version_key(version) < version_key(PARTNERS_FROM):
        return []
    lowered = {k.lower(): str(v) for k, v in options.items()}
    out = []
    for switch, partner in NEEDS_PARTNER.items():
        if _is_true(lowered.get(switch)) and not lowered.get(partner):
            out.append(Problem(f"options.{switch}", lowered[switch],
                               f"vLLM {version}'s properties class refuses {switch}=true without {partner} (its model "
                               "validator looks the parser up among vLLM's registered ones)",
                               f"Add {partner} (a parser vLLM registers, e.g. the model card's), or drop {switch}"))
    return out


def check_user_options(backend: str, version: str, options: dict[str, str]) -> tuple[list[Problem], list[str]]:
    """(refusals, warnings) for a plan's free options at the chosen backend and container version: a value its
    declared type does not parse is refused; a key no class declares is a warning (see the module docstring)."""
    found = facts(backend, version)
    if found is None or not options:
        return [], []
    refusals, warnings = [], []
    for key, value in sorted((k, v) for k, v in options.items() if k.startswith("option.")):  # server keys: Java
        fact = found.keys.get(key)
        if fact is None:
            warnings.append(_not_declared(found, key))
            continue
        wrong = type_problem(found, fact, value)
        if wrong:
            refusals.append(Problem(f"options.{key}", value, wrong[0], wrong[1]))
    return refusals + _missing_partners(backend, version, options), warnings

"""What each LMI container version reads: option keys and accepted values, from its own configuration code.

The facts live in selector/data/container_options.json (rebuilt and re-checked against djl-serving's release
branches by scripts/build_container_options.py). This module only answers questions about them:
does version V of backend B read key K, does it accept value X, is that backend/version verified against
source, and how does the container turn OPTION_* environment variables back into properties.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache, cache
from pathlib import Path
from typing import Any

from selector.versions import in_range, version_key

DATA_FILE = Path(__file__).resolve().parent / "data" / "container_options.json"
OPTION_PREFIX = "option."
ENV_OPTION_PREFIX = "OPTION_"


@dataclass(frozen=True)
class TypeFact:
    """How one reader declares a key's value: a pydantic field's annotation, or a Java/Python parse call."""

    by: str  # the class (VllmRbProperties) or file (PyModel.java) that reads it
    type: str  # bool | int | float | str | enum | other (other: not checked)
    nullable: bool
    values: tuple[str | int, ...] | None  # enum members
    declared: str  # the declaration as written in the source
    path: str
    parser: str  # pydantic-v1 | pydantic-v2 | java | python
    coerced_by: str | None = None  # a before-validator rewrites the value first: the annotation alone decides nothing


@dataclass(frozen=True)
class ClassFact:
    """A pydantic properties class the container builds from serving.properties at this version."""

    name: str
    evidence: str
    extra: str  # allow: keys it does not declare are kept (and handed on); ignore: dropped
    pydantic: str  # v1 | v2: whose lax parsing rules apply
    extras: str | None = None  # with extra='allow': what the class does with the keys it keeps


@dataclass(frozen=True)
class KeyFact:
    key: str
    values: frozenset[str] | None  # None: not enumerable (ints, ids) or passed on as is
    verified: bool  # False: read by code whose source is not public (documented, not checked)
    evidence: tuple[str, ...]
    reason: str | None = None
    types: tuple[TypeFact, ...] = ()  # empty: no reader declares a type we can read (EngineArgs, closed toolkit)


@dataclass(frozen=True)
class Constraint:
    when: dict[str, str]
    key: str
    rejects: frozenset[str]
    evidence: str
    message: str


@dataclass(frozen=True)
class VersionFacts:
    backend: str
    version: str
    branch: str
    commit: str
    verified: bool
    reason: str | None
    keys: dict[str, KeyFact]
    constraints: tuple[Constraint, ...]
    classes: tuple[ClassFact, ...] = ()

    @property
    def source(self) -> str:
        return f"deepjavalibrary/djl-serving {self.branch} @ {self.commit[:12]}"


@dataclass(frozen=True)
class Conformance:
    """What a plan can say about its rendered options: checked against the container's source or not."""

    verified: bool
    source: str
    note: str

    def to_json(self) -> dict[str, Any]:
        return {"verified": self.verified, "source": self.source, "note": self.note}


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    return json.loads(DATA_FILE.read_text())


def _type_fact(raw: dict[str, Any]) -> TypeFact:
    values = raw.get("values")
    return TypeFact(raw["by"], raw["type"], raw["nullable"], tuple(values) if values is not None else None,
                    raw["declared"], raw["path"], raw["parser"], raw.get("coerced_by"))


def _version_facts(backend: str, version: str, raw: dict[str, Any]) -> VersionFacts:
    keys = {
        key: KeyFact(key, frozenset(entry["values"]) if entry["values"] is not None else None, True,
                     tuple(entry["evidence"]), types=tuple(_type_fact(t) for t in entry.get("types", ())))
        for key, entry in raw["keys"].items()
    }
    for key, entry in raw["unverified_keys"].items():
        typed = keys[key].types if key in keys else ()  # a properties class may still declare its type
        keys[key] = KeyFact(key, frozenset(entry["values"]) if entry["values"] is not None else None, False,
                            tuple(entry["evidence"]), entry["reason"], typed)
    constraints = tuple(
        Constraint(dict(c["when"]), c["key"], frozenset(c["rejects"]), c["evidence"], c["message"])
        for c in raw["constraints"]
    )
    classes = tuple(ClassFact(c["class"], c["evidence"], c["extra"], c["pydantic"], c.get("extras")) for c in raw.get("classes", ()))
    return VersionFacts(backend, version, raw["branch"], raw["commit"], raw["verified"], raw["reason"], keys,
                        constraints, classes)


@cache
def facts(backend: str, version: str) -> VersionFacts | None:
    """The facts for one backend at one image version; None when the catalog has none (not checkable)."""
    raw = _document()["backends"].get(backend, {}).get(version)
    return _version_facts(backend, version, raw) if raw else None


def reads(backend: str, version: str, key: str) -> bool:
    found = facts(backend, version)
    return found is not None and key in found.keys


def versions_reading(backend: str, key: str) -> list[str]:
    """The container versions of the backend that read the key, oldest first."""
    versions = _document()["backends"].get(backend, {})
    return sorted((v for v, raw in versions.items() if key in raw["keys"]), key=version_key)


def accepts(backend: str, version: str, key: str, value: str) -> bool:
    found = facts(backend, version)
    if found is None or key not in found.keys:
        return False
    allowed = found.keys[key].values
    return allowed is None or value in allowed


def problems(backend: str, version: str, options: dict[str, str], complete: bool = False) -> list[str]:
    """Every key the container version would ignore and every value it would refuse (by its accepted values or its
    declared type), one sentence each; with `complete` (the options are a whole serving.properties), also a missing
    `engine`, which the front end needs to pick the engine provider."""
    from selector.option_types import type_problem

    found = facts(backend, version)
    if found is None:
        return [f"no container facts for {backend} {version}"]
    out = []
    if complete and "engine" in found.keys and "engine" not in options:
        out.append(f"engine is missing: {backend} {version}'s front end picks the engine provider from it")
    for key, value in sorted(options.items()):
        fact = found.keys.get(key)
        if fact is None:
            out.append(f"{key} is read by nothing in {backend} {version} ({found.source})")
            continue
        if fact.values is not None and value not in fact.values:
            out.append(f"{key}={value} is not accepted by {backend} {version}: it takes {', '.join(sorted(fact.values))}")
        wrong = type_problem(found, fact, value)
        if wrong:
            out.append(f"{key}={value}: {wrong[0]}")
    for c in found.constraints:
        if all(options.get(k) == v for k, v in c.when.items()) and options.get(c.key) in c.rejects:
            out.append(f"{c.key}={options.get(c.key)} is refused with {c.when} by {backend} {version}: {c.message}")
    return out


def conformance(backend: str, version: str) -> Conformance:
    """The plan-facing summary: verified against the container's source, or why not."""
    found = facts(backend, version)
    if found is None:
        return Conformance(False, "none", f"{backend} {version} is not in the container facts catalog")
    if found.verified:
        return Conformance(True, found.source, "every rendered key and value is read by this version's source")
    unverified = sorted(k for k, f in found.keys.items() if not f.verified)
    return Conformance(False, found.source, f"{found.reason}; not verified: {', '.join(unverified)}")


def engine_variable(version: str) -> str | None:
    """The environment variable that sets `engine` at this container version (None: there is none)."""
    for rule in _document()["environment"]:
        if in_range(version, rule["min_version"], rule["max_version"]):
            return rule["engine_variable"]
    return None


def environment_to_properties(environment: dict[str, str], version: str) -> dict[str, str]:
    """The container's own rule (ModelInfo.java): OPTION_<NAME> -> option.<name>, lower-cased, except
    OPTION_ENTRYPOINT -> option.entryPoint and, where the version has it, the engine variable -> engine."""
    engine = engine_variable(version)
    out: dict[str, str] = {}
    for name, value in environment.items():
        if not name.startswith(ENV_OPTION_PREFIX) or not value:
            continue
        if name == engine:
            out["engine"] = value
            continue
        out[_option_key(name[len(ENV_OPTION_PREFIX):])] = value
    return out


def _option_key(suffix: str) -> str:
    key = suffix.lower()
    return OPTION_PREFIX + ("entryPoint" if key == "entrypoint" else key)


def arrives_as(option_key: str) -> str:
    """The name an option.* key has in the container after travelling as an OPTION_* environment variable."""
    return _option_key(option_key[len(OPTION_PREFIX):])

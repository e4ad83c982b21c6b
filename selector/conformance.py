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

from selector.versions import in_range

DATA_FILE = Path(__file__).resolve().parent / "data" / "container_options.json"
OPTION_PREFIX = "option."
ENV_OPTION_PREFIX = "OPTION_"


@dataclass(frozen=True)
class KeyFact:
    key: str
    values: frozenset[str] | None  # None: not enumerable (ints, ids) or passed on as is
    verified: bool  # False: read by code whose source is not public (documented, not checked)
    evidence: tuple[str, ...]
    reason: str | None = None


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


def _version_facts(backend: str, version: str, raw: dict[str, Any]) -> VersionFacts:
    keys = {
        key: KeyFact(key, frozenset(entry["values"]) if entry["values"] is not None else None, True,
                     tuple(entry["evidence"]))
        for key, entry in raw["keys"].items()
    }
    for key, entry in raw["unverified_keys"].items():
        keys[key] = KeyFact(key, frozenset(entry["values"]) if entry["values"] is not None else None, False,
                            tuple(entry["evidence"]), entry["reason"])
    constraints = tuple(
        Constraint(dict(c["when"]), c["key"], frozenset(c["rejects"]), c["evidence"], c["message"])
        for c in raw["constraints"]
    )
    return VersionFacts(backend, version, raw["branch"], raw["commit"], raw["verified"], raw["reason"], keys,
                        constraints)


@cache
def facts(backend: str, version: str) -> VersionFacts | None:
    """The facts for one backend at one image version; None when the catalog has none (not checkable)."""
    raw = _document()["backends"].get(backend, {}).get(version)
    return _version_facts(backend, version, raw) if raw else None


def reads(backend: str, version: str, key: str) -> bool:
    found = facts(backend, version)
    return found is not None and key in found.keys


def accepts(backend: str, version: str, key: str, value: str) -> bool:
    found = facts(backend, version)
    if found is None or key not in found.keys:
        return False
    allowed = found.keys[key].values
    return allowed is None or value in allowed


def problems(backend: str, version: str, options: dict[str, str]) -> list[str]:
    """Every key the container version would ignore and every value it would refuse, one sentence each."""
    found = facts(backend, version)
    if found is None:
        return [f"no container facts for {backend} {version}"]
    out = []
    for key, value in sorted(options.items()):
        fact = found.keys.get(key)
        if fact is None:
            out.append(f"{key} is read by nothing in {backend} {version} ({found.source})")
        elif fact.values is not None and value not in fact.values:
            out.append(f"{key}={value} is not accepted by {backend} {version}: it takes {', '.join(sorted(fact.values))}")
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
        key = name[len(ENV_OPTION_PREFIX):].lower()
        out[OPTION_PREFIX + ("entryPoint" if key == "entrypoint" else key)] = value
    return out

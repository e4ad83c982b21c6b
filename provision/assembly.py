"""The stacks of a synthesized cloud assembly (`cdk.out`): names, regions, templates, bootstrap needs.

Only what preflight and verify read before and after the CDK CLI deploys; publishing assets and creating
stacks is the CLI's job. manifest.json lists artifacts; a stack artifact names its template file and its
environment (`aws://account/region`, `unknown-*` when environment-agnostic). Nested assemblies (CDK
stages, e.g. a pipeline) are searched too. A missing or malformed manifest is a UserError (exit 2).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provision.errors import UserError, excerpt

STACK_TYPE = "aws:cloudformation:stack"
NESTED_TYPE = "cdk:cloud-assembly"
RESYNTH = "synthesize again (`make synth`, or `cdk synth` in your app)"


@dataclass(frozen=True)
class StackArtifact:
    artifact_id: str
    stack_name: str
    display_name: str
    template_file: Path
    environment: str
    bootstrap_parameter: str | None = None
    bootstrap_version: int | None = None
    top_level: bool = True  # False inside a nested assembly (a CDK stage): `cdk deploy --all` skips those

    @property
    def account(self) -> str | None:
        account = self.environment.removeprefix("aws://").split("/")[0]
        return None if account.startswith("unknown-") else account

    @property
    def region(self) -> str | None:
        parts = self.environment.removeprefix("aws://").split("/")
        region = parts[1] if len(parts) > 1 else "unknown-region"
        return None if region.startswith("unknown-") else region

    def template(self) -> dict[str, Any]:
        document = _read_json(self.template_file)
        if not isinstance(document.get("Resources", {}), dict):
            raise UserError(f"{self.template_file}: field Resources is not an object; {RESYNTH}.")
        return document


@dataclass(frozen=True)
class CloudAssembly:
    directory: Path
    stacks: tuple[StackArtifact, ...]

    def stack(self, name: str) -> StackArtifact:
        for stack in self.stacks:
            if name in (stack.stack_name, stack.artifact_id, stack.display_name):
                return stack
        known = ", ".join(sorted(s.stack_name for s in self.stacks)) or "none"
        raise UserError(
            f"stack {name!r} is not in the cloud assembly {self.directory} (stacks there: {known}). "
            f"Check the name, or {RESYNTH}."
        )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; {RESYNTH}.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path} cannot be read ({excerpt(str(error))}); {RESYNTH}.") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path} line {error.lineno}: not valid JSON ({error.msg}); {RESYNTH}.") from None
    if not isinstance(document, dict):
        raise UserError(f"{path}: the top level is {type(document).__name__}, not an object; {RESYNTH}.")
    return document


def load_assembly(directory: str | Path) -> CloudAssembly:
    root = Path(directory)
    if not (root / "manifest.json").is_file():
        raise UserError(
            f"no cloud assembly at {root} (manifest.json missing). Run `make synth` first, or pass "
            "--app pointing at the cdk.out directory."
        )
    return CloudAssembly(root, tuple(_stacks(root, depth=0)))


def _field(path: Path, where: str, value: Any, kind: type, what: str) -> Any:
    if not isinstance(value, kind):
        raise UserError(
            f"{path}: field {where} is {excerpt(repr(value), 80)}, expected {what}; {RESYNTH}."
        )
    return value


def _stacks(root: Path, depth: int) -> list[StackArtifact]:
    manifest_path = root / "manifest.json"
    manifest = _read_json(manifest_path)
    artifacts = _field(manifest_path, "artifacts", manifest.get("artifacts", {}), dict, "an object")
    stacks = []
    for artifact_id, artifact in artifacts.items():
        where = f"artifacts.{artifact_id}"
        _field(manifest_path, where, artifact, dict, "an object")
        kind = artifact.get("type")
        props = _field(manifest_path, f"{where}.properties", artifact.get("properties", {}), dict, "an object")
        if kind == NESTED_TYPE and props.get("directoryName") and depth < 4:
            nested = _field(manifest_path, f"{where}.properties.directoryName", props["directoryName"], str, "a string")
            stacks.extend(_stacks(root / nested, depth + 1))
        if kind != STACK_TYPE:
            continue
        template = _field(manifest_path, f"{where}.properties.templateFile", props.get("templateFile"), str, "a file name")
        version = props.get("requiresBootstrapStackVersion")
        stacks.append(
            StackArtifact(
                artifact_id=artifact_id,
                stack_name=_field(manifest_path, f"{where}.properties.stackName", props.get("stackName", artifact_id),
                                  str, "a string"),
                display_name=str(artifact.get("displayName", artifact_id)),
                template_file=root / template,
                environment=_field(manifest_path, f"{where}.environment",
                                   artifact.get("environment", "aws://unknown-account/unknown-region"), str, "aws://ACCOUNT/REGION"),
                bootstrap_parameter=props.get("bootstrapStackVersionSsmParameter"),
                bootstrap_version=version if isinstance(version, int) else None,
                top_level=depth == 0,
            )
        )
    return stacks

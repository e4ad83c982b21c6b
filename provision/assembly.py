"""Read a synthesized CDK cloud assembly (`cdk.out`) the way the CDK CLI does, without aws_cdk.

manifest.json lists artifacts; a stack artifact names its template file, its environment
(`aws://account/region`, `unknown-*` when environment-agnostic), its tags and, through its dependencies,
the asset manifests (`<stack>.assets.json`) whose files must be in S3 before the stack is created.
Nested assemblies (CDK stages, e.g. a pipeline) are searched too.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from provision.errors import UserError

STACK_TYPE = "aws:cloudformation:stack"
ASSETS_TYPE = "cdk:asset-manifest"
NESTED_TYPE = "cdk:cloud-assembly"


@dataclass(frozen=True)
class Destination:
    bucket_name: str  # may hold ${AWS::AccountId} / ${AWS::Region} placeholders
    object_key: str
    region: str | None


@dataclass(frozen=True)
class FileAsset:
    asset_id: str
    display_name: str
    source: Path
    packaging: str
    destinations: tuple[Destination, ...]


@dataclass
class StackArtifact:
    artifact_id: str
    stack_name: str
    display_name: str
    directory: Path
    template_file: Path
    environment: str
    tags: dict[str, str] = field(default_factory=dict)
    termination_protection: bool = False
    template_asset_url: str | None = None
    bootstrap_parameter: str | None = None
    bootstrap_version: int | None = None
    asset_manifests: list[Path] = field(default_factory=list)

    @property
    def account(self) -> str | None:
        account = self.environment.removeprefix("aws://").split("/")[0]
        return None if account.startswith("unknown-") else account

    @property
    def region(self) -> str | None:
        parts = self.environment.removeprefix("aws://").split("/")
        region = parts[1] if len(parts) > 1 else "unknown-region"
        return None if region.startswith("unknown-") else region

    def template_bytes(self) -> bytes:
        return self.template_file.read_bytes()

    def template(self) -> dict[str, Any]:
        return json.loads(self.template_bytes())

    def file_assets(self) -> list[FileAsset]:
        assets = []
        for manifest_path in self.asset_manifests:
            manifest = _read_json(manifest_path)
            if manifest.get("dockerImages"):
                names = ", ".join(sorted(manifest["dockerImages"]))
                raise UserError(
                    f"stack {self.stack_name} has Docker image assets ({names}), which provision does not "
                    "build or push. Deploy it with `npx cdk deploy` instead."
                )
            for asset_id, body in sorted(manifest.get("files", {}).items()):
                source = body["source"]
                if "executable" in source or "path" not in source:
                    raise UserError(
                        f"asset {asset_id} of stack {self.stack_name} is produced by a command, which provision "
                        "does not run. Deploy it with `npx cdk deploy` instead."
                    )
                path = manifest_path.parent / source["path"]
                packaging = source.get("packaging", "file")
                if packaging != "file" or path.is_dir():
                    raise UserError(
                        f"asset {asset_id} of stack {self.stack_name} is a directory ({packaging} packaging); "
                        "provision publishes file assets only. Deploy it with `npx cdk deploy` instead."
                    )
                destinations = tuple(
                    Destination(d["bucketName"], d["objectKey"], d.get("region"))
                    for _, d in sorted(body.get("destinations", {}).items())
                )
                assets.append(FileAsset(asset_id, body.get("displayName", asset_id), path, packaging, destinations))
        return assets


@dataclass
class CloudAssembly:
    directory: Path
    stacks: list[StackArtifact]

    def stack(self, name: str) -> StackArtifact:
        for stack in self.stacks:
            if name in (stack.stack_name, stack.artifact_id, stack.display_name):
                return stack
        known = ", ".join(sorted(s.stack_name for s in self.stacks)) or "none"
        raise UserError(
            f"stack {name!r} is not in the cloud assembly {self.directory} (stacks there: {known}). "
            "Check the name, or synthesize again with `make synth`."
        )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; synthesize the app first (`make synth`).") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{path} is not valid JSON ({error}); synthesize again (`make synth`).") from None


def load_assembly(directory: str | Path) -> CloudAssembly:
    root = Path(directory)
    if not (root / "manifest.json").is_file():
        raise UserError(
            f"no cloud assembly at {root} (manifest.json missing). Run `make synth` first, or pass "
            "--app pointing at the cdk.out directory."
        )
    return CloudAssembly(root, _stacks(root))


def _stacks(root: Path) -> list[StackArtifact]:
    manifest = _read_json(root / "manifest.json")
    artifacts: dict[str, Any] = manifest.get("artifacts", {})
    stacks = []
    for artifact_id, artifact in artifacts.items():
        kind = artifact.get("type")
        props = artifact.get("properties", {})
        if kind == NESTED_TYPE and props.get("directoryName"):
            stacks.extend(_stacks(root / props["directoryName"]))
        if kind != STACK_TYPE:
            continue
        asset_manifests = [
            root / artifacts[dep]["properties"]["file"]
            for dep in artifact.get("dependencies", [])
            if artifacts.get(dep, {}).get("type") == ASSETS_TYPE
        ]
        stacks.append(
            StackArtifact(
                artifact_id=artifact_id,
                stack_name=props.get("stackName", artifact_id),
                display_name=artifact.get("displayName", artifact_id),
                directory=root,
                template_file=root / props["templateFile"],
                environment=artifact.get("environment", "aws://unknown-account/unknown-region"),
                tags=dict(props.get("tags", {})),
                termination_protection=bool(props.get("terminationProtection", False)),
                template_asset_url=props.get("stackTemplateAssetObjectUrl"),
                bootstrap_parameter=props.get("bootstrapStackVersionSsmParameter"),
                bootstrap_version=props.get("requiresBootstrapStackVersion"),
                asset_manifests=asset_manifests,
            )
        )
    return stacks

"""Deployments files (deployments/*.yaml): validated with pydantic, every deployment resolved up front.

`defaults:` is merged (shallowly) under each entry of `deployments:`. Unknown keys are refused with a
did-you-mean; every problem surfaces as one SelectorError naming the deployment, key and value. Nothing is
built until every deployment of the file resolves, so a typo never leaves a half-written cdk.out.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from selector.errors import SelectorError
from selector.plan import Plan
from selector.request import DEFAULT_REGION, Request

NAME_PATTERN = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
MAX_ENDPOINT_NAME = 63  # SageMaker EndpointName limit
TRAFFIC_SUFFIX = {"even": "-even", "uneven": "-uneven"}
# Not \b-delimited: a token glued to "_" (my_hf_..., hf_..._old) is still a token.
HF_TOKEN = re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}")
ARN = r"^arn:aws[a-z-]*:{service}:[a-z0-9-]*:(\d{{12}})?:.+$"
OPTION_KEY = re.compile(r"^(option\.[A-Za-z0-9_.]+|job_queue_size|batch_size|max_batch_delay|minWorkers|maxWorkers)$")
# A line break in anything that lands in serving.properties would start a new key=value line there.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _is_dir(path: str) -> bool:
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):  # too long, NUL byte: not a folder (load_model names the problem)
        return False


class Strict(BaseModel):
    # strict: YAML already types its scalars, so `true` or "4096" for a number is a mistake, not a 1 or 4096.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, protected_namespaces=())


class Autoscaling(Strict):
    min: int = Field(1, ge=1, description="Fewest instances.")
    max: int = Field(..., ge=1, description="Most instances.")
    target_invocations_per_instance: int = Field(10, ge=1, description="Target of SageMakerVariantInvocationsPerInstance (per minute).")
    scale_in_cooldown: int = Field(600, ge=0, le=86400, description="Seconds.")
    scale_out_cooldown: int = Field(300, ge=0, le=86400, description="Seconds.")

    @model_validator(mode="after")
    def _order(self) -> "Autoscaling":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Alarms(Strict):
    enabled: bool = True
    sns_topic_arn: str | None = Field(None, pattern=ARN.format(service="sns"))
    error_5xx_threshold: int = Field(1, ge=1, description="Invocation5XXErrors per 5 minutes.")
    latency_p90_ms: int = Field(30000, ge=1, description="ModelLatency p90 in milliseconds.")
    gpu_memory_percent: int = Field(95, ge=1, le=100, description="GPUMemoryUtilization (percent of all GPUs) ceiling.")


class Guardrails(Strict):
    enabled: bool = True
    wait_minutes: int = Field(10, ge=0, le=60, description="Bake time with alarms watched before the old fleet is removed.")


class Vpc(Strict):
    subnet_ids: list[str] = Field(..., min_length=1)
    security_group_ids: list[str] = Field(..., min_length=1)

    @field_validator("subnet_ids", "security_group_ids")
    @classmethod
    def _ids(cls, value: list[str], info) -> list[str]:
        prefix, what = ("subnet", "subnet id") if info.field_name == "subnet_ids" else ("sg", "security group id")
        for item in value:
            if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", item):
                raise ValueError(f"{item!r} is not a {what} ({prefix}-0123abcd...)")
        return value


class DataCapture(Strict):
    s3_uri: str = Field(..., pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
    sampling_percentage: int = Field(100, ge=1, le=100)


class Deployment(Strict):
    """One endpoint (or one per traffic pattern when `traffic` lists both)."""

    name: str = Field(..., pattern=NAME_PATTERN, max_length=MAX_ENDPOINT_NAME,
                      description="Endpoint name: lowercase letters, digits, hyphens.")
    model: str = Field(..., min_length=1, description="Catalog id, s3://bucket/prefix/ (with model_config) or a config.json path.")
    model_config_path: str | None = Field(None, alias="model_config", min_length=1,
                                          description="Local config.json describing the model.")
    revision: str | None = Field(None, min_length=1)
    traffic: Union[Literal["even", "uneven"], list[Literal["even", "uneven"]]] = "uneven"
    max_input_tokens: int | None = Field(None, ge=1, le=1_048_576)
    max_output_tokens: int | None = Field(None, ge=1, le=1_048_576)
    min_concurrency: int | None = Field(None, ge=1, le=1024)
    quantization: Literal["auto", "none", "awq", "gptq", "smoothquant", "int8", "fp8"] | None = None
    prefer: Literal["balanced", "cost"] = "balanced"
    families: list[str] | None = None
    backend: str | None = None
    instance_type: str | None = None
    tensor_parallel_degree: int | None = Field(None, ge=1, le=64)
    container_version: str | None = Field(None, pattern=r"^\d+\.\d+\.\d+$")
    region: str | None = Field(None, min_length=1, description="Omit for a region-agnostic stack (image account via a CfnMapping).")
    account: str | None = Field(None, pattern=r"^\d{12}$")
    instance_count: int = Field(1, ge=1, le=100)
    delivery: Literal["tarball", "environment"] | None = Field(
        None, description="tarball (default for hub models) or environment (default and only choice for s3:// models).")
    options: dict[str, Union[str, int, float, bool]] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    alarms: Alarms = Field(default_factory=Alarms)
    deployment_guardrails: Guardrails | None = None
    kms_key_arn: str | None = Field(None, pattern=ARN.format(service="kms"))
    vpc: Vpc | None = None
    network_isolation: bool = False
    data_capture: DataCapture | None = None
    hf_token_secret_arn: str | None = Field(None, pattern=ARN.format(service="secretsmanager"))
    protect: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, protected_namespaces=())

    @field_validator("traffic")
    @classmethod
    def _some_traffic(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("an empty list makes no endpoint (list even, uneven or both)")
        return value

    @field_validator("options")
    @classmethod
    def _option_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, item in value.items():
            if not OPTION_KEY.fullmatch(key):
                raise ValueError(f"{key!r} is not an LMI serving.properties key (expected option.<name>)")
            if isinstance(item, str) and CONTROL.search(item):
                raise ValueError(f"the value of {key} contains a line break or control character "
                                 "(it would add lines to serving.properties)")
        return value

    @field_validator("model", "model_config_path", "revision")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and CONTROL.search(value):
            raise ValueError("contains a line break or control character")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            if not 1 <= len(key) <= 128 or len(item) > 256 or CONTROL.search(key + item):
                raise ValueError(f"tag {key!r}: keys are 1-128 characters, values at most 256, on one line")
            if key.lower().startswith("aws:"):
                raise ValueError(f"tag {key!r}: the aws: prefix is reserved for AWS")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Deployment":
        if self.model.startswith("s3://") and not self.model_config_path:
            raise ValueError("an s3:// model needs model_config (a local config.json) so the selector knows its shape")
        if self.model.startswith("s3://") and not self.model.endswith("/"):
            raise ValueError("an s3:// model must be a prefix ending with '/'")
        if not self.model.startswith("s3://") and (self.model.endswith(".json") or _is_dir(self.model)):
            raise ValueError(
                f"model {self.model!r} is a local config.json: it describes the shape but ships no weights. Set "
                "model to the hub id or the s3:// prefix of the weights and model_config to this file")
        if self.model.startswith("s3://") and self.delivery == "tarball":
            raise ValueError(
                "an s3:// model is mounted at /opt/ml/model (uncompressed S3 prefix), where no serving.properties "
                "tarball can be added: use delivery: environment (the default for s3:// models)")
        if self.network_isolation and not self.model.startswith("s3://"):
            raise ValueError("network_isolation needs an s3:// model: an isolated container cannot reach the hub")
        if self.autoscaling and self.autoscaling.min > self.instance_count:
            raise ValueError(f"instance_count ({self.instance_count}) is below autoscaling.min ({self.autoscaling.min})")
        return self

    @property
    def delivery_mode(self) -> str:
        """The explicit delivery, else environment for s3:// weights (mounted as they are) and tarball otherwise."""
        return self.delivery or ("environment" if self.model.startswith("s3://") else "tarball")

    @property
    def traffic_patterns(self) -> list[str]:
        return [self.traffic] if isinstance(self.traffic, str) else list(dict.fromkeys(self.traffic))

    def endpoint_name(self, traffic: str) -> str:
        return self.name + TRAFFIC_SUFFIX[traffic] if isinstance(self.traffic, list) else self.name

    def request(self, traffic: str) -> Request:
        return Request(
            model=self.model, model_config=self.model_config_path, revision=self.revision, traffic=traffic,
            max_input_tokens=self.max_input_tokens, max_output_tokens=self.max_output_tokens,
            min_concurrency=self.min_concurrency, quantization=self.quantization, prefer=self.prefer,
            families=tuple(self.families or ()), backend=self.backend, instance_type=self.instance_type,
            tensor_parallel_degree=self.tensor_parallel_degree, container_version=self.container_version,
            region=self.region or DEFAULT_REGION, options={k: _option_text(v) for k, v in self.options.items()},
        )


class PipelineStage(Strict):
    """One environment the pipeline deploys every endpoint to."""

    name: str = Field(..., pattern=r"^[A-Za-z][A-Za-z0-9-]{0,63}$")
    account: str = Field(..., pattern=r"^\d{12}$")
    region: str
    production: bool = Field(False, description="A manual approval runs before this stage deploys.")


class Pipeline(Strict):
    """CDK Pipelines delivery: source, `make synth`, one stage per environment, verify after each."""

    account: str = Field(..., pattern=r"^\d{12}$", description="Account that hosts the pipeline.")
    region: str = Field(..., description="Region that hosts the pipeline.")
    repository: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$",
                            description="owner/name with connection_arn, or a CodeCommit repository name.")
    branch: str = "main"
    connection_arn: str | None = Field(None, pattern=ARN.format(service="(codestar-connections|codeconnections)"))
    stages: list[PipelineStage] = Field(..., min_length=1)

    @model_validator(mode="after")
    def _stages(self) -> "Pipeline":
        if self.connection_arn and "/" not in self.repository:
            raise ValueError(f"repository {self.repository!r}: a connection source needs owner/name")
        if not self.connection_arn and "/" in self.repository:
            raise ValueError(f"repository {self.repository!r}: set connection_arn for owner/name sources, "
                             "or give a CodeCommit repository name")
        seen = set()
        for stage in self.stages:
            if stage.name in seen or (stage.account, stage.region) in seen:
                raise ValueError(f"stage {stage.name!r}: stage names and account/region pairs must be unique")
            seen |= {stage.name, (stage.account, stage.region)}
        return self


class DeploymentsFile(Strict):
    defaults: dict[str, Any] = Field(default_factory=dict)
    deployments: list[Deployment] = Field(..., min_length=1)
    pipeline: Pipeline | None = None


def _option_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class ResolvedDeployment:
    deployment: Deployment
    traffic: str
    endpoint_name: str
    plan: Plan


def _known_keys(model: type[BaseModel]) -> list[str]:
    return sorted((f.alias or name) for name, f in model.model_fields.items())


def _model_at(loc: tuple) -> type[BaseModel]:
    """The pydantic model that owns the last key of an error location (for did-you-mean)."""
    current: type[BaseModel] = DeploymentsFile
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        annotation = getattr(field, "annotation", None) if field else None
        for candidate in (Deployment, Autoscaling, Alarms, Guardrails, Vpc, DataCapture, Pipeline, PipelineStage):
            if annotation is candidate or candidate in getattr(annotation, "__args__", ()) or (
                part == "deployments" and candidate is Deployment
            ):
                current = candidate
                break
    return current


def _location(loc: tuple, names: list[str]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] == "deployments":
            label = names[part] if part < len(names) and names[part] else str(part)
            parts[-1] = f"deployments[{label}]"
        elif isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        elif isinstance(part, int):
            parts.append(f"[{part}]")  # a number used as a top-level key
        elif part in ("literal['even','uneven']", "list[literal['even','uneven']]") or "[" in str(part):
            continue
        elif i >= 2 and loc[i - 2] == "options" and part in ("str", "int", "float", "bool"):
            continue  # union branch of an options value, not a key the user wrote
        else:
            parts.append(str(part))
    return ".".join(parts)


# What would work, for keys whose check is a regex (pydantic's own message only shows the pattern).
PATTERN_HINTS = {
    "name": "Use lowercase letters, digits and hyphens, starting and ending with a letter or digit",
    "account": "Use the 12-digit AWS account id as a quoted string",
    "container_version": "Use a version like 0.32.0 (python -m selector catalog backends)",
    "kms_key_arn": "Use a KMS key ARN: arn:aws:kms:<region>:<account>:key/<id>",
    "sns_topic_arn": "Use an SNS topic ARN: arn:aws:sns:<region>:<account>:<topic>",
    "hf_token_secret_arn": "Use a Secrets Manager ARN: arn:aws:secretsmanager:<region>:<account>:secret:<name>",
    "connection_arn": "Use a CodeConnections ARN: arn:aws:codeconnections:<region>:<account>:connection/<id>",
    "s3_uri": "Use s3://<bucket>/<prefix>",
    "repository": "Use owner/name",
}


def _from_validation(error: ValidationError, names: list[str]) -> SelectorError:
    errors = error.errors(include_url=False)
    # A misspelt key also makes the key it was meant to be "missing": report the typo, which is the cause.
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = tuple(first["loc"])
    field = _location(loc, names)
    if first["type"] == "extra_forbidden":
        key = str(loc[-1])
        known = _known_keys(_model_at(loc))
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f"Did you mean {close[0]}?" if close else f"Known keys: {', '.join(known)}"
        return SelectorError(field, first.get("input"), "unknown key", hint)
    message = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    if isinstance(value, dict):
        value = "{...}"
    hint = PATTERN_HINTS.get(str(loc[-1]), "") if first["type"] == "string_pattern_mismatch" else ""
    return SelectorError(field or "file", value, message, hint)


class _Loader(yaml.SafeLoader):
    """SafeLoader whose scalar conversions (2001-02-30, !!int abc, 5000 digits, !!timestamp x) fail as YAML errors
    with a line, instead of the ValueError/AttributeError PyYAML's constructors raise."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:
            tag = node.tag.rsplit(":", 1)[-1]
            raise yaml.constructor.ConstructorError(
                None, None, f"{str(node.value)[:80]!r} is not a valid {tag}: {str(exc).split(';')[0]}; "
                            "quote it if it is meant as text", node.start_mark) from None


def load_deployments(path: str | Path) -> DeploymentsFile:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise SelectorError("deployments file", str(path), "no such file",
                            "Pass an existing YAML file, e.g. deployments/default.yaml") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SelectorError("deployments file", str(path), f"cannot be read ({exc.__class__.__name__})") from None
    secret = HF_TOKEN.search(text)
    if secret:
        line = text.count("\n", 0, secret.start()) + 1
        raise SelectorError(
            "deployments file", f"{path}:{line}", "contains a literal Hugging Face token (hf_...)",
            "Store it in Secrets Manager and set hf_token_secret_arn instead; revoke the exposed token",
        )
    try:
        raw = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:
        raise SelectorError("deployments file", str(path), "is nested too deeply to be a deployments file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SelectorError("deployments file", where, f"is not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    return parse_deployments(raw, str(path))


def parse_deployments(raw: Any, source: str = "deployments file") -> DeploymentsFile:
    if not isinstance(raw, dict):
        raise SelectorError("deployments file", source, f"must be a mapping with a deployments: list, not {type(raw).__name__}")
    defaults = raw.get("defaults") or {}
    entries = raw.get("deployments")
    if not isinstance(defaults, dict):
        raise SelectorError("defaults", defaults, "must be a mapping of deployment keys")
    if entries is None:
        known = _known_keys(DeploymentsFile)
        for key in raw:
            close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6) if key not in known else []
            if close:
                value = raw[key]
                shown = "{...}" if isinstance(value, dict) else "[...]" if isinstance(value, list) else value
                raise SelectorError(str(key), shown, "unknown key", f"Did you mean {close[0]}?")
    if not isinstance(entries, list) or not entries:
        raise SelectorError("deployments", "{...}" if isinstance(entries, dict) else entries,
                            "must be a non-empty list of deployments (each with name and model)")
    merged = [{**defaults, **entry} if isinstance(entry, dict) else entry for entry in entries]
    names = [str(e.get("name", "")) if isinstance(e, dict) else "" for e in entries]
    try:
        parsed = DeploymentsFile.model_validate({**raw, "deployments": merged})
    except ValidationError as error:
        raise _from_validation(error, names) from None
    _check_unique_names(parsed)
    return parsed


def _check_unique_names(parsed: DeploymentsFile) -> None:
    seen: dict[str, str] = {}
    for deployment in parsed.deployments:
        for traffic in deployment.traffic_patterns:
            name = deployment.endpoint_name(traffic)
            if len(name) > MAX_ENDPOINT_NAME:
                raise SelectorError(f"deployments[{deployment.name}].name", deployment.name,
                                    f"endpoint name {name!r} is longer than {MAX_ENDPOINT_NAME} characters")
            if name in seen:
                raise SelectorError(f"deployments[{deployment.name}].name", deployment.name,
                                    f"endpoint name {name!r} is used twice", "Names must be unique in the file")
            seen[name] = deployment.name


def resolve_all(parsed: DeploymentsFile) -> list[ResolvedDeployment]:
    """Every endpoint of the file, resolved; the first failure names its deployment."""
    from selector.delivery import environment_delivery_error
    from selector.resolve import resolve

    out = []
    for deployment in parsed.deployments:
        for traffic in deployment.traffic_patterns:
            try:
                plan = resolve(deployment.request(traffic))
                if deployment.delivery_mode == "environment" and (error := environment_delivery_error(plan)):
                    raise error
            except SelectorError as error:
                raise replace_field(error, f"deployments[{deployment.name}].{error.field}") from None
            out.append(ResolvedDeployment(deployment, traffic, deployment.endpoint_name(traffic), plan))
    return out


def resolve_for_stage(parsed: DeploymentsFile, stage: PipelineStage) -> list[ResolvedDeployment]:
    """Every endpoint re-planned for a pipeline stage's account and region (images differ by region)."""
    staged = parsed.model_copy(update={"deployments": [
        d.model_copy(update={"region": stage.region, "account": stage.account}) for d in parsed.deployments]})
    try:
        return resolve_all(staged)
    except SelectorError as error:
        raise replace_field(error, f"pipeline.stages[{stage.name}] {error.field}") from None


def replace_field(error: SelectorError, field: str) -> SelectorError:
    return SelectorError(field, error.value, error.problem, error.hint)


def json_schema() -> dict[str, Any]:
    return DeploymentsFile.model_json_schema(by_alias=True)


__all__ = ["Deployment", "DeploymentsFile", "ResolvedDeployment", "load_deployments", "parse_deployments",
           "resolve_all", "json_schema", "replace"]

"""Deployments files (deployments/*.yaml): validated with pydantic, every deployment resolved up front.

`defaults:` is merged (shallowly) under each entry of `deployments:`. The file is read only through
selector.input_boundary (size, type and YAML limits); every problem of the file is collected (`validate` prints
them all, one `FILE:LINE:COL: field = value: problem; hint` line each, sorted by line) and the one-paragraph
SelectorError that `cdk synth` prints starts with the first. Nothing is built until every deployment of the file
resolves, so a typo never leaves a half-written cdk.out. AWS grammar (ARNs, S3, tags) lives in aws_names.

Each field's description ("what it does. Default: <in words>.") and examples are the one source of the keys'
documentation: the JSON Schema (selector/deployment_schema.py, committed as deployments/schema.json) and the
README's key table (scripts/readme_keys.py) are generated from them; write them for people.
"""
from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from selector import aws_names, deployment_schema
from selector.catalog import read_data
from selector.errors import NO_VALUE, Problem, SelectorError, excerpt
from selector.input_boundary import Marks, read_yaml
from selector.plan import Plan
from selector.pools.config import COMPONENT_NAME_MAX, DEFAULT_COPIES, Adapter, Copies, EndpointPool
from selector.request import DEFAULT_REGION, Load, Request, Slo

NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
MAX_ENDPOINT_NAME = 63  # botocore sagemaker shape EndpointName: max 63
STACK_PREFIX = "lmi-"  # stacks/lmi_endpoint_stack.py stack_name(); tests hold the two equal
# Stack ids the app builds besides one per endpoint (stacks/pipeline_stack.py PIPELINE_STACK): an endpoint named so
# would collide with it in the CDK app (tests hold the two equal).
RESERVED_ENDPOINT_NAMES = ("pipeline",)
TRAFFIC_SUFFIX = {"even": "-even", "uneven": "-uneven"}
# Not \b-delimited: a token glued to "_" (my_hf_..., hf_..._old) is still a token.
HF_TOKEN = re.compile(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}", re.ASCII)
OPTION_KEY = re.compile(r"(option\.[A-Za-z0-9_.]+|job_queue_size|batch_size|max_batch_delay|minWorkers|maxWorkers)",
                        re.ASCII)
VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
# Git ref names (git-check-ref-format): no spaces, controls, ~^:?*[\ or "..", not ending in / or .lock.
GIT_REF = re.compile(r"(?!.*\.\.)(?!.*//)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}(?<![/.])", re.ASCII)
LIMITS = aws_names.limits()
MAX_INSTANCES = LIMITS["instances"]["max_per_endpoint"]
MAX_SUBNETS = LIMITS["vpc"]["max_subnets"]
MAX_SECURITY_GROUPS = LIMITS["vpc"]["max_security_groups"]
MAX_TAGS = LIMITS["tags"]["max_per_resource"]
PROJECT_TAGS = frozenset(LIMITS["project_tags"]["keys"])
MAX_STACK_NAME = LIMITS["stack_name"]["max_chars"]
# Project policy: endpoints (after traffic expansion) one file may define. Each is a stack synthesized in one
# `cdk synth`; a file of thousands would stall the pipeline for hours. Split larger fleets across files.
MAX_ENDPOINTS = 200
# The lmi-pipeline stack (stacks/pipeline_stack.py): CloudFormation's resource limit bounds endpoints x stages, and
# CDK Pipelines' own construct ids beside the stages may not name a stage (aws_limits.json "pipeline_stack").
MAX_STACK_RESOURCES = LIMITS["pipeline_stack"]["max_resources"]
MAX_ENDPOINT_STAGES = LIMITS["pipeline_stack"]["max_endpoint_stages"]
RESOURCES_PER_ENDPOINT_STAGE = LIMITS["pipeline_stack"]["resources_per_endpoint_stage"]
PIPELINE_FIXED_RESOURCES = LIMITS["pipeline_stack"]["fixed_resources"]  # only used to estimate in the message
RESERVED_STAGE_NAMES = frozenset(LIMITS["pipeline_stack"]["reserved_stage_names"])
# Keys a shared endpoint decides for all its components: a deployment on one may not set them.
POOL_OWNED = ("instance_type", "families", "instance_count", "autoscaling", "deployment_guardrails")
ENVIRONMENT = LIMITS["environment"]
RUNTIME = read_data("runtime.json")  # the planner's defaults, named in the key descriptions


def _is_dir(path: str) -> bool:
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):  # too long, NUL byte: not a folder (load_model names the problem)
        return False


def _words(problem: str | None) -> None:
    """Raise a field validator's problem (pydantic shows it as the message)."""
    if problem:
        raise ValueError(problem)


class Strict(BaseModel):
    # strict: YAML already types its scalars, so `true` or "4096" for a number is a mistake, not a 1 or 4096.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, protected_namespaces=())


class Autoscaling(Strict):
    """Target tracking on invocations per instance (Application Auto Scaling)."""

    min: int = Field(1, ge=1, le=MAX_INSTANCES, examples=[1],
                     description="Fewest instances autoscaling keeps (at most `instance_count`). Default: 1.")
    max: int = Field(..., ge=1, le=MAX_INSTANCES, examples=[4],
                     description=f"Most instances autoscaling adds (at most {MAX_INSTANCES}: this project's bound, so a "
                                 "typo cannot register thousands).")
    target_invocations_per_instance: int = Field(
        10, ge=1, le=1_000_000, examples=[20],
        description="Invocations per instance per minute that autoscaling holds the fleet at "
                    "(`SageMakerVariantInvocationsPerInstance`); lower it for long generations. Default: 10.")
    scale_in_cooldown: int = Field(600, ge=0, le=86400, examples=[900],
                                   description="Seconds after a scale-in before the next one (0 to 86400). Default: 600.")
    scale_out_cooldown: int = Field(300, ge=0, le=86400, examples=[120],
                                    description="Seconds after a scale-out before the next one (0 to 86400). "
                                                "Default: 300.")

    @model_validator(mode="after")
    def _order(self) -> Autoscaling:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Alarms(Strict):
    """CloudWatch alarms on the endpoint, named after it; deployment_guardrails roll back on them."""

    enabled: bool = Field(True, examples=[True],
                          description="Create the alarms (`false`: none, and no rollback for `deployment_guardrails`). "
                                      "Default: `true`.")
    sns_topic_arn: str | None = Field(None, examples=["arn:aws:sns:us-east-1:111122223333:oncall"],
                                      description="SNS topic every alarm notifies, in the endpoint's partition. "
                                                  "Default: none (the alarms only change state).")
    error_5xx_threshold: int = Field(1, ge=1, le=1_000_000, examples=[5],
                                     description="`Invocation5XXErrors` in 5 minutes that raise the 5XX alarm. Default: 1.")
    latency_p90_ms: int = Field(30000, ge=1, le=3_600_000, examples=[10000],
                                description="`ModelLatency` p90 in milliseconds that, held for 15 minutes, raises the "
                                            "latency alarm. Default: 30000.")
    gpu_memory_percent: int = Field(95, ge=1, le=100, examples=[90],
                                    description="GPU memory use (percent, averaged over the instance's GPUs, 1 to "
                                                "100) that, held for 15 minutes, raises the memory alarm; GPU "
                                                "instances only. Default: 95.")

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic(cls, value: str | None) -> str | None:
        _words(value and aws_names.sns_topic_problem(value))
        return value


class Guardrails(Strict):
    """Blue/green updates: the new fleet takes the traffic, and the update rolls back if an alarm fires."""

    enabled: bool = Field(True, examples=[True],
                          description="Use blue/green updates with automatic rollback on the alarms. Default: `true`.")
    wait_minutes: int = Field(10, ge=0, le=60, examples=[10],
                              description="Minutes (0 to 60) the alarms are watched on the new fleet before the old "
                                          "one is removed. Default: 10.")


class Vpc(Strict):
    """The endpoint's network interfaces go into these subnets, with these security groups."""

    subnet_ids: list[str] = Field(..., min_length=1, max_length=MAX_SUBNETS, examples=[["subnet-0123abcd"]],
                                  description=f"1 to {MAX_SUBNETS} subnet ids (`subnet-` and 8 to 17 hex digits), "
                                              "each listed once.",
                                  json_schema_extra={"items": {"type": "string",
                                                               "pattern": "^subnet-[0-9a-f]{8,17}$"}})
    security_group_ids: list[str] = Field(
        ..., min_length=1, max_length=MAX_SECURITY_GROUPS, examples=[["sg-0123abcd"]],
        description=f"1 to {MAX_SECURITY_GROUPS} security group ids (`sg-` and 8 to 17 hex digits), each listed once.",
        json_schema_extra={"items": {"type": "string", "pattern": "^sg-[0-9a-f]{8,17}$"}})

    @field_validator("subnet_ids", "security_group_ids")
    @classmethod
    def _ids(cls, value: list[str], info) -> list[str]:
        prefix, what = ("subnet", "subnet id") if info.field_name == "subnet_ids" else ("sg", "security group id")
        for item in value:
            if not re.fullmatch(rf"{prefix}-[0-9a-f]{{8,17}}", item, re.ASCII):
                raise ValueError(f"{excerpt(item)} is not a {what} ({prefix}- and 8 or 17 hex digits, e.g. {prefix}-0123abcd)")
        if len(set(value)) != len(value):
            raise ValueError(f"lists the same {what} twice")
        return value


class DataCapture(Strict):
    """SageMaker data capture: requests and responses written to S3 (encrypted with kms_key_arn when set)."""

    s3_uri: str = Field(..., examples=["s3://my-bucket/capture/"],
                        description="`s3://bucket/prefix` where captured requests and responses are written.")
    sampling_percentage: int = Field(100, ge=1, le=100, examples=[20],
                                     description="Percent of requests captured (1 to 100). Default: 100.")

    @field_validator("s3_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        _words(aws_names.s3_uri_problem(value, LIMITS["s3"]["data_capture_uri_max_chars"]))
        return value


# Sanity bounds of the estimator's inputs (project policy): a million requests a minute is far beyond one endpoint's
# instance limit, and a latency target of an hour is no target; beyond them the figures only overflow.
MAX_REQUESTS_PER_MINUTE = 1_000_000
MAX_TARGET_MS = 3_600_000


class LoadSpec(Strict):
    """Steady traffic for the performance estimate (selector/performance.py)."""

    requests_per_minute: float = Field(..., gt=0, le=MAX_REQUESTS_PER_MINUTE, allow_inf_nan=False, examples=[60, 7.5],
                                       description="Mean requests per minute the endpoint must serve (a number above "
                                                   f"0, at most {MAX_REQUESTS_PER_MINUTE:,}).")
    mean_input_tokens: int = Field(..., ge=1, le=1_048_576, examples=[800],
                                   description="Mean prompt length in tokens (a whole number, 1 or more).")
    mean_output_tokens: int = Field(..., ge=1, le=1_048_576, examples=[200],
                                    description="Mean generated length in tokens (a whole number, 1 or more).")


class SloSpec(Strict):
    """Latency targets: candidates estimated slower are rejected, and the batch is lowered to meet them."""

    # Editors flag `slo: {}` as the validator does (it needs at least one target).
    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    time_to_first_token_ms: float | None = Field(
        None, gt=0, le=MAX_TARGET_MS, allow_inf_nan=False, examples=[500],
        description="Longest acceptable time to the first token, in milliseconds (above 0, at most "
                    f"{MAX_TARGET_MS:,}). Default: no target.")
    time_per_output_token_ms: float | None = Field(
        None, gt=0, le=MAX_TARGET_MS, allow_inf_nan=False, examples=[50],
        description="Longest acceptable time per generated token, in milliseconds (above 0, at most "
                    f"{MAX_TARGET_MS:,}); the batch is lowered until the estimate meets it. Default: no target.")

    @model_validator(mode="after")
    def _some_target(self) -> SloSpec:
        if self.time_to_first_token_ms is None and self.time_per_output_token_ms is None:
            raise ValueError("sets no target: give time_to_first_token_ms, time_per_output_token_ms or both")
        return self


class Deployment(Strict):
    """One endpoint (or one per traffic pattern when `traffic` lists both)."""

    name: str = Field(
        ..., max_length=MAX_ENDPOINT_NAME, examples=["llama3-8b"],
        description=f"Endpoint name: lowercase letters, digits and hyphens, starting and ending with a letter or digit, "
                    f"at most {MAX_ENDPOINT_NAME} characters, unique in the file. With a `traffic` list each endpoint "
                    "gets `-even` / `-uneven` appended.",
        json_schema_extra={"pattern": "^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"})
    model: str = Field(
        ..., min_length=1, examples=["meta-llama/Meta-Llama-3-8B", "s3://my-bucket/models/llama-3-8b/"],
        description="What to serve: a catalog id (`python -m selector catalog models`); a hub id with `model_config`; "
                    "or `s3://bucket/prefix/` with `model_config` (SageMaker mounts the uncompressed prefix at "
                    "`/opt/ml/model`, so it works under `network_isolation`). A bare `config.json` path is refused: it "
                    "names no weights.")
    model_config_path: str | None = Field(
        None, alias="model_config", min_length=1, examples=["models/my-model/config.json"],
        description="Local `config.json` describing the model's shape (layers, heads, dtype); the selector never "
                    "downloads one. Needed for models outside the catalog and for `s3://` models. Default: the "
                    "catalog's shape of `model`.")
    revision: str | None = Field(
        None, min_length=1, max_length=255, examples=["main", "v1.0"],
        description="Hub branch, tag or commit to load (`option.revision`). Default: the hub's default branch.")
    traffic: Literal["even", "uneven"] | list[Literal["even", "uneven"]] = Field(
        "uneven", examples=["even", ["uneven", "even"]],
        description="`uneven` (chat, code: lengths vary widely), `even` (summarization, extraction: similar lengths), "
                    "or `[uneven, even]`: one endpoint per pattern, named `<name>-uneven` / `<name>-even`. Default: "
                    "`uneven`.")
    max_input_tokens: int | None = Field(
        None, ge=1, le=1_048_576, examples=[3072],
        description=f"Longest prompt in tokens; compiled backends (TensorRT-LLM, NeuronX) are built for it. Default: "
                    f"the context (`max_model_len`: the model's max positions, at most {RUNTIME['default_max_model_len']}) "
                    "minus the output limit; when neither limit is given and nothing fits, the context is halved (down to "
                    f"{RUNTIME['min_shrunk_max_model_len']}) and the plan says so.")
    max_output_tokens: int | None = Field(
        None, ge=1, le=1_048_576, examples=[1024],
        description=f"Longest generation in tokens. Default: {RUNTIME['default_max_output_tokens']}, at most half the "
                    "context.")
    min_concurrency: int | None = Field(
        None, ge=1, le=1024, examples=[8],
        description="Full-length sequences the KV cache must hold at once (1 to 1024): more means more memory per "
                    f"device. Default: {RUNTIME['default_min_concurrency']}.")
    quantization: Literal["auto", "none", "awq", "gptq", "smoothquant", "int8", "fp8"] | None = Field(
        None, examples=["auto", "awq"],
        description="`auto` (the planner may pick any method the backend offers), `none`, or one method: `awq`, `gptq`, "
                    "`smoothquant`, `int8`, `fp8`. A pre-quantized checkpoint is read as it is. Default: `none` "
                    "(balanced) / `auto` (cost).")
    prefer: Literal["balanced", "cost"] = Field(
        "balanced", examples=["cost"],
        description="`balanced`: current backends first, then the traffic pattern's backend order, GPUs before "
                    "Inf2, then price; `cost`: the cheapest feasible plan, Inf2, quantization and deprecated backends "
                    "included (never dearer than balanced). Default: `balanced`.")
    families: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None, min_length=1, max_length=64, examples=[["g5", "p4d"], "all", ["g5", "g6e"]],
        description="Instance families to consider (`python -m selector catalog instances`), or `all`. Newer families "
                    "(g6, g6e, p5, p5en) are an opt-in; a plan without them names a cheaper instance outside its families. "
                    "Default: the seed families g5, inf2, p4d, p4de.",
        json_schema_extra=deployment_schema.families_enum())

    @field_validator("families", mode="before")
    @classmethod
    def _all_families(cls, value: Any) -> Any:
        """`families: all` is the list [all] (the string form reads better in YAML)."""
        return ["all"] if value == "all" else value

    backend: str | None = Field(
        None, max_length=64, examples=["vllm"],
        description="Pin the serving backend (`python -m selector catalog backends`): honoured, or refused with the "
                    "reason. Default: the planner's choice.",
        json_schema_extra=deployment_schema.catalog_enum("backend"))
    instance_type: str | None = Field(
        None, max_length=64, examples=["ml.g5.12xlarge"],
        description="Pin the instance type: honoured, or refused with the reason. Default: the planner's choice.",
        json_schema_extra=deployment_schema.catalog_enum("instance_type"))
    tensor_parallel_degree: int | None = Field(
        None, ge=1, le=64, examples=[4],
        description="Pin the number of devices (GPUs or NeuronCores) one model copy is split across: honoured, or "
                    "refused with the reason. Default: the planner's choice.")
    container_version: str | None = Field(
        None, examples=["0.32.0"],
        description="Pin the LMI image version (three numbers, e.g. `0.32.0` for the last lmi-dist image): honoured, "
                    "or refused with the reason. Default: the newest image that runs the plan.",
        json_schema_extra={"pattern": "^[0-9]+\\.[0-9]+\\.[0-9]+$"})
    region: str | None = Field(
        None, min_length=1, examples=["us-west-2"],
        description="Pin a region (one with an LMI image registry): the stack gets a literal image URI. Default: "
                    "a region-agnostic stack, the image registry chosen by a `CfnMapping` on `AWS::Region` (planned "
                    f"for `{DEFAULT_REGION}`).",
        json_schema_extra=deployment_schema.catalog_enum("region"))
    account: str | None = Field(
        None, examples=["111122223333"],
        description="Pin the stack to an AWS account (12 digits, quoted). Default: the account you deploy with.",
        json_schema_extra={"pattern": "^[0-9]{12}$"})
    instance_count: int = Field(
        1, ge=1, le=MAX_INSTANCES, examples=[2],
        description=f"Instances the endpoint starts with (1 to {MAX_INSTANCES}). Default: 1.")
    delivery: Literal["tarball", "environment"] | None = Field(
        None, examples=["environment"],
        description="`tarball`: `serving.properties` in a deterministic `model.tar.gz` asset (`ModelDataUrl`); "
                    "`environment`: the same options as `OPTION_*` variables, no asset. Default: `tarball`; "
                    "`environment` (the only choice) for `s3://` models.")
    options: dict[str, str | int | float | bool] = Field(
        default_factory=dict, max_length=ENVIRONMENT["max_user_options"], examples=[{"option.max_rolling_batch_prefill_tokens": 4096}],
        description=f"Extra `serving.properties` keys (`option.<name>`) passed through as written, at most "
                    f"{ENVIRONMENT['max_user_options']}; a key the plan itself sets is refused. A value the chosen "
                    "container version's own properties class would not parse as the key's declared type (bool, "
                    "int, float or a fixed set) is refused; a key no class declares is kept with a plan warning "
                    "(vLLM >= 0.32.0 hands it to vLLM's argument parser unchecked). Default: none.",
        json_schema_extra={"propertyNames": {"pattern": "^(" + OPTION_KEY.pattern + ")$", "maxLength": 128}})
    tags: dict[str, str] = Field(
        default_factory=dict, examples=[{"team": "ml-platform"}],
        description=f"Tags on every resource of the stack, besides the project's own "
                    f"({', '.join(f'`{t}`' for t in sorted(PROJECT_TAGS))}); at most {MAX_TAGS} in all. Default: none.",
        json_schema_extra={"propertyNames": {"minLength": 1, "maxLength": LIMITS["tags"]["key_max_chars"]},
                           "additionalProperties": {"type": "string",
                                                    "maxLength": LIMITS["tags"]["value_max_chars"]}})
    autoscaling: Autoscaling | None = Field(
        None, examples=[{"min": 1, "max": 4, "target_invocations_per_instance": 20}],
        description="Scale between `min` and `max` instances on invocations per instance. Default: off "
                    "(`instance_count` instances).")
    alarms: Alarms = Field(
        default_factory=Alarms, examples=[{"sns_topic_arn": "arn:aws:sns:us-east-1:111122223333:oncall"}],
        description="5XX, p90 latency and GPU memory alarms on the endpoint. Default: on, each threshold at its "
                    "default.")
    deployment_guardrails: Guardrails | None = Field(
        None, examples=[{"wait_minutes": 10}],
        description="Blue/green updates that roll back when an alarm fires (needs `alarms`). Default: off "
                    "(SageMaker's default update: no alarm-watched bake time, no automatic rollback).")
    kms_key_arn: str | None = Field(
        None, examples=["arn:aws:kms:us-west-2:111122223333:key/0123abcd-0123-4567-89ab-0123456789ab"],
        description="Customer-managed KMS key for the endpoint's storage volume and data capture, in the endpoint's "
                    "region. Default: an AWS-managed key.")
    vpc: Vpc | None = Field(
        None, examples=[{"subnet_ids": ["subnet-0123abcd"], "security_group_ids": ["sg-0123abcd"]}],
        description="Run the endpoint's network interfaces in your subnets. Default: no VPC (SageMaker's own "
                    "network).")
    network_isolation: bool = Field(
        False, examples=[True],
        description="No outbound network from the container; needs an `s3://` model. Default: `false`.")
    data_capture: DataCapture | None = Field(
        None, examples=[{"s3_uri": "s3://my-bucket/capture/", "sampling_percentage": 20}],
        description="Write requests and responses to S3. Default: off.")
    hf_token_secret_arn: str | None = Field(
        None, examples=["arn:aws:secretsmanager:us-east-1:111122223333:secret:hf-token-AbCdEf"],
        description="Secrets Manager secret holding a Hugging Face token, for gated hub models (never write the token "
                    "itself in the file). Default: none.")
    protect: bool = Field(
        False, examples=[True],
        description="Turn on stack termination protection. Default: `false`.")
    load: LoadSpec | None = Field(
        None, examples=[{"requests_per_minute": 60, "mean_input_tokens": 800, "mean_output_tokens": 200}],
        description="Steady traffic for the performance estimate: the plan names the instances it needs and the "
                    "$ per 1M output tokens, and `prefer: cost` ranks by that price. `instance_count` and `autoscaling` "
                    "still decide what deploys. Default: none (estimates for full-length requests).")
    slo: SloSpec | None = Field(
        None, examples=[{"time_to_first_token_ms": 500, "time_per_output_token_ms": 50}],
        description="Latency targets: plans estimated slower are refused, and the batch is lowered to meet the "
                    "per-token target. Default: none.")
    endpoint: str | None = Field(
        None, min_length=1, max_length=MAX_ENDPOINT_NAME,
        description="Name of a shared endpoint under the top-level endpoints: section. The model then runs as an "
                    "inference component of that endpoint instead of on an endpoint of its own. Default: an endpoint "
                    "of its own.",
        examples=["chat-pool"])
    adapters: list[Adapter] = Field(
        default_factory=list, max_length=32,
        examples=[[{"name": "support", "s3_uri": "s3://my-bucket/adapters/support.tar.gz", "rank": 16}]],
        description="LoRA adapters served on this model (vLLM multi-LoRA), each as an adapter inference component "
                    "of the shared endpoint; needs endpoint. Default: none.")
    copies: Copies | None = Field(
        None, examples=[{"initial": 1, "min": 0, "max": 2}],
        description="Copies of the model on its shared endpoint and their autoscaling (min 0: scale to zero "
                    "copies); needs endpoint. Default: one copy, no autoscaling.")

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True, protected_namespaces=())

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.fullmatch(value):
            raise ValueError("use lowercase letters, digits and hyphens, starting and ending with a letter or digit")
        return value

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
            problem = option_problem(key, item)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("model", "model_config_path", "revision")
    @classmethod
    def _one_line(cls, value: str | None, info) -> str | None:
        if value is None:
            return value
        if info.field_name == "model_config_path":
            _words("contains a line break or control character" if aws_names.LINE_BREAKS.search(value) else None)
            return value
        if value.startswith("s3://"):
            _words(aws_names.s3_uri_problem(value))
        elif info.field_name == "model" and not (value.endswith(".json") or _is_dir(value)):
            _words(aws_names.hub_id_problem(value))
        _words(aws_names.properties_problem(value))
        if info.field_name == "revision" and not GIT_REF.fullmatch(value):
            raise ValueError("is not a branch, tag or commit name (letters, digits and ._/- without spaces, "
                             "'..' or '//')")
        return value

    @field_validator("container_version")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not VERSION.fullmatch(value):
            raise ValueError("is not a version like 0.32.0 (three numbers of digits 0-9, dot-separated)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None) -> str | None:
        _words(value and aws_names.region_problem(value))
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str | None) -> str | None:
        if value is not None and not ACCOUNT.fullmatch(value):
            raise ValueError("is not a 12-digit AWS account id (digits 0-9, quoted as a string)")
        return value

    @field_validator("kms_key_arn")
    @classmethod
    def _kms(cls, value: str | None) -> str | None:
        _words(value and aws_names.kms_key_problem(value))
        return value

    @field_validator("hf_token_secret_arn")
    @classmethod
    def _secret(cls, value: str | None) -> str | None:
        _words(value and aws_names.secret_problem(value))
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        for key, item in value.items():
            _words(aws_names.tag_problem(key, item))
            if key in PROJECT_TAGS and key.startswith("lmi:"):
                raise ValueError(f"tag {key} is set by the project from the plan (backend, instance type, model); a "
                                 "value of your own would make it wrong. Use another key (the `app` tag may be replaced)")
        total = len(PROJECT_TAGS | set(value))
        if total > MAX_TAGS:
            raise ValueError(f"{len(value)} tags plus the {len(PROJECT_TAGS - set(value))} this project adds "
                             f"({', '.join(sorted(PROJECT_TAGS))}) make {total}; AWS allows {MAX_TAGS} per resource")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Deployment:
        if self.model.startswith("s3://") and not self.model_config_path:
            raise ValueError("an s3:// model needs model_config (a local config.json) so the selector knows its shape")
        if self.model.startswith("s3://") and not self.model.endswith("/"):
            raise ValueError("an s3:// model must be a prefix ending with '/'")
        if not self.model.startswith("s3://") and (self.model.endswith(".json") or _is_dir(self.model)):
            raise ValueError(
                f"model {excerpt(self.model)} is a local config.json: it describes the shape but ships no weights. Set "
                "model to the hub id or the s3:// prefix of the weights and model_config to this file")
        if self.model.startswith("s3://") and self.delivery == "tarball":
            raise ValueError(
                "an s3:// model is mounted at /opt/ml/model (uncompressed S3 prefix), where no serving.properties "
                "tarball can be added: use delivery: environment (the default for s3:// models)")
        environment = self.delivery_mode == "environment" or self.endpoint is not None
        for key, item in self.options.items():
            problem = option_problem(key, item, environment)
            if problem:
                raise ValueError(problem)
        if environment:  # pool members: OPTION_* variables
            for key in self.options:
                problem = environment_key_problem(key, self.endpoint is not None)
                if problem:
                    raise ValueError(problem)
        if self.network_isolation and not self.model.startswith("s3://"):
            raise ValueError("network_isolation needs an s3:// model: an isolated container cannot reach the hub")
        if self.autoscaling and self.autoscaling.min > self.instance_count:
            raise ValueError(f"instance_count ({self.instance_count}) is below autoscaling.min ({self.autoscaling.min})")
        if self.load is not None:  # the estimate would price requests the endpoint cannot serve
            for mean, limit in (("mean_input_tokens", "max_input_tokens"), ("mean_output_tokens", "max_output_tokens")):
                cap = getattr(self, limit)
                if cap is not None and getattr(self.load, mean) > cap:
                    raise ValueError(f"load.{mean} ({getattr(self.load, mean)}) is above {limit} ({cap}): the endpoint "
                                     f"cannot serve such requests; raise {limit} or lower the mean")
        _words(self.kms_region_problem(self.region))
        _words(self.partition_problem(self.region))
        _words(self.shared_endpoint_problem())
        return self

    def shared_endpoint_problem(self) -> str | None:
        """What this deployment sets that cannot go with (or without) a shared endpoint."""
        if self.endpoint is None:
            if self.adapters:
                return ("adapters need endpoint: SageMaker serves LoRA adapters as adapter inference components, which "
                        "exist only on a shared endpoint (add endpoint: <name> and an endpoints: section)")
            if self.copies is not None:
                return "copies needs endpoint: copies are inference-component copies on a shared endpoint"
            return None
        owned = [k for k in POOL_OWNED if k in self.model_fields_set]
        if owned:
            return (f"{owned[0]} is decided by the shared endpoint {self.endpoint}: set it under endpoints.{self.endpoint} "
                    "(instance_type or families, min_instances, max_instances) and copies: on the deployment")
        if isinstance(self.traffic, list):
            return (f"traffic lists two patterns, which makes two endpoints; a deployment on the shared endpoint "
                    f"{self.endpoint} is one inference component: give one traffic pattern")
        if self.model.startswith("s3://"):
            return (f"model {excerpt(self.model)} is an s3:// prefix: an inference component's container takes "
                    "weights only as one .tar.gz (ArtifactUrl), so the shared endpoint serves hub models; give this "
                    "model its own endpoint")
        if self.delivery == "tarball":
            return (f"delivery tarball cannot reach an inference component: on the shared endpoint {self.endpoint} the "
                    "options travel as OPTION_* environment variables of the component's container (drop delivery)")
        if self.backend not in (None, "vllm"):
            return (f"backend {self.backend} cannot run on the shared endpoint {self.endpoint}: its inference components "
                    "run vLLM (TensorRT-LLM and NeuronX compile engines per instance shape; adapter components need "
                    "vLLM multi-LoRA). Drop backend or give the model its own endpoint")
        if self.adapters:
            from selector.pools.adapters import LORA_KEYS

            taken = [k for k in self.options if k.lower() in LORA_KEYS]
            if taken:
                return (f"options key {taken[0]} is set by the plan from adapters (LoRA slots and rank follow the "
                        "adapters listed): drop it, or change the adapters")
        names = [a.name for a in self.adapters]
        if len(set(names)) != len(names):
            return "adapters lists two adapters with the same name"
        longest = max((f"{self.endpoint}-{self.name}-{n}" for n in names), key=len, default=f"{self.endpoint}-{self.name}")
        if len(longest) > COMPONENT_NAME_MAX:
            return (f"name makes the inference component name {longest!r} is longer than {COMPONENT_NAME_MAX} characters "
                    "(<endpoint>-<deployment>[-<adapter>]); shorten the names")
        return None

    def kms_region_problem(self, region: str | None) -> str | None:
        """A KMS key serves only its own region: SageMaker refuses a key from another one at deploy time."""
        if not self.kms_key_arn:
            return None
        key_region = self.kms_key_arn.split(":")[3]
        if region is None:
            return None  # region-agnostic: the deploy region is unknown here (pipeline stages are checked)
        if key_region != region:
            return f"kms_key_arn is a key in {key_region}, but the endpoint deploys to {region}: use a key in {region}"
        return None

    def partition_problem(self, region: str | None) -> str | None:
        """ARNs of another partition (aws-cn, aws-us-gov...) than the region's can never be reached."""
        partition = aws_names.partition_of(region) if region else None
        arns = {"hf_token_secret_arn": self.hf_token_secret_arn, "alarms.sns_topic_arn": self.alarms.sns_topic_arn}
        for key, arn in arns.items():
            if partition and arn and arn.split(":")[1] != partition:
                return f"{key} is in the {arn.split(':')[1]} partition, but {region} is in {partition}"
        return None

    @property
    def delivery_mode(self) -> Literal["tarball", "environment"]:
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
            load=Load(float(self.load.requests_per_minute), self.load.mean_input_tokens,
                      self.load.mean_output_tokens) if self.load else None,
            slo=Slo(self.slo.time_to_first_token_ms, self.slo.time_per_output_token_ms) if self.slo else None,
        )


class PipelineStage(Strict):
    """One environment the pipeline deploys every endpoint to."""

    name: str = Field(..., max_length=64, examples=["staging"],
                      description="Stage name: a letter, then letters, digits and hyphens (at most 64), unique in "
                                  "the pipeline, and not one of the ids CDK Pipelines uses beside the stages (Assets, "
                                  "Build, Pipeline, Source, UpdatePipeline, ...: `validate` lists them).")
    account: str = Field(..., examples=["444455556666"], json_schema_extra={"pattern": "^[0-9]{12}$"},
                         description="Account the stage deploys every endpoint to (12 digits, quoted).")
    region: str = Field(..., examples=["us-west-2"], json_schema_extra=deployment_schema.catalog_enum("region"),
                        description="Region the stage deploys to; every deployment is planned again for it, so it "
                                    "needs an LMI image registry.")
    production: bool = Field(False, examples=[True],
                             description="A manual approval runs before this stage deploys. Default: `false`.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", value, re.ASCII):
            raise ValueError("use a letter followed by letters, digits and hyphens (at most 64 characters)")
        return value

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if not ACCOUNT.fullmatch(value):
            raise ValueError("is not a 12-digit AWS account id (digits 0-9, quoted as a string)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        _words(aws_names.region_problem(value))
        return value


class Pipeline(Strict):
    """CDK Pipelines delivery: source, `make synth`, one stage per environment, verify after each."""

    account: str = Field(..., examples=["111122223333"], json_schema_extra={"pattern": "^[0-9]{12}$"},
                         description="Account that hosts the pipeline (12 digits, quoted).")
    region: str = Field(..., examples=["us-east-1"], description="Region that hosts the pipeline.")
    repository: str = Field(..., max_length=200, examples=["example-org/llm-endpoints"],
                            description="`owner/name` of the source repository with `connection_arn`, or a CodeCommit "
                                        "repository name without it.")
    branch: str = Field("main", examples=["main"],
                        description="Branch whose commits run the pipeline. Default: `main`.")
    connection_arn: str | None = Field(
        None, examples=["arn:aws:codeconnections:us-east-1:111122223333:connection/0123abcd-0123-4567-89ab-0123456789ab"],
        description="CodeConnections (CodeStar) connection to GitHub, GitLab or Bitbucket, for an `owner/name` "
                    "repository. Default: none (`repository` is a CodeCommit name).")
    stages: list[PipelineStage] = Field(..., min_length=1, max_length=50,
                                        examples=[[{"name": "staging", "account": "444455556666", "region": "us-west-2"},
                                                   {"name": "production", "account": "777788889999",
                                                    "region": "eu-west-1", "production": True}]],
                                        description="Environments deployed in order (1 to 50), each verified before "
                                                    "the next; names and account/region pairs unique; regions in the "
                                                    "pipeline region's partition; endpoints x stages at most 150 "
                                                    "(CloudFormation's 500 resources per stack).")

    @field_validator("account")
    @classmethod
    def _account(cls, value: str) -> str:
        if not ACCOUNT.fullmatch(value):
            raise ValueError("is not a 12-digit AWS account id (digits 0-9, quoted as a string)")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        _words(aws_names.region_problem(value))
        return value

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?", value, re.ASCII):
            raise ValueError("is not owner/name (letters, digits and _.- on each side of one '/') or a CodeCommit name")
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        if not GIT_REF.fullmatch(value):
            raise ValueError("is not a branch name (letters, digits and ._/- without spaces, '..' or '//')")
        return value

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str | None) -> str | None:
        _words(value and aws_names.connection_problem(value))
        return value

    @model_validator(mode="after")
    def _stages(self) -> Pipeline:
        if self.connection_arn and "/" not in self.repository:
            raise ValueError(f"repository {excerpt(self.repository)}: a connection source needs owner/name")
        if not self.connection_arn and "/" in self.repository:
            raise ValueError(f"repository {excerpt(self.repository)}: set connection_arn for owner/name sources, "
                             "or give a CodeCommit repository name")
        seen = set()
        for stage in self.stages:
            if stage.name in seen or (stage.account, stage.region) in seen:
                raise ValueError(f"stage {excerpt(stage.name)}: stage names and account/region pairs must be unique")
            seen |= {stage.name, (stage.account, stage.region)}
        return self


class DeploymentsFile(Strict):
    """A deployments file: the endpoints `cdk synth` builds (one stack each) and, optionally, their pipeline."""

    # Validated entry by entry after the merge (selector errors name the line in defaults:); the JSON Schema
    # gives it the shape of a deployment without name and model (selector/deployment_schema.py).
    defaults: dict[str, Any] = Field(
        default_factory=dict, examples=[{"min_concurrency": 4, "tags": {"team": "ml-platform"}}],
        description="Keys merged (shallowly) under every entry of `deployments`: an entry's own value replaces the "
                    "default whole. Any deployment key but `name` and `model`. Default: none.")
    deployments: list[Deployment] = Field(..., min_length=1,
                                          examples=[[{"name": "chat", "model": "meta-llama/Meta-Llama-3-8B"}]],
                                          description="The endpoints to plan and build, each with at least `name` and "
                                                      "`model`.")
    pipeline: Pipeline | None = Field(None, examples=[{
        "account": "111122223333", "region": "us-east-1", "repository": "example-org/llm-endpoints",
        "connection_arn": "arn:aws:codeconnections:us-east-1:111122223333:connection/0123abcd-0123-4567-89ab-0123456789ab",
        "stages": [{"name": "staging", "account": "444455556666", "region": "us-west-2"}]}],
        description="CDK Pipelines delivery of every endpoint to each stage. Default: none (deploy with `cdk deploy`).")
    endpoints: dict[str, EndpointPool] = Field(
        default_factory=dict, max_length=MAX_ENDPOINTS,
        examples=[{"chat-pool": {"families": ["g5"], "min_instances": 0, "max_instances": 4}}],
        description="Shared endpoints by name: each hosts the deployments that name it (endpoint: <name>) as "
                    "inference components on one pool of instances. Default: none.")
    _marks: Any = PrivateAttr(default=None)  # input_boundary.Marks of the file it was read from, for error lines

    @property
    def marks(self) -> Marks | None:
        return self._marks


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


NESTED: dict[str, type[BaseModel]] = {
    "autoscaling": Autoscaling, "alarms": Alarms, "deployment_guardrails": Guardrails, "vpc": Vpc,
    "data_capture": DataCapture, "load": LoadSpec, "slo": SloSpec, "pipeline": Pipeline, "stages": PipelineStage,
    "deployments": Deployment,
    "endpoints": EndpointPool, "adapters": Adapter, "copies": Copies}


def _model_at(path: tuple) -> type[BaseModel]:
    """The pydantic model that owns the last key of a user path (for did-you-mean)."""
    current: type[BaseModel] = DeploymentsFile
    for part in path[:-1]:
        if isinstance(part, str) and part in NESTED and part in current.model_fields:
            current = NESTED[part]
    return current


def _user_path(loc: tuple) -> tuple:
    """A pydantic error location without the union-branch and key markers pydantic adds."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        text = str(part)
        if isinstance(part, str) and (text.startswith(("literal[", "list[", "function-")) or text == "[key]"):
            continue
        if isinstance(part, str) and i >= 2 and loc[i - 2] == "options" and text in ("str", "int", "float", "bool"):
            continue
        if isinstance(part, str) and text in ("Deployment", "PipelineStage", "Autoscaling", "Alarms", "Guardrails", "Vpc",
                                              "DataCapture", "LoadSpec", "SloSpec", "Pipeline", "EndpointPool", "Adapter", "Copies"):
            continue
        out.append(part)
    return tuple(out)


def _label(path: tuple, names: list[str]) -> str:
    """deployments[chat].autoscaling.max for ('deployments', 0, 'autoscaling', 'max')."""
    parts: list[str] = []
    for i, part in enumerate(path):
        if isinstance(part, int) and i == 1 and path[0] == "deployments":
            label = names[part] if part < len(names) and names[part] else str(part)
            parts[-1] = f"deployments[{label}]"
        elif isinstance(part, int) and parts:
            parts[-1] = f"{parts[-1]}[{part}]"
        elif isinstance(part, str):
            parts.append(part if part.isprintable() and len(part) <= 80 else excerpt(part, 40))
        else:
            parts.append(f"[{excerpt(part, 40)}]")  # a number, date or null used as a top-level key
    return ".".join(parts) or "file"


def _entry_names(entries: list) -> list[str]:
    """How error lines name each deployment: its name when it is short printable text, else its index."""
    names = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        text = name.isoformat() if name is not None and hasattr(name, "isoformat") else name
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text) if abs(text) < 1e15 else None
        names.append(text if isinstance(text, str) and text.isprintable() and 0 < len(text) <= 80
                     and "]" not in text else "")
    return names


class _Collector:
    """Problems of one file, located through its marks, deduplicated, sorted by line."""

    def __init__(self, source: str, marks: Marks | None, names: list[str]) -> None:
        self.source, self.marks, self.names = source, marks, names
        self.problems: list[Problem] = []
        self.partial: tuple[DeploymentsFile, list[int]] | None = None  # well-formed entries of a file with problems

    def add(self, path: tuple, value: Any, problem: str, hint: str = "", field: str | None = None) -> None:
        line = column = None
        label = field or _label(path, self.names)
        if self.marks is not None:
            found, mark = self.marks.find(path)
            if mark:
                line, column = mark
            if found[:1] == ("defaults",) and path[:1] == ("deployments",) and field is None:
                label = _label(("defaults", *path[2:]), self.names)  # inherited: name where it is written
        file = self.marks.file if self.marks is not None else None
        candidate = Problem(label, value, problem, hint, file, line, column)
        if any(p.field == candidate.field and p.line == candidate.line and p.column == candidate.column
               and (line is not None or p.problem == candidate.problem) for p in self.problems):
            return
        self.problems.append(candidate)

    def sorted(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.line or 0, p.column or 0))


def _walk_text(value: Any, path: tuple, out: _Collector, budget: list[int]) -> None:
    """Every text key and value of the document, for checks that apply to all free text (deploy-time syntax)."""
    stack = [(value, path)]
    while stack and budget[0] > 0:
        item, where = stack.pop()
        budget[0] -= 1
        if isinstance(item, str):
            problem = aws_names.deploy_time_problem(item)
            if problem:
                out.add(where, item, problem, "Write the literal value; nothing in a deployments file is resolved later")
        elif isinstance(item, dict):
            for key, child in item.items():
                key_problem = aws_names.deploy_time_problem(key) if isinstance(key, str) else None
                if key_problem:
                    out.add((*where, key), key, "this key " + key_problem,
                            "Write the literal key")
                stack.append((child, (*where, key)))
        elif isinstance(item, list):
            stack.extend((child, (*where, i)) for i, child in enumerate(item))


# What would work, by pydantic error type (strict mode: YAML types every scalar, quotes make text).
TYPE_HINTS = {
    "int_type": "Write a whole number without quotes, e.g. 4096",
    "int_from_float": "Write a whole number, e.g. 4096",
    "string_type": "Write it as text (quote it if YAML reads it as a number, date or true/false)",
    "bool_type": "Write true or false without quotes",
    "list_type": "Write a list, e.g. [a, b]",
    "float_type": "Write a number without quotes",
}


EXPONENT_HINT = ("YAML reads a number with a bare exponent (1e3) as text: write it out (1000) or with a dot and a "
                 "signed exponent (1.0e+3)")


def _reads_as_number(text: str) -> bool:
    """Unquoted 1e3 or 5E-2 in YAML 1.1 is a string; say so rather than "write a number without quotes"."""
    return len(text) <= 40 and re.fullmatch(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+", text, re.ASCII) is not None


def _from_validation(error: ValidationError, prefix: tuple, out: _Collector) -> None:
    errors = error.errors(include_url=False)
    typos: set[tuple] = set()
    for e in errors:
        if e["type"] == "extra_forbidden":
            path = prefix + _user_path(tuple(e["loc"]))
            known = _known_keys(_model_at(path))
            close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
            if close:
                typos.add((*path[:-1], close[0]))
    for e in errors:
        path = prefix + _user_path(tuple(e["loc"]))
        value = e.get("input")
        if e["type"] == "missing" and path in typos:
            continue  # a misspelt key also makes the key it was meant to be "missing": the typo is the cause
        if e["type"] == "extra_forbidden":
            known = _known_keys(_model_at(path))
            close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
            hint = f"Did you mean {close[0]}?" if close else f"Known keys: {', '.join(known)}"
            out.add(path, value, "unknown key", hint)
            continue
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "value_error" and isinstance(value, dict):
            named = message.split(" ", 1)[0]  # a check across keys whose message starts with the key it blames
            if named.split(".")[0] in value or named in Deployment.model_fields:
                path = (*path, *named.split("."))
        if e["type"] == "missing":
            value, hint = NO_VALUE, f"Add {path[-1]}" if path and isinstance(path[-1], str) else ""
        else:
            hint = TYPE_HINTS.get(e["type"], "")
            if e["type"] == "float_type" and isinstance(value, str) and _reads_as_number(value):
                hint = EXPONENT_HINT  # YAML 1.1 reads 1e3 as text: the user did not quote it
        if e["type"] == "value_error" and isinstance(value, dict):
            value = NO_VALUE  # a check across keys: the message names them
        if e["type"] == "model_type" or e["type"] == "dict_type":
            message = "Input should be a valid dictionary (a mapping of keys)"
        out.add(path, value if not isinstance(value, BaseModel) else "{...}", message, hint)


@lru_cache(maxsize=1)
def _placeholder() -> Deployment:
    """Stands in for the entries while the rest of the document is checked (entries are checked one by one)."""
    return Deployment.model_construct(name="x", model="x")


def _check_document(raw: Any, source: str, marks: Marks | None) -> tuple[DeploymentsFile | None, list[Problem]]:
    """Every schema-level problem of a parsed document (types, keys, AWS grammar, names)."""
    parsed, problems, _ = _check_document_partial(raw, source, marks)
    return parsed, problems


def _check_document_partial(raw: Any, source: str, marks: Marks | None
                            ) -> tuple[DeploymentsFile | None, list[Problem], tuple[DeploymentsFile, list[int]] | None]:
    out = _Collector(source, marks, [])
    parsed, problems = _check_into(raw, source, marks, out)
    return parsed, problems, out.partial


def _check_into(raw: Any, source: str, marks: Marks | None, out: _Collector) -> tuple[DeploymentsFile | None, list[Problem]]:
    entries = raw.get("deployments") if isinstance(raw, dict) else None
    out.names = _entry_names(entries if isinstance(entries, list) else [])
    if not isinstance(raw, dict):
        out.add((), source, f"must be a mapping with a deployments: list, not {type(raw).__name__}",
                "Start the file with deployments: and a list of entries with name and model", field="deployments file")
        return None, out.sorted()
    _walk_text(raw, (), out, [200_000])
    defaults = raw.get("defaults")
    if defaults is not None and not isinstance(defaults, dict):
        out.add(("defaults",), defaults, "must be a mapping of deployment keys")
        defaults = {}
    defaults = defaults or {}
    outline = {k: v for k, v in raw.items() if k not in ("deployments", "defaults")}
    try:
        top = DeploymentsFile.model_validate({**outline, "defaults": defaults, "deployments": [_placeholder()]})
    except ValidationError as error:
        _from_validation(error, (), out)
        top = None
    if entries is None or not isinstance(entries, list) or not entries:
        missing_typo = any(p.problem == "unknown key" and p.hint == "Did you mean deployments?" for p in out.problems)
        if not missing_typo:
            out.add(("deployments",), "{...}" if isinstance(entries, dict) else entries,
                    "must be a non-empty list of deployments (each with name and model)",
                    "List the entries under deployments:, each a mapping with name and model")
        return None, out.sorted()
    valid: dict[int, Deployment] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            out.add(("deployments", i), entry, "Input should be a valid dictionary (a mapping of keys)",
                    "Each entry is a mapping with name and model")
            continue
        merged = {**defaults, **entry}
        bad = _option_problems(merged, i, out)
        if bad:  # reported per key; the entry is still checked and planned without those keys
            merged = dict(merged, options={k: v for k, v in merged["options"].items() if k not in bad})
        try:
            valid[i] = Deployment.model_validate(merged)
        except ValidationError as error:
            _from_validation(error, ("deployments", i), out)
    _check_names(valid, out, pipeline=top is not None and top.pipeline is not None)
    if top is not None:
        _check_pools(valid, top, out)
    if top is not None and top.pipeline is not None:
        _check_stages(valid, top.pipeline, out)
    if out.problems or top is None or len(valid) != len(entries):
        if out.problems and valid:  # `validate` also plans the entries that are well-formed
            partial = DeploymentsFile.model_construct(defaults=defaults, deployments=list(valid.values()), pipeline=None,
                                                      endpoints=top.endpoints if top is not None else {})
            partial._marks = marks
            out.partial = (partial, list(valid))
        return None, out.sorted()
    parsed = list(valid.values())
    result = DeploymentsFile.model_validate({**outline, "defaults": defaults, "deployments": parsed})
    result._marks = marks
    return result, []


def option_problem(key: Any, item: Any, environment: bool | None = None) -> str | None:
    """What is wrong with one options entry before any container is considered (None: nothing). `environment`:
    whether it travels as an environment variable (True), in serving.properties (False), or not known yet (None:
    the delivery-specific checks wait for the model validator)."""
    if not isinstance(key, str) or not OPTION_KEY.fullmatch(key) or len(key) > 128:
        return f"{excerpt(key)} is not an LMI serving.properties key (expected option.<name>)"
    if isinstance(item, int) and not isinstance(item, bool) and item.bit_length() > 63:
        return f"the value of {key} is a number beyond 64 bits, which LMI cannot read"
    if isinstance(item, (dict, list)) or item is None:
        return None  # the field's type refuses it, at the key's own line
    if environment and len(_option_text(item)) > ENVIRONMENT["value_max_chars"]:
        return (f"the value of {key} is {len(_option_text(item))} characters; SageMaker accepts at most "
                f"{ENVIRONMENT['value_max_chars']} per environment variable")
    if isinstance(item, str):
        # Java's Properties.load reads the tarball's serving.properties (line breaks, backslashes); the environment
        # reaches ModelInfo as it is
        problem = aws_names.properties_problem(item) if environment is False else None
        if problem:
            return f"the value of {key} {problem}"
        if item != item.strip():
            # Java keeps a value's trailing spaces (and the environment both ends), and the pydantic the images
            # pin (2.6.1 in the NeuronX and TensorRT-LLM images) refuses '4 ' for an int
            return (f"the value of {key} ({excerpt(item)}) starts or ends with spaces, which reach the container as "
                    "part of the value; write it without them")
    if isinstance(item, float) and not math.isfinite(item):
        return f"the value of {key} is not a finite number"
    return None


def _travels_as_environment(merged: dict[str, Any]) -> bool:
    """Deployment.delivery_mode (and a shared endpoint's components) from the raw entry, before it validates."""
    delivery, model = merged.get("delivery"), str(merged.get("model") or "")
    return merged.get("endpoint") is not None or delivery == "environment" or (
        delivery is None and model.startswith("s3://"))


def _option_problems(merged: dict[str, Any], i: int, out: _Collector) -> set[str]:
    """Every options entry's problem at its own line (the field validator would stop at the first); the bad keys."""
    options = merged.get("options")
    if not isinstance(options, dict):
        return set()
    bad = set()
    environment = _travels_as_environment(merged)
    for key, item in options.items():
        problem = option_problem(key, item, environment) or (
            environment_key_problem(key, merged.get("endpoint") is not None) if environment else None)
        if problem:
            out.add(("deployments", i, "options", key), item, problem)
            bad.add(key)
    return bad


def environment_key_problem(key: Any, pooled: bool) -> str | None:
    """Why an options key cannot travel as an environment variable under its own name (None: it can)."""
    from selector.conformance import arrives_as
    from selector.delivery import SERVER_VARIABLES, environment_name

    if not isinstance(key, str):
        return None
    if not key.startswith("option.") and key not in SERVER_VARIABLES:
        return (f"options key {excerpt(key)} has no environment variable the container reads (only option.* keys, "
                "minWorkers and maxWorkers travel as environment): use delivery: tarball"
                + (", on an endpoint of its own" if pooled else ""))
    if not re.fullmatch(ENVIRONMENT["key_pattern"], environment_name(key), re.ASCII):
        return (f"options key {excerpt(key)} becomes the environment variable {excerpt(environment_name(key))}, a "
                "name SageMaker refuses (letters, digits and underscores only)")
    arrives = arrives_as(key) if key.startswith("option.") else key
    if arrives != key:
        how = "as an OPTION_* variable of its inference component" if pooled else "with delivery: environment"
        other = "" if pooled else ", or use delivery: tarball"
        return (f"options key {excerpt(key)} reaches the container as {excerpt(arrives)} {how} (OPTION_* names "
                f"are lower-cased): write it as {excerpt(arrives)}{other}")
    return None


def _check_names(parsed: dict[int, Deployment], out: _Collector, pipeline: bool) -> None:
    count = sum(len(d.traffic_patterns) for d in parsed.values())
    if count > MAX_ENDPOINTS:
        out.add(("deployments",), f"{len(parsed)} deployments",
                f"define {count} endpoints; one file may define at most {MAX_ENDPOINTS} (one stack each)",
                "Split the fleet across several deployments files")
    seen: dict[str, str] = {}
    for i, deployment in parsed.items():
        for traffic in deployment.traffic_patterns:
            name = deployment.endpoint_name(traffic)
            if len(name) > MAX_ENDPOINT_NAME:
                out.add(("deployments", i, "name"), deployment.name,
                        f"endpoint name {name!r} is longer than {MAX_ENDPOINT_NAME} characters",
                        "Shorten the name (traffic lists add -even/-uneven)")
            elif len(STACK_PREFIX + name) > MAX_STACK_NAME:
                out.add(("deployments", i, "name"), deployment.name,
                        f"stack name {STACK_PREFIX + name!r} is longer than {MAX_STACK_NAME} characters")
            if name in seen:
                out.add(("deployments", i, "name"), deployment.name, f"endpoint name {name!r} is used twice",
                        "Names must be unique in the file (traffic lists add -even/-uneven)")
            elif pipeline and name in RESERVED_ENDPOINT_NAMES:
                out.add(("deployments", i, "name"), deployment.name,
                        f"endpoint name {name!r} would be named like the app's {STACK_PREFIX + name} stack",
                        "Choose another name")
            seen[name] = deployment.name


# Settings that live on the shared endpoint (its config, role, stack): every deployment on it must agree.
SHARED_KEYS = ("region", "account", "delivery_mode", "vpc", "kms_key_arn", "network_isolation", "data_capture",
               "hf_token_secret_arn", "alarms", "protect", "tags")


def _check_pools(parsed: dict[int, Deployment], top: DeploymentsFile, out: _Collector) -> None:
    """Pool names, unknown pools, and settings the deployments of one pool must share."""
    # endpoints of their own: a pool member (endpoint: set) has none, so it may share its pool's name
    names = {d.endpoint_name(t): d.name for d in parsed.values() for t in d.traffic_patterns if d.endpoint is None}
    for declared in top.endpoints:
        problem = None if NAME_PATTERN.fullmatch(declared) else "use lowercase letters, digits and hyphens"
        if problem is None and len(STACK_PREFIX + declared) > MAX_STACK_NAME:
            problem = f"stack name {STACK_PREFIX + declared!r} is longer than {MAX_STACK_NAME} characters"
        if problem is None and declared in names:
            problem = (f"is also the endpoint name of deployment {names[declared]!r} (traffic lists add "
                       "-even/-uneven); endpoint names must be unique in the file")
        if problem is None and top.pipeline is not None and declared in RESERVED_ENDPOINT_NAMES:
            problem = f"would be named like the app's {STACK_PREFIX + declared} stack; choose another name"
        if problem:
            out.add(("endpoints", declared), declared, f"endpoint name: {problem}")
    if top.endpoints and top.pipeline is not None:
        out.add(("endpoints",), f"{len(top.endpoints)} endpoints",
                "shared endpoints are not delivered by the pipeline yet (its stages deploy one stack per deployment)",
                "Synthesize shared endpoints from a deployments file without pipeline:")
    first: dict[str, Deployment] = {}
    components: dict[str, str] = {}  # inference component name -> what made it (SageMaker names are per account)
    for i, deployment in parsed.items():
        pool = deployment.endpoint
        if pool is None:
            continue
        made = [(f"{pool}-{deployment.name}", f"deployment {deployment.name}", ("deployments", i, "name"))]
        made += [(f"{pool}-{deployment.name}-{a.name}", f"adapter {a.name} of deployment {deployment.name}",
                  ("deployments", i, "adapters")) for a in deployment.adapters]
        for component, what, path in made:
            if component in components:
                out.add(path, component, f"makes the inference component name {component!r}, which {components[component]} "
                        "already makes: one endpoint cannot hold two components of the same name",
                        "Rename the deployment or the adapter")
            else:
                components[component] = what
        if pool not in top.endpoints:
            close = difflib.get_close_matches(pool, list(top.endpoints), n=1, cutoff=0.6)
            known = ", ".join(sorted(top.endpoints)) or "none"
            out.add(("deployments", i, "endpoint"), pool, "names no endpoint of the endpoints: section",
                    f"Did you mean {close[0]}?" if close else f"Known endpoints: {known}. Add it under endpoints:")
            continue
        if pool not in first:
            first[pool] = deployment
            continue
        for key in SHARED_KEYS:
            mine, theirs = getattr(deployment, key), getattr(first[pool], key)
            if mine != theirs:
                field = "delivery" if key == "delivery_mode" else key
                shown = mine.model_dump() if isinstance(mine, BaseModel) else mine
                out.add(("deployments", i, field), shown,
                        f"differs from deployment {first[pool].name} on the shared endpoint {pool}: {field} belongs to "
                        "the endpoint (its config, role or stack), so every deployment on it must agree",
                        f"Set the same {field} on every deployment of {pool} (e.g. under defaults:)")


def _check_stages(parsed: dict[int, Deployment], pipeline: Pipeline, out: _Collector) -> None:
    """What the pipeline stack can build: stage names CDK Pipelines has not taken, one partition, CloudFormation's
    resource limit; and each stage re-plans every deployment for its own account and region."""
    home = aws_names.partition_of(pipeline.region)
    for j, stage in enumerate(pipeline.stages):
        if stage.name in RESERVED_STAGE_NAMES:
            out.add(("pipeline", "stages", j, "name"), stage.name,
                    "CDK Pipelines already names a construct or pipeline stage of the lmi-pipeline stack so (reserved: "
                    f"{', '.join(sorted(RESERVED_STAGE_NAMES))}; the comparison is case-sensitive)",
                    f"Rename the stage, e.g. {stage.name.lower()} or {stage.name}-env")
        partition = aws_names.partition_of(stage.region)
        if partition != home:
            out.add(("pipeline", "stages", j, "region"), stage.region,
                    f"is in the {partition} partition but the pipeline runs in {pipeline.region} ({home}); a pipeline "
                    "cannot deploy across partitions (separate accounts, credentials and bootstrap)",
                    f"Use a region of the {home} partition for this stage, or give the {partition} regions their own "
                    f"deployments file with a pipeline in a region of the {partition} partition")
    endpoints = sum(len(d.traffic_patterns) for d in parsed.values())
    if endpoints * len(pipeline.stages) > MAX_ENDPOINT_STAGES:
        out.add(("pipeline", "stages"), f"{len(pipeline.stages)} stages",
                f"with {endpoints} endpoints the lmi-pipeline stack would hold about "
                f"{PIPELINE_FIXED_RESOURCES + RESOURCES_PER_ENDPOINT_STAGE * endpoints * len(pipeline.stages)} resources "
                f"({RESOURCES_PER_ENDPOINT_STAGE} per endpoint and stage: the verify step's CodeBuild project, role and "
                f"policy), more than CloudFormation's {MAX_STACK_RESOURCES} per stack; endpoints x stages may be at "
                f"most {MAX_ENDPOINT_STAGES}",
                (f"Use at most {MAX_ENDPOINT_STAGES // endpoints} stages for {endpoints} endpoints, or split "
                 "the deployments across files, each with its own pipeline") if endpoints <= MAX_ENDPOINT_STAGES else
                (f"Split the deployments across files of at most {max(1, MAX_ENDPOINT_STAGES // len(pipeline.stages))} "
                 f"endpoints each, each with its own pipeline of {len(pipeline.stages)} stages"))
    for i, deployment in parsed.items():
        for key in ("account", "region"):
            if getattr(deployment, key) is not None:
                out.add(("deployments", i, key), getattr(deployment, key),
                        "is decided by each pipeline stage in a file with pipeline:, which deploys every deployment "
                        "to every stage's account and region",
                        f"Remove {key} from the deployment (and defaults:), or deploy it from a file without pipeline:")
    for stage in pipeline.stages:
        for i, deployment in parsed.items():
            problem = deployment.kms_region_problem(stage.region) or deployment.partition_problem(stage.region)
            if problem:
                out.add(("deployments", i, "kms_key_arn"), deployment.kms_key_arn,
                        f"in pipeline stage {stage.name}: {problem}")


def parse_deployments(raw: Any, source: str = "deployments file", marks: Marks | None = None) -> DeploymentsFile:
    """The validated document, or one SelectorError carrying every problem (first one in its paragraph)."""
    parsed, problems = _check_document(raw, source, marks)
    if problems:
        raise SelectorError.of(problems)
    assert parsed is not None
    return parsed


def _token_problem(text: str, file: str) -> Problem | None:
    secret = HF_TOKEN.search(text)
    if not secret:
        return None
    line = text.count("\n", 0, secret.start()) + 1
    column = secret.start() - (text.rfind("\n", 0, secret.start()) + 1) + 1
    return Problem("deployments file", "hf_...", "contains a literal Hugging Face token (hf_...)",
                   "Store it in Secrets Manager and set hf_token_secret_arn instead; revoke the exposed token",
                   file, line, column)


DEPLOYMENTS_HINT = "Pass an existing YAML file, e.g. deployments/default.yaml"


def load_deployments(path: Any) -> DeploymentsFile:
    """Read (through the input boundary) and validate a deployments file; one SelectorError with every problem."""
    parsed, problems, _ = _load(path)
    if problems:
        raise SelectorError.of(problems)
    assert parsed is not None
    return parsed


def _load(path: Any) -> tuple[DeploymentsFile | None, list[Problem], tuple[DeploymentsFile, list[int]] | None]:
    text, document = read_yaml(path, "deployments file", DEPLOYMENTS_HINT)
    token = _token_problem(text, document.marks.file)
    if token:
        return None, [token], None  # fatal: no other message may quote the token
    parsed, problems, partial = _check_document_partial(document.data, str(path), document.marks)
    return parsed, _merge(document.problems, problems, document.marks, document.data), partial


def _merge(first: list[Problem], then: list[Problem], marks: Marks, data: Any) -> list[Problem]:
    """Loader problems (duplicate and non-text keys) before schema ones at the same spot; sorted by line."""
    entries = data.get("deployments") if isinstance(data, dict) else None
    names = _entry_names(entries if isinstance(entries, list) else [])
    located = []
    for p in first:
        path = marks.by_mark.get((p.line, p.column)) if p.line is not None and p.column is not None else None
        located.append(Problem(_label(path, names) if path else p.field, p.value, p.problem, p.hint, p.file, p.line,
                               p.column))
    spots = {(p.line, p.column) for p in located}
    rest = [p for p in then if (p.line, p.column) not in spots or p.line is None]
    return sorted(located + rest, key=lambda p: (p.line or 0, p.column or 0))


def pipeline_source_path(parsed: DeploymentsFile, path: Any, root: Path | None = None) -> str:
    """The deployments file as the pipeline's synth step will find it: relative to the repository root (the
    working directory `make synth` runs in), since the build's source checkout has none of this machine's paths."""
    root = (root or Path.cwd()).resolve()
    try:
        return Path(path).resolve().relative_to(root).as_posix()
    except ValueError:
        line = column = None
        if parsed.marks is not None:
            _, mark = parsed.marks.find(("pipeline",))
            line, column = mark if mark else (None, None)
        raise SelectorError("pipeline", str(path),
                            f"the deployments file is outside the repository the synth runs in ({root}); the "
                            "pipeline's synth step reads it from the source checkout, which has only the repository's "
                            "files",
                            "Move the file into the repository (e.g. deployments/) and synthesize from the repository "
                            "root", file=str(path), line=line, column=column) from None


def check_file(path: Any) -> tuple[list[ResolvedDeployment], list[Problem]]:
    """What `validate` runs: every problem of the file, schema and plan alike, sorted by line. Entries that are
    well-formed are planned even when others are not, so one run shows every independent mistake."""
    try:
        parsed, problems, partial = _load(path)
    except SelectorError as error:
        return [], error.problems
    if problems and parsed is not None:  # duplicate or non-text keys in an otherwise valid file
        _, more = _resolve_each(parsed)
        return [], sorted(problems + more, key=lambda p: (p.line or 0, p.column or 0))
    if parsed is None:
        if partial is not None:
            document, indexes = partial
            _, more = _resolve_each(document, indexes=indexes)
            problems = _merge([], problems + more, document.marks, None) if document.marks else problems + more
        return [], sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
    resolved, problems = _resolve_each(parsed)
    problems += plan_pools(parsed)[1]
    if parsed.pipeline is not None and not problems:
        try:
            pipeline_source_path(parsed, path)
        except SelectorError as error:
            problems.extend(error.problems)
        for stage in parsed.pipeline.stages:
            try:
                resolve_for_stage(parsed, stage)
            except SelectorError as error:
                problems.extend(error.problems)
    return resolved, sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def _resolve_each(parsed: DeploymentsFile, prefix: str = "",
                  indexes: list[int] | None = None) -> tuple[list[ResolvedDeployment], list[Problem]]:
    """Plan every deployment; `indexes` are the entries' positions in the file when only some are given."""
    from selector.delivery import environment_delivery_error
    from selector.resolve import resolve

    indexes = indexes if indexes is not None else list(range(len(parsed.deployments)))
    out = _Collector("", parsed.marks, [])
    resolved = []
    for i, deployment in zip(indexes, parsed.deployments, strict=False):
        if deployment.endpoint is not None:
            continue  # planned with its shared endpoint (plan_pools)
        for traffic in deployment.traffic_patterns:
            try:
                plan = resolve(deployment.request(traffic))
                if deployment.delivery_mode == "environment" and (error := environment_delivery_error(plan)):
                    raise error
            except SelectorError as error:
                for p in error.problems:
                    key = p.field.split(" ")[0].split(".")[0]
                    key = "model_config" if key == "model" and p.field.startswith("model config") else key
                    path = ("deployments", i, key) if key in Deployment.model_fields or key == "model_config" \
                        else ("deployments", i)
                    if key == "options" and p.field.startswith("options."):  # at the option's own line
                        path = (*path, p.field.removeprefix("options."))
                    field = f"{prefix}deployments[{deployment.name}].{p.field}"
                    problem = f"{p.where}: {p.problem}" if p.file else p.problem  # located in the config.json
                    out.add(path, p.value, problem, p.hint, field=field)
                continue
            resolved.append(ResolvedDeployment(deployment, traffic, deployment.endpoint_name(traffic), plan))
    return resolved, out.sorted()


def resolve_all(parsed: DeploymentsFile) -> list[ResolvedDeployment]:
    """Every endpoint of the file, resolved; a failure names every deployment that did not resolve."""
    resolved, problems = _resolve_each(parsed)
    if problems:
        raise SelectorError.of(problems)
    return resolved


def plan_pools(parsed: DeploymentsFile, indexes: list[int] | None = None) -> tuple[list[Any], list[Problem]]:
    """Every shared endpoint of the file, planned (selector/pools/plan.py); one located problem per refusal."""
    from selector.pools.plan import Member, PoolRefusal, plan_pool

    indexes = indexes if indexes is not None else list(range(len(parsed.deployments)))
    out = _Collector("", parsed.marks, [])
    plans = []
    for pool_name, pool in sorted(parsed.endpoints.items()):
        members = [(i, d) for i, d in zip(indexes, parsed.deployments, strict=False) if d.endpoint == pool_name]
        try:
            plans.append(plan_pool(pool_name, pool, [
                Member(d.name, d.request(d.traffic_patterns[0]), d.copies or DEFAULT_COPIES, tuple(d.adapters))
                for _, d in members]))
        except PoolRefusal as refused:
            for refusal in refused.all:
                if refusal.deployment is not None:
                    i = next(i for i, d in members if d.name == refusal.deployment)
                    spot = tuple(refusal.field.split(".", 1)) if refusal.field.startswith("options.") \
                        else (refusal.field,)
                    out.add(("deployments", i, *spot), refusal.value,
                            f"on the shared endpoint {pool_name}: {refusal.problem}", refusal.hint,
                            field=f"deployments[{refusal.deployment}].{refusal.field}")
                else:
                    out.add(("endpoints", pool_name), refusal.value, refusal.problem, refusal.hint, field=refusal.field)
        except SelectorError as error:  # a member's own request is bad (unknown model, bad config.json)
            for p in error.problems:
                out.add(("endpoints", pool_name), p.value, p.problem, p.hint, field=f"endpoints[{pool_name}]")
    return plans, out.sorted()


def resolve_pools(parsed: DeploymentsFile) -> list[Any]:
    """Every shared endpoint's PoolPlan; a SelectorError naming each one that cannot be planned."""
    plans, problems = plan_pools(parsed)
    if problems:
        raise SelectorError.of(problems)
    return plans


def resolve_for_stage(parsed: DeploymentsFile, stage: PipelineStage) -> list[ResolvedDeployment]:
    """Every endpoint re-planned for a pipeline stage's account and region (images differ by region)."""
    staged = parsed.model_copy(update={"deployments": [
        d.model_copy(update={"region": stage.region, "account": stage.account}) for d in parsed.deployments]})
    staged._marks = parsed.marks
    resolved, problems = _resolve_each(staged, prefix=f"pipeline.stages[{stage.name}] ")
    if problems:
        raise SelectorError.of(problems)
    return resolved


def replace_field(error: SelectorError, field: str) -> SelectorError:
    return SelectorError(field, error.value, error.problem, error.hint)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of deployments files (deployments/schema.json is this, dumped): see deployment_schema."""
    return deployment_schema.complete(DeploymentsFile.model_json_schema(by_alias=True))


__all__ = ["Deployment", "DeploymentsFile", "ResolvedDeployment", "load_deployments", "parse_deployments",
           "resolve_all", "resolve_pools", "plan_pools", "check_file", "json_schema"]

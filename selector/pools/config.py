"""The `endpoints:` section of a deployments file and the per-deployment pool keys (adapters, copies).

Kept apart from selector/deployments.py so the pool grammar reads in one place; deployments.py adds the fields
to Deployment and DeploymentsFile and runs the cross-entry checks (unknown pool, settings that must be shared).
Every field has a description: `python -m selector schema` publishes them.
"""
from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from selector import aws_names

# SageMaker InferenceComponentName: [a-zA-Z0-9]([\-a-zA-Z0-9]*[a-zA-Z0-9])?, at most 63 characters
# (botocore sagemaker service-2.json shape InferenceComponentName; tests/test_shared_endpoint.py holds them equal).
COMPONENT_NAME_MAX = 63
NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?", re.ASCII)
# botocore sagemaker shape RoutingStrategy offers more (PREFIX_AWARE, KV_AWARE); these two are the ones the
# CloudFormation resource documents for every region. tests/test_shared_endpoint.py checks they are in the enum.
ROUTING = ("LEAST_OUTSTANDING_REQUESTS", "RANDOM")
# Ranks every vLLM release accepts as max_lora_rank: vllm-project/vllm vllm/config.py LoRAConfig.__post_init__
# possible_max_ranks = (8, 16, 32, 64, 128, 256); later releases add 320 and 512.
LORA_RANKS = (8, 16, 32, 64, 128, 256)
MAX_POOL_INSTANCES = 100  # project policy: a larger fleet is planned in several pools


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, protected_namespaces=())


def name_problem(value: str) -> str | None:
    if not NAME.fullmatch(value):
        return "use lowercase letters, digits and hyphens, starting and ending with a letter or digit"
    return None


class Adapter(_Strict):
    """One LoRA adapter served on its deployment's base model as an adapter inference component."""

    name: str = Field(..., min_length=1, max_length=COMPONENT_NAME_MAX,
                      description="Adapter name: lowercase letters, digits, hyphens. The adapter's inference "
                                  "component is <pool>-<deployment>-<name> (at most 63 characters).",
                      examples=["support-tone"])
    s3_uri: str = Field(..., min_length=1,
                        description="s3://bucket/key.tar.gz: one gzip-compressed tar of the adapter (adapter_config.json "
                                    "and weights). SageMaker's ArtifactUrl accepts only a single .tar.gz object.",
                        examples=["s3://my-bucket/adapters/support-tone.tar.gz"])
    rank: Literal[8, 16, 32, 64, 128, 256] = Field(
        16, examples=[32],
        description="LoRA rank r of the adapter (adapter_config.json `r`); the largest rank of a deployment's "
                    "adapters becomes option.max_lora_rank. Default: 16.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("s3_uri")
    @classmethod
    def _uri(cls, value: str) -> str:
        problem = aws_names.s3_uri_problem(value) or aws_names.properties_problem(value)
        if problem:
            raise ValueError(problem)
        if not value.endswith(".tar.gz") or value.endswith("/.tar.gz"):
            raise ValueError("is not one .tar.gz object: an adapter inference component's ArtifactUrl must name a "
                             "single gzip-compressed tar archive (SageMaker API InferenceComponentContainerSpecification)."
                             " Pack the adapter folder: tar czf adapter.tar.gz -C adapter . and upload it")
        return value


class Copies(_Strict):
    """How many copies of the model the pool runs, and how Application Auto Scaling moves between min and max."""

    initial: int = Field(1, ge=1, le=1000, examples=[2],
                         description="Copies at deploy time (RuntimeConfig.CopyCount). Default: 1.")
    min: int = Field(1, ge=0, le=1000, examples=[0],
                     description="Fewest copies autoscaling keeps; 0 lets the component scale to zero copies when idle "
                                 "(the pool's min_instances: 0 releases the instances too). Default: 1.")
    max: int = Field(1, ge=1, le=1000, examples=[4],
                     description="Most copies autoscaling starts; the pool must hold max copies of every model on "
                                 "max_instances instances. Default: 1 (no autoscaling).")
    target_invocations_per_copy: int = Field(
        10, ge=1, le=1_000_000, examples=[20],
        description="Target of SageMakerInferenceComponentInvocationsPerCopy (per minute) for target tracking. "
                    "Default: 10.")
    scale_in_cooldown: int = Field(600, ge=0, le=86400, examples=[900],
                                   description="Seconds between scale-in steps. Default: 600.")
    scale_out_cooldown: int = Field(300, ge=0, le=86400, examples=[120],
                                    description="Seconds between scale-out steps. Default: 300.")

    @model_validator(mode="after")
    def _order(self) -> Copies:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        if not self.min <= self.initial <= self.max:
            raise ValueError(f"initial ({self.initial}) is outside min..max ({self.min}..{self.max})")
        return self

    @property
    def scales(self) -> bool:
        return self.min != self.max


class EndpointPool(_Strict):
    """One shared SageMaker endpoint: a pool of instances of one type that its inference components share."""

    families: list[str] | None = Field(
        None, min_length=1, max_length=16,
        description="Instance families the planner may choose the pool's instance type from (NVIDIA GPU families, "
                    "e.g. [g5]). Default: every GPU family in the catalog.",
        examples=[["g5"]])
    instance_type: str | None = Field(None, max_length=64, examples=["ml.g5.12xlarge"],
                                      description="Pin the pool's instance type instead of letting the planner pick "
                                                  "the cheapest packing. Default: the planner's choice.")
    min_instances: int = Field(1, ge=0, le=MAX_POOL_INSTANCES, examples=[0],
                               description="ManagedInstanceScaling.MinInstanceCount: 0 releases every instance when "
                                           "all components have scaled to zero copies. Default: 1.")
    max_instances: int | None = Field(None, ge=1, le=MAX_POOL_INSTANCES, examples=[4],
                                      description="ManagedInstanceScaling.MaxInstanceCount. Default: the instances "
                                                  "that hold every component at its max copies.")
    routing: Literal["LEAST_OUTSTANDING_REQUESTS", "RANDOM"] = Field(
        "LEAST_OUTSTANDING_REQUESTS", examples=["RANDOM"],
        description="RoutingConfig.RoutingStrategy: how the endpoint picks a copy for each request. "
                    "Default: LEAST_OUTSTANDING_REQUESTS.")

    @field_validator("families", mode="before")
    @classmethod
    def _all_families(cls, value: Any) -> Any:
        """`families: all` (as on a deployment) means every GPU family: the default."""
        return None if value == "all" or value == ["all"] else value

    @model_validator(mode="after")
    def _consistent(self) -> EndpointPool:
        if self.families is not None and self.instance_type is not None:
            raise ValueError("instance_type and families: give one (instance_type pins the type, families lets the "
                             "planner choose)")
        if self.max_instances is not None and self.min_instances > self.max_instances:
            raise ValueError(f"min_instances ({self.min_instances}) is greater than max_instances "
                             f"({self.max_instances})")
        return self


DEFAULT_COPIES = Copies.model_validate({})  # one copy, no autoscaling: a deployment without `copies:`

"""What is deployed: a stack's description, its endpoints, and why an endpoint failed.

The CDK CLI prints CloudFormation's events, which often only say "Resource handler returned message:
... failed"; SageMaker's own FailureReason (image pull, health check timeout, capacity) is read here and
printed after a failed deploy.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from provision.template import ENDPOINT


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack, or None when CloudFormation says it does not exist (any other error propagates)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise
    stack = stacks[0] if stacks else None
    return None if stack is None or stack.get("StackStatus") == "DELETE_COMPLETE" else stack


def stack_endpoint_names(cfn: Any, stack_id: str) -> list[str]:
    """Endpoint names from the stack's resources (a SageMaker endpoint's physical id is its ARN)."""
    names = []
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            for resource in page.get("StackResourceSummaries", []):
                if resource.get("ResourceType") == ENDPOINT and resource.get("PhysicalResourceId"):
                    names.append(resource["PhysicalResourceId"].rsplit("/", 1)[-1])
    except ClientError:
        pass
    return names


def endpoint_failure_reasons(sagemaker: Any, names: list[str]) -> list[tuple[str, str, str]]:
    """(endpoint, status, FailureReason) for the named endpoints that still exist and say why they failed."""
    reasons = []
    for name in names:
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
        except ClientError:
            continue  # rolled back and deleted, or never created
        if endpoint.get("FailureReason"):
            reasons.append((name, endpoint.get("EndpointStatus", ""), endpoint["FailureReason"]))
    return reasons

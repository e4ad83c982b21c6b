"""The LMI image URI: a literal for region-specific stacks, a CfnMapping lookup for region-agnostic ones."""
from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct

from selector.catalog import load_catalog
from selector.plan import Plan
from stacks._private.policy import pseudo


def literal_region(stack: cdk.Stack) -> str | None:
    """The stack's region, or None for a region-agnostic stack (region is the AWS::Region token)."""
    region = stack.region
    return None if cdk.Token.is_unresolved(region) else region


def registry_mapping(stack: cdk.Stack, plan: Plan) -> cdk.CfnMapping:
    """One mapping per stack and image: region -> registry account and host, only where the image exists."""
    mapping_id = "LmiRegistry" + re.sub(r"[^A-Za-z0-9]", "", f"{plan.container_framework}{plan.container_version}")
    existing = stack.node.try_find_child(mapping_id)
    if existing is not None:
        return existing  # type: ignore[return-value]
    images = load_catalog().images
    image = images.versions[plan.container_framework][plan.container_version]
    table = {
        region: {"account": images.registries[region], "host": images.registry_host(region)}
        for region in sorted(image.regions)
    }
    return cdk.CfnMapping(stack, mapping_id, mapping=table)


def registry_account_and_uri(scope: Construct, plan: Plan) -> tuple[str, str]:
    """(registry account, image URI): literals in a region-specific stack, CfnMapping lookups otherwise.

    Both come from one look at the stack's region (each Stack.of / region / Token check is a jsii round-trip).
    """
    stack = cdk.Stack.of(scope)
    region = literal_region(stack)
    images = load_catalog().images
    if region is not None:
        image = images.versions[plan.container_framework][plan.container_version]
        return images.registries[region], images.uri(image, region)
    mapping = registry_mapping(stack, plan)
    account = mapping.find_in_map(pseudo("REGION"), "account")
    host = mapping.find_in_map(pseudo("REGION"), "host")
    return account, cdk.Fn.join("", [host, f"/{images.repository}:{plan.image_tag}"])

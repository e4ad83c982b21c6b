"""The LMI image URI: a literal for region-specific stacks, a CfnMapping lookup for region-agnostic ones."""
from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct

from selector.catalog import load_catalog
from selector.plan import Plan


def is_region_agnostic(scope: Construct) -> bool:
    return cdk.Token.is_unresolved(cdk.Stack.of(scope).region)


def registry_mapping(scope: Construct, plan: Plan) -> cdk.CfnMapping:
    """One mapping per stack and image: region -> registry account and host, only where the image exists."""
    stack = cdk.Stack.of(scope)
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


def image_uri(scope: Construct, plan: Plan) -> str:
    if not is_region_agnostic(scope):
        region = cdk.Stack.of(scope).region
        images = load_catalog().images
        image = images.versions[plan.container_framework][plan.container_version]
        return images.uri(image, region)
    mapping = registry_mapping(scope, plan)
    host = mapping.find_in_map(cdk.Aws.REGION, "host")
    return cdk.Fn.join("", [host, f"/{load_catalog().images.repository}:{plan.image_tag}"])


def registry_account(scope: Construct, plan: Plan) -> str:
    if not is_region_agnostic(scope):
        return load_catalog().images.registries[cdk.Stack.of(scope).region]
    return registry_mapping(scope, plan).find_in_map(cdk.Aws.REGION, "account")

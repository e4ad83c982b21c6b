"""Checks that catch, in seconds, what would otherwise fail 10-30 minutes into a deployment.

A new account has a quota of 0 for most GPU endpoint instances, an LMI image is published in some
regions only, and a CDK stack cannot be created before `cdk bootstrap` (the bootstrap version the CDK CLI
would only check after uploading the assets). Every problem is collected (not just the first) and comes
with its fix.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from provision.assembly import StackArtifact
from provision.aws import Aws
from provision.errors import error_code
from provision.template import EndpointFacts, endpoint_facts, image_uri

QUOTA_SERVICE = "sagemaker"
IMAGE_URI = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.(?P<domain>[a-z0-9.-]+)/(?P<repo>[^:@]+)[:@](?P<tag>.+)$")
ACTIVE_ENDPOINT_STATES = {"Creating", "InService", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed"}


@dataclass(frozen=True)
class Problem:
    check: str
    message: str
    fix: str


@dataclass
class Report:
    stack: str
    region: str
    account: str
    passed: list[tuple[str, str]] = field(default_factory=list)  # (check, detail)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def ok(self, check: str, detail: str) -> None:
        self.passed.append((check, detail))

    def fail(self, check: str, message: str, fix: str) -> None:
        self.problems.append(Problem(check, message, fix))


def run_preflight(aws: Aws, stack: StackArtifact) -> Report:
    template = stack.template()
    facts = endpoint_facts(template)
    report = Report(stack.stack_name, aws.region, aws.account_id)
    check_images(report, template, facts, aws.region)
    check_bootstrap(report, aws, stack)
    check_quotas(report, aws.client("service-quotas"), aws.client("sagemaker"), facts, aws.region)
    return report


# --- image -------------------------------------------------------------------------------------------

def check_images(report: Report, template: dict[str, Any], facts: EndpointFacts, region: str) -> None:
    if not facts.images:
        report.notes.append("no SageMaker model image in the template; image check skipped")
    for image in facts.images:
        where = f"image of {image.model_id}"
        missing = [m for m in image.mappings if region not in template.get("Mappings", {}).get(m, {})]
        if missing:
            regions = sorted(template.get("Mappings", {}).get(missing[0], {}))
            report.fail(
                "image",
                f"{where}: region {region} is not a key of the stack's image registry mapping {missing[0]}, "
                f"so CloudFormation cannot resolve the image URI (mapped regions: {', '.join(regions)})",
                "deploy to one of the mapped regions, or pin `region:` in the deployment file to a supported "
                "region and synthesize again",
            )
            continue
        uri = image_uri(image.expression, template, region)
        if not isinstance(uri, str):
            report.notes.append(f"{where}: URI is computed at deploy time; not checked")
            continue
        _check_image_uri(report, where, uri, region)


def _check_image_uri(report: Report, where: str, uri: str, region: str) -> None:
    match = IMAGE_URI.match(uri)
    if not match:
        report.notes.append(f"{where}: {uri} is not an ECR image URI; not checked")
        return
    if match["region"] != region:
        report.fail(
            "image",
            f"{where}: {uri} is in {match['region']} but the endpoint would run in {region}; SageMaker pulls "
            "images from the endpoint's own region only",
            f"synthesize the stack for {region} (or region-agnostic) so it gets that region's registry",
        )
        return
    from selector.catalog import load_catalog  # data only: no CDK, no network

    images = load_catalog().images
    if match["repo"] != images.repository:
        report.notes.append(f"{where}: {match['repo']} is not an LMI repository; availability not checked")
        return
    expected = images.registries.get(region)
    if expected is None:
        report.fail(
            "image",
            f"{where}: no LMI (djl-inference) registry is known for {region}",
            f"deploy to a region with LMI images: {', '.join(sorted(images.registries))}",
        )
        return
    if match["account"] != expected:
        report.fail(
            "image",
            f"{where}: registry account {match['account']} is not the LMI registry of {region} ({expected})",
            "synthesize again so the URI comes from the image catalog",
        )
        return
    published = [v for versions in images.versions.values() for v in versions.values() if v.tag == match["tag"]]
    if not published:
        report.fail(
            "image",
            f"{where}: tag {match['tag']} is not in the image catalog, so it may not exist",
            "pin a container version listed by `python -m selector catalog`, or refresh the image catalog "
            "(scripts/refresh_images.py)",
        )
    elif not any(region in v.regions for v in published):
        regions = sorted(set().union(*(v.regions for v in published)))
        report.fail(
            "image",
            f"{where}: {match['repo']}:{match['tag']} is not published in {region} "
            f"(published in {len(regions)} regions, e.g. {', '.join(regions[:6])})",
            "deploy to a region where it is published, or pin an older container version that is",
        )
    else:
        report.ok("image", f"{uri} is published in {region}")


# --- bootstrap ---------------------------------------------------------------------------------------

def check_bootstrap(report: Report, aws: Aws, stack: StackArtifact) -> None:
    parameter = stack.bootstrap_parameter
    bootstrap_fix = f"run `npx cdk bootstrap aws://{aws.account_id}/{aws.region}` once for this account and region"
    if parameter:
        try:
            value = aws.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
        except ClientError as error:
            if error_code(error) != "ParameterNotFound":
                raise
            report.fail("bootstrap", f"the account is not CDK-bootstrapped in {aws.region} ({parameter} is missing)", bootstrap_fix)
            return
        required = stack.bootstrap_version or 0
        if not value.isdigit() or int(value) < required:
            report.fail(
                "bootstrap",
                f"bootstrap version {value} in {aws.region} is older than the {required} this stack needs",
                bootstrap_fix.replace("once", "again with the current CDK CLI"),
            )
            return
        report.ok("bootstrap", f"{parameter} = {value} (needs >= {required})")
    else:
        report.notes.append("the stack names no bootstrap version parameter; bootstrap not checked")


# --- quotas ------------------------------------------------------------------------------------------

def quota_name(instance_type: str) -> str:
    return f"{instance_type} for endpoint usage"


def find_quota(quotas: Any, instance_type: str) -> dict[str, Any] | None:
    """The account's applied quota for the instance type, else the AWS default (not every quota is "applied")."""
    wanted = quota_name(instance_type).lower()
    for operation in ("list_service_quotas", "list_aws_default_service_quotas"):
        for page in quotas.get_paginator(operation).paginate(ServiceCode=QUOTA_SERVICE):
            for quota in page.get("Quotas", []):
                if quota.get("QuotaName", "").lower() == wanted:
                    return quota
    return None


def instances_in_use(sagemaker: Any, instance_types: set[str]) -> dict[str, dict[str, int]]:
    """instance type -> {endpoint name: running instances} over the region's live endpoints."""
    usage: dict[str, dict[str, int]] = {}
    configs: dict[str, dict[str, str]] = {}
    for page in sagemaker.get_paginator("list_endpoints").paginate():
        for summary in page.get("Endpoints", []):
            if summary.get("EndpointStatus") not in ACTIVE_ENDPOINT_STATES:
                continue
            name = summary["EndpointName"]
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
            config_name = endpoint["EndpointConfigName"]
            if config_name not in configs:
                variants = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["ProductionVariants"]
                configs[config_name] = {v["VariantName"]: v.get("InstanceType", "") for v in variants}
            for variant in endpoint.get("ProductionVariants", []):
                instance_type = configs[config_name].get(variant["VariantName"], "")
                count = variant.get("CurrentInstanceCount", variant.get("DesiredInstanceCount", 0)) or 0
                if instance_type in instance_types and count:
                    usage.setdefault(instance_type, {})[name] = usage.get(instance_type, {}).get(name, 0) + count
    return usage


def check_quotas(report: Report, quotas: Any, sagemaker: Any, facts: EndpointFacts, region: str) -> None:
    needs: dict[str, list[str]] = {}
    totals: dict[str, int] = {}
    for variant in facts.variants:
        if variant.instance_type is None:
            continue
        totals[variant.instance_type] = totals.get(variant.instance_type, 0) + variant.needed
        why = f"{variant.initial_count} initial"
        if variant.autoscaling_max:
            why += f", autoscaling up to {variant.autoscaling_max}"
        needs.setdefault(variant.instance_type, []).append(f"{variant.variant_name}: {why}")
    if not totals:
        report.notes.append("no instance-backed production variant; quota check skipped")
        return
    usage = instances_in_use(sagemaker, set(totals))
    own = set(facts.endpoint_names)
    for instance_type, needed in sorted(totals.items()):
        name = quota_name(instance_type)
        quota = find_quota(quotas, instance_type)
        if quota is None:
            report.fail(
                "quota",
                f"no Service Quotas entry {name!r} in {region}: the instance type is probably not offered for "
                "SageMaker endpoints there",
                "choose a region that offers it, or another instance family (`families:` in the deployment file)",
            )
            continue
        limit = int(quota.get("Value", 0))
        in_use = usage.get(instance_type, {})
        used = sum(in_use.values())
        detail = f"{name}: quota {limit}, this stack needs {needed} ({'; '.join(needs[instance_type])})"
        if used:
            users = ", ".join(f"{n} {c}" for n, c in sorted(in_use.items()))
            detail += f", {used} already running ({users}"
            detail += "; an update starts the new fleet before the old one stops)" if own & set(in_use) else ")"
        if used + needed > limit:
            wanted = used + needed
            report.fail(
                "quota",
                detail,
                f"request an increase to at least {wanted}: `aws service-quotas request-service-quota-increase "
                f"--service-code {QUOTA_SERVICE} --quota-code {quota.get('QuotaCode', '?')} --desired-value {wanted} "
                f"--region {region}` (approval can take days), or lower the instance count / autoscaling max",
            )
        else:
            report.ok("quota", detail)
    if facts.blue_green:
        report.notes.append("blue/green updates run the old and new fleets side by side: updates need twice the instances")

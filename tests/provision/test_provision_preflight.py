"""`python -m provision preflight`: every problem in one list, each with its fix.

SSM, S3, STS and SageMaker come from the local moto cloud; Service Quotas is stubbed with botocore's
Stubber (moto does not implement ListServiceQuotas, and quota values are exactly what this check is about).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from provision_testkit import create_stack, run, stubbed_client, use_clients
from provision.assembly import load_assembly
from provision.preflight import Report, check_images, check_quotas, find_quota
from provision.template import endpoint_facts

UNEVEN = "lmi-llama3-8b-uneven"
PINNED = "lmi-llama2-70b"


def quota(instance_type: str, value: float, code: str = "L-ABCD1234") -> dict[str, Any]:
    return {
        "ServiceCode": "sagemaker", "ServiceName": "Amazon SageMaker", "QuotaCode": code,
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:123456789012:sagemaker/{code}",
        "QuotaName": f"{instance_type} for endpoint usage", "Value": value, "Unit": "None",
        "Adjustable": True, "GlobalQuota": False,
    }


def other_quotas() -> list[dict[str, Any]]:
    return [quota("ml.g5.2xlarge", 8, "L-TRAIN01") | {"QuotaName": "ml.g5.2xlarge for training job usage"},
            quota("ml.m5.large", 3, "L-M5L00001")]


def quotas_client(*pages: list[dict[str, Any]]) -> Any:
    """A service-quotas client answering ListServiceQuotas with `pages` (NextToken-chained)."""
    client, stub = stubbed_client("service-quotas")
    for number, page in enumerate(pages):
        params: dict[str, Any] = {"ServiceCode": "sagemaker"}
        if number:
            params["NextToken"] = f"page{number}"
        response: dict[str, Any] = {"Quotas": page}
        if number < len(pages) - 1:
            response["NextToken"] = f"page{number + 1}"
        stub.add_response("list_service_quotas", response, params)
    return client


def stack_facts(app: Path, name: str) -> tuple[dict[str, Any], Any]:
    template = load_assembly(app).stack(name).template()
    return template, endpoint_facts(template)


def instance_type(app: Path, name: str) -> str:
    """The planned instance type (read from the template, so a change of plan does not break these tests)."""
    (variant,) = stack_facts(app, name)[1].variants
    return variant.instance_type


def test_template_facts_of_the_default_deployments(assembly):
    _, uneven = stack_facts(assembly, UNEVEN)
    (variant,) = uneven.variants
    # deployments/default.yaml: llama3-8b autoscaling {min: 1, max: 4}
    assert (variant.initial_count, variant.autoscaling_max, variant.needed) == (1, 4, 4)
    assert variant.instance_type.startswith("ml.")
    assert uneven.endpoint_names == ["llama3-8b-uneven"]
    assert uneven.images[0].mappings == ("LmiRegistrydjllmi0380",) and not uneven.blue_green
    _, pinned = stack_facts(assembly, PINNED)
    (variant,) = pinned.variants
    assert (variant.autoscaling_max, variant.needed) == (None, 1)
    assert pinned.images[0].mappings == () and pinned.blue_green


def test_preflight_passes_when_quota_covers_the_autoscaling_ceiling(cloud, assembly, monkeypatch):
    kind = instance_type(assembly, UNEVEN)
    use_clients(monkeypatch, service_quotas=quotas_client(other_quotas(), [quota(kind, 4)]))
    result = run("preflight", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 0, result.output
    assert "preflight passed" in result.stdout
    assert f"{kind} for endpoint usage: quota 4, this stack needs 4" in result.stdout
    assert "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:" in result.stdout
    assert "/cdk-bootstrap/hnb659fds/version = 30" in result.stdout


def test_preflight_reports_every_problem_with_its_fix(cloud, assembly, monkeypatch):
    kind = instance_type(assembly, UNEVEN)
    use_clients(monkeypatch, service_quotas=quotas_client([quota(kind, 1, "L-G52XL001")]))
    result = run("preflight", "--app", str(assembly), "--stack", UNEVEN, "--region", "eu-west-1")
    assert result.exit_code == 1, result.output
    out = result.stdout
    assert "2 problem(s):" in out
    assert "1. [bootstrap] the account is not CDK-bootstrapped in eu-west-1" in out
    assert "fix: run `npx cdk bootstrap aws://123456789012/eu-west-1` once" in out
    assert f"2. [quota] {kind} for endpoint usage: quota 1, this stack needs 4 (AllTraffic: 1 initial, autoscaling up to 4)" in out
    assert "--quota-code L-G52XL001 --desired-value 4 --region eu-west-1" in out
    assert result.stderr == ""


def test_quota_counts_instances_other_endpoints_already_run(cloud, assembly, monkeypatch):
    kind = instance_type(assembly, UNEVEN)
    same = [s.stack_name for s in load_assembly(assembly).stacks
            if s.stack_name != UNEVEN and s.region is None and instance_type(assembly, s.stack_name) == kind]
    if not same:
        pytest.skip(f"no other default deployment runs on {kind}")
    other = same[0]
    create_stack(cloud, assembly, other)
    use_clients(monkeypatch, service_quotas=quotas_client([quota(kind, 4)]))
    result = run("preflight", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 1, result.output
    running = other.removeprefix("lmi-")
    assert "quota 4, this stack needs 4" in result.stdout and f"1 already running ({running} 1)" in result.stdout
    assert "--desired-value 5" in result.stdout


def test_quota_is_found_on_a_later_page_or_among_the_defaults():
    assert find_quota(quotas_client(other_quotas(), [quota("ml.g5.2xlarge", 2)]), "ml.g5.2xlarge")["Value"] == 2
    client, stub = stubbed_client("service-quotas")
    stub.add_response("list_service_quotas", {"Quotas": other_quotas()}, {"ServiceCode": "sagemaker"})
    stub.add_response("list_aws_default_service_quotas", {"Quotas": [quota("ml.inf2.8xlarge", 0)]}, {"ServiceCode": "sagemaker"})
    assert find_quota(client, "ml.inf2.8xlarge")["Value"] == 0
    stub.assert_no_pending_responses()


def test_missing_quota_means_the_instance_type_is_not_offered(assembly):
    client, stub = stubbed_client("service-quotas")
    stub.add_response("list_service_quotas", {"Quotas": []}, {"ServiceCode": "sagemaker"})
    stub.add_response("list_aws_default_service_quotas", {"Quotas": other_quotas()}, {"ServiceCode": "sagemaker"})
    sagemaker, sm_stub = stubbed_client("sagemaker", "ap-east-2")
    sm_stub.add_response("list_endpoints", {"Endpoints": []}, {})
    _, facts = stack_facts(assembly, UNEVEN)
    report = Report(UNEVEN, "ap-east-2", "123456789012")
    check_quotas(report, client, sagemaker, facts, "ap-east-2")
    (problem,) = report.problems
    assert f"no Service Quotas entry '{instance_type(assembly, UNEVEN)} for endpoint usage' in ap-east-2" in problem.message
    assert "another instance family" in problem.fix


def test_region_missing_from_the_image_mapping_is_a_problem(assembly):
    template, facts = stack_facts(assembly, UNEVEN)
    report = Report(UNEVEN, "xx-nowhere-1", "123456789012")
    check_images(report, template, facts, "xx-nowhere-1")
    (problem,) = report.problems
    assert "region xx-nowhere-1 is not a key of the stack's image registry mapping LmiRegistrydjllmi0380" in problem.message


def test_literal_image_of_another_region_is_a_problem(assembly):
    template, facts = stack_facts(assembly, PINNED)
    report = Report(PINNED, "us-east-1", "123456789012")
    check_images(report, template, facts, "us-east-1")
    (problem,) = report.problems
    assert "is in us-west-2 but the endpoint would run in us-east-1" in problem.message


def test_image_tag_not_published_in_the_region_is_a_problem():
    from selector.catalog import load_catalog

    images = load_catalog().images
    found = [
        (image.tag, region)
        for versions in images.versions.values() for image in versions.values()
        for region in sorted(images.registries) if region not in image.regions
        if not any(region in other.regions for v in images.versions.values() for other in v.values() if other.tag == image.tag)
    ]
    if not found:
        pytest.skip("every catalogued image is published in every catalogued region")
    tag, region = found[0]
    uri = f"{images.registries[region]}.dkr.ecr.{region}.{images.domains[region]}/{images.repository}:{tag}"
    template = {"Resources": {"Model": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {"Image": uri}}}}}
    report = Report("s", region, "123456789012")
    check_images(report, template, endpoint_facts(template), region)
    (problem,) = report.problems
    assert f"is not published in {region}" in problem.message


def test_preflight_of_the_pinned_region_stack(cloud, assembly, monkeypatch):
    """No --region: the stack's us-west-2 pin decides where bootstrap, image and quota are checked."""
    kind = instance_type(assembly, PINNED)
    use_clients(monkeypatch, service_quotas=quotas_client([quota(kind, 2)]))
    result = run("preflight", "--app", str(assembly), "--stack", PINNED)
    assert result.exit_code == 0, result.output
    assert "in us-west-2" in result.stdout
    assert "763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:" in result.stdout
    assert f"{kind} for endpoint usage: quota 2, this stack needs 1" in result.stdout
    assert "blue/green updates run the old and new fleets side by side" in result.stdout

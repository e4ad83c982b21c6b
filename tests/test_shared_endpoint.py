"""The shared endpoint's CloudFormation: inference components, pool scaling, scale to zero, LoRA adapters; held
against botocore's SageMaker API shapes, cdk-nag (the checked synth) and cfn-lint; and `provision verify`
invoking every component."""
from __future__ import annotations

import json
import re
from io import BytesIO, StringIO
from pathlib import Path

import botocore.session
import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint

from app import synthesize
from selector.deployments import load_deployments, resolve_pools
from selector.pools.config import COMPONENT_NAME_MAX, ROUTING
from tests.test_stacks import ROOT, synth

EXAMPLE = str(ROOT / "deployments/pool-example.yaml")
IC = "AWS::SageMaker::InferenceComponent"


@pytest.fixture(scope="module")
def pool():
    (plan,) = resolve_pools(load_deployments(EXAMPLE))
    return plan


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Template:
    stacks = synth(EXAMPLE, tmp_path_factory.mktemp("pool"))  # cdk-nag runs here: a finding raises
    assert sorted(stacks) == ["lmi-chat-pool"]  # one endpoint for the whole file
    return stacks["lmi-chat-pool"]


@pytest.fixture(scope="module")
def checked_out(tmp_path_factory) -> Path:
    """The transactional synth `make synth` runs (nag, annotations, dynamic references, plan.md)."""
    out = tmp_path_factory.mktemp("pool-checked")
    synthesize(out, EXAMPLE)
    return out


@pytest.fixture(scope="module")
def sagemaker_api():
    return botocore.session.get_session().get_service_model("sagemaker")


def components(template: Template) -> dict[str, dict]:
    return {r["Properties"]["InferenceComponentName"]: r["Properties"] for r in template.find_resources(IC).values()}


def test_one_endpoint_with_a_component_per_model_and_adapter(template, pool):
    template.resource_count_is("AWS::SageMaker::Endpoint", 1)
    template.resource_count_is("AWS::SageMaker::Model", 0)
    found = components(template)
    expected = {c.name for c in pool.components} | {c.adapter_component(a) for c in pool.components for a in c.adapters}
    assert set(found) == expected and len(found) == 7


def test_endpoint_config_is_the_inference_component_kind(template, pool):
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))["Properties"]
    assert "ExecutionRoleArn" in config
    (variant,) = config["ProductionVariants"]
    assert "ModelName" not in variant and "VolumeSizeInGB" not in variant
    assert variant["InstanceType"] == pool.instance_type == "ml.g5.12xlarge"
    assert variant["InitialInstanceCount"] == pool.initial_instances == 2
    assert variant["ManagedInstanceScaling"] == {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 4}
    assert variant["RoutingConfig"] == {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}


def test_each_component_reserves_what_the_plan_sized(template, pool):
    found = components(template)
    for component in pool.components:
        spec = found[component.name]["Specification"]
        assert spec["ComputeResourceRequirements"] == component.reservation.to_json()
        env = spec["Container"]["Environment"]
        assert env["OPTION_TENSOR_PARALLEL_DEGREE"] == str(component.reservation.accelerators)
        assert env["OPTION_MODEL_ID"] == component.plan.model_id
        assert found[component.name]["RuntimeConfig"] == {"CopyCount": component.copies.initial}
        assert found[component.name]["VariantName"] == "AllTraffic"
        assert set(spec["StartupParameters"]) == {"ContainerStartupHealthCheckTimeoutInSeconds",
                                                  "ModelDataDownloadTimeoutInSeconds"}


def test_adapters_are_adapter_components_on_their_base(template):
    found = components(template)
    adapters = {n: p for n, p in found.items() if "BaseInferenceComponentName" in p["Specification"]}
    assert adapters.keys() == {"chat-pool-llama31-8b-support", "chat-pool-llama31-8b-sql"}
    for props in adapters.values():
        spec = props["Specification"]
        assert spec["BaseInferenceComponentName"] == "chat-pool-llama31-8b"
        assert set(spec) == {"BaseInferenceComponentName", "Container"}
        assert set(spec["Container"]) == {"ArtifactUrl"} and spec["Container"]["ArtifactUrl"].endswith(".tar.gz")
    base = found["chat-pool-llama31-8b"]["Specification"]["Container"]["Environment"]
    assert base["OPTION_ENABLE_LORA"] == "true" and base["OPTION_MAX_LORAS"] == "2"
    role_policy = json.dumps(template.find_resources("AWS::IAM::ManagedPolicy"))
    assert "my-adapters-bucket/llama31/support.tar.gz" in role_policy and "my-adapters-bucket/*" not in role_policy


@pytest.mark.parametrize("name,minimum,maximum,from_zero", [
    ("chat-pool-codellama-7b", 0, 2, True),   # copies {min: 0}: scales to zero copies
    ("chat-pool-mistral-7b", 1, 2, False),    # scales, never to zero
])
def test_copy_autoscaling_and_scale_to_zero_only_where_configured(template, name, minimum, maximum, from_zero):
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget", {"Properties": {
        "ResourceId": f"inference-component/{name}"}})
    (target,) = targets.values()
    props = target["Properties"]
    assert props["ScalableDimension"] == "sagemaker:inference-component:DesiredCopyCount"
    assert (props["MinCapacity"], props["MaxCapacity"]) == (minimum, maximum)
    alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"AlarmName": f"{name}-no-capacity"}})
    assert bool(alarms) is from_zero
    template.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({"PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerInferenceComponentInvocationsPerCopy"}})})


def test_fixed_components_have_no_scaling_and_min_zero_appears_only_once(template):
    targets = template.find_resources("AWS::ApplicationAutoScaling::ScalableTarget")
    ids = sorted(t["Properties"]["ResourceId"] for t in targets.values())
    assert ids == ["inference-component/chat-pool-codellama-7b", "inference-component/chat-pool-mistral-7b"]
    assert sum(t["Properties"]["MinCapacity"] == 0 for t in targets.values()) == 1


def test_alarms_per_component(template, pool):
    for component in pool.components:
        for suffix in ("5xx-errors", "model-latency-p90"):
            template.has_resource_properties("AWS::CloudWatch::Alarm", {
                "AlarmName": f"{component.name}-{suffix}",
                "Dimensions": [{"Name": "InferenceComponentName", "Value": component.name}]})


# --- API shapes (botocore), cfn-lint, cdk-nag --------------------------------------------------------------------
def check_shape(api, shape_name: str, value, path: str, problems: list[str]) -> None:
    """Every key of a CloudFormation property block is a member of the SageMaker API shape it maps to, and every
    literal value meets the shape's type, range, pattern and enum."""
    shape = api.shape_for(shape_name) if isinstance(shape_name, str) else shape_name
    if shape.type_name == "structure":
        for key, item in value.items():
            if key not in shape.members:
                problems.append(f"{path}.{key}: not a member of {shape.name}")
                continue
            check_shape(api, shape.members[key], item, f"{path}.{key}", problems)
        for required in shape.required_members:
            if required not in value:
                problems.append(f"{path}: {shape.name} requires {required}")
        return
    if isinstance(value, dict):
        return  # an intrinsic function (Ref, GetAtt, Join): resolved at deploy time
    meta = shape.metadata
    if shape.type_name in ("integer", "float", "long") and not (meta.get("min", float("-inf")) <= value
                                                                <= meta.get("max", float("inf"))):
        problems.append(f"{path} = {value}: outside {shape.name} [{meta.get('min')}, {meta.get('max')}]")
    if shape.type_name == "string":
        if getattr(shape, "enum", None) and value not in shape.enum:
            problems.append(f"{path} = {value}: not in {shape.name} {shape.enum}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
            problems.append(f"{path} = {value}: does not match {shape.name} {meta['pattern']}")
        if len(value) > meta.get("max", 10**9):
            problems.append(f"{path}: longer than {shape.name} max {meta['max']}")


def test_inference_components_match_the_sagemaker_api(template, sagemaker_api) -> None:
    problems: list[str] = []
    for name, props in components(template).items():
        check_shape(sagemaker_api, "InferenceComponentSpecification", props["Specification"], name, problems)
        if "RuntimeConfig" in props:
            check_shape(sagemaker_api, "InferenceComponentRuntimeConfig", props["RuntimeConfig"], name, problems)
        check_shape(sagemaker_api, "InferenceComponentName", name, name, problems)
        check_shape(sagemaker_api, "VariantName", props.get("VariantName", "AllTraffic"), name, problems)
    assert problems == []


def test_endpoint_config_matches_the_sagemaker_api(template, sagemaker_api) -> None:
    problems: list[str] = []
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))["Properties"]
    for variant in config["ProductionVariants"]:
        check_shape(sagemaker_api, "ProductionVariant", variant, "variant", problems)
    assert problems == []


def test_project_constants_agree_with_botocore(sagemaker_api):
    assert set(ROUTING) <= set(sagemaker_api.shape_for("RoutingStrategy").enum)
    assert sagemaker_api.shape_for("InferenceComponentName").metadata["max"] == COMPONENT_NAME_MAX
    assert sagemaker_api.shape_for("ProductionVariantManagedInstanceScaling").members["MinInstanceCount"].metadata[
        "min"] == 0  # scale to zero instances is in the API


def test_checked_synth_passes_nag_and_cfn_lint(checked_out):
    template = (checked_out / "lmi-chat-pool.template.json").read_text()
    errors = [f"{m.rule.id} {m.message}" for m in lint(template, config=ManualArgs(regions=["us-east-1"]))]
    assert errors == []
    plan_md = (checked_out / "plan.md").read_text()
    assert "## Shared endpoints" in plan_md and "against **$18.63/h** as one endpoint per model" in plan_md
    assert "| chat-pool-llama2-13b | meta-llama/Llama-2-13b-hf | 2 | 28.2 GiB | 12 |" in plan_md
    data = json.loads((checked_out / "plan.json").read_text())
    (shared,) = data["shared_endpoints"]
    assert shared["hourly_usd"] == 14.18 and shared["separate_hourly_usd"] == 18.63


def test_preflight_reads_the_pool_ceiling_and_component_images(checked_out):
    from provision.template import endpoint_facts

    facts = endpoint_facts(json.loads((checked_out / "lmi-chat-pool.template.json").read_text()))
    (variant,) = facts.variants
    assert (variant.instance_type, variant.initial_count, variant.autoscaling_max) == ("ml.g5.12xlarge", 2, 4)
    assert len(facts.images) == 5  # one per model component; adapters have none


# --- provision verify ---------------------------------------------------------------------------------------------
def test_verify_invokes_every_component_by_name(monkeypatch):
    from botocore.response import StreamingBody
    from rich.console import Console

    from provision.aws import Aws
    from provision.verify import verify
    from tests.provision.provision_testkit import stubbed_client, use_clients

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    names = ["chat-pool-a", "chat-pool-a-lora"]
    cfn, cfn_stub = stubbed_client("cloudformation")
    cfn_stub.add_response("describe_stacks", {"Stacks": [{
        "StackName": "lmi-chat-pool", "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/lmi-chat-pool/1",
        "StackStatus": "CREATE_COMPLETE", "CreationTime": "2026-01-01T00:00:00Z",
        "Outputs": [{"OutputKey": "EndpointName", "OutputValue": "chat-pool"},
                    {"OutputKey": "InferenceComponents", "OutputValue": ",".join(names)}]}]},
        {"StackName": "lmi-chat-pool"})
    sm, sm_stub = stubbed_client("sagemaker")
    sm_stub.add_response("describe_endpoint", {
        "EndpointName": "chat-pool", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat-pool",
        "EndpointStatus": "InService", "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z"}, {"EndpointName": "chat-pool"})
    runtime, rt_stub = stubbed_client("sagemaker-runtime")
    body = b'{"generated_text": "ok"}'
    for name in names:
        rt_stub.add_response("invoke_endpoint", {"Body": StreamingBody(BytesIO(body), len(body)),
                                                 "ContentType": "application/json"},
                             {"EndpointName": "chat-pool", "InferenceComponentName": name,
                              "ContentType": "application/json", "Accept": "application/json",
                              "Body": '{"inputs": "hi", "parameters": {"max_new_tokens": 4}}'})
    use_clients(monkeypatch, cloudformation=cfn, sagemaker=sm, sagemaker_runtime=runtime)
    results = verify(Aws("us-east-1"), "lmi-chat-pool", Console(file=StringIO(), width=200), "hi", 4)
    assert [r.endpoint for r in results] == [f"chat-pool / {n}" for n in names]
    assert all(r.text == "ok" and not r.error for r in results)
    rt_stub.assert_no_pending_responses()


def test_two_synths_are_identical(template, tmp_path):
    again = synth(EXAMPLE, tmp_path / "again")["lmi-chat-pool"]
    assert json.dumps(again.to_json(), sort_keys=True) == json.dumps(template.to_json(), sort_keys=True)


def test_default_file_builds_no_shared_endpoint_stack(tmp_path):
    from app import build

    built = build(str(ROOT / "deployments/default.yaml"), __import__("aws_cdk").App(outdir=str(tmp_path)))
    assert built.pools == () and built.pool_members == ()
    assert not any(s.node.id == "lmi-chat-pool" for s in built.app.node.children)

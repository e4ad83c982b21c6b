"""The synthesized CloudFormation, asserted fact by fact (one synth per scenario, shared by the tests)."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from app import build_app

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = str(ROOT / "tests/fixtures/deployments/coverage.yaml")
DEFAULT = str(ROOT / "deployments/default.yaml")


def synth(path: str, outdir: Path) -> dict[str, Template]:
    app = build_app(path, cdk.App(outdir=str(outdir)))
    app.synth()  # runs cdk-nag: an unacknowledged finding raises here
    return {s.stack_name: Template.from_stack(s) for s in app.node.children if isinstance(s, cdk.Stack)}


@pytest.fixture(scope="session")
def coverage(tmp_path_factory) -> dict[str, Template]:
    return synth(COVERAGE, tmp_path_factory.mktemp("coverage"))


def variant(template: Template) -> dict:
    config = next(iter(template.find_resources("AWS::SageMaker::EndpointConfig").values()))
    return config["Properties"]["ProductionVariants"][0]


def container(template: Template) -> dict:
    model = next(iter(template.find_resources("AWS::SageMaker::Model").values()))
    return model["Properties"]["PrimaryContainer"]


def test_one_stack_per_endpoint(coverage):
    assert sorted(coverage) == sorted(f"lmi-{n}" for n in (
        "vllm-g5", "trt-g5", "lmi-dist-t5", "deepspeed-gptj", "neuronx-inf2", "vllm-p4d", "vllm-p4de", "private-s3",
        "gated-hub"))


@pytest.mark.parametrize("stack", ["lmi-vllm-g5", "lmi-neuronx-inf2", "lmi-private-s3"])
def test_core_resources(coverage, stack):
    t = coverage[stack]
    for kind in ("AWS::SageMaker::Model", "AWS::SageMaker::EndpointConfig", "AWS::SageMaker::Endpoint",
                 "AWS::IAM::Role", "AWS::IAM::ManagedPolicy"):
        t.resource_count_is(kind, 1)
    t.has_resource_properties("AWS::SageMaker::Endpoint", {"EndpointName": stack.removeprefix("lmi-")})


@pytest.mark.parametrize("stack,instance,tag", [
    ("lmi-vllm-g5", "ml.g5.2xlarge", "0.38.0-lmi29.0.0-cu130"),
    ("lmi-trt-g5", "ml.g5", "0.33.0-tensorrtllm0.21.0-cu128"),
    ("lmi-lmi-dist-t5", "ml.g5", "0.32.0-lmi14.0.0-cu126"),
    ("lmi-deepspeed-gptj", "ml.g5", "0.27.0-deepspeed0.12.6-cu121"),
    ("lmi-neuronx-inf2", "ml.inf2", "0.29.0-neuronx-sdk2.19.1"),
    ("lmi-vllm-p4d", "ml.p4d.24xlarge", "0.38.0-lmi29.0.0-cu130"),
    ("lmi-vllm-p4de", "ml.p4de.24xlarge", "0.38.0-lmi29.0.0-cu130"),
])
def test_backend_image_and_instance(coverage, stack, instance, tag):
    t = coverage[stack]
    assert variant(t)["InstanceType"].startswith(instance)
    assert tag in json.dumps(container(t)["Image"])


def test_region_specific_stack_gets_literal_uri(coverage):
    assert container(coverage["lmi-neuronx-inf2"])["Image"] == \
        "763104351884.dkr.ecr.eu-west-1.amazonaws.com/djl-inference:0.29.0-neuronx-sdk2.19.1"
    assert container(coverage["lmi-vllm-p4de"])["Image"] == \
        "727897471807.dkr.ecr.cn-north-1.amazonaws.com.cn/djl-inference:0.38.0-lmi29.0.0-cu130"
    assert coverage["lmi-neuronx-inf2"].to_json().get("Mappings") is None


def test_region_agnostic_stack_maps_registry_by_region(coverage):
    t = coverage["lmi-vllm-g5"]
    mappings = t.to_json()["Mappings"]
    (table,) = mappings.values()
    assert table["us-east-1"] == {"account": "763104351884", "host": "763104351884.dkr.ecr.us-east-1.amazonaws.com"}
    assert table["cn-north-1"]["host"].endswith(".amazonaws.com.cn")
    assert "Fn::FindInMap" in json.dumps(container(t)["Image"])


def test_volume_size_only_on_inf2(coverage):
    assert "VolumeSizeInGB" in variant(coverage["lmi-neuronx-inf2"])
    for stack in ("lmi-vllm-g5", "lmi-vllm-p4d", "lmi-vllm-p4de", "lmi-trt-g5"):
        assert "VolumeSizeInGB" not in variant(coverage[stack])


def test_timeouts_sized_from_model(coverage):
    small, large = variant(coverage["lmi-vllm-g5"]), variant(coverage["lmi-vllm-p4de"])
    for v in (small, large):
        assert 1800 <= v["ContainerStartupHealthCheckTimeoutInSeconds"] <= 3600
        assert 60 <= v["ModelDataDownloadTimeoutInSeconds"] <= 3600
    assert large["ModelDataDownloadTimeoutInSeconds"] > small["ModelDataDownloadTimeoutInSeconds"]
    assert variant(coverage["lmi-trt-g5"])["ContainerStartupHealthCheckTimeoutInSeconds"] > \
        small["ContainerStartupHealthCheckTimeoutInSeconds"]  # compiled backends get compile time


def test_role_is_least_privilege(coverage):
    t = coverage["lmi-vllm-g5"]
    t.has_resource_properties("AWS::IAM::Role", {"ManagedPolicyArns": Match.absent()})
    statements = next(iter(t.find_resources("AWS::IAM::ManagedPolicy").values()))["Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    assert set(by_sid) == {"PullLmiImage", "EcrLogin", "EndpointLogs", "EndpointMetrics", "ReadServingProperties"}
    assert "repository/djl-inference" in json.dumps(by_sid["PullLmiImage"]["Resource"])
    assert by_sid["EcrLogin"]["Action"] == "ecr:GetAuthorizationToken"
    assert by_sid["ReadServingProperties"]["Action"] == "s3:GetObject"
    assert "sagemaker:*" not in json.dumps(statements)


def test_tarball_delivery(coverage):
    c = container(coverage["lmi-vllm-g5"])
    assert "ModelDataUrl" in c and "Environment" not in c


def test_environment_delivery_and_private_model(coverage):
    t = coverage["lmi-private-s3"]
    c = container(t)
    assert "ModelDataUrl" not in c
    env = c["Environment"]
    assert env["OPTION_MODEL_ID"] == "/opt/ml/model"
    assert c["ModelDataSource"] == {"S3DataSource": {"S3Uri": "s3://example-models/llama-2-13b/",
                                                     "S3DataType": "S3Prefix", "CompressionType": "None"}}
    assert env["OPTION_ENGINE"] == "Python"
    assert env["OPTION_ENABLE_PREFIX_CACHING"] == "true"
    t.has_resource_properties("AWS::SageMaker::Model", {
        "EnableNetworkIsolation": True,
        "VpcConfig": {"Subnets": ["subnet-0123456789abcdef0"], "SecurityGroupIds": ["sg-0123456789abcdef0"]},
    })
    t.has_resource_properties("AWS::SageMaker::EndpointConfig", {
        "KmsKeyId": Match.string_like_regexp("^arn:aws:kms:"),
        "DataCaptureConfig": Match.object_like({"DestinationS3Uri": "s3://example-capture/llama/",
                                                "InitialSamplingPercentage": 20}),
    })
    assert variant(t)["InitialInstanceCount"] == 2
    policy = json.dumps(t.find_resources("AWS::IAM::ManagedPolicy"))
    assert "example-models" in policy and "llama-2-13b/*" in policy and "kms:Decrypt" in policy
    assert t.to_json().get("Resources") and "Parameters" in t.to_json()


def test_termination_protection(tmp_path):
    app = build_app(COVERAGE, cdk.App(outdir=str(tmp_path)))
    stacks = {s.stack_name: s for s in app.node.children if isinstance(s, cdk.Stack)}
    assert stacks["lmi-private-s3"].termination_protection is True
    assert stacks["lmi-vllm-g5"].termination_protection is False


def test_hf_token_from_secrets_manager(coverage):
    t = coverage["lmi-gated-hub"]
    token = container(t)["Environment"]["HF_TOKEN"]
    assert "resolve:secretsmanager:arn:aws:secretsmanager" in json.dumps(token)
    # resolved by CloudFormation at deploy time: the endpoint's own role never reads the secret
    assert "secretsmanager" not in json.dumps(t.find_resources("AWS::IAM::ManagedPolicy"))
    t.resource_count_is("AWS::CloudWatch::Alarm", 0)


def test_autoscaling_alarms_and_rollback(coverage):
    t = coverage["lmi-vllm-g5"]
    t.has_resource_properties("AWS::ApplicationAutoScaling::ScalableTarget", {
        "MinCapacity": 1, "MaxCapacity": 3, "ResourceId": "endpoint/vllm-g5/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount", "ServiceNamespace": "sagemaker"})
    t.has_resource_properties("AWS::ApplicationAutoScaling::ScalingPolicy", {
        "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": Match.object_like({
            "TargetValue": 5, "ScaleInCooldown": 900, "ScaleOutCooldown": 120,
            "PredefinedMetricSpecification": {"PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})})
    t.resource_count_is("AWS::CloudWatch::Alarm", 3)
    t.has_resource_properties("AWS::CloudWatch::Alarm", {"MetricName": "ModelLatency", "ExtendedStatistic": "p90"})
    t.has_resource_properties("AWS::CloudWatch::Alarm", {
        "MetricName": "Invocation5XXErrors", "AlarmActions": ["arn:aws:sns:us-east-1:111122223333:oncall"]})
    t.has_resource_properties("AWS::SageMaker::Endpoint", {"DeploymentConfig": {
        "AutoRollbackConfiguration": {"Alarms": Match.array_with([Match.object_like({})])},
        "BlueGreenUpdatePolicy": Match.object_like({"TerminationWaitInSeconds": 300})}})


def test_inf2_has_no_gpu_memory_alarm(coverage):
    t = coverage["lmi-neuronx-inf2"]
    t.resource_count_is("AWS::CloudWatch::Alarm", 2)


def test_plan_summary_in_description_and_outputs(coverage):
    data = coverage["lmi-vllm-g5"].to_json()
    assert "meta-llama/Llama-2-7b-hf on vllm" in data["Description"]
    assert {"EndpointName", "EndpointArn", "ImageUri", "Plan", "HourlyUsd"} <= set(data["Outputs"])
    assert data["Outputs"]["HourlyUsd"]["Value"] == "1.52"


def test_startup_health_check_waits_as_long_as_lmi_loads(coverage):
    """LMI gives up loading at option.model_loading_timeout; the health check must not give up sooner."""
    t = coverage["lmi-private-s3"]
    loading = int(container(t)["Environment"]["OPTION_MODEL_LOADING_TIMEOUT"])
    assert variant(t)["ContainerStartupHealthCheckTimeoutInSeconds"] == loading >= 1800


def test_vpc_network_interfaces_are_scoped_to_the_deployment_subnets(coverage):
    """host-vpc.html lists the EC2 actions; the Service Authorization Reference for EC2 says which take resources:
    no write action may sit on Resource '*' or lack the ec2:Subnet condition on its network-interface resource."""
    statements = next(iter(coverage["lmi-private-s3"].find_resources("AWS::IAM::ManagedPolicy").values()))[
        "Properties"]["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    subnet = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:", {"Ref": "AWS::Region"}, ":",
                                {"Ref": "AWS::AccountId"}, ":subnet/subnet-0123456789abcdef0"]]}
    group = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":ec2:", {"Ref": "AWS::Region"}, ":",
                               {"Ref": "AWS::AccountId"}, ":security-group/sg-0123456789abcdef0"]]}
    create, manage = by_sid["CreateEniInDeploymentSubnets"], by_sid["ManageEniInDeploymentSubnets"]
    for statement in (create, manage):
        assert ":network-interface/*" in json.dumps(statement["Resource"])
        assert statement["Condition"] == {"ArnEquals": {"ec2:Subnet": [subnet]}}
    assert sorted(manage["Action"]) == ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                                        "ec2:DeleteNetworkInterfacePermission"]
    resources = by_sid["CreateEniWithDeploymentNetwork"]["Resource"]  # IAM order is not meaningful (minimizePolicies sorts)
    assert len(resources) == 2 and subnet in resources and group in resources
    on_star = [s for s in statements if s["Resource"] == "*"]
    star_actions = {a for s in on_star for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in star_actions if a.startswith("ec2:") and not a.startswith("ec2:Describe")}, star_actions
    assert {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"} <= star_actions
    # without a VPC there is no EC2 permission at all
    assert "ec2:" not in json.dumps(coverage["lmi-vllm-g5"].find_resources("AWS::IAM::ManagedPolicy"))

"""`python -m provision deploy / verify / destroy` end to end over HTTP against a local moto cloud.

Deploys the real templates of deployments/default.yaml: a region-agnostic stack with a model tarball
asset and autoscaling (llama3-8b-uneven), the `delivery: environment` stack without a model asset
(mistral-7b-cost) and the stack pinned to us-west-2 with a literal image URI (llama2-70b).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console

from provision_testkit import FAST, run, stubbed_client
from moto_cloud import assets_bucket
from provision.aws import Aws
from provision.progress import EventLog, print_failure, wait_for_stack
from provision.template import Context, resolve

UNEVEN = "lmi-llama3-8b-uneven"
ENV_DELIVERY = "lmi-mistral-7b-cost"
PINNED = "lmi-llama2-70b"
ANSWER = [{"generated_text": " Amazon SageMaker is a fully managed ML service."}]


def template_path(app: Path, stack: str) -> Path:
    return app / f"{stack}.template.json"


def resource(template: dict[str, Any], kind: str) -> dict[str, Any]:
    (body,) = [r for r in template["Resources"].values() if r["Type"] == kind]
    return body


def endpoint_variants(cloud: Any, name: str, region: str = "us-east-1") -> list[dict[str, Any]]:
    sagemaker = cloud.client("sagemaker", region)
    config = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]


def model_asset(app: Path, stack: str) -> tuple[Path, str]:
    """(local tarball, S3 key) of the stack's serving.properties asset."""
    manifest = json.loads((app / f"{stack}.assets.json").read_text())
    (asset,) = [a for a in manifest["files"].values() if a["source"]["path"].endswith(".tar.gz")]
    (destination,) = asset["destinations"].values()
    return app / asset["source"]["path"], destination["objectKey"]


def test_region_agnostic_stack_create_verify_no_change_update_destroy(cloud, assembly_copy):
    app = str(assembly_copy)
    result = run("deploy", "--app", app, "--stack", UNEVEN, *FAST)
    assert result.exit_code == 0, result.output
    assert "CREATE_COMPLETE" in result.stdout and "EndpointName = llama3-8b-uneven" in result.stdout

    assert cloud.endpoints("us-east-1") == {"llama3-8b-uneven": "InService"}
    tarball, key = model_asset(assembly_copy, UNEVEN)
    s3 = cloud.client("s3")
    assert s3.get_object(Bucket=assets_bucket("us-east-1"), Key=key)["Body"].read() == tarball.read_bytes()
    template = json.loads(template_path(assembly_copy, UNEVEN).read_text())
    (planned,) = resource(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"]
    (variant,) = endpoint_variants(cloud, "llama3-8b-uneven")
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == (planned["InstanceType"], 1)
    stack = cloud.client("cloudformation").describe_stacks(StackName=UNEVEN)["Stacks"][0]
    assert {"Key": "lmi:model", "Value": "meta-llama/Meta-Llama-3-8B"} in stack["Tags"]
    # moto skips AWS::ApplicationAutoScaling::*: assert the scaling target on the template instead.
    target = resource(template, "AWS::ApplicationAutoScaling::ScalableTarget")["Properties"]
    assert target["ResourceId"] == "endpoint/llama3-8b-uneven/variant/AllTraffic" and target["MaxCapacity"] == 4

    cloud.answer_invocations(ANSWER)
    result = run("verify", "--stack", UNEVEN)
    assert result.exit_code == 0, result.output
    assert "endpoint llama3-8b-uneven: InService" in result.stdout
    assert "latency:" in result.stdout and "list[1] of {generated_text: str(" in result.stdout
    assert "fully managed ML service" in result.stdout

    result = run("deploy", "--app", app, "--stack", UNEVEN, *FAST)
    assert result.exit_code == 0, result.output
    assert "no changes" in result.stdout
    change_sets = cloud.client("cloudformation").list_change_sets(StackName=UNEVEN)["Summaries"]
    assert all(c["ExecutionStatus"] == "EXECUTE_COMPLETE" for c in change_sets), "the empty change set must be deleted"

    config = resource(template, "AWS::SageMaker::EndpointConfig")
    config["Properties"]["ProductionVariants"][0]["InitialInstanceCount"] = 2
    template_path(assembly_copy, UNEVEN).write_text(json.dumps(template, indent=1))
    result = run("deploy", "--app", app, "--stack", UNEVEN, *FAST)
    assert result.exit_code == 0, result.output
    assert "update with" in result.stdout and "UPDATE_COMPLETE" in result.stdout
    assert "AWS::SageMaker::EndpointConfig" in result.stdout
    (variant,) = endpoint_variants(cloud, "llama3-8b-uneven")
    assert variant["InitialInstanceCount"] == 2
    assert cloud.endpoints("us-east-1") == {"llama3-8b-uneven": "InService"}

    result = run("destroy", "--stack", UNEVEN)
    assert result.exit_code == 2 and "without --yes" in result.stderr
    assert cloud.endpoints("us-east-1") == {"llama3-8b-uneven": "InService"}
    result = run("destroy", "--stack", UNEVEN, "--yes", *FAST)
    assert result.exit_code == 0, result.output
    assert "DELETE_COMPLETE" in result.stdout
    assert cloud.endpoints("us-east-1") == {}
    assert "llama3-8b-uneven" not in str(cloud.client("sagemaker").list_endpoint_configs())


def test_environment_delivery_stack_deploys_without_model_asset(cloud, assembly):
    result = run("deploy", "--app", str(assembly), "--stack", ENV_DELIVERY, *FAST)
    assert result.exit_code == 0, result.output
    assert cloud.endpoints("us-east-1") == {"mistral-7b-cost": "InService"}
    sagemaker = cloud.client("sagemaker")
    (model,) = sagemaker.list_models()["Models"]
    container = sagemaker.describe_model(ModelName=model["ModelName"])["PrimaryContainer"]
    assert "ModelDataUrl" not in container
    template = json.loads(template_path(assembly, ENV_DELIVERY).read_text())
    expected = resource(template, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]["Environment"]
    assert container["Environment"] == expected and any(k.startswith("OPTION_") for k in expected)
    image = resource(template, "AWS::SageMaker::Model")["Properties"]["PrimaryContainer"]["Image"]
    assert "Fn::FindInMap" in json.dumps(image)  # moto resolves the region CfnMapping as provision does
    assert container["Image"] == resolve(image, template, Context(region="us-east-1"))
    assert container["Image"].startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:")
    objects = cloud.client("s3").list_objects_v2(Bucket=assets_bucket("us-east-1")).get("Contents", [])
    assert [o["Key"].endswith(".json") for o in objects] == [True], "only the template is published"
    (variant,) = endpoint_variants(cloud, "mistral-7b-cost")
    planned = resource(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"][0]
    assert variant["InstanceType"] == planned["InstanceType"]

    cloud.answer_invocations(ANSWER)
    result = run("verify", "--stack", ENV_DELIVERY)
    assert result.exit_code == 0, result.output


def test_pinned_region_stack_goes_to_its_region(cloud, assembly):
    result = run("deploy", "--app", str(assembly), "--stack", PINNED, "--region", "us-east-1", *FAST)
    assert result.exit_code == 2 and "synthesized for us-west-2" in result.stderr
    assert cloud.endpoints("us-east-1") == {}

    result = run("deploy", "--app", str(assembly), "--stack", PINNED, *FAST)  # AWS_REGION is us-east-1
    assert result.exit_code == 0, result.output
    assert "to us-west-2" in result.stdout
    assert cloud.endpoints("us-west-2") == {"llama2-70b": "InService"} and cloud.endpoints("us-east-1") == {}
    tarball, key = model_asset(assembly, PINNED)
    body = cloud.client("s3", "us-west-2").get_object(Bucket=assets_bucket("us-west-2"), Key=key)["Body"].read()
    assert body == tarball.read_bytes()
    sagemaker = cloud.client("sagemaker", "us-west-2")
    (model,) = sagemaker.list_models()["Models"]
    image = sagemaker.describe_model(ModelName=model["ModelName"])["PrimaryContainer"]["Image"]
    assert image.startswith("763104351884.dkr.ecr.us-west-2.amazonaws.com/djl-inference:")

    cloud.answer_invocations(ANSWER, region="us-west-2")
    assert run("verify", "--stack", PINNED, "--app", str(assembly)).exit_code == 0  # region found in cdk.out
    assert run("destroy", "--stack", PINNED, "--yes", "--app", str(assembly), *FAST).exit_code == 0
    assert cloud.endpoints("us-west-2") == {}


def test_template_over_51200_bytes_is_passed_by_s3_url(cloud, assembly_copy, monkeypatch):
    path = template_path(assembly_copy, ENV_DELIVERY)
    template = json.loads(path.read_text())
    template["Metadata"] = {"Padding": "x" * 60_000}
    path.write_text(json.dumps(template))
    calls: list[dict[str, Any]] = []
    original = Aws.client

    def recording_client(self: Aws, service: str, region: str | None = None) -> Any:
        client = original(self, service, region)
        if service == "cloudformation" and not getattr(client, "_recorded", False):
            client.meta.events.register("provide-client-params.cloudformation.CreateChangeSet", lambda params, **_: calls.append(dict(params)))
            client._recorded = True
        return client

    monkeypatch.setattr(Aws, "client", recording_client)
    result = run("deploy", "--app", str(assembly_copy), "--stack", ENV_DELIVERY, *FAST)
    assert result.exit_code == 0, result.output
    (params,) = calls
    assert "TemplateBody" not in params
    url = params["TemplateURL"]
    assert url.startswith(f"https://s3.us-east-1.amazonaws.com/{assets_bucket('us-east-1')}/")
    deployed = cloud.client("cloudformation").get_template(StackName=ENV_DELIVERY)["TemplateBody"]
    deployed = deployed if isinstance(deployed, dict) else json.loads(deployed)
    assert deployed["Metadata"]["Padding"] == "x" * 60_000
    assert cloud.endpoints("us-east-1") == {"mistral-7b-cost": "InService"}


def test_failed_deployment_prints_the_reason_and_exits_1(cloud, assembly_copy):
    path = template_path(assembly_copy, ENV_DELIVERY)
    template = json.loads(path.read_text())
    resource(template, "AWS::SageMaker::EndpointConfig")["Properties"]["ProductionVariants"][0]["InstanceType"] = "ml.bogus.xlarge"
    path.write_text(json.dumps(template))
    result = run("deploy", "--app", str(assembly_copy), "--stack", ENV_DELIVERY, *FAST)
    assert result.exit_code == 1, result.output
    # moto fails ExecuteChangeSet itself (CloudFormation would roll back; see the Stubber test below)
    assert "execution failed" in result.stdout and "ml.bogus.xlarge" in result.stdout
    assert cloud.endpoints("us-east-1") == {}


def test_not_bootstrapped_region_is_refused_before_any_upload(cloud, assembly):
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN, "--region", "eu-west-1", *FAST)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the account is not CDK-bootstrapped in eu-west-1")
    assert "npx cdk bootstrap aws://123456789012/eu-west-1" in result.stderr
    assert cloud.client("cloudformation", "eu-west-1").list_stacks()["StackSummaries"] == []


def test_rollback_prints_failed_events_and_endpoint_failure_reason():
    """What real CloudFormation does on failure (moto cannot): ROLLBACK_COMPLETE after CREATE_FAILED events."""
    stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/lmi-x/1"
    cfn, cfn_stub = stubbed_client("cloudformation")
    sagemaker, sm_stub = stubbed_client("sagemaker")

    def event(n: int, logical: str, kind: str, status: str, reason: str = "") -> dict[str, Any]:
        from datetime import datetime, timezone

        body = {"StackId": stack_id, "EventId": f"e{n}", "StackName": "lmi-x", "LogicalResourceId": logical,
                "ResourceType": kind, "ResourceStatus": status, "Timestamp": datetime(2026, 1, 1, tzinfo=timezone.utc)}
        if reason:
            body["ResourceStatusReason"] = reason
        return body

    old = [event(0, "lmi-x", "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")]
    new = [
        event(4, "lmi-x", "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE"),
        event(3, "EndpointPolicy", "AWS::IAM::Policy", "CREATE_FAILED", "Resource creation cancelled"),
        event(2, "Endpoint", "AWS::SageMaker::Endpoint", "CREATE_FAILED",
              "Resource handler returned message: \"Endpoint llama failed\""),
        event(1, "lmi-x", "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", "User Initiated"),
    ]
    cfn_stub.add_response("describe_stack_events", {"StackEvents": old}, {"StackName": stack_id})
    cfn_stub.add_response("describe_stack_events", {"StackEvents": new + old}, {"StackName": stack_id})
    cfn_stub.add_response("describe_stacks", {"Stacks": [{"StackName": "lmi-x", "StackId": stack_id, "StackStatus": "ROLLBACK_COMPLETE",
                                                          "CreationTime": "2026-01-01T00:00:00Z"}]}, {"StackName": stack_id})
    cfn_stub.add_response("describe_stack_events", {"StackEvents": new + old}, {"StackName": stack_id})
    sm_stub.add_response("describe_endpoint", {
        "EndpointName": "llama", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/llama",
        "EndpointConfigName": "c", "EndpointStatus": "Failed", "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "FailureReason": "The primary container for production variant AllTraffic did not pass the ping health check.",
    }, {"EndpointName": "llama"})

    console = Console(record=True, width=200, soft_wrap=True)
    log = EventLog(cfn, stack_id)
    log.snapshot()
    status = wait_for_stack(cfn, stack_id, log, console, "Creating lmi-x", poll_seconds=0)
    print_failure(console, log, sagemaker, ["llama"])
    text = console.export_text()
    assert status == "ROLLBACK_COMPLETE"
    assert "Failed resources:" in text and "Endpoint (AWS::SageMaker::Endpoint): Resource handler returned message" in text
    assert "EndpointPolicy (AWS::IAM::Policy)" not in text, "cancellations are noise"
    assert "Endpoint llama is Failed: The primary container for production variant AllTraffic did not pass the ping" in text
    assert "REVIEW_IN_PROGRESS" not in text, "events before the operation are not replayed"
    cfn_stub.assert_no_pending_responses()
    sm_stub.assert_no_pending_responses()

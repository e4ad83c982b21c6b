"""`python -m provision verify`: status, latency and response shape; non-zero when it would not serve."""
from __future__ import annotations

import pytest

from provision_testkit import create_stack, run, stubbed_client, use_clients
from provision.aws import Aws
from provision.verify import endpoint_names, shape_of

STACK = "lmi-mistral-7b-cost"


@pytest.fixture
def deployed(cloud, assembly):
    create_stack(cloud, assembly, STACK)
    return cloud


def test_endpoint_not_in_service_fails_without_invoking(deployed):
    from moto.sagemaker.models import sagemaker_backends

    sagemaker_backends["123456789012"]["us-east-1"].endpoints["mistral-7b-cost"].endpoint_status = "Failed"
    result = run("verify", "--stack", STACK)
    assert result.exit_code == 1
    assert "endpoint mistral-7b-cost: Failed" in result.stdout and "not InService" in result.stdout
    assert "latency" not in result.stdout


def test_failing_invocation_exits_1_with_the_error(deployed, monkeypatch):
    runtime, stub = stubbed_client("sagemaker-runtime")
    stub.add_client_error("invoke_endpoint", service_error_code="ModelError", http_status_code=424,
                          service_message="Received server error (500) from primary with message \"CUDA out of memory\"")
    use_clients(monkeypatch, sagemaker_runtime=runtime)
    result = run("verify", "--stack", STACK)
    assert result.exit_code == 1
    assert "InvokeEndpoint failed: ModelError: Received server error (500)" in result.stdout
    assert "CUDA out of memory" in result.stdout


def test_request_is_the_lmi_format_and_the_answer_shape_is_reported(deployed, monkeypatch):
    runtime, stub = stubbed_client("sagemaker-runtime")
    from io import BytesIO

    from botocore.response import StreamingBody

    body = b'{"generated_text": "Paris.", "details": {"finish_reason": "length", "generated_tokens": 16}}'
    stub.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(BytesIO(body), len(body)), "ContentType": "application/json"},
        {"EndpointName": "mistral-7b-cost", "ContentType": "application/json", "Accept": "application/json",
         "Body": '{"inputs": "Capital of France?", "parameters": {"max_new_tokens": 8}}'},
    )
    use_clients(monkeypatch, sagemaker_runtime=runtime)
    result = run("verify", "--stack", STACK, "--prompt", "Capital of France?", "--max-new-tokens", "8")
    assert result.exit_code == 0, result.output
    assert "{generated_text: str(6), details: {finish_reason: str(6), generated_tokens: int}}" in result.stdout
    assert "generated_text: 'Paris.'" in result.stdout
    stub.assert_no_pending_responses()


def test_endpoint_found_from_resources_when_outputs_are_missing(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    cfn, stub = stubbed_client("cloudformation")
    stack_id = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"
    stub.add_response("describe_stacks", {"Stacks": [{"StackName": "s", "StackId": stack_id, "StackStatus": "CREATE_COMPLETE",
                                                      "CreationTime": "2026-01-01T00:00:00Z"}]}, {"StackName": "s"})
    stub.add_response("list_stack_resources", {"StackResourceSummaries": [
        {"LogicalResourceId": "Role", "PhysicalResourceId": "r", "ResourceType": "AWS::IAM::Role",
         "LastUpdatedTimestamp": "2026-01-01T00:00:00Z", "ResourceStatus": "CREATE_COMPLETE"},
        {"LogicalResourceId": "Endpoint", "PhysicalResourceId": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint",
         "ResourceType": "AWS::SageMaker::Endpoint", "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
         "ResourceStatus": "CREATE_COMPLETE"},
    ]}, {"StackName": stack_id})
    use_clients(monkeypatch, cloudformation=cfn)
    assert endpoint_names(Aws("us-east-1"), "s") == ["my-endpoint"]


def test_shape_of():
    assert shape_of([{"generated_text": "abc"}]) == "list[1] of {generated_text: str(3)}"
    assert shape_of({"outputs": [], "n": 1.5}) == "{outputs: list[0], n: float}"


def test_role_arn_is_assumed_before_verifying(deployed, monkeypatch):
    """A pipeline in one account verifies a stage account through the stage's verify role."""
    import boto3

    assumed = []
    real_client = boto3.Session.client

    def spying_client(self, service, *args, **kwargs):
        client = real_client(self, service, *args, **kwargs)
        if service == "sts":
            original = client.assume_role
            client.assume_role = lambda **kw: (assumed.append(kw["RoleArn"]), original(**kw))[1]
        return client

    monkeypatch.setattr(boto3.Session, "client", spying_client)
    role = "arn:aws:iam::123456789012:role/lmi-endpoints-verify"
    result = run("verify", "--stack", STACK, "--role-arn", role)
    assert result.exit_code == 0, result.output
    assert assumed == [role]

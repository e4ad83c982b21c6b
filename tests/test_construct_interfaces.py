"""LmiEndpoint where aws-cdk-lib expects an `aws_sagemaker.IEndpoint`: API Gateway's SagemakerIntegration,
grant_invoke for any grantee, metrics for alarms. Asserted on the templates aws-cdk-lib itself writes."""
from __future__ import annotations

import json
from functools import lru_cache

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Match, Template

from selector import Request, resolve
from stacks import LmiEndpoint, LmiEndpointProps

NAME = "chat-mistral-7b"


@lru_cache(maxsize=1)
def plan():
    return resolve(Request(model="mistralai/Mistral-7B-v0.1", traffic="even"))


def _uses_endpoint(endpoint: sagemaker.IEndpoint) -> str:
    """A function typed against the CDK interface, as CDK constructs are."""
    return endpoint.endpoint_name


@pytest.fixture(scope="module")
def built() -> tuple[Template, LmiEndpoint]:
    app = cdk.App()
    stack = cdk.Stack(app, "Consumer", env=cdk.Environment(account="111122223333", region="us-east-1"))
    endpoint = LmiEndpoint(stack, "Chat", plan=plan(), endpoint_name=NAME)
    api = apigateway.RestApi(stack, "Api", cloud_watch_role=False)
    api.root.add_resource("generate").add_method("POST", apigateway.SagemakerIntegration(endpoint))
    worker = lambda_.Function(stack, "Worker", runtime=lambda_.Runtime.PYTHON_3_12, handler="index.handler",
                              code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"))
    endpoint.grant_invoke(worker)
    cloudwatch.Alarm(stack, "Errors", metric=endpoint.metric_invocation5xx_errors(), threshold=1, evaluation_periods=1)
    return Template.from_stack(stack), endpoint


def test_api_gateway_sagemaker_integration_invokes_the_endpoint(built):
    template, _ = built
    (method,) = template.find_resources("AWS::ApiGateway::Method").values()
    integration = method["Properties"]["Integration"]
    assert method["Properties"]["HttpMethod"] == "POST"
    assert (integration["Type"], integration["IntegrationHttpMethod"]) == ("AWS", "POST")
    assert f':runtime.sagemaker:path/endpoints/{NAME}/invocations"' in json.dumps(integration["Uri"])
    # The integration's role was granted through LmiEndpoint.grant_invoke: the endpoint's ARN (its Ref), nothing else.
    (endpoint_id,) = template.find_resources("AWS::SageMaker::Endpoint")
    statements = [
        s for policy in template.find_resources("AWS::IAM::Policy").values()
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    invoke = [s for s in statements if "sagemaker:InvokeEndpoint" in s["Action"]]
    assert len(invoke) == 2, "the API Gateway role and the Lambda function"
    for statement in invoke:
        assert statement["Action"] == ["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"]
        assert statement["Resource"] == {"Ref": endpoint_id} and statement["Effect"] == "Allow"


def test_metrics_name_the_endpoint_and_variant(built):
    template, endpoint = built
    template.has_resource_properties("AWS::CloudWatch::Alarm", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Sum",
        "Dimensions": Match.array_with([{"Name": "EndpointName", "Value": NAME},
                                        {"Name": "VariantName", "Value": "AllTraffic"}]),
    })
    assert endpoint.metric_model_latency().metric_name == "ModelLatency"
    assert endpoint.metric("CPUUtilization", statistic="Maximum").statistic == "Maximum"
    assert endpoint.metric_invocations().statistic == "Sum"


def test_it_is_an_iendpoint_resource(built):
    template, endpoint = built
    assert _uses_endpoint(endpoint) == NAME
    assert isinstance(endpoint, cdk.Resource)
    assert endpoint.stack.stack_name == "Consumer" and endpoint.env.region == "us-east-1"
    assert cdk.Token.is_unresolved(endpoint.endpoint_arn)
    assert endpoint.endpoint_ref.endpoint_arn == endpoint.endpoint_arn
    (endpoint_id,) = template.find_resources("AWS::SageMaker::Endpoint")
    assert cdk.Stack.of(endpoint).resolve(endpoint.endpoint_arn) == {"Ref": endpoint_id}


def test_props_object_and_keyword_arguments_build_the_same_template():
    def build(use_props: bool) -> object:
        app = cdk.App()
        stack = cdk.Stack(app, "S")
        if use_props:
            LmiEndpoint(stack, "E", LmiEndpointProps(plan=plan(), endpoint_name=NAME, instance_count=2))
        else:
            LmiEndpoint(stack, "E", plan=plan(), endpoint_name=NAME, instance_count=2)
        return Template.from_stack(stack).to_json()

    assert json.dumps(build(True), sort_keys=True) == json.dumps(build(False), sort_keys=True)
    with pytest.raises(TypeError, match="not both"):
        LmiEndpoint(cdk.Stack(cdk.App(), "T"), "E", LmiEndpointProps(plan=plan(), endpoint_name=NAME), instance_count=2)


def test_grant_invoke_to_a_role_in_another_construct():
    stack = cdk.Stack(cdk.App(), "G")
    endpoint = LmiEndpoint(stack, "E", plan=plan(), endpoint_name=NAME)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    grant = endpoint.grant_invoke(role)
    assert grant.success

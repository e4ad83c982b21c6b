"""Someone else's CDK app using lmi-endpoints as an installed library: an HTTPS API in front of a planned
LMI endpoint, with an alarm on its server errors.

    pip install lmi-endpoints          # or: pip install /path/to/lmi-endpoints, or git+https://...
    npx cdk synth                      # from this folder (cdk.json runs `python3 app.py`)

Nothing here is vendored: the planner (`selector`) and the construct (`stacks.LmiEndpoint`) come from the
installed package, which also carries the serving.properties templates and the catalogs.
"""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from selector import Request, resolve
from stacks import LmiEndpoint

MODEL = "mistralai/Mistral-7B-v0.1"


class ChatApiStack(cdk.Stack):
    """POST /generate (IAM-authorized) -> API Gateway's SageMaker integration -> the LMI endpoint."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        plan = resolve(Request(model=MODEL, traffic="even", max_input_tokens=2048, max_output_tokens=512))
        endpoint = LmiEndpoint(self, "Chat", plan=plan, endpoint_name="chat-mistral-7b")

        api = apigateway.RestApi(self, "Api", description=f"Text generation with {MODEL} on {plan.instance_type}",
                                 cloud_watch_role=False)
        api.root.add_resource("generate").add_method(
            "POST", apigateway.SagemakerIntegration(endpoint), authorization_type=apigateway.AuthorizationType.IAM)

        cloudwatch.Alarm(self, "ServerErrors", metric=endpoint.metric_invocation5xx_errors(), threshold=1,
                         evaluation_periods=1, alarm_description=f"{endpoint.endpoint_name} answered 5xx")
        cdk.CfnOutput(self, "PlannedInstance", value=f"{plan.backend} on {plan.instance_type}")


app = cdk.App()
ChatApiStack(app, "chat-api")
app.synth()

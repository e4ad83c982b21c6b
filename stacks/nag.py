"""cdk-nag (3.x API) on every stack, and the findings this design accepts, each with its reason."""
from __future__ import annotations

import aws_cdk as cdk
import cdk_nag
from constructs import Construct

from selector.deployments import ResolvedDeployment


def register(app: cdk.App) -> None:
    """AwsSolutions on everything; HIPAA's SageMaker endpoint KMS rule comes with kms_key_arn (see stack)."""
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))


def acknowledge_endpoint_findings(scope: Construct, resolved: ResolvedDeployment) -> None:
    """Findings that are true of every LMI endpoint role, acknowledged with the specific reason."""
    reasons = {
        "AwsSolutions-IAM5[Resource::*]": (
            "ecr:GetAuthorizationToken supports only Resource '*'; cloudwatch:PutMetricData has no resource type "
            "and is limited by the cloudwatch:namespace condition to /aws/sagemaker/*"
            + ("; SageMaker VPC access needs ec2 network-interface actions on '*'" if resolved.deployment.vpc else "")
        ),
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/"
        f"sagemaker/Endpoints/{resolved.endpoint_name}:*]": (
            "log streams are created per instance under the endpoint's own log group; the wildcard is the stream name"
        ),
    }
    model_id = resolved.plan.serving_properties.get("option.model_id", "")
    if model_id.startswith("s3://"):
        bucket, _, prefix = model_id.removeprefix("s3://").partition("/")
        reasons[f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/{prefix}*]"] = (
            "the model weights are many objects under one S3 prefix; read access is limited to that prefix"
        )
    capture = resolved.deployment.data_capture
    if capture:
        bucket, _, prefix = capture.s3_uri.removeprefix("s3://").partition("/")
        reasons[f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/{prefix}*]"] = (
            "data capture writes one object per captured request under the configured prefix, and only there"
        )
    cdk.Validations.of(scope).acknowledge(
        *[cdk.Acknowledgment(id=f"AwsSolutions::{rule}", reason=reason) for rule, reason in sorted(reasons.items())]
    )

"""Least-privilege statements for the endpoint's execution role (DESIGN.md "Stack conventions")."""
from __future__ import annotations

import functools

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOG_ACTIONS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]


@functools.cache
def pseudo(name: str) -> str:
    """cdk.Aws.<name> (PARTITION, REGION, ACCOUNT_ID): the same token string every time, so read over jsii once."""
    return getattr(cdk.Aws, name)


def ecr_pull(registry_account: str, repository: str) -> iam.PolicyStatement:
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":ecr:", pseudo("REGION"), ":", registry_account,
                           f":repository/{repository}"])
    return iam.PolicyStatement(sid="PullLmiImage", actions=ECR_PULL, resources=[arn])


def ecr_token() -> iam.PolicyStatement:
    # GetAuthorizationToken is account-wide: IAM supports no resource narrower than "*".
    return iam.PolicyStatement(sid="EcrLogin", actions=["ecr:GetAuthorizationToken"], resources=["*"])


def logs(endpoint_name: str) -> iam.PolicyStatement:
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":logs:", pseudo("REGION"), ":", pseudo("ACCOUNT_ID"),
                           f":log-group:/aws/sagemaker/Endpoints/{endpoint_name}:*"])
    return iam.PolicyStatement(sid="EndpointLogs", actions=LOG_ACTIONS, resources=[arn])


def metrics() -> iam.PolicyStatement:
    # PutMetricData has no resource type; the namespace condition keeps it to SageMaker's own.
    return iam.PolicyStatement(
        sid="EndpointMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}},
    )


def read_object(bucket: str, key: str) -> iam.PolicyStatement:
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":s3:::", bucket, "/", key])
    return iam.PolicyStatement(sid="ReadServingProperties", actions=["s3:GetObject"], resources=[arn])


def read_prefix(s3_uri: str) -> list[iam.PolicyStatement]:
    bucket, _, prefix = s3_uri.removeprefix("s3://").partition("/")
    base = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":s3:::", bucket])
    return [
        iam.PolicyStatement(sid="ReadModelWeights", actions=["s3:GetObject"],
                            resources=[cdk.Fn.join("", [base, f"/{prefix}*"])]),
        iam.PolicyStatement(sid="ListModelWeights", actions=["s3:ListBucket"], resources=[base],
                            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
    ]


def use_key(key_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(sid="UseStorageKey", actions=["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
                                                             "kms:GenerateDataKey"], resources=[key_arn])


def vpc_access() -> iam.PolicyStatement:
    # SageMaker creates ENIs in the customer's subnets; EC2 ENI actions do not support resource scoping.
    return iam.PolicyStatement(
        sid="VpcNetworkInterfaces",
        actions=["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                 "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
                 "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"],
        resources=["*"],
    )


def write_capture(s3_uri: str) -> iam.PolicyStatement:
    """Data capture is written with the execution role, under the configured prefix only."""
    bucket, _, prefix = s3_uri.removeprefix("s3://").partition("/")
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), f":s3:::{bucket}/{prefix}*"])
    return iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[arn])

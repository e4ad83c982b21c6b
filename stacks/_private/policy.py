"""Least-privilege statements for the endpoint's execution role.

Every user-supplied name (S3 URI, KMS key ARN, subnet and security group id) passes stacks/_private/resources.py
first: a policy resource holds a wildcard only where this module puts one, and stacks/nag.py acknowledges
exactly those patterns (the *_PATTERN helpers below), so a wildcard in input can never ride on an acknowledgment.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_iam as iam

from stacks._private import resources

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
    resources.endpoint_name("name", endpoint_name)
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":logs:", pseudo("REGION"), ":", pseudo("ACCOUNT_ID"),
                           f":log-group:/aws/sagemaker/Endpoints/{endpoint_name}:*"])
    return iam.PolicyStatement(sid="EndpointLogs", actions=LOG_ACTIONS, resources=[arn])


def component_logs(component_names: Sequence[str]) -> iam.PolicyStatement:
    """Each inference component logs to its own group, /aws/sagemaker/InferenceComponents/<name>."""
    arns = []
    for name in component_names:
        resources.endpoint_name("inference component name", name)
        arns.append(cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":logs:", pseudo("REGION"), ":", pseudo("ACCOUNT_ID"),
                                     f":log-group:{COMPONENT_LOG_GROUP}{name}:*"]))
    return iam.PolicyStatement(sid="ComponentLogs", actions=LOG_ACTIONS, resources=arns)


COMPONENT_LOG_GROUP = "/aws/sagemaker/InferenceComponents/"


def component_log_pattern(name: str) -> str:
    """How cdk-nag renders a component_logs resource (the name already literal)."""
    return f"arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{COMPONENT_LOG_GROUP}{name}:*"


def read_objects(sid: str, s3_uris: Sequence[str], field: str) -> iam.PolicyStatement:
    """s3:GetObject on exactly these objects (LoRA adapter archives): no wildcard."""
    arns = []
    for uri in s3_uris:
        bucket, key = resources.s3_location(field, uri)
        arns.append(cdk.Fn.join("", ["arn:", pseudo("PARTITION"), f":s3:::{bucket}/{key}"]))
    return iam.PolicyStatement(sid=sid, actions=["s3:GetObject"], resources=arns)


def metrics() -> iam.PolicyStatement:
    # PutMetricData has no resource type; the namespace condition keeps it to SageMaker's own.
    return iam.PolicyStatement(
        sid="EndpointMetrics", actions=["cloudwatch:PutMetricData"], resources=["*"],
        conditions={"StringLike": {"cloudwatch:namespace": ["/aws/sagemaker/*"]}},
    )


def read_object(bucket: str, key: str) -> iam.PolicyStatement:
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":s3:::", bucket, "/", key])
    return iam.PolicyStatement(sid="ReadServingProperties", actions=["s3:GetObject"], resources=[arn])


def read_prefix(s3_uri: str, field: str = "model") -> list[iam.PolicyStatement]:
    bucket, prefix = resources.s3_location(field, s3_uri)
    base = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":s3:::", bucket])
    return [
        iam.PolicyStatement(sid="ReadModelWeights", actions=["s3:GetObject"],
                            resources=[cdk.Fn.join("", [base, f"/{prefix}*"])]),
        iam.PolicyStatement(sid="ListModelWeights", actions=["s3:ListBucket"], resources=[base],
                            conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
    ]


def s3_prefix_pattern(bucket: str, prefix: str) -> str:
    """How cdk-nag renders the objects-under-prefix resource of read_prefix/write_capture (bucket and prefix
    already literal)."""
    return f"arn:<AWS::Partition>:s3:::{bucket}/{prefix}*"


def use_key(key_arn: str, field: str = "kms_key_arn") -> iam.PolicyStatement:
    return iam.PolicyStatement(sid="UseStorageKey", actions=["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey",
                                                             "kms:GenerateDataKey"],
                               resources=[resources.kms_key_arn(field, key_arn)])


# EC2 actions SageMaker needs for a model in a VPC (https://docs.aws.amazon.com/sagemaker/latest/dg/host-vpc.html),
# scoped per the Service Authorization Reference for Amazon EC2
# (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html):
# - CreateNetworkInterface authorizes the new network-interface (condition key ec2:Subnet) and the subnet and
#   security group it uses (resource ARNs);
# - CreateNetworkInterfacePermission, DeleteNetworkInterface and DeleteNetworkInterfacePermission authorize an
#   existing network-interface (condition key ec2:Subnet);
# - the Describe* actions have no resource types: they need Resource "*".
ENI_MANAGE = ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
              "ec2:DeleteNetworkInterfacePermission"]
ENI_DESCRIBE = ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups",
                "ec2:DescribeSubnets", "ec2:DescribeVpcs"]
NETWORK_INTERFACE_PATTERN = "arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*"


def _ec2_arn(resource: str) -> str:
    return cdk.Fn.join("", ["arn:", pseudo("PARTITION"), ":ec2:", pseudo("REGION"), ":", pseudo("ACCOUNT_ID"),
                            f":{resource}"])


def vpc_access(subnet_ids: Sequence[str], security_group_ids: Sequence[str]) -> list[iam.PolicyStatement]:
    """Network interfaces only in the deployment's own subnets, with its own security groups."""
    subnets = resources.ec2_ids("vpc.subnet_ids", subnet_ids, resources.SUBNET_ID)
    groups = resources.ec2_ids("vpc.security_group_ids", security_group_ids, resources.SECURITY_GROUP_ID)
    in_subnets = {"ArnEquals": {"ec2:Subnet": [_ec2_arn(f"subnet/{s}") for s in subnets]}}
    interfaces = _ec2_arn("network-interface/*")
    return [
        iam.PolicyStatement(sid="CreateEniInDeploymentSubnets", actions=["ec2:CreateNetworkInterface"],
                            resources=[interfaces], conditions=in_subnets),
        iam.PolicyStatement(sid="CreateEniWithDeploymentNetwork", actions=["ec2:CreateNetworkInterface"],
                            resources=[_ec2_arn(f"subnet/{s}") for s in subnets]
                            + [_ec2_arn(f"security-group/{g}") for g in groups]),
        iam.PolicyStatement(sid="ManageEniInDeploymentSubnets", actions=ENI_MANAGE, resources=[interfaces],
                            conditions=in_subnets),
        iam.PolicyStatement(sid="DescribeNetwork", actions=ENI_DESCRIBE, resources=["*"]),
    ]


def write_capture(s3_uri: str, field: str = "data_capture.s3_uri") -> iam.PolicyStatement:
    """Data capture is written with the execution role, under the configured prefix only."""
    bucket, prefix = resources.s3_location(field, s3_uri)
    arn = cdk.Fn.join("", ["arn:", pseudo("PARTITION"), f":s3:::{bucket}/{prefix}*"])
    return iam.PolicyStatement(sid="WriteDataCapture", actions=["s3:PutObject"], resources=[arn])


def security_statements(kms_key_arn: str | None, subnet_ids: Sequence[str], security_group_ids: Sequence[str],
                        data_capture_s3_uri: str | None) -> list[iam.PolicyStatement]:
    """What an endpoint's security settings add to its role (the same for one-model and shared endpoints):
    its KMS key, its VPC network interfaces, its data-capture prefix."""
    statements = []
    if kms_key_arn:
        statements.append(use_key(kms_key_arn))
    if subnet_ids:
        statements.extend(vpc_access(subnet_ids, security_group_ids))
    if data_capture_s3_uri:
        statements.append(write_capture(data_capture_s3_uri))
    return statements

"""cdk-nag (3.x API) on every stack, and the findings this design accepts, each with its reason."""
from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
import cdk_nag
from constructs import Construct

from selector.deployments import Deployment, ResolvedDeployment
from stacks._private import policy, resources


AWS = "AwsSolutions::"
HIPAA = "HIPAA.Security::"


def register(app: cdk.App) -> None:
    """AwsSolutions and HIPAA Security on every stack: a finding without an acknowledgment fails synth."""
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(), cdk_nag.HIPAASecurityChecks())


def acknowledge_endpoint_findings(scope: Construct, resolved: ResolvedDeployment) -> None:
    """Findings that are true of every LMI endpoint role, acknowledged with the specific reason.

    cdk-nag 3 matches an acknowledgment to the exact finding id, and IAM5 ids embed the resource pattern. Each id
    here is built from a pattern stacks/_private/policy.py generates, with the user's bucket and prefix only after
    stacks/_private/resources.py has proved them literal: a wildcard in input (`s3://bucket/*`, `key/*`) makes a
    different finding id that nothing acknowledges, so the synth fails instead of granting it.
    """
    _acknowledge(scope, resolved.deployment, resolved.endpoint_name, resolved.plan.model_id, ())


def acknowledge_shared_endpoint_findings(scope: Construct, deployment: Deployment, endpoint_name: str,
                                         component_names: Sequence[str]) -> None:
    """The same findings for a shared endpoint's role (hub models only), plus one log group per component."""
    _acknowledge(scope, deployment, endpoint_name, None, component_names)


def _acknowledge(scope: Construct, deployment: Deployment, endpoint_name: str, model_id: str | None,
                 component_names: Sequence[str]) -> None:
    resource_star = ("ecr:GetAuthorizationToken supports only Resource '*'; cloudwatch:PutMetricData has no resource "
                     "type and is limited by the cloudwatch:namespace condition to /aws/sagemaker/*")
    if deployment.vpc:
        resource_star += ("; ec2:DescribeDhcpOptions, DescribeNetworkInterfaces, DescribeSecurityGroups, "
                          "DescribeSubnets and DescribeVpcs have no resource types (Service Authorization Reference)")
    name = resources.endpoint_name("name", endpoint_name)
    reasons = {
        "AwsSolutions-IAM5[Resource::*]": resource_star,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/"
        f"sagemaker/Endpoints/{name}:*]": (
            "log streams are created per instance under the endpoint's own log group; the wildcard is the stream name"
        ),
    }
    for component in component_names:
        literal = resources.endpoint_name("inference component name", component)
        reasons[f"AwsSolutions-IAM5[Resource::{policy.component_log_pattern(literal)}]"] = (
            "log streams are created per copy under the inference component's own log group; the wildcard is the "
            "stream name")
    if model_id and model_id.startswith("s3://"):
        bucket, prefix = resources.s3_location("model", model_id)
        reasons[f"AwsSolutions-IAM5[Resource::{policy.s3_prefix_pattern(bucket, prefix)}]"] = (
            "the model weights are many objects under one S3 prefix; read access is limited to that prefix"
        )
    if deployment.data_capture:
        bucket, prefix = resources.s3_location("data_capture.s3_uri", deployment.data_capture.s3_uri)
        reasons[f"AwsSolutions-IAM5[Resource::{policy.s3_prefix_pattern(bucket, prefix)}]"] = (
            "data capture writes one object per captured request under the configured prefix, and only there"
        )
    if deployment.vpc:
        reasons[f"AwsSolutions-IAM5[Resource::{policy.NETWORK_INTERFACE_PATTERN}]"] = (
            "SageMaker creates and deletes the endpoint's network interfaces, whose ids are unknown before they exist; "
            "the ec2:Subnet condition limits them to the deployment's own subnets"
        )
    acknowledgments = [cdk.Acknowledgment(id=AWS + rule, reason=reason) for rule, reason in sorted(reasons.items())]
    if not deployment.kms_key_arn:
        acknowledgments.append(cdk.Acknowledgment(
            id=HIPAA + "HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured",
            reason="no kms_key_arn in the deployment: the ML storage volume uses SageMaker's AWS-managed key; "
                   "set kms_key_arn for a customer-managed key (then this rule passes on its own)"))
    if deployment.alarms.enabled and not deployment.alarms.sns_topic_arn:
        acknowledgments.append(cdk.Acknowledgment(
            id=HIPAA + "HIPAA.Security-CloudWatchAlarmAction",
            reason="no alarms.sns_topic_arn in the deployment: the alarms drive blue/green rollback and dashboards; "
                   "set sns_topic_arn to page someone"))
    cdk.Validations.of(scope).acknowledge(*acknowledgments)


PIPELINE_REASONS = {
    "AwsSolutions-IAM5": "generated by CDK Pipelines: its CodePipeline/CodeBuild roles reach the pipeline's own "
                         "artifact bucket objects, KMS key, log groups, report groups and bootstrap roles by pattern",
    "AwsSolutions-S1": "generated by CDK Pipelines: artifact and cross-region replication buckets are private to the "
                       "pipeline; object access is recorded by CloudTrail",
    "AwsSolutions-CB4": "generated by CDK Pipelines: build artifacts are encrypted with the pipeline's KMS key",
    "AwsSolutions-KMS5": "generated by CDK Pipelines: key rotation is enabled where the pipeline creates keys",
    "HIPAA.Security-IAMNoInlinePolicy": "generated by CDK Pipelines: its roles carry default inline policies",
    "HIPAA.Security-S3BucketLoggingEnabled": "generated by CDK Pipelines: artifact buckets hold build artifacts only, "
                                             "never inference data",
    "HIPAA.Security-S3BucketReplicationEnabled": "generated by CDK Pipelines: artifacts are rebuilt from source",
    "HIPAA.Security-S3BucketVersioningEnabled": "generated by CDK Pipelines: artifacts are rebuilt from source",
    "HIPAA.Security-CodeBuildProjectSourceRepoUrl": "generated by CDK Pipelines: projects read the pipeline "
                                                    "artifact; no repository URL or credentials are embedded",
    "HIPAA.Security-CloudWatchAlarmAction": "generated by CDK Pipelines",
}
PIPELINE_OWNED = ("lmi-pipeline/Pipeline/", "cross-region-stack-")


def pipeline_findings(report: dict) -> list[str]:
    """Findings on constructs CDK Pipelines generates (never on this project's own constructs), as ack ids.

    cdk-nag 3 acknowledgments match exact finding ids (IAM5 ids embed resource patterns), so the ids come from a
    probe synth's validation report; only rules with a reason in PIPELINE_REASONS are eligible.
    """
    found = set()
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            rule = violation["ruleName"]
            if rule.split("[", 1)[0] not in PIPELINE_REASONS:
                continue
            paths = [c["constructPath"] for c in violation.get("violatingConstructs", [])]
            if paths and all(p.startswith(PIPELINE_OWNED) for p in paths):
                found.add(f"{plugin['pluginName']}::{rule}")
    return sorted(found)


def acknowledge_pipeline_findings(scope: Construct, findings: list[str]) -> None:
    acknowledgments = [
        cdk.Acknowledgment(id=finding, reason=PIPELINE_REASONS[finding.split("::", 1)[1].split("[", 1)[0]])
        for finding in findings
    ]
    if acknowledgments:
        cdk.Validations.of(scope).acknowledge(*acknowledgments)

"""Alarms and autoscaling for one endpoint variant: what lets it scale, page and roll back on its own."""
from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from selector.deployments import Alarms, Autoscaling
from selector.plan import Plan

PERIOD = Duration.minutes(5)
MICROSECONDS_PER_MS = 1000  # ModelLatency is reported in microseconds


class EndpointAlarms(Construct):
    """5XX errors, p90 model latency and (on GPUs) GPU memory, named after the endpoint."""

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_name: str, variant_name: str, plan: Plan,
                 settings: Alarms) -> None:
        super().__init__(scope, construct_id)
        dims = {"EndpointName": endpoint_name, "VariantName": variant_name}
        self.alarms: list[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self, "Errors5xx",
                alarm_name=f"{endpoint_name}-5xx-errors",
                alarm_description=f"{endpoint_name}: Invocation5XXErrors >= {settings.error_5xx_threshold} in 5 minutes",
                metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="Invocation5XXErrors",
                                         dimensions_map=dims, statistic="Sum", period=PERIOD),
                threshold=settings.error_5xx_threshold, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
            cloudwatch.Alarm(
                self, "LatencyP90",
                alarm_name=f"{endpoint_name}-model-latency-p90",
                alarm_description=f"{endpoint_name}: ModelLatency p90 above {settings.latency_p90_ms} ms for 15 minutes",
                metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="ModelLatency",
                                         dimensions_map=dims, statistic="p90", period=PERIOD),
                threshold=settings.latency_p90_ms * MICROSECONDS_PER_MS, evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ),
        ]
        if plan.accelerator_kind == "nvidia":
            # GPUMemoryUtilization sums over GPUs: 100% per GPU, so the ceiling scales with their count.
            self.alarms.append(cloudwatch.Alarm(
                self, "GpuMemory",
                alarm_name=f"{endpoint_name}-gpu-memory",
                alarm_description=f"{endpoint_name}: GPU memory above {settings.gpu_memory_percent}% of "
                                  f"{plan.devices} GPUs for 15 minutes",
                metric=cloudwatch.Metric(namespace="/aws/sagemaker/Endpoints", metric_name="GPUMemoryUtilization",
                                         dimensions_map=dims, statistic="Average", period=PERIOD),
                threshold=settings.gpu_memory_percent * plan.devices, evaluation_periods=3,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            ))
        if settings.sns_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "Topic", settings.sns_topic_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(cw_actions.SnsAction(topic))


class EndpointAutoscaling(Construct):
    """Target tracking on SageMakerVariantInvocationsPerInstance between min and max instances."""

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_name: str, variant_name: str,
                 settings: Autoscaling) -> None:
        super().__init__(scope, construct_id)
        # Application Auto Scaling's service-linked role for SageMaker: no extra role to create or review.
        linked_role = iam.Role.from_role_arn(self, "ServiceLinkedRole", cdk.Fn.join("", [
            "arn:", cdk.Aws.PARTITION, ":iam::", cdk.Aws.ACCOUNT_ID, ":role/aws-service-role/",
            "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
        ]), mutable=False)
        self.target = appscaling.ScalableTarget(
            self, "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"endpoint/{endpoint_name}/variant/{variant_name}",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            min_capacity=settings.min,
            max_capacity=settings.max,
            role=linked_role,
        )
        self.target.scale_to_track_metric(
            "InvocationsPerInstance",
            target_value=settings.target_invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=Duration.seconds(settings.scale_in_cooldown),
            scale_out_cooldown=Duration.seconds(settings.scale_out_cooldown),
        )

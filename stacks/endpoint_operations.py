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
                 settings: Alarms, dimensions: dict[str, str] | None = None) -> None:
        """`dimensions` replaces EndpointName/VariantName (an inference component's InferenceComponentName); the
        GPU memory alarm is per instance, so it is left to the endpoint then."""
        super().__init__(scope, construct_id)
        dims = dimensions or {"EndpointName": endpoint_name, "VariantName": variant_name}
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        above = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        # (id, name suffix, description, namespace, metric, statistic, threshold, periods, comparison)
        specs = [
            ("Errors5xx", "5xx-errors", f"Invocation5XXErrors >= {settings.error_5xx_threshold} in 5 minutes",
             "AWS/SageMaker", "Invocation5XXErrors", "Sum", settings.error_5xx_threshold, 1, at_least),
            ("LatencyP90", "model-latency-p90", f"ModelLatency p90 above {settings.latency_p90_ms} ms for 15 minutes",
             "AWS/SageMaker", "ModelLatency", "p90", settings.latency_p90_ms * MICROSECONDS_PER_MS, 3, above),
        ]
        if plan.accelerator_kind == "nvidia" and dimensions is None:
            # GPUMemoryUtilization sums over GPUs: 100% per GPU, so the ceiling scales with their count.
            specs.append(("GpuMemory", "gpu-memory",
                          f"GPU memory above {settings.gpu_memory_percent}% of {plan.devices} GPUs for 15 minutes",
                          "/aws/sagemaker/Endpoints", "GPUMemoryUtilization", "Average",
                          settings.gpu_memory_percent * plan.devices, 3, above))
        self.alarms: list[cloudwatch.Alarm] = [
            cloudwatch.Alarm(
                self, alarm_id,
                alarm_name=f"{endpoint_name}-{suffix}",
                alarm_description=f"{endpoint_name}: {description}",
                metric=cloudwatch.Metric(namespace=namespace, metric_name=metric, dimensions_map=dims,
                                         statistic=statistic, period=PERIOD),
                threshold=threshold, evaluation_periods=periods, comparison_operator=comparison,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            for alarm_id, suffix, description, namespace, metric, statistic, threshold, periods, comparison in specs
        ]
        if settings.sns_topic_arn:
            topic = sns.Topic.from_topic_arn(self, "Topic", settings.sns_topic_arn)
            for alarm in self.alarms:
                alarm.add_alarm_action(cw_actions.SnsAction(topic))


def autoscaling_role(scope: Construct) -> iam.IRole:
    """Application Auto Scaling's service-linked role for SageMaker (variants and inference components alike): no
    extra role to create or review."""
    return iam.Role.from_role_arn(scope, "ServiceLinkedRole", cdk.Fn.join("", [
        "arn:", cdk.Aws.PARTITION, ":iam::", cdk.Aws.ACCOUNT_ID, ":role/aws-service-role/",
        "sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
    ]), mutable=False)


class EndpointAutoscaling(Construct):
    """Target tracking on SageMakerVariantInvocationsPerInstance between min and max instances."""

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_name: str, variant_name: str,
                 settings: Autoscaling) -> None:
        super().__init__(scope, construct_id)
        linked_role = autoscaling_role(self)
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

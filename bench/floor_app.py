#!/usr/bin/env python3
"""The synthesis floor: a hand-written CDK app with the same resources per endpoint as app.py, nothing else.

Per endpoint, one stack: IAM role + customer-managed policy, CfnModel, CfnEndpointConfig, CfnEndpoint, three
CloudWatch alarms, an S3 file asset of a small model.tar.gz (content differs per endpoint, like the real plans),
tags and five outputs. No deployments file, no selection, no Jinja2 templates, no cdk-nag, no CfnMapping.

bench/synth.py runs it as `python bench/floor_app.py` with the endpoint count in CDK context key
`bench_endpoints` (CDK_CONTEXT_JSON) and CDK_OUTDIR set, exactly as it runs app.py.
"""
from __future__ import annotations

import gzip
import io
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/djl-inference:0.38.0-lmi29.0.0-cu130"
PERIOD = cdk.Duration.minutes(5)


def tarball(folder: Path, index: int) -> Path:
    text = f"engine=Python\noption.model_id=bench/model-{index}\noption.tensor_parallel_degree=1\n".encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("serving.properties")
        info.size, info.mtime = len(text), 0
        tar.addfile(info, io.BytesIO(text))
    path = folder / f"model-{index}.tar.gz"
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return path


class FloorStack(cdk.Stack):
    def __init__(self, scope: cdk.App, index: int, folder: Path) -> None:
        name = f"floor-{index:03d}"
        super().__init__(scope, f"lmi-{name}", description=f"floor endpoint {name}")
        role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
        asset = s3_assets.Asset(self, "ServingProperties", path=str(tarball(folder, index)))
        arn = cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":logs:", cdk.Aws.REGION, ":", cdk.Aws.ACCOUNT_ID,
                               f":log-group:/aws/sagemaker/Endpoints/{name}:*"])
        policy = iam.ManagedPolicy(self, "Policy", roles=[role], statements=[
            iam.PolicyStatement(actions=["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"], resources=["*"]),
            iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[arn]),
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[
                cdk.Fn.join("", ["arn:", cdk.Aws.PARTITION, ":s3:::", asset.s3_bucket_name, "/",
                                 asset.s3_object_key])]),
        ])
        model = sagemaker.CfnModel(
            self, "Model", execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=IMAGE, mode="SingleModel", model_data_url=asset.s3_object_url),
        )
        model.node.add_dependency(policy)
        config = sagemaker.CfnEndpointConfig(self, "EndpointConfig", production_variants=[
            sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="AllTraffic", model_name=model.attr_model_name, instance_type="ml.g5.2xlarge",
                initial_instance_count=1, initial_variant_weight=1.0,
                container_startup_health_check_timeout_in_seconds=900,
                model_data_download_timeout_in_seconds=900, volume_size_in_gb=100),
        ])
        endpoint = sagemaker.CfnEndpoint(self, "Endpoint", endpoint_config_name=config.attr_endpoint_config_name,
                                         endpoint_name=name)
        dims = {"EndpointName": name, "VariantName": "AllTraffic"}
        for alarm_id, namespace, metric_name, statistic in (
            ("Errors5xx", "AWS/SageMaker", "Invocation5XXErrors", "Sum"),
            ("LatencyP90", "AWS/SageMaker", "ModelLatency", "p90"),
            ("GpuMemory", "/aws/sagemaker/Endpoints", "GPUMemoryUtilization", "Average"),
        ):
            cloudwatch.Alarm(
                self, alarm_id, alarm_name=f"{name}-{alarm_id}", threshold=1, evaluation_periods=1,
                metric=cloudwatch.Metric(namespace=namespace, metric_name=metric_name, dimensions_map=dims,
                                         statistic=statistic, period=PERIOD),
            )
        outputs = {"EndpointName": endpoint.attr_endpoint_name, "EndpointArn": endpoint.ref, "ImageUri": IMAGE,
                   "Plan": f"floor plan {index}", "HourlyUsd": "1.52"}
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)
        for key, value in {"app": "lmi-endpoints-floor", "lmi:index": str(index), "team": "bench"}.items():
            cdk.Tags.of(self).add(key, value)


def main() -> None:
    app = cdk.App()
    count = int(app.node.try_get_context("bench_endpoints") or (sys.argv[1] if len(sys.argv) > 1 else 1))
    folder = Path(tempfile.mkdtemp(prefix="lmi-floor-"))
    try:
        for index in range(count):
            FloorStack(app, index, folder)
        app.synth()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""LmiEndpoint: a SageMaker Model, EndpointConfig and Endpoint serving one plan, with its execution role.

Usable inside anyone's stack. Children have fixed ids (Role, Model, EndpointConfig, Endpoint) and are exposed
as escape hatches. Every setting comes from the plan; the props only say where and how to ship it.

It is an aws-cdk-lib `aws_sagemaker.IEndpoint` (a jsii interface, declared with `@jsii.implements` on a
`cdk.Resource`), so it goes wherever the CDK expects an endpoint: `aws_apigateway.SagemakerIntegration(endpoint)`,
`endpoint.grant_invoke(role)`, `endpoint.metric_invocations()` for alarms and dashboards.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aws_cdk as cdk
import jsii
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.interfaces import aws_sagemaker as sagemaker_refs
from constructs import Construct

from selector.catalog import load_catalog
from selector.delivery import download_timeout_s, startup_timeout_s, to_environment, volume_size_gb
from selector.plan import Plan
from stacks._private import image, model_artifact, policy

VARIANT_NAME = "AllTraffic"


@dataclass(frozen=True, kw_only=True)
class EndpointSecurity:
    """Network and encryption settings; each default is the SageMaker default."""

    kms_key_arn: str | None = None
    """Key for the endpoint's storage volume. Default: AWS-managed encryption."""
    subnet_ids: Sequence[str] = ()
    """Subnets for the model container. Default: no VPC."""
    security_group_ids: Sequence[str] = ()
    """Security groups with subnet_ids. Default: none."""
    network_isolation: bool = False
    """No outbound network from the container (needs weights in S3). Default: False."""
    data_capture_s3_uri: str | None = None
    """Where request/response capture goes. Default: no capture."""
    data_capture_percentage: int = 100
    """Share of requests captured when capture is on. Default: 100."""
    hf_token_secret_arn: str | None = None
    """Secrets Manager secret whose SecretString is the Hugging Face token. Default: none (public models)."""


@dataclass(frozen=True, kw_only=True)
class LmiEndpointProps:
    plan: Plan
    """The resolved plan (required): image, instance, TP, options."""
    endpoint_name: str
    """SageMaker endpoint name; stable so invokers and alarms can name it."""
    instance_count: int = 1
    """Initial instances. Default: 1."""
    delivery: Literal["tarball", "environment"] = "tarball"
    """tarball: serving.properties in a model.tar.gz asset; environment: OPTION_* variables. Default: tarball."""
    security: EndpointSecurity = field(default_factory=EndpointSecurity)
    """Network and encryption. Default: SageMaker defaults."""
    rollback_alarms: Sequence[cloudwatch.IAlarm] = ()
    """Alarms that roll back a blue/green update. Default: none (no guardrails)."""
    guardrail_wait_minutes: int = 10
    """Bake time of a blue/green update when rollback_alarms are set. Default: 10."""


@jsii.implements(sagemaker.IEndpoint)
class LmiEndpoint(cdk.Resource):
    """One planned LMI endpoint. Props as an `LmiEndpointProps` or as keyword arguments (the CDK style):
    `LmiEndpoint(self, "Llama", plan=plan, endpoint_name="llama")`."""

    def __init__(self, scope: Construct, construct_id: str, props: LmiEndpointProps | None = None,
                 **kwargs: Any) -> None:
        if props is None:
            props = LmiEndpointProps(**kwargs)
        elif kwargs:
            raise TypeError(f"LmiEndpoint: pass props or keyword arguments, not both ({', '.join(sorted(kwargs))})")
        super().__init__(scope, construct_id, physical_name=props.endpoint_name)
        _check(props)
        plan = props.plan
        self.plan = plan
        self._endpoint_name = props.endpoint_name
        repository = load_catalog().images.repository

        self.role = iam.Role(
            self, "Role",
            assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
            description=f"Execution role of SageMaker endpoint {props.endpoint_name} (least privilege)",
        )
        registry_account, self.image_uri = image.registry_account_and_uri(self, plan)
        statements = [
            policy.ecr_pull(registry_account, repository),
            policy.ecr_token(),
            policy.logs(props.endpoint_name),
            policy.metrics(),
        ]
        container: dict = {"image": self.image_uri, "mode": "SingleModel"}
        environment: dict[str, str] = {}
        if plan.model_id.startswith("s3://"):
            # Uncompressed S3 prefix mounted at /opt/ml/model by SageMaker (no download by the container, so it
            # works under network isolation); options then travel as environment variables.
            container["model_data_source"] = sagemaker.CfnModel.ModelDataSourceProperty(
                s3_data_source=sagemaker.CfnModel.S3DataSourceProperty(
                    s3_uri=plan.model_id, s3_data_type="S3Prefix", compression_type="None"))
            statements.extend(policy.read_prefix(plan.model_id))
        if props.delivery == "tarball":
            archive = model_artifact.write_tarball({"serving.properties": plan.serving_properties_text})
            self.asset = s3_assets.Asset(self, "ServingProperties", path=str(archive))
            container["model_data_url"] = self.asset.s3_object_url
            statements.append(policy.read_object(self.asset.s3_bucket_name, self.asset.s3_object_key))
        else:
            environment.update(to_environment(plan.serving_properties))
        security = props.security
        if security.hf_token_secret_arn:
            # A dynamic reference: CloudFormation resolves it at deploy time, so the token is in neither the
            # repository nor the template, and the endpoint's role needs no access to the secret.
            environment["HF_TOKEN"] = cdk.SecretValue.secrets_manager(security.hf_token_secret_arn).unsafe_unwrap()
        statements += policy.security_statements(security.kms_key_arn, security.subnet_ids,
                                                 security.security_group_ids, security.data_capture_s3_uri)
        if environment:
            container["environment"] = dict(sorted(environment.items()))
        # A customer-managed policy (not inline): reviewable on its own and what HIPAA's IAM rule expects.
        self.policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[self.role],
                                        description=f"Least-privilege access of SageMaker endpoint {props.endpoint_name}")

        self.model = sagemaker.CfnModel(
            self, "Model",
            execution_role_arn=self.role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(**container),
            enable_network_isolation=security.network_isolation or None,
            vpc_config=sagemaker.CfnModel.VpcConfigProperty(
                subnets=list(security.subnet_ids), security_group_ids=list(security.security_group_ids),
            ) if security.subnet_ids else None,
        )
        self.model.node.add_dependency(self.policy)

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig",
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                model_name=self.model.attr_model_name,
                instance_type=plan.instance_type,
                initial_instance_count=props.instance_count,
                initial_variant_weight=1.0,
                container_startup_health_check_timeout_in_seconds=startup_timeout_s(plan),
                model_data_download_timeout_in_seconds=download_timeout_s(plan),
                volume_size_in_gb=volume_size_gb(plan),
            )],
            kms_key_id=security.kms_key_arn,
            data_capture_config=data_capture_config(security),
        )

        self.endpoint = sagemaker.CfnEndpoint(
            self, "Endpoint",
            endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
            endpoint_name=props.endpoint_name,
            deployment_config=_deployment_config(props),
        )
        self._endpoint_arn = self.endpoint.ref  # CloudFormation's Ref of AWS::SageMaker::Endpoint is its ARN

    # --- aws_sagemaker.IEndpoint ------------------------------------------------------------------------

    @property
    def endpoint_arn(self) -> str:
        """The endpoint's ARN (a token until deploy time)."""
        return self._endpoint_arn

    @property
    def endpoint_name(self) -> str:
        """The endpoint's name: fixed by the props, so invokers and alarms can name it before deploy."""
        return self._endpoint_name

    @property
    def endpoint_ref(self) -> sagemaker_refs.EndpointReference:
        """The reference other CDK constructs take (aws_cdk.interfaces.aws_sagemaker.IEndpointRef)."""
        return sagemaker_refs.EndpointReference(endpoint_arn=self._endpoint_arn)

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` call this endpoint (including streaming responses), nothing else."""
        return iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["sagemaker:InvokeEndpoint", "sagemaker:InvokeEndpointWithResponseStream"],
            resource_arns=[self._endpoint_arn],
        )

    # --- metrics (the names aws-sagemaker-alpha's Endpoint uses; AWS/SageMaker, per endpoint and variant) ---

    @property
    def variant_name(self) -> str:
        return VARIANT_NAME

    def metric(self, metric_name: str, **props: Any) -> cloudwatch.Metric:
        """Any AWS/SageMaker endpoint metric of this endpoint's variant; `props` are cloudwatch.MetricOptions."""
        return cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name=metric_name,
            dimensions_map={"EndpointName": self._endpoint_name, "VariantName": VARIANT_NAME},
            **props,
        )

    def metric_invocations(self, **props: Any) -> cloudwatch.Metric:
        """Requests sent to the endpoint (sum over 5 minutes by default)."""
        return self.metric("Invocations", **{"statistic": "Sum", **props})

    def metric_invocation4xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("Invocation4XXErrors", **{"statistic": "Sum", **props})

    def metric_invocation5xx_errors(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("Invocation5XXErrors", **{"statistic": "Sum", **props})

    def metric_model_latency(self, **props: Any) -> cloudwatch.Metric:
        """Time the model container took to answer, in microseconds (p90 by default)."""
        return self.metric("ModelLatency", **{"statistic": "p90", **props})

    def metric_overhead_latency(self, **props: Any) -> cloudwatch.Metric:
        return self.metric("OverheadLatency", **{"statistic": "p90", **props})

    def metric_invocations_per_instance(self, **props: Any) -> cloudwatch.Metric:
        """What target-tracking autoscaling (SageMakerVariantInvocationsPerInstance) follows."""
        return self.metric("InvocationsPerInstance", **{"statistic": "Sum", **props})


def data_capture_config(security: EndpointSecurity) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty | None:
    """Request and response capture under the configured prefix, encrypted with the deployment's key."""
    if not security.data_capture_s3_uri:
        return None
    return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
        destination_s3_uri=security.data_capture_s3_uri,
        initial_sampling_percentage=security.data_capture_percentage,
        capture_options=[sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Input"),
                         sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode="Output")],
        enable_capture=True,
        kms_key_id=security.kms_key_arn,
    )


def _deployment_config(props: LmiEndpointProps):
    if not props.rollback_alarms:
        return None
    return sagemaker.CfnEndpoint.DeploymentConfigProperty(
        auto_rollback_configuration=sagemaker.CfnEndpoint.AutoRollbackConfigProperty(
            alarms=[sagemaker.CfnEndpoint.AlarmProperty(alarm_name=a.alarm_name) for a in props.rollback_alarms],
        ),
        blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
            traffic_routing_configuration=sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                type="ALL_AT_ONCE",
                wait_interval_in_seconds=60,
            ),
            termination_wait_in_seconds=props.guardrail_wait_minutes * 60,
        ),
    )


def _check(props: LmiEndpointProps) -> None:
    """Collect every problem with the props, then raise once (never clamp silently)."""
    problems = []
    if props.instance_count < 1:
        problems.append(f"instance_count = {props.instance_count}: must be at least 1")
    if props.delivery not in ("tarball", "environment"):
        problems.append(f"delivery = {props.delivery!r}: use 'tarball' or 'environment'")
    if props.delivery == "tarball" and props.plan.model_id.startswith("s3://"):
        problems.append("delivery = 'tarball': s3:// weights are mounted at /opt/ml/model; use 'environment'")
    if len(props.endpoint_name) > 63:
        problems.append(f"endpoint_name = {props.endpoint_name!r}: at most 63 characters")
    sec = props.security
    if bool(sec.subnet_ids) != bool(sec.security_group_ids):
        problems.append("security: subnet_ids and security_group_ids go together")
    if not 0 <= props.guardrail_wait_minutes <= 60:
        problems.append(f"guardrail_wait_minutes = {props.guardrail_wait_minutes}: 0 to 60")
    if problems:
        raise ValueError("LmiEndpoint props: " + "; ".join(problems))

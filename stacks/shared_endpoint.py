"""SharedEndpoint: one SageMaker endpoint whose models run as inference components on a pool of instances.

What SageMaker needs for inference components, and what this construct writes:
- the EndpointConfig carries the execution role (ExecutionRoleArn) and one ProductionVariant with InstanceType,
  ManagedInstanceScaling {Status, MinInstanceCount, MaxInstanceCount} and RoutingConfig, and no ModelName;
- one AWS::SageMaker::InferenceComponent per model, with its container (LMI image + OPTION_* environment),
  ComputeResourceRequirements (the reservation selector/pools/plan.py sized), StartupParameters and CopyCount;
- one adapter InferenceComponent per LoRA adapter: BaseInferenceComponentName + Container.ArtifactUrl (.tar.gz);
- per component: Application Auto Scaling on `inference-component/<name>` / DesiredCopyCount where copies scale
  (target tracking on invocations per copy; with min 0, a step policy on NoCapacityInvocationFailures brings the
  first copy back, since target tracking cannot scale out from zero copies), and 5XX/latency alarms.
The role reuses stacks/_private/policy.py; every user string passed the input boundary and the injection guard.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import Duration
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from selector.catalog import load_catalog
from selector.delivery import download_timeout_s, startup_timeout_s, to_environment
from selector.deployments import Alarms
from selector.pools.plan import VARIANT_NAME, Component, PoolPlan
from stacks._private import image, policy
from stacks.endpoint_operations import EndpointAlarms, autoscaling_role
from stacks.lmi_endpoint import EndpointSecurity, data_capture_config

COPY_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"


@dataclass(frozen=True, kw_only=True)
class SharedEndpointProps:
    pool: PoolPlan
    """The planned pool (required): instance type and count, components and their reservations."""
    security: EndpointSecurity = field(default_factory=EndpointSecurity)
    """Network and encryption, shared by every component. Default: SageMaker defaults."""
    alarms: Alarms | None = None
    """Alarm settings for every component. Default: no alarms."""


class SharedEndpoint(Construct):
    """The endpoint, its config and role, and one inference component per model and adapter (ids are stable:
    Component<n> and Component<n>Adapter<m> in plan order)."""

    def __init__(self, scope: Construct, construct_id: str, props: SharedEndpointProps) -> None:
        super().__init__(scope, construct_id)
        pool, security = props.pool, props.security
        self.pool = pool
        self.endpoint_name = pool.name
        names = [c.name for c in pool.components]
        repository = load_catalog().images.repository

        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"),
                             description=f"Execution role of shared SageMaker endpoint {pool.name} (least privilege)")
        images: dict[str, str] = {}
        statements = []
        accounts: list[str] = []
        for component in pool.components:
            account, uri = image.registry_account_and_uri(self, component.plan)
            images[component.name] = uri
            if account not in accounts:
                accounts.append(account)
        for index, account in enumerate(accounts):
            pull = policy.ecr_pull(account, repository)
            if index:
                pull.sid = f"PullLmiImage{index + 1}"
            statements.append(pull)
        statements += [policy.ecr_token(), policy.logs(pool.name), policy.component_logs(names), policy.metrics()]
        adapters = [a.s3_uri for c in pool.components for a in c.adapters]
        if adapters:
            statements.append(policy.read_objects("ReadLoraAdapters", adapters, "adapters.s3_uri"))
        statements += policy.security_statements(security.kms_key_arn, security.subnet_ids,
                                                 security.security_group_ids, security.data_capture_s3_uri)
        self.policy = iam.ManagedPolicy(self, "Policy", statements=statements, roles=[self.role],
                                        description=f"Least-privilege access of shared SageMaker endpoint {pool.name}")

        self.endpoint_config = sagemaker.CfnEndpointConfig(
            self, "EndpointConfig",
            execution_role_arn=self.role.role_arn,
            production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                variant_name=VARIANT_NAME,
                instance_type=pool.instance_type,
                initial_instance_count=pool.initial_instances,
                managed_instance_scaling=sagemaker.CfnEndpointConfig.ManagedInstanceScalingProperty(
                    status="ENABLED", min_instance_count=pool.pool.min_instances,
                    max_instance_count=pool.max_instances),
                routing_config=sagemaker.CfnEndpointConfig.RoutingConfigProperty(routing_strategy=pool.pool.routing),
            )],
            kms_key_id=security.kms_key_arn,
            vpc_config=sagemaker.CfnEndpointConfig.VpcConfigProperty(
                subnets=list(security.subnet_ids), security_group_ids=list(security.security_group_ids),
            ) if security.subnet_ids else None,
            data_capture_config=data_capture_config(security),
        )
        self.endpoint_config.node.add_dependency(self.policy)
        self.endpoint = sagemaker.CfnEndpoint(self, "Endpoint", endpoint_config_name=self.endpoint_config.attr_endpoint_config_name,
                                              endpoint_name=pool.name)

        self.components: dict[str, sagemaker.CfnInferenceComponent] = {}
        for index, component in enumerate(pool.components, start=1):
            base = self._component(f"Component{index}", component, images[component.name], security)
            self.components[component.name] = base
            for number, adapter in enumerate(component.adapters, start=1):
                name = component.adapter_component(adapter)
                adapter_ic = sagemaker.CfnInferenceComponent(
                    self, f"Component{index}Adapter{number}",
                    endpoint_name=self.endpoint.attr_endpoint_name,
                    inference_component_name=name,
                    specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                        base_inference_component_name=component.name,
                        container=sagemaker.CfnInferenceComponent.InferenceComponentContainerSpecificationProperty(
                            artifact_url=adapter.s3_uri),
                    ),
                )
                adapter_ic.add_resource_dependency(base)  # the base component must exist first (it names it literally)
                self.components[name] = adapter_ic
            if component.copies.scales:
                self._autoscaling(f"Component{index}Scaling", component, base)
            if props.alarms is not None and props.alarms.enabled:
                EndpointAlarms(self, f"Component{index}Alarms", endpoint_name=component.name,
                               variant_name=VARIANT_NAME, plan=component.plan, settings=props.alarms,
                               dimensions={"InferenceComponentName": component.name})

    def _component(self, construct_id: str, component: Component, image_uri: str,
                   security: EndpointSecurity) -> sagemaker.CfnInferenceComponent:
        environment = to_environment(component.plan.serving_properties)
        if security.hf_token_secret_arn:
            # Resolved by CloudFormation at deploy time: the token is in neither the repository nor the template.
            environment["HF_TOKEN"] = cdk.SecretValue.secrets_manager(security.hf_token_secret_arn).unsafe_unwrap()
        r = component.reservation
        resource = sagemaker.CfnInferenceComponent(
            self, construct_id,
            endpoint_name=self.endpoint.attr_endpoint_name,
            variant_name=VARIANT_NAME,
            inference_component_name=component.name,
            specification=sagemaker.CfnInferenceComponent.InferenceComponentSpecificationProperty(
                container=sagemaker.CfnInferenceComponent.InferenceComponentContainerSpecificationProperty(
                    image=image_uri, environment=dict(sorted(environment.items()))),
                compute_resource_requirements=(
                    sagemaker.CfnInferenceComponent.InferenceComponentComputeResourceRequirementsProperty(
                        number_of_accelerator_devices_required=r.accelerators,
                        min_memory_required_in_mb=r.memory_mb,
                        number_of_cpu_cores_required=r.cpu_cores)),
                startup_parameters=sagemaker.CfnInferenceComponent.InferenceComponentStartupParametersProperty(
                    model_data_download_timeout_in_seconds=download_timeout_s(component.plan),
                    container_startup_health_check_timeout_in_seconds=startup_timeout_s(component.plan)),
            ),
            runtime_config=sagemaker.CfnInferenceComponent.InferenceComponentRuntimeConfigProperty(
                copy_count=component.copies.initial),
        )
        return resource

    def _autoscaling(self, construct_id: str, component: Component, resource: sagemaker.CfnInferenceComponent) -> None:
        scope = Construct(self, construct_id)
        copies = component.copies
        target = appscaling.ScalableTarget(
            scope, "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=f"inference-component/{component.name}",
            scalable_dimension=COPY_DIMENSION,
            min_capacity=copies.min,
            max_capacity=copies.max,
            role=autoscaling_role(scope),
        )
        target.node.add_dependency(resource)
        target.scale_to_track_metric(
            "InvocationsPerCopy",
            target_value=copies.target_invocations_per_copy,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
            scale_in_cooldown=Duration.seconds(copies.scale_in_cooldown),
            scale_out_cooldown=Duration.seconds(copies.scale_out_cooldown),
        )
        if copies.min == 0:
            # At zero copies there are no invocations per copy to track; requests that find no copy are counted as
            # NoCapacityInvocationFailures, and a step policy on that metric starts the first copy.
            from_zero = appscaling.StepScalingAction(
                scope, "FromZero", scaling_target=target,
                adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
                cooldown=Duration.seconds(copies.scale_out_cooldown),
            )
            from_zero.add_adjustment(adjustment=1, lower_bound=0)
            alarm = cloudwatch.Alarm(
                scope, "NoCapacity",
                alarm_name=f"{component.name}-no-capacity",
                alarm_description=f"{component.name}: a request found no copy (scaled to zero): start one",
                metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="NoCapacityInvocationFailures",
                                         dimensions_map={"InferenceComponentName": component.name},
                                         statistic="Maximum", period=Duration.minutes(1)),
                threshold=1, evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(cw_actions.ApplicationScalingAction(from_zero))
            self.scale_from_zero_alarm = alarm

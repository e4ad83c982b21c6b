"""One stack per endpoint of a deployments file: the endpoint, its alarms, autoscaling and outputs."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from selector.deployments import Deployment, ResolvedDeployment, replace_field
from selector.errors import SelectorError
from stacks._private.guard import refuse_injection
from stacks.endpoint_operations import EndpointAlarms, EndpointAutoscaling
from stacks.lmi_endpoint import EndpointSecurity, LmiEndpoint, LmiEndpointProps
from stacks.nag import acknowledge_endpoint_findings

APP_TAG = "lmi-endpoints"


def stack_name(endpoint_name: str) -> str:
    return f"lmi-{endpoint_name}"


def security_of(resolved: ResolvedDeployment) -> EndpointSecurity:
    return deployment_security(resolved.deployment)


def deployment_security(d: Deployment) -> EndpointSecurity:
    """The network and encryption settings of a deployment (a shared endpoint takes them from its deployments,
    which selector/deployments.py holds equal)."""
    return EndpointSecurity(
        kms_key_arn=d.kms_key_arn,
        subnet_ids=tuple(d.vpc.subnet_ids) if d.vpc else (),
        security_group_ids=tuple(d.vpc.security_group_ids) if d.vpc else (),
        network_isolation=d.network_isolation,
        data_capture_s3_uri=d.data_capture.s3_uri if d.data_capture else None,
        data_capture_percentage=d.data_capture.sampling_percentage if d.data_capture else 100,
        hf_token_secret_arn=d.hf_token_secret_arn,
    )


class LmiEndpointStack(cdk.Stack):
    def __init__(self, scope: Construct, resolved: ResolvedDeployment, **kwargs) -> None:
        # Before any construct exists: no string of an untrusted deployments file may reach the template as a
        # dynamic reference or a CDK token (stacks/_private/guard.py).
        refuse_injection(resolved)
        try:
            self._build(scope, resolved, **kwargs)
        except SelectorError as error:  # a user value the IAM policy cannot name literally
            if error.field.startswith("deployments["):
                raise
            raise replace_field(error, f"deployments[{resolved.deployment.name}].{error.field}") from None

    def _build(self, scope: Construct, resolved: ResolvedDeployment, **kwargs) -> None:
        plan, deployment, name = resolved.plan, resolved.deployment, resolved.endpoint_name
        super().__init__(
            scope, stack_name(name),
            description=f"SageMaker LMI endpoint {name}: {plan.summary}"[:1024],
            termination_protection=deployment.protect,
            **kwargs,
        )
        alarms = None
        if deployment.alarms.enabled:
            alarms = EndpointAlarms(self, "Alarms", endpoint_name=name, variant_name="AllTraffic", plan=plan,
                                    settings=deployment.alarms)
        guardrails = deployment.deployment_guardrails
        rollback = alarms.alarms if (alarms and guardrails and guardrails.enabled) else ()
        self.endpoint = LmiEndpoint(self, "Endpoint", LmiEndpointProps(
            plan=plan,
            endpoint_name=name,
            instance_count=deployment.instance_count,
            delivery=deployment.delivery_mode,
            security=security_of(resolved),
            rollback_alarms=rollback,
            guardrail_wait_minutes=guardrails.wait_minutes if guardrails else 10,
        ))
        if deployment.autoscaling:
            scaling = EndpointAutoscaling(self, "Autoscaling", endpoint_name=name, variant_name="AllTraffic",
                                          settings=deployment.autoscaling)
            scaling.node.add_dependency(self.endpoint.endpoint)
        outputs = {
            "EndpointName": self.endpoint.endpoint.attr_endpoint_name,
            "EndpointArn": self.endpoint.endpoint_arn,
            "ImageUri": self.endpoint.image_uri,
            "Plan": plan.summary,
            "HourlyUsd": f"{plan.hourly_usd * deployment.instance_count:.2f}",
        }
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)
        tags = {"app": APP_TAG, "lmi:model": plan.model_id[:256], "lmi:backend": plan.backend,
                "lmi:instance-type": plan.instance_type, **deployment.tags}
        stack_tags = cdk.Tags.of(self)  # one jsii round-trip, not one per tag
        for key, value in sorted(tags.items()):
            stack_tags.add(key, value)
        acknowledge_endpoint_findings(self, resolved)

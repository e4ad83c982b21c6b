"""One stack per shared endpoint of a deployments file: the endpoint, its inference components and outputs."""
from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from selector.deployments import Deployment, replace_field
from selector.errors import SelectorError
from selector.pools.plan import PoolPlan
from stacks._private.guard import refuse_values
from stacks.lmi_endpoint_stack import APP_TAG, deployment_security, stack_name
from stacks.nag import acknowledge_shared_endpoint_findings
from stacks.shared_endpoint import SharedEndpoint, SharedEndpointProps


class SharedEndpointStack(cdk.Stack):
    def __init__(self, scope: Construct, pool: PoolPlan, members: list[Deployment], **kwargs) -> None:
        # Same last guard as LmiEndpointStack: no string of the file may become a dynamic reference or a token.
        for member in members:
            refuse_values(member.model_dump(mode="json", by_alias=True), f"deployments[{member.name}]")
        refuse_values(pool.to_json(), f"endpoints[{pool.name}].plan")
        try:
            self._build(scope, pool, members, **kwargs)
        except SelectorError as error:
            if error.field.startswith(("deployments[", "endpoints[")):
                raise
            raise replace_field(error, f"endpoints[{pool.name}].{error.field}") from None

    def _build(self, scope: Construct, pool: PoolPlan, members: list[Deployment], **kwargs) -> None:
        first = members[0]  # the settings every member shares (selector/deployments.py SHARED_KEYS)
        super().__init__(scope, stack_name(pool.name),
                         description=f"Shared SageMaker endpoint {pool.name}: {pool.summary}"[:1024],
                         termination_protection=first.protect, **kwargs)
        self.shared = SharedEndpoint(self, "Endpoint", SharedEndpointProps(
            pool=pool, security=deployment_security(first), alarms=first.alarms))
        outputs = {
            "EndpointName": self.shared.endpoint.attr_endpoint_name,
            "InferenceComponents": ",".join(self.shared.components),
            "Plan": pool.summary,
            "HourlyUsd": f"{pool.hourly_usd:.2f}",
        }
        for key, value in outputs.items():
            cdk.CfnOutput(self, key, value=value)
        # Only the tag keys the input boundary counts against AWS's 50 (aws_limits.json project_tags).
        tags = {"app": APP_TAG, "lmi:backend": "vllm", "lmi:instance-type": pool.instance_type,
                "lmi:model": " ".join(c.plan.model_id for c in pool.components)[:256], **first.tags}
        stack_tags = cdk.Tags.of(self)
        for key, value in sorted(tags.items()):
            stack_tags.add(key, value)
        acknowledge_shared_endpoint_findings(self, first, pool.name, [c.name for c in pool.components])

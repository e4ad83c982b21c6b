"""A local AWS for provision tests and `make deploy-local`: a moto server, made faithful where it matters.

moto 5.2.5 differs from CloudFormation/SageMaker in five ways that would make a correct deployment look
wrong (or a wrong one look right), so `moto_fixes()` patches them while a test runs:

1. its SageMaker instance-type allow-list is stale (no g5/p4d/p4de/inf2): accept botocore's
   ProductionVariantInstanceType enum, the list the real API validates against;
2. AWS::SageMaker::Endpoint ignores the `EndpointName` property (moto invents `<stack>-<id>-<suffix>`),
   so endpoint names, alarms and autoscaling ids would not match: honour it;
3. an update only touches resources whose template text changed, so when an EndpointConfig is replaced
   (it is immutable) the Endpoint keeps pointing at the deleted config: also update resources that Ref or
   GetAtt a modified one, as CloudFormation does;
4. ExecuteChangeSet never (re)computes stack Outputs: recompute them after the change set is applied;
5. AWS::IAM::ManagedPolicy has no CloudFormation delete, so the Role it is attached to can never be
   deleted ("DeleteConflict: Cannot delete entity, must detach all policies first") and every stack
   delete fails: detach and delete the policy, as CloudFormation does.

It also skips AWS::CloudWatch::Alarm and AWS::ApplicationAutoScaling::* resources (logs "No Moto
CloudFormation support") and records only stack-level events; tests assert those on the template.
"""
from __future__ import annotations

import contextlib
import json
import logging
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session

ACCOUNT = "123456789012"  # moto's default account
_INHERITED = object()  # marks a patched attribute the class did not define itself
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"
BOOTSTRAP_VERSION = "30"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}


def assets_bucket(region: str) -> str:
    return f"cdk-hnb659fds-assets-{ACCOUNT}-{region}"


def _references(value: Any) -> set[str]:
    """Logical ids a template fragment reads through Ref or Fn::GetAtt."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= _references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                target = arg[0] if isinstance(arg, list) else str(arg).split(".")[0]
                found.add(target)
            else:
                found |= _references(arg)
    return found


@contextlib.contextmanager
def moto_fixes() -> Iterator[None]:
    """Apply the five patches described in the module docstring; restore moto on exit."""
    from moto.cloudformation import models as cfn_models
    from moto.cloudformation import parsing
    from moto.iam import models as iam_models
    from moto.sagemaker import models as sm_models

    enum = set(
        botocore.session.get_session().get_service_model("sagemaker").shape_for("ProductionVariantInstanceType").enum
    )
    originals = {
        (sm_models.FakeEndpointConfig, "validate_instance_type"): sm_models.FakeEndpointConfig.__dict__["validate_instance_type"],
        (sm_models.FakeEndpoint, "cloudformation_name_type"): sm_models.FakeEndpoint.__dict__["cloudformation_name_type"],
        (parsing.ResourceMap, "build_resource_diff"): parsing.ResourceMap.__dict__["build_resource_diff"],
        (cfn_models.ChangeSet, "apply"): cfn_models.ChangeSet.__dict__["apply"],
        (iam_models.ManagedPolicy, "delete_from_cloudformation_json"): iam_models.ManagedPolicy.__dict__.get(
            "delete_from_cloudformation_json", _INHERITED
        ),
    }
    validate = originals[(sm_models.FakeEndpointConfig, "validate_instance_type")]
    diff = originals[(parsing.ResourceMap, "build_resource_diff")]
    apply = originals[(cfn_models.ChangeSet, "apply")]

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in enum:
            validate(self, instance_type)

    def build_resource_diff(self: Any, other_template: dict[str, Any], parameters: Any = None) -> dict[str, Any]:
        actions = diff(self, other_template, parameters)
        new = other_template["Resources"]
        changed = set(actions["Modify"]) | set(actions["Add"])
        grown = True
        while grown:
            grown = False
            for name, body in new.items():
                if name in changed or name not in self._resource_json_map:
                    continue
                if _references(body) & changed:
                    actions["Modify"].append(name)
                    changed.add(name)
                    grown = True
        return actions

    def apply_with_outputs(self: Any) -> None:
        apply(self)
        stack = self.stack
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        stack.description = stack.template_dict.get("Description")

    def delete_managed_policy(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str) -> None:
        iam = iam_models.iam_backends[account_id][iam_models.get_partition(region_name)]
        policy = iam.managed_policies.get(resource_name)  # the physical id is the policy ARN
        if policy is None:
            return
        for owners in (iam.roles.values(), iam.users.values(), iam.groups.values()):
            for owner in owners:
                if policy.arn in owner.managed_policies:
                    policy.detach_from(owner)
        iam.delete_policy(policy.arn)

    # Monkeypatching moto is this module's job: mypy's method-assign check does not apply.
    sm_models.FakeEndpointConfig.validate_instance_type = validate_instance_type  # type: ignore[method-assign]
    iam_models.ManagedPolicy.delete_from_cloudformation_json = classmethod(delete_managed_policy)  # type: ignore[method-assign,assignment]
    sm_models.FakeEndpoint.cloudformation_name_type = staticmethod(lambda: "EndpointName")  # type: ignore[method-assign]
    parsing.ResourceMap.build_resource_diff = build_resource_diff  # type: ignore[method-assign]
    cfn_models.ChangeSet.apply = apply_with_outputs  # type: ignore[method-assign]
    try:
        yield
    finally:
        for (owner, attribute), original in originals.items():
            if original is _INHERITED:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


class MotoCloud:
    """A ThreadedMotoServer plus the helpers to make it look like a CDK-bootstrapped account."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        logging.getLogger("moto").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", message=r"Tried to parse AWS::.* but it's not supported", category=UserWarning)
        self.server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
        self.server.start()
        _, self.port = self.server.get_host_and_port()
        self.host = host
        self.url = f"http://{host}:{self.port}"

    def stop(self) -> None:
        self.server.stop()

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment for boto3 / the CDK CLI: dummy credentials, this server, no real config files."""
        return {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service, region_name=region, endpoint_url=self.url,
            aws_access_key_id="testing", aws_secret_access_key="testing", aws_session_token="testing",
        )

    def _post(self, path: str, body: dict[str, Any] | None = None) -> None:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.url + path, data=data, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()

    def reset(self) -> None:
        self._post("/moto-api/reset")

    def bootstrap(self, *regions: str) -> None:
        """What `cdk bootstrap` leaves that deployments read: the version parameter and the assets bucket."""
        for region in regions:
            self.client("ssm", region).put_parameter(
                Name=BOOTSTRAP_PARAMETER, Value=BOOTSTRAP_VERSION, Type="String", Overwrite=True
            )
            extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            self.client("s3", region).create_bucket(Bucket=assets_bucket(region), **extra)

    def answer_invocations(self, body: Any, region: str = "us-east-1", times: int = 1) -> None:
        """Queue canned sagemaker-runtime InvokeEndpoint answers (moto returns "body" otherwise)."""
        result = {"Body": json.dumps(body), "ContentType": "application/json", "InvokedProductionVariant": "AllTraffic"}
        self._post(
            "/moto-api/static/sagemaker/endpoint-results",
            {"account_id": ACCOUNT, "region": region, "results": [result] * times},
        )

    def endpoints(self, region: str) -> dict[str, str]:
        sagemaker = self.client("sagemaker", region)
        return {e["EndpointName"]: e["EndpointStatus"] for e in sagemaker.list_endpoints()["Endpoints"]}

"""Helpers shared by the provision tests (a module of its own so tests never import `conftest`)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner, Result

from provision.aws import Aws
from provision.cli import cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def create_stack(cloud: Any, app: Path, name: str, region: str = "us-east-1") -> None:
    """Test set-up only: put a synthesized stack into the local cloud directly (seconds faster than the CDK
    CLI, which test_provision_deploy.py and test_provision_cdk_cli.py exercise)."""
    import json

    cfn = cloud.client("cloudformation", region)
    body = (app / f"{name}.template.json").read_text()
    cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
    status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    assert status == "CREATE_COMPLETE", (status, json.loads(body).get("Description"))


def aws_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def run(*args: str) -> Result:
    """`python -m provision ARGS` in-process; asserts the no-traceback contract on every exit."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=True)
    if result.exit_code != 0:
        assert isinstance(result.exception, SystemExit), f"unhandled exception: {result.exception!r}\n{result.output}"
    assert "Traceback" not in result.output
    return result


def stubbed_client(service: str, region: str = "us-east-1") -> tuple[Any, Stubber]:
    client = boto3.client(
        service, region_name=region, aws_access_key_id="x", aws_secret_access_key="x", endpoint_url=None
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def use_clients(monkeypatch: pytest.MonkeyPatch, **clients: Any) -> None:
    """Make provision's Aws.client return the given (stubbed) clients for those services, keyed by service
    name with '-' written as '_' (service_quotas=...)."""
    original = Aws.client
    by_service = {name.replace("_", "-"): client for name, client in clients.items()}

    def client(self: Aws, service: str, region: str | None = None) -> Any:
        return by_service[service] if service in by_service else original(self, service, region)

    monkeypatch.setattr(Aws, "client", client)

"""One boto3 session per command, with the region and account every other module needs.

Credentials, profile and region follow the standard boto3 chain (env vars, --profile / AWS_PROFILE,
config files, SSO, instance roles). AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>) is honoured by
botocore >= 1.31 itself, which is how the tests point every client at a local moto server.
"""
from __future__ import annotations

import os
from functools import cached_property
from typing import Any

import boto3
from botocore.config import Config

from provision.errors import UserError

def _client_config() -> Config:
    """Standard retries (throttling, 5xx); AWS_MAX_ATTEMPTS overrides the count, as for the AWS CLI."""
    attempts = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return Config(retries={"mode": "standard", "max_attempts": int(attempts) if attempts.isdigit() else 5},
                  user_agent_extra="lmi-endpoints-provision")


class Aws:
    """A boto3 session bound to one region; clients are created on first use and cached."""

    def __init__(self, region: str | None = None, profile: str | None = None, pinned_region: str | None = None,
                 role_arn: str | None = None):
        self.session = boto3.Session(profile_name=profile, region_name=region)
        if role_arn:
            self.session = self._assumed(role_arn, region or pinned_region)
        if region and pinned_region and region != pinned_region:
            raise UserError(
                f"--region {region} conflicts with the stack, which was synthesized for {pinned_region} "
                f"(its template names {pinned_region} resources). Drop --region, or change the deployment's "
                "region and synthesize again."
            )
        # botocore reads AWS_DEFAULT_REGION only; the CDK CLI and the other SDKs also read AWS_REGION.
        chosen = region or pinned_region or self.session.region_name or os.environ.get("AWS_REGION")
        if not chosen:
            raise UserError(
                "no AWS region is configured and the stack is region-agnostic. Pass --region, or set "
                "AWS_REGION / AWS_DEFAULT_REGION."
            )
        self.region: str = chosen
        self._clients: dict[tuple[str, str], Any] = {}

    def _assumed(self, role_arn: str, region: str | None) -> boto3.Session:
        """A session with a role's temporary credentials: how a pipeline account verifies a stage account."""
        sts = self.session.client("sts", region_name=region or self.session.region_name, config=_client_config())
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="lmi-endpoints-provision")["Credentials"]
        return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                             aws_session_token=creds["SessionToken"], region_name=region or self.session.region_name)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        if key not in self._clients:
            self._clients[key] = self.session.client(service, region_name=key[1], config=_client_config())
        return self._clients[key]

    @cached_property
    def account_id(self) -> str:
        return self.client("sts").get_caller_identity()["Account"]

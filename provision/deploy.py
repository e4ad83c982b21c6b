"""Deploy one synthesized stack with boto3: publish its file assets, then a change set, then wait.

A change set (rather than CreateStack/UpdateStack) gives the same "nothing to do" answer for create and
update, shows what will change before it happens, and is what the CDK CLI does, so a stack deployed here
can later be updated by `cdk deploy` and vice versa. Assets are published with the caller's own
credentials (the CDK CLI would assume the bootstrap file-publishing role; the caller needs s3:PutObject
on the assets bucket instead).
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.markup import escape

from provision.assembly import StackArtifact
from provision.aws import Aws
from provision.errors import OperationFailed, UserError, describe_failure, error_code, explain_aws_error
from provision.progress import SUCCESS, EventLog, print_failure, wait_for_stack
from provision.template import ENDPOINT, endpoint_facts, parameters_without_default

MAX_TEMPLATE_BODY = 51_200  # bytes; larger templates must be passed by S3 URL
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed", "No changes to deploy")
BUSY = "_IN_PROGRESS"


@dataclass
class Options:
    poll_seconds: float = 5.0
    timeout_seconds: float = 3 * 3600


def deploy(aws: Aws, stack: StackArtifact, console: Console, options: Options) -> None:
    template = stack.template()
    missing = parameters_without_default(template)
    if missing:
        raise UserError(
            f"stack {stack.stack_name} has parameters without defaults ({', '.join(missing)}); provision "
            "passes none. Give them defaults, or deploy with `npx cdk deploy --parameters`."
        )
    require_bootstrap(aws, stack)
    cfn = aws.client("cloudformation")
    existing = describe_stack(cfn, stack.stack_name)
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        console.print(f"{stack.stack_name} is ROLLBACK_COMPLETE from a failed create; deleting it before creating again")
        cfn.delete_stack(StackName=existing["StackId"])
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=existing["StackId"], WaiterConfig={"Delay": max(1, int(options.poll_seconds)), "MaxAttempts": 720}
        )
        existing = None
    if existing and existing["StackStatus"].endswith(BUSY) and existing["StackStatus"] != "REVIEW_IN_PROGRESS":
        raise UserError(
            f"stack {stack.stack_name} is {existing['StackStatus']}; another operation is running. Wait for it "
            "to finish (or cancel it in the CloudFormation console) and retry."
        )
    change_type = "UPDATE" if existing and existing["StackStatus"] != "REVIEW_IN_PROGRESS" else "CREATE"
    published = publish_assets(aws, stack, console)
    template_args = template_source(aws, stack, published)

    change_set_name = f"provision-{time.strftime('%Y%m%dT%H%M%S')}"
    try:
        created = cfn.create_change_set(
            StackName=stack.stack_name,
            ChangeSetName=change_set_name,
            ChangeSetType=change_type,
            Capabilities=CAPABILITIES,
            Tags=[{"Key": k, "Value": v} for k, v in sorted(stack.tags.items())],
            Description=f"provision deploy of {stack.stack_name}",
            **template_args,
        )
    except ClientError as error:
        if any(marker in str(error) for marker in NO_CHANGES):
            console.print(f"[green]{stack.stack_name}: no changes[/] (the deployed stack already matches the template)")
            return
        raise
    change_set = wait_for_change_set(cfn, created["Id"], options)
    if change_set["Status"] not in ("CREATE_COMPLETE", "FAILED"):
        console.print(f"[bold red]{stack.stack_name}: change set still {change_set['Status']} after 10 minutes;[/] "
                      "check the CloudFormation console")
        raise OperationFailed()
    if change_set["Status"] == "FAILED":
        reason = change_set.get("StatusReason", "")
        cfn.delete_change_set(ChangeSetName=created["Id"])
        if any(marker in reason for marker in NO_CHANGES):
            console.print(f"[green]{stack.stack_name}: no changes[/] (the deployed stack already matches the template)")
            return
        if change_type == "CREATE":
            _delete_if_empty(cfn, created["StackId"])
        console.print(f"[bold red]{stack.stack_name}: change set failed:[/] {escape(reason)}", soft_wrap=True)
        raise OperationFailed()

    print_changes(console, stack.stack_name, change_type, change_set.get("Changes", []))
    log = EventLog(cfn, created["StackId"])
    log.snapshot()
    endpoint_names = endpoint_facts(template).endpoint_names
    try:
        cfn.execute_change_set(ChangeSetName=created["Id"])
    except ClientError as error:
        if explain_aws_error(error):
            raise
        log.new()
        console.print(f"[bold red]{stack.stack_name}: execution failed:[/] {escape(describe_failure(error))}", soft_wrap=True)
        print_failure(console, log, aws.client("sagemaker"), endpoint_names)
        raise OperationFailed() from None

    status = wait_for_stack(
        cfn, created["StackId"], log, console, f"{'Creating' if change_type == 'CREATE' else 'Updating'} {stack.stack_name}",
        options.poll_seconds, options.timeout_seconds,
    )
    if status in SUCCESS:
        if change_type == "CREATE" and stack.termination_protection:
            cfn.update_termination_protection(EnableTerminationProtection=True, StackName=created["StackId"])
        console.print(f"[bold green]{stack.stack_name}: {status}[/]")
        print_outputs(console, cfn, created["StackId"])
        return
    if status == "TIMEOUT":
        console.print(
            f"[bold red]{stack.stack_name}: still in progress after {options.timeout_seconds / 60:.0f} minutes;[/] "
            "check the CloudFormation console (the operation continues)."
        )
        raise OperationFailed()
    console.print(f"[bold red]{stack.stack_name}: {status}[/]")
    print_failure(console, log, aws.client("sagemaker"), endpoint_names or stack_endpoint_names(cfn, created["StackId"]))
    raise OperationFailed()


def require_bootstrap(aws: Aws, stack: StackArtifact) -> None:
    """Fail before uploading anything when the template's BootstrapVersion rule would fail anyway."""
    if not stack.bootstrap_parameter or "BootstrapVersion" not in stack.template().get("Parameters", {}):
        return
    try:
        aws.client("ssm").get_parameter(Name=stack.bootstrap_parameter)
    except ClientError as error:
        if error_code(error) != "ParameterNotFound":
            raise
        raise UserError(
            f"the account is not CDK-bootstrapped in {aws.region} ({stack.bootstrap_parameter} is missing), "
            f"so the stack's BootstrapVersion check would fail. Run `npx cdk bootstrap aws://{aws.account_id}/"
            f"{aws.region}` once, then retry (`python -m provision preflight` lists every missing piece)."
        ) from None


def publish_assets(aws: Aws, stack: StackArtifact, console: Console) -> dict[str, tuple[str, str, str]]:
    """Upload each file asset unless its content-addressed key is already there; asset id -> (region, bucket, key)."""
    published = {}
    for asset in stack.file_assets():
        for destination in asset.destinations:
            region = destination.region or aws.region
            bucket = aws.substitute(destination.bucket_name, region)
            key = aws.substitute(destination.object_key, region)
            s3 = aws.client("s3", region)
            if _exists(s3, bucket, key):
                console.print(f"asset {escape(asset.display_name)}: s3://{bucket}/{key} (already published)")
            else:
                with asset.source.open("rb") as body:
                    try:
                        s3.put_object(Bucket=bucket, Key=key, Body=body)
                    except ClientError as error:
                        if error_code(error) == "NoSuchBucket":
                            raise UserError(
                                f"the assets bucket {bucket} does not exist, so asset {asset.display_name} cannot be "
                                f"published. Run `npx cdk bootstrap aws://{aws.account_id}/{region}` once, then retry."
                            ) from None
                        raise
                size = asset.source.stat().st_size
                console.print(f"asset {escape(asset.display_name)}: published s3://{bucket}/{key} ({size:,} bytes)")
            published[asset.asset_id] = (region, bucket, key)
    return published


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return False
        if error_code(error) in ("NoSuchBucket",):
            return False
        raise


def template_source(aws: Aws, stack: StackArtifact, published: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    """TemplateBody when it fits CloudFormation's 51,200-byte limit, else an S3 URL in the assets bucket."""
    body = stack.template_bytes()
    if len(body) <= MAX_TEMPLATE_BODY:
        return {"TemplateBody": body.decode("utf-8")}
    template_asset = next(
        (published[a.asset_id] for a in stack.file_assets() if a.asset_id in published and a.source == stack.template_file),
        None,
    )
    if template_asset:
        _, bucket, key = template_asset
    else:
        bucket = f"cdk-hnb659fds-assets-{aws.account_id}-{aws.region}"
        if stack.template_asset_url:
            bucket = aws.substitute(stack.template_asset_url).removeprefix("s3://").split("/", 1)[0]
        key = f"{hashlib.sha256(body).hexdigest()}.json"
        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    return {"TemplateURL": f"https://s3.{aws.region}.{aws.url_suffix}/{bucket}/{key}"}


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    try:
        return cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" in str(error):
            return None
        raise


def wait_for_change_set(cfn: Any, change_set_id: str, options: Options) -> dict[str, Any]:
    deadline = time.monotonic() + 600
    while True:
        change_set = cfn.describe_change_set(ChangeSetName=change_set_id)
        if change_set["Status"] in ("CREATE_COMPLETE", "FAILED") or time.monotonic() > deadline:
            return change_set
        time.sleep(min(options.poll_seconds, 2.0))


def print_changes(console: Console, name: str, change_type: str, changes: list[dict[str, Any]]) -> None:
    console.print(f"{name}: {'create' if change_type == 'CREATE' else 'update'} with {len(changes)} change(s)")
    for change in changes:
        rc = change.get("ResourceChange", {})
        replacement = " (replacement)" if rc.get("Replacement") == "True" else ""
        console.print(
            f"  {rc.get('Action', '?'):<7} {rc.get('ResourceType', ''):<44} {rc.get('LogicalResourceId', '')}{replacement}",
            soft_wrap=True, markup=False,
        )


def print_outputs(console: Console, cfn: Any, stack_id: str) -> None:
    outputs = cfn.describe_stacks(StackName=stack_id)["Stacks"][0].get("Outputs") or []
    for output in sorted(outputs, key=lambda o: o["OutputKey"]):
        console.print(f"  {output['OutputKey']} = {output.get('OutputValue', '')}", soft_wrap=True, markup=False)


def stack_endpoint_names(cfn: Any, stack_id: str) -> list[str]:
    """Endpoint names from the stack's resources (a SageMaker endpoint's physical id is its ARN)."""
    names = []
    try:
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id):
            for resource in page.get("StackResourceSummaries", []):
                if resource.get("ResourceType") == ENDPOINT and resource.get("PhysicalResourceId"):
                    names.append(resource["PhysicalResourceId"].rsplit("/", 1)[-1])
    except ClientError:
        pass
    return names


def _delete_if_empty(cfn: Any, stack_id: str) -> None:
    """A failed CREATE change set leaves an empty REVIEW_IN_PROGRESS stack behind; remove it."""
    stack = describe_stack(cfn, stack_id)
    if stack and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
        cfn.delete_stack(StackName=stack_id)


def destroy(aws: Aws, stack_name: str, console: Console, options: Options) -> None:
    cfn = aws.client("cloudformation")
    existing = describe_stack(cfn, stack_name)
    if existing is None:
        raise UserError(f"stack {stack_name} does not exist in {aws.region} (account {aws.account_id}); nothing to delete.")
    stack_id = existing["StackId"]
    endpoint_names = stack_endpoint_names(cfn, stack_id)
    log = EventLog(cfn, stack_id)
    log.snapshot()
    cfn.delete_stack(StackName=stack_id)
    status = wait_for_stack(cfn, stack_id, log, console, f"Deleting {stack_name}", options.poll_seconds, options.timeout_seconds)
    if status == "DELETE_COMPLETE":
        console.print(f"[bold green]{stack_name}: DELETE_COMPLETE[/] (published assets stay in the bootstrap bucket)")
        return
    console.print(f"[bold red]{stack_name}: {status}[/]")
    print_failure(console, log, aws.client("sagemaker"), endpoint_names)
    raise OperationFailed()

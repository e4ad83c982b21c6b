"""Smoke-test a deployed stack: is its endpoint InService, and does one small request come back?

One request with `max_new_tokens: 16` costs next to nothing and proves the whole path: the model loaded,
the container answers in the LMI request format, and the caller may invoke it. The response's shape is
reported (not only its text) because a wrong shape is how a misconfigured backend usually shows.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.markup import escape

from provision.aws import Aws
from provision.live import describe_stack, stack_endpoint_names
from provision.errors import OperationFailed, UserError, describe_failure, explain_aws_error

DEFAULT_PROMPT = "What is Amazon SageMaker? Answer in one sentence."


@dataclass
class Result:
    endpoint: str
    status: str
    latency_ms: float | None = None
    shape: str = ""
    content_type: str = ""
    text: str = ""
    error: str = ""


def endpoint_names(aws: Aws, stack_name: str) -> list[str]:
    """From the stack's `EndpointName` output, else from its AWS::SageMaker::Endpoint resources."""
    cfn = aws.client("cloudformation")
    stack = describe_stack(cfn, stack_name)
    if stack is None:
        raise UserError(
            f"stack {stack_name} does not exist in {aws.region} (account {aws.account_id}). Check the name and "
            "--region (stacks pinned to a region are found with --app pointing at cdk.out)."
        )
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
    if outputs.get("EndpointName"):
        return [outputs["EndpointName"]]
    return stack_endpoint_names(cfn, stack["StackId"])


def shape_of(value: Any, depth: int = 0) -> str:
    """A compact type sketch: {"generated_text": "..."} -> {generated_text: str(42)}."""
    if depth > 3:
        return "…"
    if isinstance(value, dict):
        inner = ", ".join(f"{k}: {shape_of(v, depth + 1)}" for k, v in list(value.items())[:8])
        return "{" + inner + (", …" if len(value) > 8 else "") + "}"
    if isinstance(value, list):
        return f"list[{len(value)}]" + (f" of {shape_of(value[0], depth + 1)}" if value else "")
    if isinstance(value, str):
        return f"str({len(value)})"
    return type(value).__name__


def generated_text(value: Any) -> str:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        text = value.get("generated_text")
        return text if isinstance(text, str) else ""
    return ""


def invoke(aws: Aws, name: str, prompt: str, max_new_tokens: int) -> Result:
    sagemaker = aws.client("sagemaker")
    try:
        status = sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
    except ClientError as error:
        if explain_aws_error(error):
            raise
        return Result(name, "NotFound", error=describe_failure(error))
    if status != "InService":
        return Result(name, status, error=f"endpoint is {status}, not InService")
    body = json.dumps({"inputs": prompt, "parameters": {"max_new_tokens": max_new_tokens}})
    started = time.perf_counter()
    try:
        response = aws.client("sagemaker-runtime").invoke_endpoint(
            EndpointName=name, ContentType="application/json", Accept="application/json", Body=body
        )
        raw = response["Body"].read()
    except ClientError as error:
        if explain_aws_error(error):
            raise
        return Result(name, status, latency_ms=(time.perf_counter() - started) * 1000, error=describe_failure(error))
    latency = (time.perf_counter() - started) * 1000
    content_type = response.get("ContentType", "")
    try:
        parsed = json.loads(raw)
    except ValueError:
        return Result(name, status, latency, f"non-JSON body ({len(raw)} bytes)", content_type, raw[:200].decode("utf-8", "replace"))
    return Result(name, status, latency, shape_of(parsed), content_type, generated_text(parsed))


def verify(aws: Aws, stack_name: str, console: Console, prompt: str = DEFAULT_PROMPT, max_new_tokens: int = 16) -> list[Result]:
    names = endpoint_names(aws, stack_name)
    if not names:
        console.print(f"[bold red]{stack_name}: no SageMaker endpoint found in the stack's outputs or resources[/]")
        raise OperationFailed()
    results = [invoke(aws, name, prompt, max_new_tokens) for name in names]
    for result in results:
        console.print(f"endpoint {escape(result.endpoint)}: {escape(result.status)}")
        if result.latency_ms is not None:
            console.print(f"  latency: {result.latency_ms:.0f} ms", markup=False)
        if result.shape:
            console.print(f"  response: {result.content_type or '?'} {result.shape}", markup=False, soft_wrap=True)
        if result.text:
            console.print(f"  generated_text: {result.text[:200]!r}", markup=False, soft_wrap=True)
        if result.error:
            console.print(f"  [bold red]failed:[/] {escape(result.error)}", soft_wrap=True)
    if any(r.error for r in results):
        raise OperationFailed()
    return results

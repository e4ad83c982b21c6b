"""Smoke-test a deployed stack: is its endpoint InService, and does one small request come back?

A shared endpoint (stacks/shared_endpoint_stack.py) is checked component by component: its stack's
`InferenceComponents` output names every model and adapter component, and each gets one request through
InvokeEndpoint's InferenceComponentName.

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
    return list(dict.fromkeys(name for name, _ in targets(aws, stack_name)))


def targets(aws: Aws, stack_name: str) -> list[tuple[str, str | None]]:
    """(endpoint, inference component or None) for every request verify sends: one per endpoint, or one per
    component of a shared endpoint (its `InferenceComponents` output)."""
    cfn = aws.client("cloudformation")
    stack = describe_stack(cfn, stack_name)
    if stack is None:
        raise UserError(
            f"stack {stack_name} does not exist in {aws.region} (account {aws.account_id}). Check the name and "
            "--region (stacks pinned to a region are found with --app pointing at cdk.out)."
        )
    outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}
    components = [c for c in outputs.get("InferenceComponents", "").split(",") if c]
    if outputs.get("EndpointName") and components:
        return [(outputs["EndpointName"], c) for c in components]
    if outputs.get("EndpointName"):
        return [(outputs["EndpointName"], None)]
    return [(name, None) for name in stack_endpoint_names(cfn, stack["StackId"])]


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


def endpoint_status(aws: Aws, name: str) -> tuple[str, str]:
    """(EndpointStatus, error text): NotFound with SageMaker's words when it does not exist."""
    try:
        return aws.client("sagemaker").describe_endpoint(EndpointName=name)["EndpointStatus"], ""
    except ClientError as error:
        if explain_aws_error(error):
            raise
        return "NotFound", describe_failure(error)


def invoke(aws: Aws, name: str, prompt: str, max_new_tokens: int, component: str | None = None,
           status: tuple[str, str] | None = None) -> Result:
    label = f"{name} / {component}" if component else name
    state, why = status or endpoint_status(aws, name)
    if state == "NotFound":
        return Result(label, state, error=why)
    if state != "InService":
        return Result(label, state, error=f"endpoint is {state}, not InService")
    body = json.dumps({"inputs": prompt, "parameters": {"max_new_tokens": max_new_tokens}})
    request: dict[str, Any] = {"EndpointName": name, "ContentType": "application/json", "Accept": "application/json",
                               "Body": body}
    if component:
        request["InferenceComponentName"] = component  # routes to that model (or adapter) of a shared endpoint
    started = time.perf_counter()
    try:
        response = aws.client("sagemaker-runtime").invoke_endpoint(**request)
        raw = response["Body"].read()
    except ClientError as error:
        if explain_aws_error(error):
            raise
        return Result(label, state, latency_ms=(time.perf_counter() - started) * 1000, error=describe_failure(error))
    latency = (time.perf_counter() - started) * 1000
    content_type = response.get("ContentType", "")
    try:
        parsed = json.loads(raw)
    except ValueError:
        return Result(label, state, latency, f"non-JSON body ({len(raw)} bytes)", content_type,
                      raw[:200].decode("utf-8", "replace"))
    return Result(label, state, latency, shape_of(parsed), content_type, generated_text(parsed))


def verify(aws: Aws, stack_name: str, console: Console, prompt: str = DEFAULT_PROMPT, max_new_tokens: int = 16) -> list[Result]:
    found = targets(aws, stack_name)
    if not found:
        console.print(f"[bold red]{stack_name}: no SageMaker endpoint found in the stack's outputs or resources[/]")
        raise OperationFailed()
    statuses = {name: endpoint_status(aws, name) for name in dict.fromkeys(n for n, _ in found)}
    results = [invoke(aws, name, prompt, max_new_tokens, component, statuses[name]) for name, component in found]
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

"""Wait for a CloudFormation stack operation and show its events as they happen.

Events are tracked by EventId (not by timestamp) so clock skew, or a local cloud with fixed timestamps,
cannot hide or repeat lines. On failure the failing events and the endpoint's own FailureReason are
printed: CloudFormation often only says "Resource handler returned message: ... failed", while SageMaker
says why (image pull, health check timeout, capacity).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError
from rich.console import Console
from rich.markup import escape

SUCCESS = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
CANCELLED_REASONS = ("Resource creation cancelled", "Resource update cancelled")


def is_terminal(status: str) -> bool:
    return not status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


@dataclass
class EventLog:
    """Stack events seen so far; `new()` returns the ones not shown yet, oldest first."""

    cfn: Any
    stack_id: str
    seen: set[str] = field(default_factory=set)
    shown: list[dict[str, Any]] = field(default_factory=list)

    def snapshot(self) -> None:
        """Mark everything that happened before the operation as already seen."""
        self.seen.update(e["EventId"] for e in self._fetch())

    def new(self) -> list[dict[str, Any]]:
        fresh = [e for e in self._fetch() if e["EventId"] not in self.seen]
        self.seen.update(e["EventId"] for e in fresh)
        fresh.reverse()  # the API returns newest first
        self.shown.extend(fresh)
        return fresh

    def _fetch(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        try:
            for page in self.cfn.get_paginator("describe_stack_events").paginate(StackName=self.stack_id):
                batch = page.get("StackEvents", [])
                events.extend(batch)
                if any(e["EventId"] in self.seen for e in batch):
                    break  # older pages were seen before
        except ClientError as error:
            if "does not exist" not in str(error):
                raise
        return events

    def failures(self) -> list[dict[str, Any]]:
        return [
            e
            for e in self.shown
            if e.get("ResourceStatus", "").endswith("_FAILED")
            and not str(e.get("ResourceStatusReason", "")).startswith(CANCELLED_REASONS)
        ]


def event_line(event: dict[str, Any]) -> str:
    stamp = event.get("Timestamp")
    when = stamp.strftime("%H:%M:%S") if hasattr(stamp, "strftime") else ""
    reason = event.get("ResourceStatusReason") or ""
    text = f"{when} {event.get('ResourceStatus', ''):<28} {event.get('ResourceType', ''):<44} {event.get('LogicalResourceId', '')}"
    return f"{text}  {reason}".rstrip()


def status_style(status: str) -> str:
    if "FAILED" in status or "ROLLBACK" in status:
        return "red"
    return "green" if status.endswith("_COMPLETE") else "yellow"


def wait_for_stack(
    cfn: Any,
    stack_id: str,
    log: EventLog,
    console: Console,
    action: str,
    poll_seconds: float = 5.0,
    timeout_seconds: float = 3 * 3600,
) -> str:
    """Poll until the stack leaves *_IN_PROGRESS; returns the final status ("TIMEOUT" when it never did)."""
    started = time.monotonic()
    status = "UNKNOWN"
    with console.status(f"{action}…") as spinner:
        while True:
            for event in log.new():
                console.print(f"[{status_style(event.get('ResourceStatus', ''))}]{escape(event_line(event))}[/]", soft_wrap=True)
            status = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
            elapsed = time.monotonic() - started
            if is_terminal(status):
                for event in log.new():
                    console.print(f"[{status_style(event.get('ResourceStatus', ''))}]{escape(event_line(event))}[/]", soft_wrap=True)
                return status
            if elapsed > timeout_seconds:
                return "TIMEOUT"
            spinner.update(f"{action}: {status} ({int(elapsed // 60)}m{int(elapsed % 60):02d}s)")
            time.sleep(poll_seconds)


def endpoint_failure_reasons(sagemaker: Any, names: list[str]) -> list[tuple[str, str, str]]:
    """(endpoint, status, FailureReason) for the named endpoints that still exist and say why they failed."""
    reasons = []
    for name in names:
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
        except ClientError:
            continue  # rolled back and deleted, or never created
        if endpoint.get("FailureReason"):
            reasons.append((name, endpoint.get("EndpointStatus", ""), endpoint["FailureReason"]))
    return reasons


def print_failure(console: Console, log: EventLog, sagemaker: Any, endpoint_names: list[str]) -> None:
    failures = log.failures()
    if failures:
        console.print("[bold red]Failed resources:[/]")
        for event in failures:
            console.print(
                f"  {escape(event.get('LogicalResourceId', ''))} ({escape(event.get('ResourceType', ''))}): "
                f"{escape(str(event.get('ResourceStatusReason', '')))}",
                soft_wrap=True,
            )
    for name, status, reason in endpoint_failure_reasons(sagemaker, endpoint_names):
        console.print(f"[bold red]Endpoint {escape(name)} is {escape(status)}:[/] {escape(reason)}", soft_wrap=True)

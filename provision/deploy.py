"""`provision deploy` / `destroy`: the pinned CDK CLI does the work; preflight before it, verify after it.

`cdk deploy` publishes assets through the bootstrap roles, builds and executes the change set and shows
its events; this module adds only what the CLI lacks: the account checks that fail in seconds instead of
30 minutes in (preflight), a smoke request once the stack is up (verify), SageMaker's own failure reason
when a deploy fails, and an idempotent destroy (a stack that is already gone is success, said so).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from provision import cdk_cli
from provision.assembly import CloudAssembly, StackArtifact, load_assembly
from provision.aws import Aws
from provision.errors import OperationFailed, UserError
from provision.live import describe_stack, endpoint_failure_reasons, stack_endpoint_names
from provision.preflight import Report, run_preflight
from provision.template import endpoint_facts
from provision.verify import DEFAULT_PROMPT, verify

APPROVAL_LEVELS = ("never", "any-change", "broadening")


@dataclass(frozen=True)
class DeployOptions:
    preflight: bool = True
    verify: bool = True
    require_approval: str = "never"
    prompt: str = DEFAULT_PROMPT
    max_new_tokens: int = 16


def select(assembly: CloudAssembly, names: Sequence[str], all_stacks: bool) -> list[StackArtifact]:
    if bool(names) == all_stacks:
        raise UserError("name the stacks with --stack NAME (repeatable), or pass --all; not both, not neither.")
    if all_stacks:
        chosen = [s for s in assembly.stacks if s.top_level]
        if not chosen:
            raise UserError(f"the cloud assembly {assembly.directory} has no stacks; synthesize again.")
        return chosen
    return [assembly.stack(name) for name in dict.fromkeys(names)]


def print_report(out: Console, report: Report) -> bool:
    """Print one stack's preflight; True when it passed."""
    out.print(f"[bold]preflight {escape(report.stack)} in {report.region} (account {report.account})[/]")
    for check, detail in report.passed:
        out.print(f"  [green]ok[/]       {check:<10} {escape(detail)}")
    for problem in report.problems:
        out.print(f"  [red]problem[/]  {problem.check:<10} {escape(problem.message)}")
    for note in report.notes:
        out.print(f"  note     {escape(note)}")
    if report.problems:
        out.print(f"[bold red]{len(report.problems)} problem(s):[/]")
        for number, problem in enumerate(report.problems, 1):
            out.print(f"{number}. [{problem.check}] {problem.message}", markup=False)
            out.print(f"   fix: {problem.fix}", markup=False)
        return False
    out.print("[bold green]preflight passed[/]")
    return True


def _sessions(stacks: Sequence[StackArtifact], region: str | None, profile: str | None) -> dict[str, Aws]:
    return {s.stack_name: Aws(region, profile, pinned_region=s.region) for s in stacks}


def _cli_env(stacks: Sequence[StackArtifact], sessions: dict[str, Aws]) -> dict[str, str]:
    """Region-agnostic stacks go where boto3 would (--region, profile, AWS_REGION): tell the CLI the same."""
    agnostic = [s for s in stacks if s.region is None]
    if not agnostic:
        return {}
    region = sessions[agnostic[0].stack_name].region
    return {"AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def _common_args(app: Path, profile: str | None) -> list[str]:
    return ["--app", str(app), "--no-notices", *(["--profile", profile] if profile else [])]


def deploy(app: Path, names: Sequence[str], all_stacks: bool, region: str | None, profile: str | None,
           options: DeployOptions, out: Console, echo: Callable[[str], None]) -> int:
    """Preflight every stack, `cdk deploy` them, verify each; returns the exit code."""
    if options.require_approval not in APPROVAL_LEVELS:
        raise UserError(f"--require-approval {options.require_approval}: use one of {', '.join(APPROVAL_LEVELS)}.")
    stacks = select(load_assembly(app), names, all_stacks)
    sessions = _sessions(stacks, region, profile)
    cdk_cli.locate()  # no CDK CLI: say so before minutes of preflight, not after
    if options.preflight:
        passed = [print_report(out, run_preflight(sessions[s.stack_name], s)) for s in stacks]
        if not all(passed):
            out.print("[bold red]nothing deployed:[/] fix the problems above (or deploy with --no-preflight).")
            raise OperationFailed()
    args = ["deploy", *_common_args(app, profile), "--require-approval", options.require_approval,
            "--progress", "events"]
    args += ["--all"] if all_stacks else [s.display_name for s in stacks]
    code = cdk_cli.run(args, echo, env=_cli_env(stacks, sessions))
    if code != 0:
        explain_failed_endpoints(stacks, sessions, out)
        out.print(f"[bold red]cdk deploy exited {code}[/]")
        return code
    if options.verify:
        for stack in stacks:
            if endpoint_facts(stack.template()).endpoint_ids:
                verify(sessions[stack.stack_name], stack.stack_name, out, options.prompt, options.max_new_tokens)
    return 0


def explain_failed_endpoints(stacks: Sequence[StackArtifact], sessions: dict[str, Aws], out: Console) -> None:
    """SageMaker's FailureReason of the stacks' endpoints, when they still exist and have one."""
    for stack in stacks:
        aws = sessions[stack.stack_name]
        names = list(endpoint_facts(stack.template()).endpoint_names)
        live = describe_stack(aws.client("cloudformation"), stack.stack_name)
        if live:
            names += [n for n in stack_endpoint_names(aws.client("cloudformation"), live["StackId"]) if n not in names]
        for name, status, reason in endpoint_failure_reasons(aws.client("sagemaker"), names):
            out.print(f"[bold red]Endpoint {escape(name)} is {escape(status)}:[/] {escape(reason)}", soft_wrap=True)


def destroy(app: Path, names: Sequence[str], all_stacks: bool, region: str | None, profile: str | None,
            out: Console, echo: Callable[[str], None]) -> int:
    """`cdk destroy --force` the stacks that exist; a stack already gone is reported and is not an error."""
    try:
        assembly: CloudAssembly | None = load_assembly(app)
    except UserError:
        if all_stacks:
            raise
        assembly = None  # a stack that is gone needs no cloud assembly to be "destroyed"
    if bool(names) == all_stacks:
        raise UserError("name the stacks with --stack NAME (repeatable), or pass --all; not both, not neither.")
    if all_stacks:
        assert assembly is not None
        stacks: list[StackArtifact | str] = list(select(assembly, names, all_stacks))
    else:
        stacks = [_artifact(assembly, name) or name for name in dict.fromkeys(names)]
    present: list[StackArtifact] = []
    sessions: dict[str, Aws] = {}
    for item in stacks:
        artifact = item if isinstance(item, StackArtifact) else _artifact(assembly, item)
        name = artifact.stack_name if artifact else str(item)
        aws = Aws(region, profile, pinned_region=artifact.region if artifact else None)
        if describe_stack(aws.client("cloudformation"), name) is None:
            out.print(f"{escape(name)}: already gone (no such stack in {aws.region}, account {aws.account_id}); "
                      "nothing to delete")
            continue
        if artifact is None:
            raise UserError(
                f"stack {name} exists in {aws.region} but is not in the cloud assembly {app}, which `cdk destroy` "
                "needs. Synthesize the deployments file that defines it, or delete it with "
                f"`aws cloudformation delete-stack --stack-name {name} --region {aws.region}`."
            )
        present.append(artifact)
        sessions[name] = aws
    if not present:
        return 0
    args = ["destroy", *_common_args(app, profile), "--force", *[s.display_name for s in present]]
    code = cdk_cli.run(args, echo, env=_cli_env(present, sessions))
    if code != 0:
        out.print(f"[bold red]cdk destroy exited {code}[/]")
    return code


def _artifact(assembly: CloudAssembly | None, name: str) -> StackArtifact | None:
    if assembly is None:
        return None
    try:
        return assembly.stack(name)
    except UserError:
        return None

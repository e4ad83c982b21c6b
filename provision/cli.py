"""`python -m provision`: preflight, deploy, verify, destroy, prices.

deploy and destroy run the pinned CDK CLI (`cdk deploy|destroy --app cdk.out STACK...`) with preflight
before and verify after. Exit codes: 0 success; 1 the operation ran and failed (problems found, endpoint
not answering, AWS failing; details on stdout); the CDK CLI's own code when it fails; 2 it could not run
(credentials, permissions, unknown stack, missing or malformed cdk.out, no CDK CLI) - one paragraph
`error: ...` on stderr, never a traceback.
"""
from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any
from collections.abc import Callable

import click
from rich.console import Console
from rich.table import Table

from provision.assembly import load_assembly
from provision.aws import Aws
from provision.cdk_cli import echo_to
from provision.errors import (
    AWS_ERRORS,
    EXIT_FAILED,
    EXIT_USAGE,
    OperationFailed,
    UserError,
    describe_failure,
    explain_aws_error,
    one_paragraph,
)


def console() -> Console:
    """Created per command so it writes to the sys.stdout of that moment (the test runner swaps it)."""
    return Console(highlight=False, soft_wrap=True)


def fail(message: str, code: int) -> None:
    click.echo(f"error: {one_paragraph(message)}", err=True)
    sys.exit(code)


def handled(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every expected failure into an exit code and, for exit 2, one paragraph on stderr."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as error:
            fail(str(error), EXIT_USAGE)
        except OperationFailed as error:
            if str(error):
                click.echo(f"error: {one_paragraph(str(error))}", err=True)
            sys.exit(EXIT_FAILED)
        except AWS_ERRORS as error:
            explained = explain_aws_error(error)
            if explained:
                fail(str(explained), EXIT_USAGE)
            fail(describe_failure(error), EXIT_FAILED)
        except KeyboardInterrupt:
            fail("interrupted; a CloudFormation operation already started keeps running in AWS.", 130)
        except click.exceptions.Exit:
            raise
        except Exception as error:  # noqa: BLE001 - last resort: still one paragraph, never a traceback
            if os.environ.get("LMI_ENDPOINTS_DEBUG"):
                raise
            fail(f"unexpected {describe_failure(error)} (set LMI_ENDPOINTS_DEBUG=1 for the traceback; "
                 "please report it with the command line)", EXIT_FAILED)

    return wrapper


def aws_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--profile", default=None, help="AWS profile (default: AWS_PROFILE / the default chain).")(func)
    func = click.option("--region", default=None, help="AWS region (default: the stack's pinned region, else AWS_REGION).")(func)
    return func


def stack_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--all", "all_stacks", is_flag=True, help="Every top-level stack of the cloud assembly.")(func)
    func = click.option("--stack", "stack_names", multiple=True,
                        help="Stack name (repeatable), e.g. lmi-llama3-8b-uneven.")(func)
    func = click.option("--app", default="cdk.out", show_default=True, type=click.Path(path_type=Path),
                        help="Cloud assembly directory (cdk synth output).")(func)
    return func


def pinned_region(app: str, stack_name: str) -> str | None:
    """The region a stack was synthesized for, when a cloud assembly is at hand (else None)."""
    if not (Path(app) / "manifest.json").is_file():
        return None
    try:
        return load_assembly(app).stack(stack_name).region
    except UserError:
        return None


CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(help=__doc__.split("\n\n")[0], context_settings=CONTEXT)
def cli() -> None:
    pass


@cli.command(help="Check quotas, image availability and CDK bootstrap for one synthesized stack.")
@click.option("--app", default="cdk.out", show_default=True, help="Cloud assembly directory (cdk synth output).")
@click.option("--stack", "stack_name", required=True, help="Stack name, e.g. lmi-llama3-8b-uneven.")
@aws_options
@handled
def preflight(app: str, stack_name: str, region: str | None, profile: str | None) -> None:
    from provision.deploy import print_report
    from provision.preflight import run_preflight

    stack = load_assembly(app).stack(stack_name)
    aws = Aws(region, profile, pinned_region=stack.region)
    if not print_report(console(), run_preflight(aws, stack)):
        raise OperationFailed()


@cli.command(help="Preflight, then `cdk deploy` (the pinned CDK CLI), then verify each stack's endpoint.")
@stack_options
@click.option("--preflight/--no-preflight", "run_preflight", default=True, show_default=True,
              help="Check quotas, image and bootstrap first; nothing is deployed when a check fails.")
@click.option("--verify/--no-verify", "run_verify", default=True, show_default=True,
              help="Send one small request to each deployed endpoint afterwards.")
@click.option("--require-approval", default="never", show_default=True,
              type=click.Choice(["never", "any-change", "broadening"]),
              help="Passed to cdk deploy (review cdk.out/plan.md and `make diff` before deploying).")
@aws_options
@handled
def deploy(app: Path, stack_names: tuple[str, ...], all_stacks: bool, run_preflight: bool, run_verify: bool,
           require_approval: str, region: str | None, profile: str | None) -> None:
    from provision.deploy import DeployOptions, deploy as run_deploy

    options = DeployOptions(preflight=run_preflight, verify=run_verify, require_approval=require_approval)
    code = run_deploy(app, stack_names, all_stacks, region, profile, options, console(), echo_to())
    if code:
        sys.exit(code)


@cli.command(help="Check the stack's endpoint is InService and answers one small request.")
@click.option("--stack", "stack_name", required=True, help="Deployed stack name.")
@click.option("--app", default="cdk.out", show_default=True, help="Cloud assembly, only to find a pinned region.")
@click.option("--prompt", default=None, help="Prompt to send (default: a short question).")
@click.option("--max-new-tokens", type=int, default=16, show_default=True)
@click.option("--role-arn", default=None, help="Assume this role first (e.g. a pipeline verifying a stage account).")
@aws_options
@handled
def verify(stack_name: str, app: str, prompt: str | None, max_new_tokens: int, role_arn: str | None,
           region: str | None, profile: str | None) -> None:
    from provision.verify import DEFAULT_PROMPT, verify as run_verify

    aws = Aws(region, profile, pinned_region=None if region else pinned_region(app, stack_name), role_arn=role_arn)
    run_verify(aws, stack_name, console(), prompt or DEFAULT_PROMPT, max_new_tokens)


@cli.command(help="`cdk destroy` the stacks (and their endpoints); a stack already gone is fine. Needs --yes.")
@stack_options
@click.option("--yes", is_flag=True, help="Really delete them.")
@aws_options
@handled
def destroy(app: Path, stack_names: tuple[str, ...], all_stacks: bool, yes: bool, region: str | None,
            profile: str | None) -> None:
    from provision.deploy import destroy as run_destroy

    if not yes:
        what = "every stack of " + str(app) if all_stacks else "stack " + ", ".join(stack_names)
        raise UserError(
            f"refusing to delete {what} without --yes (it deletes the endpoint and stops its billing; "
            "the model artifacts stay in the bootstrap bucket). Re-run with --yes."
        )
    code = run_destroy(app, stack_names, all_stacks, region, profile, console(), echo_to())
    if code:
        sys.exit(code)


@cli.command(help="Show instance prices; --refresh rewrites them from the AWS Price List API.")
@click.option("--refresh", is_flag=True, help="Fetch on-demand hosting prices and rewrite the data file.")
@click.option("--dry-run", is_flag=True, help="With --refresh: print the diff, write nothing.")
@click.option("--data-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Instance catalog to update (default: selector/data/instances.json).")
@click.option("--profile", default=None, help="AWS profile for the Price List API.")
@handled
def prices(refresh: bool, dry_run: bool, data_file: Path | None, profile: str | None) -> None:
    import json

    from provision.prices import PRICING_API_REGION, PriceLookupError, data_file as default_data_file, refresh_prices

    path = data_file or default_data_file()
    if not path.is_file():
        raise UserError(f"{path} does not exist; pass --data-file pointing at an instances.json.")
    out = console()
    if not refresh:
        if dry_run:
            raise UserError("--dry-run only makes sense with --refresh.")
        document = json.loads(path.read_text())
        table = Table(title=f"on-demand hosting prices, {document.get('price_region')} (as of {document.get('price_as_of')})")
        table.add_column("instance")
        table.add_column("USD/hour", justify="right")
        from selector.report import price_text

        # the order and format of `catalog instances`: cheapest first, unconfirmed prices marked
        for name, instance in sorted(document["instances"].items(), key=lambda kv: (kv[1]["hourly_usd"], kv[0])):
            table.add_row(name, price_text(instance["hourly_usd"], instance.get("price_confirmed", True)))
        out.print(table)
        return
    aws = Aws(PRICING_API_REGION, profile)
    try:
        result = refresh_prices(aws.client("pricing", PRICING_API_REGION), path)
    except PriceLookupError as error:
        click.echo(f"error: price lookup failed, nothing written: {one_paragraph(str(error))}", err=True)
        sys.exit(EXIT_FAILED)
    for name, old, new in result.changes:
        out.print(f"{name}: {old} -> {new} USD/hour", markup=False)
    if not result.changes:
        out.print("prices unchanged (dates updated)")
    if result.still_unconfirmed:
        out.print(f"no Price List hosting rate for {', '.join(result.still_unconfirmed)}: their third-party prices "
                  "stay, still marked unconfirmed", markup=False)
    if dry_run:
        out.print(result.diff(), markup=False, end="")
        out.print(f"dry run: {path} not written")
        return
    path.write_text(result.new_text)
    out.print(f"wrote {path} ({len(result.changes)} price(s) changed)")


def main() -> None:
    cli(prog_name="python -m provision")

"""`lmi-endpoints`: one command for planning (the selector) and shipping (provision) LMI endpoints.

Each subcommand is the existing `python -m selector` or `python -m provision` command, imported only when
it runs (so `--help` and shell completion stay fast, and planning never loads boto3). Shell completion:
click's `_LMI_ENDPOINTS_COMPLETE` (see README, "Installing").
"""
from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

import click

DISTRIBUTION = "lmi-endpoints"
# subcommand -> (module holding it, one-line help shown without importing that module)
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("selector.cli", "Plan one model: backend, quantization, instance, TP, image, cost, reasons."),
    "render": ("selector.cli", "Print the serving.properties a plan would ship."),
    "validate": ("selector.cli", "Validate a deployments file (exit 2 with one paragraph when it is bad)."),
    "schema": ("selector.cli", "Print the JSON schema of deployments files."),
    "catalog": ("selector.cli", "List the catalogued models, instances or backends."),
    "rules": ("selector.cli", "List the feasibility rules, in order."),
    "preflight": ("provision.cli", "Check quotas, image and CDK bootstrap of a synthesized stack."),
    "deploy": ("provision.cli", "Preflight, then cdk deploy (pinned CLI), then verify."),
    "verify": ("provision.cli", "Check a deployed endpoint is InService and answers one request."),
    "destroy": ("provision.cli", "cdk destroy the stacks; a stack already gone is fine. Needs --yes."),
    "prices": ("provision.cli", "Show instance prices; --refresh rewrites them from the Price List API."),
}
GROUPS = {"selector.cli": "main", "provision.cli": "cli"}


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never `pip install`-ed
        return "0+unknown"


class LazyGroup(click.Group):
    """A group whose subcommands live in other modules and are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, _ = COMMANDS[cmd_name]
        group = getattr(importlib.import_module(module_name), GROUPS[module_name])
        return group.get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from COMMANDS' one-liners, without importing boto3 or the planner."""
        with formatter.section("Planning (no AWS account needed)"):
            formatter.write_dl([(n, h) for n, (m, h) in COMMANDS.items() if m == "selector.cli"])
        with formatter.section("Shipping (AWS credentials; deploy/destroy run the pinned CDK CLI)"):
            formatter.write_dl([(n, h) for n, (m, h) in COMMANDS.items() if m == "provision.cli"])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_version(), "--version", "-V", prog_name=DISTRIBUTION, message="%(prog)s %(version)s")
def cli() -> None:
    """Plan, render, validate and ship Amazon SageMaker LMI endpoints.

    Typical flow: `lmi-endpoints validate deployments.yaml`, `cdk synth`, `lmi-endpoints deploy --all`.
    Exit codes: 0 ok; 1 the operation ran and failed; 2 bad input (one paragraph on stderr).
    """


def main() -> None:
    cli(prog_name=DISTRIBUTION)


if __name__ == "__main__":
    main()

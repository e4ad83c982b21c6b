"""`python -m selector`: plan, render, validate, catalog, rules, schema.

Bad input exits 2 with one paragraph on stderr and no traceback; --json prints the plan contract of
README.md ("Planning one model").
"""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from selector.errors import SelectorError
from selector.request import PREFERENCES, QUANTIZATION_CHOICES, TRAFFIC, Request
from selector.request import Load, Slo

EXIT_BAD_INPUT = 2
EXIT_CODES = ("Exit codes: 0 success; 1 `diff --fail-on-increase` threshold passed; 2 bad input (one paragraph on "
              "stderr naming the field, the value and what would work).")


def fail(error: SelectorError) -> None:
    click.echo(f"error: {error.paragraph()}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _families(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    families = tuple(part.strip() for part in value.split(","))
    if not all(families):
        from selector.catalog import load_catalog
        from selector.errors import SelectorError

        defaults = ", ".join(load_catalog().default_families)
        raise SelectorError("--families", value, "names an empty family",
                            f"Give families separated by commas (e.g. g5,g6e) or all; leave --families out for the "
                            f"defaults ({defaults})")
    return families


def _catalog_names(what: str) -> list[str]:
    from selector.catalog import load_catalog

    catalog = load_catalog()
    if what == "default_families":
        return list(catalog.default_families)
    return sorted(catalog.backends) if what == "backends" else sorted(catalog.families)


def plan_options(func):
    """The request flags shared by `plan` and `render`."""
    options = [
        click.option("--model", required=True, help="Catalog id, path to a config.json, or S3/hub id with --model-config."),
        click.option("--model-config", default=None, help="Local config.json describing --model's shape."),
        click.option("--revision", default=None, help="Hub revision to pin (option.revision)."),
        click.option("--traffic", type=click.Choice(TRAFFIC), default="uneven", show_default=True,
                     help="uneven: chat/code (vLLM first); even: known lengths, e.g. summarization (compiled first)."),
        click.option("--max-input-tokens", type=int, default=None,
                     help="Longest prompt to serve (default: from the model's context)."),
        click.option("--max-output-tokens", type=int, default=None,
                     help="Longest completion to serve (default 512 when a length is needed)."),
        click.option("--min-concurrency", type=int, default=None, help="Full-length sequences the KV cache must hold (default 4)."),
        click.option("--quantization", type=click.Choice(QUANTIZATION_CHOICES), default=None,
                     help="Default: none when balanced, auto when --prefer cost."),
        click.option("--prefer", type=click.Choice(PREFERENCES), default="balanced", show_default=True,
                     help="balanced: the traffic's backend order; cost: the cheapest feasible plan."),
        click.option("--families", default=None, metavar="FAMILY[,FAMILY...]",
                     help="Instance families to consider, comma-separated, from: "
                          + ", ".join(_catalog_names("families")) + ", or all (default: "
                          + ", ".join(_catalog_names("default_families")) + "; a plan names a cheaper "
                          "instance outside them)."),
        click.option("--backend", default=None, metavar="BACKEND",
                     help="Pin a backend, one of: " + ", ".join(_catalog_names("backends")) + "."),
        click.option("--instance-type", default=None, help="Pin an instance type, e.g. ml.g5.12xlarge."),
        click.option("--tensor-parallel-degree", "--tp", "tensor_parallel_degree", type=int,
                     default=None, help="Pin the tensor-parallel degree (GPUs, or NeuronCores on Inf2)."),
        click.option("--container-version", default=None, help="Pin an LMI container version, e.g. 0.32.0."),
        click.option("--region", default="us-east-1", show_default=True,
                     help="Region whose LMI image registry the image URI names."),
        click.option("--requests-per-minute", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="Load: mean requests per minute (sets instance count; with --prefer cost, rank by $/1M tokens)."),
        click.option("--mean-input-tokens", type=click.IntRange(min=1), default=None, help="Load: mean input tokens."),
        click.option("--mean-output-tokens", type=click.IntRange(min=1), default=None, help="Load: mean output tokens."),
        click.option("--ttft-ms", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="SLO: time to first token target in ms (plans estimated slower are rejected)."),
        click.option("--tpot-ms", type=click.FloatRange(min=0, min_open=True), default=None,
                     help="SLO: time per output token target in ms."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_request(kwargs: dict[str, Any]) -> Request:
    kwargs = dict(kwargs)
    kwargs["families"] = _families(kwargs.get("families"))
    load = [kwargs.pop(k, None) for k in ("requests_per_minute", "mean_input_tokens", "mean_output_tokens")]
    slo = [kwargs.pop(k, None) for k in ("ttft_ms", "tpot_ms")]
    if any(v is not None for v in load):
        if None in load:
            raise click.UsageError("--requests-per-minute, --mean-input-tokens and --mean-output-tokens go together")
        kwargs["load"] = Load(*load)
    if any(v is not None for v in slo):
        kwargs["slo"] = Slo(*slo)
    return Request(**kwargs)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lmi-endpoints")
    except PackageNotFoundError:
        return "0+source"


class OneParagraphGroup(click.Group):
    """click's own usage errors (unknown option, missing --model, bad choice) as one paragraph and exit 2,
    like every other bad input, instead of click's three-line usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as error:
            where = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            click.echo(f"error: {error.format_message().rstrip('.')}{where}.", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except click.Abort:
            sys.exit(130)


@click.group(cls=OneParagraphGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES)
@click.version_option(_version(), "--version", prog_name="lmi-endpoints selector")
def main() -> None:
    """Plan SageMaker LMI deployments offline: backend, quantization, instance, TP, image, cost."""


@main.command()
@plan_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
def plan(as_json: bool, **kwargs: Any) -> None:
    """Resolve one deployment request into an explained plan."""
    from selector.resolve import resolve

    try:
        result = resolve(build_request(kwargs))
    except SelectorError as error:
        fail(error)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
        return
    from selector.report import print_plan

    print_plan(result)


@main.command()
@plan_options
def render(**kwargs: Any) -> None:
    """Print the serving.properties the plan renders."""
    from selector.resolve import resolve

    try:
        result = resolve(build_request(kwargs))
    except SelectorError as error:
        fail(error)
    click.echo(result.serving_properties_text, nl=False)


@main.command()
@click.argument("what", type=click.Choice(["models", "instances", "backends"]))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of objects (one shape for every listing).")
def catalog(what: str, as_json: bool) -> None:
    """List the bundled catalogs."""
    from selector.report import print_catalog

    print_catalog(what, as_json)


@main.command()
def rules() -> None:
    """Print the feasibility rules in order, from the rule files themselves."""
    from selector.rules import describe

    for index, (name, sentence) in enumerate(describe(), start=1):
        click.echo(f"{index:2}. {name}: {sentence}")


@main.command()
@click.argument("path")
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
@click.option("--json", "as_json", is_flag=True,
              help="Print {file, ok, problems: [{file, line, column, field, value, problem, hint}], endpoints} on stdout.")
def validate(path: str, quiet: bool, as_json: bool) -> None:
    """Check and resolve every deployment in a deployments file; print every problem, one
    FILE:LINE:COL line each, sorted by line. Exit 0 when valid, 2 on any problem."""
    from selector.deployments import check_file

    resolved, problems = check_file(path)
    if as_json:
        names = [r.endpoint_name for r in resolved]
        if not problems:
            from selector.deployments import load_deployments, plan_pools

            names += [pool.name for pool in plan_pools(load_deployments(path))[0]]
        click.echo(json.dumps({"file": path if path.isprintable() else repr(path), "ok": not problems,
                               "problems": [p.to_json() for p in problems],
                               "endpoints": names if not problems else []},
                              indent=2, sort_keys=True))
        if problems:
            sys.exit(EXIT_BAD_INPUT)
        return
    if problems:
        for problem in problems:  # FILE:LINE:COL: first, the form editors and CI problem matchers read
            click.echo(problem.line_text(), err=True)
        sys.exit(EXIT_BAD_INPUT)
    if not quiet:
        from selector.deployments import load_deployments, plan_pools
        from selector.report import bullets, make_console, print_deployments

        print_deployments(resolved)
        pools, _ = plan_pools(load_deployments(path))  # valid here: the shared endpoints, one line each
        console = make_console()
        for pool in pools:
            console.print(bullets([f"{pool.name} (shared endpoint): {pool.summary}"], "•"))


@main.command()
def schema() -> None:
    """Print the JSON Schema of deployments files (for editor completion)."""
    from selector.deployments import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))


EXIT_COST_INCREASE = 1


@main.command()
@click.argument("base")
@click.argument("head")
@click.option("--json", "as_json", is_flag=True, help="Print the diff as one JSON object.")
@click.option("--fail-on-increase", type=click.FloatRange(min=0), default=None, metavar="USD",
              help="Exit 1 when the total monthly cost rises by more than USD (for CI gates).")
def diff(base: str, head: str, as_json: bool, fail_on_increase: float | None) -> None:
    """What changed between two plan.json reports (base branch, pull request).

    Exit codes: 0 printed; 1 cost rose more than --fail-on-increase; 2 bad input.
    """
    from selector.plan_diff import change_line, diff_reports, load_report, money

    try:
        result = diff_reports(load_report(base), load_report(head))
    except SelectorError as error:
        fail(error)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, sort_keys=True))
    elif result.empty:
        click.echo("No endpoint changed.")
    else:
        for change in result.changes:
            click.echo("- " + change_line(change).replace("**", ""))
        click.echo(f"Net: {money(result.monthly_delta)}")
    if fail_on_increase is not None and result.monthly_delta > fail_on_increase:
        click.echo(f"error: monthly cost rises by ${result.monthly_delta:,.2f}, more than the allowed "
                   f"${fail_on_increase:,.2f}.", err=True)
        sys.exit(EXIT_COST_INCREASE)

"""`python -m selector`: plan, render, validate, catalog, rules, schema.

Bad input exits 2 with one paragraph on stderr and no traceback; --json prints the plan contract of
DESIGN.md ("Contracts").
"""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from selector.errors import SelectorError
from selector.request import PREFERENCES, QUANTIZATION_CHOICES, TRAFFIC, Request

EXIT_BAD_INPUT = 2


def fail(error: SelectorError) -> None:
    click.echo(f"error: {error.paragraph()}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def _families(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(part.strip() for part in value.split(",") if part.strip())


def plan_options(func):
    """The request flags shared by `plan` and `render`."""
    options = [
        click.option("--model", required=True, help="Catalog id, path to a config.json, or S3/hub id with --model-config."),
        click.option("--model-config", default=None, help="Local config.json describing --model's shape."),
        click.option("--revision", default=None, help="Hub revision to pin (option.revision)."),
        click.option("--traffic", type=click.Choice(TRAFFIC), default="uneven", show_default=True),
        click.option("--max-input-tokens", type=int, default=None),
        click.option("--max-output-tokens", type=int, default=None),
        click.option("--min-concurrency", type=int, default=None, help="Full-length sequences the KV cache must hold (default 4)."),
        click.option("--quantization", type=click.Choice(QUANTIZATION_CHOICES), default=None,
                     help="Default: none when balanced, auto when --prefer cost."),
        click.option("--prefer", type=click.Choice(PREFERENCES), default="balanced", show_default=True),
        click.option("--families", default=None, help="Comma-separated instance families, e.g. g5,p4d,p4de,inf2."),
        click.option("--backend", default=None, help="Pin a backend: vllm, tensorrtllm, lmi-dist, deepspeed, neuronx."),
        click.option("--instance-type", default=None, help="Pin an instance type, e.g. ml.g5.12xlarge."),
        click.option("--tensor-parallel-degree", "--tp", "tensor_parallel_degree", type=int, default=None),
        click.option("--container-version", default=None, help="Pin an LMI container version, e.g. 0.32.0."),
        click.option("--region", default="us-east-1", show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_request(kwargs: dict[str, Any]) -> Request:
    kwargs = dict(kwargs)
    kwargs["families"] = _families(kwargs.get("families"))
    return Request(**kwargs)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("--json", "as_json", is_flag=True)
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
        click.echo(json.dumps({"file": path if path.isprintable() else repr(path), "ok": not problems,
                               "problems": [p.to_json() for p in problems],
                               "endpoints": [r.endpoint_name for r in resolved] if not problems else []},
                              indent=2, sort_keys=True))
        if problems:
            sys.exit(EXIT_BAD_INPUT)
        return
    if problems:
        for problem in problems:  # FILE:LINE:COL: first, the form editors and CI problem matchers read
            click.echo(problem.line_text(), err=True)
        sys.exit(EXIT_BAD_INPUT)
    if not quiet:
        from selector.report import print_deployments

        print_deployments(resolved)


@main.command()
def schema() -> None:
    """Print the JSON Schema of deployments files (for editor completion)."""
    from selector.deployments import json_schema

    click.echo(json.dumps(json_schema(), indent=2, sort_keys=True))

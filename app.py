#!/usr/bin/env python3
"""CDK entry point: every deployment of the file named by context `deployments` becomes one stack.

All deployments are resolved before any stack is built, so bad input exits 2 with one paragraph and
leaves no templates behind.
"""
from __future__ import annotations

import os
import sys

# jsii prints a Node 20 end-of-life banner on every import of aws_cdk; `cdk synth` run by hand (not through
# make) should read as cleanly as `make synth`. Must be set before aws_cdk starts its node process.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

from selector.deployments import load_deployments, resolve_all  # noqa: E402 (after the env default above)
from selector.errors import SelectorError
from selector.review import write_report
from stacks.lmi_endpoint_stack import LmiEndpointStack
from stacks.nag import register

DEFAULT_DEPLOYMENTS = "deployments/default.yaml"


def build_app(deployments_file: str | None = None, app: cdk.App | None = None) -> cdk.App:
    """Resolve every deployment first (bad input raises before any stack exists), then build the stacks
    and write the review report (plan.md, plan.json) into the app's output folder."""
    app = app or cdk.App()
    path = deployments_file or app.node.try_get_context("deployments") or DEFAULT_DEPLOYMENTS
    parsed = load_deployments(path)
    resolved = resolve_all(parsed)
    register(app)
    write_report(resolved, app.outdir)
    for item in resolved:
        env = cdk.Environment(account=item.deployment.account, region=item.deployment.region) \
            if item.deployment.region or item.deployment.account else None
        LmiEndpointStack(app, item, env=env)
    if parsed.pipeline is not None:
        from stacks.pipeline_stack import PipelineStack, probe_findings  # CDK Pipelines: imported only when used

        PipelineStack(app, parsed, path, probe_findings(parsed, path))
    return app


def main() -> None:
    try:
        app = build_app()
    except SelectorError as error:
        print(f"error: {error.paragraph()}", file=sys.stderr)
        sys.exit(2)
    app.synth()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CDK entry point: every deployment of the file named by context `deployments` becomes one stack.

All deployments are resolved before any stack is built, so bad input exits 2 with one paragraph. The whole
synth is one transaction on the output folder (stacks/_private/assembly.py): it runs in a private staging
folder under a lock, and the assembly, its assets and the review report (plan.md, plan.json) reach the output
folder only when cdk-nag passed, no construct reported an error and no template holds a foreign dynamic
reference. A failed synth, run by `make synth` or by hand (`npx cdk synth -c deployments=FILE`), leaves no
template, asset, manifest or plan behind and exits 2.
"""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

# jsii prints a Node 20 end-of-life banner on every import of aws_cdk; `cdk synth` run by hand (not through
# make) should read as cleanly as `make synth`. Must be set before aws_cdk starts its node process.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

from selector.deployments import (  # noqa: E402
    ResolvedDeployment,
    load_deployments,
    pipeline_source_path,
    resolve_all,
    resolve_pools,
)
from selector.errors import SelectorError  # noqa: E402
from selector.review import ReportSource, write_report  # noqa: E402
from stacks._private import assembly  # noqa: E402
from stacks._private.guard import refuse_values  # noqa: E402
from stacks.lmi_endpoint_stack import LmiEndpointStack  # noqa: E402
from stacks.nag import register  # noqa: E402

DEFAULT_DEPLOYMENTS = "deployments/default.yaml"


@dataclass(frozen=True)
class Built:
    app: cdk.App
    resolved: list[ResolvedDeployment]
    deployments_file: str = DEFAULT_DEPLOYMENTS
    pools: tuple = ()  # selector.pools.plan.PoolPlan of each shared endpoint
    pool_members: tuple = ()  # the deployments on shared endpoints

    def own_dynamic_references(self) -> set[str]:
        """The only dynamic references the project writes: the Hugging Face token secret of each deployment
        (stacks/lmi_endpoint.py, from an ARN the input boundary validated)."""
        deployments = [item.deployment for item in self.resolved] + list(self.pool_members)
        return {f"{{{{resolve:secretsmanager:{d.hf_token_secret_arn}:SecretString:::}}}}"
                for d in deployments if d.hf_token_secret_arn}


def build(deployments_file: str | None = None, app: cdk.App | None = None) -> Built:
    """Resolve every deployment first (bad input raises before any stack exists), then build the stacks."""
    app = app or cdk.App()
    path = deployments_file or app.node.try_get_context("deployments") or DEFAULT_DEPLOYMENTS
    parsed = load_deployments(path)
    resolved = resolve_all(parsed)
    pools = resolve_pools(parsed)
    register(app)
    for item in resolved:
        env = cdk.Environment(account=item.deployment.account, region=item.deployment.region) \
            if item.deployment.region or item.deployment.account else None
        LmiEndpointStack(app, item, env=env)
    members = [d for d in parsed.deployments if d.endpoint is not None]
    if pools:
        from stacks.shared_endpoint_stack import SharedEndpointStack  # imported only when a file has pools

        for pool in pools:
            on_pool = [d for d in members if d.endpoint == pool.name]
            first = on_pool[0]
            env = cdk.Environment(account=first.account, region=first.region) if first.region or first.account else None
            SharedEndpointStack(app, pool, on_pool, env=env)
    if parsed.pipeline is not None:
        # These strings reach the pipeline's templates (source, synth step environment): same guard as deployments.
        refuse_values(parsed.pipeline.model_dump(mode="json"), "pipeline")
        source_path = pipeline_source_path(parsed, path)  # what the build's checkout has: repo-relative
        refuse_values(source_path, "deployments file path")
        from stacks.pipeline_stack import PipelineStack, probe_findings  # CDK Pipelines: imported only when used

        PipelineStack(app, parsed, source_path, probe_findings(parsed, source_path))
    return Built(app, resolved, str(path), tuple(pools), tuple(members))


def build_app(deployments_file: str | None = None, app: cdk.App | None = None) -> cdk.App:
    """The app with every stack, unsynthesized (tests and library users); `synthesize` is the checked path."""
    return build(deployments_file, app).app


def _checked_synth(built: Built, staging: Path, outdir: Path) -> None:
    try:
        built.app.synth()
    except RuntimeError:  # jsii "ValidationFailed" when a policy validation plugin (cdk-nag) reports errors
        if not assembly.validation_failures(staging):
            raise
    # Read the report whether or not synth raised: under the CDK CLI, policy validation failures are recorded
    # for the CLI to print, and synth returns normally with the complete assembly written.
    failures = assembly.validation_failures(staging)
    if failures:
        raise assembly.refuse_validation(outdir, failures)
    errors = assembly.error_annotations(staging)
    if errors:
        raise assembly.refuse_annotations(outdir, errors)
    foreign = assembly.foreign_dynamic_references(staging, built.own_dynamic_references())
    if foreign:
        raise assembly.refuse_references(outdir, foreign)


def source_commit() -> str:
    """The commit the deployments file was read at: CI's own variable, else git's HEAD, else unnamed."""
    for variable in ("CODEBUILD_RESOLVED_SOURCE_VERSION", "GITHUB_SHA", "CI_COMMIT_SHA"):
        value = os.environ.get(variable, "")
        if value.isascii() and value.isalnum() and 7 <= len(value) <= 64:
            return value[:12]
    try:
        done = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True, text=True, timeout=5,
                              check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    head = done.stdout.strip()
    return head if done.returncode == 0 and head.isascii() and head.isalnum() else ""


def report_inputs(built: Built) -> tuple[ReportSource, dict | None]:
    """plan.md names its source file and commit; with context `base_plan` (a base branch's plan.json, e.g.
    `make synth BASE=main-plan.json`) it opens with what changed against it."""
    from selector.plan_diff import load_report

    base_path = built.app.node.try_get_context("base_plan")
    base = None
    if base_path:
        if not isinstance(base_path, str):
            raise SelectorError("context base_plan", base_path, "must be the path of a plan.json",
                                "Pass -c base_plan=path/to/plan.json")
        base = load_report(base_path)
    label = built.app.node.try_get_context("base_label") or (base_path or "")
    return ReportSource(built.deployments_file, source_commit(), str(label)), base


def synthesize(outdir: Path, deployments_file: str | None = None) -> None:
    """Synthesize into `outdir` as one transaction: all of the checked assembly and plan, or nothing."""
    outdir = Path(outdir)
    with assembly.exclusive(outdir):
        staging = assembly.staging_dir(outdir)
        real_stderr, captured = sys.stderr, io.TextIOWrapper(io.BytesIO(), write_through=True)
        # cdk-nag's console report would bury the one paragraph a failed synth owes the user: hold what the
        # CDK process prints and show it only when the synth succeeds.
        sys.stderr = captured
        succeeded = False
        try:
            built = build(deployments_file, cdk.App(outdir=str(staging)))
            _checked_synth(built, staging, outdir)
            source, base = report_inputs(built)
            write_report(built.resolved, staging, source, base, pools=built.pools)  # the review report exists only for a checked assembly
            assembly.publish(staging, outdir)
            succeeded = True
        except (SelectorError, assembly.SynthRefused):
            assembly.clear(outdir)
            raise
        except BaseException:
            assembly.clear(outdir)
            succeeded = True  # an unexpected failure: keep CDK's own output for the bug report
            raise
        finally:
            sys.stderr = real_stderr
            if succeeded:
                real_stderr.buffer.write(captured.buffer.getvalue())
                real_stderr.flush()
            shutil.rmtree(staging, ignore_errors=True)


def main() -> None:
    # The CDK CLI names the output folder in CDK_OUTDIR; run alone, the app writes a fresh temp folder (as cdk.App).
    outdir = Path(os.environ.get("CDK_OUTDIR") or tempfile.mkdtemp(prefix="cdk.out."))
    try:
        synthesize(outdir)
    except SelectorError as error:
        print(f"error: {error.paragraph()}", file=sys.stderr)
        sys.exit(2)
    except assembly.SynthRefused as error:
        print(f"error: {error.paragraph()}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

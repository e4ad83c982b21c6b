"""PipelineStack: CDK Pipelines delivery of every endpoint to each environment of the `pipeline:` section.

Source (CodeConnections or CodeCommit) -> `make synth` (the README's main job) -> one stage per environment,
a manual approval before any production stage, and `python -m provision verify` after each stack deploys.
"""
from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_codecommit as codecommit
from aws_cdk import aws_codepipeline as codepipeline
from aws_cdk import pipelines
from constructs import Construct

from selector import aws_names
from selector.deployments import DeploymentsFile, Pipeline, PipelineStage, resolve_for_stage
from selector.errors import SelectorError
from stacks.lmi_endpoint_stack import LmiEndpointStack, stack_name
from stacks.nag import acknowledge_pipeline_findings, pipeline_findings, register

PIPELINE_STACK = "lmi-pipeline"
SYNTH_COMMANDS = ["make synth DEPLOYMENTS=$DEPLOYMENTS_FILE"]
VERIFY_ROLE_NAME = "lmi-endpoints-verify"  # created in each stage account; see README "Deploying from a pipeline"


class EndpointStage(cdk.Stage):
    """All endpoints of the file, planned for this stage's account and region."""

    def __init__(self, scope: Construct, stage: PipelineStage, parsed: DeploymentsFile) -> None:
        super().__init__(scope, stage.name, env=cdk.Environment(account=stage.account, region=stage.region))
        self.endpoint_names = []
        for item in resolve_for_stage(parsed, stage):
            LmiEndpointStack(self, item)
            self.endpoint_names.append(item.endpoint_name)


def _source(scope: Construct, config: Pipeline) -> pipelines.CodePipelineSource:
    if config.connection_arn:
        return pipelines.CodePipelineSource.connection(config.repository, config.branch,
                                                       connection_arn=config.connection_arn)
    repository = codecommit.Repository.from_repository_name(scope, "Repository", config.repository)
    return pipelines.CodePipelineSource.code_commit(repository, config.branch)


class PipelineStack(cdk.Stack):
    def __init__(self, scope: Construct, parsed: DeploymentsFile, deployments_file: str,
                 findings: Sequence[str] = ()) -> None:
        config = parsed.pipeline
        assert config is not None
        super().__init__(scope, PIPELINE_STACK,
                         env=cdk.Environment(account=config.account, region=config.region),
                         description=f"CDK pipeline delivering the LMI endpoints of {deployments_file}")
        self.pipeline = pipelines.CodePipeline(
            self, "Pipeline",
            pipeline_name="lmi-endpoints",
            # V2 (what CDK recommends, and what the defaultPipelineTypeToV2 flag in cdk.json selects): pay per
            # action-minute instead of per pipeline-month, and no "V1 pipeline type is implicitly selected" warning.
            pipeline_type=codepipeline.PipelineType.V2,
            cross_account_keys=True,
            enable_key_rotation=True,
            synth=pipelines.ShellStep(
                "Synth",
                input=_source(self, config),
                env={"DEPLOYMENTS_FILE": deployments_file},
                commands=SYNTH_COMMANDS,
                primary_output_directory="cdk.out",
            ),
        )
        for stage_config in config.stages:
            stage = EndpointStage(self, stage_config, parsed)
            pre = [pipelines.ManualApprovalStep(f"Approve-{stage_config.name}",
                                                comment=f"Deploy LMI endpoints to production stage {stage_config.name}")] \
                if stage_config.production else []
            partition = aws_names.partition_of(stage_config.region) or "aws"  # validate keeps one partition
            verify_role = f"arn:{partition}:iam::{stage_config.account}:role/{VERIFY_ROLE_NAME}"
            verify = [
                pipelines.CodeBuildStep(
                    f"Verify-{name}",
                    install_commands=["pip install --require-hashes -r requirements.lock"],
                    commands=[f"python -m provision verify --stack {stack_name(name)} --region {stage_config.region} "
                              f"--role-arn {verify_role}"],
                    role_policy_statements=[iam.PolicyStatement(actions=["sts:AssumeRole"], resources=[verify_role])],
                )
                for name in stage.endpoint_names
            ]
            self.pipeline.add_stage(stage, pre=pre, post=verify)
        self.pipeline.build_pipeline()
        acknowledge_pipeline_findings(self, list(findings))
        stage_of_self = cdk.Stage.of(self)
        assert stage_of_self is not None  # a Stack always lives in a Stage (the App at least)
        for support in stage_of_self.node.children:  # cross-region replication stacks CDK Pipelines adds
            if isinstance(support, cdk.Stack) and support.node.id.startswith("cross-region-stack-"):
                acknowledge_pipeline_findings(support, list(findings))


def probe_findings(parsed: DeploymentsFile, deployments_file: str) -> list[str]:
    """Synthesize the pipeline once, unacknowledged, to learn the exact ids of CDK Pipelines' own findings.

    Validate refuses what is known to break this stack (reserved stage names, CloudFormation's resource limit);
    anything else CDK refuses here still ends in one located paragraph, never a jsii traceback."""
    with tempfile.TemporaryDirectory() as outdir:
        report_path = Path(outdir) / "validation-report.json"
        failure = None
        try:
            probe = cdk.App(outdir=outdir)
            register(probe)
            PipelineStack(probe, parsed, deployments_file)
            with contextlib.redirect_stderr(io.StringIO()):  # the probe's report is read below, not printed
                probe.synth()
        except RuntimeError as error:  # jsii's ValidationFailed: the findings are in the report; else CDK refused
            failure = error
        try:
            report = json.loads(report_path.read_text())
        except (OSError, ValueError):
            if failure is None:
                return []  # synthesized without a policy report: no findings to acknowledge
            raise _refusal(parsed, deployments_file, failure) from None
    return pipeline_findings(report)


def _refusal(parsed: DeploymentsFile, deployments_file: str, error: Exception) -> SelectorError:
    """CDK's own message (its first line: jsii appends the JavaScript stack) as a paragraph on the pipeline."""
    first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
    line = column = None
    if parsed.marks is not None:
        _, mark = parsed.marks.find(("pipeline",))
        line, column = mark if mark else (None, None)
    return SelectorError("pipeline", f"{len(parsed.pipeline.stages) if parsed.pipeline else 0} stages",
                         f"CDK cannot synthesize the lmi-pipeline stack: {first[:400]}",
                         "Fewer deployments or stages per file, or stage names other than CDK Pipelines' own; "
                         "`python -m selector validate FILE` checks the known limits",
                         file=parsed.marks.file if parsed.marks is not None else deployments_file,
                         line=line, column=column)

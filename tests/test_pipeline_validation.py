"""The `pipeline:` section is refused at validate when the lmi-pipeline stack could not be built from it.

Each refusal is held against what aws-cdk-lib itself does when the check is bypassed: the reserved stage names
really collide, the resource bound really keeps the stack under CloudFormation's 500, and whatever CDK refuses
still ends in one located paragraph (probe_findings), never a jsii traceback.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml

import app as app_module
from selector import aws_names
from selector.deployments import (
    MAX_ENDPOINT_STAGES,
    MAX_STACK_RESOURCES,
    RESERVED_STAGE_NAMES,
    DeploymentsFile,
    check_file,
    load_deployments,
    parse_deployments,
    pipeline_source_path,
)
from selector.errors import SelectorError
from stacks.pipeline_stack import PipelineStack, probe_findings

ROOT = Path(__file__).resolve().parent.parent
CONNECTION = "arn:aws:codeconnections:us-east-1:111122223333:connection/0123abcd-0123-4567-89ab-0123456789ab"
STAGE_REGIONS = ["us-west-2", "eu-west-1", "us-east-2", "eu-central-1", "ap-southeast-2"]


def document(endpoints: int = 1, stages: int = 1, region: str = "us-east-1",
             stage_regions: list[str] | None = None) -> dict[str, Any]:
    """A deployments file with a pipeline; stage i in its own account, so (account, region) pairs stay unique."""
    regions = stage_regions or [STAGE_REGIONS[i % len(STAGE_REGIONS)] for i in range(stages)]
    pipeline: dict[str, Any] = {
        "account": "111122223333", "region": region, "repository": "example-org/llm-endpoints",
        "stages": [{"name": f"stage{i}", "account": f"{444455556600 + i}", "region": r} for i, r in enumerate(regions)]}
    if region.startswith("us-east") or region.startswith("us-west"):
        pipeline["connection_arn"] = CONNECTION
    else:
        pipeline["repository"] = "llm-endpoints"  # CodeCommit: the connection ARN above is us-east-1's
    return {"deployments": [{"name": f"m{i}", "model": "mistralai/Mistral-7B-v0.1", "max_input_tokens": 2048,
                             "max_output_tokens": 512} for i in range(endpoints)], "pipeline": pipeline}


def write(tmp: Path, doc: dict[str, Any], name: str = "pipeline.yaml") -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def in_repo(doc: dict[str, Any]) -> Path:
    """A file inside the repository (the pipeline's synth step reads it from the source checkout)."""
    folder = Path(tempfile.mkdtemp(dir=ROOT / "tests", prefix=".pipeline-validation-"))
    return write(folder, doc)


@pytest.fixture
def repo_file() -> Iterator[Callable[[dict[str, Any]], Path]]:
    made: list[Path] = []

    def make(doc: dict[str, Any]) -> Path:
        path = in_repo(doc)
        made.append(path)
        return path

    yield make
    for path in made:
        path.unlink()
        path.parent.rmdir()


def refusal(doc: dict[str, Any]) -> SelectorError:
    with pytest.raises(SelectorError) as info:
        parse_deployments(doc, source="deployments file")
    return info.value


def bypassed(doc: dict[str, Any], **stage_names: str) -> DeploymentsFile:
    """The parsed file with stage names set past validation, as if the check did not exist."""
    parsed = parse_deployments(doc)
    assert parsed.pipeline is not None
    stages = [s.model_copy(update={"name": stage_names.get(s.name, s.name)}) for s in parsed.pipeline.stages]
    return parsed.model_copy(update={"pipeline": parsed.pipeline.model_copy(update={"stages": stages})})


def pipeline_resources(parsed: DeploymentsFile) -> int:
    app = cdk.App(outdir=tempfile.mkdtemp(), context={"@aws-cdk/core:stackResourceLimit": 100_000})
    PipelineStack(app, parsed, "deployments/x.yaml")
    return len(app.synth().get_stack_by_name("lmi-pipeline").template["Resources"])


# --- 1. stage names CDK Pipelines already uses ------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(RESERVED_STAGE_NAMES))
def test_reserved_stage_name_is_refused_at_validate(name):
    doc = document(stages=2)
    doc["pipeline"]["stages"][1]["name"] = name
    error = refusal(doc)
    assert error.field == "pipeline.stages[1].name" and error.value == name
    assert "CDK Pipelines already names" in error.problem and "Rename the stage" in error.hint


@pytest.mark.parametrize("name", sorted(RESERVED_STAGE_NAMES - {"BootstrapVersion"}))
def test_reserved_stage_name_really_collides_in_cdk_and_the_probe_says_so_in_a_paragraph(name):
    """aws-cdk-lib agrees that each reserved name breaks the stack; the probe turns its refusal into a paragraph."""
    doc = document(stages=1)
    if name in ("Repository", "EventsRole"):  # only a CodeCommit source creates these ids
        doc["pipeline"].pop("connection_arn")
        doc["pipeline"]["repository"] = "llm-endpoints"
    parsed = bypassed(doc, stage0=name)
    with pytest.raises(SelectorError) as info:
        probe_findings(parsed, "deployments/x.yaml")
    paragraph = info.value.paragraph()
    assert paragraph.startswith("deployments/x.yaml: pipeline = ")
    assert "CDK cannot synthesize the lmi-pipeline stack" in paragraph
    assert "Traceback" not in paragraph and "\n" not in paragraph


def test_a_stage_named_bootstrapversion_silently_drops_the_bootstrap_check():
    """No error from CDK, but the pipeline stack loses its BootstrapVersion parameter and CheckBootstrapVersion
    rule (the synthesizer finds the stage under that id): reserved all the same."""
    app = cdk.App(outdir=tempfile.mkdtemp())
    PipelineStack(app, bypassed(document(stages=1), stage0="BootstrapVersion"), "deployments/x.yaml")
    template = app.synth().get_stack_by_name("lmi-pipeline").template
    assert "BootstrapVersion" not in template.get("Parameters", {})
    assert "BootstrapVersion" in pipeline_parameters(document(stages=1))


def pipeline_parameters(doc: dict[str, Any]) -> dict[str, Any]:
    app = cdk.App(outdir=tempfile.mkdtemp())
    PipelineStack(app, parse_deployments(doc), "deployments/x.yaml")
    return app.synth().get_stack_by_name("lmi-pipeline").template.get("Parameters", {})


@pytest.mark.parametrize("name", ["pipeline", "build", "source", "assets", "updatepipeline", "PIPELINE"])
def test_other_cases_of_reserved_names_pass_because_cdk_compares_ids_case_sensitively(name):
    doc = document(stages=1)
    doc["pipeline"]["stages"][0]["name"] = name
    assert parse_deployments(doc).pipeline is not None


def test_lowercase_reserved_names_really_synthesize():
    assert pipeline_resources(parse_deployments(document(stages=2) | {"pipeline": {
        **document(stages=2)["pipeline"],
        "stages": [{"name": "build", "account": "444455556600", "region": "us-west-2"},
                   {"name": "pipeline", "account": "444455556601", "region": "eu-west-1"}]}})) > 0


@pytest.mark.parametrize("name", sorted(RESERVED_STAGE_NAMES))
def test_reserved_stage_name_through_the_checked_synth_leaves_nothing(name, tmp_path, repo_file):
    doc = document(stages=2)
    doc["pipeline"]["stages"][0]["name"] = name
    source = repo_file(doc)
    outdir = tmp_path / "cdk.out"
    with pytest.raises(SelectorError) as info:
        app_module.synthesize(outdir, str(source))
    assert info.value.field == "pipeline.stages[0].name"
    assert info.value.problems[0].line is not None and info.value.problems[0].column is not None
    assert not outdir.exists() or list(outdir.iterdir()) == []


def test_reserved_stage_name_through_cdk_synth_process_exits_2_with_one_paragraph(tmp_path, repo_file):
    """The real entry point (what `cdk synth` runs): exit 2, FILE:LINE:COL paragraph, no traceback, empty outdir."""
    doc = document(stages=2)
    doc["pipeline"]["stages"][1]["name"] = "Pipeline"
    source = repo_file(doc)
    outdir = tmp_path / "cdk.out"
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "PYTHONPATH": str(ROOT),
           "CDK_CONTEXT_JSON": json.dumps({"deployments": str(source.relative_to(ROOT))})}
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    relative = str(source.relative_to(ROOT))
    lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and lines[0].startswith(f"error: {relative}:")
    assert "pipeline.stages[1].name = 'Pipeline'" in lines[0]
    assert not outdir.exists() or list(outdir.iterdir()) == []


# --- 2. CloudFormation's 500 resources per stack ------------------------------------------------------------------

@pytest.mark.parametrize("endpoints,stages,refused", [
    (1, 1, False),
    (MAX_ENDPOINT_STAGES, 1, False),
    (MAX_ENDPOINT_STAGES + 1, 1, True),
    (50, 3, False),
    (51, 3, True),
    (3, 50, False),
    (4, 50, True),
    (200, 3, True),   # the reviewer's file: crashed synth after 27 s
    (200, 50, True),  # ran for minutes
])
def test_endpoints_times_stages_bound(endpoints, stages, refused):
    doc = document(endpoints, stages)
    if not refused:
        assert parse_deployments(doc).pipeline is not None
        return
    error = refusal(doc)
    assert error.field == "pipeline.stages" and error.value == f"{stages} stages"
    assert f"more than CloudFormation's {MAX_STACK_RESOURCES} per stack" in error.problem
    assert f"at most {MAX_ENDPOINT_STAGES}" in error.problem


def test_traffic_lists_count_as_endpoints():
    """`traffic: [even, uneven]` makes two endpoints (two stacks) per deployment, so two verify steps per stage."""
    doc = document(76, 1)
    for deployment in doc["deployments"]:
        deployment["traffic"] = ["even", "uneven"]
    error = refusal(doc)
    assert error.field == "pipeline.stages" and "with 152 endpoints" in error.problem


def test_the_limit_and_its_source_are_data():
    limits = aws_names.limits()["pipeline_stack"]
    assert limits["max_resources"] == MAX_STACK_RESOURCES == 500
    assert "cloudformation-limits.html" in limits["source"]


@pytest.mark.parametrize("endpoints,stages", [(MAX_ENDPOINT_STAGES, 1), (3, 50)])
def test_the_bound_keeps_the_real_pipeline_stack_under_500(endpoints, stages):
    """Measured against aws-cdk-lib: the largest files validate accepts synthesize under CloudFormation's limit."""
    assert pipeline_resources(parse_deployments(document(endpoints, stages))) <= MAX_STACK_RESOURCES


def test_probe_turns_too_many_resources_into_a_paragraph(monkeypatch):
    """Past validate (a looser bound), CDK's TooManyResourcesInStack is a paragraph, not a FileNotFoundError."""
    import selector.deployments as deployments

    monkeypatch.setattr(deployments, "MAX_ENDPOINT_STAGES", 10_000)
    parsed = parse_deployments(document(170, 1))
    with pytest.raises(SelectorError) as info:
        probe_findings(parsed, "deployments/x.yaml")
    assert "TooManyResourcesInStack" in info.value.problem
    assert "\n" not in info.value.paragraph()


def test_a_too_large_file_is_refused_by_validate_in_seconds(tmp_path):
    _, problems = check_file(str(write(tmp_path, document(200, 50))))
    assert [p.field for p in problems if "CloudFormation" in p.problem] == ["pipeline.stages"]


# --- 3. one partition ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("home,stage_regions,refused_index", [
    ("us-east-1", ["us-west-2", "cn-north-1"], 1),
    ("us-gov-west-1", ["us-gov-east-1", "us-west-2"], 1),
    ("us-west-2", ["us-gov-west-1"], 0),
    ("cn-north-1", ["cn-northwest-1"], None),
    ("us-gov-west-1", ["us-gov-east-1"], None),
    ("us-east-1", ["eu-west-1", "ap-southeast-2"], None),
])
def test_stages_stay_in_the_pipeline_partition(home, stage_regions, refused_index):
    doc = document(region=home, stage_regions=stage_regions)
    if refused_index is None:
        assert parse_deployments(doc).pipeline is not None
        return
    error = refusal(doc)
    assert error.field == f"pipeline.stages[{refused_index}].region"
    assert error.value == stage_regions[refused_index]
    assert f"the pipeline runs in {home} ({aws_names.partition_of(home)})" in error.problem


# --- 4. the deployments file path the synth step reads -----------------------------------------------------------

def test_a_file_inside_the_repository_is_named_relative_to_it():
    fixture = ROOT / "tests/fixtures/deployments/pipeline.yaml"
    parsed = load_deployments(str(fixture))
    assert pipeline_source_path(parsed, str(fixture), ROOT) == "tests/fixtures/deployments/pipeline.yaml"
    assert pipeline_source_path(parsed, "tests/fixtures/deployments/pipeline.yaml", ROOT) == \
        "tests/fixtures/deployments/pipeline.yaml"


def test_a_file_outside_the_repository_is_refused_at_validate_and_synth(tmp_path):
    source = write(tmp_path, document())
    _, problems = check_file(str(source))
    (problem,) = [p for p in problems if p.field == "pipeline"]
    assert problem.file == str(source) and problem.line is not None
    assert "outside the repository" in problem.problem
    outdir = tmp_path / "cdk.out"
    with pytest.raises(SelectorError) as info:
        app_module.synthesize(outdir, str(source))
    assert info.value.field == "pipeline" and "outside the repository" in info.value.problem
    assert not outdir.exists() or list(outdir.iterdir()) == []


# --- minor: a pinned account or region is not silently overridden -------------------------------------------------

@pytest.mark.parametrize("where,key,value,field", [
    ("deployment", "region", "us-west-2", "deployments[m0].region"),
    ("deployment", "account", "444455556666", "deployments[m0].account"),
    ("defaults", "region", "eu-west-1", "defaults.region"),
])
def test_pinned_account_or_region_is_refused_with_a_pipeline(where, key, value, field, tmp_path):
    doc = document(stages=2)
    if where == "defaults":
        doc = {"defaults": {key: value}, **doc}
    else:
        doc["deployments"][0][key] = value
    _, problems = check_file(str(write(tmp_path, doc)))
    pinned = [p for p in problems if "decided by each pipeline stage" in p.problem]
    assert [(p.field, p.value) for p in pinned][:1] == [(field, value)]
    assert all(p.line is not None for p in pinned)

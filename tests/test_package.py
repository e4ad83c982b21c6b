"""The package as another project gets it: the `lmi-endpoints` command, and a wheel that carries its own
templates and catalogs, installed into a fresh venv, serving a CDK app outside this repository
(examples/consumer_app); plus the CDK hygiene of the shipped apps (feature flags, no synth warnings)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

import lmi_endpoints_cli
from lmi_endpoints_cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "lmi-endpoints"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SOURCES = ["selector", "stacks", "templates", "provision", "lmi_endpoints_cli.py", "pyproject.toml", "README.md"]
installed = pytest.mark.skipif(not SCRIPT.exists(), reason=f"{SCRIPT} missing: install the package (`make test` does)")


def test_one_command_lists_every_subcommand_and_each_has_help():
    assert set(COMMANDS) == {"plan", "render", "validate", "schema", "catalog", "rules", "preflight", "deploy",
                             "verify", "destroy", "prices"}
    result = CliRunner().invoke(cli, ["-h"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in result.output
        for flag in ("-h", "--help"):
            sub = CliRunner().invoke(cli, [name, flag])
            assert sub.exit_code == 0, (name, sub.output)
            assert sub.output.startswith(f"Usage: cli {name} ")
    assert CliRunner().invoke(cli, ["nope"]).exit_code == 2


def test_subcommands_are_the_existing_clis():
    """Delegation, not a copy: plan runs the selector, deploy runs provision (exit codes included)."""
    out = CliRunner().invoke(cli, ["plan", "--model", "meta-llama/Llama-2-13b-hf", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["instance_type"].startswith("ml.")
    out = CliRunner().invoke(cli, ["deploy", "--app", "/nonexistent/cdk.out", "--stack", "x"])
    assert out.exit_code == 2 and "no cloud assembly at /nonexistent/cdk.out" in out.output


def test_help_does_not_import_boto3_or_the_planner():
    code = ("import sys, lmi_endpoints_cli as m; from click.testing import CliRunner; "
            "CliRunner().invoke(m.cli, ['-h']); print(sorted(n for n in ('boto3', 'selector.resolve', 'aws_cdk') "
            "if n in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


@installed
def test_console_script_version_and_completion():
    done = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == f"lmi-endpoints {PYPROJECT['project']['version']}\n"
    env = {**os.environ, "_LMI_ENDPOINTS_COMPLETE": "bash_complete", "COMP_WORDS": "lmi-endpoints de", "COMP_CWORD": "1"}
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["plain,deploy", "plain,destroy"]
    env["_LMI_ENDPOINTS_COMPLETE"] = "zsh_source"
    done = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)
    assert "#compdef lmi-endpoints" in done.stdout
    assert PYPROJECT["project"]["scripts"] == {"lmi-endpoints": "lmi_endpoints_cli:main"}


UV = Path(sys.executable).parent / "uv"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (the checkout stays clean)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, src / name)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--disable-pip-version-check", "-q", "-w", str(work / "dist"), str(src)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    (built,) = (work / "dist").glob("lmi_endpoints-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install lmi-endpoints` into a new, empty venv: the wheel and its dependencies (at the locked versions,
    from uv's cache that `make` filled: no network), nothing of this checkout on sys.path."""
    if not UV.exists():
        pytest.skip(f"{UV} missing: the locked installer comes with `make test`")
    venv = tmp_path_factory.mktemp("venv") / "consumer"
    for command in ([str(UV), "venv", "-q", "--python", sys.executable, str(venv)],
                    [str(UV), "pip", "install", "-q", "--offline", "--python", str(venv / "bin" / "python"), str(wheel),
                     "-c", str(ROOT / "requirements.lock")]):
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=venv.parent)
        assert done.returncode == 0, done.stderr[-3000:]
    return venv


def test_wheel_carries_templates_catalogs_and_the_entry_point(wheel: Path):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/entry_points.txt"))
    for relative in ("templates/vllm.properties.j2", "templates/_header.j2", "selector/data/images.json",
                     "selector/data/instances.json", "selector/rules/tp_divides_heads.py", "stacks/_private/policy.py",
                     "provision/cdk_cli.py", "lmi_endpoints_cli.py", "selector/py.typed", "stacks/py.typed"):
        assert relative in names, relative
    assert "lmi-endpoints = lmi_endpoints_cli:main" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "bench/", "examples/"))]


def test_fresh_venv_gets_a_working_command(fresh_venv: Path, tmp_path: Path):
    command = fresh_venv / "bin" / "lmi-endpoints"
    done = subprocess.run([str(command), "--version"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.stdout == f"lmi-endpoints {PYPROJECT['project']['version']}\n", done.stderr
    done = subprocess.run([str(command), "render", "--model", "google/flan-t5-xl"], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# serving.properties"), "templates are read from the installed package"


def test_consumer_app_synthesizes_in_a_fresh_venv_outside_the_repository(fresh_venv: Path, tmp_path: Path):
    """examples/consumer_app, copied away from the checkout, with the fresh venv's python: imports from the wheel."""
    app_dir = Path(shutil.copytree(ROOT / "examples" / "consumer_app", tmp_path / "consumer_app"))
    python = str(fresh_venv / "bin" / "python")
    out = tmp_path / "cdk.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CDK_", "PYTHON"))}
    context = json.loads((app_dir / "cdk.json").read_text())["context"]  # what `cdk synth` there would pass
    env.update(CDK_OUTDIR=str(out), JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
               AWS_EC2_METADATA_DISABLED="true", CDK_CONTEXT_JSON=json.dumps(context))
    probe = "import selector, stacks, templates, selector.render as r; print(selector.__file__, stacks.__file__, r.TEMPLATE_DIR)"
    done = subprocess.run([python, "-c", probe], cwd=app_dir, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert all(p.startswith(str(fresh_venv)) for p in done.stdout.split()), done.stdout

    done = subprocess.run([python, "app.py"], cwd=app_dir, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stderr == "", "no warnings on the example's synth"
    template = json.loads((out / "chat-api.template.json").read_text())
    kinds = sorted({r["Type"] for r in template["Resources"].values()})
    assert {"AWS::SageMaker::Endpoint", "AWS::ApiGateway::Method", "AWS::CloudWatch::Alarm"} <= set(kinds)
    (method,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert "endpoints/chat-mistral-7b/invocations" in json.dumps(method["Properties"]["Integration"]["Uri"])
    manifest = json.loads((out / "manifest.json").read_text())
    levels = {m["type"] for a in manifest["artifacts"].values() for ms in a.get("metadata", {}).values() for m in ms}
    assert not levels & {"aws:cdk:warning", "aws:cdk:error"}, levels
    assert lmi_endpoints_cli.package_version() == PYPROJECT["project"]["version"]


RECOMMENDED = ROOT / "node_modules" / "aws-cdk" / "lib" / "init-templates" / ".recommended-feature-flags.json"
# The one recommended flag not taken: with it, Tags.of(stack) no longer tags the CloudFormation stack itself
# (only its resources), and LmiEndpointStack tags through Tags.of; see docs/performance.md "CDK hygiene".
NOT_TAKEN = {"@aws-cdk/core:explicitStackTags": False}


@pytest.mark.skipif(not RECOMMENDED.exists(), reason="the pinned CDK CLI is not installed (`npm ci`)")
@pytest.mark.parametrize("cdk_json,exceptions", [("cdk.json", NOT_TAKEN), ("examples/consumer_app/cdk.json", {})])
def test_cdk_json_has_what_cdk_init_writes_and_no_v1_flag(cdk_json: str, exceptions: dict):
    """`cdk init` of the pinned CLI writes its .recommended-feature-flags.json into cdk.json's context."""
    context = json.loads((ROOT / cdk_json).read_text())["context"]
    expected = {**json.loads(RECOMMENDED.read_text()), **exceptions}
    assert {k: v for k, v in context.items() if k != "deployments"} == expected
    assert "@aws-cdk/core:newStyleStackSynthesis" not in context  # v1 only; v2 always synthesizes that way


def test_pipeline_example_synthesizes_without_warnings(tmp_path: Path):
    """The shipped pipeline example (pipeline type V2, recommended flags): no warning or error annotation."""
    import aws_cdk as cdk

    from app import build_app

    build_app(str(ROOT / "deployments" / "pipeline-example.yaml"), cdk.App(outdir=str(tmp_path))).synth()
    found = []
    for manifest in tmp_path.rglob("manifest.json"):
        for artifact in json.loads(manifest.read_text())["artifacts"].values():
            for path, entries in artifact.get("metadata", {}).items():
                found += [(path, e["data"]) for e in entries if e["type"] in ("aws:cdk:warning", "aws:cdk:error")]
    for metadata in tmp_path.rglob("*.metadata.json"):
        for path, entries in json.loads(metadata.read_text()).items():
            found += [(path, e["data"]) for e in entries if e["type"] in ("aws:cdk:warning", "aws:cdk:error")]
    assert found == []
    pipeline = json.loads((tmp_path / "lmi-pipeline.template.json").read_text())
    (resource,) = [r for r in pipeline["Resources"].values() if r["Type"] == "AWS::CodePipeline::Pipeline"]
    assert resource["Properties"]["PipelineType"] == "V2"

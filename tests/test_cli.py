"""`python -m selector` as users run it: JSON contract, human output, exit code 2 with one paragraph.

Output checks run the click command in-process (`cli`, ~50 ms each); the exit-code contract runs the real
`python -m selector` entry point in a subprocess (no test runner between it and the traceback it must not print)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

PY = [sys.executable, "-m", "selector"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*PY, *args], capture_output=True, text=True, timeout=60)


def cli(*args: str) -> subprocess.CompletedProcess:
    """The same command in-process, returned in subprocess.run's shape."""
    from click.testing import CliRunner

    from selector.cli import main

    result = CliRunner().invoke(main, list(args), prog_name="python -m selector")
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


def test_plan_json():
    out = cli("plan", "--model", "meta-llama/Llama-2-13b-hf", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["backend"] == "vllm" and data["instance_type"] == "ml.g5.12xlarge"
    assert data["image_uri"].endswith("djl-inference:0.38.0-lmi29.0.0-cu130")


def test_plan_human_output_has_table_bar_and_reasons():
    out = cli("plan", "--model", "meta-llama/Llama-2-70b-hf", "--families", "g5,p4d,p4de")
    assert out.returncode == 0, out.stderr
    for fragment in ("ml.g5.48xlarge", "memory per device", "weights", "Why", "Rejected"):
        assert fragment in out.stdout


@pytest.mark.parametrize("args,fragment", [
    (["plan", "--model", "nope/not-a-model"], "model = 'nope/not-a-model'"),
    (["plan", "--model", "google/flan-t5-xl", "--backend", "vllm"], "backends that run it: lmi-dist, tensorrtllm"),
    (["plan", "--model", "meta-llama/Llama-2-7b-hf", "--families", "g5,h100"], "families = 'h100'"),
    (["plan", "--model", "meta-llama/Llama-2-7b-hf", "--max-input-tokens", "0"], "max_input_tokens = 0"),
    (["validate", "does/not/exist.yaml"], "no such file"),
])
def test_errors_exit_2_with_one_paragraph(args, fragment):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert out.stderr.startswith("error: ")
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0


def test_render_prints_serving_properties():
    out = cli("render", "--model", "google/flan-t5-xl", "--traffic", "even", "--max-input-tokens", "256",
              "--max-output-tokens", "128")
    assert out.returncode == 0
    assert "option.rolling_batch=trtllm" in out.stdout and out.stdout.startswith("# serving.properties")


@pytest.mark.parametrize("what,fragment", [("models", "meta-llama/Llama-2-70b-hf"), ("instances", "ml.inf2.48xlarge"),
                                           ("backends", "0.38.0-lmi29.0.0-cu130")])
def test_catalog_listing(what, fragment):
    out = cli("catalog", what)
    assert out.returncode == 0 and fragment in out.stdout


def test_rules_listing_comes_from_rule_files():
    out = cli("rules")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0].startswith(" 1. architecture_supported:")


def test_validate_and_schema():
    assert run("validate", "deployments/default.yaml", "--quiet").returncode == 0
    schema = json.loads(run("schema").stdout)
    assert "deployments" in schema["properties"]


@pytest.mark.parametrize("path", sorted(str(p) for p in __import__("pathlib").Path("deployments").glob("*.yaml")))
def test_bundled_deployment_files_validate(path):
    out = run("validate", path, "--quiet")
    assert out.returncode == 0, out.stderr

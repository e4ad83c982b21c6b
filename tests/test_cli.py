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


FIVE_MISTAKES = """\
deployments:
  - name: chat
    model: meta-llama/Meta-Llama-3-8B
    max_input_tokens: lots
  - name: Bad_Name
    model: meta-llama/Meta-Llama-3-8B
  - name: other
    model: meta-llama/Meta-Llama-3-8B
    instnce_type: ml.g5.2xlarge
    tags: {team: '{{resolve:ssm:/x}}'}
  - name: fourth
    model: meta-llama/Meta-Llama-3-8B
    backend: vllmm
"""


def test_validate_reports_every_problem_with_its_line(tmp_path):
    path = tmp_path / "five.yaml"
    path.write_text(FIVE_MISTAKES)
    out = run("validate", str(path))
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    located = [(line.split(":")[1], line.split(": ", 1)[1].split(" = ")[0]) for line in lines]
    assert located == [("4", "deployments[chat].max_input_tokens"), ("5", "deployments[Bad_Name].name"),
                       ("9", "deployments[other].instnce_type"), ("10", "deployments[other].tags.team"),
                       ("13", "deployments[fourth].backend")], out.stderr
    assert all(line.startswith(f"{path}:") for line in lines)
    assert "Did you mean instance_type?" in lines[2] and "Did you mean vllm?" in lines[4]
    assert "pattern" not in out.stderr and "[a-z" not in out.stderr, "a raw regex reached the user"


def test_validate_json_lists_problems(tmp_path):
    path = tmp_path / "five.yaml"
    path.write_text(FIVE_MISTAKES)
    out = run("validate", str(path), "--json")
    assert out.returncode == 2
    data = json.loads(out.stdout)
    assert data["ok"] is False and data["file"] == str(path) and data["endpoints"] == []
    assert [p["line"] for p in data["problems"]] == [4, 5, 9, 10, 13]
    assert set(data["problems"][0]) == {"file", "line", "column", "field", "value", "problem", "hint"}
    ok = run("validate", "deployments/default.yaml", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True and json.loads(ok.stdout)["endpoints"]


def test_validate_missing_file_is_one_located_line():
    out = run("validate", "does/not/exist.yaml")
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    assert out.stderr == "does/not/exist.yaml: deployments file: no such file; Pass an existing YAML file, e.g. " \
                         "deployments/default.yaml.\n"

"""Deployments-file edges found by independent reviews.

Every stack the app builds has its own id: a file `validate` accepts never makes the CDK app fail on a duplicate
construct (a deployment named `pipeline` next to `pipeline:`, and a shared endpoint named like a deployment's
`-even` endpoint, passed `validate` and crashed `make synth`); option keys and values reach the container as
written, in either delivery.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from selector.cli import main
from selector.deployments import RESERVED_ENDPOINT_NAMES, STACK_PREFIX
from stacks.pipeline_stack import PIPELINE_STACK

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = (ROOT / "deployments" / "pipeline-example.yaml").read_text()
POOL_NEXT_TO_TRAFFIC_LIST = """
endpoints:
  x-even:
    instance_type: ml.g5.12xlarge
deployments:
  - name: x
    model: mistralai/Mistral-7B-v0.1
    traffic: [uneven, even]
    max_input_tokens: 2048
    max_output_tokens: 512
  - name: y
    model: mistralai/Mistral-7B-v0.1
    endpoint: x-even
"""


def validate(tmp_path: Path, text: str, *flags: str) -> tuple[Path, Any]:
    """`python -m selector validate [flags] FILE` on `text` written to a file: (the file, click's result)."""
    path = tmp_path / "deployments.yaml"
    path.write_text(text)
    return path, CliRunner().invoke(main, ["validate", *flags, str(path)], prog_name="python -m selector")


def test_reserved_names_are_the_app_stacks():
    assert {STACK_PREFIX + name for name in RESERVED_ENDPOINT_NAMES} == {PIPELINE_STACK}


@pytest.mark.parametrize("text,line,fragment", [
    pytest.param(PIPELINE.replace("name: chat", "name: pipeline"), 5, "would be named like the app's lmi-pipeline stack",
                 id="deployment-named-pipeline"),
    pytest.param(POOL_NEXT_TO_TRAFFIC_LIST, 3, "is also the endpoint name of deployment 'x'", id="pool-named-x-even"),
])
def test_validate_refuses_names_that_collide_in_the_app(tmp_path, text, line, fragment):
    path, result = validate(tmp_path, text)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert fragment in out and f"{path}:{line}:" in out
    assert "Traceback" not in result.output


def test_a_pool_accepts_families_all_like_a_deployment(tmp_path):
    text = (ROOT / "deployments" / "pool-example.yaml").read_text().replace("families: [g5]", "families: all")
    path, result = validate(tmp_path, text)
    assert result.exit_code == 0, result.output


def test_pipeline_is_a_free_name_without_a_pipeline_and_pool_members_may_share_the_pool_name(tmp_path):
    text = """
endpoints:
  chat:
    families: [g5]
deployments:
  - name: pipeline
    model: mistralai/Mistral-7B-v0.1
    max_input_tokens: 2048
    max_output_tokens: 512
  - name: chat
    model: mistralai/Mistral-7B-v0.1
    endpoint: chat
"""
    path, result = validate(tmp_path, text)
    assert result.exit_code == 0, result.output


def test_environment_delivery_refuses_keys_the_container_would_read_under_another_name(tmp_path):
    path, result = validate(tmp_path, "deployments:\n  - name: a\n    model: meta-llama/Meta-Llama-3-8B\n    delivery: environment\n"
                    "    options:\n      option.Enable_Lora: 'maybe'\n")
    assert result.exit_code == 2
    assert "reaches the container as 'option.enable_lora'" in " ".join(result.output.split())


@pytest.mark.parametrize("text,fragment", [
    # Java keeps trailing spaces; the NeuronX/TensorRT-LLM images' pydantic 2.6.1 refuses '4 ' for an int
    ("deployments:\n  - name: e1\n    model: mistralai/Mistral-7B-v0.1\n    options: {option.speculative_length: '4 '}\n",
     "starts or ends with spaces"),
    # vLLM would run TP x DP GPUs beside the plan's sizing
    ("deployments:\n  - name: d2\n    model: meta-llama/Meta-Llama-3-8B\n    options: {option.data_parallel_size: 2}\n",
     "the plan already sets this key"),
    # a pool member's options travel as OPTION_* variables of its component, lower-cased by the container
    ("endpoints: {pool: {families: [g5], min_instances: 1, max_instances: 2}}\ndeployments:\n"
     "  - {name: p3, endpoint: pool, model: meta-llama/Llama-3.1-8B, options: {option.enableLora: 'true'}}\n",
     "as an OPTION_* variable of its inference component"),
])
def test_option_edges_from_the_third_review(tmp_path, text, fragment):
    path, result = validate(tmp_path, text)
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())


def test_every_pool_member_that_fails_on_its_own_is_reported(tmp_path):
    path, result = validate(tmp_path, "endpoints: {pool: {families: [g5], min_instances: 1, max_instances: 2}}\ndeployments:\n"
                    "  - {name: p3, endpoint: pool, model: meta-llama/Llama-3.1-8B, options: {option.enable_lora: 'maybe'}}\n"
                    "  - {name: p4, endpoint: pool, model: meta-llama/Llama-3.1-8B, "
                    "options: {option.gpu_memory_utilization: '0.5'}}\n")
    assert result.exit_code == 2
    assert "deployments[p3].options.option.enable_lora" in result.output
    assert "deployments[p4].options.option.gpu_memory_utilization" in result.output


def test_every_bad_option_value_is_reported_at_its_own_line(tmp_path):
    path, result = validate(tmp_path, 'deployments:\n  - name: a\n    model: meta-llama/Llama-2-7b-hf\n    options:\n'
                    '      option.ok2: "line\\nbreak"\n      option.ok7: "\\\\"\n    max_input_tokens: -5\n')
    assert result.exit_code == 2
    for line, fragment in ((5, "option.ok2"), (6, "option.ok7"), (7, "max_input_tokens")):
        assert f"{path}:{line}:" in result.output and fragment in result.output


def test_validate_lists_shared_endpoints_too(tmp_path):
    text = (ROOT / "deployments" / "pool-example.yaml").read_text()
    _, shown = validate(tmp_path, text)
    assert shown.exit_code == 0 and "chat-pool (shared endpoint): 7 inference components" in shown.output  # 5 + 2 adapters
    _, listed = validate(tmp_path, text, "--json")
    assert "chat-pool" in listed.output


def test_adapters_own_the_lora_options(tmp_path):
    text = (ROOT / "deployments" / "pool-example.yaml").read_text().replace(
        "    max_input_tokens: 3072", "    options: {option.max_lora_rank: 64}\n    max_input_tokens: 3072")
    path, result = validate(tmp_path, text)
    assert result.exit_code == 2 and "is set by the plan from adapters" in " ".join(result.output.split())


def test_worker_counts_travel_as_the_variables_the_container_reads(tmp_path):
    from selector.delivery import to_environment

    assert to_environment({"minWorkers": "1", "maxWorkers": "2"}) == {"SERVING_MIN_WORKERS": "1",
                                                                      "SERVING_MAX_WORKERS": "2"}
    path, result = validate(tmp_path, "deployments:\n  - name: b\n    model: meta-llama/Meta-Llama-3-8B\n    delivery: environment\n"
                    "    options: {job_queue_size: 100}\n")
    assert result.exit_code == 2 and "has no environment variable the container reads" in result.output


def test_long_values_are_fine_in_a_tarball_and_refused_as_environment(tmp_path):
    long = "x" * 1500
    _, tarball = validate(tmp_path, f"deployments:\n  - name: t\n    model: meta-llama/Meta-Llama-3-8B\n"
                                    f"    options: {{option.chat_template: '{long}'}}\n")
    assert tarball.exit_code == 0
    _, result = validate(tmp_path, f"deployments:\n  - name: t\n    model: meta-llama/Meta-Llama-3-8B\n"
                                   f"    delivery: environment\n    options: {{option.chat_template: '{long}'}}\n")
    assert result.exit_code == 2 and "at most 1024" in result.output


def test_each_environment_key_problem_at_its_own_line_and_the_rest_still_checked(tmp_path):
    path, result = validate(tmp_path, "deployments:\n  - name: a\n    model: meta-llama/Meta-Llama-3-8B\n    delivery: environment\n"
                    "    options:\n      option.Foo_A: '1'\n      option.Bar_B: '2'\n    max_input_tokens: 999999\n")
    assert result.exit_code == 2
    for line in (6, 7, 8):
        assert f"{path}:{line}:" in result.output

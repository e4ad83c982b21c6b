"""`load:` and `slo:` in a deployments file reach the performance estimator (selector/request.py Load, Slo), and
their mistakes are reported like every other key: FILE:LINE:COL, the field, the value and what would work."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from selector.deployments import check_file, load_deployments, resolve_all
from selector.request import Load, Slo

REPO = Path(__file__).resolve().parent.parent
HEAD = "deployments:\n  - name: chat\n    model: meta-llama/Meta-Llama-3-8B\n"
GOOD = HEAD + """\
    max_input_tokens: 3072
    max_output_tokens: 1024
    load:
      requests_per_minute: 60
      mean_input_tokens: 800
      mean_output_tokens: 200
    slo:
      time_to_first_token_ms: 2000
      time_per_output_token_ms: 100
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "d.yaml"
    path.write_text(text)
    return path


def test_load_and_slo_reach_the_request_and_the_plan(tmp_path: Path) -> None:
    parsed = load_deployments(_write(tmp_path, GOOD))
    request = parsed.deployments[0].request("uneven")
    assert request.load == Load(60.0, 800, 200) and request.slo == Slo(2000.0, 100.0)
    assert isinstance(request.load.requests_per_minute, float)  # YAML 60 is an int: accepted for the float field
    plan = resolve_all(parsed)[0].plan
    assert plan.performance is not None
    assert plan.performance["requests_per_minute"] == 60.0 and plan.performance["input_tokens"] == 800
    assert plan.performance["instance_count"] >= 1 and plan.performance["usd_per_million_output_tokens_at_load"] > 0
    assert plan.performance["slo"] == {"time_to_first_token_ms": 2000.0, "time_per_output_token_ms": 100.0}
    assert plan.performance["time_per_output_token_ms"] <= 100


def test_without_load_or_slo_the_request_has_neither(tmp_path: Path) -> None:
    request = load_deployments(_write(tmp_path, HEAD)).deployments[0].request("uneven")
    assert request.load is None and request.slo is None


def test_one_target_is_enough(tmp_path: Path) -> None:
    parsed = load_deployments(_write(tmp_path, HEAD + "    slo: {time_per_output_token_ms: 80.5}\n"))
    assert parsed.deployments[0].request("uneven").slo == Slo(None, 80.5)


def test_slo_example_plans_the_fleet_it_deploys() -> None:
    """deployments/slo-example.yaml tells readers to copy the plan's figures: they must be the plan's."""
    (resolved,) = resolve_all(load_deployments(REPO / "deployments" / "slo-example.yaml"))
    performance, deployment = resolved.plan.performance, resolved.deployment
    assert performance is not None and deployment.slo is not None
    assert performance["instance_count"] == deployment.instance_count
    assert deployment.autoscaling is not None
    assert (performance["autoscaling"]["min_instances"], performance["autoscaling"]["max_instances"]) == \
        (deployment.autoscaling.min, deployment.autoscaling.max)
    assert performance["time_per_output_token_ms"] <= deployment.slo.time_per_output_token_ms


LOAD = "    load:\n      requests_per_minute: {rpm}\n      mean_input_tokens: {inp}\n      mean_output_tokens: {out}\n"
BAD = [
    # (id, text, line, column of the key, field, words in the message or hint)
    ("rpm-zero", LOAD.format(rpm=0, inp=8, out=8), 5, 7, "load.requests_per_minute", "greater than 0"),
    ("rpm-quoted", LOAD.format(rpm="'60'", inp=8, out=8), 5, 7, "load.requests_per_minute", "without quotes"),
    ("rpm-bool", LOAD.format(rpm="true", inp=8, out=8), 5, 7, "load.requests_per_minute", "valid number"),
    ("rpm-infinite", LOAD.format(rpm=".inf", inp=8, out=8), 5, 7, "load.requests_per_minute", "finite"),
    ("rpm-bare-exponent", LOAD.format(rpm="6e1", inp=8, out=8), 5, 7, "load.requests_per_minute", "write it out"),
    ("rpm-huge", LOAD.format(rpm=10**7, inp=8, out=8), 5, 7, "load.requests_per_minute", "1000000"),
    ("input-fraction", LOAD.format(rpm=6, inp=2.5, out=8), 6, 7, "load.mean_input_tokens", "whole number"),
    ("output-zero", LOAD.format(rpm=6, inp=8, out=0), 7, 7, "load.mean_output_tokens", "greater than or equal to 1"),
    ("load-missing-key", "    load: {requests_per_minute: 6, mean_input_tokens: 8}\n", 4, 5, "load.mean_output_tokens",
     "Add mean_output_tokens"),
    ("load-typo", "    load: {requests_per_minute: 6, mean_input_tokens: 8, mean_output_tokns: 8}\n", 4, 58,
     "load.mean_output_tokns", "Did you mean mean_output_tokens?"),
    ("load-not-mapping", "    load: 60\n", 4, 5, "load", "mapping"),
    ("slo-empty", "    slo: {}\n", 4, 5, "slo", "no target"),
    ("slo-negative", "    slo: {time_to_first_token_ms: -5}\n", 4, 11, "slo.time_to_first_token_ms", "greater than 0"),
    ("slo-typo", "    slo: {ttft_ms: 500}\n", 4, 11, "slo.ttft_ms", "unknown key"),
    # the estimate would price requests the endpoint cannot serve
    ("mean-above-max", "    max_input_tokens: 1024\n" + LOAD.format(rpm=6, inp=5000, out=8), 7, 7,
     "load.mean_input_tokens", "above max_input_tokens (1024)"),
]


@pytest.mark.parametrize("text,line,column,field,words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_load_and_slo_are_located(tmp_path: Path, text: str, line: int, column: int, field: str,
                                      words: str) -> None:
    path = _write(tmp_path, HEAD + text)
    _, problems = check_file(path)
    assert [(p.line, p.column, p.field) for p in problems] == [(line, column, f"deployments[chat].{field}")], problems
    assert words in f"{problems[0].problem}; {problems[0].hint}"
    assert "pattern" not in problems[0].problem and "Traceback" not in problems[0].problem


def test_validate_exits_2_naming_every_load_and_slo_mistake(tmp_path: Path) -> None:
    path = _write(tmp_path, HEAD + LOAD.format(rpm=0, inp=8, out=8) + "    slo: {time_per_output_token_ms: '50'}\n")
    out = subprocess.run([sys.executable, "-m", "selector", "validate", str(path)], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert out.returncode == 2 and out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:5:7", f"{path}:8:11"], out.stderr
    assert "deployments[chat].load.requests_per_minute = 0" in lines[0]
    assert "deployments[chat].slo.time_per_output_token_ms = '50'" in lines[1]
    data = json.loads(subprocess.run([sys.executable, "-m", "selector", "validate", str(path), "--json"],
                                     capture_output=True, text=True, timeout=60, cwd=REPO).stdout)
    assert [(p["line"], p["field"]) for p in data["problems"]] == [
        (5, "deployments[chat].load.requests_per_minute"), (8, "deployments[chat].slo.time_per_output_token_ms")]


def test_an_unmeetable_slo_is_refused_with_the_best_estimate(tmp_path: Path) -> None:
    _, problems = check_file(_write(tmp_path, HEAD + "    slo: {time_per_output_token_ms: 0.001}\n"))
    assert len(problems) == 1 and problems[0].line == 4 and problems[0].field.startswith("deployments[chat].slo")
    assert "best estimate" in problems[0].problem


def test_a_mistake_in_defaults_is_named_once_where_it_is_written(tmp_path: Path) -> None:
    entry = "  - name: {0}\n    model: meta-llama/Meta-Llama-3-8B\n"
    path = _write(tmp_path, "defaults:\n  load: {requests_per_minute: 0, mean_input_tokens: 8, mean_output_tokens: 8}\n"
                            "  slo: {}\ndeployments:\n" + entry.format("a") + entry.format("b"))
    _, problems = check_file(path)
    assert [(p.line, p.column, p.field) for p in problems] == [(2, 10, "defaults.load.requests_per_minute"),
                                                               (3, 3, "defaults.slo")]

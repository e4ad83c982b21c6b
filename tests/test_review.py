"""The review report make synth writes: one row per endpoint, the reasons, a diagram; same bytes every time."""
from __future__ import annotations

import json

from selector.deployments import load_deployments, resolve_all
import pytest

from selector.review import ReportSource, report_json, report_markdown, write_report
from tests.test_stacks import DEFAULT


def test_report_rows_and_totals():
    resolved = resolve_all(load_deployments(DEFAULT))
    data = report_json(resolved)
    assert [r["endpoint"] for r in data["endpoints"]] == [i.endpoint_name for i in resolved]
    row = data["endpoints"][0]
    for key in ("model", "traffic", "backend", "quantization", "instance_type", "instance_count",
                "tensor_parallel_degree", "headroom_per_device_gib", "hourly_usd", "monthly_usd", "image_tag",
                "warnings"):
        assert key in row
    assert row["monthly_usd"] == round(row["hourly_usd"] * 730, 2)
    assert data["total_hourly_usd"] == round(sum(r["hourly_usd"] for r in data["endpoints"]), 2)
    assert all(r["headroom_per_device_gib"] >= 0 for r in data["endpoints"])


def test_markdown_has_table_rationale_and_mermaid():
    text = report_markdown(resolve_all(load_deployments(DEFAULT)), ReportSource("deployments/default.yaml", "abc1234"))
    assert text.startswith("# LMI endpoint plan")
    assert "Source: `deployments/default.yaml` · commit `abc1234` · 6 endpoints" in text
    assert "| llama2-70b | meta-llama/Llama-2-70b-hf | vllm | ml.g5.48xlarge × 1 | 8 |" in text
    assert "```mermaid" in text and "flowchart LR" in text
    assert text.count("```mermaid") == 1  # one diagram of the shared shape, not one per endpoint
    assert "<summary>flan-t5-xl: google/flan-t5-xl on tensorrtllm" in text and "- Backend TensorRT-LLM" in text
    assert "headroom/device" not in text  # one memory notion (batch), explained once
    assert text.count("*batch* is how many full-length sequences") == 1


def test_warnings_are_sentences_not_counts():
    resolved = resolve_all(load_deployments(DEFAULT))
    text = report_markdown(resolved)
    warned = [(i.endpoint_name, w) for i in resolved for w in i.plan.warnings]
    assert warned, "the default deployments include a deprecated backend"
    for name, warning in warned:
        assert f"- **{name}**: {' '.join(warning.split())}" in text


@pytest.fixture(scope="module")
def hundred(tmp_path_factory):
    """100 endpoints over every catalog model family the default file uses."""
    models = ["meta-llama/Meta-Llama-3-8B", "google/flan-t5-xl", "meta-llama/Llama-2-70b-hf",
              "mistralai/Mistral-7B-v0.1", "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"]
    lines = ["deployments:"]
    for i in range(100):
        lines += [f"  - name: endpoint-{i:03d}", f"    model: {models[i % len(models)]}",
                  f"    prefer: {'cost' if i % 2 else 'balanced'}"]
    path = tmp_path_factory.mktemp("hundred") / "hundred.yaml"
    path.write_text("\n".join(lines) + "\n")
    return resolve_all(load_deployments(path))


def test_plan_md_for_100_endpoints_fits_a_github_comment(hundred):
    text = report_markdown(hundred, ReportSource("hundred.yaml", "abc1234"))
    assert len(text) < 60_000
    assert text.count("| endpoint-") == 100  # every endpoint keeps its summary row
    assert "more endpoint details: see plan.json" in text
    assert text.count("<details>") == text.count("</details>") >= 1


def test_the_budget_is_kept_even_when_rows_must_go(hundred):
    text = report_markdown(hundred, budget=6_000)
    assert len(text) < 6_000
    assert "more endpoints: see plan.json" in text


def test_written_report_is_deterministic(tmp_path):
    resolved = resolve_all(load_deployments(DEFAULT))
    write_report(resolved, tmp_path / "a")
    write_report(resolve_all(load_deployments(DEFAULT)), tmp_path / "b")
    for name in ("plan.md", "plan.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    json.loads((tmp_path / "a" / "plan.json").read_text())

"""The review report make synth writes: one row per endpoint, the reasons, a diagram; same bytes every time."""
from __future__ import annotations

import json

from selector.deployments import load_deployments, resolve_all
from selector.review import report_json, report_markdown, write_report
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
    text = report_markdown(resolve_all(load_deployments(DEFAULT)))
    assert text.startswith("# LMI endpoint plan")
    assert "| llama2-70b | meta-llama/Llama-2-70b-hf | uneven | vllm | none | ml.g5.48xlarge x 1 | 8 |" in text
    assert "```mermaid" in text and "flowchart LR" in text
    assert "## flan-t5-xl" in text and "- Backend TensorRT-LLM" in text


def test_written_report_is_deterministic(tmp_path):
    resolved = resolve_all(load_deployments(DEFAULT))
    write_report(resolved, tmp_path / "a")
    write_report(resolve_all(load_deployments(DEFAULT)), tmp_path / "b")
    for name in ("plan.md", "plan.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    json.loads((tmp_path / "a" / "plan.json").read_text())

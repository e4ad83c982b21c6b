"""The startup-limit warning: only when the download (and compile) alone exceeds SageMaker's 3600 s at the planning
throughput, with advice that fits where the weights come from (found by an independent review: LMI's 1800 s
loading-timeout default had been counted as load time, and s3:// models were told to stage their weights in S3)."""
from __future__ import annotations

import json

import pytest

from selector.catalog import read_data
from selector.request import Request
from selector.resolve import resolve


def _warning(plan) -> list[str]:
    return [w for w in plan.warnings if "planning estimate of 100 MB/s" in w]


@pytest.mark.parametrize("model", ["mistralai/Mixtral-8x22B-v0.1", "meta-llama/Llama-2-70b-hf"])
def test_downloads_under_the_limit_are_not_warned(model):
    assert _warning(resolve(Request(model=model, families=("all",)))) == []


def test_a_hub_model_beyond_the_limit_is_told_to_stage_in_s3():
    [warning] = _warning(resolve(Request(model="deepseek-ai/DeepSeek-V3", families=("all",))))
    # the checkpoint as published: 627 GiB of served FP8 weights + the multi-token-prediction module (639 GiB)
    assert "639 GiB checkpoint's download alone needs ~1.9 h" in warning and "stage the weights in S3" in warning


def test_an_s3_model_beyond_the_limit_is_told_about_sagemakers_download(tmp_path):
    entry = next(m for m in read_data("models.json")["models"] if m["id"] == "deepseek-ai/DeepSeek-V3")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(entry["config"]))
    plan = resolve(Request(model="s3://my-bucket/deepseek-v3/", model_config=str(config), families=("all",)))
    [warning] = _warning(plan)
    assert "ModelDataDownloadTimeoutInSeconds" in warning and "stage the weights in S3" not in warning

"""The throughput/latency estimator against public measurements, and its physics where no table reaches."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from selector.catalog import load_catalog
from selector.errors import SelectorError
from selector.model_shape import load_model
from selector.performance import (
    Workload, estimate_workload, hardware, performance_data, size_for_load, slo_batch,
)
from selector.performance_check import METRICS, predict
from selector.performance_plan import candidate_sizing
from selector.request import Load, Request, Slo
from selector.resolve import enumerate_candidates, resolve
from selector.rules.base import Context

FIXTURE = Path(__file__).parent / "fixtures" / "published_throughput.yaml"
ROWS = yaml.safe_load(FIXTURE.read_text())["rows"]
INCLUDED = [r for r in ROWS if not r.get("excluded")]
BOUND = 0.35


@pytest.mark.parametrize("row", INCLUDED, ids=[r["id"] for r in INCLUDED])
def test_estimate_within_35_percent_of_published_measurement(row):
    estimate = predict(row)
    error = estimate / row["measured"] - 1
    assert abs(error) <= BOUND, f"{row['id']}: estimate {estimate:.2f} vs measured {row['measured']} ({error:+.1%})"


def test_table_covers_enough_rows_families_and_backends():
    catalog = load_catalog()
    assert len(INCLUDED) >= 12
    families = {catalog.instances[r["instance"]].family for r in INCLUDED}
    backends = {r["backend"].split()[0] for r in INCLUDED}
    assert len(families) >= 3, families
    assert len(backends) >= 2, backends


@pytest.mark.parametrize("row", ROWS, ids=[r["id"] for r in ROWS])
def test_every_row_states_source_shape_and_metric(row):
    assert urlparse(row["source"]).scheme == "https"
    assert row["metric"] in METRICS
    for key in ("model", "instance", "tp", "backend", "batch", "input_tokens", "output_tokens", "measured"):
        assert row.get(key) not in (None, ""), f"{row['id']} lacks {key}"
    if "excluded" in row:
        assert len(row["excluded"]) > 40, f"{row['id']}: an exclusion needs its reason"


def test_fit_rows_are_named_in_the_data_and_exist():
    ids = {r["id"] for r in ROWS}
    for kind in ("nvidia", "neuron"):
        fitted = performance_data()["efficiency"][kind]["fit_rows"]
        assert fitted and set(fitted) <= ids
        assert not any(r.get("excluded") for r in ROWS if r["id"] in fitted)


def test_every_catalog_family_has_hardware_with_sources():
    data = performance_data()
    for instance in load_catalog().instances.values():
        hw = hardware(instance)
        assert hw.bandwidth_gbps > 0 and hw.tflops["fp16"] > 0 and hw.link_gbps > 0
    for section in ("accelerators", "families"):
        for name, entry in data[section].items():
            assert entry["source"].startswith("https://"), name
            assert len(entry["as_of"]) == 10, name


def _work(instance: str, **overrides) -> tuple:
    base = Workload(weights_per_device_bytes=13_500_000_000, kv_bytes_per_token_per_device=524_288,
                    params=6_738_000_000, layers=32, hidden_size=4096, tp=1, dtype="fp16")
    return load_catalog().instances[instance], replace(base, **overrides)


def test_fewer_weight_bytes_decode_faster():
    inst, full = _work("ml.g5.2xlarge")
    _, eight_bit = _work("ml.g5.2xlarge", weights_per_device_bytes=6_750_000_000)
    assert estimate_workload(inst, eight_bit, 1, 512, 256).tpot_ms < estimate_workload(inst, full, 1, 512, 256).tpot_ms


def test_batch_raises_aggregate_and_tpot():
    inst, work = _work("ml.p4de.24xlarge")
    one, many = estimate_workload(inst, work, 1, 512, 256), estimate_workload(inst, work, 32, 512, 256)
    assert many.tokens_per_s_per_instance > 10 * one.tokens_per_s_per_instance
    assert many.tpot_ms > one.tpot_ms


def test_ttft_grows_with_prompt_and_shrinks_with_tp():
    inst, work = _work("ml.p4d.24xlarge")
    _, tp4 = _work("ml.p4d.24xlarge", tp=4, weights_per_device_bytes=13_500_000_000 // 4)
    assert estimate_workload(inst, work, 1, 2048, 1).ttft_ms > estimate_workload(inst, work, 1, 128, 1).ttft_ms
    assert estimate_workload(inst, tp4, 1, 2048, 1).ttft_ms < estimate_workload(inst, work, 1, 2048, 1).ttft_ms


def test_cost_per_million_tokens_is_hourly_price_over_tokens_per_hour():
    inst, work = _work("ml.g5.2xlarge")
    est = estimate_workload(inst, work, 8, 512, 256)
    assert est.usd_per_million_output_tokens == pytest.approx(
        inst.hourly_usd / (est.tokens_per_s_per_instance * 3600) * 1e6)


def test_slo_batch_is_the_largest_that_meets_tpot():
    inst, work = _work("ml.g5.2xlarge")
    target = estimate_workload(inst, work, 16, 512, 256).tpot_ms
    chosen = slo_batch(inst, work, 64, 512, 256, target)
    assert chosen.batch == 16
    assert slo_batch(inst, work, 64, 512, 256, 0.001).batch == 1  # none meets it: batch 1, caller refuses


def test_instances_from_load_and_autoscaling_bounds():
    inst, work = _work("ml.g5.2xlarge")
    est = estimate_workload(inst, work, 8, 512, 256)
    per_instance_rpm = est.tokens_per_s_per_instance / 256 * 60
    sizing = size_for_load(est, inst.hourly_usd, per_instance_rpm * 2.5)
    assert (sizing.instances, sizing.min_instances, sizing.max_instances) == (3, 3, 5)
    assert sizing.fleet_usd_per_million_output_tokens > est.usd_per_million_output_tokens  # the third is partly idle


def test_plan_shows_performance_without_changing_the_choice():
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf"))
    perf = plan.to_json()["performance"]
    assert perf["time_to_first_token_ms"] > 0 and perf["time_per_output_token_ms"] > 0
    assert perf["batch"] == plan.max_batch_size
    assert perf["usd_per_million_output_tokens"] > 0
    assert perf["uncertainty"] == pytest.approx(0.35)
    assert any("output tokens/s" in line for line in plan.rationale)


def test_load_and_slo_give_instance_count_and_cost_per_token():
    plan = resolve(Request(model="meta-llama/Llama-2-13b-hf", prefer="cost",
                           load=Load(600, 512, 256), slo=Slo(1000, 50)))
    perf = plan.performance
    assert perf["instance_count"] >= 2
    assert perf["autoscaling"]["min_instances"] == perf["instance_count"] <= perf["autoscaling"]["max_instances"]
    assert perf["time_per_output_token_ms"] <= 50 and perf["time_to_first_token_ms"] <= 1000
    fleet_hourly = perf["instance_count"] * plan.hourly_usd
    assert perf["usd_per_million_output_tokens_at_load"] == pytest.approx(
        fleet_hourly / (600 * 60 * 256) * 1e6, rel=1e-3)


def test_unmeetable_slo_is_refused_with_the_best_achievable_figure():
    with pytest.raises(SelectorError, match=r"time_per_output_token_ms 1: best estimate \d+\.\d ms at batch 1"):
        resolve(Request(model="meta-llama/Llama-2-70b-hf", slo=Slo(None, 1)))


def test_prefer_cost_with_load_ranks_by_cost_per_token():
    request = Request(model="meta-llama/Llama-2-7b-hf", prefer="cost", load=Load(3000, 1024, 512))
    plan = resolve(request)
    by_hour = resolve(Request(model="meta-llama/Llama-2-7b-hf", prefer="cost"))
    shape = load_model(request.model)
    hour_best = next(c for c in enumerate_candidates(request, shape, load_catalog())
                     if (c.instance.name, c.backend.name, c.quantization.name, c.tp) ==
                     (by_hour.instance_type, by_hour.backend, by_hour.quantization, by_hour.tensor_parallel_degree))
    ctx = Context(request, shape, load_catalog(), by_hour.max_model_len, by_hour.min_concurrency)
    # at this load the per-token winner costs no more per token than the per-hour winner would
    assert 0 < plan.performance["usd_per_million_output_tokens_at_load"] <= \
        candidate_sizing(hour_best, ctx).fleet_usd_per_million_output_tokens + 1e-9


def test_cli_flags_build_load_and_slo(tmp_path):
    from click.testing import CliRunner

    from selector.cli import main

    runner = CliRunner()
    ok = runner.invoke(main, ["plan", "--model", "meta-llama/Llama-2-7b-hf", "--requests-per-minute", "30",
                              "--mean-input-tokens", "256", "--mean-output-tokens", "128", "--tpot-ms", "60", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"instance_count"' in ok.output
    partial = runner.invoke(main, ["plan", "--model", "meta-llama/Llama-2-7b-hf", "--requests-per-minute", "30"])
    assert partial.exit_code == 2
    assert "go together" in partial.output
    bad = runner.invoke(main, ["plan", "--model", "meta-llama/Llama-2-7b-hf", "--tpot-ms", "0"])
    assert bad.exit_code == 2

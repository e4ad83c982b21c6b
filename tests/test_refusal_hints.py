"""A refusal's hints are checked retries: each names a change that really plans (an independent review found
hints that sent users on useless retries and a pinned refusal that named no way out)."""
from __future__ import annotations

import pytest

from selector.errors import SelectorError
from selector.request import Request
from selector.resolve import resolve


def _refusal(**fields) -> str:
    with pytest.raises(SelectorError) as info:
        resolve(Request(**fields))
    return info.value.paragraph()


@pytest.mark.parametrize("fields,present,absent", [
    # lengths are not the problem: an architecture no family's backend runs at these lengths
    (dict(model="google/flan-t5-xl", families=("inf2",), max_input_tokens=100, max_output_tokens=10),
     "families: all", "lower max_input_tokens"),
    # concurrency is the problem, not lengths
    (dict(model="meta-llama/Llama-2-7b-hf", min_concurrency=300, max_input_tokens=10, max_output_tokens=10),
     "lower min_concurrency (at 1:", "lower max_input_tokens"),
    # long requests are the problem: shorter ones plan
    (dict(model="meta-llama/Llama-2-70b-hf", families=("g5",), min_concurrency=64, max_input_tokens=3000,
          max_output_tokens=1000), "lower max_input_tokens / max_output_tokens (it plans at 256 tokens each)", None),
    # a pre-quantized FP8 checkpoint: allowing quantization changes nothing
    (dict(model="deepseek-ai/DeepSeek-V3"), "add p5en:", "allow quantization"),
])
def test_hints_name_only_retries_that_plan(fields, present, absent):
    text = _refusal(**fields)
    assert present in text, text
    if absent:
        assert absent not in text, text


def test_of_several_pins_the_one_to_drop_is_named():
    text = _refusal(model="deepseek-ai/DeepSeek-V3", instance_type="ml.p5en.48xlarge", tensor_parallel_degree=4)
    assert "Dropping tensor_parallel_degree alone, the plan would be:" in text and "ml.p5en.48xlarge TP 8" in text


def test_a_pin_refused_in_the_seed_families_points_at_the_family_that_plans():
    text = _refusal(model="deepseek-ai/DeepSeek-V3", backend="tensorrtllm")
    assert "Without the pin and with families: all the plan would be:" in text and "ml.p5en.48xlarge" in text


def test_probes_compute_no_hints_of_their_own(monkeypatch):
    """A refusal costs a handful of extra plans (one per hint), not a tree of them."""
    import importlib

    module = importlib.import_module("selector.resolve")  # the package exports a function of the module's name
    calls = []
    real = module.resolve

    def counting(request, catalog=None):
        calls.append(request)
        return real(request, catalog)

    monkeypatch.setattr(module, "resolve", counting)
    with pytest.raises(SelectorError):
        counting(Request(model="meta-llama/Llama-2-7b-hf", min_concurrency=300, max_input_tokens=10,
                         max_output_tokens=10, families=("g5",)))
    assert 1 < len(calls) <= 5


def test_a_hints_unconfirmed_price_is_marked():
    text = _refusal(model="deepseek-ai/DeepSeek-V3")
    assert "ml.p5en.48xlarge TP 8, $72.80/h (price unconfirmed)" in " ".join(text.split())


def test_an_architecture_refusal_names_the_versions_of_the_same_backend_that_run_it():
    text = _refusal(model="Qwen/Qwen3-8B", backend="vllm", container_version="0.32.0")
    assert "vLLM 0.32.0 does not run Qwen3ForCausalLM; vLLM runs it in 0.33.0" in text


def test_a_refusal_also_names_option_values_the_nearest_container_refuses(tmp_path):
    """validate promises every problem: a refused pin does not hide a bad option value behind it."""
    from click.testing import CliRunner

    from selector.cli import main

    path = tmp_path / "d.yaml"
    path.write_text("deployments:\n  - name: h1\n    model: meta-llama/Llama-3.1-8B\n    container_version: '0.28.0'\n"
                    "    options:\n      option.enable_lora: 'maybe'\n")
    result = CliRunner().invoke(main, ["validate", str(path)], prog_name="python -m selector")
    assert result.exit_code == 2
    assert f"{path}:4:5: deployments[h1].container_version" in result.output
    assert f"{path}:6:7: deployments[h1].options.option.enable_lora = 'maybe'" in result.output

"""option.trust_remote_code: rendered for catalog models whose publishers run them with it (their config names its
own code), never silently for a user's own config.json (the user decides after reviewing that code)."""
from __future__ import annotations

import json

import pytest

from selector.catalog import read_data
from selector.errors import SelectorError
from selector.request import Request
from selector.resolve import resolve

NEEDS = ("deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "moonshotai/Kimi-K2-Instruct",
         "deepseek-ai/DeepSeek-V2-Lite", "mosaicml/mpt-30b", "mosaicml/mpt-7b")


def test_every_flag_has_a_source():
    flagged = {m["id"]: m["trust_remote_code"] for m in read_data("models.json")["models"] if "trust_remote_code" in m}
    assert set(flagged) == set(NEEDS)
    assert all(entry["source"] and entry["as_of"] for entry in flagged.values())


@pytest.mark.parametrize("model", NEEDS)
def test_publisher_deployments_render_it_and_say_so(model):
    plan = resolve(Request(model=model, families=("all",)))
    assert plan.serving_properties["option.trust_remote_code"] == "true"
    assert any("runs Python code from the model repository" in w and "Pin `revision`" in w for w in plan.warnings)
    pinned = resolve(Request(model=model, families=("all",), revision="0123abcd"))
    assert not any("Pin `revision`" in w for w in pinned.warnings)


def test_other_catalog_models_do_not_get_it():
    plan = resolve(Request(model="meta-llama/Llama-2-7b-hf"))
    assert "option.trust_remote_code" not in plan.serving_properties
    assert not any("trust_remote_code" in w for w in plan.warnings)


def test_the_same_value_from_the_user_is_not_a_conflict():
    plan = resolve(Request(model="mosaicml/mpt-7b", options={"option.trust_remote_code": "true"}))
    assert plan.serving_properties["option.trust_remote_code"] == "true"
    with pytest.raises(SelectorError, match="the plan already sets this key"):
        resolve(Request(model="mosaicml/mpt-7b", options={"option.trust_remote_code": "false"}))


def test_a_local_config_with_auto_map_is_warned_not_trusted(tmp_path):
    entry = next(m for m in read_data("models.json")["models"] if m["id"] == "meta-llama/Llama-2-7b-hf")
    config = dict(entry["config"], auto_map={"AutoModelForCausalLM": "modeling_x.XForCausalLM"})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    plan = resolve(Request(model=str(path)))
    assert "option.trust_remote_code" not in plan.serving_properties
    assert any("names its own code (auto_map)" in w for w in plan.warnings)
    trusted = resolve(Request(model=str(path), options={"option.trust_remote_code": "true"}))
    assert trusted.serving_properties["option.trust_remote_code"] == "true"
    assert not any("auto_map" in w for w in trusted.warnings)

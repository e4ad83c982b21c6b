"""Instance families beyond the seed (issue 13): data with sources, the opt-in, the nudge, synthesized templates.

Held against systems we did not write: botocore's ProductionVariantInstanceType and ProductionVariant shapes,
cfn-lint, and the image tags of sagemaker-core's catalog (selector/data/images.json).
"""
from __future__ import annotations

import json
from typing import Any
from dataclasses import replace
from pathlib import Path

import botocore.session
import pytest
from cfnlint.api import ManualArgs, lint

import app as app_module
from selector.catalog import load_catalog, read_data
from selector.cli import main
from selector.report import print_plan
from selector.request import Request
from selector.resolve import resolve
from tests.test_shared_endpoint import check_shape

ROOT = Path(__file__).resolve().parent.parent
FAMILIES = str(ROOT / "tests/fixtures/deployments/families.yaml")
SEED = ("g5", "inf2", "p4d", "p4de")
NEW = ("g6", "g6e", "p5", "p5en")
LLAMA_70B = "meta-llama/Llama-3.1-70B-Instruct"


@pytest.fixture(scope="module")
def sagemaker_api():
    return botocore.session.get_session().get_service_model("sagemaker")


# --- data ------------------------------------------------------------------------------------------------------
def test_default_families_are_the_seed_and_the_catalog_adds_the_new_ones():
    catalog = load_catalog()
    assert catalog.default_families == SEED
    assert set(catalog.families) == {*SEED, *NEW}
    assert catalog.requested_families(()) == SEED
    assert catalog.requested_families(("all",)) == catalog.families
    assert catalog.requested_families(("g6e",)) == ("g6e",)


def test_every_instance_type_is_in_the_sagemaker_api(sagemaker_api):
    allowed = set(sagemaker_api.shape_for("ProductionVariantInstanceType").enum)
    doc = read_data("instances.json")
    named = set(doc["instances"]) | {name for name in doc["left_out"] if "*" not in name}
    assert named - allowed == set()


@pytest.mark.parametrize("family", NEW)
def test_new_family_has_memory_price_and_sources(family):
    doc = read_data("instances.json")
    rows = {n: i for n, i in doc["instances"].items() if i["family"] == family}
    assert rows
    for name, raw in rows.items():
        memory = doc["accelerator_memory"][raw["accelerator"]]
        assert memory["sources"], name
        # what CUDA reports is below nvidia-smi's total, itself below the nominal size (ECC, driver reservations)
        assert 20_000 < memory["cuda_visible_mib"] < memory["nvidia_smi_mib"] < memory["nominal_gib"] * 1024, name
        assert raw["hourly_usd"] > 0 and raw["price_source"] and len(raw["price_as_of"]) == 10, name
        assert raw["price_confirmed"] is False and raw["price_note"].startswith("UNCONFIRMED"), name
        assert raw["compute_capability"] >= 8.9 and raw["interconnect"] and raw["source"], name
        assert raw["local_nvme"] is True, name  # the stack sets VolumeSizeInGB only without local NVMe


def test_p4de_price_is_marked_unconfirmed_like_the_new_ones():
    instances = load_catalog().instances
    assert instances["ml.p4de.24xlarge"].price_confirmed is False
    assert instances["ml.g5.48xlarge"].price_confirmed is True


def test_left_out_says_why():
    left_out = read_data("instances.json")["left_out"]
    assert "no current LMI/DJL image serves Trainium" in left_out["ml.trn1.*, ml.trn1n.*, ml.trn2.*"]
    for name in ("ml.p5e.48xlarge", "ml.p6-b200.48xlarge", "ml.p6-b300.48xlarge",
                 "ml.g7e.2xlarge", "ml.g7.2xlarge", "ml.p5.4xlarge"):
        assert "price" in left_out[name], name
    assert not set(left_out) & set(load_catalog().instances)


@pytest.mark.parametrize("family", NEW)
def test_new_family_has_performance_figures(family):
    data = read_data("accelerator_performance.json")
    entry = data["families"][family]
    device = data["accelerators"][entry["accelerator"]]
    assert device["memory_bandwidth_gbps"] > 0 and device["dense_tflops"]["fp8"] > device["dense_tflops"]["bf16"]
    assert entry["source"] and device["source"] and family in data["efficiency"]["allreduce_latency_us"]


# --- the opt-in and the nudge --------------------------------------------------------------------------------
def test_families_all_plans_llama_70b_on_a_current_family_with_its_image():
    plan = resolve(Request(model=LLAMA_70B, families=("all",)))
    assert plan.instance_type == "ml.g6e.12xlarge" and plan.accelerator == "L40S"
    assert plan.backend == "vllm" and plan.image_tag.endswith("-cu130")
    assert plan.hourly_usd < 20.36
    assert any("ml.g6e.12xlarge ($13.12/h, 4 x L40S): the cheapest that fits" in line for line in plan.rationale)
    assert any("price is UNCONFIRMED" in w for w in plan.warnings)
    assert not any("would cost" in line for line in plan.rationale + plan.warnings)  # nothing left to opt into
    assert "tokens_per_s_per_instance" in plan.performance


def test_default_families_plan_on_the_seed_and_name_the_cheaper_option():
    plan = resolve(Request(model=LLAMA_70B))
    assert plan.instance_type == "ml.g5.48xlarge"
    nudge = "ml.g6e.12xlarge would cost $7.24/h less: add families: [g6e]"
    assert any(line.startswith(nudge) for line in plan.rationale)
    assert any(line.startswith(nudge) for line in plan.warnings)


def test_no_nudge_when_an_instance_is_pinned_or_nothing_outside_is_cheaper():
    pinned = resolve(Request(model=LLAMA_70B, instance_type="ml.g5.48xlarge"))
    assert not any("would cost" in w for w in pinned.warnings)
    # on ml.g6.xlarge nothing cheaper runs vLLM (ml.inf2.xlarge is cheaper, but balanced keeps the backend)
    small = resolve(Request(model="meta-llama/Llama-2-7b-hf", families=("g6",), max_input_tokens=1024,
                            max_output_tokens=512))
    assert small.instance_type.startswith("ml.g6.")
    assert not any("would cost" in w for w in small.warnings), small.warnings


def test_a_pinned_new_instance_needs_no_families():
    plan = resolve(Request(model=LLAMA_70B, instance_type="ml.p5.48xlarge"))
    assert plan.instance_type == "ml.p5.48xlarge" and plan.accelerator == "H100"


def test_pin_contradicting_families_is_refused():
    from selector.errors import SelectorError

    with pytest.raises(SelectorError, match="contradicts families"):
        resolve(Request(model=LLAMA_70B, families=("g5",), instance_type="ml.g6e.12xlarge"))


def _cli(*args: str):
    from click.testing import CliRunner

    return CliRunner().invoke(main, list(args), prog_name="python -m selector")


def test_cli_families_all_and_nudge_in_json():
    result = _cli("plan", "--model", LLAMA_70B, "--families", "all", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["instance_type"] == "ml.g6e.12xlarge"
    data = json.loads(_cli("plan", "--model", LLAMA_70B, "--json").stdout)
    assert data["instance_type"] == "ml.g5.48xlarge"
    assert any("add families: [g6e]" in w for w in data["warnings"])


def test_cli_terminal_shows_the_nudge():
    out = " ".join(_cli("plan", "--model", LLAMA_70B).stdout.split())
    assert "ml.g6e.12xlarge would cost $7.24/h less: add families: [g6e]" in out


def test_unknown_family_names_all_as_a_choice():
    result = _cli("plan", "--model", LLAMA_70B, "--families", "g9")
    assert result.exit_code == 2
    assert "Known: g5, g6, g6e, inf2, p4d, p4de, p5, p5en, all." in result.stderr


# --- estimates --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("instance", ["ml.g6.12xlarge", "ml.g6e.12xlarge", "ml.p5.48xlarge", "ml.p5en.48xlarge"])
def test_new_family_plans_carry_estimates(instance):
    plan = resolve(Request(model="meta-llama/Meta-Llama-3-8B", instance_type=instance))
    assert plan.performance["tokens_per_s_per_instance"] > 0


def test_missing_performance_figures_are_said_not_crashed(monkeypatch):
    from selector import performance

    data = json.loads(json.dumps(performance.performance_data()))
    del data["families"]["g6e"]
    monkeypatch.setattr(performance, "performance_data", lambda: data)
    plan = resolve(Request(model=LLAMA_70B, families=("all",)))
    assert plan.instance_type == "ml.g6e.12xlarge"
    assert "no family entry" in plan.performance["estimate_missing"]
    assert any(line.startswith("No throughput or latency estimate") for line in plan.rationale)
    from rich.console import Console

    from selector.review import _details

    console = Console(record=True, width=200)
    print_plan(plan, console)
    assert "estimate none: accelerator_performance.json has no family entry" in " ".join(console.export_text().split())
    details = _details({"endpoint": "e", "model": LLAMA_70B, "instance_type": plan.instance_type,
                        "tensor_parallel_degree": 4, "hourly_usd": plan.hourly_usd, "region": "us-east-1",
                        "warnings": list(plan.warnings), "plan": plan.to_json()})
    assert "/1M output tokens" not in details[1]


# --- synthesized templates ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def families_out(tmp_path_factory) -> Path:
    outdir = tmp_path_factory.mktemp("families") / "cdk.out"
    app_module.synthesize(outdir, FAMILIES)  # the checked synth: cdk-nag, then templates, plan.md and plan.json
    return outdir


def _variant(outdir: Path, stack: str) -> dict:
    template = json.loads((outdir / f"lmi-{stack}.template.json").read_text())
    config = next(r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig")
    return config["Properties"]["ProductionVariants"][0]


def _image(outdir: Path, stack: str) -> str:
    template = json.loads((outdir / f"lmi-{stack}.template.json").read_text())
    model = next(r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::Model")
    return json.dumps(model["Properties"]["PrimaryContainer"]["Image"])


@pytest.mark.parametrize("stack,instance", [
    ("llama70-all", "ml.g6e.12xlarge"), ("llama70-seed", "ml.g5.48xlarge"), ("llama8-g6", "ml.g6.2xlarge"),
    ("mistral-g6e", "ml.g6e.2xlarge"), ("llama70-p5", "ml.p5.48xlarge"), ("deepseek-v3-p5en", "ml.p5en.48xlarge"),
])
def test_new_family_templates(families_out: Path, sagemaker_api: Any, stack: str, instance: str) -> None:
    variant = _variant(families_out, stack)
    assert variant["InstanceType"] == instance
    assert "VolumeSizeInGB" not in variant  # every new GPU family has local NVMe
    problems: list[str] = []
    check_shape(sagemaker_api, "ProductionVariant", variant, "variant", problems)
    assert problems == []
    assert "0.38.0-lmi29.0.0-cu130" in _image(families_out, stack)
    # the startup limits are SageMaker's maxima for the large checkpoints, never beyond them
    assert variant["ContainerStartupHealthCheckTimeoutInSeconds"] <= 3600
    assert variant["ModelDataDownloadTimeoutInSeconds"] <= 3600


def test_new_family_templates_pass_cfn_lint(families_out):
    problems = []
    for path in sorted(families_out.glob("*.template.json")):
        matches = lint(path.read_text(), config=ManualArgs(regions=["us-east-1"]))
        problems += [f"{path.name}: {m.rule.id} {m.message}" for m in matches if m.rule.id.startswith("E")]
    assert problems == []


def test_plan_md_carries_the_nudge(families_out):
    plan_md = " ".join((families_out / "plan.md").read_text().split())
    assert "ml.g6e.12xlarge would cost $7.24/h less: add families: [g6e]" in plan_md


def test_nudge_keeps_the_request_otherwise_unchanged():
    """The nudge is the same request over the other families: pinning its instance reproduces its price."""
    plan = resolve(Request(model=LLAMA_70B))
    again = resolve(replace(Request(model=LLAMA_70B), instance_type="ml.g6e.12xlarge"))
    assert again.hourly_usd == 13.1158 and again.backend == plan.backend


@pytest.mark.parametrize("args,fragment", [
    (("--families", "trn2"), "no current LMI/DJL image serves Trainium"),
    (("--families", "p5e"), "no public SageMaker real-time hosting price"),
    (("--instance-type", "ml.p6-b200.48xlarge"), "no public SageMaker real-time hosting price"),
    (("--instance-type", "ml.trn1.32xlarge"), "no current LMI/DJL image serves Trainium"),
])
def test_left_out_families_and_types_say_why(args, fragment):
    result = _cli("plan", "--model", LLAMA_70B, *args)
    assert result.exit_code == 2
    assert "is left out of the catalog" in result.stderr and fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("request_, suggested", [
    # 282 GB of 16-bit weights: no G5 holds them, a p4de does
    (Request(model="mistralai/Mixtral-8x22B-v0.1", families=("g5",)), True),
    # 959 GiB of FP8 weights leave ~43 GiB of KV cache on 8 x H200: 32 sequences of 32,000 tokens fit no catalog
    # instance, so "families: all" would not help
    (Request(model="moonshotai/Kimi-K2-Instruct", max_input_tokens=30000, max_output_tokens=2000, min_concurrency=32),
     False),
], ids=["fits-another-family", "fits-no-family"])
def test_no_plan_suggests_families_all_only_when_another_family_holds_it(request_, suggested):
    from selector.errors import SelectorError

    with pytest.raises(SelectorError) as refused:
        resolve(request_)
    paragraph = refused.value.paragraph()
    assert ("families: all" in paragraph) == suggested, paragraph
    if not suggested:
        assert any(hint in paragraph for hint in ("No catalog instance can hold it", "allow quantization",
                                                   "lower max_input_tokens"))


def test_families_all_as_a_string_in_defaults(tmp_path):
    from selector.deployments import check_file

    path = tmp_path / "deployments.yaml"
    path.write_text("defaults:\n  families: all\ndeployments:\n  - name: big\n"
                    f"    model: {LLAMA_70B}\n")
    resolved, problems = check_file(str(path))
    assert problems == [] and resolved[0].plan.instance_type == "ml.g6e.12xlarge"


def test_deepseek_v3_needs_the_opt_in_and_names_the_family_that_holds_it():
    """Issue 13: DeepSeek-V3 (671B, FP8, MLA) fits no seed family; the refusal names p5en and the plan it would get,
    and `--families all` plans it there with the latent KV cache figure."""
    refused = _cli("plan", "--model", "deepseek-ai/DeepSeek-V3")
    assert refused.exit_code == 2
    text = " ".join(refused.stderr.split())
    assert "add p5en: deepseek-ai/DeepSeek-V3 on vllm" in text and "ml.p5en.48xlarge TP 8" in text
    assert "allow quantization" not in text  # the checkpoint is FP8 already: that retry would fail too
    planned = json.loads(_cli("plan", "--model", "deepseek-ai/DeepSeek-V3", "--families", "all", "--json").stdout)
    assert planned["instance_type"] == "ml.p5en.48xlarge" and planned["tensor_parallel_degree"] == 8
    assert planned["memory"]["kv_bytes_per_token_per_device"] == 70_272

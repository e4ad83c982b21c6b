"""Shared endpoints, selector side: validate refusals (located, one paragraph), packing, the pool-vs-separate
property over small catalog models, adapter memory and the LoRA keys against djl-serving's own source."""
from __future__ import annotations

import itertools
import random
import textwrap
from pathlib import Path

import pytest

from selector.catalog import load_catalog
from selector.conformance import problems as conformance_problems
from selector.errors import SelectorError
from selector.deployments import check_file, json_schema, load_deployments, resolve_pools
from selector.model_shape import catalog_model_ids, load_model
from selector.pools.adapters import adapter_bytes, module_widths
from selector.pools.config import DEFAULT_COPIES, Adapter, EndpointPool
from selector.pools.packing import EXACT_LIMIT, Capacity, Demand, first_fit_decreasing, lower_bound, pack
from selector.pools.plan import Member, PoolRefusal, plan_pool
from selector.request import Request

EXAMPLE = "deployments/pool-example.yaml"
POOL = "endpoints:\n  chat-pool:\n    families: [g5]\n"


def problems_of(tmp_path: Path, text: str):
    path = tmp_path / "deployments.yaml"
    path.write_text(textwrap.dedent(text))
    _, found = check_file(str(path))
    return path, found


# (id, file text, line of the problem, substrings of its paragraph)
REFUSALS = [
    ("unknown-pool", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pol}\n",
     5, ["deployments[a].endpoint = 'chat-pol'", "names no endpoint", "Did you mean chat-pool?"]),
    ("conflicting-region", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool}\n"
     "  - {name: b, model: meta-llama/Llama-3.2-3B, endpoint: chat-pool, region: us-west-2}\n",
     6, ["deployments[b].region", "differs from deployment a", "belongs to the endpoint"]),
    ("conflicting-kms", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool}\n"
     "  - name: b\n    model: meta-llama/Llama-3.2-3B\n    endpoint: chat-pool\n    kms_key_arn: "
     "arn:aws:kms:us-east-1:123456789012:key/0123abcd-0123-0123-0123-0123456789ab\n",
     9, ["deployments[b].kms_key_arn", "differs from deployment a"]),
    ("adapters-without-endpoint", "deployments:\n  - name: a\n    model: meta-llama/Llama-3.1-8B\n    adapters:\n"
     "      - {name: x, s3_uri: 's3://my-bucket/a.tar.gz'}\n", 4, ["adapters need endpoint"]),
    ("adapter-prefix", POOL + "deployments:\n  - name: a\n    model: meta-llama/Llama-3.1-8B\n    endpoint: chat-pool\n"
     "    adapters:\n      - {name: x, s3_uri: 's3://my-bucket/adapters/'}\n", 9,
     ["s3_uri", "is not one .tar.gz object", "ArtifactUrl"]),
    ("adapter-wildcard", POOL + "deployments:\n  - name: a\n    model: meta-llama/Llama-3.1-8B\n    endpoint: chat-pool\n"
     "    adapters:\n      - {name: x, s3_uri: 's3://my-bucket/*.tar.gz'}\n", 9, ["s3_uri", "wildcard"]),
    ("fits-no-instance", "endpoints:\n  small:\n    instance_type: ml.g5.2xlarge\ndeployments:\n"
     "  - {name: big, model: meta-llama/Llama-2-13b-hf, endpoint: small}\n", 5,
     ["deployments[big].model", "on the shared endpoint small: fits no instance type the endpoint may use", "ml.g5.2xlarge"]),
    ("compiled-backend", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool, "
     "backend: tensorrtllm}\n", 5, ["backend tensorrtllm cannot run on the shared endpoint"]),
    ("traffic-list", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool, "
     "traffic: [even, uneven]}\n", 5, ["traffic lists two patterns"]),
    ("pool-owned-key", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool, "
     "instance_count: 2}\n", 5, ["instance_count is decided by the shared endpoint chat-pool"]),
    ("inferentia-pool", "endpoints:\n  neuron:\n    families: [inf2]\ndeployments:\n"
     "  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: neuron}\n", 2,
     ["endpoints[neuron]", "Inferentia instances cannot host"]),
    ("dearer-than-separate", POOL + "deployments:\n  - {name: a, model: google/gemma-2b, endpoint: chat-pool}\n"
     "  - {name: b, model: meta-llama/Llama-2-7b-hf, endpoint: chat-pool, max_input_tokens: 1536, "
     "max_output_tokens: 512}\n", 2,
     ["endpoints[chat-pool]", "costs more than one endpoint per model", "$2.93/h"]),
    ("copies-order", POOL + "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool, "
     "copies: {min: 3, max: 2}}\n", 5, ["copies", "min (3) is greater than max (2)"]),
    ("pool-min-over-max", "endpoints:\n  p:\n    min_instances: 5\n    max_instances: 2\ndeployments:\n"
     "  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: p}\n", 3, ["min_instances (5) is greater than"]),
    # deployment "a-x" and adapter "x" of deployment "a" would both be the component chat-pool-a-x
    ("component-name-clash", POOL + "deployments:\n  - name: a\n    model: meta-llama/Llama-3.1-8B\n    endpoint: chat-pool\n"
     "    adapters:\n      - {name: x, s3_uri: 's3://my-bucket/a.tar.gz'}\n"
     "  - {name: a-x, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool}\n", 10,
     ["chat-pool-a-x", "adapter x of deployment a already makes"]),
    ("duplicate-adapter", POOL + "deployments:\n  - name: a\n    model: meta-llama/Llama-3.1-8B\n    endpoint: chat-pool\n"
     "    adapters:\n      - {name: x, s3_uri: 's3://my-bucket/a.tar.gz'}\n      - {name: x, s3_uri: 's3://my-bucket/b.tar.gz'}\n",
     8, ["adapters lists two adapters with the same name"]),
    ("component-name-too-long", POOL + "deployments:\n  - {name: " + "a" * 60 + ", model: meta-llama/Llama-3.2-1B, "
     "endpoint: chat-pool}\n", 5, ["inference component name", "longer than 63 characters"]),
    ("pool-with-pipeline", POOL + "pipeline:\n  account: '111122223333'\n  region: us-east-1\n  repository: repo\n"
     "  stages:\n    - {name: staging, account: '444455556666', region: us-west-2}\n"
     "deployments:\n  - {name: a, model: meta-llama/Llama-3.2-1B, endpoint: chat-pool}\n", 1,
     ["shared endpoints are not delivered by the pipeline yet"]),
    ("s3-model", POOL + "deployments:\n  - {name: a, model: 's3://my-bucket/llama/', model_config: cfg.json, "
     "endpoint: chat-pool}\n", 5, ["is an s3:// prefix"]),
]


@pytest.mark.parametrize("text,line,expect", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_validate_refuses_with_one_located_paragraph(tmp_path, text, line, expect):
    path, found = problems_of(tmp_path, text)
    assert found, "expected a refusal"
    first = found[0]
    paragraph = SelectorError.of(found).paragraph()  # what `validate` and `cdk synth` print
    assert first.file == str(path) and first.line == line and first.column, (first, found)
    assert paragraph.startswith(f"{path}:{line}:{first.column}: ")
    for fragment in expect:
        assert fragment in paragraph, (fragment, paragraph)
    assert "\n" not in paragraph and "Traceback" not in paragraph


def test_example_validates_and_plans_one_pool():
    resolved, found = check_file(EXAMPLE)
    assert found == [] and resolved == []  # every deployment of the example is on the pool
    (pool,) = resolve_pools(load_deployments(EXAMPLE))
    assert pool.name == "chat-pool" and len(pool.components) == 5
    assert pool.hourly_usd < pool.separate_hourly_usd
    assert sum(len(c.adapters) for c in pool.components) == 2
    for component in pool.components:  # a component serves at least the context of the model's own endpoint
        assert component.plan.max_model_len >= component.standalone.max_model_len
        assert component.reservation.accelerators == component.plan.tensor_parallel_degree


def test_default_file_has_no_pool_and_plans_as_before():
    parsed = load_deployments("deployments/default.yaml")
    assert parsed.endpoints == {} and resolve_pools(parsed) == []


def test_every_new_schema_property_has_a_description_default_and_examples():
    """The pattern of the other keys: a description ending "Default: ..." when optional, and examples."""
    schema = json_schema()
    defs = schema.get("$defs", {})
    props = [(f"{m}.{k}", p, k in defs[m].get("required", [])) for m in ("EndpointPool", "Adapter", "Copies")
             for k, p in defs[m]["properties"].items()]
    props += [(f"Deployment.{k}", defs["Deployment"]["properties"][k], False) for k in ("endpoint", "adapters", "copies")]
    props.append(("endpoints", schema["properties"]["endpoints"], False))
    for where, prop, required in props:
        assert prop.get("description"), where
        assert ("Default: " in prop["description"]) is not required, where
        assert prop.get("examples"), where
    for model in ("EndpointPool", "Adapter", "Copies"):
        assert defs[model].get("description"), model


# --- packing -------------------------------------------------------------------------------------------------------
def brute_force(items: list[Demand], capacity: Capacity) -> int:
    """Fewest bins by trying every assignment (tiny inputs only)."""
    best = len(items)
    for assignment in itertools.product(range(len(items)), repeat=len(items)):
        used = set(assignment)
        if len(used) >= best:
            continue
        ok = True
        for b in used:
            load = [sum(items[i].vector()[d] for i in range(len(items)) if assignment[i] == b) for d in range(3)]
            if any(x > c + 1e-9 for x, c in zip(load, capacity.vector(), strict=True)):
                ok = False
                break
        if ok:
            best = len(used)
    return best


@pytest.mark.parametrize("seed", range(40))
def test_exact_packing_is_optimal_and_ffd_is_bounded(seed):
    rng = random.Random(seed)
    capacity = Capacity(8, 1024 * 1024, 96.0)
    items = [Demand(f"m{i}", rng.choice([1, 1, 2, 4, 8]), rng.randint(8, 400) * 1024, rng.choice([6.0, 12.0, 24.0]))
             for i in range(rng.randint(1, 6))]
    packing = pack(items, capacity)
    assert packing is not None and packing.exact
    assert packing.count == brute_force(items, capacity)
    assert packing.count >= lower_bound(items, capacity)
    ffd = len(first_fit_decreasing(items, capacity))
    assert packing.count <= ffd <= (3 + 1 / 3) * packing.count + 1


def test_large_pools_use_ffd_and_report_the_lower_bound():
    items = [Demand(f"m{i}", 1, 1024, 1.0) for i in range(EXACT_LIMIT + 5)]
    packing = pack(items, Capacity(4, 1024 * 64, 48.0))
    assert packing is not None and packing.count == packing.lower_bound == 5


def test_a_copy_larger_than_the_instance_packs_nowhere():
    assert pack([Demand("x", 8, 1, 1.0)], Capacity(4, 1024, 8.0)) is None


# --- the property: a pool is never dearer than one endpoint per model ------------------------------------------
def small_models() -> list[str]:
    out = []
    for model in catalog_model_ids():
        shape = load_model(model)
        if shape.total_params() <= 14e9 and not shape.encoder_decoder:
            out.append(model)
    return out


@pytest.mark.parametrize("size", [2, 3])
def test_pool_is_never_dearer_than_separate_endpoints(size):
    models = small_models()
    assert len(models) >= 15
    planned = refused_dearer = 0
    pool = EndpointPool(families=["g5"])
    for group in itertools.combinations(models, size):
        members = [Member(f"m{i}", Request(model=m)) for i, m in enumerate(group)]
        try:
            plan = plan_pool("p", pool, members)
        except PoolRefusal as refusal:
            assert "costs more than one endpoint per model" in refusal.problem or refusal.deployment, refusal.problem
            refused_dearer += "costs more" in refusal.problem
            continue
        planned += 1
        assert plan.hourly_usd <= plan.separate_hourly_usd + 1e-9, group
        assert plan.packing.count <= sum(c.copies.initial for c in plan.components)
    assert planned > refused_dearer > 0  # both outcomes happen: the property is not vacuous


def test_pinned_instance_type_is_never_dearer():
    """With the type pinned, the separate endpoints run on it too: packing can only merge instances."""
    pool = EndpointPool(instance_type="ml.g5.12xlarge")
    members = [Member(f"m{i}", Request(model=m)) for i, m in
               enumerate(["google/gemma-2b", "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-3.2-3B"])]
    plan = plan_pool("p", pool, members)
    assert plan.initial_instances == 1 and plan.hourly_usd <= plan.separate_hourly_usd


# --- LoRA ------------------------------------------------------------------------------------------------------------
def test_adapter_memory_follows_the_documented_formula():
    shape = load_model("meta-llama/Llama-3.1-8B")
    # q 4096+4096, k and v 4096+1024, o 4096+4096, gate/up/down 3 x (4096+14336)
    assert module_widths(shape) == 8192 + 5120 + 5120 + 8192 + 3 * (4096 + 14336)
    assert adapter_bytes(shape, 16) == 16 * 81920 * 32 * 2


def test_adapters_lower_the_batch_and_render_lora_keys_the_container_reads():
    (pool,) = resolve_pools(load_deployments(EXAMPLE))
    (with_lora,) = [c for c in pool.components if c.adapters]
    options = with_lora.plan.serving_properties
    assert options["option.enable_lora"] == "true"
    assert options["option.max_loras"] == "2" and options["option.max_cpu_loras"] == "2"
    assert options["option.max_lora_rank"] == "32"
    assert with_lora.plan.memory["lora_bytes_per_device"] > 0
    assert conformance_problems(with_lora.plan.backend, with_lora.plan.container_version, options) == []


@pytest.mark.parametrize("version", ["0.28.0", "0.31.0", "0.32.0", "0.35.0", "0.36.0", "0.38.0"])
def test_lora_keys_are_read_at_every_vllm_version(version):
    keys = {"option.enable_lora": "true", "option.max_loras": "2", "option.max_lora_rank": "16",
            "option.max_cpu_loras": "2"}
    assert conformance_problems("vllm", version, keys) == []


def test_pool_members_plan_on_vllm_only():
    member = Member("a", Request(model="meta-llama/Llama-3.1-8B"), DEFAULT_COPIES,
                    (Adapter(name="x", s3_uri="s3://my-bucket/x.tar.gz"),))
    plan = plan_pool("p", EndpointPool(instance_type="ml.g5.12xlarge"), [member])
    assert {c.plan.backend for c in plan.components} == {"vllm"}
    assert load_catalog().backends["vllm"].accelerator_kind == "nvidia"

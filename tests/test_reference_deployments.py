"""What AWS and the DJL team published, held against the selector (issue 9).

Table-driven from tests/fixtures/reference_deployments.yaml (one row per published deployment, each with its
source). For every row:
(a) pinned to AWS's instance, TP, backend, quantization and container version (when the selector plans that
    version), resolve() accepts it, or refuses it for a reason listed in
    tests/fixtures/reference_expected_refusals.yaml (AWS's own error, or something the selector does not model;
    a known gap, where AWS reports a failure the model does not predict, is an xfail);
(b) the selector's own plan for the same request (same model and lengths, prefer cost, quantization only if AWS
    used it) is never dearer per hour than AWS's instance, and is feasible by the memory model.

Rows are skipped, with the reason printed, when the selector cannot express them at all: a backend it does not
plan (HF Accelerate), an instance type outside its catalog (g4dn, p5e, and the g6e sizes without a public hosting
price; instances.json left_out), or a model with no catalog entry. Rows on an opt-in family (g6, g6e, p5, p5en) are
pinned like any other, and the selector's own plan may use that family.

Every row asks for one full-length sequence (min_concurrency 1): that is what a published configuration
guarantees (vLLM refuses to start when max_model_len does not fit its KV cache); batch sizes AWS set are
rolling-batch caps, not full-length sequences held at once.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

import pytest
import yaml

from selector import Request, SelectorError, resolve
from selector.catalog import load_catalog
from selector.model_shape import catalog_entry, load_model

FIXTURES = Path(__file__).parent / "fixtures"
TABLE = FIXTURES / "reference_deployments.yaml"
REFUSALS = FIXTURES / "reference_expected_refusals.yaml"
EQUIVALENT = re.compile(r"catalog_equivalent(?: \([^)]*\))?: ([A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+)")


def _rows() -> list[dict[str, Any]]:
    if not TABLE.exists():
        return []
    return yaml.safe_load(TABLE.read_text())["deployments"]


@lru_cache(maxsize=1)
def _refusals() -> dict[str, dict[str, str]]:
    if not REFUSALS.exists():
        return {}
    return yaml.safe_load(REFUSALS.read_text())["refusals"]


def catalog_model(row: dict[str, Any]) -> str | None:
    """The catalog id for the published model: itself, or the equivalent its note names (a re-upload)."""
    if catalog_entry(row["model"]) is not None:
        return row["model"]
    found = EQUIVALENT.search(row.get("note") or "")
    if found and catalog_entry(found.group(1).rstrip(".")) is not None:
        return found.group(1).rstrip(".")
    return None


def planned_version(row: dict[str, Any]) -> str | None:
    """AWS's container version when the selector plans it for that backend, else None (backend pinned only)."""
    found = re.search(r"(\d+\.\d+\.\d+)", str(row.get("container_version") or ""))
    if not found:
        return None
    catalog = load_catalog()
    backend = catalog.backends[row["backend"]]
    versions = {img.version for c in backend.containers for img in catalog.images.in_range(c)}
    return found.group(1) if found.group(1) in versions else None


class Lengths(TypedDict, total=False):
    """The Request length fields a row sets (none: the selector's defaults)."""

    max_input_tokens: int
    max_output_tokens: int


def lengths(row: dict[str, Any], model: str) -> Lengths:
    """AWS's configured lengths as max input / max output tokens (none: the selector's defaults)."""
    total, given_in, given_out = row.get("max_model_len"), row.get("max_input_tokens"), row.get("max_output_tokens")
    if total:
        if given_in and given_in < total:
            return {"max_input_tokens": given_in, "max_output_tokens": total - given_in}
        output = min(512, total // 2)
        return {"max_input_tokens": total - output, "max_output_tokens": output}
    if given_in and given_out:
        return {"max_input_tokens": given_in, "max_output_tokens": given_out}
    if given_in or given_out:
        limit = load_model(model).max_positions
        if given_in:
            return {"max_input_tokens": given_in, "max_output_tokens": max(1, min(512, limit - given_in))}
        assert given_out is not None  # given_in is not, and one of the two is
        return {"max_input_tokens": max(1, limit - given_out), "max_output_tokens": given_out}
    return {}


def why_skipped(row: dict[str, Any]) -> str | None:
    catalog = load_catalog()
    if not row.get("backend_supported_by_us", True) or row["backend"] not in catalog.backends:
        return f"backend {row['backend']} is not one the selector plans"
    if row["instance_type"] not in catalog.instances:
        return f"instance {row['instance_type']} is not in the selector's catalog"
    if catalog_model(row) is None:
        return f"model {row['model']} has no catalog entry or catalog equivalent"
    return None


def pinned_request(row: dict[str, Any]) -> Request:
    model = catalog_model(row)
    assert model is not None, row["id"]  # why_skipped() skips rows without a catalog model
    quantization = row["quantization"] if row.get("quantization_kind") == "runtime" else None
    return Request(
        model=model, backend=row["backend"], instance_type=row["instance_type"],
        tensor_parallel_degree=row["tensor_parallel_degree"], container_version=planned_version(row),
        quantization=quantization, min_concurrency=1, options=dict(row.get("options") or {}), **lengths(row, model),
    )


def own_request(row: dict[str, Any]) -> Request:
    model = catalog_model(row)
    assert model is not None, row["id"]  # why_skipped() skips rows without a catalog model
    quantization = "auto" if row.get("quantization_kind") in ("runtime", "prequantized") else "none"
    # The same request may use AWS's own instance family (families beyond the seed ones are an opt-in).
    family = str(row["instance_type"]).split(".")[1]
    families = tuple(sorted(set(load_catalog().default_families) | {family})) \
        if family in load_catalog().families else ()
    return Request(model=model, prefer="cost", quantization=quantization, min_concurrency=1, families=families,
                   options=dict(row.get("options") or {}), **lengths(row, model))


ROWS = _rows()
IDS = [row["id"] for row in ROWS]


def test_table_has_enough_sourced_rows():
    assert len(ROWS) >= 40
    for row in ROWS:
        assert str(row["source"]).startswith("https://"), row["id"]
    assert len(set(IDS)) == len(IDS)


def test_every_documented_refusal_names_a_row_and_a_reason():
    for row_id, refusal in _refusals().items():
        assert row_id in IDS, row_id
        assert refusal["kind"] in ("aws-error", "unsupported-by-us", "known-gap"), row_id
        assert refusal["reason"] and refusal["expect"], row_id


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_published_deployment_is_accepted_when_pinned(row):
    skipped = why_skipped(row)
    if skipped:
        pytest.skip(skipped)
    refusal = _refusals().get(row["id"])
    if refusal and refusal["kind"] == "known-gap":
        pytest.xfail(f"known gap: {refusal['reason']}")
    try:
        plan = resolve(pinned_request(row))
    except SelectorError as exc:
        assert refusal is not None, f"{row['id']} refused without a documented reason: {exc.paragraph()}"
        assert refusal["expect"] in exc.paragraph(), exc.paragraph()
        return
    assert refusal is None, f"{row['id']} is documented as refused ({refusal['reason']}) but was accepted"
    assert (plan.instance_type, plan.tensor_parallel_degree, plan.backend) == \
        (row["instance_type"], row["tensor_parallel_degree"], row["backend"])
    if planned_version(row):
        assert plan.container_version == planned_version(row)
    mem = plan.memory
    assert mem["per_device_bytes"] <= mem["usable_per_device_bytes"]
    assert plan.max_batch_size >= 1


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_own_plan_is_never_dearer_than_aws(row):
    skipped = why_skipped(row)
    if skipped:
        pytest.skip(skipped)
    refusal = _refusals().get(row["id"])
    if refusal:  # AWS's run failed, or relied on something the selector does not plan: no like-for-like price
        pytest.skip(f"{refusal['kind']}: {refusal['reason']}")
    plan = resolve(own_request(row))
    aws_price = load_catalog().instances[row["instance_type"]].hourly_usd
    assert plan.hourly_usd <= aws_price, (
        f"{row['id']}: own plan {plan.instance_type} TP{plan.tensor_parallel_degree} {plan.backend} "
        f"${plan.hourly_usd}/h is dearer than AWS's {row['instance_type']} ${aws_price}/h")
    mem = plan.memory
    assert mem["per_device_bytes"] <= mem["usable_per_device_bytes"]
    assert plan.max_batch_size >= plan.min_concurrency

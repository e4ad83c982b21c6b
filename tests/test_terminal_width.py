"""Terminal output at 80 columns: no line longer than the terminal, identifiers and URIs folded, never cut."""
from __future__ import annotations

import io

import pytest
from rich.console import Console

from selector.deployments import load_deployments, resolve_all
from selector.report import print_catalog, print_deployments, print_plan
from selector.request import Request
from selector.resolve import resolve
from tests.test_stacks import DEFAULT

WIDTH = 80


def render(draw) -> str:
    out = io.StringIO()
    console = Console(width=WIDTH, file=out, color_system=None, legacy_windows=False)
    draw(console)
    return out.getvalue()


def unfolded(text: str) -> str:
    """The output with line breaks and padding removed, where a folded identifier reads whole again."""
    return "".join(text.split())


def assert_fits(text: str) -> None:
    too_long = [line for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long, too_long[:3]


@pytest.mark.parametrize("request_", [
    Request(model="meta-llama/Llama-2-70b-hf", region="us-west-2"),
    Request(model="hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", region="cn-north-1"),
    Request(model="google/flan-t5-xl", traffic="even", max_input_tokens=384, max_output_tokens=128),
], ids=["70b", "awq-china", "t5"])
def test_plan_fits_and_keeps_the_image_uri_whole(request_):
    plan = resolve(request_)
    text = render(lambda c: print_plan(plan, c))
    assert_fits(text)
    assert plan.image_uri in unfolded(text)
    for line in plan.rationale:
        assert unfolded(line) in unfolded(text)


@pytest.mark.parametrize("what", ["models", "instances", "backends"])
def test_catalog_listings_fit(what):
    text = render(lambda c: print_catalog(what, False, c))
    assert_fits(text)


def test_model_ids_and_image_tags_are_whole_in_listings():
    from selector.report import catalog_rows

    models = render(lambda c: print_catalog("models", False, c))
    for row in catalog_rows("models"):
        assert str(row["name"]) in models.splitlines() or str(row["name"]) in unfolded(models)
    backends = render(lambda c: print_catalog("backends", False, c))
    for row in catalog_rows("backends"):
        assert str(row["newest_image"] or "-") in unfolded(backends)


def test_deployments_table_fits():
    resolved = resolve_all(load_deployments(DEFAULT))
    text = render(lambda c: print_deployments(resolved, c))
    assert_fits(text)
    for item in resolved:
        assert item.plan.model_id in unfolded(text)


@pytest.mark.parametrize("what", ["models", "instances", "backends"])
def test_every_listing_is_a_list_of_flat_objects_with_a_name(what):
    from selector.report import catalog_rows

    rows = catalog_rows(what)
    assert rows and all(isinstance(r, dict) and isinstance(r["name"], str) for r in rows)
    assert len({tuple(sorted(r)) for r in rows}) == 1  # one shape per listing

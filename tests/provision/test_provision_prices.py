"""`python -m provision prices --refresh`: Price List API (stubbed with botocore's Stubber) -> instances.json.

Always on a temp copy of selector/data/instances.json (via --data-file); the real file is never written.
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from provision_testkit import ROOT, run, stubbed_client, use_clients
from provision.prices import canonical

DATA = ROOT / "selector" / "data" / "instances.json"


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    document = json.loads(DATA.read_text())
    document["as_of"] = document["price_as_of"] = "2020-01-01"  # so the refresh visibly moves the dates
    path = tmp_path / "instances.json"
    path.write_text(canonical(document))
    return path


def product(instance: str, usage_type: str, usd: str) -> str:
    sku = f"SKU{abs(hash((instance, usage_type))) % 10**8}"
    return json.dumps({
        "serviceCode": "AmazonSageMaker",
        "product": {"sku": sku, "productFamily": "ML Instance", "attributes": {
            "instanceName": instance, "regionCode": "us-east-1", "usagetype": usage_type, "location": "US East (N. Virginia)"}},
        "terms": {"OnDemand": {f"{sku}.JRTCKXETXF": {"offerTermCode": "JRTCKXETXF", "sku": sku, "priceDimensions": {
            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": usd},
                                             "description": f"${usd} per hour for {usage_type}"}}}}},
    })


def new_price(instance: str, old: float) -> str:
    """Every price moves except ml.g5.xlarge's, so the diff shows both cases."""
    return f"{old:.10f}" if instance == "ml.g5.xlarge" else f"{round(old * 1.1, 4):.10f}"


def pricing_client(prices: dict[str, list[str]]) -> tuple[Any, Any]:
    """Stub one GetProducts call per instance, in the refresh's (sorted) order."""
    client, stub = stubbed_client("pricing")
    for instance, items in sorted(prices.items()):
        stub.add_response("get_products", {"PriceList": items, "FormatVersion": "aws_v1"}, {
            "ServiceCode": "AmazonSageMaker", "FormatVersion": "aws_v1",
            "Filters": [{"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance},
                        {"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}],
        })
    return client, stub


def realistic(document: dict[str, Any]) -> dict[str, list[str]]:
    """The hosting price under AWS's real usage type (USE1-Host:<instance>, as the public SageMaker offer file and
    Cost and Usage Reports name it) plus the other SageMaker usage types the same instance is priced under, which the
    filter must skip: asynchronous inference (same rate as hosting: double counting would look ambiguous), batch
    transform, training, notebooks, processing."""
    return {
        name: [
            product(name, f"USE1-Train:{name}", "9.99"),
            product(name, f"USE1-Host:{name}", new_price(name, spec["hourly_usd"])),
            product(name, f"USE1-AsyncInf:{name}", new_price(name, spec["hourly_usd"])),
            product(name, f"USE1-Tsform:{name}", "7.77"),
            product(name, f"USE1-Notebk:{name}", "8.88"),
            product(name, f"USE1-Processing:{name}", "6.66"),
        ]
        for name, spec in document["instances"].items()
    }


def test_refresh_rewrites_prices_and_dates_canonically(data_file, monkeypatch):
    before = json.loads(data_file.read_text())
    assert len(before["instances"]) == len(json.loads(DATA.read_text())["instances"]) >= 14
    client, stub = pricing_client(realistic(before))
    use_clients(monkeypatch, pricing=client)
    result = run("prices", "--refresh", "--data-file", str(data_file))
    assert result.exit_code == 0, result.output
    stub.assert_no_pending_responses()
    text = data_file.read_text()
    after = json.loads(text)
    assert text == canonical(after) == json.dumps(after, indent=2, sort_keys=True) + "\n"
    today = date.today().isoformat()
    assert after["price_as_of"] == today and after["as_of"] == today
    for name, spec in before["instances"].items():
        assert after["instances"][name]["hourly_usd"] == float(new_price(name, spec["hourly_usd"]))
        price_keys = ("hourly_usd", "price_note", "price_confirmed", "price_as_of", "price_source")
        assert {k: v for k, v in after["instances"][name].items() if k not in price_keys} == \
               {k: v for k, v in spec.items() if k not in price_keys}
        assert "price_note" not in after["instances"][name], "the API confirmed the price"
        confirmed = after["instances"][name]
        assert confirmed["price_confirmed"] is True and confirmed["price_as_of"] == today
        assert "Price List API" in confirmed["price_source"]
    assert {k: v for k, v in after.items() if k not in ("instances", "as_of", "price_as_of")} == \
           {k: v for k, v in before.items() if k not in ("instances", "as_of", "price_as_of")}
    assert f"{len(before['instances']) - 1} price(s) changed" in result.stdout and "ml.g5.xlarge" not in result.stdout.split("wrote")[0]


def test_dry_run_prints_the_diff_and_writes_nothing(data_file, monkeypatch):
    original = data_file.read_text()
    before = json.loads(original)
    client, _ = pricing_client(realistic(before))
    use_clients(monkeypatch, pricing=client)
    result = run("prices", "--refresh", "--dry-run", "--data-file", str(data_file))
    assert result.exit_code == 0, result.output
    assert data_file.read_text() == original
    old = before["instances"]["ml.g5.2xlarge"]["hourly_usd"]
    assert f'-      "hourly_usd": {old},' in result.stdout
    assert f'+      "hourly_usd": {float(new_price("ml.g5.2xlarge", old))},' in result.stdout
    assert f'+  "price_as_of": "{date.today().isoformat()}",' in result.stdout
    assert "dry run:" in result.stdout and "not written" in result.stdout


def test_missing_or_ambiguous_price_writes_nothing(data_file, monkeypatch):
    original = data_file.read_text()
    prices = realistic(json.loads(original))
    prices["ml.g5.12xlarge"] = [product("ml.g5.12xlarge", "USE1-Train:ml.g5.12xlarge", "40.0")]  # a confirmed price vanished
    prices["ml.inf2.xlarge"].append(product("ml.inf2.xlarge", "Host:ml.inf2.xlarge", "0.5"))
    client, _ = pricing_client(prices)
    use_clients(monkeypatch, pricing=client)
    result = run("prices", "--refresh", "--data-file", str(data_file))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: price lookup failed, nothing written:")
    assert "ml.g5.12xlarge: no on-demand Hosting price in us-east-1" in result.stderr
    assert "ml.inf2.xlarge: several on-demand Hosting prices in us-east-1" in result.stderr
    assert data_file.read_text() == original


def test_prices_without_refresh_only_reads(data_file):
    result = run("prices", "--data-file", str(data_file))
    assert result.exit_code == 0
    assert "ml.g5.2xlarge" in result.stdout


def test_an_unconfirmed_price_the_api_lacks_stays_marked_and_is_reported(data_file, monkeypatch):
    """A third-party price for an instance the Price List API has no hosting rate for (yet) must not block every other
    refresh; it stays as it was, still unconfirmed, and the command names it."""
    before = json.loads(data_file.read_text())
    unconfirmed = sorted(n for n, i in before["instances"].items() if i.get("price_confirmed") is False)
    assert unconfirmed, "the catalog carries third-party prices (p4de, the newer families)"
    missing = unconfirmed[0]
    prices = realistic(before)
    prices[missing] = [product(missing, f"USE1-Train:{missing}", "40.0")]
    client, _ = pricing_client(prices)
    use_clients(monkeypatch, pricing=client)
    result = run("prices", "--refresh", "--data-file", str(data_file))
    assert result.exit_code == 0, result.output
    assert f"no Price List hosting rate for {missing}" in " ".join(result.stdout.split())
    after = json.loads(data_file.read_text())["instances"]
    assert after[missing] == before["instances"][missing]
    assert all(after[n]["price_confirmed"] for n in after if n != missing)

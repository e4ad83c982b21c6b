"""Refresh the on-demand hosting prices in selector/data/instances.json from the AWS Price List API.

The selector ranks instances by `hourly_usd`, and list prices drift; this is the one writer of that file
so a refresh is a reviewable one-line-per-instance diff (canonical JSON, sorted keys). Prices are for
real-time inference ("Hosting") in the file's `price_region`, on-demand, USD per hour. A `price_note`
(e.g. "UNCONFIRMED: ...") is dropped once the Price List API has confirmed that instance's price, and the
instance's price_confirmed / price_as_of / price_source say so.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

SERVICE_CODE = "AmazonSageMaker"
PRICING_API_REGION = "us-east-1"  # the Price List API is served from us-east-1 (and ap-south-1, eu-central-1)

# Real-time inference is billed under the usage type "<region>-Host:<instance>" (e.g. USE1-Host:ml.g5.xlarge in
# https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonSageMaker/current/us-east-1/index.json); the same
# instance also carries -AsyncInf:, -Tsform: (batch transform), -Train:, -Notebk: and -Processing: rates, which must
# not be read as the hosting price even where they are equal.
HOSTING_USAGE_PREFIX = "Host"
PRICE_LIST_SOURCE = ("AWS Price List API pricing:GetProducts, ServiceCode AmazonSageMaker, usage type "
                     "<region>-Host:<instance>, on-demand (python -m provision prices --refresh)")


def data_file() -> Path:
    return Path(__file__).resolve().parent.parent / "selector" / "data" / "instances.json"


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


class PriceLookupError(Exception):
    pass


def hosting_price(pricing: Any, instance_type: str, region_code: str) -> Decimal:
    """The single on-demand USD/hour price of real-time inference on `instance_type` in `region_code`."""
    usage = re.compile(rf"(?:^|-){HOSTING_USAGE_PREFIX}:{re.escape(instance_type)}$")
    found: dict[Decimal, str] = {}
    paginator = pricing.get_paginator("get_products")
    pages = paginator.paginate(
        ServiceCode=SERVICE_CODE,
        FormatVersion="aws_v1",
        Filters=[
            {"Type": "TERM_MATCH", "Field": "instanceName", "Value": instance_type},
            {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region_code},
        ],
    )
    for page in pages:
        for item in page.get("PriceList", []):
            product = json.loads(item) if isinstance(item, str) else item
            usage_type = product.get("product", {}).get("attributes", {}).get("usagetype", "")
            if not usage.search(usage_type):
                continue
            for term in product.get("terms", {}).get("OnDemand", {}).values():
                for dimension in term.get("priceDimensions", {}).values():
                    usd = dimension.get("pricePerUnit", {}).get("USD")
                    if usd is not None and dimension.get("unit", "Hrs").lower().startswith("hr") and Decimal(usd) > 0:
                        found[Decimal(usd).normalize()] = usage_type
    if not found:
        raise PriceLookupError(f"{instance_type}: no on-demand Hosting price in {region_code}")
    if len(found) > 1:
        listed = ", ".join(f"{p} ({u})" for p, u in sorted(found.items()))
        raise PriceLookupError(f"{instance_type}: several on-demand Hosting prices in {region_code}: {listed}")
    return next(iter(found))


@dataclass
class Refresh:
    path: Path
    old_text: str
    new_text: str
    changes: list[tuple[str, float, float]]  # (instance, old, new)
    still_unconfirmed: list[str]  # unconfirmed (third-party) prices the Price List API has no hosting rate for

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True), self.new_text.splitlines(keepends=True),
                fromfile=f"a/{self.path.name}", tofile=f"b/{self.path.name}",
            )
        )


def refresh_prices(pricing: Any, path: Path, today: date | None = None) -> Refresh:
    """Compute the refreshed file; raises PriceLookupError (listing every instance that failed) before writing."""
    old_text = path.read_text()
    document = json.loads(old_text)
    region_code = document.get("price_region", "us-east-1")
    errors, changes, kept = [], [], []
    stamp = (today or date.today()).isoformat()
    for name, instance in sorted(document["instances"].items()):
        try:
            price = float(hosting_price(pricing, name, region_code))
        except PriceLookupError as error:
            # A confirmed price that vanished means the lookup is wrong: refuse. An unconfirmed one (a third-party
            # figure for a family the region may not host yet) stays as it is, still marked, and is reported.
            if instance.get("price_confirmed", True) or "several" in str(error):
                errors.append(str(error))
            else:
                kept.append(name)
            continue
        if instance.get("hourly_usd") != price:
            changes.append((name, instance.get("hourly_usd"), price))
        instance["hourly_usd"] = price
        instance.pop("price_note", None)
        instance.update(price_confirmed=True, price_as_of=stamp, price_source=PRICE_LIST_SOURCE)
    if errors:
        raise PriceLookupError("; ".join(errors))
    document["price_as_of"] = stamp
    document["as_of"] = stamp
    return Refresh(path, old_text, canonical(document), changes, kept)

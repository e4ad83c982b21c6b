"""The backend's LMI image at that container version is published in the request's region.

Regions come from selector/data/images.json, generated from sagemaker-core's image_uri_config by
scripts/refresh_images.py.
"""
from __future__ import annotations

from selector.rules.base import Candidate, Context, Rejection

NAME = "image_in_region"


def check(candidate: Candidate, ctx: Context) -> Rejection | None:
    region = ctx.request.region
    image = candidate.image
    if region in image.regions:
        return None
    return Rejection(
        NAME,
        f"{image.framework} {image.version} ({image.tag}) is not published in {region}; "
        f"regions that have it: {', '.join(sorted(image.regions))}",
    )

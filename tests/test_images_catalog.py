"""Tests for the generated LMI image catalog (selector/data/images.json) and its generator.

The catalog checks and the ``build_catalog`` unit tests always run.  The comparison
with a fresh build from the installed ``sagemaker-core`` (requirements-refresh.txt) is
skipped when that package is not installed.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from scripts.refresh_images import build_catalog, render

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES_JSON = REPO_ROOT / "selector" / "data" / "images.json"

TOP_LEVEL_KEYS = {
    "as_of",
    "generated_by",
    "source",
    "repository",
    "domains",
    "registries",
    "frameworks",
}

# Shape of each framework's tags, so a refresh that maps a file to the wrong family fails.
TAG_PATTERNS = {
    "djl-lmi": r"^\d+\.\d+\.\d+-lmi\d+\.\d+\.\d+-cu\d+$",
    "djl-tensorrtllm": r"^\d+\.\d+\.\d+-tensorrtllm\d+\.\d+\.\d+-cu\d+$",
    "djl-neuronx": r"^\d+\.\d+\.\d+-neuronx-sdk\d+\.\d+\.\d+$",
    "djl-deepspeed": r"^\d+\.\d+\.\d+-deepspeed\d+\.\d+\.\d+-cu\d+$",
}


def _vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


@pytest.fixture(scope="module")
def text() -> str:
    return IMAGES_JSON.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def catalog(text: str) -> dict:
    return json.loads(text)


# --------------------------------------------------------------------------- checked-in file


def test_canonical_form(text: str) -> None:
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_top_level_metadata(catalog: dict) -> None:
    assert set(catalog) == TOP_LEVEL_KEYS
    dt.date.fromisoformat(catalog["as_of"])
    assert catalog["generated_by"] == "scripts/refresh_images.py"
    assert catalog["source"].startswith("sagemaker-core ")
    assert "Apache-2.0" in catalog["source"]
    assert catalog["repository"] == "djl-inference"
    assert set(catalog["frameworks"]) == set(TAG_PATTERNS)


def test_every_region_has_account_and_domain(catalog: dict) -> None:
    used: set[str] = set()
    for name, fw in catalog["frameworks"].items():
        for version, entry in fw["versions"].items():
            assert entry["regions"], (name, version)
            assert entry["regions"] == sorted(set(entry["regions"])), (name, version)
            used.update(entry["regions"])
    for region in used:
        assert re.fullmatch(r"\d{12}", catalog["registries"].get(region, "")), region
        assert catalog["domains"].get(region), region
    # No stray entries either: domains/registries cover exactly the regions in use.
    assert set(catalog["registries"]) == used
    assert set(catalog["domains"]) == used


@pytest.mark.parametrize(
    ("region", "domain"),
    [
        ("us-east-1", "amazonaws.com"),
        ("cn-north-1", "amazonaws.com.cn"),
        ("cn-northwest-1", "amazonaws.com.cn"),
    ],
)
def test_known_domains(catalog: dict, region: str, domain: str) -> None:
    assert catalog["domains"][region] == domain


def test_partition_domains_are_not_commercial(catalog: dict) -> None:
    for region, domain in catalog["domains"].items():
        if region.startswith("cn-"):
            assert domain == "amazonaws.com.cn", region
        if region.startswith(("us-iso-", "us-isob-", "us-isof-", "eu-isoe-")):
            assert domain != "amazonaws.com", region


@pytest.mark.parametrize("name", sorted(TAG_PATTERNS))
def test_tags_and_latest(catalog: dict, name: str) -> None:
    fw = catalog["frameworks"][name]
    assert set(fw) == {"latest", "versions"}
    assert fw["latest"] in fw["versions"]
    for version, entry in fw["versions"].items():
        assert set(entry) == {"tag", "regions"}
        assert entry["tag"].startswith(version + "-"), (version, entry["tag"])
        assert re.match(TAG_PATTERNS[name], entry["tag"]), entry["tag"]
    latest = fw["versions"][fw["latest"]]
    assert "us-east-1" in latest["regions"]


def test_lmi_latest_sanity(catalog: dict) -> None:
    fw = catalog["frameworks"]["djl-lmi"]
    # At least as new as what the catalog was first generated with (0.38.0-lmi29.0.0-cu130).
    assert _vkey(fw["latest"]) >= (0, 38, 0)
    assert re.fullmatch(TAG_PATTERNS["djl-lmi"], fw["versions"][fw["latest"]]["tag"])
    assert catalog["registries"]["us-east-1"] == "763104351884"


# --------------------------------------------------------------------------- build_catalog


def _raw() -> dict[str, dict]:
    """Two frameworks, two regions; one 'latest' alias (pointing below the highest)."""
    regs = {"us-east-1": "763104351884", "cn-north-1": "727897471807"}
    return {
        "djl-lmi": {
            "scope": ["inference"],
            "version_aliases": {"latest": "0.9.0"},
            "versions": {
                "0.9.0": {
                    "registries": dict(regs),
                    "repository": "djl-inference",
                    "tag_prefix": "0.9.0-lmi1.0.0-cu124",
                },
                "0.10.0": {
                    "registries": {"us-east-1": "763104351884"},
                    "repository": "djl-inference",
                    "tag_prefix": "0.10.0-lmi2.0.0-cu128",
                },
            },
        },
        "djl-deepspeed": {
            "scope": ["inference"],
            "versions": {
                "0.9.0": {
                    "registries": dict(regs),
                    "repository": "djl-inference",
                    "tag_prefix": "0.9.0-deepspeed0.1.0-cu118",
                },
                "0.10.0": {
                    "registries": dict(regs),
                    "repository": "djl-inference",
                    "tag_prefix": "0.10.0-deepspeed0.2.0-cu121",
                },
            },
        },
    }


DOMAINS = {
    "us-east-1": "amazonaws.com",
    "cn-north-1": "amazonaws.com.cn",
    "eu-west-1": "amazonaws.com",
}

EXPECTED = {
    "generated_by": "scripts/refresh_images.py",
    "source": (
        "sagemaker-core 9.9.9: sagemaker/core/image_uri_config/djl-{deepspeed,lmi}.json"
        " (Apache-2.0)"
    ),
    "repository": "djl-inference",
    "domains": {"cn-north-1": "amazonaws.com.cn", "us-east-1": "amazonaws.com"},
    "registries": {"cn-north-1": "727897471807", "us-east-1": "763104351884"},
    "frameworks": {
        "djl-lmi": {
            "latest": "0.9.0",
            "versions": {
                "0.9.0": {"tag": "0.9.0-lmi1.0.0-cu124", "regions": ["cn-north-1", "us-east-1"]},
                "0.10.0": {"tag": "0.10.0-lmi2.0.0-cu128", "regions": ["us-east-1"]},
            },
        },
        "djl-deepspeed": {
            "latest": "0.10.0",
            "versions": {
                "0.9.0": {
                    "tag": "0.9.0-deepspeed0.1.0-cu118",
                    "regions": ["cn-north-1", "us-east-1"],
                },
                "0.10.0": {
                    "tag": "0.10.0-deepspeed0.2.0-cu121",
                    "regions": ["cn-north-1", "us-east-1"],
                },
            },
        },
    },
}


def test_build_catalog_expected_output() -> None:
    notes: list[str] = []
    got = build_catalog(_raw(), DOMAINS, "9.9.9", notes=notes)
    assert got == EXPECTED
    # Only regions actually used end up in domains (eu-west-1 was offered but unused).
    assert "eu-west-1" not in got["domains"]
    assert any("djl-lmi: latest = 0.9.0" in n and "version_aliases" in n for n in notes)
    assert any("djl-deepspeed: latest = 0.10.0" in n and "highest" in n for n in notes)


def test_build_catalog_as_of_and_determinism() -> None:
    a = build_catalog(_raw(), DOMAINS, "9.9.9", as_of="2026-11-26")
    b = build_catalog(_raw(), dict(reversed(list(DOMAINS.items()))), "9.9.9", as_of="2026-11-26")
    assert a == {**EXPECTED, "as_of": "2026-11-26"}
    assert render(a) == render(b)
    assert render(a).endswith("}\n")


def _mutate(path: tuple[str, ...], value: object) -> dict:
    raw = _raw()
    node: dict = raw
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "framework", "versions", "latest", "note"),
    [
        pytest.param(  # version without a tag is dropped
            _mutate(("djl-deepspeed", "versions", "0.10.0", "tag_prefix"), None),
            "djl-deepspeed",
            ["0.9.0"],
            "0.9.0",
            "no tag_prefix",
            id="no-tag",
        ),
        pytest.param(  # version with no regions is dropped
            _mutate(("djl-deepspeed", "versions", "0.10.0", "registries"), {}),
            "djl-deepspeed",
            ["0.9.0"],
            "0.9.0",
            "no registries",
            id="no-registries",
        ),
        pytest.param(  # alias pointing at a dropped version falls back to the highest
            _mutate(("djl-lmi", "versions", "0.9.0", "tag_prefix"), None),
            "djl-lmi",
            ["0.10.0"],
            "0.10.0",
            "not in the catalog",
            id="alias-dropped",
        ),
        pytest.param(  # no alias: numeric, not lexical, comparison
            _mutate(("djl-lmi", "version_aliases"), None),
            "djl-lmi",
            ["0.10.0", "0.9.0"],
            "0.10.0",
            "numeric",
            id="numeric-highest",
        ),
    ],
)
def test_build_catalog_drops_and_latest(
    raw: dict, framework: str, versions: list, latest: str, note: str
) -> None:
    notes: list[str] = []
    got = build_catalog(raw, DOMAINS, "9.9.9", notes=notes)
    fw = got["frameworks"][framework]
    assert sorted(fw["versions"]) == sorted(versions)
    assert fw["latest"] == latest
    assert any(note in n for n in notes), notes


def test_build_catalog_drops_non_inference_scope() -> None:
    raw = _raw()
    raw["djl-deepspeed"]["scope"] = ["training"]
    notes: list[str] = []
    got = build_catalog(raw, DOMAINS, "9.9.9", notes=notes)
    assert set(got["frameworks"]) == {"djl-lmi"}
    assert any("dropped framework djl-deepspeed" in n and "scope" in n for n in notes)


def test_build_catalog_appends_sdk_tag_parts() -> None:
    # If a config ever gains processors/py_versions, the stored tag is the full SDK tag (GPU).
    raw = _raw()
    raw["djl-lmi"]["versions"]["0.10.0"].update(processors=["cpu", "gpu"], py_versions=["py311"])
    got = build_catalog(raw, DOMAINS, "9.9.9")
    assert (
        got["frameworks"]["djl-lmi"]["versions"]["0.10.0"]["tag"]
        == "0.10.0-lmi2.0.0-cu128-gpu-py311"
    )


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        pytest.param(
            lambda r: r["djl-deepspeed"]["versions"]["0.9.0"]["registries"].update(
                {"us-east-1": "111111111111"}
            ),
            "conflicting ECR accounts for us-east-1",
            id="conflicting-account-across-files",
        ),
        pytest.param(
            lambda r: r["djl-lmi"]["versions"]["0.10.0"]["registries"].update(
                {"cn-north-1": "222222222222"}
            ),
            "conflicting ECR accounts for cn-north-1",
            id="conflicting-account-within-file",
        ),
        pytest.param(
            lambda r: r["djl-lmi"]["versions"]["0.10.0"]["registries"].update(
                {"ap-south-9": "763104351884"}
            ),
            "no DNS domain",
            id="region-without-domain",
        ),
        pytest.param(
            lambda r: r["djl-lmi"]["versions"]["0.10.0"]["registries"].update(
                {"us-east-1": "7631"}
            ),
            "12 digits",
            id="bad-account",
        ),
        pytest.param(
            lambda r: r["djl-lmi"]["versions"]["0.10.0"].update(repository="other-repo"),
            "single ECR repository",
            id="two-repositories",
        ),
    ],
)
def test_build_catalog_raises(mutate, match: str) -> None:
    raw = _raw()
    mutate(raw)
    with pytest.raises(ValueError, match=match):
        build_catalog(raw, DOMAINS, "9.9.9")


def test_build_catalog_does_not_mutate_input() -> None:
    raw = _raw()
    before = copy.deepcopy(raw)
    build_catalog(raw, DOMAINS, "9.9.9")
    assert raw == before


# ------------------------------------------------------------------ against the installed SDK


def test_checked_in_file_matches_installed_sdk(catalog: dict) -> None:
    pytest.importorskip("sagemaker.core")
    from scripts.refresh_images import load_installed

    raw, domains, source_version = load_installed()
    fresh = build_catalog(raw, domains, source_version)
    checked_in = {k: v for k, v in catalog.items() if k != "as_of"}
    assert checked_in == fresh, "images.json is stale: run python scripts/refresh_images.py"


INSTANCE_TYPES = {
    "djl-lmi": "ml.g5.2xlarge",
    "djl-tensorrtllm": "ml.g5.2xlarge",
    "djl-deepspeed": "ml.g5.2xlarge",
    "djl-neuronx": "ml.inf2.xlarge",
}


def test_catalog_uris_match_sdk_retrieve(catalog: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every (framework, version, region) URI rebuilt from the catalog equals the SDK's."""
    pytest.importorskip("sagemaker.core")
    from sagemaker.core import common_utils, image_uris

    # The SDK re-parses botocore's endpoints.json on every retrieve(); build it once.
    resolver = common_utils._botocore_resolver()
    monkeypatch.setattr(common_utils, "_botocore_resolver", lambda: resolver)

    for name, fw in catalog["frameworks"].items():
        for version, entry in fw["versions"].items():
            for region in entry["regions"]:
                ours = (
                    f"{catalog['registries'][region]}.dkr.ecr.{region}.{catalog['domains'][region]}"
                    f"/{catalog['repository']}:{entry['tag']}"
                )
                sdk = image_uris.retrieve(
                    name,
                    region=region,
                    version=version,
                    instance_type=INSTANCE_TYPES[name],
                    image_scope="inference",
                )
                assert ours == sdk, (name, version, region)
        # The SDK's own default ("latest" alias / newest) agrees with our latest pointer.
        region = "us-east-1"
        default = image_uris.retrieve(
            name, region=region, instance_type=INSTANCE_TYPES[name], image_scope="inference"
        )
        assert default.endswith(":" + fw["versions"][fw["latest"]]["tag"]), (name, default)

"""Fixtures for the provision tests: one synthesized cloud assembly and one moto server per session.

The app is synthesized once per session (in-process, sharing the jsii runtime with the other tests) and every
test deploys from that directory (or a copy it edits), so the tests exercise the real templates of
deployments/default.yaml.
The moto server runs in this process, which is what lets moto_cloud.moto_fixes() patch it.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from moto_cloud import MotoCloud, moto_fixes
from provision_testkit import HERE, ROOT, aws_env


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """moto warns once per resource type it skips (alarms, autoscaling); known and asserted elsewhere."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore:Tried to parse AWS::"))


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cdk.out of deployments/default.yaml, synthesized once into a temp dir (never the repo's cdk.out), in this
    process: app.py's own build_app, with the cdk.json context tests/conftest.py exports (as `cdk synth` would)."""
    import aws_cdk as cdk

    from app import build_app

    out = tmp_path_factory.mktemp("cdk.out")
    build_app(str(ROOT / "deployments" / "default.yaml"), cdk.App(outdir=str(out))).synth()
    assert (out / "manifest.json").is_file()
    return out


@pytest.fixture
def assembly_copy(assembly: Path, tmp_path: Path) -> Path:
    """A private copy a test may edit (templates, assets) without affecting the others."""
    return Path(shutil.copytree(assembly, tmp_path / "cdk.out"))


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoCloud]:
    server = MotoCloud("localhost")  # the CDK CLI's path-style template URLs resolve in moto for this name only
    yield server
    server.stop()


@pytest.fixture
def cloud(moto_server: MotoCloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoCloud]:
    """A fresh, CDK-bootstrapped (us-east-1, us-west-2) local account; boto3 pointed at it via AWS_ENDPOINT_URL."""
    with moto_fixes():
        moto_server.reset()
        moto_server.bootstrap("us-east-1", "us-west-2")
        aws_env(monkeypatch, moto_server.env("us-east-1"))
        yield moto_server

"""What reviewers and deploys see: cfn-lint clean, snapshot-stable and byte-identical across synths."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from cfnlint.api import ManualArgs, lint

from app import build_app
from tests.test_stacks import COVERAGE, DEFAULT


def synth_to(path: str, outdir: Path) -> Path:
    build_app(path, cdk.App(outdir=str(outdir))).synth()
    return outdir


@pytest.fixture(scope="session")
def default_out(tmp_path_factory) -> Path:
    return synth_to(DEFAULT, tmp_path_factory.mktemp("default-a"))


@pytest.fixture(scope="session")
def coverage_out(tmp_path_factory) -> Path:
    return synth_to(COVERAGE, tmp_path_factory.mktemp("coverage-out"))


def templates(outdir: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(outdir.glob("*.template.json"))}


def test_default_has_the_promised_range(default_out):
    names = set(templates(default_out))
    assert len(names) >= 5
    text = "".join(templates(default_out).values())
    for fragment in ("lmi29.0.0", "tensorrtllm0.21.0", "flan-t5", "ml.g5.48xlarge", "ml.inf2", "neuronx"):
        assert fragment in text, fragment


def stack_regions(outdir: Path) -> dict[str, str]:
    """Template file -> the region its stack targets (region-agnostic stacks are linted in us-east-1)."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    regions = {}
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") == "aws:cloudformation:stack":
            region = artifact["environment"].rsplit("/", 1)[-1]
            regions[artifact["properties"]["templateFile"]] = "us-east-1" if region == "unknown-region" else region
    return regions


@pytest.mark.parametrize("which", ["default", "coverage"])
def test_cfn_lint_finds_no_errors(which, default_out, coverage_out):
    outdir = default_out if which == "default" else coverage_out
    problems = []
    regions = stack_regions(outdir)
    for name, text in templates(outdir).items():
        matches = lint(text, config=ManualArgs(regions=[regions[name]]))
        errors = [m for m in matches if m.rule.id.startswith("E")]
        problems += [f"{name}: {m.rule.id} {m.message}" for m in errors]
    assert problems == []


def test_two_synths_are_byte_identical(default_out, tmp_path):
    again = synth_to(DEFAULT, tmp_path / "b")
    first = {p.name: p.read_bytes() for p in default_out.iterdir() if p.is_file() and p.suffix in (".json", ".gz")}
    second = {p.name: p.read_bytes() for p in again.iterdir() if p.is_file() and p.suffix in (".json", ".gz")}
    assert first.keys() == second.keys()
    for name in first:
        if name in ("manifest.json", "tree.json"):
            continue
        assert first[name] == second[name], name
    assert any(name.endswith(".tar.gz") for name in first), "tarball assets are part of the comparison"


def test_templates_match_snapshot(default_out, snapshot):
    """Reviewers see template diffs in tests/__snapshots__; update with: pytest --snapshot-update."""
    for name, text in templates(default_out).items():
        assert json.loads(text) == snapshot(name=name)


def test_tarball_holds_only_serving_properties(default_out):
    import tarfile

    archives = sorted(default_out.glob("asset.*.tar.gz"))
    assert archives
    with tarfile.open(archives[0]) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["serving.properties"]
        assert members[0].mtime == 0 and members[0].uid == 0
        text = tar.extractfile(members[0]).read().decode()
    assert text.startswith("# serving.properties rendered by lmi-endpoints")

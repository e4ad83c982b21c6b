"""cdk-nag: AwsSolutions and HIPAA Security pass on every stack, and every acknowledgment says why."""
from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest

from app import build_app
from stacks import nag
from tests.test_stacks import COVERAGE, DEFAULT


def synth_report(path: str, outdir: Path) -> dict:
    build_app(path, cdk.App(outdir=str(outdir))).synth()
    return json.loads((outdir / "validation-report.json").read_text())


@pytest.mark.parametrize("path", [DEFAULT, COVERAGE], ids=["default", "coverage"])
def test_packs_pass_with_zero_unacknowledged_findings(path, tmp_path):
    report = synth_report(path, tmp_path)
    conclusions = {p["pluginName"]: (p["conclusion"], len(p["violations"])) for p in report["pluginReports"]}
    assert conclusions["AwsSolutions"] == ("success", 0)
    assert conclusions["HIPAA.Security"] == ("success", 0)


def acknowledgments(outdir: Path) -> dict[str, str]:
    """Every acknowledged finding id -> its reason, from the cloud assembly's metadata."""
    found: dict[str, str] = {}
    for metadata in outdir.glob("*.metadata.json"):
        for entries in json.loads(metadata.read_text()).values():
            for entry in entries:
                if entry["type"] == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    found.update(entry["data"])
    return found


def test_every_acknowledgment_has_a_specific_reason(tmp_path):
    synth_report(COVERAGE, tmp_path)
    found = acknowledgments(tmp_path)
    assert any("AwsSolutions-IAM5" in rule for rule in found)
    assert any("SageMakerEndpointConfigurationKMSKeyConfigured" in rule for rule in found)
    assert all(len(reason) >= 40 for reason in found.values()), found
    assert len(set(found.values())) >= 5  # reasons are per finding, not one blanket sentence


def test_kms_rule_is_satisfied_not_acknowledged_when_a_key_is_set(tmp_path):
    synth_report(COVERAGE, tmp_path)
    private = json.loads((tmp_path / "lmi-private-s3.metadata.json").read_text())
    assert "SageMakerEndpointConfigurationKMSKeyConfigured" not in json.dumps(private)
    public = json.loads((tmp_path / "lmi-vllm-g5.metadata.json").read_text())
    assert "SageMakerEndpointConfigurationKMSKeyConfigured" in json.dumps(public)


def test_nag_is_live_without_the_acknowledgments(tmp_path, monkeypatch):
    """The packs really run: drop our acknowledgments and the same synth fails on the role's wildcard."""
    monkeypatch.setattr("stacks.lmi_endpoint_stack.acknowledge_endpoint_findings", lambda scope, resolved: None)
    with pytest.raises(RuntimeError, match="AwsSolutions-IAM5"):
        build_app(DEFAULT, cdk.App(outdir=str(tmp_path))).synth()


def test_pipeline_reasons_cover_only_pipeline_owned_constructs():
    pipeline_role = {"constructPath": "lmi-pipeline/Pipeline/Pipeline/Role/DefaultPolicy/Resource"}
    ours = {"constructPath": "lmi-pipeline/staging/lmi-chat/Endpoint/Policy/Resource"}
    report = {"pluginReports": [{"pluginName": "AwsSolutions", "violations": [
        {"ruleName": "AwsSolutions-IAM5[Resource::*]", "violatingConstructs": [pipeline_role, ours]},
        {"ruleName": "AwsSolutions-SMG4", "violatingConstructs": [pipeline_role]},
    ]}]}
    assert nag.pipeline_findings(report) == []  # mixed owners and unlisted rules are never acknowledged
    report["pluginReports"][0]["violations"][0]["violatingConstructs"] = [pipeline_role]
    assert nag.pipeline_findings(report) == ["AwsSolutions::AwsSolutions-IAM5[Resource::*]"]


def test_acknowledged_patterns_are_the_projects_own(tmp_path):
    """Every IAM5 acknowledgment names a wildcard this project adds: '*' itself, the endpoint's log streams, or a
    literal bucket/prefix followed by the single '*' the policy appends."""
    synth_report(COVERAGE, tmp_path)
    found = acknowledgments(tmp_path)
    iam5 = [rule for rule in found if "IAM5" in rule]
    eni = "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:" \
          "network-interface/*]"
    assert "ec2:Subnet" in found[eni]  # the VPC role's one wildcard, and why it is bounded
    assert "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::example-capture/llama/*]" in found
    for rule in iam5:
        resource = rule.split("[Resource::", 1)[1].removesuffix("]")
        assert resource == "*" or resource.count("*") == 1 and resource.endswith("*"), rule

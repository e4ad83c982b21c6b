"""`python -m provision deploy / destroy`: thin wrappers over the pinned CDK CLI, preflight before, verify after.

Two kinds of tests: the real CDK CLI (node_modules/.bin/cdk) deploying the real templates of
deployments/default.yaml into the local moto cloud, and a recording stand-in CLI (LMI_ENDPOINTS_CDK_CLI)
that shows exactly which command line, environment and exit code the wrapper passes through.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from moto_cloud import assets_bucket
from provision_testkit import ROOT, create_stack, run, stubbed_client, use_clients
from test_provision_preflight import instance_type, quota, quotas_client

UNEVEN = "lmi-llama3-8b-uneven"
ENV_DELIVERY = "lmi-mistral-7b-cost"
PINNED = "lmi-llama2-70b"
ANSWER = [{"generated_text": " Amazon SageMaker is a fully managed ML service."}]
REAL_CLI = pytest.mark.skipif(not (ROOT / "node_modules" / ".bin" / "cdk").exists(),
                              reason="the pinned CDK CLI is not installed (`npm ci`, done by `make test`)")


def model_asset(app: Path, stack: str) -> tuple[Path, str]:
    """(local tarball, S3 key) of the stack's serving.properties asset."""
    manifest = json.loads((app / f"{stack}.assets.json").read_text())
    (asset,) = [a for a in manifest["files"].values() if a["source"]["path"].endswith(".tar.gz")]
    (destination,) = asset["destinations"].values()
    return app / asset["source"]["path"], destination["objectKey"]


@pytest.fixture
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in `cdk` that records argv and the region it was given, prints two lines, exits FAKE_CDK_EXIT."""
    log = tmp_path / "cdk-calls.jsonl"
    script = tmp_path / "cdk"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(log)!r}, 'a') as f:\n"
        "    f.write(json.dumps({'args': sys.argv[1:], 'region': os.environ.get('AWS_REGION'),\n"
        "                        'notices': os.environ.get('CDK_DISABLE_VERSION_CHECK')}) + '\\n')\n"
        "print('fake cdk: working'); print('fake cdk: done', file=sys.stderr)\n"
        "sys.exit(int(os.environ.get('FAKE_CDK_EXIT', '0')))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("LMI_ENDPOINTS_CDK_CLI", str(script))
    return log


def calls(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# --- the real CDK CLI against the local cloud ---------------------------------------------------------

@REAL_CLI
def test_deploy_is_preflight_then_cdk_deploy_then_verify_and_destroy_is_idempotent(cloud, assembly, monkeypatch):
    app = str(assembly)
    use_clients(monkeypatch, service_quotas=quotas_client([quota(instance_type(assembly, UNEVEN), 4)]))
    cloud.answer_invocations(ANSWER)
    result = run("deploy", "--app", app, "--stack", UNEVEN)
    assert result.exit_code == 0, result.output
    out = result.stdout
    preflight, cli, verify = out.index("preflight passed"), out.index("$ cdk deploy --app"), out.index("endpoint llama3")
    assert preflight < cli < verify, "preflight, then the CDK CLI, then verify"
    assert f"✅  {UNEVEN}" in out and "CREATE_COMPLETE" in out, "the CLI's own progress is passed through"
    assert "endpoint llama3-8b-uneven: InService" in out and "fully managed ML service" in out

    assert cloud.endpoints("us-east-1") == {"llama3-8b-uneven": "InService"}
    tarball, key = model_asset(assembly, UNEVEN)
    s3 = cloud.client("s3")
    assert s3.get_object(Bucket=assets_bucket("us-east-1"), Key=key)["Body"].read() == tarball.read_bytes()
    stack = cloud.client("cloudformation").describe_stacks(StackName=UNEVEN)["Stacks"][0]
    assert {"Key": "lmi:model", "Value": "meta-llama/Meta-Llama-3-8B"} in stack["Tags"]

    result = run("deploy", "--app", app, "--stack", UNEVEN, "--no-preflight", "--no-verify")
    assert result.exit_code == 0, result.output
    assert "(no changes)" in result.stdout and "endpoint llama3" not in result.stdout

    result = run("destroy", "--app", app, "--stack", UNEVEN)
    assert result.exit_code == 2 and "without --yes" in result.stderr
    result = run("destroy", "--app", app, "--stack", UNEVEN, "--yes")
    assert result.exit_code == 0, result.output
    assert f"{UNEVEN}: destroyed" in result.stdout
    assert cloud.endpoints("us-east-1") == {}
    result = run("destroy", "--app", app, "--stack", UNEVEN, "--yes")
    assert result.exit_code == 0, result.output
    assert f"{UNEVEN}: already gone" in result.stdout and "$ cdk" not in result.stdout


@REAL_CLI
def test_failed_deployment_passes_the_cli_exit_code_through(cloud, assembly_copy):
    path = assembly_copy / f"{ENV_DELIVERY}.template.json"
    template = json.loads(path.read_text())
    (config,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::SageMaker::EndpointConfig"]
    config["Properties"]["ProductionVariants"][0]["InstanceType"] = "ml.bogus.xlarge"
    path.write_text(json.dumps(template))
    result = run("deploy", "--app", str(assembly_copy), "--stack", ENV_DELIVERY, "--no-preflight")
    assert result.exit_code == 1, result.output
    assert "ml.bogus.xlarge" in result.stdout, "the CLI's failure reason is passed through"
    assert "cdk deploy exited 1" in result.stdout and "endpoint mistral" not in result.stdout
    assert cloud.endpoints("us-east-1") == {}


# --- what the wrapper passes to the CLI (stand-in CLI) ------------------------------------------------

def test_command_line_environment_output_and_exit_code_are_passed_through(cloud, assembly, fake_cli, monkeypatch):
    app = str(assembly)
    result = run("deploy", "--app", app, "--stack", UNEVEN, "--stack", PINNED, "--no-preflight", "--no-verify")
    assert result.exit_code == 0, result.output
    (call,) = calls(fake_cli)
    assert call["args"] == ["deploy", "--app", app, "--no-notices", "--require-approval", "never",
                            "--progress", "events", UNEVEN, PINNED]
    assert call["region"] == "us-east-1", "region-agnostic stacks go where boto3 would"
    assert call["notices"] == "1"
    assert "fake cdk: working" in result.stdout and "fake cdk: done" in result.stdout

    monkeypatch.setenv("FAKE_CDK_EXIT", "3")
    result = run("deploy", "--app", app, "--all", "--no-preflight", "--require-approval", "broadening")
    assert result.exit_code == 3
    assert calls(fake_cli)[-1]["args"][-5:] == ["--require-approval", "broadening", "--progress", "events", "--all"]
    assert "cdk deploy exited 3" in result.stdout


def test_deploy_failure_prints_sagemakers_own_reason(cloud, assembly, fake_cli, monkeypatch):
    monkeypatch.setenv("FAKE_CDK_EXIT", "1")
    sagemaker, stub = stubbed_client("sagemaker")
    stub.add_response("describe_endpoint", {
        "EndpointName": "mistral-7b-cost", "EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/m",
        "EndpointConfigName": "c", "EndpointStatus": "Failed", "CreationTime": "2026-01-01T00:00:00Z",
        "LastModifiedTime": "2026-01-01T00:00:00Z",
        "FailureReason": "The primary container for production variant AllTraffic did not pass the ping health check.",
    }, {"EndpointName": "mistral-7b-cost"})
    use_clients(monkeypatch, sagemaker=sagemaker)
    result = run("deploy", "--app", str(assembly), "--stack", ENV_DELIVERY, "--no-preflight")
    assert result.exit_code == 1
    assert "Endpoint mistral-7b-cost is Failed: The primary container for production variant AllTraffic" in result.stdout
    stub.assert_no_pending_responses()


def test_preflight_problems_stop_before_the_cli_runs(cloud, assembly, fake_cli, monkeypatch):
    use_clients(monkeypatch, service_quotas=quotas_client([quota(instance_type(assembly, UNEVEN), 4)]))
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN, "--region", "eu-west-1")
    assert result.exit_code == 1, result.output
    assert "the account is not CDK-bootstrapped in eu-west-1" in result.stdout and "nothing deployed" in result.stdout
    assert calls(fake_cli) == []


def test_pinned_region_conflict_and_stack_selection_are_refused_before_the_cli(cloud, assembly, fake_cli):
    result = run("deploy", "--app", str(assembly), "--stack", PINNED, "--region", "us-east-1", "--no-preflight")
    assert result.exit_code == 2 and "synthesized for us-west-2" in result.stderr
    for args in ((), ("--all", "--stack", UNEVEN)):
        result = run("deploy", "--app", str(assembly), *args)
        assert result.exit_code == 2 and "--stack NAME (repeatable), or pass --all" in result.stderr
    assert calls(fake_cli) == []


def test_destroy_runs_cdk_destroy_for_the_stacks_that_exist(cloud, assembly, fake_cli):
    create_stack(cloud, assembly, ENV_DELIVERY)
    result = run("destroy", "--app", str(assembly), "--stack", ENV_DELIVERY, "--stack", UNEVEN, "--yes")
    assert result.exit_code == 0, result.output
    (call,) = calls(fake_cli)
    assert call["args"] == ["destroy", "--app", str(assembly), "--no-notices", "--force", ENV_DELIVERY]
    assert f"{UNEVEN}: already gone" in result.stdout


def test_a_deployed_stack_missing_from_cdk_out_names_the_way_out(cloud, assembly, tmp_path, fake_cli):
    create_stack(cloud, assembly, ENV_DELIVERY)
    result = run("destroy", "--app", str(tmp_path / "none"), "--stack", ENV_DELIVERY, "--yes")
    assert result.exit_code == 2
    assert "is not in the cloud assembly" in result.stderr
    assert f"aws cloudformation delete-stack --stack-name {ENV_DELIVERY} --region us-east-1" in result.stderr
    assert calls(fake_cli) == []


def test_no_cdk_cli_is_one_paragraph_exit_2(cloud, assembly, monkeypatch, tmp_path):
    from provision import cdk_cli

    monkeypatch.delenv("LMI_ENDPOINTS_CDK_CLI", raising=False)
    monkeypatch.setattr(cdk_cli, "__file__", str(tmp_path / "provision" / "cdk_cli.py"))
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 2
    assert result.stderr.startswith("error: the AWS CDK CLI is not installed") and result.stderr.count("\n") == 1
    assert "npm ci" in result.stderr and "preflight" not in result.stdout, "checked before preflight"

    monkeypatch.setenv("LMI_ENDPOINTS_CDK_CLI", str(tmp_path / "missing-cdk"))
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN, "--no-preflight")
    assert result.exit_code == 2 and result.stderr.startswith("error: cannot start the CDK CLI")


@REAL_CLI
def test_the_cli_found_is_the_pinned_one(monkeypatch):
    from provision import cdk_cli

    monkeypatch.delenv("LMI_ENDPOINTS_CDK_CLI", raising=False)
    (command,) = cdk_cli.locate(ROOT)
    assert command == str(ROOT / "node_modules" / ".bin" / "cdk")
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"]
    installed = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())["version"]
    assert installed == pinned

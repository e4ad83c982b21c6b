"""Every way a command cannot run ends the same: exit 2, one paragraph `error: ...` on stderr, no traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from provision_testkit import ROOT, aws_env, run, stubbed_client, use_clients

UNEVEN = "lmi-llama3-8b-uneven"


def assert_one_paragraph(stderr: str, starts: str) -> None:
    assert stderr.startswith(f"error: {starts}"), stderr
    assert stderr.count("\n") == 1 and "Traceback" not in stderr


@pytest.fixture
def no_credentials(monkeypatch):
    aws_env(monkeypatch, {
        "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    })


def test_missing_cloud_assembly(tmp_path):
    result = run("deploy", "--app", str(tmp_path / "cdk.out"), "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "no cloud assembly at")
    assert "make synth" in result.stderr


def test_unknown_stack_in_the_assembly_lists_the_known_ones(assembly):
    for command in ("deploy", "preflight"):
        result = run(command, "--app", str(assembly), "--stack", "lmi-nope")
        assert result.exit_code == 2
        assert_one_paragraph(result.stderr, "stack 'lmi-nope' is not in the cloud assembly")
        assert UNEVEN in result.stderr


def test_unknown_deployed_stack(cloud):
    for args in (("verify", "--stack", "lmi-nope"), ("destroy", "--stack", "lmi-nope", "--yes")):
        result = run(*args)
        assert result.exit_code == 2
        assert_one_paragraph(result.stderr, "stack lmi-nope does not exist in us-east-1")


def test_missing_credentials(assembly, no_credentials):
    for args in (("deploy", "--app", str(assembly), "--stack", UNEVEN), ("verify", "--stack", UNEVEN),
                 ("preflight", "--app", str(assembly), "--stack", UNEVEN)):
        result = run(*args)
        assert result.exit_code == 2, result.output
        assert_one_paragraph(result.stderr, "no usable AWS credentials were found")


def test_missing_region_for_a_region_agnostic_stack(assembly, monkeypatch):
    aws_env(monkeypatch, {"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                          "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "no AWS region is configured")


def test_unknown_profile(assembly, monkeypatch):
    aws_env(monkeypatch, {"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN, "--profile", "nobody", "--region", "us-east-1")
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "The config profile (nobody) could not be found")


def test_access_denied(cloud, assembly, monkeypatch):
    sts, stub = stubbed_client("sts")
    stub.add_client_error(
        "get_caller_identity", service_error_code="AccessDenied", http_status_code=403,
        service_message="User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:GetCallerIdentity",
    )
    use_clients(monkeypatch, sts=sts)
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "access denied on GetCallerIdentity: User: arn:aws:iam::123456789012:user/ci")


def test_access_denied_on_a_later_call(cloud, monkeypatch):
    cfn, stub = stubbed_client("cloudformation")
    stub.add_client_error("describe_stacks", service_error_code="AccessDenied", http_status_code=403,
                          service_message="not authorized to perform: cloudformation:DescribeStacks")
    use_clients(monkeypatch, cloudformation=cfn)
    result = run("verify", "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "access denied on DescribeStacks")


def test_rejected_credentials(cloud, assembly, monkeypatch):
    sts, stub = stubbed_client("sts")
    stub.add_client_error("get_caller_identity", service_error_code="ExpiredToken", http_status_code=403,
                          service_message="The security token included in the request is expired")
    use_clients(monkeypatch, sts=sts)
    result = run("deploy", "--app", str(assembly), "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "the AWS credentials were rejected on GetCallerIdentity (ExpiredToken")


def test_python_dash_m_provision_exits_2_with_one_paragraph(tmp_path):
    """The real entry point, in its own process (no test runner in between)."""
    for args in (["deploy", "--app", str(tmp_path / "missing"), "--stack", UNEVEN], ["destroy", "--stack", UNEVEN]):
        done = subprocess.run([sys.executable, "-m", "provision", *args], cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr

"""The laptop workflow for real: the CDK CLI deploys every default deployment into a local moto cloud.

Runs tests/provision/deploy_local.py (the same code as `make deploy-local`): `cdk deploy --all` with
AWS_ENDPOINT_URL=http://localhost:<port> and dummy credentials, every endpoint InService and every model
tarball in the bootstrap bucket, `python -m provision verify` on one stack, `cdk destroy --all --force`.
"""
from __future__ import annotations

import shutil

import pytest

from provision_testkit import ROOT
from deploy_local import deploy_local

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None or not (ROOT / "node_modules" / ".bin" / "cdk").exists(),
    reason="the local CDK CLI is not installed (`npm ci`, done by `make test`)",
)


def test_cdk_deploy_all_into_moto_then_verify_and_destroy(assembly) -> None:
    log: list[str] = []
    result = deploy_local(assembly, log=log.append)  # raises with the failing command's output
    expected = result["expected"]
    assert len(expected) >= 2
    assert {region for region, _, _ in expected.values()} >= {"us-east-1", "us-west-2"}  # llama2-70b is pinned
    assert any(not objects for _, _, objects in expected.values()), "the delivery: environment stack has no model asset"
    for stack, (_, names, _) in expected.items():
        assert names, f"{stack} names its endpoint"
        assert f"✅  {stack}" in result["deploy_output"]
        assert f"{stack}: destroyed" in result["destroy_output"]
    assert "InService" in result["verify_output"] and "generated_text" in result["verify_output"]
    assert any(line.endswith("InService in us-west-2; 1 model asset(s) in S3") for line in log)

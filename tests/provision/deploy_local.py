"""The laptop workflow against a local moto cloud: `provision deploy --all` (the real CDK CLI, then verify),
check, `provision destroy --all`.

Used by `make deploy-local` and by test_provision_cdk_cli.py, so the test exercises exactly what a
developer runs. Starts a (patched, see moto_cloud.py) moto server on `localhost` - the CDK CLI builds
path-style template URLs that moto's CloudFormation resolves only for that host name - seeds it as a
CDK-bootstrapped account, and runs `python -m provision`, which drives the pinned CDK CLI from
node_modules. Preflight is skipped: moto has no Service Quotas API (test_provision_preflight.py covers it).

    python tests/provision/deploy_local.py [--app cdk.out] [--keep]

--keep leaves the stacks up and the server running (prints the environment to point boto3 / the CLI at
it) until Ctrl-C, then destroys.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from collections.abc import Callable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(p) for p in (ROOT, HERE) if str(p) not in sys.path]

from moto_cloud import MotoCloud, moto_fixes  # noqa: E402

DEFAULT_REGION = "us-east-1"
PROVISION = [sys.executable, "-m", "provision"]
CANNED_ANSWER = [{"generated_text": " Amazon SageMaker is a managed machine learning service."}]


class LocalDeployError(Exception):
    pass


def cli_env(cloud: MotoCloud) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(cloud.env(DEFAULT_REGION))
    env.update(
        CDK_DISABLE_VERSION_CHECK="1",
        CDK_DISABLE_CLI_TELEMETRY="true",
        JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION="20",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_command(command: list[str], env: dict[str, str], log: Callable[[str], None], timeout: int = 600) -> str:
    log("$ " + " ".join(command))
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    log(f"  exit {done.returncode} after {time.monotonic() - started:.1f}s")
    if done.returncode != 0:
        raise LocalDeployError(
            f"`{' '.join(command)}` exited {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done.stdout + done.stderr


def expected_endpoints(app: Path) -> dict[str, tuple[str, list[str], list[tuple[str, str]]]]:
    """stack -> (region, endpoint names, [(bucket, key) of its model assets]), read from the cloud assembly's
    manifest, templates and asset manifests (what `cdk deploy` must have put in the local cloud)."""
    manifest = json.loads((app / "manifest.json").read_text())
    expected = {}
    for artifact in manifest["artifacts"].values():
        if artifact["type"] != "aws:cloudformation:stack":
            continue
        props = artifact["properties"]
        region = artifact["environment"].split("/")[-1]
        region = DEFAULT_REGION if region.startswith("unknown-") else region
        template = json.loads((app / props["templateFile"]).read_text())
        names = [r["Properties"]["EndpointName"] for r in template["Resources"].values()
                 if r["Type"] == "AWS::SageMaker::Endpoint"]
        assets = json.loads((app / props["templateFile"].replace(".template.json", ".assets.json")).read_text())
        objects = [
            (d["bucketName"].replace("${AWS::AccountId}", "123456789012").replace("${AWS::Region}", d.get("region", region)),
             d["objectKey"])
            for asset in assets.get("files", {}).values()
            if asset["source"]["path"] != props["templateFile"]
            for d in asset["destinations"].values()
        ]
        expected[props.get("stackName", artifact["displayName"])] = (region, names, objects)
    return expected


def check_deployed(cloud: MotoCloud, expected: dict[str, tuple[str, list[str], list[tuple[str, str]]]], log: Callable[[str], None]) -> None:
    problems = []
    for stack, (region, names, objects) in sorted(expected.items()):
        live = cloud.endpoints(region)
        for name in names:
            if live.get(name) != "InService":
                problems.append(f"{stack}: endpoint {name} in {region} is {live.get(name, 'missing')}")
        s3 = cloud.client("s3", region)
        for bucket, key in objects:
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except Exception as error:  # noqa: BLE001 - reported below
                problems.append(f"{stack}: asset s3://{bucket}/{key} not published ({error})")
        log(f"  {stack}: {', '.join(f'{n} {live.get(n)}' for n in names)} in {region}; {len(objects)} model asset(s) in S3")
    if problems:
        raise LocalDeployError("after cdk deploy:\n" + "\n".join(problems))


def deploy_local(app: Path, keep: bool = False, log: Callable[[str], None] = print) -> dict[str, object]:
    """Deploy every stack of `app` with the real CDK CLI into a fresh local cloud, verify one, destroy all."""
    app = app.resolve()
    expected = expected_endpoints(app)
    regions = sorted({region for region, _, _ in expected.values()} | {DEFAULT_REGION})
    timings: dict[str, float] = {}
    with moto_fixes():
        cloud = MotoCloud(host="localhost")
        try:
            cloud.reset()
            cloud.bootstrap(*regions)
            env = cli_env(cloud)
            log(f"local cloud {cloud.url}, bootstrapped in {', '.join(regions)}")

            for region in regions:  # one canned model answer per endpoint for the verify step
                count = sum(len(names) for r, names, _ in expected.values() if r == region)
                cloud.answer_invocations(CANNED_ANSWER, region, times=count)
            started = time.monotonic()
            deploy_output = run_command([*PROVISION, "deploy", "--all", "--no-preflight", "--app", str(app)], env, log)
            timings["provision deploy"] = time.monotonic() - started
            check_deployed(cloud, expected, log)
            stack = next(s for s, (region, names, _) in sorted(expected.items()) if names and region == DEFAULT_REGION)
            verify_output = deploy_output[deploy_output.index("\nendpoint ") + 1:]
            log(verify_output.rstrip())

            if keep:
                log("\nstacks are up; point boto3 / the AWS CLI / provision at the local cloud with:")
                for key in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                    log(f"  export {key}={env[key]}")
                log("Ctrl-C to destroy and stop")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass

            started = time.monotonic()
            destroy_output = run_command([*PROVISION, "destroy", "--all", "--yes", "--app", str(app)], env, log)
            timings["provision destroy"] = time.monotonic() - started
            left = {region: cloud.endpoints(region) for region in regions if cloud.endpoints(region)}
            if left:
                raise LocalDeployError(f"endpoints left after cdk destroy: {json.dumps(left)}")
            log("all stacks destroyed")
            return {
                "expected": expected,
                "verified_stack": stack,
                "deploy_output": deploy_output,
                "verify_output": verify_output,
                "destroy_output": destroy_output,
                "timings": timings,
            }
        finally:
            cloud.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="cdk.out", type=Path, help="synthesized cloud assembly (make synth)")
    parser.add_argument("--keep", action="store_true", help="keep the stacks and the server up until Ctrl-C")
    args = parser.parse_args()
    try:
        deploy_local(args.app, keep=args.keep)
    except LocalDeployError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except Exception as error:  # noqa: BLE001 - the provision UserError paragraphs (e.g. missing cdk.out)
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

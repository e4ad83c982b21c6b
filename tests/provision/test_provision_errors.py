"""Every way a command cannot run ends the same: exit 2, one paragraph `error: ...` on stderr, no traceback."""
from __future__ import annotations

import http.server
import subprocess
import sys
import threading

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
    result = run("verify", "--stack", "lmi-nope")
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "stack lmi-nope does not exist in us-east-1")


def test_destroying_a_stack_that_is_already_gone_succeeds_and_says_so(cloud, assembly, tmp_path):
    """Idempotent: with the stack in cdk.out, without it, and with no cdk.out at all; the CLI is never run."""
    for app in (assembly, tmp_path / "no-cdk.out"):
        result = run("destroy", "--app", str(app), "--stack", UNEVEN, "--stack", "lmi-nope", "--yes")
        assert result.exit_code == 0, result.output
        assert f"{UNEVEN}: already gone (no such stack in us-east-1, account 123456789012)" in result.stdout
        assert "lmi-nope: already gone" in result.stdout and "$ cdk" not in result.stdout


@pytest.mark.parametrize("manifest,fragment", [
    ("{not json", "manifest.json line 1: not valid JSON"),
    ("[1, 2]", "manifest.json: the top level is list, not an object"),
    ('{"artifacts": 7}', "manifest.json: field artifacts is 7, expected an object"),
    ('{"artifacts": {"s": {"type": "aws:cloudformation:stack", "properties": {}}}}',
     "manifest.json: field artifacts.s.properties.templateFile is None, expected a file name"),
    ('{"artifacts": {"s": {"type": "aws:cloudformation:stack", "properties": {"templateFile": "s.json"}, '
     '"environment": ["x"]}}}', "field artifacts.s.environment is ['x'], expected aws://ACCOUNT/REGION"),
])
def test_malformed_manifest_is_one_paragraph_exit_2(tmp_path, manifest, fragment):
    app = tmp_path / "cdk.out"
    app.mkdir()
    (app / "manifest.json").write_text(manifest)
    for args in (("deploy", "--stack", "s"), ("preflight", "--stack", "s"), ("destroy", "--all", "--yes")):
        result = run(*args[:1], "--app", str(app), *args[1:])
        assert result.exit_code == 2, result.output
        assert_one_paragraph(result.stderr, str(app / "manifest.json"))
        assert fragment in result.stderr


def test_malformed_template_is_one_paragraph_exit_2(assembly_copy):
    (assembly_copy / f"{UNEVEN}.template.json").write_text('{"Resources": ')
    result = run("preflight", "--app", str(assembly_copy), "--stack", UNEVEN, "--region", "us-east-1")
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, f"{assembly_copy / (UNEVEN + '.template.json')} line 1: not valid JSON")


class _Garbage(http.server.BaseHTTPRequestHandler):
    """An 'AWS' that answers every call with an HTML page: 200 (unparseable), 503 (an outage page), or 200 with
    well-formed XHTML (which botocore's XML parser accepts and then fails on with a KeyError of its own)."""

    status = 200
    xhtml = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        head = b"<html><head><title>Oops</title></head>" if self.xhtml else b"<html><head><meta charset=utf-8>"
        body = head + b"<body><h1>Service Unavailable</h1><p>" + b"x" * 5000 + b"</p></body></html>"
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[200, 503, "xhtml"])
def html_aws(request, monkeypatch):
    handler = type("Handler", (_Garbage,), {"status": 200 if request.param == "xhtml" else request.param,
                                            "xhtml": request.param == "xhtml"})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    aws_env(monkeypatch, {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{server.server_port}", "AWS_REGION": "us-east-1",
                          "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_MAX_ATTEMPTS": "1",
                          "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    yield request.param
    server.shutdown()
    server.server_close()


def test_html_answers_from_aws_are_one_short_paragraph_exit_1(html_aws, assembly):
    for args in (("verify", "--stack", UNEVEN), ("preflight", "--app", str(assembly), "--stack", UNEVEN),
                 ("destroy", "--app", str(assembly), "--stack", UNEVEN, "--yes")):
        result = run(*args)
        assert result.exit_code == 1, result.output
        if html_aws == 200:  # botocore's ResponseParserError (a plain Exception, not a BotoCoreError)
            assert_one_paragraph(result.stderr, "AWS answered with a response that is not in the API's format")
        elif html_aws == 503:
            assert_one_paragraph(result.stderr, "")
            assert "failed: 503:" in result.stderr and "AWS had an internal problem; retry" in result.stderr
        else:  # whatever botocore raises on a well-formed page, the last-resort handler keeps it to one paragraph
            assert_one_paragraph(result.stderr, "")
            assert "LMI_ENDPOINTS_DEBUG=1" in result.stderr or "not in the API's format" in result.stderr
        assert len(result.stderr) < 700, "the page itself is cut to a short excerpt"


def test_unreachable_endpoint_is_exit_2(assembly, monkeypatch):
    aws_env(monkeypatch, {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                          "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
                          "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    result = run("verify", "--stack", UNEVEN)
    assert result.exit_code == 2
    assert_one_paragraph(result.stderr, "cannot reach the AWS endpoint")


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

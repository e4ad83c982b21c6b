"""The input boundary accepts what real files look like, and its limits agree with the systems that set them
(botocore's shapes and partitions, the stacks' own tags)."""
from __future__ import annotations

import ast
import gzip
import json
import time
from pathlib import Path

import botocore
import pytest

from selector import aws_names
from selector.deployments import MAX_ENDPOINT_NAME, MAX_SECURITY_GROUPS, MAX_SUBNETS, STACK_PREFIX, load_deployments
from selector.errors import SelectorError
from selector.input_boundary import MAX_DEPLOYMENTS_BYTES, MAX_YAML_NODES
from selector.model_shape import catalog_model_ids

REPO = Path(__file__).resolve().parents[2]
BOTOCORE = Path(botocore.__file__).parent / "data"
ENTRY = "  - name: {name}\n    model: meta-llama/Meta-Llama-3-8B\n"


def _shapes(service: str) -> dict:
    path = next((BOTOCORE / service).glob("*/service-2.json.gz"))
    return json.loads(gzip.decompress(path.read_bytes()))["shapes"]


def test_utf8_bom_and_comments_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_bytes(b"\xef\xbb\xbf# reviewed\n" + ("deployments:\n" + ENTRY.format(name="chat")).encode())
    assert load_deployments(path).deployments[0].name == "chat"


def test_merge_keys_and_anchors_within_limits(tmp_path: Path) -> None:
    """`<<: *base` once per entry of a 100-entry file stays inside the alias and node limits."""
    first = "  - <<: &base {model: meta-llama/Meta-Llama-3-8B, max_input_tokens: 1024}\n    name: e0\n"
    rest = "".join(f"  - <<: *base\n    name: e{i}\n" for i in range(1, 100))
    path = tmp_path / "d.yaml"
    path.write_text("deployments:\n" + first + rest)
    parsed = load_deployments(path)
    assert len(parsed.deployments) == 100 and parsed.deployments[99].max_input_tokens == 1024


def test_a_large_real_file_is_well_inside_the_limits(tmp_path: Path) -> None:
    """100 deployments with 12 keys each: far below the byte and node caps, loaded in well under a second."""
    extra = ("    region: us-east-1\n    max_input_tokens: 2048\n    max_output_tokens: 512\n    tags: {team: ml, cost: x}\n"
             "    autoscaling: {min: 1, max: 4}\n    alarms: {latency_p90_ms: 20000}\n    options: {option.x: 'y'}\n")
    text = "deployments:\n" + "".join(ENTRY.format(name=f"e{i}") + extra for i in range(100))
    path = tmp_path / "d.yaml"
    path.write_text(text)
    start = time.monotonic()
    load_deployments(path)
    assert time.monotonic() - start < 3
    assert len(text.encode()) * 4 < MAX_DEPLOYMENTS_BYTES and text.count(":") * 4 < MAX_YAML_NODES


def test_duplicate_key_error_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("deployments:\n" + ENTRY.format(name="chat") + "deployments: []\n")
    with pytest.raises(SelectorError) as caught:
        load_deployments(path)
    assert "lines 1 and 4" in caught.value.paragraph() and caught.value.paragraph().startswith(f"{path}:4:1: ")


def test_inherited_default_is_located_in_defaults(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("defaults:\n  max_input_tokens: lots\ndeployments:\n" + ENTRY.format(name="a") + ENTRY.format(name="b"))
    with pytest.raises(SelectorError) as caught:
        load_deployments(path)
    assert [(p.field, p.line) for p in caught.value.problems] == [("defaults.max_input_tokens", 2)]


def test_vpc_limits_are_botocore_shapes() -> None:
    shapes = _shapes("sagemaker")
    assert shapes["Subnets"]["max"] == MAX_SUBNETS and shapes["VpcSecurityGroupIds"]["max"] == MAX_SECURITY_GROUPS


def test_tag_limits_are_botocore_shapes() -> None:
    shapes, tags = _shapes("sagemaker"), aws_names.limits()["tags"]
    assert shapes["TagList"]["max"] == tags["max_per_resource"]
    assert shapes["TagKey"]["max"] == tags["key_max_chars"] and shapes["TagValue"]["max"] == tags["value_max_chars"]
    assert shapes["TagKey"]["pattern"] == r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"  # the rule tag_problem implements
    assert shapes["DestinationS3Uri"]["max"] == aws_names.limits()["s3"]["data_capture_uri_max_chars"]
    assert shapes["EndpointName"]["max"] == MAX_ENDPOINT_NAME
    environment = aws_names.limits()["environment"]
    assert shapes["EnvironmentMap"]["max"] == environment["max_entries"]
    assert shapes["EnvironmentValue"]["max"] == environment["value_max_chars"]
    assert shapes["EnvironmentKey"]["pattern"] == environment["key_pattern"]


def test_every_botocore_region_has_its_partition() -> None:
    partitions = json.loads((BOTOCORE / "partitions.json").read_text())["partitions"]
    regions = [(p["id"], r) for p in partitions for r in p["regions"] if not r.endswith("-global")]
    assert len(regions) > 30
    for partition, region in regions:
        assert aws_names.partition_of(region) == partition, region
    assert set(aws_names.limits()["partitions"]) - {"source"} == {p["id"] for p in partitions}


def test_project_tags_and_stack_prefix_match_the_stack() -> None:
    """The tag count counts the tags LmiEndpointStack adds; read them from its source (no jsii start)."""
    tree = ast.parse((REPO / "stacks" / "lmi_endpoint_stack.py").read_text())
    tag_dicts = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "tags" for t in node.targets)]
    keys = set()
    for d in tag_dicts:
        assert isinstance(d, ast.Dict), ast.dump(d)
        keys |= {k.value for k in d.keys if isinstance(k, ast.Constant)}
    assert keys == set(aws_names.limits()["project_tags"]["keys"])
    stack_name = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "stack_name")
    returned = stack_name.body[-1]
    assert isinstance(returned, ast.Return) and isinstance(returned.value, ast.JoinedStr), ast.dump(returned)
    head = returned.value.values[0]
    assert isinstance(head, ast.Constant), ast.dump(head)
    prefix = head.value
    assert prefix == STACK_PREFIX


def test_catalog_ids_are_hub_ids() -> None:
    bad = [m for m in catalog_model_ids() if aws_names.hub_id_problem(m)]
    assert not bad


@pytest.mark.parametrize("value", [
    "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
    "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
])
def test_real_kms_arns_pass(value: str) -> None:
    assert aws_names.kms_key_problem(value) is None


@pytest.mark.parametrize("uri", ["s3://my-bucket/", "s3://my.bucket-1/models/llama/", "s3://abc/x/y/z.tar.gz"])
def test_real_s3_uris_pass(uri: str) -> None:
    assert aws_names.s3_uri_problem(uri) is None

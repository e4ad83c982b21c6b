"""The grammar of AWS names a deployments file carries: ARNs, S3 URIs, tags, Hub ids, serving.properties text.

Each check returns a problem in words (None when the value is fine), so `validate` refuses at once what cdk-nag,
CloudFormation or an AWS API would refuse later, and what would silently change meaning downstream: a `*` that
IAM reads as a wildcard, `{{resolve:...}}` that CloudFormation resolves at deploy time, a trailing backslash
that Java's Properties.load turns into a line continuation. Limits and their sources: data/aws_limits.json.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from selector.catalog import read_data
from selector.errors import excerpt

# CloudFormation dynamic references ({{resolve:ssm:...}}), CDK string and list tokens (${Token[...]}, #{Token[...]}):
# text that the deploy tooling, not the reviewer, decides the value of.
DEPLOY_TIME = re.compile(r"\{\{\s*resolve\s*:|[$#]\{\s*Token\s*\[", re.IGNORECASE)
WILDCARDS = re.compile(r"[*?]|\$\{")  # IAM wildcards and policy variables (${aws:username})
LINE_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # what Java or Python would split a line at
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII)
ACCOUNT = re.compile(r"[0-9]{12}", re.ASCII)
IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", re.ASCII)
HUB_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?", re.ASCII)


@lru_cache(maxsize=1)
def limits() -> dict[str, Any]:
    return read_data("aws_limits.json")


@lru_cache(maxsize=1)
def _partitions() -> dict[str, re.Pattern[str]]:
    return {name: re.compile(regex, re.ASCII) for name, regex in limits()["partitions"].items() if name != "source"}


def partition_of(region: str) -> str | None:
    """The partition whose region grammar `region` follows (botocore's partitions.json), else None."""
    return next((name for name, regex in _partitions().items() if regex.fullmatch(region)), None)


def deploy_time_problem(text: str) -> str | None:
    if DEPLOY_TIME.search(text):
        return ("contains a CloudFormation dynamic reference ({{resolve:...}}) or a CDK token (${Token[...]}), "
                "whose value is decided at deploy time instead of in the reviewed file")
    return None


def region_problem(region: str) -> str | None:
    if not region.isascii() or partition_of(region) is None:
        return "is not an AWS region name (like us-east-1, cn-north-1 or us-gov-west-1)"
    return None


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str
    account: str
    resource: str


def parse_arn(value: str, services: tuple[str, ...], example: str) -> Arn:
    """arn:partition:service:region:account:resource, each part by its grammar; raises ValueError in words."""
    if WILDCARDS.search(value):
        raise ValueError("contains a wildcard or policy variable (*, ? or ${...}); IAM would read it as a pattern "
                         f"matching many resources. Name one resource: {example}")
    if not value.isascii() or LINE_BREAKS.search(value) or " " in value:
        raise ValueError(f"contains spaces, line breaks or non-ASCII characters, which no ARN has. Use {example}")
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise ValueError(f"is not an ARN (six parts separated by ':'). Use {example}")
    _, partition, service, region, account, resource = parts
    if partition not in _partitions():
        raise ValueError(f"names the partition {excerpt(partition)}, which does not exist. "
                         f"Use one of {', '.join(_partitions())}")
    if service not in services:
        raise ValueError(f"is an ARN of the {excerpt(service)} service, not {' or '.join(services)}. Use {example}")
    if partition_of(region) != partition:
        raise ValueError(f"has the region {excerpt(region)}, which is not a region of the {partition} partition. "
                         f"Use {example}")
    if not ACCOUNT.fullmatch(account):
        raise ValueError(f"has the account {excerpt(account)}, which is not 12 digits (0-9). Use {example}")
    if not resource:
        raise ValueError(f"names no resource. Use {example}")
    return Arn(partition, service, region, account, resource)


def kms_key_problem(value: str) -> str | None:
    example = "arn:aws:kms:<region>:<account>:key/<key id>"
    try:
        arn = parse_arn(value, ("kms",), example)
    except ValueError as exc:
        return str(exc)
    kind, _, key = arn.resource.partition("/")
    if kind == "alias":
        return ("is a KMS alias ARN; the endpoint role's key grant needs the key ARN (an IAM policy on an alias "
                f"grants nothing on the key). Use {example}")
    if kind != "key" or not (UUID.fullmatch(key) or re.fullmatch(r"mrk-[0-9a-f]{32}", key, re.ASCII)):
        return f"does not name a KMS key (key/ followed by a key id or mrk- multi-Region key id). Use {example}"
    return None


def secret_problem(value: str) -> str | None:
    example = "arn:aws:secretsmanager:<region>:<account>:secret:<name>"
    try:
        arn = parse_arn(value, ("secretsmanager",), example)
    except ValueError as exc:
        return str(exc)
    kind, _, name = arn.resource.partition(":")
    if kind != "secret" or not re.fullmatch(r"[A-Za-z0-9/_+=.@-]{1,512}", name, re.ASCII):
        return f"does not name a secret (secret: then letters, digits and /_+=.@-). Use {example}"
    return None


def sns_topic_problem(value: str) -> str | None:
    example = "arn:aws:sns:<region>:<account>:<topic>"
    try:
        arn = parse_arn(value, ("sns",), example)
    except ValueError as exc:
        return str(exc)
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}(\.fifo)?", arn.resource, re.ASCII):
        return f"does not name an SNS topic (letters, digits, hyphens and underscores). Use {example}"
    return None


def connection_problem(value: str) -> str | None:
    example = "arn:aws:codeconnections:<region>:<account>:connection/<id>"
    try:
        arn = parse_arn(value, ("codestar-connections", "codeconnections"), example)
    except ValueError as exc:
        return str(exc)
    kind, _, ident = arn.resource.partition("/")
    if kind != "connection" or not UUID.fullmatch(ident):
        return f"does not name a connection (connection/ followed by its id). Use {example}"
    return None


def bucket_problem(bucket: str) -> str | None:
    """S3's general purpose bucket naming rules (data/aws_limits.json `s3`)."""
    s3 = limits()["s3"]
    if not s3["bucket_min_chars"] <= len(bucket) <= s3["bucket_max_chars"]:
        return f"has a bucket name of {len(bucket)} characters; S3 allows {s3['bucket_min_chars']}-{s3['bucket_max_chars']}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", bucket, re.ASCII):
        return ("has a bucket name S3 does not allow: lowercase letters, digits, dots and hyphens only, starting "
                "and ending with a letter or digit")
    if ".." in bucket:
        return "has a bucket name with two dots in a row, which S3 does not allow"
    if IPV4.fullmatch(bucket):
        return "has a bucket name formatted as an IP address, which S3 does not allow"
    for prefix in s3["forbidden_bucket_prefixes"]:
        if bucket.startswith(prefix):
            return f"has a bucket name starting with {prefix}, which S3 reserves"
    for suffix in s3["forbidden_bucket_suffixes"]:
        if bucket.endswith(suffix):
            return f"has a bucket name ending with {suffix}, which S3 reserves"
    return None


def s3_uri_problem(value: str, max_chars: int | None = None) -> str | None:
    """s3://bucket[/key]: bucket rules, a key of at most 1,024 bytes, no wildcards, no line breaks or backslashes."""
    if not value.startswith("s3://"):
        return "is not an S3 URI. Use s3://<bucket>/<prefix>"
    if WILDCARDS.search(value):
        return ("contains a wildcard or policy variable (*, ? or ${...}) that the endpoint role's IAM policy would "
                "read as a pattern matching other buckets or objects. Name the exact bucket and prefix")
    if max_chars and len(value) > max_chars:
        return f"is {len(value)} characters; SageMaker accepts at most {max_chars} here"
    bucket, _, key = value[5:].partition("/")
    problem = bucket_problem(bucket)
    if problem:
        return problem
    if LINE_BREAKS.search(key) or "\\" in key:
        return "contains a line break, control character or backslash. Name the exact prefix"
    if "//" in key or key.startswith("/"):
        return "has an empty path segment (//). Use s3://<bucket>/<prefix>/"
    if len(key.encode()) > limits()["s3"]["key_max_bytes"]:
        return f"has a key longer than the {limits()['s3']['key_max_bytes']} bytes S3 allows"
    return None


def tag_problem(key: str, value: str) -> str | None:
    tags = limits()["tags"]
    allowed = set(tags["allowed_punctuation"])

    def ok(text: str) -> bool:
        return all(c in allowed or unicodedata.category(c)[0] in "LZN" for c in text)

    if not 1 <= len(key) <= tags["key_max_chars"]:
        return f"tag key {excerpt(key)} has {len(key)} characters; AWS allows 1-{tags['key_max_chars']}"
    if len(value) > tags["value_max_chars"]:
        return f"tag {excerpt(key)} has a value of {len(value)} characters; AWS allows at most {tags['value_max_chars']}"
    if key.lower().startswith(tags["reserved_prefix"]):
        return f"tag key {excerpt(key)}: the {tags['reserved_prefix']} prefix is reserved for AWS"
    if deploy_time_problem(key) or deploy_time_problem(value):
        return None  # reported on its own, with its line, by the deploy-time scan of every value
    if not ok(key) or not ok(value):
        return (f"tag {excerpt(key)} uses a character AWS tags do not allow (letters, digits, spaces and "
                f"{' '.join(tags['allowed_punctuation'])} only)")
    return None


def hub_id_problem(value: str) -> str | None:
    """A Hugging Face repo id: [namespace/]name of letters, digits, '_', '.', '-' (huggingface_hub's grammar)."""
    limit = limits()["hub_model_id"]["max_chars"]
    parts = value.split("/")
    if len(value) > limit:
        return f"is {len(value)} characters; Hugging Face model ids have at most {limit}"
    if len(parts) > 2 or not all(HUB_PART.fullmatch(p) for p in parts) or "--" in value or ".." in value:
        return ("is not a Hugging Face model id (owner/name of letters, digits, '_', '.' and '-'), an s3:// prefix "
                "or a catalog id")
    return None


def properties_problem(text: str) -> str | None:
    """Text that lands on one serving.properties line, read by Java's Properties.load(InputStream)."""
    if LINE_BREAKS.search(text):
        return "contains a line break or control character, which would start a new serving.properties line"
    if "\\" in text:
        what = "ends with" if text.endswith("\\") else "contains"
        return (f"{what} a backslash: LMI reads serving.properties with Java's Properties.load, where a backslash is "
                "an escape and a trailing one joins the next line onto this value")
    if not text.isascii():
        return ("contains non-ASCII characters: LMI reads serving.properties as ISO 8859-1 (Java's Properties.load), "
                "so they would arrive garbled")
    return None

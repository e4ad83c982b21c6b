"""User-supplied resource names, checked once more where they become IAM resources or acknowledgments.

Deployments files come from pull requests. The input boundary (selector/) refuses wildcards at validate
time; this module is the last check before a user string becomes part of an IAM resource ARN or of a
cdk-nag acknowledgment id. Only literal names pass (no `*`, `?`, `${...}` policy variables, CDK tokens or
dynamic references), so every wildcard in the role comes from this project's own patterns, never from input.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from selector.errors import SelectorError

# S3 general purpose bucket naming rules: 3-63 chars, lowercase letters, digits, dots, hyphens, starting and
# ending with a letter or digit, no "..", not an IP address.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]", re.ASCII)
IP_ADDRESS = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}", re.ASCII)
# Object key "safe characters" without `*` (an IAM wildcard): letters, digits and ! - _ . ' ( ) /.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-guidelines-safe-characters
PREFIX = re.compile(r"[A-Za-z0-9!_.'()/-]*", re.ASCII)
# KMS key ARN: a key id is a UUID or a multi-Region key id (mrk- + 32 hex digits); aliases are not key ARNs.
# https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-id
KMS_KEY_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso|-iso-b)?:kms:[a-z]{2}(?:-[a-z]+)+-[0-9]:[0-9]{12}:key/"
    r"(?:mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", re.ASCII)
# EC2 ids as the EC2 API returns them (8 or 17 hex digits). https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Subnet.html
SUBNET_ID = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
SECURITY_GROUP_ID = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
# SageMaker EndpointName. https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpoint.html
ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](?:-*[a-zA-Z0-9]){0,62}", re.ASCII)

LITERAL_HINT = ("Name one literal resource (no '*', '?', '${...}' or '{{resolve:...}}'): the project grants access "
                "to exactly the resource named in the deployments file and adds the only wildcard itself")


def s3_location(field: str, uri: str) -> tuple[str, str]:
    """(bucket, prefix) of an s3:// URI whose bucket and prefix are literal; SelectorError otherwise."""
    if not uri.startswith("s3://"):
        raise SelectorError(field, uri, "is not an s3:// URI", "Use s3://<bucket>/<prefix>/")
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not BUCKET.fullmatch(bucket) or ".." in bucket or IP_ADDRESS.fullmatch(bucket):
        raise SelectorError(field, uri, f"bucket {bucket!r} is not a literal S3 bucket name (3-63 lowercase letters, "
                            "digits, dots, hyphens)", LITERAL_HINT)
    if not PREFIX.fullmatch(prefix):
        raise SelectorError(field, uri, f"prefix {prefix!r} is not a literal S3 prefix (letters, digits and "
                            "! - _ . ' ( ) /)", LITERAL_HINT)
    return bucket, prefix


def kms_key_arn(field: str, arn: str) -> str:
    if not KMS_KEY_ARN.fullmatch(arn):
        raise SelectorError(field, arn, "is not the ARN of one KMS key",
                            "Use arn:aws:kms:<region>:<account>:key/<key id>. " + LITERAL_HINT)
    return arn


def ec2_ids(field: str, ids: Sequence[str], pattern: re.Pattern[str]) -> list[str]:
    for item in ids:
        if not pattern.fullmatch(item):
            raise SelectorError(field, item, f"is not one {pattern.pattern.split('-', 1)[0]} id", LITERAL_HINT)
    return list(ids)


def endpoint_name(field: str, name: str) -> str:
    if not ENDPOINT_NAME.fullmatch(name):
        raise SelectorError(field, name, "is not a SageMaker endpoint name (letters, digits, hyphens; at most 63)")
    return name

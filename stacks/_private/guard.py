"""Last guard against deploy-time injection, on the stack construction path.

CloudFormation resolves `{{resolve:ssm:...}}` / `{{resolve:secretsmanager:...}}` dynamic references anywhere in a
template at deploy time, and CDK turns a `${Token[...]}` (or `#{Token[...]}`) marker in any string into whatever
that token stands for. A deployments file comes from a pull request, so none of its strings may carry either: the
input boundary (selector/) refuses them at validate time, and this check runs once more on every string of the
resolved deployment and plan just before they become constructs. The project's own dynamic reference (the Hugging
Face token secret) is built by stacks/lmi_endpoint.py from a validated ARN, never copied from input.
"""
from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from selector.deployments import ResolvedDeployment
from selector.errors import SelectorError

# CloudFormation dynamic references: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html
DYNAMIC_REFERENCE = re.compile(r"\{\{\s*resolve\s*:", re.IGNORECASE)
# CDK's string and list token markers ("${Token[" / "#{Token["): aws/aws-cdk
# packages/aws-cdk-lib/core/lib/private/encoding.ts (BEGIN_STRING_TOKEN_MARKER, BEGIN_LIST_TOKEN_MARKER).
TOKEN_MARKER = re.compile(r"[$#]\{Token\[", re.IGNORECASE)
# CDK encodes number tokens as doubles near -1.8881545897087626e+289 (same file, DOUBLE_TOKEN_MARKER_BITS); no
# setting of this project is anywhere near 1e100.
HUGE = 1e100


def strings(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every key and leaf of a JSON-like value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    else:
        yield path, value


def refuse_injection(resolved: ResolvedDeployment) -> None:
    """SelectorError (exit 2) when any string of the deployment or its plan could be resolved at deploy time."""
    where = f"deployments[{resolved.deployment.name}]"
    refuse_values(resolved.deployment.model_dump(mode="json", by_alias=True), where)
    refuse_values(resolved.plan.to_json(), where + ".plan")
    refuse_values(resolved.endpoint_name, where + ".endpoint_name")


def refuse_values(data: Any, where: str) -> None:
    """The same check on any JSON-like value (the `pipeline:` section, the deployments file's path)."""
    for path, leaf in strings(data, where):
        if isinstance(leaf, str):
            if DYNAMIC_REFERENCE.search(leaf):
                raise SelectorError(path, _excerpt(leaf), "holds a CloudFormation dynamic reference "
                                    "('{{resolve:...}}'), which CloudFormation would resolve at deploy time",
                                    "Write the literal value; for the Hugging Face token use hf_token_secret_arn")
            if TOKEN_MARKER.search(leaf):
                raise SelectorError(path, _excerpt(leaf), "holds a CDK token marker ('${Token[...]}'), which CDK "
                                    "would replace with another value of the app", "Write the literal value")
        elif isinstance(leaf, float) and (not math.isfinite(leaf) or abs(leaf) > HUGE):
            raise SelectorError(path, leaf, "is not a finite setting of sensible size (CDK encodes number tokens "
                                "as huge doubles)", "Write the number you mean")


def _excerpt(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."

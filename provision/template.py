"""What a synthesized template asks of the account: endpoint names, instances, image URIs.

Only the few intrinsics CDK emits for these values are resolved (Ref to pseudo parameters, Fn::Join,
Fn::FindInMap, Fn::Sub with pseudo parameters); anything else resolves to None and is reported as
"not checkable" rather than guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENDPOINT = "AWS::SageMaker::Endpoint"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
MODEL = "AWS::SageMaker::Model"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"

_SUB = re.compile(r"\$\{([^}]+)\}")


@dataclass(frozen=True)
class Variant:
    config_id: str
    variant_name: str
    instance_type: str | None  # None for serverless variants
    initial_count: int
    autoscaling_max: int | None = None

    @property
    def needed(self) -> int:
        """Instances this variant may run at once: the initial count or the autoscaling ceiling."""
        return max(self.initial_count, self.autoscaling_max or 0)


@dataclass(frozen=True)
class Image:
    model_id: str
    expression: Any  # the template value (string or intrinsic)
    mappings: tuple[str, ...]  # CfnMappings looked up by AWS::Region inside it


@dataclass
class EndpointFacts:
    endpoint_ids: list[str] = field(default_factory=list)
    endpoint_names: list[str] = field(default_factory=list)  # literal EndpointName values
    variants: list[Variant] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    blue_green: bool = False


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == kind}


@dataclass(frozen=True)
class Context:
    region: str
    account: str = "${AWS::AccountId}"
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": self.url_suffix,
        }.get(name)


def resolve(value: Any, template: dict[str, Any], ctx: Context) -> Any:
    """Evaluate the intrinsics CDK uses for names and URIs; None when something cannot be known offline."""
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        items = [resolve(v, template, ctx) for v in value]
        return None if any(i is None for i in items) else items
    if not isinstance(value, dict) or len(value) != 1:
        return None
    (fn, arg), = value.items()
    if fn == "Ref":
        return ctx.pseudo(arg)
    if fn == "Fn::Join":
        parts = resolve(arg[1], template, ctx)
        return None if parts is None else str(arg[0]).join(str(p) for p in parts)
    if fn == "Fn::FindInMap":
        name, key1, key2 = (resolve(a, template, ctx) for a in arg)
        return template.get("Mappings", {}).get(name, {}).get(key1, {}).get(key2)
    if fn == "Fn::Sub" and isinstance(arg, str):
        missing = [m for m in _SUB.findall(arg) if ctx.pseudo(m) is None]
        return None if missing else _SUB.sub(lambda m: ctx.pseudo(m.group(1)) or "", arg)
    return None


def region_mappings(value: Any) -> list[str]:
    """Names of the mappings looked up with {"Ref": "AWS::Region"} as first key anywhere in `value`."""
    found: list[str] = []
    if isinstance(value, list):
        for item in value:
            found += region_mappings(item)
    elif isinstance(value, dict):
        for fn, arg in value.items():
            if fn == "Fn::FindInMap" and isinstance(arg, list) and arg[1:2] == [{"Ref": "AWS::Region"}]:
                found.append(arg[0])
            found += region_mappings(arg)
    return found


def endpoint_facts(template: dict[str, Any]) -> EndpointFacts:
    facts = EndpointFacts()
    for logical_id, body in resources(template, ENDPOINT).items():
        facts.endpoint_ids.append(logical_id)
        props = body.get("Properties", {})
        if isinstance(props.get("EndpointName"), str):
            facts.endpoint_names.append(props["EndpointName"])
        if props.get("DeploymentConfig", {}).get("BlueGreenUpdatePolicy"):
            facts.blue_green = True

    ceilings = _autoscaling_ceilings(template)
    for logical_id, body in resources(template, ENDPOINT_CONFIG).items():
        for variant in body.get("Properties", {}).get("ProductionVariants", []):
            name = variant.get("VariantName", "AllTraffic")
            instance_type = variant.get("InstanceType")
            ceiling = ceilings.get(name, ceilings.get("*"))
            facts.variants.append(
                Variant(
                    config_id=logical_id,
                    variant_name=name,
                    instance_type=instance_type if isinstance(instance_type, str) else None,
                    initial_count=int(variant.get("InitialInstanceCount", 1) or 0),
                    autoscaling_max=ceiling,
                )
            )

    for logical_id, body in resources(template, MODEL).items():
        props = body.get("Properties", {})
        containers = [props["PrimaryContainer"]] if "PrimaryContainer" in props else props.get("Containers", [])
        for container in containers:
            if "Image" in container:
                image = container["Image"]
                facts.images.append(Image(logical_id, image, tuple(dict.fromkeys(region_mappings(image)))))
    return facts


def _autoscaling_ceilings(template: dict[str, Any]) -> dict[str, int]:
    """Variant name -> MaxCapacity of the SageMaker scalable targets ("*" when the variant is not literal)."""
    ceilings: dict[str, int] = {}
    for body in resources(template, SCALABLE_TARGET).values():
        props = body.get("Properties", {})
        if props.get("ServiceNamespace") != "sagemaker" or "MaxCapacity" not in props:
            continue
        resource_id = props.get("ResourceId")
        match = re.fullmatch(r"endpoint/[^/]+/variant/(.+)", resource_id) if isinstance(resource_id, str) else None
        key = match.group(1) if match else "*"
        ceilings[key] = max(ceilings.get(key, 0), int(props["MaxCapacity"]))
    return ceilings


def parameters_without_default(template: dict[str, Any]) -> list[str]:
    return sorted(k for k, v in template.get("Parameters", {}).items() if "Default" not in v)

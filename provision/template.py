"""What a synthesized template asks of the account: endpoint names, instances, image URIs.

Read by preflight before the CDK CLI deploys: what the stack will ask of the account (instances, the
autoscaling ceiling, the image in the target region). Nothing here evaluates templates in general.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

ENDPOINT = "AWS::SageMaker::Endpoint"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
MODEL = "AWS::SageMaker::Model"
INFERENCE_COMPONENT = "AWS::SageMaker::InferenceComponent"
SCALABLE_TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"


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


def image_uri(expression: Any, template: dict[str, Any], region: str) -> str | None:
    """The image URI a container gets in `region`, for the two shapes the stacks write: a literal, or
    Fn::Join of literals and one `Fn::FindInMap [Mapping, {Ref: AWS::Region}, key]` (the region's registry).
    Anything else is None ("not checkable offline"), never a guess."""
    if isinstance(expression, str):
        return expression
    if not (isinstance(expression, dict) and list(expression) == ["Fn::Join"]):
        return None
    separator, parts = expression["Fn::Join"]
    values = []
    for part in parts:
        if isinstance(part, str):
            values.append(part)
            continue
        lookup = part.get("Fn::FindInMap") if isinstance(part, dict) else None
        if not (isinstance(lookup, list) and len(lookup) == 3 and lookup[1] == {"Ref": "AWS::Region"}):
            return None
        value = template.get("Mappings", {}).get(lookup[0], {}).get(region, {}).get(lookup[2])
        if not isinstance(value, str):
            return None
        values.append(value)
    return str(separator).join(values)


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
            managed = variant.get("ManagedInstanceScaling") or {}
            if managed.get("Status") == "ENABLED" and isinstance(managed.get("MaxInstanceCount"), int):
                ceiling = managed["MaxInstanceCount"]  # a shared endpoint's pool: SageMaker adds instances up to it
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
    for logical_id, body in resources(template, INFERENCE_COMPONENT).items():
        container = body.get("Properties", {}).get("Specification", {}).get("Container", {})
        if "Image" in container:  # adapter components carry only an ArtifactUrl
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
        if isinstance(resource_id, str) and resource_id.startswith("inference-component/"):
            continue  # scales copies, not instances (the pool's ManagedInstanceScaling bounds those)
        match = re.fullmatch(r"endpoint/[^/]+/variant/(.+)", resource_id) if isinstance(resource_id, str) else None
        key = match.group(1) if match else "*"
        ceilings[key] = max(ceilings.get(key, 0), int(props["MaxCapacity"]))
    return ceilings

"""Request checks that need no candidate: unknown names, contradictions, impossible numbers.

Each failure is one SelectorError naming the field, the value and the values that would work.
"""
from __future__ import annotations

import difflib

from selector.catalog import ALL_FAMILIES, Catalog, load_catalog, read_data, supported_architectures
from selector.errors import SelectorError, one_of
from selector.model_shape import ModelShape
from selector.request import PREFERENCES, QUANTIZATION_CHOICES, TRAFFIC, Request


def _unknown(field: str, value: str, known: list[str], what: str) -> SelectorError:
    exact = [k for k in known if k.lower() == str(value).lower()]  # names are case-sensitive: G5 means g5
    close = exact or difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    hint = f"Did you mean {one_of(close)}? " if close else ""
    return SelectorError(field, value, f"unknown {what}", hint + f"Known: {one_of(known, 50)}")


def validate_request(request: Request, catalog: Catalog) -> None:
    if request.traffic not in TRAFFIC:
        raise _unknown("traffic", request.traffic, list(TRAFFIC), "traffic pattern")
    if request.prefer not in PREFERENCES:
        raise _unknown("prefer", request.prefer, list(PREFERENCES), "preference")
    if request.quantization is not None and request.quantization not in QUANTIZATION_CHOICES:
        raise _unknown("quantization", request.quantization, list(QUANTIZATION_CHOICES), "quantization method")
    if request.region not in catalog.images.registries:
        raise _unknown("region", request.region, list(catalog.regions), "region (no LMI image registry there)")
    if ALL_FAMILIES in request.families and len(request.families) > 1:
        raise SelectorError("families", list(request.families), f"`{ALL_FAMILIES}` already includes every family",
                            f"Give {ALL_FAMILIES} alone, or a list of families without it")
    for family in request.families:
        if family not in catalog.families and family != ALL_FAMILIES:
            left_out = left_out_reason(family=family)
            if left_out:
                raise SelectorError("families", family, f"is left out of the catalog: {left_out}",
                                    f"Use one of {one_of([*catalog.families, ALL_FAMILIES], 50)}")
            raise _unknown("families", family, [*catalog.families, ALL_FAMILIES], "instance family")
    if request.backend is not None and request.backend not in catalog.backends:
        raise _unknown("backend", request.backend, sorted(catalog.backends), "backend")
    for name in ("max_input_tokens", "max_output_tokens", "min_concurrency", "tensor_parallel_degree"):
        value = getattr(request, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SelectorError(name, value, "must be a whole number of at least 1")
    _validate_properties_text(request)
    _validate_instance(request, catalog)
    _validate_container_version(request, catalog)
    _validate_backend_families(request, catalog)


def _validate_properties_text(request: Request) -> None:
    """Text that lands on a serving.properties line (the CLI's --revision and --model reach it without a
    deployments file): no line breaks, backslashes or non-ASCII (Java's Properties.load reads it)."""
    from selector.aws_names import deploy_time_problem, properties_problem

    texts = [("revision", request.revision), ("model", request.model)]
    texts += [(f"options.{key}", value) for key, value in request.options.items()]
    for name, text in texts:
        if text is None:
            continue
        problem = deploy_time_problem(text) or properties_problem(text)
        if problem:
            raise SelectorError(name, text, problem, "Write the literal value on one line, in ASCII, without backslashes")


def left_out_reason(family: str | None = None, instance_type: str | None = None) -> str | None:
    """Why instances.json leaves this family or instance type out (botocore lists it; the planner does not
    offer it), or None when it is simply unknown."""
    for names, reason in read_data("instances.json")["left_out"].items():
        for name in names.split(", "):
            prefix = name.removesuffix("*")
            if instance_type is not None and (instance_type == name or
                                              (name.endswith("*") and instance_type.startswith(prefix))):
                return reason
            if family is not None and name.startswith("ml.") and name.split(".")[1] == family:
                return reason
    return None


def planned_families(request: Request, catalog: Catalog) -> tuple[str, ...]:
    """The families candidates come from: the request's (or every family for `all`); with none given, the
    default families, or every family when an instance type is pinned (the pin itself is the opt-in)."""
    if request.families or request.instance_type is None:
        return catalog.requested_families(request.families)
    return catalog.families


def _validate_instance(request: Request, catalog: Catalog) -> None:
    if request.instance_type is None:
        return
    instance = catalog.instances.get(request.instance_type)
    left_out = left_out_reason(instance_type=request.instance_type) if instance is None else None
    if left_out:
        raise SelectorError("instance_type", request.instance_type, f"is left out of the catalog: {left_out}",
                            f"Use one of {one_of(sorted(catalog.instances), 50)}")
    if instance is None:
        raise _unknown("instance_type", request.instance_type, sorted(catalog.instances), "instance type")
    if request.families and instance.family not in catalog.requested_families(request.families):
        raise SelectorError(
            "instance_type", request.instance_type,
            f"contradicts families = {', '.join(request.families)} (it is a {instance.family})",
            f"Add {instance.family} to families or drop one of the two",
        )


def _validate_container_version(request: Request, catalog: Catalog) -> None:
    version = request.container_version
    if version is None:
        return
    backends = [catalog.backends[request.backend]] if request.backend else list(catalog.backends.values())
    carried = [
        b.name for b in backends
        if any(image.version == version for c in b.containers for image in catalog.images.in_range(c))
    ]
    if carried:
        return
    known = sorted({image.version for b in backends for c in b.containers for image in catalog.images.in_range(c)},
                   key=lambda v: tuple(int(p) for p in v.split(".")))
    who = f"backend {request.backend}" if request.backend else "any backend"
    raise SelectorError("container_version", version, f"no published LMI image of {who} has this version",
                        f"Published versions: {one_of(known, 40)}")


def _validate_backend_families(request: Request, catalog: Catalog) -> None:
    if request.backend is None:
        return
    kind = catalog.backends[request.backend].accelerator_kind
    allowed = planned_families(request, catalog)
    if not any(i.accelerator_kind == kind and i.family in allowed for i in catalog.instances.values()):
        fitting = sorted({i.family for i in catalog.instances.values() if i.accelerator_kind == kind})
        raise SelectorError(
            "backend", request.backend,
            f"runs only on {kind} accelerators, and families = {', '.join(allowed)} has none",
            f"Add one of {', '.join(fitting)} to families",
        )


def validate_against_model(request: Request, shape: ModelShape, catalog: Catalog | None = None) -> None:
    """Pins that contradict the model itself (a pre-quantized checkpoint fixes the method), and a model no
    backend runs at all (otherwise reported as 'no candidate', with hints that cannot help)."""
    catalog = catalog or load_catalog()
    from selector.rules.architecture_supported import backends_running

    if not backends_running(catalog, shape.architecture):
        known = sorted({arch for b in catalog.backends.values() for c in b.containers
                        for image in catalog.images.in_range(c)
                        for arch in supported_architectures(catalog, b, image.version)})
        close = difflib.get_close_matches(shape.architecture, known, n=3, cutoff=0.6)
        hint = f"Did you mean {one_of(close)}? " if close else ""
        raise SelectorError("architectures", shape.architecture,
                            f"no LMI backend in the catalog runs this model class ({shape.source})",
                            hint + f"Known: {one_of(known, 40)}")
    pinned = request.quantization
    if shape.prequantized and pinned not in (None, "auto", shape.prequantized):
        raise SelectorError(
            "quantization", pinned,
            f"{shape.model_id} is a checkpoint already quantized with {shape.prequantized.upper()}",
            f"Use quantization {shape.prequantized} (or auto), or point model at the unquantized checkpoint",
        )


# Context lengths below this cannot hold a prompt token and one generated token.
MIN_CONTEXT_TOKENS = 2


def check_local_config(config: dict, source: str) -> None:
    """Facts of a user-supplied config.json that no backend can serve, refused before they are planned silently:
    zero KV heads, a quantized bit width the kernel refuses, a context that holds no prompt and answer.
    (The bundled catalog is reviewed data and does not pass through here.)"""
    from selector.aws_names import limits

    def bad(key: str, value: object, problem: str, hint: str = "Use the config.json saved with the model weights"):
        return SelectorError(f"model config {key}", value, f"{source}: {problem}", hint)

    for key in ("num_key_value_heads", "num_kv_heads", "multi_query_group_num"):
        if key in config and config[key] == 0 and not isinstance(config[key], bool):
            raise bad(key, 0, "attention needs at least one key/value head; 0 would make every KV cache size zero")
    for key in ("max_position_embeddings", "n_positions", "max_seq_len", "seq_length", "max_sequence_length"):
        value = config.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < MIN_CONTEXT_TOKENS:
            raise bad(key, value, f"a context of {value} token cannot hold a prompt and one generated token")
    q = config.get("quantization_config")
    if isinstance(q, dict):
        method = str(q.get("quant_method", "")).lower()
        bits = q.get("bits", q.get("w_bit"))
        allowed = limits()["quantized_checkpoints"].get(f"{method}_bits")
        if allowed and bits is not None and bits not in allowed:
            raise bad("quantization_config.bits", bits,
                      f"{method.upper()} kernels load only {', '.join(map(str, allowed))}-bit weights",
                      f"Use a {'/'.join(map(str, allowed))}-bit {method.upper()} checkpoint")

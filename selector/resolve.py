"""resolve(): a Request becomes a Plan, offline and explained (README.md, "How it decides").

Enumerate every (backend, container version, quantization, instance, TP), reject each candidate that fails
a rule (keeping the reason), rank the survivors, and build the plan from the best one.
"""
from __future__ import annotations

import contextvars
from dataclasses import replace

from selector.catalog import ALL_FAMILIES, GIB, Backend, Catalog, ImageVersion, load_catalog, supports_architecture
from selector.errors import SelectorError
from selector.lengths import Lengths, decide_lengths
from selector.model_shape import ModelShape, load_model
from selector.nudge import cheaper_outside
from selector.option_types import check_user_options
from selector.performance_plan import check_load_slo, cost_keys, plan_performance, slo_refusal
from selector.plan import Plan
from selector.ranking import rank, sort_key
from selector.render import render_file, render_options
from selector.request import Request
from selector.rules import RULE_ORDER, first_rejection
from selector.rules.base import Candidate, Context, Rejection, Verdict
from selector.sizing import max_batch_size, max_num_tokens, model_loading_timeout_s
from selector.validate import planned_families, validate_against_model, validate_request
from selector.versions import version_key

LOCAL_MODEL_DIR = "/opt/ml/model"


def resolve(request: Request, catalog: Catalog | None = None) -> Plan:
    catalog = catalog or load_catalog()
    validate_request(request, catalog)
    check_load_slo(request)
    shape = load_model(request.model, request.model_config, request.revision)
    validate_against_model(request, shape, catalog)
    lengths = decide_lengths(request, shape, catalog)
    min_concurrency = request.min_concurrency or catalog.runtime["default_min_concurrency"]
    candidates = enumerate_candidates(request, shape, catalog)
    while True:
        ctx = Context(request, shape, catalog, lengths.max_model_len, min_concurrency)
        verdicts = [(c, first_rejection(c, ctx)) for c in candidates]
        feasible = [c for c, rejection in verdicts if rejection is None]
        if feasible:
            break
        smaller = lengths.halved(catalog.runtime["min_shrunk_max_model_len"])
        if smaller is None:
            raise no_plan_error(request, ctx, verdicts)
        lengths = smaller
    ranked = rank(feasible, catalog, request.traffic, request.prefer, cost_keys(feasible, ctx))
    return build_plan(ranked, verdicts, ctx, lengths)


def container_images(request: Request, backend: Backend, catalog: Catalog, architecture: str) -> list[ImageVersion]:
    """The pinned version, else the newest version published in the region that runs the architecture (newest
    anywhere if none; e.g. T5 stays on TensorRT-LLM 0.32.0 after 0.33.0 dropped it). Falling back to the newest
    image keeps an architecture_supported rejection that names the backends which do run it."""
    # Newest first across all of the backend's frameworks (lmi-dist: djl-deepspeed 0.25.0-0.27.0, then djl-lmi).
    images = sorted((image for c in backend.containers for image in catalog.images.in_range(c)),
                    key=lambda image: version_key(image.version), reverse=True)
    if request.container_version:
        return [image for image in images if image.version == request.container_version]
    in_region = [image for image in images if request.region in image.regions] or images
    running = [image for image in in_region if supports_architecture(catalog, backend, architecture, image.version)]
    return (running or in_region)[:1]


def enumerate_candidates(request: Request, shape: ModelShape, catalog: Catalog) -> list[Candidate]:
    if shape.prequantized:
        methods = [catalog.methods[shape.prequantized]]
    elif request.quantization_policy == "auto":
        methods = [catalog.methods[name] for name in sorted(catalog.methods)]
    else:
        methods = [catalog.methods[request.quantization_policy]]
    families = planned_families(request, catalog)
    instances = sorted(
        (i for i in catalog.instances.values()
         if i.family in families and request.instance_type in (None, i.name)),
        key=lambda i: (i.hourly_usd, i.name),
    )
    out: list[Candidate] = []
    for name in sorted(catalog.backends):
        backend = catalog.backends[name]
        if request.backend not in (None, name):
            continue
        for image in container_images(request, backend, catalog, shape.architecture):
            for method in methods:
                for instance in instances:
                    if instance.accelerator_kind != backend.accelerator_kind and not request.instance_type:
                        continue  # only a pinned instance is worth a backend_runs_on_accelerator rejection
                    degrees: tuple[int, ...]
                    if request.tensor_parallel_degree:
                        degrees = (request.tensor_parallel_degree,)
                    else:
                        degrees = tuple(tp for tp in backend.tp_degrees if tp <= instance.devices)
                    out.extend(Candidate(backend, image, method, instance, tp) for tp in degrees)
    return out


def furthest(verdicts: list[Verdict], catalog: Catalog, request: Request) -> tuple[Candidate, Rejection]:
    """The rejection of the candidate that got furthest through the rules (the most telling one)."""
    rejected = [(c, r) for c, r in verdicts if r is not None]
    return min(
        rejected,
        key=lambda cr: (-RULE_ORDER[cr[1].rule],
                        cr[0].backend.accelerator_kind != cr[0].instance.accelerator_kind,  # a backend for that chip
                        -_room(cr[0], cr[1].rule, catalog),
                        sort_key(cr[0], catalog, request.traffic, request.prefer)),
    )


def _room(candidate: Candidate, rule: str, catalog: Catalog) -> float:
    """For a memory refusal, the candidate closest to fitting is the telling one (the largest instance, not the
    cheapest): 'ml.g5.48xlarge leaves 19.3 GiB' says more about a 405B model than 'ml.g5.xlarge has 16 GiB'."""
    instance = candidate.instance
    if rule == "host_memory_fits":
        return instance.host_memory_gib
    if rule in ("device_memory_fits", "calibration_memory_fits"):
        from selector.memory import usable_bytes

        return usable_bytes(instance, catalog) * instance.devices / GIB + candidate.tp / 100
    return 0.0


# Hints re-run the planner on a relaxed request; inside such a probe no further hints are computed, so a refusal
# costs at most a handful of extra plans instead of a tree of them.
_PROBING: contextvars.ContextVar[bool] = contextvars.ContextVar("probing", default=False)
SHORT_TOKENS = 256  # the lengths a "lower the lengths" hint is checked with


def no_plan_error(request: Request, ctx: Context, verdicts: list[Verdict]) -> SelectorError:
    if not verdicts:
        return SelectorError("families", list(request.families), "no instance of these families is in the catalog")
    nearest, rejection = furthest(verdicts, ctx.catalog, request)
    if rejection.rule == "meets_slo":
        return slo_refusal(verdicts, ctx)
    pins = request.pins()
    probing = _PROBING.get()
    if pins:
        field = " + ".join(pins)
        value = list(pins.values()) if len(pins) > 1 else next(iter(pins.values()))
        hint = "" if probing else _without_pins_hint(request, pins)
        return _with_option_problems(
            SelectorError(field, value, f"no plan honours this pin: {rejection.reason}", hint), request, nearest)
    hints = [] if probing else _relaxations(request, ctx)
    hint = ("Try to " + ", or ".join(hints)) if hints else "No catalog instance can hold it"
    return _with_option_problems(
        SelectorError("model", request.model, f"no candidate can serve it: {rejection.reason}", hint), request, nearest)


def _with_option_problems(error: SelectorError, request: Request, nearest: Candidate) -> SelectorError:
    """A refusal also names option values the nearest candidate's container would refuse, so `validate` reports both
    problems at once instead of the second only after the first is fixed."""
    if not request.options or _PROBING.get():
        return error
    refused, _ = check_user_options(nearest.backend.name, nearest.image.version, request.options)
    return SelectorError.of([*error.problems, *refused]) if refused else error


def _relaxations(request: Request, ctx: Context) -> list[str]:
    """The changes that would make the request plan, each checked (a hint never suggests a useless retry)."""
    hints = []
    if request.quantization_policy == "none" and _probe(replace(request, quantization="auto")):
        hints.append("allow quantization (quantization: auto, or prefer: cost)")
    if set(planned_families(request, ctx.catalog)) != set(ctx.catalog.families):
        elsewhere = _probe(replace(request, families=(ALL_FAMILIES,)))
        if elsewhere is not None:
            family = ctx.catalog.instances[elsewhere.instance_type].family
            hints.append(f"allow more instance families (families: all, or add {family}: {_said(elsewhere)})")
    shorter = replace(request, max_input_tokens=_shorter(request.max_input_tokens),
                      max_output_tokens=_shorter(request.max_output_tokens))
    if shorter != request and _probe(shorter):
        hints.append(f"lower max_input_tokens / max_output_tokens (it plans at {SHORT_TOKENS} tokens each)")
    if (request.min_concurrency or 1) > 1:
        fewer = _probe(replace(request, min_concurrency=1))
        if fewer is not None:
            hints.append(f"lower min_concurrency (at 1: {_said(fewer)})")
    return hints


def _said(plan: Plan) -> str:
    """A hint's plan in one line, its price marked when the catalog's figure is a third-party copy."""
    confirmed = load_catalog().instances[plan.instance_type].price_confirmed
    return plan.summary + ("" if confirmed else " (price unconfirmed)")


def _shorter(tokens: int | None) -> int | None:
    return min(tokens, SHORT_TOKENS) if tokens else tokens


def resolve_without_hints(request: Request) -> Plan:
    """resolve(), but a refusal carries no hints: for callers that try many variants and report their own reasons
    (hint probes, the shared-endpoint planner's TP pins)."""
    token = _PROBING.set(True)
    try:
        return resolve(request)
    finally:
        _PROBING.reset(token)


def _probe(request: Request) -> Plan | None:
    """The plan of a relaxed request, or None (only asked on the error path)."""
    try:
        return resolve_without_hints(request)
    except SelectorError:
        return None


def _without_pins_hint(request: Request, pins: dict[str, object]) -> str:
    """What would plan: dropping one pin (when several were given), all of them, or all of them with every family."""
    if len(pins) > 1:
        for name in pins:
            alone = _probe(_without(request, name))
            if alone is not None:
                return f"Dropping {name} alone, the plan would be: {_said(alone)}"
    free = replace(request, backend=None, container_version=None, instance_type=None, tensor_parallel_degree=None,
                   quantization=None if request.quantization not in (None, "auto") else request.quantization)
    try:
        return f"Without the pin the plan would be: {_said(resolve_without_hints(free))}"
    except SelectorError as refused:
        why = refused
    wider = _probe(replace(free, families=(ALL_FAMILIES,)))
    if wider is not None:
        return f"Without the pin and with families: all the plan would be: {_said(wider)}"
    return f"Without the pin it fails too ({why.field}: {why.problem})"


def _without(request: Request, pin: str) -> Request:
    """The request without one pin (pins() names them by their Request field)."""
    unpinned: dict[str, Request] = {
        "backend": replace(request, backend=None),
        "container_version": replace(request, container_version=None),
        "instance_type": replace(request, instance_type=None),
        "tensor_parallel_degree": replace(request, tensor_parallel_degree=None),
        "quantization": replace(request, quantization=None),
    }
    return unpinned[pin]


def build_plan(ranked: list[Candidate], verdicts: list[Verdict], ctx: Context, lengths: Lengths) -> Plan:
    from selector.explain import alternatives, rationale, warnings

    best = ranked[0]
    catalog, request, shape = ctx.catalog, ctx.request, ctx.shape
    memory = ctx.memory(best)
    batch = max_batch_size(best, memory, catalog)
    image_uri = catalog.images.uri(best.image, request.region)
    quant_kind = "prequantized" if shape.prequantized else ("none" if best.quantization.name == "none" else "runtime")
    offer = best.backend.runtime_quantization.get(best.quantization.name) if quant_kind == "runtime" else None
    quantize = offer.option_at(best.image.version) if offer else None
    model_id = _served_model_id(request, shape)
    loading_timeout = model_loading_timeout_s(shape.stored_bytes(), best.backend.compiled, catalog)
    values = {
        "container_version": best.image.version,
        "model_id": model_id,
        "revision": request.revision,
        "trust_remote_code": shape.trust_remote_code,
        "architecture": shape.architecture,
        "tp": best.tp,
        "dtype": (offer.serving_dtype if offer and offer.serving_dtype else shape.serving_dtype),
        "max_model_len": lengths.max_model_len,
        "max_input_len": lengths.max_input_tokens,
        "max_output_len": lengths.max_output_tokens,
        "max_num_tokens": max_num_tokens(batch, lengths.max_input_tokens, memory, catalog),
        "max_batch_size": batch,
        "gpu_memory_utilization": catalog.runtime["gpu_memory_utilization"],
        "model_loading_timeout": loading_timeout,
        "quantize": quantize.value if quantize else None,
        "quantize_key": quantize.key if quantize else "option.quantize",
        "checkpoint_quantization": shape.prequantized,
    }
    options = render_options(best.backend.name, values, request.options)
    refused, option_notes = check_user_options(best.backend.name, best.image.version, request.options)
    if refused:  # the container's own properties class would refuse to start with these values
        raise SelectorError.of(refused)
    header = {
        "model_id": model_id, "architecture": shape.architecture, "backend_display": best.backend.display_name,
        "image_tag": best.image.tag, "instance_type": best.instance.name, "tp": best.tp,
        "quantization": best.quantization.name, "max_model_len": lengths.max_model_len, "max_batch_size": batch,
    }
    rejected = tuple(
        {"candidate": c.label, "rule": r.rule, "reason": r.reason} for c, r in verdicts if r is not None
    )
    nudge = cheaper_outside(best, ctx, planned_families(request, catalog))
    nudge_line = (nudge.sentence(best.instance.name, best.instance.hourly_usd),) if nudge else ()
    return Plan(
        model_id=shape.model_id,
        revision=request.revision,
        architecture=shape.architecture,
        params=shape.total_params(),
        traffic=request.traffic,
        prefer=request.prefer,
        backend=best.backend.name,
        backend_display=best.backend.display_name,
        deprecated_backend=best.backend.deprecated,
        compiled_backend=best.backend.compiled,
        container_framework=best.image.framework,
        container_version=best.image.version,
        image_tag=best.image.tag,
        image_uri=image_uri,
        region=request.region,
        quantization=best.quantization.name,
        quantization_kind=quant_kind,
        instance_type=best.instance.name,
        accelerator=best.instance.accelerator,
        accelerator_kind=best.instance.accelerator_kind,
        devices=best.instance.devices,
        local_nvme=best.instance.local_nvme,
        tensor_parallel_degree=best.tp,
        replicas=best.instance.devices // best.tp,
        max_model_len=lengths.max_model_len,
        max_input_tokens=lengths.max_input_tokens,
        max_output_tokens=lengths.max_output_tokens,
        max_batch_size=batch,
        min_concurrency=ctx.min_concurrency,
        checkpoint_bytes=shape.stored_bytes(),
        model_loading_timeout_s=loading_timeout,
        memory=memory.as_dict(batch),
        hourly_usd=best.instance.hourly_usd,
        price_as_of=best.instance.price_as_of,
        serving_properties=options,
        serving_properties_text=render_file(options, header),
        rationale=tuple(rationale(best, ranked, verdicts, ctx, lengths, memory, batch)) + nudge_line,
        rejected=rejected,
        warnings=tuple(warnings(best, ctx, lengths)) + tuple(option_notes) + nudge_line,
        alternatives=tuple(alternatives(ranked)),
        performance=plan_performance(best, ctx, batch),
    )


def _served_model_id(request: Request, shape: ModelShape) -> str:
    """What option.model_id points at: the hub id; /opt/ml/model for s3:// weights (SageMaker mounts the
    prefix there, which also works under network isolation) and for a bare local config.json."""
    if request.model.startswith("s3://"):
        return LOCAL_MODEL_DIR
    if request.model_config:
        return request.model
    return shape.model_id if shape.from_catalog else LOCAL_MODEL_DIR

"""Human-readable reasons for a plan: why this choice, and why not the alternatives.

Every sentence carries the numbers it rests on, so a reviewer can redo the arithmetic from --json.
"""
from __future__ import annotations

from selector.catalog import GIB
from selector.conformance import conformance
from selector.lengths import Lengths
from selector.memory import MemoryEstimate
from selector.performance_plan import rationale_line
from selector.rules import RULE_ORDER
from selector.rules.base import Candidate, Context, Rejection, Verdict
from selector.sizing import download_and_compile_s



def _gib(value: int) -> str:
    return f"{value / GIB:.1f} GiB"


def _best_rejection(verdicts: list[Verdict], keep) -> Rejection | None:
    """Among the rejections of candidates `keep` selects, the one from the furthest rule."""
    found = [r for c, r in verdicts if r is not None and keep(c)]
    return max(found, key=lambda r: RULE_ORDER[r.rule]) if found else None


def rationale(best: Candidate, ranked: list[Candidate], verdicts: list[Verdict], ctx: Context,
              lengths: Lengths, memory: MemoryEstimate, batch: int) -> list[str]:
    shape, request, catalog = ctx.shape, ctx.request, ctx.catalog
    lines = [
        f"Model {shape.model_id}: {shape.architecture}, {shape.total_params() / 1e9:.2f}B parameters computed from its "
        f"shape ({shape.num_layers} layers, hidden {shape.hidden_size}, {shape.num_heads} heads, "
        f"{shape.num_kv_heads} KV heads, head dim {shape.head_dim}"
        + (f", {shape.num_experts} experts" if shape.num_experts > 1 else "")
        + f"); checkpoint {shape.stored_as}."
    ]
    lines += _backend_lines(best, ranked, verdicts, ctx)
    lines.append(_quantization_line(best, ranked, ctx))
    lines.append(_instance_line(best, verdicts, ctx))
    replicas = best.instance.devices // best.tp
    unit = "NeuronCore" if best.instance.accelerator_kind == "neuron" else "GPU"
    unit += "s" if best.instance.devices > 1 else ""
    lines.append(
        f"Tensor parallel degree {best.tp} on {best.instance.devices} {unit}"
        + (f" ({replicas} model copies)" if replicas > 1 else "") + "; the largest degree that fits is preferred "
        "(more KV cache per sequence, lower latency)."
    )
    kv_batch = batch * lengths.max_model_len * memory.kv_bytes_per_token_per_device
    lines.append(
        f"Memory per device: weights {_gib(memory.weights_per_device_bytes)} ({_gib(memory.weights_bytes)} / TP {best.tp}) "
        f"+ KV cache {_gib(kv_batch)} ({batch} x {lengths.max_model_len} tokens x "
        f"{memory.kv_bytes_per_token_per_device} B) of {_gib(memory.usable_per_device_bytes)} usable "
        f"({_gib(memory.device_capacity_bytes)} device memory after utilization and runtime overhead)."
    )
    origin = ("default: min(model max positions, " f"{catalog.runtime['default_max_model_len']})"
              if lengths.defaulted else "max input + max output tokens")
    if lengths.shrunk_from:
        origin = f"shrunk from {lengths.shrunk_from} so that {ctx.min_concurrency} full sequences fit"
    lines.append(
        f"max_model_len {lengths.max_model_len} ({origin}); max batch {batch} full-length sequences "
        f"(at least min_concurrency {ctx.min_concurrency})."
    )
    lines.append(
        f"Image {best.image.framework} {best.image.version} ({best.image.tag}): the newest published in "
        f"{request.region} that carries {best.backend.display_name}."
    )
    lines.append(rationale_line(best, ctx, batch))
    return lines


def _backend_lines(best: Candidate, ranked: list[Candidate], verdicts: list[Verdict], ctx: Context) -> list[str]:
    request, catalog = ctx.request, ctx.catalog
    order = catalog.traffic_order[request.traffic]
    if request.backend:
        lines = [f"Backend {best.backend.display_name}: pinned by the request."]
    elif request.prefer == "cost":
        lines = [f"Backend {best.backend.display_name}: part of the cheapest feasible plan (prefer cost); at equal "
                 f"price current backends come first, then the {request.traffic} traffic order {' > '.join(order)}."]
    else:
        why = ("compiled engines suit even traffic with known length limits" if request.traffic == "even"
               else "uneven traffic favours backends without compiled length limits")
        lines = [f"Backend {best.backend.display_name}: first feasible in the {request.traffic} traffic order "
                 f"{' > '.join(order)} ({why}), current backends before deprecated ones."]
    feasible_backends = {c.backend.name for c in ranked}
    for name in order:
        if name == best.backend.name:
            continue
        if name in feasible_backends:
            cheapest = min((c for c in ranked if c.backend.name == name), key=lambda c: c.instance.hourly_usd)
            status = " (deprecated)" if cheapest.backend.deprecated else ""
            lines.append(f"Not {name}{status}: feasible, but ranked lower (cheapest {cheapest.instance.name} at "
                         f"${cheapest.instance.hourly_usd:.2f}/h).")
        else:
            rejection = _best_rejection(verdicts, lambda c, n=name: c.backend.name == n)
            if rejection is not None:
                lines.append(f"Not {name}: {rejection.reason}.")
    return lines


def _quantization_line(best: Candidate, ranked: list[Candidate], ctx: Context) -> str:
    shape, request = ctx.shape, ctx.request
    if shape.prequantized:
        return (f"Quantization {shape.prequantized}: the checkpoint is already quantized, so the backend reads it "
                "as is and option.quantize is not set.")
    method = best.quantization
    if method.name == "none":
        policy = request.quantization_policy
        why = ("not allowed (balanced keeps full precision; allow it with quantization: auto or prefer: cost)"
               if policy == "none" else "no quantized plan was cheaper")
        return f"Quantization none: weights stay 16-bit; quantization {why}."
    assert method.weight_bits is not None, f"quantization {method.name} keeps no bit width"  # only `none` has none
    bytes_per = method.weight_bits / 8 + (method.group_overhead_bytes / method.group_size if method.group_size else 0)
    full = [c for c in ranked if c.quantization.name == "none"]
    compare = (f"; the cheapest full-precision plan is {full[0].instance.name} at ${full[0].instance.hourly_usd:.2f}/h"
               if full else "; no full-precision plan fits")
    return (f"Quantization {method.name} applied by {best.backend.display_name} at load: "
            f"{bytes_per:.3f} bytes per block weight instead of 2, embeddings stay 16-bit{compare}.")


def _instance_line(best: Candidate, verdicts: list[Verdict], ctx: Context) -> str:
    cheaper = sorted(
        {c.instance.name: (c, r) for c, r in verdicts
         if r is not None and c.backend.name == best.backend.name and c.quantization == best.quantization
         and c.instance.accelerator_kind == best.instance.accelerator_kind
         and c.instance.hourly_usd < best.instance.hourly_usd}.values(),
        key=lambda cr: cr[0].instance.hourly_usd,
    )
    line = (f"Instance {best.instance.name} (${best.instance.hourly_usd:.2f}/h, {best.instance.accelerators} x "
            f"{best.instance.accelerator}): the cheapest that fits for this backend.")
    if ctx.request.instance_type:
        line = f"Instance {best.instance.name} (${best.instance.hourly_usd:.2f}/h): pinned by the request."
    reasons = []
    for candidate, _ in cheaper[:3]:
        rejection = _best_rejection(
            verdicts, lambda c, n=candidate.instance.name: c.instance.name == n and c.backend.name == best.backend.name
            and c.quantization == best.quantization)
        if rejection is not None:
            reasons.append(f"{candidate.instance.name}: {rejection.reason}")
    if reasons:
        line += " Cheaper ones rejected: " + "; ".join(reasons) + "."
    return line


def warnings(best: Candidate, ctx: Context, lengths: Lengths) -> list[str]:
    out = []
    if best.backend.deprecated:
        out.append(f"{best.backend.display_name} is deprecated: {best.backend.deprecation}. The plan uses "
                   f"{best.image.tag}, which gets no updates; plan a migration.")
    if best.backend.compiled and lengths.defaulted:
        out.append(f"{best.backend.display_name} compiles for fixed limits, but no max_input_tokens / "
                   f"max_output_tokens were given: built for input <= {lengths.max_input_tokens}, output <= "
                   f"{lengths.max_output_tokens}.")
    if lengths.shrunk_from:
        out.append(f"max_model_len shrunk from {lengths.shrunk_from} to {lengths.max_model_len} to fit "
                   f"{ctx.min_concurrency} concurrent sequences; longer requests will be refused.")
    fp8_hardware = (best.instance.compute_capability or 0) < 8.9
    if best.quantization.name == "fp8" and best.instance.accelerator_kind == "nvidia" and fp8_hardware:
        out.append(f"fp8 on {best.instance.accelerator} runs weight-only (W8A16): memory halves, compute stays 16-bit.")
    check = conformance(best.backend.name, best.image.version)
    if not check.verified:
        out.append(f"{best.backend.display_name} {best.image.version}: options not verified against container "
                   f"source ({check.note}).")
    offer = best.backend.runtime_quantization.get(best.quantization.name)
    if offer and offer.serving_dtype and not ctx.shape.prequantized and offer.serving_dtype != ctx.shape.serving_dtype:
        out.append(f"{best.backend.display_name} {best.quantization.name} runs in {offer.serving_dtype} only: the "
                   f"{ctx.shape.checkpoint_dtype} checkpoint is served in {offer.serving_dtype}.")
    if not best.instance.price_confirmed:
        out.append(f"{best.instance.name} price is UNCONFIRMED in the catalog; refresh prices before budgeting.")
    out += _loading_warning(best, ctx)
    out += _remote_code_warning(ctx)
    return out


def _remote_code_warning(ctx: Context) -> list[str]:
    """trust_remote_code runs Python from the model repository inside the container: say so, and how to pin it."""
    shape, options = ctx.shape, {k.lower(): str(v).lower() for k, v in ctx.request.options.items()}
    if shape.trust_remote_code:
        pin = "" if ctx.request.revision or ctx.request.model.startswith("s3://") else \
            " Pin `revision` to the commit you reviewed."
        return [f"{shape.model_id} is served with option.trust_remote_code=true, as its publishers deploy it: the "
                f"container runs Python code from the model repository.{pin}"]
    if shape.ships_code and options.get("option.trust_remote_code") != "true":
        return [f"{shape.model_id}'s config.json names its own code (auto_map): if the container's libraries do not "
                f"know model_type {shape.model_type!r}, it will not load without options: "
                "{option.trust_remote_code: true} (review that code and pin `revision` first)."]
    return []


def _loading_warning(best: Candidate, ctx: Context) -> list[str]:
    """A checkpoint too large to download within SageMaker's limit at the planning throughput. A hub model is
    downloaded by the container during its startup health check; an s3:// prefix by SageMaker before the container
    starts (ModelDataDownloadTimeoutInSeconds), so staging in S3 is the advice only for the first."""
    runtime = ctx.catalog.runtime
    checkpoint = ctx.shape.stored_bytes()
    needs = download_and_compile_s(checkpoint, best.backend.compiled, ctx.catalog)
    cap = runtime["endpoint_timeout_max_s"]
    if needs <= cap:
        return []
    rate = f"{runtime['download_bytes_per_s'] / 1e6:.0f} MB/s"
    what = "download and compile" if best.backend.compiled else "download"
    if ctx.request.model.startswith("s3://"):
        return [f"SageMaker's download of the {checkpoint / GIB:,.0f} GiB checkpoint needs ~{needs / 3600:.1f} h at the "
                f"planning estimate of {rate} (selector/data/runtime.json), beyond the {cap} s that "
                "ModelDataDownloadTimeoutInSeconds allows: measure the S3 throughput of this instance type before "
                "deploying."]
    return [f"The {checkpoint / GIB:,.0f} GiB checkpoint's {what} alone needs ~{needs / 3600:.1f} h at the planning "
            f"estimate of {rate} (selector/data/runtime.json), beyond SageMaker's {cap} s startup limit, within which "
            "the container fetches hub models: stage the weights in S3 (model: s3://bucket/prefix/ with model_config; "
            "SageMaker downloads them before the container starts) or measure the hub download on this instance."]


def alternatives(ranked: list[Candidate], limit: int = 3) -> list[dict]:
    """Runner-ups with a distinct backend/quantization/instance, in rank order."""
    seen = {(ranked[0].backend.name, ranked[0].quantization.name, ranked[0].instance.name)}
    out = []
    for c in ranked[1:]:
        key = (c.backend.name, c.quantization.name, c.instance.name)
        if key in seen:
            continue
        seen.add(key)
        out.append({"backend": c.backend.name, "quantization": c.quantization.name, "instance_type": c.instance.name,
                    "tensor_parallel_degree": c.tp, "hourly_usd": c.instance.hourly_usd})
        if len(out) == limit:
            break
    return out

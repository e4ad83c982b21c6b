"""Terminal output for people: plan tables, a per-device memory bar, catalogs, deployment summaries."""
from __future__ import annotations

import json
from collections import Counter

from rich.console import Console
from rich.table import Table

from selector.catalog import GIB, load_catalog, read_data
from selector.plan import Plan

BAR_WIDTH = 50
PIPE_WIDTH = 200  # when output is piped (CI logs, files), never wrap ids mid-word


def make_console() -> Console:
    """A terminal console, or a wide one when piped, so ids and URIs stay whole and greppable."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=PIPE_WIDTH)


def memory_bar(plan: Plan) -> str:
    """weights / KV cache / free of one device's memory, as a fixed-width bar."""
    mem = plan.memory
    capacity = mem["device_capacity_bytes"]
    weights = mem["weights_per_device_bytes"]
    kv = mem["per_device_bytes"] - weights
    w = round(BAR_WIDTH * weights / capacity)
    k = round(BAR_WIDTH * kv / capacity)
    free = max(0, BAR_WIDTH - w - k)
    return (
        f"[bold blue]{'█' * w}[/][green]{'▓' * k}[/][dim]{'░' * free}[/]  "
        f"weights {weights / GIB:.1f} GiB | KV {kv / GIB:.1f} GiB | free {(capacity - weights - kv) / GIB:.1f} "
        f"of {capacity / GIB:.1f} GiB"
    )


def print_plan(plan: Plan, console: Console | None = None) -> None:
    console = console or make_console()
    table = Table(title=f"Plan for {plan.model_id}", show_header=False)
    rows = [
        ("backend", f"{plan.backend_display} ({plan.backend})"),
        ("quantization", f"{plan.quantization} ({plan.quantization_kind})"),
        ("instance", f"{plan.instance_type} ({plan.devices} x {plan.accelerator})"),
        ("tensor parallel", f"{plan.tensor_parallel_degree} ({plan.replicas} model {'copy' if plan.replicas == 1 else 'copies'})"),
        ("limits", f"max_model_len {plan.max_model_len}, input {plan.max_input_tokens}, output "
                   f"{plan.max_output_tokens}, batch {plan.max_batch_size}"),
        ("image", plan.image_uri),
        ("cost", f"${plan.hourly_usd:.2f}/h, ${plan.hourly_usd * 730:,.0f}/month (prices as of {plan.price_as_of})"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)
    console.print("memory per device: " + memory_bar(plan))
    console.print("\n[bold]Why[/]")
    for line in plan.rationale:
        console.print(f" • {line}", highlight=False)
    for line in plan.warnings:
        console.print(f"[yellow] ! {line}[/]", highlight=False)
    if plan.rejected:
        console.print(f"\n[bold]Rejected[/] ({len(plan.rejected)} candidates; by rule: "
                      + ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(r['rule'] for r in plan.rejected).items()))
                      + "; all in --json)")
        for item in _telling_rejections(plan)[:8]:
            console.print(f"  {item['candidate']}: {item['reason']}", highlight=False)


def _telling_rejections(plan: Plan) -> list[dict[str, str]]:
    """One rejection per backend/instance pair, memory and TP failures first (the informative ones)."""
    priority = {"device_memory_fits": 0, "host_memory_fits": 1, "tp_divides_kv_heads": 2, "tp_divides_heads": 2,
                "quantization_offered": 3, "architecture_supported": 4}
    seen, out = set(), []
    for item in sorted(plan.rejected, key=lambda r: priority.get(r["rule"], 9)):
        backend, _, _, instance, _ = item["candidate"].split(" ")
        if (backend, instance) in seen or item["rule"] == "backend_runs_on_accelerator":
            continue
        seen.add((backend, instance))
        out.append(item)
    return out


def print_catalog(what: str, as_json: bool, console: Console | None = None) -> None:
    console = console or make_console()
    catalog = load_catalog()
    if what == "models":
        from selector.model_shape import catalog_model_ids, load_model

        shapes = [load_model(model_id) for model_id in catalog_model_ids()]
        if as_json:
            console.print_json(json.dumps([{"id": s.model_id, "architecture": s.architecture, "params": s.total_params(),
                                            "max_positions": s.max_positions, "prequantized": s.prequantized}
                                           for s in shapes]))
            return
        table = Table("model", "architecture", "params (B)", "layers", "heads/KV", "max positions", "quantized")
        for s in shapes:
            table.add_row(s.model_id, s.architecture, f"{s.total_params() / 1e9:.2f}", str(s.num_layers),
                          f"{s.num_heads}/{s.num_kv_heads}", str(s.max_positions), s.prequantized or "")
    elif what == "instances":
        raw = read_data("instances.json")
        if as_json:
            console.print_json(json.dumps(raw))
            return
        table = Table("instance", "accelerators", "memory each (GiB)", "devices (TP unit)", "host RAM (GiB)",
                      "$/h", title=f"prices {raw['price_region']} as of {raw['price_as_of']}")
        for i in sorted(catalog.instances.values(), key=lambda i: i.hourly_usd):
            table.add_row(i.name, f"{i.accelerators} x {i.accelerator}", f"{i.accelerator_memory_gib:g}",
                          str(i.devices), f"{i.host_memory_gib:g}", f"{i.hourly_usd:.2f}")
    else:
        raw = read_data("backends.json")
        if as_json:
            console.print_json(json.dumps(raw))
            return
        table = Table("backend", "status", "accelerator", "containers", "newest image", "runtime quantization",
                      "pre-quantized")
        for b in catalog.backends.values():
            images = [img for c in b.containers for img in catalog.images.in_range(c)]
            table.add_row(b.name, b.status, b.accelerator_kind,
                          ", ".join(f"{c.framework} {c.min_version}-{c.max_version or 'latest'}" for c in b.containers),
                          images[0].tag if images else "-", ", ".join(b.runtime_quantization) or "-",
                          ", ".join(b.prequantized) or "-")
    console.print(table)


def print_deployments(resolved, console: Console | None = None) -> None:
    console = console or make_console()
    table = Table("endpoint", "model", "traffic", "backend", "quant", "instance x count", "TP", "$/h", "warnings")
    for item in resolved:
        plan = item.plan
        table.add_row(item.endpoint_name, plan.model_id, plan.traffic, plan.backend, plan.quantization,
                      f"{plan.instance_type} x {item.deployment.instance_count}", str(plan.tensor_parallel_degree),
                      f"{plan.hourly_usd * item.deployment.instance_count:.2f}", str(len(plan.warnings)))
    console.print(table)

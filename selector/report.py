"""Terminal output for people: plan tables, a per-device memory bar, catalogs, deployment summaries."""
from __future__ import annotations

import json
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from selector.catalog import GIB, load_catalog
from selector.plan import Plan

BAR_WIDTH = 50
PIPE_WIDTH = 200  # when output is piped (CI logs, files), never wrap ids mid-word


def make_console() -> Console:
    """A terminal console, or a wide one when piped, so ids and URIs stay whole and greppable."""
    probe = Console()
    return probe if probe.is_terminal else Console(width=PIPE_WIDTH)


def price_text(hourly_usd: float, confirmed: bool) -> str:
    """One format for a list price wherever it is shown (`catalog instances`, `prices`): cents, and the
    catalog's unconfirmed prices marked as such."""
    return f"{hourly_usd:.2f}" + ("" if confirmed else " (unconfirmed)")


def memory_bar(plan: Plan) -> tuple[str, str]:
    """weights / KV cache / free of one device's memory: a fixed-width bar and its legend (two lines, so
    an 80-column terminal shows both whole)."""
    mem = plan.memory
    capacity = mem["device_capacity_bytes"]
    weights = mem["weights_per_device_bytes"]
    kv = mem["per_device_bytes"] - weights
    w = round(BAR_WIDTH * weights / capacity)
    k = round(BAR_WIDTH * kv / capacity)
    free = max(0, BAR_WIDTH - w - k)
    bar = f"[bold blue]{'█' * w}[/][green]{'▓' * k}[/][dim]{'░' * free}[/]"
    legend = (f"weights {weights / GIB:.1f} GiB | KV {kv / GIB:.1f} GiB | free {(capacity - weights - kv) / GIB:.1f} "
              f"of {capacity / GIB:.1f} GiB")
    return bar, legend


def key_values(rows: list[tuple[str, str]], title: str | None = None) -> Table:
    """Borderless key/value rows whose values fold (never truncate) at the terminal's width."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    if title:
        table.title = title
    for key, value in rows:
        table.add_row(key, Text(value))
    return table


def bullets(lines: list[str] | tuple[str, ...], mark: str = "•", style: str = "") -> Table:
    """A bullet list with a hanging indent: wrapped lines stay under their text, not at column 0."""
    table = Table.grid(padding=(0, 1))
    table.add_column(no_wrap=True, style=style)
    table.add_column(overflow="fold", style=style)
    for line in lines:
        table.add_row(f" {mark}", Text(line))
    return table


def print_plan(plan: Plan, console: Console | None = None) -> None:
    console = console or make_console()
    rows = [
        ("model", plan.model_id),
        ("backend", f"{plan.backend_display} ({plan.backend})"),
        ("quantization", f"{plan.quantization} ({plan.quantization_kind})"),
        ("instance", f"{plan.instance_type} ({plan.devices} x {plan.accelerator})"),
        ("tensor parallel", f"{plan.tensor_parallel_degree} ({plan.replicas} model {'copy' if plan.replicas == 1 else 'copies'})"),
        ("limits", f"max_model_len {plan.max_model_len}, input {plan.max_input_tokens}, output "
                   f"{plan.max_output_tokens}, batch {plan.max_batch_size}"),
        ("image", plan.image_uri),
        ("cost", f"${plan.hourly_usd:.2f}/h, ${plan.hourly_usd * 730:,.0f}/month (prices as of {plan.price_as_of}"
                 + ("" if load_catalog().instances[plan.instance_type].price_confirmed else "; unconfirmed") + ")"),
    ]
    perf = plan.performance
    if perf and "estimate_missing" in perf:
        rows.append(("estimate", f"none: {perf['estimate_missing']}"))
    elif perf:
        band = round(perf["uncertainty"] * 100)
        rows += [
            ("throughput", f"~{perf['tokens_per_s_per_instance']:,.0f} output tokens/s per instance at batch "
                           f"{perf['batch']} (±{band}%, estimate)"),
            ("latency", f"TTFT {perf['time_to_first_token_ms']:,.0f} ms, TPOT {perf['time_per_output_token_ms']:.1f} ms "
                        f"at {perf['input_tokens']} in / {perf['output_tokens']} out tokens"),
            ("$/1M tokens", f"${perf['usd_per_million_output_tokens']:.2f} output "
                            f"(${perf['usd_per_million_output_tokens_range'][0]:.2f}–"
                            f"${perf['usd_per_million_output_tokens_range'][1]:.2f})"),
        ]
    console.print(key_values(rows))
    bar, legend = memory_bar(plan)
    console.print("\nmemory per device:")
    console.print(bar)
    console.print(legend, highlight=False)
    console.print("\n[bold]Why[/]")
    console.print(bullets(plan.rationale))
    if plan.warnings:
        console.print(bullets(plan.warnings, "!", "yellow"))
    if plan.rejected:
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(Counter(r["rule"] for r in plan.rejected).items()))
        console.print(f"\n[bold]Rejected[/] ({len(plan.rejected)} candidates; by rule: {counts}; all in --json)",
                      highlight=False)
        console.print(bullets([f"{item['candidate']}: {item['reason']}" for item in _telling_rejections(plan)[:8]],
                              "-"))


def _telling_rejections(plan: Plan) -> list[dict[str, str]]:
    """One rejection per backend/instance pair, memory and TP failures first (the informative ones)."""
    priority = {"device_memory_fits": 0, "host_memory_fits": 1, "tp_divides_kv_heads": 2, "tp_divides_heads": 2,
                "fp8_blocks_divide_tp": 2, "quantization_hardware": 3, "quantization_offered": 3,
                "libraries_support_model": 4, "architecture_supported": 4}
    seen, out = set(), []
    for item in sorted(plan.rejected, key=lambda r: priority.get(r["rule"], 9)):
        backend, _, _, instance, _ = item["candidate"].split(" ")
        if (backend, instance) in seen or item["rule"] == "backend_runs_on_accelerator":
            continue
        seen.add((backend, instance))
        out.append(item)
    return out


def catalog_rows(what: str) -> list[dict[str, object]]:
    """One listing shape for every catalog: a list of flat objects (what `catalog WHAT --json` prints)."""
    catalog = load_catalog()
    if what == "models":
        from selector.model_shape import catalog_model_ids, load_model

        shapes = [load_model(model_id) for model_id in catalog_model_ids()]
        return [{"name": s.model_id, "architecture": s.architecture, "params": s.total_params(),
                 "layers": s.num_layers, "heads": s.num_heads, "kv_heads": s.num_kv_heads,
                 "max_positions": s.max_positions, "checkpoint_dtype": s.checkpoint_dtype,
                 "prequantized": s.prequantized, "published_params": s.published_params,
                 "experts": s.num_experts, "experts_per_token": s.experts_per_token,
                 "kv_latent_dim": s.mla.latent_dim if s.mla else None,
                 "sliding_window": s.sliding_window, "sliding_layers": s.sliding_layers} for s in shapes]
    if what == "instances":
        return [{"name": i.name, "family": i.family, "accelerator": i.accelerator, "accelerators": i.accelerators,
                 "accelerator_memory_gib": i.accelerator_memory_gib, "devices": i.devices,
                 "host_memory_gib": i.host_memory_gib, "hourly_usd": i.hourly_usd,
                 "price_as_of": i.price_as_of, "price_confirmed": i.price_confirmed,
                 "default_family": i.family in catalog.default_families}
                for i in sorted(catalog.instances.values(), key=lambda i: (i.hourly_usd, i.name))]
    rows: list[dict[str, object]] = []
    for b in sorted(catalog.backends.values(), key=lambda b: b.name):
        images = [img for c in b.containers for img in catalog.images.in_range(c)]
        rows.append({"name": b.name, "display_name": b.display_name, "status": b.status,
                     "accelerator_kind": b.accelerator_kind,
                     "containers": [f"{c.framework} {c.min_version}-{c.max_version or 'latest'}" for c in b.containers],
                     "newest_image": images[0].tag if images else None,
                     "runtime_quantization": sorted(b.runtime_quantization), "prequantized": sorted(b.prequantized),
                     "deprecation": b.deprecation})
    return rows


def print_catalog(what: str, as_json: bool, console: Console | None = None) -> None:
    console = console or make_console()
    rows = catalog_rows(what)
    if as_json:
        console.print_json(json.dumps(rows), highlight=False)
        return
    if what == "backends":  # seven facts per backend: one block each reads at 80 columns, a table does not
        for row in rows:
            console.print(f"\n[bold]{row['name']}[/] ({row['display_name']}, {row['status']})")
            console.print(key_values([
                ("accelerator", str(row["accelerator_kind"])),
                ("containers", ", ".join(row["containers"])),  # type: ignore[arg-type]
                ("newest image", str(row["newest_image"] or "-")),
                ("runtime quant.", ", ".join(row["runtime_quantization"]) or "-"),  # type: ignore[arg-type]
                ("pre-quantized", ", ".join(row["prequantized"]) or "-"),  # type: ignore[arg-type]
                *([("deprecation", str(row["deprecation"]))] if row["deprecation"] else []),
            ]))
        return
    if what == "models":  # two lines per model: ids are long, a seven-column table folds them unreadably
        for r in rows:
            console.print(Text(str(r["name"]), style="bold"))
            attention = (f"{r['heads']} heads, MLA latent {r['kv_latent_dim']}" if r["kv_latent_dim"]
                         else f"{r['heads']}/{r['kv_heads']} heads/KV")
            facts = [str(r["architecture"]), f"{int(r['params']) / 1e9:.2f}B params",  # type: ignore[call-overload]
                     attention, f"{r['max_positions']} positions", str(r["checkpoint_dtype"])]
            facts += [f"{r['prequantized']} checkpoint"] if r["prequantized"] else []
            facts += [f"MoE {r['experts']} experts, {r['experts_per_token']} active"] if int(r["experts"]) > 1 else []  # type: ignore[call-overload]
            facts += ([f"{r['sliding_layers']}/{r['layers']} layers sliding window {r['sliding_window']}"]
                      if r["sliding_layers"] else [])
            console.print(bullets([" · ".join(facts)], " "))
        return
    table = Table("instance", "accelerators", "GiB each", "TP devices", "host GiB", "$/h",
                  title=f"on-demand list prices as of {load_catalog().price_as_of}")
    for r in rows:
        table.add_row(str(r["name"]), f"{r['accelerators']} x {r['accelerator']}", f"{r['accelerator_memory_gib']:g}",
                      str(r["devices"]), f"{r['host_memory_gib']:g}",
                      price_text(float(str(r["hourly_usd"])), bool(r["price_confirmed"])))
    for column in table.columns:
        column.overflow = "fold"
    console.print(table)
    catalog = load_catalog()
    others = [f for f in catalog.families if f not in catalog.default_families]
    console.print(f"Default families: {', '.join(catalog.default_families)}; opt in to {', '.join(others)} with "
                  "families: all or a list. Unconfirmed prices come from third-party copies (sources in instances.json).")


def print_deployments(resolved, console: Console | None = None) -> None:
    """One block per endpoint (name and model on the first line), so long model ids never fold into a cell."""
    console = console or make_console()
    for item in resolved:
        plan, count = item.plan, item.deployment.instance_count
        backend = plan.backend if plan.quantization == "none" else f"{plan.backend} + {plan.quantization}"
        facts = [backend, f"{plan.instance_type} x {count}", f"TP {plan.tensor_parallel_degree}",
                 f"${plan.hourly_usd * count:.2f}/h"]
        if plan.warnings:
            facts.append(f"{len(plan.warnings)} warning{'s' if len(plan.warnings) > 1 else ''}")
        console.print(bullets([f"{item.endpoint_name}: {plan.model_id}"], "•"))
        console.print(bullets([" · ".join(facts)], "  "))

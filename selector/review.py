"""The review report every synth writes beside the templates: cdk.out/plan.md and cdk.out/plan.json.

plan.md is written for a pull request: what changed against the base branch first, then one summary table
narrow enough for GitHub, warnings as sentences, and each endpoint's reasons folded in `<details>`. GitHub
refuses comments over 65,536 characters, so the page is built to stay under MAX_MARKDOWN_CHARS whatever the
number of endpoints: details are dropped (changed and warned endpoints kept first), then table rows, and the
page says where the rest is (plan.json holds everything). Deterministic: same input, same bytes.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selector.catalog import GIB
from selector.deployments import ResolvedDeployment
from selector.plan import HOURS_PER_MONTH
from selector.plan_diff import PlanDiff, diff_reports, markdown as diff_markdown

# https://github.com/orgs/community/discussions/27190: issue and pull-request comments hold 65,536 characters;
# keep a margin for a header a CI job may prepend.
MAX_MARKDOWN_CHARS = 60_000
ANY_REGION = "any (CfnMapping)"
BATCH_NOTE = ("*batch* is how many full-length sequences (max_model_len tokens each) one model copy's KV cache "
              "holds; the selector sizes it to fill the memory left after the weights, so little device memory "
              "stays free by design.")


@dataclass(frozen=True)
class ReportSource:
    """Where the plan came from, named at the top of plan.md."""

    deployments_file: str = ""
    commit: str = ""
    base_label: str = ""


def headroom_gib(item: ResolvedDeployment) -> float:
    mem = item.plan.memory
    return (mem["usable_per_device_bytes"] - mem["per_device_bytes"]) / GIB


def row(item: ResolvedDeployment) -> dict[str, Any]:
    plan, count = item.plan, item.deployment.instance_count
    return {
        "endpoint": item.endpoint_name,
        "stack": f"lmi-{item.endpoint_name}",
        "model": plan.model_id,
        "traffic": plan.traffic,
        "backend": plan.backend,
        "quantization": plan.quantization,
        "instance_type": plan.instance_type,
        "instance_count": count,
        "tensor_parallel_degree": plan.tensor_parallel_degree,
        "headroom_per_device_gib": round(headroom_gib(item), 2),
        "hourly_usd": round(plan.hourly_usd * count, 2),
        "monthly_usd": round(plan.hourly_usd * count * HOURS_PER_MONTH, 2),
        "image_tag": plan.image_tag,
        "region": item.deployment.region or ANY_REGION,
        "warnings": list(plan.warnings),
    }


def report_json(resolved: list[ResolvedDeployment], pools: Sequence[Any] = ()) -> dict[str, Any]:
    data = {
        "endpoints": [dict(row(item), plan=item.plan.to_json()) for item in resolved],
        "total_hourly_usd": round(sum(row(i)["hourly_usd"] for i in resolved), 2),
        "total_monthly_usd": round(sum(row(i)["monthly_usd"] for i in resolved), 2),
    }
    if pools:  # files without shared endpoints keep their plan.json byte for byte
        shared = [pool.to_json() for pool in pools]
        data["shared_endpoints"] = shared
        data["total_hourly_usd"] = round(data["total_hourly_usd"] + sum(p["hourly_usd"] for p in shared), 2)
        data["total_monthly_usd"] = round(data["total_monthly_usd"] + sum(p["monthly_usd"] for p in shared), 2)
    return data


def _gib(mb: int) -> str:
    return f"{mb / 1024:.1f} GiB"


def pool_section(pools: Sequence[Any]) -> list[str]:
    """plan.md's "Shared endpoints": per pool the packing, $/h against one endpoint per model, and per component
    its reservation and why it landed there."""
    lines = ["## Shared endpoints", ""]
    for pool in pools:
        data = pool.to_json()
        saved = data["savings_hourly_usd"]
        lines += [
            f"### {_cell(pool.name)}: {pool.instance_type} × {pool.initial_instances}",
            "",
            f"**${data['hourly_usd']:,.2f}/h** (${data['monthly_usd']:,.0f}/month) for {len(pool.components)} "
            f"models, against **${data['separate_hourly_usd']:,.2f}/h** as one endpoint per model "
            f"(saves ${saved:,.2f}/h, {saved / data['separate_hourly_usd'] * 100 if data['separate_hourly_usd'] else 0:.0f}%). "
            f"Instances: min {data['min_instances']}, max {data['max_instances']} (managed instance scaling"
            f"{', scales to zero' if pool.scale_to_zero else ''}); routing {data['routing']}.",
            "",
            f"Packing: {_cell(pool.algorithm)}. Placement: "
            + "; ".join(f"instance {i + 1}: {', '.join(b)}" for i, b in enumerate(data["placement"])) + ".",
            "",
            "| component | model | TP = GPUs | host memory | CPU cores | copies (min–max) | batch × len | alone |",
            "|---|---|---:|---:|---:|---|---|---|",
        ]
        for c in pool.components:
            r, copies = c.reservation, c.copies
            lines.append(
                f"| {_cell(c.name)} | {_cell(c.plan.model_id)} | {r.accelerators} | {_gib(r.memory_mb)} | "
                f"{r.cpu_cores:g} | {copies.initial} ({copies.min}–{copies.max}) | "
                f"{c.plan.max_batch_size} × {c.plan.max_model_len} | {c.standalone.instance_type} "
                f"${c.standalone.hourly_usd * copies.initial:.2f}/h |")
            for adapter in c.adapters:
                lines.append(f"| ↳ {_cell(c.adapter_component(adapter))} | LoRA r{adapter.rank} "
                             f"`{_cell(adapter.s3_uri)}` | on base | | | | | |")
        lines += ["", "<details>", f"<summary>Why each model landed where it did ({_cell(pool.name)})</summary>", ""]
        lines += [f"- **{_cell(c.name)}**: {_cell(c.why)}" for c in pool.components]
        lines += [f"- Instance types considered: {_cell(line)}" for line in pool.considered]
        lines += ["", "</details>", ""]
    return lines


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, line breaks folded."""
    return " ".join(str(text).replace("|", "\\|").split())


def _source_line(source: ReportSource, rows: list[dict[str, Any]]) -> str:
    regions = sorted({r["region"] for r in rows})
    parts = [f"`{source.deployments_file}`" if source.deployments_file else "deployments file not named"]
    if source.commit:
        parts.append(f"commit `{source.commit}`")
    parts.append(f"{len(rows)} endpoint{'s' if len(rows) != 1 else ''}")
    parts.append("region" + ("s " if len(regions) != 1 else " ") + ", ".join(regions))
    return "Source: " + " · ".join(parts) + "."


def _summary_rows(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for r in rows:
        plan = r["plan"]
        out.append(
            f"| {_cell(r['endpoint'])} | {_cell(r['model'])} | {_cell(r['backend'])}"
            f"{'' if r['quantization'] == 'none' else ' + ' + _cell(r['quantization'])} | "
            f"{r['instance_type']} × {r['instance_count']} | {r['tensor_parallel_degree']} | "
            f"{plan['max_batch_size']} × {plan['max_model_len']} | {r['monthly_usd']:,.0f} | "
            f"{len(r['warnings']) or ''} |")
    return out


def _warning_lines(rows: list[dict[str, Any]]) -> list[str]:
    return [f"- **{_cell(r['endpoint'])}**: {_cell(w)}" for r in rows for w in r["warnings"]]


def _details(r: dict[str, Any]) -> list[str]:
    plan = r["plan"]
    summary = (f"{_cell(r['endpoint'])}: {_cell(r['model'])} on {plan['backend']}, {r['instance_type']} "
               f"TP {r['tensor_parallel_degree']}, ${r['hourly_usd']:.2f}/h")
    perf = plan.get("performance")
    if perf and "usd_per_million_output_tokens" in perf:  # absent: the data has no figures for the family
        summary += f", ~${perf['usd_per_million_output_tokens']:.2f}/1M output tokens (±{round(perf['uncertainty'] * 100)}%)"
    lines = ["<details>", f"<summary>{summary}</summary>", "",
             f"- Image: `{plan['image_uri']}`" if r["region"] != ANY_REGION else
             f"- Image: `{plan['image_tag']}` (account per region through a CfnMapping)"]
    lines += [f"- {_cell(line)}" for line in plan["rationale"]]
    lines += [f"- **Warning:** {_cell(w)}" for w in r["warnings"]]
    return lines + ["", "</details>", ""]


def _diagram(resolved: list[ResolvedDeployment]) -> list[str]:
    """One diagram of the shape every endpoint stack shares, with how many stacks carry each optional part;
    per-stack copies would repeat the same boxes N times."""
    n = len(resolved)
    tarball = sum(1 for i in resolved if i.deployment.delivery_mode == "tarball")
    alarms = sum(1 for i in resolved if i.deployment.alarms.enabled)
    scaling = sum(1 for i in resolved if i.deployment.autoscaling)
    lines = ["```mermaid", "flowchart LR",
             '  role["IAM role, least privilege"] --> model["Model: LMI image"]']
    if tarball:
        lines.append(f'  props["serving.properties tarball, S3 asset: {tarball} of {n}"] --> model')
    if tarball < n:
        lines.append(f'  env["OPTION_* environment: {n - tarball} of {n}"] --> model')
    lines += ['  model --> config["EndpointConfig"]', '  config --> endpoint(["Endpoint"])']
    if alarms:
        lines.append(f'  endpoint -.-> alarms["CloudWatch alarms: {alarms} of {n}"]')
    if scaling:
        lines.append(f'  scaling["Auto scaling: {scaling} of {n}"] -.-> endpoint')
    return lines + ["```", ""]


def _fit(head: list[str], table_head: list[str], table: list[str], warnings: list[str],
         details: list[list[str]], tail: list[str], budget: int) -> list[str]:
    """Assemble the page within `budget` characters: drop details from the end first, then table rows and
    warnings, always saying how many were left out and that plan.json has them."""
    def size(parts: list[str]) -> int:
        return sum(len(p) + 1 for p in parts)

    def omitted(count: int, what: str) -> str:
        return f"*… {count} more {what}: see plan.json.*"

    fixed = size(head) + size(table_head) + size(tail) + 400  # 400: the "more" notes and section titles
    rows, warn = list(table), list(warnings)
    while rows and fixed + size(rows) + size(warn) > budget:
        if len(warn) > len(rows) or (warn and len(rows) <= 10):
            warn.pop()
        else:
            rows.pop()
    body = head + table_head + rows
    if len(rows) < len(table):
        body.append(omitted(len(table) - len(rows), "endpoints"))
    body.append("")
    if warnings:
        body += ["## Warnings", ""] + warn
        if len(warn) < len(warnings):
            body.append(omitted(len(warnings) - len(warn), "warnings"))
        body.append("")
    kept: list[str] = []
    left = budget - size(body) - size(tail) - 200
    dropped = 0
    for block in details:
        if size(block) <= left:
            kept += block
            left -= size(block)
        else:
            dropped += 1
    if details:
        body += ["## Endpoints", ""] + kept
        if dropped:
            body += [omitted(dropped, "endpoint details"), ""]
    return body + tail


def report_markdown(resolved: list[ResolvedDeployment], source: ReportSource | None = None,
                    base: dict[str, Any] | None = None, budget: int = MAX_MARKDOWN_CHARS,
                    pools: Sequence[Any] = ()) -> str:
    source = source or ReportSource()
    data = report_json(resolved, pools)
    rows = data["endpoints"]
    head = ["# LMI endpoint plan", "", _source_line(source, rows), ""]
    if pools:
        count = sum(len(p.components) + sum(len(c.adapters) for c in p.components) for p in pools)
        line = head[2].removesuffix(".").replace(" · 0 endpoints · regions ", "")  # a file of pools only
        head[2] = line + f" · {len(pools)} shared endpoint{'s' if len(pools) != 1 else ''} with {count} inference components."
    diff: PlanDiff | None = diff_reports(base, data) if base is not None else None
    if diff is not None:
        head += diff_markdown(diff, source.base_label or "base")
    total = (f"**Total:** ${data['total_hourly_usd']:,.2f}/h, ${data['total_monthly_usd']:,.0f}/month "
             f"({HOURS_PER_MONTH} h) at catalog list prices.")
    table_head = ["## Summary", "", total, "", BATCH_NOTE, "",
                  "| endpoint | model | backend | instance × n | TP | batch × len | $/month | warnings |",
                  "|---|---|---|---|---|---|---:|---:|"]
    changed = {c.endpoint for c in diff.changes} if diff else set()
    order = sorted(range(len(rows)), key=lambda i: (rows[i]["endpoint"] not in changed, not rows[i]["warnings"], i))
    details = [_details(rows[i]) for i in order]
    tail = ["## Resources (every endpoint stack)", ""] + _diagram(resolved) if resolved else []
    if pools:
        tail = pool_section(pools) + tail
    page = _fit(head, table_head, _summary_rows(rows), _warning_lines(rows), details, tail, budget)
    return "\n".join(page).rstrip("\n") + "\n"


def write_report(resolved: list[ResolvedDeployment], outdir: str | Path, source: ReportSource | None = None,
                 base: dict[str, Any] | None = None, pools: Sequence[Any] = ()) -> None:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "plan.md").write_text(report_markdown(resolved, source, base, pools=pools))
    (outdir / "plan.json").write_text(json.dumps(report_json(resolved, pools), indent=2, sort_keys=True) + "\n")




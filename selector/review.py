"""The review report every synth writes beside the templates: cdk.out/plan.md and cdk.out/plan.json.

One page a reviewer can read in a pull request: what each endpoint runs, on what, for how much, and why.
Deterministic: same deployments file, same bytes.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from selector.catalog import GIB
from selector.deployments import ResolvedDeployment
from selector.plan import HOURS_PER_MONTH


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
        "region": item.deployment.region or "any (CfnMapping)",
        "warnings": list(plan.warnings),
    }


def report_json(resolved: list[ResolvedDeployment]) -> dict[str, Any]:
    return {
        "endpoints": [dict(row(item), plan=item.plan.to_json()) for item in resolved],
        "total_hourly_usd": round(sum(row(i)["hourly_usd"] for i in resolved), 2),
        "total_monthly_usd": round(sum(row(i)["monthly_usd"] for i in resolved), 2),
    }


def mermaid(resolved: list[ResolvedDeployment]) -> list[str]:
    lines = ["```mermaid", "flowchart LR"]
    for i, item in enumerate(resolved):
        d, n = item.deployment, f"e{i}"
        lines.append(f'  subgraph {n}["lmi-{item.endpoint_name}"]')
        lines.append(f'    {n}role["IAM role (least privilege)"] --> {n}model["Model: {item.plan.backend} {item.plan.image_tag}"]')
        source = "serving.properties tarball (S3 asset)" if d.delivery_mode == "tarball" else "OPTION_* environment"
        lines.append(f'    {n}props["{source}"] --> {n}model')
        lines.append(f'    {n}model --> {n}config["EndpointConfig: {item.plan.instance_type} x {d.instance_count}"]')
        lines.append(f'    {n}config --> {n}endpoint(["Endpoint {item.endpoint_name}"])')
        if d.alarms.enabled:
            lines.append(f'    {n}endpoint -.-> {n}alarms["CloudWatch alarms"]')
        if d.autoscaling:
            lines.append(f'    {n}scaling["Auto scaling {d.autoscaling.min}-{d.autoscaling.max}"] -.-> {n}endpoint')
        lines.append("  end")
    lines.append("```")
    return lines


def report_markdown(resolved: list[ResolvedDeployment]) -> str:
    data = report_json(resolved)
    out = ["# LMI endpoint plan", "",
           "| endpoint | model | traffic | backend | quantization | instance x count | TP | headroom/device | $/h | $/month | image | warnings |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["endpoints"]:
        out.append(
            f"| {r['endpoint']} | {r['model']} | {r['traffic']} | {r['backend']} | {r['quantization']} | "
            f"{r['instance_type']} x {r['instance_count']} | {r['tensor_parallel_degree']} | "
            f"{r['headroom_per_device_gib']:.1f} GiB | {r['hourly_usd']:.2f} | {r['monthly_usd']:,.0f} | "
            f"`{r['image_tag']}` | {len(r['warnings'])} |")
    out += ["", f"**Total:** ${data['total_hourly_usd']:.2f}/h, ${data['total_monthly_usd']:,.0f}/month "
            f"({HOURS_PER_MONTH} h) at catalog list prices.", "", "## Resources", ""]
    out += mermaid(resolved)
    for item in resolved:
        out += ["", f"## {item.endpoint_name}", "", f"{item.plan.summary}", ""]
        out += [f"- {line}" for line in item.plan.rationale]
        out += [f"- **Warning:** {w}" for w in item.plan.warnings]
    return "\n".join(out) + "\n"


def write_report(resolved: list[ResolvedDeployment], outdir: str | Path) -> None:
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "plan.md").write_text(report_markdown(resolved))
    (outdir / "plan.json").write_text(json.dumps(report_json(resolved), indent=2, sort_keys=True) + "\n")

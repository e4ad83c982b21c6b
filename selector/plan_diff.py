"""What changed between two review reports (cdk.out/plan.json of a base branch and of a pull request).

A reviewer of a deployments pull request wants "llama2-70b: ml.g5.48xlarge -> ml.p4d.24xlarge (+$12,651/month),
backend vllm -> lmi-dist", not two tables to compare by eye. Endpoints are matched by name; the fields compared
are the ones that change what runs or what it costs. The same diff feeds `selector diff` (JSON or text) and the
"What changed" section at the top of plan.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from selector.errors import SelectorError

# (label, getter over one endpoint entry of plan.json), in the order a reviewer reads them.
COMPARED: tuple[tuple[str, str], ...] = (
    ("model", "model"),
    ("instance", "instance_type"),
    ("instance count", "instance_count"),
    ("backend", "backend"),
    ("image", "image_tag"),
    ("quantization", "quantization"),
    ("TP", "tensor_parallel_degree"),
    ("max batch", "plan.max_batch_size"),
    ("max_model_len", "plan.max_model_len"),
    ("region", "region"),
)


def _get(entry: dict[str, Any], path: str) -> Any:
    value: Any = entry
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: Any
    after: Any

    def text(self) -> str:
        return f"{self.label} {self.before} → {self.after}"


@dataclass(frozen=True)
class EndpointChange:
    endpoint: str
    kind: str  # added | removed | changed
    monthly_before: float
    monthly_after: float
    fields: tuple[FieldChange, ...] = ()
    new_warnings: tuple[str, ...] = ()

    @property
    def monthly_delta(self) -> float:
        return round(self.monthly_after - self.monthly_before, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "kind": self.kind,
            "monthly_usd_before": self.monthly_before,
            "monthly_usd_after": self.monthly_after,
            "monthly_usd_delta": self.monthly_delta,
            "changes": [{"field": f.label, "before": f.before, "after": f.after} for f in self.fields],
            "new_warnings": list(self.new_warnings),
        }


@dataclass(frozen=True)
class PlanDiff:
    changes: tuple[EndpointChange, ...] = field(default=())
    monthly_before: float = 0.0
    monthly_after: float = 0.0

    @property
    def monthly_delta(self) -> float:
        return round(self.monthly_after - self.monthly_before, 2)

    @property
    def empty(self) -> bool:
        return not self.changes

    def to_json(self) -> dict[str, Any]:
        return {
            "changed": not self.empty,
            "endpoints": [change.to_json() for change in self.changes],
            "total_monthly_usd_before": self.monthly_before,
            "total_monthly_usd_after": self.monthly_after,
            "total_monthly_usd_delta": self.monthly_delta,
        }


def _endpoints(report: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The report's endpoints by name; anything that is not a review report is a SelectorError."""
    entries = report.get("endpoints") if isinstance(report, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("endpoint"), str)
                                                for e in entries):
        raise SelectorError(name, "(file)", "is not a plan.json review report (no list of endpoints)",
                            "Pass the cdk.out/plan.json that make synth writes")
    return {entry["endpoint"]: entry for entry in entries}


def _monthly(entry: dict[str, Any] | None) -> float:
    value = entry.get("monthly_usd") if entry else 0.0
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def diff_reports(base: dict[str, Any], head: dict[str, Any]) -> PlanDiff:
    """Endpoints added, removed or changed from `base` to `head`, in head's order (removed ones last)."""
    before, after = _endpoints(base, "base"), _endpoints(head, "head")
    changes: list[EndpointChange] = []
    for name, new in after.items():
        old = before.get(name)
        if old is None:
            changes.append(EndpointChange(name, "added", 0.0, _monthly(new),
                                          new_warnings=tuple(new.get("warnings") or ())))
            continue
        fields = tuple(FieldChange(label, _get(old, path), _get(new, path)) for label, path in COMPARED
                       if _get(old, path) != _get(new, path))
        old_warnings = set(old.get("warnings") or ())
        warnings = tuple(w for w in new.get("warnings") or () if w not in old_warnings)
        if fields or warnings or _monthly(old) != _monthly(new):
            changes.append(EndpointChange(name, "changed", _monthly(old), _monthly(new), fields, warnings))
    changes += [EndpointChange(name, "removed", _monthly(old), 0.0) for name, old in before.items()
                if name not in after]
    return PlanDiff(tuple(changes), round(sum(map(_monthly, before.values())), 2),
                    round(sum(map(_monthly, after.values())), 2))


def money(delta: float) -> str:
    """+$1,234/month, −$56/month, ±$0/month."""
    if round(delta) == 0:
        return "±$0/month"
    sign = "+" if delta > 0 else "−"
    return f"{sign}${abs(delta):,.0f}/month"


def change_line(change: EndpointChange) -> str:
    """One reviewer-readable line (Markdown) per endpoint change."""
    head = f"**{change.endpoint}**: {change.kind}"
    if change.kind == "changed":
        head = f"**{change.endpoint}**: " + ("; ".join(f.text() for f in change.fields) or "no field changed")
    text = f"{head} ({money(change.monthly_delta)})"
    if change.new_warnings:
        text += "; new warning: " + " / ".join(change.new_warnings)
    return text


def markdown(diff: PlanDiff, base_label: str) -> list[str]:
    """The "What changed" section of plan.md."""
    lines = [f"## What changed (vs {base_label})", ""]
    if diff.empty:
        return lines + ["No endpoint changed.", ""]
    lines += [f"- {change_line(change)}" for change in diff.changes]
    lines += ["", f"Net: {money(diff.monthly_delta)} (${diff.monthly_before:,.0f} → ${diff.monthly_after:,.0f}).", ""]
    return lines


MAX_REPORT_BYTES = 64 * 1024 * 1024  # a 1,000-endpoint plan.json is ~10 MiB


def load_report(path: str) -> dict[str, Any]:
    """Read one plan.json: a regular file under MAX_REPORT_BYTES holding a JSON object."""
    import json
    import os
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except (OSError, ValueError) as exc:
        raise SelectorError("plan report", path, f"cannot be opened ({exc.__class__.__name__})",
                            "Pass the cdk.out/plan.json that make synth writes") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SelectorError("plan report", path, "is not a regular file")
        if info.st_size > MAX_REPORT_BYTES:
            raise SelectorError("plan report", path, f"is larger than {MAX_REPORT_BYTES // 2**20} MiB")
        raw = os.read(fd, MAX_REPORT_BYTES + 1)
    finally:
        os.close(fd)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise SelectorError("plan report", path, f"is not JSON ({exc.__class__.__name__})",
                            "Pass the cdk.out/plan.json that make synth writes") from None
    if not isinstance(data, dict):
        raise SelectorError("plan report", path, "is not a plan.json review report (not a JSON object)")
    return data

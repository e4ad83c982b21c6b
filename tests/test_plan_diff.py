"""selector diff and plan.md's "What changed": a changed deployment is named with its $/month delta."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from selector.deployments import load_deployments, resolve_all
from selector.errors import SelectorError
from selector.plan_diff import diff_reports, load_report, money
from selector.review import ReportSource, report_json, report_markdown
from tests.test_stacks import DEFAULT

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def base_resolved():
    return resolve_all(load_deployments(DEFAULT))


@pytest.fixture(scope="module")
def head_resolved(tmp_path_factory):
    """A copy of default.yaml where only llama2-70b changes: families pinned to p4d."""
    text = Path(DEFAULT).read_text().replace("families: [g5, p4d, p4de]", "families: [p4d]")
    path = tmp_path_factory.mktemp("head") / "default.yaml"
    path.write_text(text)
    return resolve_all(load_deployments(path))


def test_one_changed_deployment_is_named_with_its_monthly_delta(base_resolved, head_resolved):
    base, head = report_json(base_resolved), report_json(head_resolved)
    diff = diff_reports(base, head)
    assert [c.endpoint for c in diff.changes] == ["llama2-70b"]
    change = diff.changes[0]
    old = next(e for e in base["endpoints"] if e["endpoint"] == "llama2-70b")
    new = next(e for e in head["endpoints"] if e["endpoint"] == "llama2-70b")
    assert change.monthly_delta == round(new["monthly_usd"] - old["monthly_usd"], 2) != 0
    assert ("instance", old["instance_type"], new["instance_type"]) in {(f.label, f.before, f.after) for f in change.fields}
    assert diff.monthly_delta == change.monthly_delta


def test_plan_md_opens_with_what_changed(base_resolved, head_resolved):
    text = report_markdown(head_resolved, ReportSource("deployments/default.yaml", "abc1234", "main"),
                           base=report_json(base_resolved))
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert sections[0] == "## What changed (vs main)"
    first = text.split("## What changed (vs main)")[1].split("## ")[0]
    bullets = [line for line in first.splitlines() if line.startswith("- ")]
    assert len(bullets) == 1 and bullets[0].startswith("- **llama2-70b**: instance ml.g5.48xlarge → ml.p4d.24xlarge")
    delta = diff_reports(report_json(base_resolved), report_json(head_resolved)).monthly_delta
    assert money(delta) in bullets[0]


def test_no_change_says_so(base_resolved):
    data = report_json(base_resolved)
    assert diff_reports(data, data).empty
    text = report_markdown(base_resolved, base=data)
    assert "No endpoint changed." in text


@pytest.mark.parametrize("base, head, kinds", [
    ({"endpoints": []}, {"endpoints": [{"endpoint": "a", "monthly_usd": 10.0}]}, ["added"]),
    ({"endpoints": [{"endpoint": "a", "monthly_usd": 10.0}]}, {"endpoints": []}, ["removed"]),
    ({"endpoints": [{"endpoint": "a", "monthly_usd": 10.0, "warnings": []}]},
     {"endpoints": [{"endpoint": "a", "monthly_usd": 10.0, "warnings": ["new"]}]}, ["changed"]),
])
def test_added_removed_and_new_warnings(base, head, kinds):
    diff = diff_reports(base, head)
    assert [c.kind for c in diff.changes] == kinds


@pytest.mark.parametrize("report", [[], {"endpoints": "x"}, {"endpoints": [{"name": "a"}]}, None])
def test_not_a_report_is_a_selector_error(report):
    with pytest.raises(SelectorError, match="plan.json"):
        diff_reports(report, {"endpoints": []})


def test_load_report_refuses_what_is_not_a_plan_json(tmp_path):
    (tmp_path / "bad.json").write_text("{")
    for path in (str(tmp_path / "bad.json"), str(tmp_path), "/dev/zero", str(tmp_path / "missing.json")):
        with pytest.raises(SelectorError):
            load_report(path)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "selector", "diff", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_cli_diff_json_and_cost_gate(tmp_path, base_resolved, head_resolved):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(report_json(base_resolved)))
    head.write_text(json.dumps(report_json(head_resolved)))
    result = _cli(str(base), str(head), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [e["endpoint"] for e in data["endpoints"]] == ["llama2-70b"]
    delta = data["total_monthly_usd_delta"]
    gate = _cli(str(base), str(head), "--fail-on-increase", str(max(0.0, delta) + 1))
    assert gate.returncode == 0
    if delta > 0:
        assert _cli(str(base), str(head), "--fail-on-increase", "0").returncode == 1
    bad = _cli(str(base), "/dev/zero")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stderr.startswith("error: plan report")

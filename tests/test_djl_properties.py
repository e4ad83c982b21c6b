"""Independent check with djl-serving's REAL parsers (dev machines only; skipped without a checkout).

Set DJL_SERVING_CHECKOUT to a directory holding one checkout per release branch (named like the branch:
0.25.0-dlc ... 0.36.0-lmi27-dlc, master), DJL_CHECK_PYTHON to a python with pydantic 2 and, for 0.25.0/0.26.0,
DJL_CHECK_PYTHON_V1 to one with pydantic 1. See scripts/check_djl_properties.py.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from scripts.build_container_options import BRANCHES
from tests.test_conformance import backend_versions

ROOT = Path(__file__).resolve().parent.parent
CHECKOUTS = os.environ.get("DJL_SERVING_CHECKOUT")
PYDANTIC_1 = ("0.25.0", "0.26.0")

pytestmark = pytest.mark.skipif(
    not CHECKOUTS, reason="DJL_SERVING_CHECKOUT is not set: no djl-serving checkout to run its properties classes on")


@pytest.mark.parametrize("backend_name,version", backend_versions(), ids=lambda v: str(v))
def test_djl_serving_accepts_every_rendered_plan(backend_name, version, tmp_path):
    checkout = Path(CHECKOUTS) / BRANCHES[version]
    python = os.environ.get("DJL_CHECK_PYTHON_V1" if version in PYDANTIC_1 else "DJL_CHECK_PYTHON")
    if not checkout.is_dir() or not python:
        pytest.skip(f"no checkout {checkout} or no DJL_CHECK_PYTHON{'_V1' if version in PYDANTIC_1 else ''}")
    from scripts.check_djl_properties import render

    plans = tmp_path / "plans.json"
    render(backend_name, version, plans)
    assert json.loads(plans.read_text())["plans"]
    done = subprocess.run([python, str(ROOT / "scripts" / "check_djl_properties.py"), "check",
                           "--checkout", str(checkout), "--plans", str(plans)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]

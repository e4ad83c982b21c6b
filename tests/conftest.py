"""Shared test set-up. jsii starts once per process (~2.5 s), so synth-heavy fixtures are session-scoped.

Every app synthesized in the tests gets the `context` of cdk.json (the v2 recommended feature flags), as
`cdk synth` and `make synth` pass it: CDK_CONTEXT_JSON must be set before aws_cdk starts its node process,
and subprocesses (python app.py) inherit it. So snapshots and assertions hold the shipped configuration.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
_context = json.loads((ROOT / "cdk.json").read_text())["context"]
os.environ["CDK_CONTEXT_JSON"] = json.dumps({k: v for k, v in _context.items() if k != "deployments"})

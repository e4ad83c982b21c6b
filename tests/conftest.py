"""Shared fixtures. jsii starts once per process (~2.5 s), so synth-heavy fixtures are session-scoped."""
from __future__ import annotations

import os

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

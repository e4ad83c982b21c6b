"""Run the project's pinned CDK CLI and pass its progress and exit code through.

The CLI is the `aws-cdk` version package.json pins (node_modules/.bin/cdk, what `npx --no-install cdk`
runs), found from the working directory upwards, then beside this package (a source checkout), then on
PATH; LMI_ENDPOINTS_CDK_CLI names another executable. Its output (events, outputs, errors) is copied
line by line as it arrives, so a deploy shows progress, and a caller's captured stdout sees it too.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from provision.errors import UserError

OVERRIDE = "LMI_ENDPOINTS_CDK_CLI"
# No notices, version check, telemetry or EC2 metadata lookups; no Node end-of-life banner through jsii.
QUIET_ENV = {
    "CDK_DISABLE_VERSION_CHECK": "1",
    "CDK_DISABLE_CLI_TELEMETRY": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
}


def locate(start: Path | None = None) -> list[str]:
    """The command that runs the pinned CDK CLI; UserError (exit 2) when none is installed."""
    override = os.environ.get(OVERRIDE)
    if override:
        return [override]
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents, Path(__file__).resolve().parents[1]):
        candidate = folder / "node_modules" / ".bin" / "cdk"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate)]
    on_path = shutil.which("cdk")
    if on_path:
        return [on_path]
    raise UserError(
        "the AWS CDK CLI is not installed: no node_modules/.bin/cdk here or above, and no `cdk` on PATH. "
        "Run `npm ci` in the project (installs the version package.json pins), or `npm install aws-cdk`, "
        f"or set {OVERRIDE} to a cdk executable."
    )


def run(args: Sequence[str], echo: Callable[[str], None], env: Mapping[str, str] | None = None,
        cwd: Path | None = None) -> int:
    """Run `cdk ARGS`, echo each output line (stdout and stderr, in order) and return the CLI's exit code."""
    command = [*locate(cwd), *args]
    full_env = {**os.environ, **QUIET_ENV, **(env or {})}
    echo("$ cdk " + " ".join(args))
    try:
        process = subprocess.Popen(
            command, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace", bufsize=1,
        )
    except OSError as error:
        raise UserError(f"cannot start the CDK CLI {command[0]} ({error.strerror}). Run `npm ci` again.") from None
    assert process.stdout is not None
    try:
        for line in process.stdout:
            echo(line.rstrip("\n"))
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        process.wait(timeout=30)
        raise
    finally:
        process.stdout.close()


def echo_to(stream_name: str = "stdout") -> Callable[[str], None]:
    """A line printer bound to the sys.stdout/stderr of the moment of each call (test runners swap them)."""

    def echo(line: str) -> None:
        stream = getattr(sys, stream_name)
        stream.write(line + "\n")
        stream.flush()

    return echo

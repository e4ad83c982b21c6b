"""The output folder of a synth (cdk.out) holds a complete, checked cloud assembly or none at all.

A deployments file arrives by pull request and a pipeline with deploy rights synthesizes it, so a synth that
fails must not leave a template, asset or manifest that a later `cdk deploy --app cdk.out` could pick up. The app
therefore synthesizes into a private staging folder next to the output folder, checks the result (cdk-nag's
validation report, error annotations, dynamic references), and only then moves it into place; on any failure
the assembly files in the output folder are removed. An fcntl lock on `<output folder>.lock` refuses a second
synth into the same folder while one runs.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

# What a CDK app writes into its output folder (cloud assembly files, staged assets, nested assemblies of CDK
# Pipelines stages) plus this project's review report. Only these names are ever removed from the folder.
ASSEMBLY_NAMES = ("manifest.json", "tree.json", "cdk.out", "validation-report.json", "plan.md", "plan.json")
ASSEMBLY_PATTERNS = ("*.template.json", "*.assets.json", "*.metadata.json", "*.dot", "asset.*", "assembly-*")
ERROR_METADATA = "aws:cdk:error"
DYNAMIC_REFERENCE = re.compile(r"\{\{\s*resolve\s*:[^}]*\}\}", re.IGNORECASE)
SHOWN_FINDINGS = 3


class SynthRefused(Exception):
    """A synth whose output must not be used, explained in one paragraph (exit 2)."""

    def paragraph(self) -> str:
        return " ".join(str(self).split())


@contextlib.contextmanager
def exclusive(outdir: Path) -> Iterator[None]:
    """Hold an exclusive lock on `<outdir>.lock` (beside the folder, so `rm -rf cdk.out` cannot remove it while
    held) for the whole synth; a second synth into the same folder is refused at once, naming the holder."""
    lock = outdir.parent / f"{outdir.name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            raise SynthRefused(
                f"{outdir}: another synth (process {holder}) is writing to this output folder, so this one stopped "
                f"before writing anything (lock {lock}). Run synths one after another, or give each its own output "
                "folder (cdk synth --output DIR).") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (unlinking a lock file races with the next locker)


def staging_dir(outdir: Path) -> Path:
    """A new private (0700) folder beside the output folder: same file system, so publishing is a rename."""
    outdir.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{outdir.name}.staging-", dir=outdir.parent))


def _assembly_entries(outdir: Path) -> list[Path]:
    if not outdir.is_dir():
        return []
    found = {outdir / name for name in ASSEMBLY_NAMES if os.path.lexists(outdir / name)}
    for pattern in ASSEMBLY_PATTERNS:
        found.update(outdir.glob(pattern))
    return sorted(found)


def _remove(path: Path) -> None:
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def clear(outdir: Path) -> None:
    """Remove every cloud assembly file from the output folder (and nothing else)."""
    for entry in _assembly_entries(outdir):
        _remove(entry)


def publish(staging: Path, outdir: Path) -> None:
    """Replace the assembly in `outdir` by the checked one in `staging`; manifest.json moves last, so a reader
    never sees a manifest naming files that are not there yet."""
    clear(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    entries = sorted(staging.iterdir(), key=lambda p: (p.name == "manifest.json", p.name))
    for entry in entries:
        os.replace(entry, outdir / entry.name)


def validation_failures(staging: Path) -> list[str]:
    """`rule on construct (description)` for each unacknowledged error in the policy validation report."""
    report_path = staging / "validation-report.json"
    if not report_path.is_file():
        return []
    report = json.loads(report_path.read_text())
    failures = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            if violation.get("severity", "error") != "error":
                continue
            paths = ", ".join(c.get("constructPath", "?") for c in violation.get("violatingConstructs", []))
            description = violation.get("description", "").rstrip(".")
            failures.append(f"{plugin.get('pluginName')}::{violation.get('ruleName')} on {paths} ({description})")
    return failures


def error_annotations(staging: Path) -> list[str]:
    """Error annotations (Annotations.of(x).addError) of every artifact, nested assemblies too: in the manifest
    or in the artifact's additionalMetadataFile (`<stack>.metadata.json`)."""
    errors = []
    for manifest in sorted(staging.rglob("manifest.json")):
        for artifact in json.loads(manifest.read_text()).get("artifacts", {}).values():
            metadata = dict(artifact.get("metadata") or {})
            extra = artifact.get("additionalMetadataFile")
            if extra and (manifest.parent / extra).is_file():
                metadata.update(json.loads((manifest.parent / extra).read_text()))
            for path, entries in sorted(metadata.items()):
                errors += [f"{path}: {e.get('data')}" for e in entries if e.get("type") == ERROR_METADATA]
    return errors


def foreign_dynamic_references(staging: Path, allowed: Iterable[str]) -> list[str]:
    """Dynamic references in any template that the project did not create itself."""
    allowed = set(allowed)
    found = []
    for template in sorted(staging.rglob("*.template.json")):
        for match in DYNAMIC_REFERENCE.finditer(template.read_text()):
            if match.group(0) not in allowed:
                found.append(f"{template.name}: {match.group(0)[:80]}")
    return found


def _listing(items: list[str]) -> str:
    shown = "; ".join(items[:SHOWN_FINDINGS])
    return shown + (f"; and {len(items) - SHOWN_FINDINGS} more" if len(items) > SHOWN_FINDINGS else "")


def refuse_validation(outdir: Path, failures: list[str]) -> SynthRefused:
    wildcard = any("IAM5" in f for f in failures)
    hint = ("A wildcard in an IAM resource comes from a value of the deployments file (an S3 URI, a KMS key ARN): "
            "name one literal resource (s3://bucket/prefix/ or arn:aws:kms:<region>:<account>:key/<id>, without "
            "'*' or '?'); the project acknowledges only the wildcards it adds itself." if wildcard else
            "Change the setting of the deployments file that produced this resource, or, if the design accepts "
            "the finding, acknowledge it with its reason in stacks/nag.py.")
    return SynthRefused(f"cdk-nag refused the synthesized templates, so nothing was written to {outdir}: "
                        f"{_listing(failures)}. {hint}")


def refuse_annotations(outdir: Path, errors: list[str]) -> SynthRefused:
    return SynthRefused(f"the synth reported errors, so nothing was written to {outdir}: {_listing(errors)}. "
                        "Fix the setting of the deployments file that these constructs come from.")


def refuse_references(outdir: Path, found: list[str]) -> SynthRefused:
    return SynthRefused(f"a template holds a CloudFormation dynamic reference the project did not create, which "
                        f"CloudFormation would resolve at deploy time, so nothing was written to {outdir}: "
                        f"{_listing(found)}. Write literal values in the deployments file; pass the Hugging Face "
                        "token as hf_token_secret_arn.")

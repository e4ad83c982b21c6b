"""Dev-only: rebuild selector/data/container_libraries.json (transformers and vLLM per backend and image version).

A model can need a newer library than its architecture class suggests (Llama 3.1's rope_scaling needs
transformers 4.43; Kimi-K2 needs vLLM 0.10). Which library versions each LMI image carries is written in
djl-serving's own Dockerfiles and requirements files at the release branch the image was built from. This script
reads them from a local djl-serving git mirror, records each version with the file, branch and commit it was read
from, and re-checks that the exact line it parsed occurs in that file. Nothing of djl-serving is copied: only
version strings, paths and commit ids end up in the catalog.

    python -m scripts.build_container_libraries /path/to/djl-serving.git [--check]

--check compares with the committed catalog instead of writing it (used by tests when a mirror exists).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.build_container_options import BRANCHES, REPO, Mirror, evidence, write_or_check
from selector.catalog import load_catalog
from selector.versions import version_key

OUT = Path(__file__).resolve().parent.parent / "selector" / "data" / "container_libraries.json"
AS_OF = "2026-11-30"
DOCKER = "serving/docker"


@dataclass(frozen=True)
class Pattern:
    """Where one library's version is written: a file and a regex whose group 1 is the version (or spec)."""

    path: str
    regex: str
    floor: bool = False  # the line is a range (">= 4.56.0, <= 5.9.0, ..."): its lower bound is the guarantee


def _arg(name: str) -> str:
    return rf"^ARG {name}=(\S+)$"


TRANSFORMERS_ARG = _arg("transformers_version")
# A requirements line pinning a package, e.g. "transformers==4.46.3" or "vllm==0.8.4".
PINNED = r"^{name}==(\S+)$"
# A vLLM wheel URL (".../vllm-0.4.2%2Bcu124-cp310-..." or ".../vllm-0.3.3-cp310-...").
WHEEL = r"/vllm-(\d+\.\d+\.\d+(?:\.(?:post|dev)\d+)?)(?:%2B|\+|-)"


def sources(backend: str, version: str) -> dict[str, Pattern | str]:
    """The file and line each library version of this backend's image is read from at its release branch.

    A string instead of a Pattern says why the version is not recorded (the rule then cannot refuse on it)."""
    v = version_key(version)
    found: dict[str, Pattern | str] = {}
    if backend in ("deepspeed", "lmi-dist") and v <= (0, 27, 0):  # the djl-deepspeed image
        found["transformers"] = Pattern(f"{DOCKER}/deepspeed.Dockerfile", TRANSFORMERS_ARG)
        if backend == "lmi-dist":
            found["vllm"] = (Pattern(f"{DOCKER}/deepspeed.Dockerfile", _arg("vllm_version")) if v <= (0, 26, 0)
                             else Pattern(f"{DOCKER}/deepspeed.Dockerfile", rf"^ARG vllm_wheel=\"\S*{WHEEL}"))
    elif backend == "neuronx":
        found["transformers"] = Pattern(f"{DOCKER}/pytorch-inf2.Dockerfile", TRANSFORMERS_ARG)
    elif backend == "tensorrtllm":
        found["transformers"] = (
            Pattern(f"{DOCKER}/tensorrt-llm.Dockerfile", TRANSFORMERS_ARG) if v <= (0, 32, 0) else
            "not pinned by djl-serving: tensorrt-llm.Dockerfile installs tensorrt_llm (ARG trtllm_version) and takes "
            "the transformers that wheel requires")
    elif v <= (0, 31, 0):  # djl-lmi, one environment: lmi.Dockerfile pins both
        found["transformers"] = Pattern(f"{DOCKER}/lmi.Dockerfile", TRANSFORMERS_ARG)
        found["vllm"] = Pattern(f"{DOCKER}/lmi.Dockerfile", rf"^ARG vllm_wheel=\"\S*{WHEEL}")
    elif v == (0, 32, 0):
        # One virtualenv per engine (scripts/create_virtual_env.sh: --system-site-packages over the common
        # requirements), so the common pin is the floor; vLLM differs between the two environments.
        found["transformers"] = Pattern(f"{DOCKER}/lmi-container-requirements-common.txt",
                                        PINNED.format(name="transformers"), floor=True)
        found["vllm"] = (Pattern(f"{DOCKER}/requirements-vllm.txt", PINNED.format(name="vllm")) if backend == "vllm"
                         else Pattern(f"{DOCKER}/requirements-lmi.txt", rf"^https://\S*{WHEEL}"))
    else:
        requirements = f"{DOCKER}/lmi-container-requirements.txt"
        found["transformers"] = (Pattern(requirements, PINNED.format(name="transformers")) if v <= (0, 35, 0)
                                 else Pattern(requirements, r"^transformers >= (\d+\.\d+\.\d+),.*$", floor=True))
        if v <= (0, 34, 0):
            found["vllm"] = Pattern(requirements, PINNED.format(name="vllm"))
        elif v == (0, 35, 0):
            # 0.35.0 installs vLLM through a djl wheel (vllm_extensions_package); the LMI vLLM guide names the version.
            found["vllm"] = Pattern("serving/docs/lmi/user_guides/vllm_user_guide.md",
                                    r"^Here is the list of text generation models supported in \[vLLM (\d+\.\d+\.\d+)\]")
        else:
            found["vllm"] = Pattern(requirements, rf"^https://\S*{WHEEL}")
    return found


def read(mirror: Mirror, branch: str, pattern: Pattern, what: str) -> tuple[str, str]:
    """(version, the exact text it was read from); exits when the file or a single matching line is missing."""
    text = mirror.text(branch, pattern.path)
    if text is None:
        raise SystemExit(f"{what}: {pattern.path} does not exist at {branch}")
    matches = [(m.group(1), m.group(0)) for m in re.finditer(pattern.regex, text, re.MULTILINE)]
    if len({version for version, _ in matches}) != 1:
        raise SystemExit(f"{what}: expected one version in {branch}:{pattern.path}, found {matches or 'none'}")
    version, line = matches[0]
    if line not in text or version not in line:  # the re-check: the recorded strings occur in the file as read
        raise SystemExit(f"{what}: {line!r} not found in {branch}:{pattern.path}")
    return version, line.strip()


def planned_versions() -> dict[str, list[str]]:
    """Backend -> the image versions the selector plans (backends.json ranges over images.json), oldest first."""
    catalog = load_catalog()
    return {
        name: sorted({img.version for c in backend.containers for img in catalog.images.in_range(c)}, key=version_key)
        for name, backend in sorted(catalog.backends.items())
    }


def build(mirror: Mirror) -> dict:
    backends: dict[str, dict] = {}
    for name, versions in planned_versions().items():
        per_version: dict[str, dict] = {}
        for version in versions:
            branch = BRANCHES[version]
            commit = mirror.commit(branch)
            libraries: dict[str, dict] = {}
            for library, where in sources(name, version).items():
                if isinstance(where, str):
                    libraries[library] = {"version": None, "reason": where}
                    continue
                found, line = read(mirror, branch, where, f"{name} {version} {library}")
                libraries[library] = {
                    "version": found,
                    "at_least": where.floor,
                    "matched": line,
                    "evidence": evidence(branch, where.path, commit),
                }
            per_version[version] = {"branch": branch, "commit": commit, "libraries": libraries}
        backends[name] = per_version
    return {
        "as_of": AS_OF,
        "source": (f"{REPO} serving/docker Dockerfiles and requirements files at each image's release branch "
                   "(0.25.0-dlc .. 0.36.0-lmi27-dlc; master for 0.38.0), read and re-checked by "
                   "scripts/build_container_libraries.py"),
        "note": ("version: what the image installs, as `matched` reads in the evidence file; at_least true: the "
                 "file gives a range, or a base environment that a per-engine virtualenv may upgrade, so the "
                 "version is a floor. vllm is recorded for the backends whose engine environment installs it (vllm; "
                 "lmi-dist, whose image installs vLLM beside the lmi_dist wheel); at 0.35.0 vLLM comes through a "
                 "djl wheel, so the version is the one djl-serving's vLLM user guide names. version null: "
                 "djl-serving does not pin it (reason), and nothing is refused on it."),
        "backends": backends,
    }


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("git_dir", help="a djl-serving git directory (bare mirror or checkout)")
    parser.add_argument("--check", action="store_true", help="compare with the committed catalog")
    args = parser.parse_args(argv)
    return write_or_check(OUT, render(build(Mirror(args.git_dir))), args.check)


if __name__ == "__main__":
    sys.exit(main())

"""Regenerate ``selector/data/images.json``, the offline catalog of LMI container images.

Why this exists
---------------
The selector plans SageMaker LMI (DJL Serving "Large Model Inference") deployments
offline, so it cannot ask the SageMaker Python SDK or ECR which image to use at run
time.  Instead it ships a checked-in catalog of ``djl-inference`` image tags per
framework/version, the ECR account per region and the DNS suffix per region.

That catalog is *generated*: nobody hand-edits ``images.json``.  This script reads the
image URI configs that the SageMaker SDK itself ships (PyPI ``sagemaker-core``, pinned
in ``requirements-refresh.txt``; files ``sagemaker/core/image_uri_config/djl-*.json``,
Apache-2.0) plus botocore's endpoint data, and writes the catalog deterministically
(``json.dumps(..., indent=2, sort_keys=True) + "\\n"``).  It uses no network.

Usage (from the repository root, with ``requirements-refresh.txt`` installed)::

    python scripts/refresh_images.py --as-of 2026-11-26   # rewrite the catalog
    python scripts/refresh_images.py --check              # exit 1 if it is stale

``--check`` ignores ``as_of``.  ``build_catalog`` is pure (no I/O) so tests can drive it
with hand-made input; ``load_installed`` reads the installed ``sagemaker-core``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT: Path = Path(__file__).resolve().parent.parent
OUTPUT_PATH: Path = REPO_ROOT / "selector" / "data" / "images.json"
GENERATED_BY: str = "scripts/refresh_images.py"

SOURCE_PACKAGE: str = "sagemaker-core"
SOURCE_MODULE: str = "sagemaker.core"
SOURCE_CONFIG_DIR: str = "sagemaker/core/image_uri_config"
SOURCE_LICENSE: str = "Apache-2.0"

#: SDK framework names (= JSON file stems) that make up the catalog.
FRAMEWORKS: tuple[str, ...] = ("djl-lmi", "djl-tensorrtllm", "djl-neuronx", "djl-deepspeed")
#: Only inference images are useful for deployments.
SCOPE: str = "inference"
#: The processor the catalog describes when a config lists several (LMI images are GPU).
PREFERRED_PROCESSOR: str = "gpu"

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_NUMERIC_VERSION_RE = re.compile(r"^\d+(?:\.\d+)*$")


# --------------------------------------------------------------------------- helpers


def version_key(version: str) -> tuple[int, tuple[int, ...], str]:
    """Sort key comparing versions numerically ("0.10.0" > "0.9.1").

    Non-numeric versions (e.g. "latest", "1.x") sort below every numeric one so they
    can never be picked as the highest version.
    """
    if _NUMERIC_VERSION_RE.match(version):
        return (1, tuple(int(part) for part in version.split(".")), version)
    return (0, (), version)


def _source_string(frameworks: list[str], source_version: str) -> str:
    names = sorted(frameworks)
    if len(names) == 1:
        files = names[0]
    elif all(name.startswith("djl-") for name in names):
        files = "djl-{" + ",".join(name[len("djl-") :] for name in names) + "}"
    else:
        files = "{" + ",".join(names) + "}"
    return f"{SOURCE_PACKAGE} {source_version}: {SOURCE_CONFIG_DIR}/{files}.json ({SOURCE_LICENSE})"


def _scoped_config(name: str, config: dict[str, Any], notes: list[str]) -> dict[str, Any] | None:
    """Return the inference part of a framework config, mirroring the SDK's
    ``_config_for_framework_and_scope``: either a flat config with a ``scope`` list, or
    a config keyed by scope name."""
    if "scope" in config:
        scopes = list(config["scope"])
        if SCOPE not in scopes:
            notes.append(f"dropped framework {name}: scope {scopes} has no '{SCOPE}'")
            return None
        return config
    if SCOPE in config and isinstance(config[SCOPE], dict):
        others = sorted(k for k in config if k != SCOPE)
        if others:
            notes.append(f"{name}: ignored non-{SCOPE} scopes {others}")
        return config[SCOPE]
    notes.append(f"dropped framework {name}: no '{SCOPE}' scope (keys: {sorted(config)})")
    return None


def _sdk_tag(
    name: str, version: str, config: dict[str, Any], vconf: dict[str, Any], notes: list[str]
) -> str | None:
    """The tag ``sagemaker.core.image_uris.retrieve`` would build for a GPU inference image.

    The SDK does ``tag_prefix = version_config.get("tag_prefix", version)`` and then
    ``"-".join(x for x in (tag_prefix, processor, py_version, container_version) if x)``.
    For the djl-* configs there are no processors/py_versions/container_version, so the
    tag is exactly ``tag_prefix``; the rest is here so a future config that adds them is
    reproduced (or dropped with a reason) instead of silently mis-tagged.
    """
    tag_prefix = vconf.get("tag_prefix")
    if not tag_prefix:
        # The SDK would fall back to the bare version, which is not a published
        # djl-inference tag: better to leave the version out of the catalog.
        notes.append(f"dropped {name} {version}: no tag_prefix")
        return None

    processors = config.get("processors") or vconf.get("processors")
    processor: str | None = None
    if processors:
        if PREFERRED_PROCESSOR in processors:
            processor = PREFERRED_PROCESSOR
        elif len(processors) == 1:
            processor = processors[0]
        else:
            notes.append(f"dropped {name} {version}: ambiguous processors {processors}")
            return None

    py_versions = vconf.get("py_versions")
    py_version: str | None = None
    if py_versions:
        if len(py_versions) != 1:
            notes.append(f"dropped {name} {version}: ambiguous py_versions {py_versions}")
            return None
        py_version = py_versions[0]

    container_version: str | None = None
    if vconf.get("container_version"):
        container_version = vconf["container_version"].get(processor or "")
        if container_version is None:
            notes.append(f"dropped {name} {version}: no container_version for {processor}")
            return None

    if not vconf.get("processor_in_tag", True):
        processor = None

    tag = "-".join(x for x in (tag_prefix, processor, py_version, container_version) if x)
    if tag != tag_prefix:
        notes.append(f"{name} {version}: SDK tag {tag!r} differs from tag_prefix {tag_prefix!r}")
    return tag


# --------------------------------------------------------------------------- core


def build_catalog(
    raw: dict[str, dict],
    domains: dict[str, str],
    source_version: str,
    *,
    as_of: str | None = None,
    notes: list[str] | None = None,
) -> dict:
    """Build the images.json catalog from parsed SDK configs. Pure: no I/O.

    Args:
        raw: framework name (file stem, e.g. ``"djl-lmi"``) -> parsed JSON config.
        domains: region -> DNS suffix (e.g. ``"amazonaws.com.cn"``); must cover every
            region that ends up in the catalog.
        source_version: the ``sagemaker-core`` version the configs came from.
        as_of: ``YYYY-MM-DD`` stored as ``as_of``; omitted from the result when None.
        notes: if given, human-readable notes (dropped entries, how ``latest`` was
            chosen) are appended to it.

    Raises:
        ValueError: two configs disagree on a region's ECR account, an account is not
            12 digits, versions use more than one repository, a region has no domain,
            or nothing usable is left.
    """
    notes = notes if notes is not None else []
    frameworks: dict[str, Any] = {}
    registries: dict[str, str] = {}
    account_origin: dict[str, str] = {}
    repositories: dict[str, str] = {}

    for name in sorted(raw):
        config = _scoped_config(name, raw[name], notes)
        if config is None:
            continue
        versions: dict[str, Any] = {}
        for version in sorted(config.get("versions") or {}, key=version_key):
            vconf = config["versions"][version]
            if not isinstance(vconf, dict) or "repository" not in vconf:
                notes.append(f"dropped {name} {version}: unsupported layout (no 'repository')")
                continue
            tag = _sdk_tag(name, version, config, vconf, notes)
            if tag is None:
                continue
            if not tag.startswith(version):
                notes.append(f"dropped {name} {version}: tag {tag!r} does not start with version")
                continue
            regs: dict[str, str] = vconf.get("registries") or {}
            if not regs:
                notes.append(f"dropped {name} {version}: no registries")
                continue
            for region in sorted(regs):
                account = str(regs[region])
                if not _ACCOUNT_RE.match(account):
                    raise ValueError(
                        f"{name} {version}: account {account!r} for {region} is not 12 digits"
                    )
                if region in registries and registries[region] != account:
                    raise ValueError(
                        f"conflicting ECR accounts for {region}: {registries[region]} "
                        f"({account_origin[region]}) vs {account} ({name} {version})"
                    )
                registries.setdefault(region, account)
                account_origin.setdefault(region, f"{name} {version}")
            repositories.setdefault(vconf["repository"], f"{name} {version}")
            versions[version] = {"tag": tag, "regions": sorted(regs)}

        if not versions:
            notes.append(f"dropped framework {name}: no usable versions")
            continue

        alias = (config.get("version_aliases") or {}).get("latest")
        highest = max(versions, key=version_key)
        if alias and alias in versions:
            latest = alias
            how = "SDK version_aliases['latest']"
            if alias != highest:
                how += f" (note: highest listed is {highest})"
        else:
            latest = highest
            how = "highest version (numeric comparison; no usable 'latest' alias)"
            if alias:
                how += f"; alias 'latest' -> {alias} is not in the catalog"
        notes.append(f"{name}: latest = {latest} [{how}]; {len(versions)} versions")
        frameworks[name] = {"latest": latest, "versions": versions}

    if not frameworks:
        raise ValueError("no usable framework configs")
    if len(repositories) != 1:
        raise ValueError(f"expected a single ECR repository, got {repositories}")

    missing = sorted(set(registries) - set(domains))
    if missing:
        raise ValueError(f"no DNS domain known for regions {missing}")

    catalog: dict[str, Any] = {
        "generated_by": GENERATED_BY,
        "source": _source_string(list(raw), source_version),
        "repository": next(iter(repositories)),
        "domains": {region: domains[region] for region in sorted(registries)},
        "registries": dict(sorted(registries.items())),
        "frameworks": frameworks,
    }
    if as_of is not None:
        catalog["as_of"] = as_of
    return catalog


def render(catalog: dict) -> str:
    """The exact bytes written to images.json."""
    return json.dumps(catalog, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- I/O


def ecr_domains(regions: list[str]) -> dict[str, str]:
    """DNS suffix per region, resolved the way sagemaker-core does.

    ``sagemaker.core.image_uris.retrieve`` builds ``{account}.dkr.{hostname}`` where
    ``hostname = EndpointResolver(loader.load_data("endpoints")).construct_endpoint(
    "ecr", region)["hostname"]`` (with a hard-coded ``ecr.il-central-1.amazonaws.com``
    fallback); the domain is that hostname minus ``ecr.<region>.``.
    """
    import botocore.loaders
    import botocore.regions

    resolver = botocore.regions.EndpointResolver(
        botocore.loaders.create_loader().load_data("endpoints")
    )
    domains: dict[str, str] = {}
    for region in sorted(set(regions)):
        endpoint = resolver.construct_endpoint("ecr", region)
        if not endpoint and region == "il-central-1":  # same special case as the SDK
            endpoint = {"hostname": f"ecr.{region}.amazonaws.com"}
        if not endpoint:
            raise ValueError(f"botocore has no ECR endpoint for {region}; upgrade botocore?")
        hostname = endpoint["hostname"]
        prefix = f"ecr.{region}."
        if not hostname.startswith(prefix):
            raise ValueError(f"unexpected ECR hostname for {region}: {hostname!r}")
        domains[region] = hostname[len(prefix) :]
    return domains


def load_installed() -> tuple[dict, dict, str]:
    """Read the configs from the installed sagemaker-core (no network).

    Returns:
        ``(raw, domains, source_version)`` ready for :func:`build_catalog`.

    Raises:
        ImportError: sagemaker-core (or botocore) is not installed.
    """
    import importlib.metadata
    import importlib.resources

    try:
        package_root = importlib.resources.files(SOURCE_MODULE)
        source_version = importlib.metadata.version(SOURCE_PACKAGE)
    except (ModuleNotFoundError, importlib.metadata.PackageNotFoundError) as exc:
        raise ImportError(
            f"{SOURCE_PACKAGE} is not installed; pip install -r requirements-refresh.txt"
        ) from exc

    raw: dict[str, dict] = {}
    for name in FRAMEWORKS:
        resource = package_root / "image_uri_config" / f"{name}.json"
        raw[name] = json.loads(resource.read_text(encoding="utf-8"))

    regions: set[str] = set()
    for config in raw.values():
        scoped = config.get(SCOPE, config) if "scope" not in config else config
        for vconf in (scoped.get("versions") or {}).values():
            if isinstance(vconf, dict):
                regions.update(vconf.get("registries") or {})
    return raw, ecr_domains(sorted(regions)), source_version


def diff_summary(old: dict, new: dict, limit: int = 40) -> list[str]:
    """Short, human-readable differences between two catalogs (``as_of`` ignored)."""
    lines: list[str] = []
    for key in sorted((set(old) | set(new)) - {"as_of", "frameworks"}):
        if old.get(key) != new.get(key):
            if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
                a, b = old[key], new[key]
                added = sorted(set(b) - set(a))
                removed = sorted(set(a) - set(b))
                changed = sorted(k for k in set(a) & set(b) if a[k] != b[k])
                lines.append(f"{key}: +{added} -{removed} changed {changed}")
            else:
                lines.append(f"{key}: {old.get(key)!r} -> {new.get(key)!r}")
    old_fw, new_fw = old.get("frameworks") or {}, new.get("frameworks") or {}
    for name in sorted(set(old_fw) | set(new_fw)):
        if name not in new_fw:
            lines.append(f"frameworks.{name}: removed")
            continue
        if name not in old_fw:
            lines.append(
                f"frameworks.{name}: added ({len(new_fw[name].get('versions', {}))} versions)"
            )
            continue
        a, b = old_fw[name], new_fw[name]
        if a.get("latest") != b.get("latest"):
            lines.append(f"frameworks.{name}.latest: {a.get('latest')} -> {b.get('latest')}")
        av, bv = a.get("versions") or {}, b.get("versions") or {}
        for version in sorted(set(av) | set(bv), key=version_key):
            if version not in bv:
                lines.append(f"frameworks.{name}: version {version} removed")
            elif version not in av:
                lines.append(
                    f"frameworks.{name}: version {version} added ({bv[version].get('tag')})"
                )
            elif av[version] != bv[version]:
                if av[version].get("tag") != bv[version].get("tag"):
                    lines.append(
                        f"frameworks.{name}.{version}.tag: "
                        f"{av[version].get('tag')} -> {bv[version].get('tag')}"
                    )
                ar, br = (
                    set(av[version].get("regions") or []),
                    set(bv[version].get("regions") or []),
                )
                if ar != br:
                    lines.append(
                        f"frameworks.{name}.{version}.regions: "
                        f"+{sorted(br - ar)} -{sorted(ar - br)}"
                    )
        if {k: v for k, v in a.items() if k not in ("latest", "versions")} != {
            k: v for k, v in b.items() if k not in ("latest", "versions")
        }:
            lines.append(f"frameworks.{name}: other fields changed")
    if len(lines) > limit:
        lines = lines[:limit] + [f"... and {len(lines) - limit} more"]
    return lines


def _valid_date(value: str) -> str:
    try:
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from exc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--as-of",
        type=_valid_date,
        default=_dt.date.today().isoformat(),
        help="date stored as as_of (YYYY-MM-DD); default: today",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the checked-in file differs from a fresh build "
        "(as_of ignored)",
    )
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    try:
        raw, domains, source_version = load_installed()
    except ImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    notes: list[str] = []
    output: Path = args.output
    rel = output.relative_to(REPO_ROOT) if output.is_relative_to(REPO_ROOT) else output

    if args.check:
        catalog = build_catalog(raw, domains, source_version, notes=notes)
        if not output.exists():
            print(f"{rel}: missing; run scripts/refresh_images.py", file=sys.stderr)
            return 1
        text = output.read_text(encoding="utf-8")
        try:
            existing = json.loads(text)
        except json.JSONDecodeError as exc:
            print(f"{rel}: not valid JSON ({exc})", file=sys.stderr)
            return 1
        if "as_of" in existing:
            catalog["as_of"] = existing["as_of"]
        if text == render(catalog):
            print(f"{rel} is up to date ({SOURCE_PACKAGE} {source_version}; as_of ignored)")
            return 0
        stripped_old = {k: v for k, v in existing.items() if k != "as_of"}
        stripped_new = {k: v for k, v in catalog.items() if k != "as_of"}
        lines = diff_summary(stripped_old, stripped_new)
        if not lines:
            lines = [
                "content equal but not in canonical form (indent=2, sort_keys, trailing newline)"
            ]
        if "as_of" not in existing:
            lines.append("as_of: missing")
        print(f"{rel} is stale vs {SOURCE_PACKAGE} {source_version}:", file=sys.stderr)
        for line in lines:
            print(f"  {line}", file=sys.stderr)
        print(
            "regenerate with: python scripts/refresh_images.py --as-of YYYY-MM-DD", file=sys.stderr
        )
        return 1

    catalog = build_catalog(raw, domains, source_version, as_of=args.as_of, notes=notes)
    text = render(catalog)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8", newline="\n")
    n_versions = sum(len(fw["versions"]) for fw in catalog["frameworks"].values())
    print(
        f"wrote {rel}: {len(catalog['frameworks'])} frameworks, {n_versions} versions, "
        f"{len(catalog['registries'])} regions "
        f"(as_of {args.as_of}, {SOURCE_PACKAGE} {source_version})"
    )
    for name, fw in sorted(catalog["frameworks"].items()):
        print(f"  {name}: latest {fw['latest']} -> {fw['versions'][fw['latest']]['tag']}")
    for note in notes:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Request checks that need no candidate: unknown names, contradictions, impossible numbers.

Each failure is one SelectorError naming the field, the value and the values that would work.
"""
from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

from selector.catalog import Catalog, load_catalog, supported_architectures
from selector.errors import SelectorError, one_of
from selector.model_shape import FFN_KEYS, HEAD_KEYS, HIDDEN_KEYS, LAYER_KEYS, POSITION_KEYS, ModelShape
from selector.request import PREFERENCES, QUANTIZATION_CHOICES, TRAFFIC, Request


def _unknown(field: str, value: str, known: list[str], what: str) -> SelectorError:
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.6)
    hint = f"Did you mean {one_of(close)}? " if close else ""
    return SelectorError(field, value, f"unknown {what}", hint + f"Known: {one_of(known, 50)}")


def validate_request(request: Request, catalog: Catalog) -> None:
    if request.traffic not in TRAFFIC:
        raise _unknown("traffic", request.traffic, list(TRAFFIC), "traffic pattern")
    if request.prefer not in PREFERENCES:
        raise _unknown("prefer", request.prefer, list(PREFERENCES), "preference")
    if request.quantization is not None and request.quantization not in QUANTIZATION_CHOICES:
        raise _unknown("quantization", request.quantization, list(QUANTIZATION_CHOICES), "quantization method")
    if request.region not in catalog.images.registries:
        raise _unknown("region", request.region, list(catalog.regions), "region (no LMI image registry there)")
    for family in request.families:
        if family not in catalog.families:
            raise _unknown("families", family, list(catalog.families), "instance family")
    if request.backend is not None and request.backend not in catalog.backends:
        raise _unknown("backend", request.backend, sorted(catalog.backends), "backend")
    for name in ("max_input_tokens", "max_output_tokens", "min_concurrency", "tensor_parallel_degree"):
        value = getattr(request, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise SelectorError(name, value, "must be a whole number of at least 1")
    _validate_instance(request, catalog)
    _validate_container_version(request, catalog)
    _validate_backend_families(request, catalog)
    _validate_model_file(request)


# config.json keys the shape is computed from: whole numbers (counts and sizes), mappings, flags.
POSITIVE_KEYS = (*LAYER_KEYS, *HIDDEN_KEYS, *HEAD_KEYS, *FFN_KEYS, *POSITION_KEYS, "vocab_size", "padded_vocab_size",
                 "num_key_value_heads", "num_kv_heads", "head_dim", "d_kv", "num_decoder_layers", "num_local_experts")
MAPPING_KEYS = ("quantization_config", "ffn_config", "attn_config")
NESTED_POSITIVE_KEYS = {"quantization_config": ("bits", "w_bit", "group_size", "q_group_size"),
                        "ffn_config": ("moe_num_experts", "ffn_hidden_size"), "attn_config": ("kv_n_heads",)}
MAX_CONFIG_NUMBER = 2**40  # far above any real model; keeps the memory arithmetic within float range


def _model_file(request: Request) -> tuple[str, Path] | None:
    """(field, path) of the local config.json the model is read from, as load_model finds it; None for ids."""
    for field, value in (("model_config", request.model_config), ("model", request.model)):
        if value and "\0" in value:
            raise SelectorError(field, value, "contains a NUL character, so it is neither a path nor a model id")
    if request.model_config:
        return "model_config", Path(request.model_config)
    path = Path(request.model)
    try:
        if path.is_dir():
            return ("model", path / "config.json") if (path / "config.json").is_file() else None
    except OSError as exc:
        raise SelectorError("model", request.model, f"is not a usable path ({exc.strerror or exc})",
                            "Give a catalog id (python -m selector catalog models) or a path to a config.json") from None
    return ("model", path) if path.suffix == ".json" else None


def _validate_model_file(request: Request) -> None:
    """A local config.json must hold the types the shape is computed from (a string or 0 there is no model)."""
    found = _model_file(request)
    if found is None:
        return
    field, path = found
    try:
        config = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return  # load_model names the field and says why it cannot be read
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, nesting deeper than the parser goes
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc).split(";")[0]
        raise SelectorError(field, str(path), f"cannot be read as JSON ({reason})") from None
    if not isinstance(config, dict):
        return

    def bad(key: str, value: Any, what: str) -> SelectorError:
        return SelectorError(f"model config {key}", value, f"{path} must give {what} here",
                             "Use the config.json saved with the model weights")

    architectures = config.get("architectures")
    if architectures is not None and not (
        isinstance(architectures, list) and architectures and all(isinstance(a, str) and a for a in architectures)
    ):
        raise bad("architectures", architectures, "a non-empty list of class names (e.g. [LlamaForCausalLM])")
    if config.get("model_type") is not None and not isinstance(config["model_type"], str):
        raise bad("model_type", config["model_type"], "a string (e.g. llama)")
    for key in MAPPING_KEYS:
        if config.get(key) and not isinstance(config[key], dict):
            raise bad(key, config[key], "a JSON object")
    checks = [(key, config.get(key)) for key in POSITIVE_KEYS]
    checks += [(f"{parent}.{key}", config[parent].get(key))
               for parent, keys in NESTED_POSITIVE_KEYS.items() if config.get(parent) for key in keys]
    for key, value in checks:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 0 <= value <= MAX_CONFIG_NUMBER):
            raise bad(key, value, f"a whole number from 0 to {MAX_CONFIG_NUMBER}")
    first = {}
    for keys in (LAYER_KEYS, HIDDEN_KEYS, HEAD_KEYS, FFN_KEYS, ("vocab_size", "padded_vocab_size")):
        first[keys[0]] = next((config[k] for k in keys if config.get(k) is not None), None)
        if first[keys[0]] == 0 or (first[keys[0]] is None and keys[0] == "vocab_size"):
            raise SelectorError(f"model config {keys[0]}", first[keys[0]],
                                f"{path} needs a positive {' or '.join(keys)}",
                                "Use the config.json saved with the model weights")
    heads, hidden = first[HEAD_KEYS[0]], first[HIDDEN_KEYS[0]]
    if heads and hidden and hidden < heads and not (config.get("head_dim") or config.get("d_kv")):
        raise bad(HIDDEN_KEYS[0], hidden, f"at least the {heads} attention heads (each head needs a width)")
    for key in ("num_key_value_heads", "num_kv_heads"):
        if heads and config.get(key) and heads % config[key]:
            raise bad(key, config[key], f"a divisor of the {heads} attention heads")
    if config.get("expansion_ratio") is not None and (
        isinstance(config["expansion_ratio"], bool) or not isinstance(config["expansion_ratio"], (int, float))
        or not 0 < config["expansion_ratio"] < 1e6
    ):
        raise bad("expansion_ratio", config["expansion_ratio"], "a positive number")
    groups = (config.get("quantization_config") or {}).get("config_groups")
    if groups and not (isinstance(groups, dict) and all(
            isinstance(g, dict) and isinstance(g.get("weights", {}), dict) for g in groups.values())):
        raise bad("quantization_config.config_groups", "{...}", "an object of {weights: {...}} groups")
    for key in ("tie_word_embeddings", "is_encoder_decoder", "multi_query", "new_decoder_architecture"):
        if config.get(key) is not None and not isinstance(config[key], bool):
            raise bad(key, config[key], "true or false")


def _validate_instance(request: Request, catalog: Catalog) -> None:
    if request.instance_type is None:
        return
    instance = catalog.instances.get(request.instance_type)
    if instance is None:
        raise _unknown("instance_type", request.instance_type, sorted(catalog.instances), "instance type")
    if request.families and instance.family not in request.families:
        raise SelectorError(
            "instance_type", request.instance_type,
            f"contradicts families = {', '.join(request.families)} (it is a {instance.family})",
            f"Add {instance.family} to families or drop one of the two",
        )


def _validate_container_version(request: Request, catalog: Catalog) -> None:
    version = request.container_version
    if version is None:
        return
    backends = [catalog.backends[request.backend]] if request.backend else list(catalog.backends.values())
    carried = [
        b.name for b in backends
        if any(image.version == version for c in b.containers for image in catalog.images.in_range(c))
    ]
    if carried:
        return
    known = sorted({image.version for b in backends for c in b.containers for image in catalog.images.in_range(c)},
                   key=lambda v: tuple(int(p) for p in v.split(".")))
    who = f"backend {request.backend}" if request.backend else "any backend"
    raise SelectorError("container_version", version, f"no published LMI image of {who} has this version",
                        f"Published versions: {one_of(known, 40)}")


def _validate_backend_families(request: Request, catalog: Catalog) -> None:
    if request.backend is None:
        return
    kind = catalog.backends[request.backend].accelerator_kind
    allowed = request.families or catalog.families
    if not any(i.accelerator_kind == kind and i.family in allowed for i in catalog.instances.values()):
        fitting = sorted({i.family for i in catalog.instances.values() if i.accelerator_kind == kind})
        raise SelectorError(
            "backend", request.backend,
            f"runs only on {kind} accelerators, and families = {', '.join(allowed)} has none",
            f"Add one of {', '.join(fitting)} to families",
        )


def validate_against_model(request: Request, shape: ModelShape, catalog: Catalog | None = None) -> None:
    """Pins that contradict the model itself (a pre-quantized checkpoint fixes the method), and a model no
    backend runs at all (otherwise reported as 'no candidate', with hints that cannot help)."""
    catalog = catalog or load_catalog()
    from selector.rules.architecture_supported import backends_running

    if not backends_running(catalog, shape.architecture):
        known = sorted({arch for b in catalog.backends.values() for c in b.containers
                        for image in catalog.images.in_range(c)
                        for arch in supported_architectures(catalog, b, image.version)})
        close = difflib.get_close_matches(shape.architecture, known, n=3, cutoff=0.6)
        hint = f"Did you mean {one_of(close)}? " if close else ""
        raise SelectorError("architectures", shape.architecture,
                            f"no LMI backend in the catalog runs this model class ({shape.source})",
                            hint + f"Known: {one_of(known, 40)}")
    pinned = request.quantization
    if shape.prequantized and pinned not in (None, "auto", shape.prequantized):
        raise SelectorError(
            "quantization", pinned,
            f"{shape.model_id} is a checkpoint already quantized with {shape.prequantized.upper()}",
            f"Use quantization {shape.prequantized} (or auto), or point model at the unquantized checkpoint",
        )

"""The JSON Schema of deployments files is the one source of the keys: complete, committed, and agreeing with
the validator, the catalogs, the README table and an independent JSON Schema implementation (python-jsonschema).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from collections.abc import Iterator

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings

from scripts import readme_keys
from selector.catalog import load_catalog
from selector.cli import main
from selector.deployment_schema import DRAFT, NOT_IN_DEFAULTS, dump, split_description
from selector.deployments import Deployment, json_schema, parse_deployments, resolve_all
from selector.errors import SelectorError
from tests.test_bad_input import PROPERTY, STRUCTURED
from selector.request import PREFERENCES, QUANTIZATION_CHOICES, TRAFFIC

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "deployments" / "schema.json"
EXAMPLES = sorted((REPO / "deployments").glob("*.yaml")) + sorted((REPO / "tests/fixtures/deployments").glob("*.yaml"))
MODELINE = "# yaml-language-server: $schema="


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json_schema()


def _properties(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every (path, property schema) of every `properties` mapping anywhere in the schema."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, prop in value.items():
                    yield f"{path}.{name}", prop
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{path}[{i}]")


def _string_enum(prop: dict[str, Any]) -> list[str]:
    """The enum of a field's string schema (itself, a list's items or an anyOf branch)."""
    for branch in [prop, *prop.get("anyOf", [])]:
        if "enum" in branch:
            return branch["enum"]
        if "enum" in branch.get("items", {}):
            return branch["items"]["enum"]
        if "anyOf" in branch and branch is not prop:  # families: a list of names, or the string `all`
            return _string_enum(branch)
    raise AssertionError(f"no enum in {prop}")


# --- complete ------------------------------------------------------------------------------------------------------

def test_schema_names_its_draft_and_is_a_valid_2020_12_schema(schema) -> None:
    assert schema["$schema"] == DRAFT == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] and schema["title"] and schema["type"] == "object"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft7Validator.check_schema(schema)  # yaml-language-server reads draft 7 keywords


def test_every_property_has_a_description(schema) -> None:
    props = list(_properties(schema))
    missing = [path for path, prop in props if not str(prop.get("description", "")).strip()]
    assert not missing, f"properties without a description: {missing}"
    assert len(props) > 70  # top level, Deployment, Defaults and every nested model


def test_every_optional_key_names_its_default_and_has_examples(schema) -> None:
    defs = {"DeploymentsFile": schema, **schema["$defs"]}
    assert set(defs) == {"DeploymentsFile", "Deployment", "Defaults", "Autoscaling", "Alarms", "Guardrails", "Vpc",
                         "DataCapture", "LoadSpec", "SloSpec", "Pipeline", "PipelineStage", "EndpointPool", "Adapter",
                         "Copies"}
    for model in defs:
        assert defs[model].get("description"), model
        required = set(defs[model].get("required", []))
        for key, prop in defs[model]["properties"].items():
            meaning, default = split_description(prop["description"])
            assert meaning.strip(), (model, key)
            assert (default is None) == (key in required), f"{model}.{key}: optional keys end 'Default: ...'"
            assert "examples" in prop, f"{model}.{key} has no examples"


def test_enums_come_from_the_catalogs_and_the_validator(schema) -> None:
    catalog, props = load_catalog(), schema["$defs"]["Deployment"]["properties"]
    assert _string_enum(props["backend"]) == sorted(catalog.backends)
    assert _string_enum(props["families"]) == sorted([*catalog.families, "all"])
    assert _string_enum(props["instance_type"]) == sorted(catalog.instances)
    assert _string_enum(props["region"]) == sorted(catalog.regions)
    assert _string_enum(schema["$defs"]["PipelineStage"]["properties"]["region"]) == sorted(catalog.regions)
    assert sorted(_string_enum(props["quantization"])) == sorted(QUANTIZATION_CHOICES)
    assert sorted(_string_enum(props["traffic"])) == sorted(TRAFFIC)
    assert sorted(_string_enum(props["prefer"])) == sorted(PREFERENCES)
    assert sorted(_string_enum(props["delivery"])) == ["environment", "tarball"]


def test_defaults_completes_every_deployment_key_but_name_and_model(schema) -> None:
    defaults, deployment = schema["$defs"]["Defaults"], schema["$defs"]["Deployment"]
    assert schema["properties"]["defaults"]["$ref"] == "#/$defs/Defaults"
    assert set(defaults["properties"]) == set(deployment["properties"]) - set(NOT_IN_DEFAULTS)
    assert set(NOT_IN_DEFAULTS) == {"name", "model"} and "required" not in defaults
    assert defaults["additionalProperties"] is False
    assert set(deployment["properties"]) == {f.alias or n for n, f in Deployment.model_fields.items()}


# --- committed and generated ---------------------------------------------------------------------------------------

def test_committed_schema_is_the_generated_one(schema) -> None:
    assert SCHEMA_FILE.read_text() == dump(schema), \
        "deployments/schema.json is stale: run .venv/bin/python -m selector schema > deployments/schema.json"


def test_selector_schema_prints_the_committed_file() -> None:
    out = CliRunner().invoke(main, ["schema"])
    assert out.exit_code == 0 and out.output == SCHEMA_FILE.read_text()


def test_readme_key_table_is_generated_from_the_schema() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_keys.rewrite(readme, readme_keys.table()) == readme, \
        "README.md's key table is stale: run .venv/bin/python scripts/readme_keys.py"
    assert readme_keys.main(["--check"]) == 0


def test_readme_table_has_a_row_per_key(schema) -> None:
    table = readme_keys.table(schema)
    keys = [line.split("`")[1] for line in table.splitlines()[2:]]
    assert keys[:2] == ["name", "model"] and len(keys) == len(set(keys))
    assert set(schema["$defs"]["Deployment"]["properties"]) <= set(keys)
    assert {"autoscaling.max", "load.requests_per_minute", "slo.time_per_output_token_ms"} <= set(keys)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_files_name_the_schema_and_pass_it(path: Path, schema) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith(MODELINE), f"{path} does not start with {MODELINE}..."
    assert (path.parent / first.removeprefix(MODELINE)).resolve() == SCHEMA_FILE
    document = yaml.safe_load(path.read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    jsonschema.Draft7Validator(schema).validate(document)


# --- schema and validator agree ------------------------------------------------------------------------------------

ENTRY = {"name": "chat", "model": "meta-llama/Meta-Llama-3-8B"}
DISAGREEABLE = {
    "unknown key in defaults": {"defaults": {"colour": "red"}, "deployments": [ENTRY]},
    "backend typo": {"deployments": [{**ENTRY, "backend": "vllmm"}]},
    "unknown family": {"deployments": [{**ENTRY, "families": ["g9"]}]},
    "unknown instance type": {"deployments": [{**ENTRY, "instance_type": "ml.g5.3xlarge"}]},
    "region without an image": {"deployments": [{**ENTRY, "region": "us-east-9"}]},
    "traffic": {"deployments": [{**ENTRY, "traffic": "spiky"}]},
    "name": {"deployments": [{**ENTRY, "name": "Bad_Name"}]},
    "subnet": {"deployments": [{**ENTRY, "vpc": {"subnet_ids": ["subnet-x"], "security_group_ids": ["sg-0123abcd"]}}]},
    "option key": {"deployments": [{**ENTRY, "options": {"max_model_len": 4}}]},
    "load without output": {"deployments": [{**ENTRY, "load": {"requests_per_minute": 6, "mean_input_tokens": 8}}]},
    "load zero": {"deployments": [{**ENTRY, "load": {"requests_per_minute": 0, "mean_input_tokens": 8,
                                                     "mean_output_tokens": 8}}]},
    "slo without a target": {"deployments": [{**ENTRY, "slo": {}}]},
    "slo negative": {"deployments": [{**ENTRY, "slo": {"time_per_output_token_ms": -1}}]},
    "stage region": {"deployments": [ENTRY], "pipeline": {
        "account": "111122223333", "region": "us-east-1", "repository": "repo",
        "stages": [{"name": "a", "account": "444455556666", "region": "mars-1"}]}},
}


@pytest.mark.parametrize("document", DISAGREEABLE.values(), ids=DISAGREEABLE.keys())
def test_schema_refuses_what_the_selector_refuses(document: dict, schema) -> None:
    with pytest.raises(SelectorError):
        resolve_all(parse_deployments(document))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(document)


def test_defaults_schema_accepts_what_the_merge_accepts(schema) -> None:
    document = {"defaults": {"max_input_tokens": 1024, "alarms": {"enabled": False}, "region": "us-west-2",
                             "load": {"requests_per_minute": 6, "mean_input_tokens": 8, "mean_output_tokens": 8}},
                "deployments": [ENTRY]}
    assert resolve_all(parse_deployments(document))
    jsonschema.Draft202012Validator(schema).validate(document)


@settings(PROPERTY, max_examples=150)
@given(document=STRUCTURED)
def test_schema_accepts_every_file_the_selector_plans(document: dict) -> None:
    """Editors must not flag a file that plans: the schema is never stricter than the selector."""
    try:
        resolve_all(parse_deployments(document))
    except SelectorError:
        return
    jsonschema.Draft202012Validator(json_schema()).validate(document)

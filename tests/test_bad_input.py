"""Hardening, part 3: bad input never gets through.

Every malformed deployments file must end as one SelectorError (one paragraph naming the file, line, key and
value), `python -m selector validate` must exit 2 with located FILE:LINE:COL lines and no traceback, app.py's
path must print one `error: ` paragraph, and `make synth` must stop before any template is written. The CLI rows
run in one forking worker (tests/hostile/worker.py); the hostile catalog itself is tests/hostile/cases.py.
Property tests throw random documents at the loader: only SelectorError may escape.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector.deployments import load_deployments, parse_deployments, resolve_all
from selector.errors import SelectorError

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
FIXTURE_CONFIG = str(REPO / "tests" / "fixtures" / "llama-2-13b-config.json")
LLAMA_2_13B = json.loads(Path(FIXTURE_CONFIG).read_text())
TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123"  # hf_ + 30 alphanumerics: the shape of a real token
ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PYTHONDONTWRITEBYTECODE": "1"}


def one(extra: str = "", model: str = "meta-llama/Meta-Llama-3-8B", name: str = "chat") -> str:
    """A file with one deployment `name` of `model` plus `extra` (YAML lines at deployment-key level)."""
    lines = "".join(f"    {line}\n" for line in extra.splitlines())
    return f"deployments:\n  - name: {name}\n    model: {model}\n{lines}"


def config(**changes) -> str:
    """The Llama-2-13B config.json with keys changed (None removes the key)."""
    data = dict(LLAMA_2_13B)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return json.dumps(data)


# A hub model described by a local config.json (written per row): the shape comes from the file.
LOCAL = one("model_config: {tmp}/config.json", model="example-org/custom-model")


@dataclass(frozen=True)
class Row:
    text: str  # YAML text; {tmp} is replaced by the row's directory
    expect: tuple[str, ...]  # substrings the paragraph must contain
    where: str | None = "deployments[chat]"  # the deployment the field must name (None: file-level error)
    files: dict[str, str] = field(default_factory=dict)  # extra files written next to the YAML

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        for name, content in self.files.items():
            (directory / name).write_text(content)
        path = directory / "deployments.yaml"
        path.write_text(self.text.replace("{tmp}", str(directory)))
        return path


def row(id: str, text: str, *expect: str, where: str | None = "deployments[chat]", files: dict | None = None):
    return pytest.param(Row(text, expect, where, files or {}), id=id)


ROWS = [
    # --- not a deployments document at all
    row("not-yaml-unclosed-flow", "deployments: [\n  - name: chat\n", "is not valid YAML", "deployments.yaml:2", where=None),
    row("not-yaml-tab-indent", "deployments:\n\t- name: chat\n", "is not valid YAML", "'\\t'", where=None),
    row("not-yaml-two-documents", "deployments: []\n---\ndeployments: []\n", "is not valid YAML", "another document",
        where=None),
    row("not-yaml-python-tag", "!!python/object:os.system {}\n", "is not valid YAML", "python/object", where=None),
    row("not-yaml-nested-too-deep", "[" * 3000 + "]" * 3000, "nested more than 32 levels", where=None),
    row("yaml-impossible-date", one("revision: 2001-02-30"), "'2001-02-30' is not a valid timestamp",
        "deployments.yaml:4", "quote it", where=None),
    row("yaml-int-tag-on-text", one("max_input_tokens: !!int lots"), "'lots' is not a valid int", where=None),
    row("yaml-5000-digit-number", one("max_input_tokens: " + "9" * 5000), "is not a valid int", where=None),
    row("yaml-list", "- name: chat\n  model: meta-llama/Meta-Llama-3-8B\n", "must be a mapping", "not list", where=None),
    row("yaml-scalar", "just some words\n", "must be a mapping", "not str", where=None),
    row("yaml-number", "42\n", "must be a mapping", "not int", where=None),
    row("yaml-empty", "", "must be a mapping", "not NoneType", where=None),
    row("yaml-comment-only", "# nothing to see\n", "must be a mapping", "not NoneType", where=None),
    # --- the document's outline
    row("missing-deployments", "defaults:\n  min_concurrency: 4\n", "deployments = None", "non-empty list", where=None),
    row("misspelt-deployments", one().replace("deployments:", "deployment:"), "deployment = ", "unknown key",
        "Did you mean deployments", where=None),
    row("deployments-empty-list", "deployments: []\n", "deployments = []", "non-empty list", where=None),
    row("deployments-mapping", "deployments:\n  name: chat\n", "deployments = ", "non-empty list", where=None),
    row("entry-not-mapping", "deployments:\n  - chat\n", "deployments[0] = 'chat'", "valid dictionary", where=None),
    row("entry-null", "deployments:\n  - null\n", "deployments[0] = None", "valid dictionary", where=None),
    row("unknown-top-level-key", one() + "extras: 1\n", "extras = 1", "unknown key", "Known keys: defaults, deployments",
        where=None),
    row("misspelt-top-level-key", "defualts: {}\n" + one(), "defualts", "Did you mean defaults", where=None),
    row("defaults-not-mapping", "defaults: [1, 2]\n" + one(), "defaults", "mapping", where=None),
    row("defaults-unknown-key", "defaults: {colour: red}\n" + one(), "defaults.colour = 'red'", "unknown key",
        where="defaults"),
    row("non-string-key", one("1: one"), "deployments[chat][1] = 1", "read as a number, not text"),
    row("non-string-top-level-key", one() + "1: one\n", "[1] = 1", "read as a number, not text", where=None),
    row("yaml-timestamp-tag-on-text", one("revision: !!timestamp soon"), "'soon' is not a valid timestamp", where=None),
    # --- unknown and misspelt keys
    row("misspelt-instance_type", one("instnce_type: ml.g5.2xlarge"), "deployments[chat].instnce_type", "unknown key",
        "Did you mean instance_type"),
    row("misspelt-max_input_tokens", one("max_imput_tokens: 2048"), "max_imput_tokens",
        "Did you mean max_input_tokens"),
    row("misspelt-nested-autoscaling-mx", one("autoscaling: {min: 1, mx: 4}"), "deployments[chat].autoscaling.mx",
        "Did you mean max"),
    row("misspelt-nested-alarms", one("alarms: {sns_topic: 'arn:aws:sns:us-east-1:123456789012:t'}"),
        "alarms.sns_topic", "Did you mean sns_topic_arn"),
    row("unknown-key-no-match", one("colour: blue"), "colour = 'blue'", "Known keys: account, adapters, alarms"),
    row("missing-model", "deployments:\n  - name: chat\n", "deployments[chat].model", "Field required"),
    row("missing-name", "deployments:\n  - model: meta-llama/Meta-Llama-3-8B\n", "deployments[0].name",
        "Field required", where=None),
    # --- wrong types
    row("string-for-max_input_tokens", one("max_input_tokens: lots"), "max_input_tokens = 'lots'", "valid integer"),
    row("quoted-number-for-max_input_tokens", one("max_input_tokens: '4096'"), "max_input_tokens = '4096'",
        "valid integer"),
    row("bool-for-instance_count", one("instance_count: true"), "instance_count = True", "valid integer"),
    row("fraction-for-min_concurrency", one("min_concurrency: 2.5"), "min_concurrency = 2.5"),
    row("date-for-name", one(name="2024-01-01"), "name = 2024-01-01", "valid string", where="deployments[2024-01-01]"),
    row("list-for-name", one(name="[chat]"), ".name = [chat]", "valid string", where="deployments["),
    row("dict-for-model", one(model="{id: meta-llama/Meta-Llama-3-8B}"), "deployments[chat].model = {...}",
        "valid string"),
    row("string-for-families", one("families: g5"), "families = 'g5'", "valid list"),
    row("string-for-bool", one("network_isolation: 'yes'"), "network_isolation = 'yes'", "valid boolean"),
    row("number-for-account", one("account: 123456789012"), "account = 123456789012", "valid string"),
    row("list-for-options-value", one("options: {option.rolling_batch: [vllm, lmi-dist]}"),
        "deployments[chat].options.option.rolling_batch = [vllm, lmi-dist]"),
    row("number-for-tag-key", one("tags: {1: x}"), "tags[1] = 1", "read as a number"),
    row("empty-region", one("region: ''"), "region = ''", "at least 1 character"),
    row("empty-model_config", one("model_config: ''"), "model_config = ''", "at least 1 character"),
    row("traffic-unknown", one("traffic: bursty"), "traffic = 'bursty'", "'even' or 'uneven'"),
    row("traffic-empty-list", one("traffic: []"), "traffic = []", "no endpoint"),
    row("delivery-unknown", one("delivery: zip"), "delivery = 'zip'"),
    row("prefer-unknown", one("prefer: fastest"), "prefer = 'fastest'", "'balanced' or 'cost'"),
    # --- numbers out of range
    row("zero-max_input_tokens", one("max_input_tokens: 0"), "max_input_tokens = 0", "greater than or equal to 1"),
    row("negative-max_output_tokens", one("max_output_tokens: -512"), "max_output_tokens = -512"),
    row("huge-max_input_tokens", one("max_input_tokens: 99999999999"), "max_input_tokens = 99999999999",
        "less than or equal to 1048576"),
    row("huge-instance_count", one("instance_count: 1000"), "instance_count = 1000", "less than or equal to 100"),
    row("zero-tensor_parallel_degree", one("tensor_parallel_degree: 0"), "tensor_parallel_degree = 0"),
    row("autoscaling-min-zero", one("autoscaling: {min: 0, max: 2}"), "autoscaling.min = 0"),
    row("guardrails-wait-too-long", one("deployment_guardrails: {wait_minutes: 120}"),
        "deployment_guardrails.wait_minutes = 120"),
    row("alarms-gpu-percent-150", one("alarms: {gpu_memory_percent: 150}"), "alarms.gpu_memory_percent = 150"),
    row("data-capture-sampling-zero", one("data_capture: {s3_uri: 's3://my-bucket/capture', sampling_percentage: 0}"),
        "data_capture.sampling_percentage = 0"),
    # --- names
    row("name-uppercase", one(name="Chat"), "deployments[Chat].name = 'Chat'", "lowercase letters", where=None),
    row("name-underscore", one(name="my_chat"), "name = 'my_chat'", "lowercase letters", where="deployments[my_chat]"),
    row("name-leading-hyphen", one(name="-chat"), "name = '-chat'", where="deployments[-chat]"),
    row("name-64-chars", one(name="a" * 64), "at most 63 characters", where="deployments[" + "a" * 64 + "]"),
    row("name-too-long-after-traffic-suffix", one("traffic: [even, uneven]", name="a" * 60),
        "'" + "a" * 60 + "-even'", "longer than 63", where="deployments[" + "a" * 60 + "]"),
    row("name-duplicate", one() + "  - name: chat\n    model: google/flan-t5-xl\n", "endpoint name 'chat' is used twice"),
    row("name-duplicate-after-traffic-expansion", one("traffic: [even]") + "  - name: chat-even\n    model: google/flan-t5-xl\n",
        "endpoint name 'chat-even' is used twice", where="deployments[chat-even]"),
    # --- models
    row("unknown-model-did-you-mean", one(model="meta-llama/Llama-2-7b-hff"), "model = 'meta-llama/Llama-2-7b-hff'",
        "not in the bundled catalog", "Did you mean meta-llama/llama-2-7b-hf"),
    row("unknown-model", one(model="acme/totally-unheard-of"), "model = 'acme/totally-unheard-of'",
        "not in the bundled catalog"),
    row("config-unknown-architecture", LOCAL, "architectures = 'FooBarForCausalLM'", "no LMI backend",
        files={"config.json": config(architectures=["FooBarForCausalLM"])}),
    row("config-not-json", LOCAL, "model_config: ", "config.json:1:2: cannot be read as JSON", files={"config.json": "{architectures: oops"}),
    row("config-json-list", LOCAL, "is not a JSON object", files={"config.json": "[1, 2]"}),
    row("config-missing-model_type", LOCAL, "model config model_type", "has no 'model_type' key",
        files={"config.json": config(model_type=None)}),
    row("config-missing-hidden-size", LOCAL, "model config hidden size", "has none of hidden_size",
        files={"config.json": config(hidden_size=None)}),
    row("config-missing-vocab-size", LOCAL, "model config vocab_size", files={"config.json": config(vocab_size=None)}),
    row("config-string-layer-count", LOCAL, "num_hidden_layers = 'forty'", "whole number",
        files={"config.json": config(num_hidden_layers="forty")}),
    row("config-zero-heads", LOCAL, "num_attention_heads = 0", files={"config.json": config(num_attention_heads=0)}),
    row("config-architectures-string", LOCAL, "architectures = 'LlamaForCausalLM'", "non-empty list",
        files={"config.json": config(architectures="LlamaForCausalLM")}),
    row("config-quantization_config-string", LOCAL, "quantization_config = 'awq'", "JSON object",
        files={"config.json": config(quantization_config="awq")}),
    row("config-kv-heads-not-divisor", LOCAL, "num_key_value_heads = 7", "divisor of the 40 attention heads",
        files={"config.json": config(num_key_value_heads=7)}),
    row("config-hidden-below-heads", LOCAL, "hidden_size = 8", files={"config.json": config(hidden_size=8)}),
    row("config-5000-digit-number", LOCAL, "cannot be read as JSON", "4300 digits",
        files={"config.json": config(vocab_size=0).replace('"vocab_size": 0', '"vocab_size": ' + "9" * 5000)}),
    row("config-nested-too-deep", LOCAL, "cannot be read as JSON", "nested too deeply",
        files={"config.json": '{"a": ' + "[" * 100000 + "]" * 100000 + "}"}),
    row("config-file-missing", one("model_config: {tmp}/missing/config.json", model="example-org/custom-model"),
        "no such file"),
    row("model-is-a-bare-config-json", one(model="{tmp}/config.json"), "ships no weights", "model_config",
        files={"config.json": config()}),
    row("s3-model-with-tarball-delivery", one("model_config: {tmp}/config.json\ndelivery: tarball",
                                              model="s3://my-bucket/llama/"), "use delivery: environment",
        files={"config.json": config()}),
    row("model-with-nul", one(model='"llama\\0.json"'), "'llama\\x00.json'", "control character"),
    row("model-path-too-long", one(model="x" * 5000), "(5000 characters)", "Hugging Face model ids have at most 96"),
    # --- unknown names the catalog does not have
    row("unknown-region", one("region: mars-east-1"), "region = 'mars-east-1'", "is not an AWS region name"),
    row("unknown-instance-type", one("instance_type: ml.g5.huge"), "instance_type = 'ml.g5.huge'",
        "unknown instance type", "Did you mean ml.g5.xlarge"),
    row("unknown-family", one("families: [g9]"), "families = 'g9'", "unknown instance family", "Known: g5, g6, g6e, inf2",
        ", all."),
    row("unknown-backend", one("backend: vllmm"), "backend = 'vllmm'", "Did you mean vllm"),
    row("unknown-quantization", one("quantization: int4"), "quantization = 'int4'"),
    row("unknown-container-version", one("container_version: 9.9.9"), "container_version = '9.9.9'",
        "no published LMI image"),
    row("malformed-container-version", one("container_version: latest"), "container_version = 'latest'",
        "like 0.32.0"),
    # --- requests the model or the catalog cannot honour
    row("context-longer-than-llama2", one("max_input_tokens: 4000\nmax_output_tokens: 1000", "meta-llama/Llama-2-7b-hf"),
        "max_input_tokens + max_output_tokens = 5000", "at most 4096 tokens"),
    row("tp-does-not-divide-heads", one("tensor_parallel_degree: 2", model="tiiuae/falcon-7b"),
        "tensor_parallel_degree = 2", "does not divide 71 attention heads"),
    row("tp-not-a-sharding-degree", one("tensor_parallel_degree: 3"), "tensor_parallel_degree = 3",
        "shards across TP 1, 2, 4, 8, not 3"),
    row("pin-neuronx-on-g5", one("backend: neuronx\nfamilies: [g5]"), "backend = 'neuronx'", "runs only on neuron",
        "inf2"),
    row("pin-vllm-for-t5", one("backend: vllm", "google/flan-t5-xl"), "backend = 'vllm'", "no plan honours this pin",
        "does not run T5ForConditionalGeneration"),
    row("pin-g5-xlarge-for-70b", one("instance_type: ml.g5.xlarge", "meta-llama/Llama-2-70b-hf"),
        "instance_type = 'ml.g5.xlarge'", "no plan honours this pin"),
    row("pin-awq-on-unquantized-vllm", one("quantization: awq\nbackend: vllm"), "backend + quantization = [vllm, awq]",
        "does not quantize to awq"),
    row("pin-fp8-tensorrtllm-on-g5", one("quantization: fp8\nbackend: tensorrtllm\nfamilies: [g5]"),
        "backend + quantization = [tensorrtllm, fp8]", "compute capability"),
    row("pin-gptq-on-awq-checkpoint", one("quantization: gptq", "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"),
        "quantization = 'gptq'", "already quantized with AWQ"),
    row("instance-type-contradicts-families", one("instance_type: ml.g5.2xlarge\nfamilies: [p4d]"),
        "instance_type = 'ml.g5.2xlarge'", "contradicts families"),
    row("autoscaling-min-above-max", one("autoscaling: {min: 4, max: 2}"), "autoscaling", "min (4) is greater than max (2)"),
    row("autoscaling-missing-max", one("autoscaling: {min: 1}"), "autoscaling.max", "Field required"),
    row("instance-count-below-autoscaling-min", one("instance_count: 1\nautoscaling: {min: 2, max: 4}"),
        "instance_count (1) is below autoscaling.min (2)"),
    # --- ARNs, ids and URIs
    row("bad-kms_key_arn", one("kms_key_arn: 'arn:aws:s3:::my-bucket'"), "kms_key_arn = 'arn:aws:s3:::my-bucket'",
        "arn:aws:kms"),
    row("bad-hf_token_secret_arn", one("hf_token_secret_arn: my-hf-secret"), "hf_token_secret_arn = 'my-hf-secret'",
        "arn:aws:secretsmanager:<region>:<account>:secret:<name>"),
    row("bad-alarms-sns_topic_arn", one("alarms: {sns_topic_arn: alerts}"), "alarms.sns_topic_arn = 'alerts'",
        "arn:aws:sns:<region>:<account>:<topic>"),
    row("bad-account", one("account: '1234'"), "account = '1234'", "12-digit"),
    row("bad-subnet-id", one("vpc: {subnet_ids: [subnet-xyz], security_group_ids: [sg-0123abcd]}"), "vpc.subnet_ids",
        "'subnet-xyz' is not a subnet id"),
    row("bad-security-group-id", one("vpc: {subnet_ids: [subnet-0123abcd], security_group_ids: [default]}"),
        "vpc.security_group_ids", "'default' is not a security group id"),
    row("vpc-without-security-groups", one("vpc: {subnet_ids: [subnet-0123abcd]}"), "vpc.security_group_ids",
        "Field required"),
    row("data-capture-not-s3", one("data_capture: {s3_uri: 'https://my-bucket.s3.amazonaws.com/x'}"),
        "data_capture.s3_uri = 'https://my-bucket.s3.amazonaws.com/x'", "s3://"),
    row("s3-model-without-model_config", one(model="s3://my-bucket/llama/"), "needs model_config"),
    row("s3-model-not-a-prefix", one("model_config: config.json", "s3://my-bucket/llama"), "ending with '/'"),
    row("network-isolation-with-hub-model", one("network_isolation: true"), "network_isolation needs an s3:// model"),
    row("pipeline-not-mapping", one() + "pipeline: github.com/acme/llm\n", "pipeline = 'github.com/acme/llm'",
        where=None),
    # --- secrets and serving.properties pass-through
    row("hf-token-in-options", one(f"options: {{option.hf_token: {TOKEN}}}"), "Hugging Face token",
        "deployments.yaml:4", "hf_token_secret_arn", where=None),
    row("hf-token-in-tags", one(f"tags: {{owner: {TOKEN}}}"), "Hugging Face token", "deployments.yaml:4", where=None),
    row("hf-token-in-defaults", f"defaults:\n  revision: {TOKEN}\n" + one(), "Hugging Face token",
        "deployments.yaml:2", where=None),
    row("hf-token-in-comment", one() + f"# HF_TOKEN={TOKEN}\n", "Hugging Face token", "deployments.yaml:4", where=None),
    row("hf-token-glued-to-underscore", one(f"tags: {{note: old_{TOKEN}_revoked}}"), "Hugging Face token", where=None),
    row("options-key-not-option", one("options: {max_model_len: 2048}"), "'max_model_len' is not an LMI",
        "option.<name>"),
    row("options-key-with-space", one("options: {'option.max model': 1}"), "'option.max model' is not an LMI"),
    row("options-value-with-line-break", one('options: {option.x: "1\\noption.model_id=s3://evil/"}'),
        "the value of option.x contains a line break"),
    row("options-key-with-trailing-newline", one('options: {"option.x\\n": 1}'), "'option.x\\n' is not an LMI"),
    row("revision-with-line-break", one('revision: "main\\noption.trust_remote_code=true"'), "revision = 'main\\n",
        "line break"),
    row("model-path-with-line-break", one('model_config: "/tmp/x\\n.json"', "s3://my-bucket/llama/"), "model_config",
        "line break"),
    row("tag-aws-prefix", one("tags: {'aws:cloudformation:stack-name': x}"), "tags", "aws: prefix is reserved"),
    row("tag-key-too-long", one("tags: {" + "k" * 129 + ": x}"), "tags", "AWS allows 1-128"),
    row("options-key-plan-sets", one("options: {option.max_model_len: 2048}"), "options.option.max_model_len = '2048'",
        "the plan already sets this key"),
    # OPTION_TENSOR_PARALLEL_DEGREE reaches the container lower-cased: an upper-case key must not slip past the plan
    row("options-key-plan-sets-other-case", one('options: {option.TENSOR_PARALLEL_DEGREE: "4"}'),
        "options.option.TENSOR_PARALLEL_DEGREE = '4'", "the plan already sets this key"),
    # YAML 1.1 would read these as 60 and 15: a reviewer reads 1:00 and 017
    row("sexagesimal-number", one("max_input_tokens: 1:00"), "max_input_tokens = '1:00'"),
    row("octal-looking-number", one("max_input_tokens: 0017"), "max_input_tokens = '0017'"),
    row("tag-replaces-plan-tag", one("tags: {'lmi:backend': x}"), "tags", "set by the project from the plan"),
    row("options-keys-differ-only-in-case", one('options: {option.Foo_Bar: "1", option.foo_bar: "2"}'),
        "options.option.foo_bar", "only in case"),
]

assert len(ROWS) >= 45
assert len({p.id for p in ROWS}) == len(ROWS), "row ids must be unique"
assert len({(p.values[0].text, tuple(sorted(p.values[0].files.items()))) for p in ROWS}) == len(ROWS), \
    "rows must be distinct documents"


def _assert_paragraph(error: SelectorError, case: Row) -> None:
    text = error.paragraph()
    assert text and "\n" not in text and "\r" not in text, f"not one paragraph: {text!r}"
    for expected in case.expect:
        assert expected in text, f"{expected!r} not in {text!r}"
    if case.where:
        assert error.field.startswith(case.where), f"field {error.field!r} does not name {case.where}"
    assert "Traceback" not in text


# --- 1. in process ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ROWS)
def test_rejected_with_one_paragraph(case: Row, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    try:
        resolved = resolve_all(load_deployments(path))
    except SelectorError as error:
        _assert_paragraph(error, case)
    else:
        pytest.fail(f"accepted: {[r.endpoint_name for r in resolved]}")


# --- 2. `python -m selector validate FILE` and app.py's path, every row, in one forking worker ------------------------
# (tests/hostile/worker.py: one Python start for all rows instead of one per row; each row measured)
@pytest.fixture(scope="module")
def cli_results(tmp_path_factory) -> dict[str, dict]:
    from tests.hostile.test_hostile import run_cases

    base = tmp_path_factory.mktemp("cli")
    cwd = base / "cwd"
    cwd.mkdir()
    paths = {p.id: p.values[0].write(base / p.id) for p in ROWS}
    jobs = [{"id": f"{row_id}@{mode}", "mode": mode, "args": [str(path)], "cwd": str(cwd)}
            for row_id, path in paths.items() for mode in ("validate", "app")]
    results = run_cases(jobs)
    assert not list(cwd.iterdir()), "validate wrote files"
    return results


@pytest.mark.parametrize("case", ROWS)
def test_cli_validate_exits_2(case: Row, cli_results, request) -> None:
    row_id = request.node.callspec.id
    for mode in ("validate", "app"):
        result = cli_results[f"{row_id}@{mode}"]
        assert "Traceback" not in result["stderr"] + result["stdout"], result["stderr"]
        assert result["exit"] == 2, (mode, result["exit"], result["stderr"])
        lines = result["stderr"].splitlines()
        assert lines, result
        if mode == "app":
            assert len(lines) == 1 and lines[0].startswith("error: "), f"not one paragraph: {result['stderr']!r}"
        assert result["stdout"] == ""
        for expected in case.expect:
            assert expected in result["stderr"], (mode, expected, result["stderr"])
        assert result["seconds"] < 5 and result["maxrss_mib"] < 300, result


def test_cli_validate_missing_file(tmp_path: Path) -> None:
    result = subprocess.run([str(PYTHON), "-m", "selector", "validate", str(tmp_path / "nope.yaml")], cwd=REPO,
                            env=ENV, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith(f"{tmp_path / 'nope.yaml'}: ")
    assert "no such file" in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


# --- 3. `make synth DEPLOYMENTS=<bad file>` -------------------------------------------------------------------------
MAKE_ROWS = ["not-yaml-unclosed-flow", "misspelt-instance_type", "pin-neuronx-on-g5", "pin-vllm-for-t5",
             "name-duplicate-after-traffic-expansion", "hf-token-in-options", "config-string-layer-count"]
BY_ID = {p.id: p.values[0] for p in ROWS}


@pytest.fixture(scope="module")
def make_tree(tmp_path_factory) -> Path:
    """The repo's Makefile and code, linked into a scratch directory: `make synth` there deletes and writes only
    the scratch cdk.out, never the developer's."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    for needed in (".venv/.runtime", "node_modules/.installed"):
        if not (REPO / needed).exists():
            pytest.skip(f"{needed} missing: make would install first (run `make synth` once)")
    tree = tmp_path_factory.mktemp("make")
    for entry in REPO.iterdir():
        if entry.name not in ("cdk.out", ".git", ".pytest_cache", ".hypothesis"):
            (tree / entry.name).symlink_to(entry)
    return tree


@pytest.mark.parametrize("row_id", MAKE_ROWS)
def test_make_synth_stops_before_templates(row_id: str, make_tree: Path, tmp_path: Path) -> None:
    case = BY_ID[row_id]
    path = case.write(tmp_path / "input")
    stale = make_tree / "cdk.out" / "lmi-stale.template.json"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("{}")  # a template from an earlier synth must not survive a failed one
    env = {k: v for k, v in ENV.items() if not k.startswith("MAKE")}
    # -o: never re-run setup from the scratch tree (a stale stamp would re-point the editable install at it)
    result = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.dev", "-o", "node_modules/.installed",
                             "synth", f"DEPLOYMENTS={path}"], cwd=make_tree, env=env,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert result.stderr.startswith(f"{path}:"), result.stderr  # validate's located FILE:LINE:COL line
    for expected in case.expect:
        assert expected in output, output
    assert not stale.exists(), "make synth must clear cdk.out before validating"
    assert not list(make_tree.glob("cdk.out/**/*.template.json")), "a template was left behind"


# --- 4. property tests: anything thrown at the loader ends as SelectorError or a plan -----------------------------
PROPERTY = settings(deadline=None, derandomize=True, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                           HealthCheck.data_too_large])

DEPLOYMENT_KEYS = [
    "name", "model", "model_config", "revision", "traffic", "max_input_tokens", "max_output_tokens", "min_concurrency",
    "quantization", "prefer", "families", "backend", "instance_type", "tensor_parallel_degree", "container_version",
    "region", "account", "instance_count", "delivery", "options", "tags", "autoscaling", "alarms",
    "deployment_guardrails", "kms_key_arn", "vpc", "network_isolation", "data_capture", "hf_token_secret_arn", "protect",
    "load", "slo",
]
NESTED_KEYS = ["min", "max", "target_invocations_per_instance", "scale_in_cooldown", "enabled", "sns_topic_arn",
               "wait_minutes", "subnet_ids", "security_group_ids", "s3_uri", "sampling_percentage", "option.max_model_len",
               "option.rolling_batch", "option.tensor_parallel_degree", "team", "requests_per_minute",
               "time_per_output_token_ms"]
PLAUSIBLE = {
    "name": st.sampled_from(["chat", "a", "chat-even", "llm-2", "b7", "chat", "x" * 63, "Chat", "-x"]),
    "model": st.sampled_from(["meta-llama/Meta-Llama-3-8B", "google/flan-t5-xl", "meta-llama/Llama-2-70b-hf",
                              "mistralai/Mistral-7B-v0.1", "TheBloke/Llama-2-13B-GPTQ", "s3://bucket/prefix/",
                              FIXTURE_CONFIG, "nope/nope", ".", "/", "x.json"]),
    "model_config": st.sampled_from([FIXTURE_CONFIG, "missing.json", ".", str(REPO / "selector")]),
    "traffic": st.sampled_from(["even", "uneven", ["even", "uneven"], [], ["even", "even"]]),
    "quantization": st.sampled_from(["auto", "none", "awq", "gptq", "smoothquant", "int8", "fp8"]),
    "prefer": st.sampled_from(["balanced", "cost"]),
    "families": st.lists(st.sampled_from(["g5", "inf2", "p4d", "p4de", "g6"]), max_size=3),
    "backend": st.sampled_from(["vllm", "tensorrtllm", "lmi-dist", "deepspeed", "neuronx"]),
    "instance_type": st.sampled_from(["ml.g5.xlarge", "ml.g5.12xlarge", "ml.g5.48xlarge", "ml.inf2.24xlarge",
                                      "ml.p4d.24xlarge"]),
    "container_version": st.sampled_from(["0.32.0", "0.27.0", "0.38.0", "0.19.0"]),
    "region": st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "cn-north-1"]),
    "delivery": st.sampled_from(["tarball", "environment"]),
}
SCALARS = st.one_of(
    st.none(), st.booleans(), st.dates(), st.integers(min_value=-2**70, max_value=2**70),
    st.integers(min_value=-3, max_value=70000),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", "0", "4096", "even", "ml.g5.2xlarge", "option.x", "s3://b/p/", "arn:aws:kms:us-east-1::key/x",
                     "main\noption.model_id=x", "a=b", "#", "aws:x", "\r", "x" * 300]),
)
KEYS = st.one_of(st.sampled_from(DEPLOYMENT_KEYS + NESTED_KEYS + ["deployments", "defaults", "pipeline"]),
                 st.text(max_size=12), st.integers(-5, 5))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=12,
)


COUNTS = st.integers(min_value=-2, max_value=200000)
SMALL = st.integers(min_value=-1, max_value=130)
TYPED = {
    **PLAUSIBLE,
    **{key: COUNTS for key in ("max_input_tokens", "max_output_tokens")},
    **{key: SMALL for key in ("min_concurrency", "tensor_parallel_degree", "instance_count")},
    "revision": st.sampled_from(["main", "abc123", "", "main\noption.x=1", "a=b", "refs/pr/1"]),
    "account": st.sampled_from(["123456789012", "1234"]),
    "options": st.dictionaries(st.sampled_from(["option.max_model_len", "option.rolling_batch", "option.trust_remote_code",
                                                "max_model_len", "job_queue_size"]),
                               st.one_of(st.text(max_size=8), st.integers(), st.booleans(),
                                         st.sampled_from(["1\noption.y=2", "a=b", "true"])), max_size=2),
    "tags": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
    "autoscaling": st.fixed_dictionaries({"max": SMALL}, optional={"min": SMALL, "target_invocations_per_instance": SMALL,
                                                                   "scale_in_cooldown": COUNTS}),
    "alarms": st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "gpu_memory_percent": SMALL,
                                                  "sns_topic_arn": st.sampled_from(["arn:aws:sns:us-east-1:123456789012:t",
                                                                                    "topic"])}),
    "deployment_guardrails": st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "wait_minutes": SMALL}),
    "data_capture": st.fixed_dictionaries({"s3_uri": st.sampled_from(["s3://my-bucket/x", "https://x", "s3://B"])},
                                          optional={"sampling_percentage": SMALL}),
    "vpc": st.fixed_dictionaries({"subnet_ids": st.lists(st.sampled_from(["subnet-0123abcd", "subnet-x"]), max_size=2),
                                  "security_group_ids": st.lists(st.sampled_from(["sg-0123abcd", "sg"]), max_size=2)}),
    "kms_key_arn": st.sampled_from(["arn:aws:kms:us-east-1:123456789012:key/abc", "arn:aws:s3:::b"]),
    "hf_token_secret_arn": st.sampled_from(["arn:aws:secretsmanager:us-east-1:123456789012:secret:hf", "hf"]),
    "network_isolation": st.booleans(),
    "protect": st.booleans(),
    "load": st.fixed_dictionaries({"requests_per_minute": st.one_of(st.floats(), COUNTS), "mean_input_tokens": COUNTS,
                                   "mean_output_tokens": COUNTS}),
    "slo": st.fixed_dictionaries({}, optional={"time_to_first_token_ms": st.one_of(st.floats(), SMALL),
                                               "time_per_output_token_ms": st.one_of(st.floats(), SMALL)}),
}


RARELY = st.sampled_from([False] * 7 + [True])  # hypothesis favours small integers, so not integers(0, 7) == 0


@st.composite
def deployment(draw) -> dict:
    """Mostly well-typed entries (so the resolver runs), with a junk value or an unknown key now and then."""
    entry = {"name": draw(PLAUSIBLE["name"]), "model": draw(PLAUSIBLE["model"])}
    for key in draw(st.lists(st.sampled_from(DEPLOYMENT_KEYS), max_size=5, unique=True)):
        junk = draw(RARELY)
        entry[key] = draw(VALUES if junk or key not in TYPED else TYPED[key])
    if draw(RARELY):
        entry[draw(KEYS)] = draw(VALUES)
    return entry


STRUCTURED = st.fixed_dictionaries(
    {"deployments": st.lists(deployment(), min_size=1, max_size=3)},
    optional={"defaults": st.fixed_dictionaries({}, optional={
        key: TYPED[key] for key in ("min_concurrency", "prefer", "region", "tags", "families")})},
)
DOCUMENTS = st.one_of(
    VALUES,
    st.builds(lambda extra, doc: {**extra, **doc}, st.dictionaries(KEYS, VALUES, max_size=2),
              st.fixed_dictionaries({"deployments": st.lists(deployment(), max_size=3)},
                                    optional={"defaults": VALUES, "pipeline": VALUES})),
)


def _only_selector_error(call) -> None:
    try:
        call()
    except SelectorError as error:
        text = error.paragraph()
        assert text and "\n" not in text
    # any other exception propagates and fails the test


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("property") / "deployments.yaml"


@settings(PROPERTY, max_examples=130)
@given(document=STRUCTURED)
def test_random_documents_parse(document) -> None:
    _only_selector_error(lambda: resolve_all(parse_deployments(document)))


@settings(PROPERTY, max_examples=70)
@given(document=DOCUMENTS)
def test_random_documents_load(document, scratch: Path) -> None:
    scratch.write_text(yaml.safe_dump(document, allow_unicode=True))
    _only_selector_error(lambda: resolve_all(load_deployments(scratch)))


YAML_SNIPPETS = ["2001-02-30", "!!int x", "!!float y", "!!binary '@'", "!!timestamp 2020", "&a [*a]", "*a", "1:30",
                 "9" * 5000, "<<: *a", "? [1]\n: 2", "\n---\n", "\t", "{", "]", ": ", "- ", "\n    ", "'", '"\\x',
                 "meta-llama/Meta-Llama-3-8B", "max_input_tokens: ", "traffic: [even, uneven]", "\ufeff", "\x85"]


@settings(PROPERTY, max_examples=60)
@given(text=st.one_of(
    st.text(max_size=200),
    st.builds(lambda head, tail: head + "".join(tail),
              st.sampled_from(["deployments:\n  - name: chat\n    model: ", "deployments:\n  - ", "defaults:\n  ",
                               "deployments: [", "- ", "deployments:\n  - name: chat\n    "]),
              st.lists(st.one_of(
                  st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
                  st.sampled_from(YAML_SNIPPETS)), max_size=6)),
))
def test_random_text_load(text: str, scratch: Path) -> None:
    scratch.write_text(text, encoding="utf-8")
    _only_selector_error(lambda: resolve_all(load_deployments(scratch)))


CONFIG_KEYS = sorted(set(LLAMA_2_13B) | {"n_head", "d_model", "num_kv_heads", "head_dim", "num_local_experts",
                                         "quantization_config", "ffn_config", "attn_config", "expansion_ratio"})
CONFIG_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-3, max_value=10**7), st.floats(allow_nan=False),
              st.text(max_size=8), st.sampled_from(["awq", "gptq", "fp8", "compressed-tensors", "llama", "FooForCausalLM"])),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(
        st.sampled_from(["quant_method", "bits", "group_size", "config_groups", "weights", "moe_num_experts",
                         "ffn_hidden_size", "kv_n_heads"]), children, max_size=3),
    max_leaves=8,
)


@settings(PROPERTY, max_examples=40)
@given(changes=st.dictionaries(st.sampled_from(CONFIG_KEYS), CONFIG_VALUES, max_size=3),
       dropped=st.lists(st.sampled_from(CONFIG_KEYS), max_size=2),
       extra=st.sampled_from(["", "prefer: cost", "backend: neuronx", "max_input_tokens: 1000"]))
def test_random_config_json(changes: dict, dropped: list, extra: str, scratch: Path) -> None:
    """A local config.json with keys changed (null included) or removed is planned or refused, never a traceback."""
    data = {**LLAMA_2_13B, **changes}
    for key in dropped:
        data.pop(key, None)
    config_path = scratch.with_name("config.json")
    config_path.write_text(json.dumps(data))
    scratch.write_text(one(f"model_config: {config_path}\n{extra}", model="example-org/custom-model"))
    _only_selector_error(lambda: resolve_all(load_deployments(scratch)))

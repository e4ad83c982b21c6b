"""Property tests of the input boundary: whatever bytes arrive as a deployments file or a config.json, only
SelectorError escapes, and every problem is one short located line. Derandomized, bounded examples."""
from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selector.deployments import check_file, load_deployments
from selector.errors import EXCERPT_CHARS, SelectorError, excerpt
from selector.input_boundary import read_json_object
from selector.model_shape import load_model

REPO = Path(__file__).resolve().parents[2]
LLAMA = (REPO / "tests" / "fixtures" / "llama-2-13b-config.json").read_text()
FUZZ = settings(deadline=None, derandomize=True, database=None, max_examples=150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
MAX_LINE = 1200  # a located problem line: location, field, a 60-character excerpt, message and hint

SNIPPETS = [b"deployments:\n", b"  - name: chat\n", b"    model: meta-llama/Meta-Llama-3-8B\n", b"&a [x, y]", b"*a",
            b"<<: *a\n", b"!!python/object:os.system\n", b"!!binary AAAA\n", b"\xef\xbb\xbf", b"\xff\xfe", b"\x00",
            b"\x1b[31m", b"\xed\xa0\x80", b"? [a]\n: 1\n", b"{{resolve:ssm:x}}", b"${Token[X.1]}", b"\\\n", b"---\n",
            b"    revision: main\n", b"    revision: main\n", b"[" * 40, b"{a: " * 40, b"0x" + b"f" * 400,
            b"    tags: {a: b, a: c}\n", b"    kms_key_arn: 'arn:aws:kms:us-east-1:123456789012:key/*'\n",
            b"yes: 1\n", b"\t", b"\r\n", b"\xc2\x85", b"\xe2\x80\xa8", b"'", b'"\\x', b"# comment\n"]
DOCUMENTS = st.one_of(st.binary(max_size=400),
                      st.lists(st.sampled_from(SNIPPETS) | st.binary(max_size=12), max_size=14).map(b"".join))


def _located(problem_lines: list[str]) -> None:
    for line in problem_lines:
        assert "\n" not in line and "\r" not in line and len(line) < MAX_LINE, line[:300]


@settings(FUZZ)
@given(data=DOCUMENTS)
def test_deployments_bytes_only_selector_error(data: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "deployments.yaml"
    path.write_bytes(data)
    try:
        load_deployments(path)
    except SelectorError as error:
        _located([error.paragraph()])
    _, problems = check_file(str(path))  # validate's path: never raises, every problem one short line
    _located([p.line_text() for p in problems])


JSON_SNIPPETS = [LLAMA, '{"a": ', "[" * 50, "]" * 50, "NaN", "-Infinity", "1e999", "9" * 5000, '"\\ud800"', "\x00",
                 '{"vocab_size": 1, "vocab_size": 2}', '{"num_key_value_heads": 0}', "\ufeff", "null", '"x"']


@settings(FUZZ, max_examples=100)
@given(data=st.one_of(st.binary(max_size=300),
                      st.lists(st.sampled_from(JSON_SNIPPETS) | st.text(max_size=10), max_size=6).map(
                          lambda parts: "".join(parts).encode("utf-8", "surrogatepass")),
                      st.dictionaries(st.sampled_from(["num_key_value_heads", "max_position_embeddings", "vocab_size",
                                                       "quantization_config", "hidden_size", "model_type"]),
                                      st.one_of(st.integers(-2, 10**6), st.none(), st.text(max_size=5),
                                                st.fixed_dictionaries({"quant_method": st.sampled_from(["awq", "gptq"]),
                                                                       "bits": st.integers(-1, 9)})), max_size=4).map(
                          lambda changes: json.dumps({**json.loads(LLAMA), **changes}).encode())))
def test_config_json_bytes_only_selector_error(data: bytes, tmp_path_factory) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "config.json"
    path.write_bytes(data)
    for call in (lambda: read_json_object(str(path), "model_config"),
                 lambda: load_model("example-org/custom-model", str(path))):
        try:
            call()
        except SelectorError as error:
            _located([error.paragraph()])


VALUES = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=500),
                                st.dates(), st.integers(min_value=10**300, max_value=10**320)),
                      lambda children: st.lists(children, max_size=50) | st.dictionaries(st.text(max_size=5), children),
                      max_leaves=60)


@settings(FUZZ)
@given(value=VALUES)
def test_excerpt_is_short_and_one_line(value) -> None:
    text = excerpt(value)
    assert len(text) <= 4 * EXCERPT_CHARS + 120 and "\n" not in text

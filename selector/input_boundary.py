"""The one place user-named files are read: deployments YAML and model_config config.json.

Deployments files arrive by pull request and are synthesized by a pipeline with deploy rights, so everything
here treats a file as hostile: it is opened once without blocking (a FIFO must not hang the pipeline), `fstat`
must say "regular file" (no /dev/zero, directory, socket or device), its size is capped before a byte is read,
the read itself is bounded (the file may grow), the text must be UTF-8 without control characters, and the YAML
composer counts aliases, depth and the nodes an alias expansion would produce (a 600-byte "billion laughs"
document must cost microseconds, not gigabytes). Duplicate mapping keys (silent data loss: the last one wins)
and non-text keys are refused with their line numbers. Every other module receives the parsed document and a
`Marks` index that maps a key path back to its line and column, never the path of the file.
"""
from __future__ import annotations

import errno
import json
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from selector.errors import NO_VALUE, Problem, SelectorError, excerpt

# --- limits (each far above what a real file needs; the reason is in the comment) -------------------------------
# deployments/*.yaml: the bundled files are 1-6 KB, and 100 deployments of 30 keys each are ~90 KB. 512 KiB also
# keeps PyYAML's pure-Python scanner (needed for node marks) well under a second on the largest file allowed.
MAX_DEPLOYMENTS_BYTES = 512 * 1024
# config.json: Hugging Face configs are 0.5-10 KB; vision/classifier configs with id2label maps reach ~1 MB.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
MAX_PATH_CHARS = 4096  # PATH_MAX on Linux
MAX_YAML_DEPTH = 32  # a deployments file nests 5 levels (deployments > entry > vpc > subnet_ids > item)
MAX_YAML_ALIASES = 200  # `<<: *defaults` once per deployment of a 100-deployment file, twice over
MAX_YAML_NODES = 20_000  # nodes after alias expansion; a 100-deployment file of 30 keys each has ~6,000
MAX_JSON_DEPTH = 32  # HF configs nest 3-4 levels (quantization_config.config_groups.group_0.weights)
MAX_PROBLEM_CHARS = 200  # a parser's own message is clipped to this (it may quote the input)
KERNEL_TREES = ("/proc", "/sys", "/dev")  # never a deployments file or a config.json

# C0 controls but tab/LF/CR, DEL, C1 controls but NEL, and the non-characters YAML's printable set excludes.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x80-\x84\x86-\x9f\ufffe\uffff]")
_BOMS = {b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe\x00\x00": "UTF-32", b"\xfe\xff": "UTF-16", b"\xff\xfe": "UTF-16"}
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def clip(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """A parser message, on one line and short (PyYAML and json quote the offending input)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def _fail(field_name: str, path: str, problem: str, hint: str = "", line: int | None = None,
          column: int | None = None) -> SelectorError:
    return SelectorError(field_name, NO_VALUE, problem, hint, file=excerpt_path(path), line=line, column=column)


def excerpt_path(path: str) -> str:
    """The file name as error lines show it: as given, escaped when it holds control characters, clipped."""
    shown = path if path.isprintable() else excerpt(path)[1:-1]
    return shown if len(shown) <= 200 else shown[:200] + "..."


# --- reading -----------------------------------------------------------------------------------------------------
def read_regular_file(path: Any, field_name: str, limit: int, hint: str = "") -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or one SelectorError saying why not."""
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise SelectorError(field_name, path, f"must be a path to a file, not {type(path).__name__}", hint)
    path = os.fspath(path)
    if not isinstance(path, str):
        raise SelectorError(field_name, path, "must be a text path", hint)
    if "\0" in path:
        raise SelectorError(field_name, path, "contains a NUL character, so it cannot be a path", hint)
    if not path or len(path) > MAX_PATH_CHARS:
        raise SelectorError(field_name, path, f"is not a usable path (empty or over {MAX_PATH_CHARS} characters)", hint)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO with no writer returns at once instead of hanging
    except FileNotFoundError:
        raise _fail(field_name, path, "no such file", hint) from None
    except OSError as exc:
        reason = {errno.ENXIO: "a socket or device that cannot be opened", errno.ELOOP: "a symbolic link loop",
                  errno.EACCES: "permission denied"}.get(exc.errno or 0, clip(exc.strerror or exc.__class__.__name__))
        raise _fail(field_name, path, f"cannot be opened ({reason})", hint) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a regular file")
            raise _fail(field_name, path, f"is {kind}, not a regular file", hint)
        real = os.path.realpath(path)
        if any(real == root or real.startswith(root + "/") for root in KERNEL_TREES):
            # procfs/sysfs files pass as "regular" with st_size 0, and hold the host's state (environ, maps)
            raise _fail(field_name, path, f"resolves to {excerpt(real, 60)}, a kernel file, not a file of the "
                                          "repository", hint)
        if info.st_size > limit:
            raise _fail(field_name, path, f"is {info.st_size:,} bytes, more than the {limit:,} allowed", hint)
        chunks, total = [], 0
        while True:  # bounded even if the file grows while it is read
            chunk = os.read(fd, min(1 << 16, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise _fail(field_name, path, f"grew past the {limit:,} bytes allowed while it was read", hint)
        return b"".join(chunks)
    except OSError as exc:
        raise _fail(field_name, path, f"cannot be read ({clip(exc.strerror or exc.__class__.__name__)})", hint) from None
    finally:
        os.close(fd)


def decode_text(data: bytes, path: str, field_name: str, what: str) -> str:
    """UTF-8 text (a leading UTF-8 byte order mark is dropped) without control characters."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise _fail(field_name, path, f"is {name} encoded", f"Save the {what} as UTF-8", line=1, column=1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(field_name, path, f"is not UTF-8 text (byte {data[exc.start:exc.start + 1]!r} at offset {exc.start})",
                    f"Save the {what} as UTF-8", line=line, column=column) from None
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise _fail(field_name, path, f"contains the control character {bad.group()!r}",
                    f"A {what} is plain text: remove it (write \\n or \\t escapes inside double quotes)",
                    line=line, column=column)
    return text


# --- YAML ----------------------------------------------------------------------------------------------------------
class _Limit(Exception):
    """A composer limit was hit (converted to a SelectorError with the mark)."""

    def __init__(self, problem: str, mark: Any, hint: str = "") -> None:
        super().__init__(problem)
        self.problem, self.mark, self.hint = problem, mark, hint


YAML_INT = "tag:yaml.org,2002:int"
YAML_FLOAT = "tag:yaml.org,2002:float"
# YAML 1.1 (PyYAML's default) reads 1:00 as 60 (sexagesimal), 017 as 15 (octal) and 0b11 as 3: a deployments file
# would silently mean another number than the one a reviewer reads. Integers are decimal (or 0x hex) here, and a
# float has a dot or is .inf/.nan; anything else stays text, which the typed fields then refuse with a line.
DECIMAL_INT = re.compile(r"^(?:[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
PLAIN_FLOAT = re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                         r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class BoundedLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader with limits on aliases, depth and expanded size, duplicate and non-text keys collected
    as problems, and scalar conversions (2001-02-30, !!int abc, 5000 digits) failing with a line instead of the
    ValueError/AttributeError PyYAML's constructors raise."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.aliases = 0
        self.nodes = 0
        self.weights: dict[int, int] = {}  # id(node) -> nodes of its subtree with every alias expanded
        self.key_problems: list[tuple[str, Any, str, Any]] = []  # (problem, value, hint, mark)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            self.aliases += 1
            if self.aliases > MAX_YAML_ALIASES:
                raise _Limit(f"uses more than {MAX_YAML_ALIASES} aliases (*name)", mark,
                             "Write the values out, or use fewer anchors")
            node = super().compose_node(parent, index)
            assert node is not None  # PyYAML returns the anchored node (its stub says Node | None)
            if id(node) not in self.weights:
                raise _Limit("has an alias that refers to a collection containing it (a recursive alias)", mark)
            return node
        self.depth += 1
        if self.depth > MAX_YAML_DEPTH:
            raise _Limit(f"is nested more than {MAX_YAML_DEPTH} levels deep", self.peek_event().start_mark,
                         "A deployments file nests about 5 levels")
        self.nodes += 1
        if self.nodes > MAX_YAML_NODES:
            raise _Limit(f"has more than {MAX_YAML_NODES:,} values", self.peek_event().start_mark)
        node = super().compose_node(parent, index)
        assert node is not None  # PyYAML builds a node for every event it accepts (its stub says Node | None)
        self.depth -= 1
        weight = 1
        if isinstance(node, SequenceNode):
            weight += sum(self.weights[id(child)] for child in node.value)
        elif isinstance(node, MappingNode):
            weight += sum(self.weights[id(k)] + self.weights[id(v)] for k, v in node.value)
            self._check_keys(node)
        if weight > MAX_YAML_NODES:
            raise _Limit(f"expands (through aliases) to more than {MAX_YAML_NODES:,} values", node.start_mark,
                         "Write the values out instead of nesting aliases")
        self.weights[id(node)] = weight
        return node

    def _check_keys(self, node: MappingNode) -> None:
        seen: dict[str, Any] = {}
        for key, item in node.value:
            if isinstance(key, ScalarNode) and key.tag == _MERGE_TAG:
                continue
            if not isinstance(key, ScalarNode):
                self.key_problems.append(("a key must be text, not a list or mapping", "{...}",
                                          "Write the key as a plain word", key.start_mark))
                continue
            if key.tag != _STR_TAG:
                kind = key.tag.rsplit(":", 1)[-1]
                kind = {"int": "number", "float": "number", "bool": "true/false", "null": "null",
                        "timestamp": "date"}.get(kind, kind)
                self.key_problems.append((f"this key is read as a {kind}, not text", _scalar_key(key),
                                          "Quote it if it is meant as text (keys must be text)", key.start_mark))
                continue
            if key.value in seen:
                first = seen[key.value]
                self.key_problems.append((
                    f"key {excerpt(key.value)} appears twice in one mapping (lines {first.line + 1} and "
                    f"{key.start_mark.line + 1}); YAML keeps only the last one", _scalar_value(item),
                    "Remove or merge one of them", key.start_mark))
            else:
                seen[key.value] = key.start_mark

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError, AttributeError) as exc:
            tag = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node.value, str) else "..."
            raise yaml.constructor.ConstructorError(
                None, None, f"{excerpt(value)} is not a valid {clip(tag, 40)}: {clip(str(exc).split(';')[0], 80)}; "
                            "quote it if it is meant as text", node.start_mark) from None


@dataclass
class Marks:
    """Key path -> (line, column), both 1-based, for every mapping key and list item of a composed document."""

    file: str
    at: dict[tuple, tuple[int, int]] = field(default_factory=dict)
    by_mark: dict[tuple[int, int], tuple] = field(default_factory=dict)  # every key and item, duplicates too

    @classmethod
    def index(cls, file: str, root: Node | None) -> Marks:
        marks = cls(file)
        if root is None:
            return marks
        marks.at[()] = (root.start_mark.line + 1, root.start_mark.column + 1)
        stack: list[tuple[tuple, Node]] = [((), root)]
        while stack:
            path, node = stack.pop()
            if isinstance(node, MappingNode):
                own = len([k for k, _ in node.value if not (isinstance(k, ScalarNode) and k.tag == _MERGE_TAG)])
                for n, (key, value) in enumerate(_merged_pairs(node)):
                    if isinstance(key, ScalarNode):
                        mark = (key.start_mark.line + 1, key.start_mark.column + 1)
                        typed = key.value if key.tag == _STR_TAG else _scalar_key(key)
                        child = (*path, typed)
                        if n < own or child not in marks.at:  # a repeated own key wins (as PyYAML's last one)
                            marks.at[child] = mark
                        if not isinstance(typed, str):  # pydantic names a non-text key by its repr()
                            marks.at.setdefault((*path, repr(typed)), mark)
                        marks.by_mark.setdefault(mark, child)
                        stack.append((child, value))
            elif isinstance(node, SequenceNode):
                for i, item in enumerate(node.value):
                    child = (*path, i)
                    mark = (item.start_mark.line + 1, item.start_mark.column + 1)
                    marks.at.setdefault(child, mark)
                    marks.by_mark.setdefault(mark, child)
                    stack.append((child, item))
        return marks

    def find(self, path: tuple) -> tuple[tuple, tuple[int, int] | None]:
        """The longest known prefix of `path` and its mark. A deployment key inherited from `defaults:` is found
        there (the merged entry never had it)."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            if prefix in self.at:
                if len(path) > 2 and path[0] == "deployments" and end <= 2:
                    inherited = ("defaults", *path[2:])
                    for stop in range(len(inherited), 1, -1):
                        if inherited[:stop] in self.at:
                            return inherited[:stop], self.at[inherited[:stop]]
                return prefix, self.at[prefix]
        return (), None


def _scalar_value(node: Node) -> str:
    """The repeated key's value as written, for the message (a nested value as {...} / [...])."""
    if isinstance(node, ScalarNode):
        return str(node.value)
    return "[...]" if isinstance(node, yaml.SequenceNode) else "{...}"


def _scalar_key(node: ScalarNode) -> Any:
    """A non-text key as the constructor will type it (so pydantic's loc finds it)."""
    try:
        return yaml.SafeLoader("").construct_object(node)
    except Exception:  # noqa: BLE001 - a mark lookup must never fail
        return node.value


def _merged_pairs(node: MappingNode) -> list[tuple[Node, Node]]:
    """The mapping's own pairs first (they win), then those brought in by `<<:` merge keys."""
    own = [(k, v) for k, v in node.value if not (isinstance(k, ScalarNode) and k.tag == _MERGE_TAG)]
    merged: list[tuple[Node, Node]] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and key.tag == _MERGE_TAG:
            sources = value.value if isinstance(value, SequenceNode) else [value]
            for source in sources:
                if isinstance(source, MappingNode):
                    merged.extend(source.value)
    return own + merged


@dataclass
class YamlDocument:
    """A parsed deployments file: the data, its node marks, and the key problems found while composing."""

    data: Any
    marks: Marks
    problems: list[Problem]
    root: Node | None


def parse_yaml(text: str, file: str, field_name: str = "deployments file") -> YamlDocument:
    """Compose (bounded), index marks, construct. Fatal problems raise; key problems are returned."""
    loader = BoundedLoader(text)
    shown = excerpt_path(file)
    try:
        try:
            root = loader.get_single_node()
            problems = [Problem(field_name, value, problem, hint, shown, mark.line + 1, mark.column + 1)
                        for problem, value, hint, mark in loader.key_problems]
            marks = Marks.index(shown, root)
            complex_keys = [p for p in problems if p.problem.startswith("a key must be text")]
            if complex_keys:  # PyYAML cannot even build such a mapping
                raise SelectorError.of(complex_keys)
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except _Limit as limit:
        raise SelectorError(field_name, NO_VALUE, limit.problem, limit.hint, file=shown,
                            line=limit.mark.line + 1, column=limit.mark.column + 1) from None
    except RecursionError:
        raise SelectorError(field_name, NO_VALUE, "is nested too deeply to be a deployments file", file=shown) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        text_ = f"is not valid YAML ({clip(problem)}" + (f", {clip(context, 80)}" if context else "") + ")"
        raise SelectorError(field_name, NO_VALUE, text_, "Check the indentation and quoting near that line",
                            file=shown, line=mark.line + 1 if mark else None,
                            column=mark.column + 1 if mark else None) from None
    return YamlDocument(data, marks, problems, root)


def read_yaml(path: Any, field_name: str = "deployments file", hint: str = "") -> tuple[str, YamlDocument]:
    """Read and parse a deployments file through every limit above; returns (text, document)."""
    data = read_regular_file(path, field_name, MAX_DEPLOYMENTS_BYTES, hint)
    path = os.fspath(path)
    text = decode_text(data, path, field_name, "deployments file")
    return text, parse_yaml(text, path, field_name)


# --- JSON ----------------------------------------------------------------------------------------------------------
class _JsonProblem(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _JsonProblem(f"key {excerpt(key)} appears twice in one object (JSON readers keep either one)")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise _JsonProblem(f"{name} is not JSON (a config.json holds finite numbers)")


def _depth(value: Any) -> int:
    """Nesting depth, iteratively (the document may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def read_json_object(path: Any, field_name: str, hint: str = "Point it at the config.json saved with the model") -> dict:
    """A JSON object from a regular file of at most MAX_CONFIG_BYTES, nested at most MAX_JSON_DEPTH levels, with
    no duplicate keys and no NaN/Infinity."""
    data = read_regular_file(path, field_name, MAX_CONFIG_BYTES, hint)
    path = os.fspath(path)
    text = decode_text(data, path, field_name, "config.json")
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_constant)
    except RecursionError:
        raise _fail(field_name, path, "cannot be read as JSON (it is nested too deeply)", hint) from None
    except _JsonProblem as exc:
        raise _fail(field_name, path, f"cannot be read as JSON ({exc})", hint) from None
    except json.JSONDecodeError as exc:
        raise _fail(field_name, path, f"cannot be read as JSON ({clip(exc.msg)})", hint,
                    line=exc.lineno, column=exc.colno) from None
    except ValueError as exc:  # a number of more than 4300 digits
        raise _fail(field_name, path, f"cannot be read as JSON ({clip(str(exc).split(';')[0])})", hint) from None
    if not isinstance(value, dict):
        raise _fail(field_name, path, "is not a JSON object like a Hugging Face config.json", hint)
    if _depth(value) > MAX_JSON_DEPTH:
        raise _fail(field_name, path, f"cannot be read as JSON (nested more than {MAX_JSON_DEPTH} levels)", hint)
    return value


def _decimal_resolvers() -> dict[Any, list[tuple[str, Any]]]:
    """SafeLoader's implicit resolvers with YAML 1.1's int and float patterns replaced (see DECIMAL_INT)."""
    resolvers = {first: [(tag, regexp) for tag, regexp in pairs if tag not in (YAML_INT, YAML_FLOAT)]
                 for first, pairs in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    for first in "-+0123456789":
        resolvers.setdefault(first, []).append((YAML_INT, DECIMAL_INT))
    for first in "-+0123456789.":
        resolvers.setdefault(first, []).append((YAML_FLOAT, PLAIN_FLOAT))
    return resolvers


BoundedLoader.yaml_implicit_resolvers = _decimal_resolvers()

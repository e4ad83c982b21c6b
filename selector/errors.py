"""The one error type the selector lets escape, and the problems it carries.

Users meet it as a single paragraph on stderr (exit code 2): where in which file, which field, which value,
what is wrong and what would work. `validate` prints every problem of a file, one line each. Anything else
escaping is a bug, which is why callers catch only this type.

Values come from untrusted files, so they are only ever shown through `excerpt`: short, truncated and escaped
(a 500 MB alias expansion or a terminal escape sequence in a value must not reach a terminal or a log).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXCERPT_CHARS = 60  # characters of a value an error message shows at most
EXCERPT_ITEMS = 4  # items of a list an error message shows at most
NO_VALUE = type("NoValue", (), {"__repr__": lambda self: "NO_VALUE"})()  # the location already names what is wrong


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    """A short, escaped rendering of any value: repr() for text (so control characters show as \\x..), truncated
    with the full length named, and containers summarized without converting their contents to text whole."""
    if isinstance(value, str):
        if len(value) > limit:
            return repr(value[:limit]) + f"... ({len(value)} characters)"
        return repr(value)
    if isinstance(value, (list, tuple)):
        shown = ", ".join(_short(v, limit // 2) for v in value[:EXCERPT_ITEMS])
        more = f", ... ({len(value)} items)" if len(value) > EXCERPT_ITEMS else ""
        if len(shown) > 3 * limit:  # nested lists: each level's "(N items)" notes add up; cut the whole
            shown, more = shown[:3 * limit], f"... ({len(value)} items)"
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "{...}" if value else "{}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"a {value.bit_length():,}-bit number"  # repr() of a huge int costs quadratic time, or raises
    if isinstance(value, (bool, int, float)) or value is None:
        text = repr(value)
        return text if len(text) <= limit else text[:limit] + f"... ({len(text)} digits)"
    text = value.isoformat() if hasattr(value, "isoformat") else repr(value)  # YAML dates as written
    return text[:limit] + ("..." if len(text) > limit else "")


def _short(value: object, limit: int) -> str:
    """A list item: bare words for short identifiers (as a user typed them), excerpt otherwise."""
    if isinstance(value, str) and value.isprintable() and len(value) <= limit and "," not in value:
        return value
    return excerpt(value, limit)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located in the file when the input came from one."""

    field: str
    value: Any
    problem: str
    hint: str = ""
    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return ":".join([self.file] + [str(n) for n in (self.line, self.column) if n is not None])

    def sentence(self, hint_separator: str = ". ") -> str:
        """`field = value: problem. hint.` on one line (whitespace runs, line breaks included, collapsed)."""
        shown = "" if self.value is NO_VALUE else f" = {excerpt(self.value)}"
        text = f"{self.field}{shown}: {self.problem.rstrip('.')}"
        if self.hint:
            hint = self.hint.rstrip(". ")
            text += hint_separator + hint + ("" if hint.endswith(("?", "!")) else ".")
        else:
            text += "."
        return " ".join(text.split())

    def line_text(self) -> str:
        """The `validate` line: `FILE:LINE:COL: field = value: problem; what would work`."""
        text = self.sentence("; ")
        return f"{self.where}: {text}" if self.where else text

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "column": self.column, "field": self.field,
                "value": None if self.value is NO_VALUE else excerpt(self.value), "problem": self.problem, "hint": self.hint}


MAX_LISTED = 3  # further problems named (field and line) in the one-paragraph form


class SelectorError(Exception):
    """A request the selector cannot turn into a plan, explained for a person.

    `problems` holds every problem found (validate prints them all); `paragraph()` is the one-paragraph form
    for `cdk synth` and single requests: the first problem, then the next few named by field and line."""

    def __init__(self, field: str, value: object, problem: str, hint: str = "", *,
                 file: str | None = None, line: int | None = None, column: int | None = None,
                 problems: list[Problem] | None = None) -> None:
        first = Problem(field, value, problem, hint, file, line, column)
        self.problems: list[Problem] = list(problems) if problems else [first]
        head = self.problems[0]
        self.field, self.value, self.problem, self.hint = head.field, head.value, head.problem, head.hint
        super().__init__(self.paragraph())

    @classmethod
    def of(cls, problems: list[Problem]) -> SelectorError:
        head = problems[0]
        return cls(head.field, head.value, head.problem, head.hint, problems=problems)

    @property
    def where(self) -> str:
        return self.problems[0].where

    def paragraph(self) -> str:
        head = self.problems[0]
        text = (f"{head.where}: " if head.where else "") + head.sentence()
        rest = self.problems[1:]
        if rest:
            named = "; ".join(f"{p.field}" + (f" (line {p.line})" if p.line else "") for p in rest[:MAX_LISTED])
            more = f" and {len(rest) - MAX_LISTED} more" if len(rest) > MAX_LISTED else ""
            text += f" Also wrong: {named}{more} (python -m selector validate lists them all)."
        return " ".join(text.split())


def value_text(value: object) -> str:
    """Render a value the way a user typed it (strings quoted, lists comma-joined), short and escaped."""
    return excerpt(value)


def one_of(options: list[str] | tuple[str, ...], limit: int = 12) -> str:
    """Human list of the values that would work, shortened when long."""
    opts = list(options)
    if len(opts) > limit:
        return ", ".join(opts[:limit]) + f" (and {len(opts) - limit} more)"
    return ", ".join(opts)

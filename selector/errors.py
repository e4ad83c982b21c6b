"""The one error type the selector lets escape.

Users meet it as a single paragraph on stderr (exit code 2): which field, which value, what is wrong and
what would work. Anything else escaping is a bug, which is why callers catch only this type.
"""
from __future__ import annotations


class SelectorError(Exception):
    """A request the selector cannot turn into a plan, explained for a person."""

    def __init__(self, field: str, value: object, problem: str, hint: str = "") -> None:
        self.field = field
        self.value = value
        self.problem = problem
        self.hint = hint
        super().__init__(self.paragraph())

    def paragraph(self) -> str:
        shown = value_text(self.value)
        text = f"{self.field} = {shown}: {self.problem.rstrip('.')}."
        if self.hint:
            hint = self.hint.rstrip(". ")
            text += f" {hint}" + ("" if hint.endswith(("?", "!")) else ".")
        return " ".join(text.split())


def value_text(value: object) -> str:
    """Render a value the way a user typed it (strings quoted, lists comma-joined)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def one_of(options: "list[str] | tuple[str, ...]", limit: int = 12) -> str:
    """Human list of the values that would work, shortened when long."""
    opts = list(options)
    if len(opts) > limit:
        return ", ".join(opts[:limit]) + f" (and {len(opts) - limit} more)"
    return ", ".join(opts)

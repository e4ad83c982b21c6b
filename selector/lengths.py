"""Sequence limits: what the user asked for, or defaults that a reviewer can see were defaults."""
from __future__ import annotations

from dataclasses import dataclass

from selector.catalog import Catalog
from selector.errors import SelectorError
from selector.model_shape import ModelShape
from selector.request import Request


@dataclass(frozen=True)
class Lengths:
    max_input_tokens: int
    max_output_tokens: int
    max_model_len: int
    defaulted: bool  # True: nobody asked for these numbers, so they may shrink to fit
    shrunk_from: int | None = None

    def halved(self, floor: int) -> Lengths | None:
        """The next smaller default, or None when it would fall below the floor."""
        new_len = self.max_model_len // 2
        if not self.defaulted or new_len < floor:
            return None
        output = min(self.max_output_tokens, new_len // 2)
        return Lengths(new_len - output, output, new_len, True, self.shrunk_from or self.max_model_len)


def decide_lengths(request: Request, shape: ModelShape, catalog: Catalog) -> Lengths:
    """Defaults stay within the model's max positions; asked-for lengths may reach its serving limit, which for
    relative-position models (T5) lies beyond n_positions (model_types.json relative_position_context_limit)."""
    runtime = catalog.runtime
    trained = shape.max_positions
    limit = shape.max_context
    given_in, given_out = request.max_input_tokens, request.max_output_tokens
    if given_in is None and given_out is None:
        total = min(trained, runtime["default_max_model_len"])
        output = min(runtime["default_max_output_tokens"], total // 2)
        return Lengths(total - output, output, total, True)
    output = given_out if given_out is not None else min(runtime["default_max_output_tokens"], trained // 2)
    inputs = given_in if given_in is not None else min(trained, runtime["default_max_model_len"]) - output
    total = inputs + output
    if total > limit:
        if given_in is not None and given_out is not None:
            field, value = "max_input_tokens + max_output_tokens", total
        else:
            field, value = ("max_input_tokens", given_in) if given_in is not None else ("max_output_tokens", given_out)
        raise SelectorError(
            field, value,
            f"{shape.model_id} supports at most {limit} tokens of context ("
            f"{'max positions in its config' if limit == trained else 'the longest context it is served at'}), and "
            f"input + output here come to {total}",
            f"Keep input + output at or below {limit}",
        )
    if inputs < 1:
        raise SelectorError(
            "max_output_tokens", output,
            f"leaves no room for input within the default context of {inputs + output} tokens",
            "Set max_input_tokens too",
        )
    return Lengths(inputs, output, total, False)

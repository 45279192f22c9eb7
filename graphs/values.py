"""Values a file or the clipboard may carry: plain JSON data the document can hold, use and save.

JSON can express numbers that no graph can use (``1e400`` parses as infinity, ``10**400`` as an
integer no tensor size can be) and nesting that Python can read but not write back. They are
refused where they enter, naming the place, so that whatever loads can also be saved.
"""

from __future__ import annotations

import math
from typing import Any

MAX_DEPTH = 32                 # a graph file nests 5 deep; parameters a few more
MAX_INTEGER = 2**63 - 1        # what torch and numpy can hold; larger numbers are no sizes


def value_problem(data: Any) -> tuple[str, str] | None:
    """(place, problem) for the first value that a graph could load but never save or use:
    a non-finite number, an integer beyond 64 bits, nesting deeper than MAX_DEPTH; else None.
    Iterative, so that deep nesting is reported, not a RecursionError."""
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            return (where[:60] + "..." if len(where) > 60 else where), f"is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, bool) or value is None or isinstance(value, str):
            continue
        if isinstance(value, int):
            if abs(value) > MAX_INTEGER:
                return where, f"the number {_short(value)} is too large (at most {MAX_INTEGER})"
        elif isinstance(value, float):
            if not math.isfinite(value):
                return where, f"{value} is not a number a graph can hold (too large, or not finite)"
        elif isinstance(value, dict):
            stack.extend((v, f"{where}.{k}" if where else str(k), depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
    return None


MAX_LR_FACTOR = 100.0          # a node's learning rate is the run's times at most this


def lr_factor_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a node's learning-rate factor (0 freezes it), or None if it can."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return f"a learning-rate factor must be a number, not {value!r}"
    if not 0 <= value <= MAX_LR_FACTOR:
        return f"a learning-rate factor must be between 0 (frozen) and {MAX_LR_FACTOR:g}, not {value:g}"
    return None


def first_clause(err: Exception) -> str:
    return str(err).split(":")[0].split(";")[0].strip() or type(err).__name__


def _short(value: int) -> str:
    digits = str(abs(value)) if value.bit_length() < 4000 else ""
    if not digits or len(digits) > 24:
        return f"{'-' if value < 0 else ''}10^{int(value.bit_length() * 0.30103)} or so"
    return str(value)

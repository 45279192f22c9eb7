"""The words a person reads: an exception from torch or a library as one line, a size in bytes."""

from __future__ import annotations

from graphs.reading import human_bytes

__all__ = ["first_line", "human_bytes"]


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message (torch's are often paragraphs), or its
    type's name when it has no message."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__

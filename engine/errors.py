"""Turning an exception from torch or a library into the one line a person reads."""

from __future__ import annotations


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message (torch's are often paragraphs), or its
    type's name when it has no message."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__

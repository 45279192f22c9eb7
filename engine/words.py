"""The words a person reads: an exception from torch or a library as one line, a size in bytes."""

from __future__ import annotations


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message (torch's are often paragraphs), or its
    type's name when it has no message."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KB': sizes as people read them."""
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"

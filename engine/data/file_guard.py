"""Reading a file that a graph's training section names: only regular files, and only so much.

A path in a file is input like any other: it may name a device (``/dev/zero`` never ends), a
pipe, a folder, or a huge file. These are refused before reading, or stopped at the limit, with
a message naming the file. Messages never quote a file's contents, which may not be data at all
(``/etc/passwd``).
"""

from __future__ import annotations

import stat
from pathlib import Path

from ..words import human_bytes
from .base import DataError

MAX_TEXT_BYTES = 64 * 1024 * 1024       # a text corpus or a CSV table to hold in memory
_CHUNK = 1 << 20


def read_limited(path: Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default MAX_TEXT_BYTES); DataError
    naming it otherwise."""
    limit = MAX_TEXT_BYTES if limit is None else limit
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataError(f"{what} {path} does not exist") from None
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, a pipe or a socket)"
        raise DataError(f"{path}: is {kind}; name a {what}")
    if info.st_size > limit:
        raise DataError(f"{path}: is {human_bytes(info.st_size)}; a {what} is read up to {human_bytes(limit)}")
    chunks, total = [], 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):     # bounded even if the file grows while it is read
                total += len(chunk)
                if total > limit:
                    raise DataError(f"{path}: is larger than {human_bytes(limit)}; a {what} is read up to that")
                chunks.append(chunk)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err})") from None
    return b"".join(chunks)

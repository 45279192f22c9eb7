"""Reading a file that a person or another file names: only a regular file, looked at before it
is read, and only so many bytes of it.

A path is input like any other: it may name a folder, a device (``/dev/zero`` never ends), a
named pipe (opening one to read waits for a writer, for ever), or a huge or sparse file. The
path is ``stat``-ed first, so nothing but a regular file is ever opened; it is then opened
without blocking and ``fstat``-ed again (it may have been swapped meanwhile); its size is
compared with the limit before a byte is read, and reading stops at the limit even if the file
grows. Every refusal is a ``ReadError`` whose ``problem`` completes a sentence that starts with
the file's name; callers word it for their kind of file.

Plain Python: the graph, experiment, runs and recovery files use it here, and the engine's
checkpoints and data files through it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

_CHUNK = 1 << 20
# Not blocking: should a pipe take the place of the file between the stat and the open, the
# open returns at once instead of waiting for a writer (and fstat then refuses it).
_FLAGS = (os.O_RDONLY | (os.O_NONBLOCK if hasattr(os, "O_NONBLOCK") else 0)
          | (os.O_CLOEXEC if hasattr(os, "O_CLOEXEC") else 0) | (os.O_BINARY if hasattr(os, "O_BINARY") else 0))


class ReadError(Exception):
    """A file that is not read; ``problem`` says why ("is a folder", "is 3.0 GB; ...")."""

    def __init__(self, problem: str, missing: bool = False) -> None:
        super().__init__(problem)
        self.problem, self.missing = problem, missing


def human_bytes(count: int) -> str:
    """1536 -> '1.5 KB': sizes as people read them."""
    size = float(count)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} TB"


def _kind(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    return "is not a regular file (a device, a pipe or a socket)"


def open_regular(path: str | os.PathLike) -> BinaryIO:
    """The open file (binary) if ``path`` names a regular file; ReadError otherwise. Symbolic
    links are followed to what they name, which must itself be a regular file."""
    try:
        before = os.stat(path)
    except FileNotFoundError:
        raise ReadError("no such file", missing=True) from None
    except OSError as err:
        raise ReadError(f"cannot be read ({err.strerror or err})") from None
    except ValueError:                     # a NUL byte, or text no file name can hold
        raise ReadError("is not a name a file can have") from None
    problem = _kind(before.st_mode)
    if problem:
        raise ReadError(problem)
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise ReadError("no such file", missing=True) from None
    except OSError as err:
        raise ReadError(f"cannot be read ({err.strerror or err})") from None
    try:
        now = os.fstat(fd)
        problem = _kind(now.st_mode) or (None if (now.st_dev, now.st_ino) == (before.st_dev, before.st_ino)
                                         else "was replaced while it was opened")
        if problem:
            raise ReadError(problem)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)      # a regular file never blocks; reads behave as usual
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_size(file: BinaryIO) -> int:
    return os.fstat(file.fileno()).st_size


def too_large(size: int, limit: int, what: str) -> ReadError:
    return ReadError(f"is {human_bytes(size)}; a {what} is read up to {human_bytes(limit)}")


def read_all(file: BinaryIO, limit: int, what: str) -> bytes:
    """The rest of an open file, ReadError past ``limit`` bytes (checked before reading, and
    again while reading: a file may grow, and a sparse one may say less than it holds)."""
    size = file_size(file)
    if size > limit:
        raise too_large(size, limit, what)
    chunks, total = [], 0
    try:
        while chunk := file.read(min(_CHUNK, limit + 1 - total)):
            total += len(chunk)
            if total > limit:
                raise ReadError(f"is larger than {human_bytes(limit)}; a {what} is read up to that")
            chunks.append(chunk)
    except OSError as err:
        raise ReadError(f"cannot be read ({err.strerror or err})") from None
    return b"".join(chunks)


def read_regular(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ReadError otherwise. ``what``
    names the kind of file in the message ("a graph file is read up to 64.0 MB")."""
    with open_regular(Path(path)) as file:
        return read_all(file, limit, what)

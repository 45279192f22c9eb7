"""Reading a file that a graph's training section names: only regular files, and only so much.

A path in a file is input like any other: it may name a device (``/dev/zero`` never ends), a
pipe, a folder, or a huge file. The one reader (``graphs.reading``) refuses these before reading
or stops at the limit; here its refusals become a ``DataError`` naming the file. A limit on
bytes does not bound memory by itself (a 60 MB table of 15 million rows, a 1.5 MB gzip that
inflates to gigabytes, a folder of large images), so the data readers also count what they
decode against the budgets below. Messages never quote a file's contents, which may not be
data at all (``/etc/passwd``).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from graphs.reading import ReadError, open_regular, read_all

from .base import DataError

MAX_TEXT_BYTES = 64 * 1024 * 1024       # a text corpus or a CSV table to hold in memory
MAX_TABLE_ROWS = 2_000_000              # rows of a CSV table
MAX_TABLE_VALUES = 20_000_000           # cells of a CSV table (rows x columns)
MAX_TEXT_PAIRS = 20_000_000             # samples made of a text (skip-gram pairs)
MAX_ARCHIVE_BYTES = 512 * 1024 * 1024   # a data set's file as published (CIFAR's batches, MNIST's IDX)
MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024   # what one gzip file of a data set may inflate to
MAX_IMAGE_VALUES = 512 * 1024 * 1024    # pixel values of an image folder once decoded (2 GB as float32)


def _refused(path: Path, what: str, err: ReadError) -> DataError:
    if err.missing:
        return DataError(f"{what} {path} does not exist")
    return DataError(f"{path}: {err.problem}")


def open_data_file(path: Path, what: str) -> BinaryIO:
    """A regular file, opened; DataError naming it otherwise (never waits on a pipe)."""
    try:
        return open_regular(path)
    except ReadError as err:
        raise _refused(path, what, err) from None


def read_limited(path: Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default MAX_TEXT_BYTES); DataError
    naming it otherwise."""
    limit = MAX_TEXT_BYTES if limit is None else limit
    try:
        with open_regular(path) as file:
            return read_all(file, limit, what)
    except ReadError as err:
        raise _refused(path, what, err) from None

"""Writing a file so that it holds either its old content or the complete new one, never a mix.

The data goes to a temporary file in the target's folder, which is flushed, fsynced and then
moved over the target with ``os.replace`` (atomic on POSIX and Windows); the folder is fsynced
so that the rename survives a power cut. The temporary file's name carries the writer's process
id, so that the leftovers of a writer that was killed can be told from a save in progress and
removed at the next save or open of the same target.

A link is written through to the file it names (the link stays a link); a target that is one
of the writing command's inputs is refused, whatever name leads to it; a target the person did
not name (the weights beside an export) can be written only where no file is.

Plain Python: the graph file, run histories, recovery files, checkpoints, weights and every
export write through here, and errors are ``OSError``s that each caller words for its own file.
"""

from __future__ import annotations

import errno
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".tmp"
# Where a process id cannot be probed safely (Windows: os.kill would end the process), a
# temporary file this old is taken to be a leftover.
_STALE_AGE_S = 24 * 3600


class SameAsInput(OSError):
    """The file to write is one that the same command reads (the same file, by any name)."""


def write_atomically(target: str | os.PathLike, data: bytes, mode: int = 0o644, *,
                     inputs: Iterable[str | os.PathLike] = (), replace: bool = True) -> None:
    """Replace ``target`` with ``data`` in one step; OSError if it cannot be done (the target
    is then untouched, and no temporary file is left behind).

    A symbolic link is written through: the file it names gets the data and the link stays.
    ``inputs`` are the files the writing command reads: a target that is one of them (the same
    file, whatever the name) is refused with ``SameAsInput``. With ``replace=False`` an existing
    target is refused with ``FileExistsError`` (for a file the person did not name, such as the
    weights written beside an export), atomically: it is linked into place, never moved over."""
    target = Path(os.path.realpath(target)) if os.path.islink(target) else Path(target)
    for source in inputs:
        if _same_file(target, Path(source)):
            raise SameAsInput(errno.EINVAL, "it is a file this command reads", str(target))
    if not replace and os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "it exists already", str(target))
    folder = target.parent if str(target.parent) else Path(".")
    remove_stale_temporaries(target)
    fd, temp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=folder)
    try:
        with _open_for_writing(fd) as f:
            view = memoryview(data)
            while view:                      # a short write (full disk) raises, never truncates silently
                written = f.write(view)
                view = view[written:]
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, target.stat().st_mode & 0o777 if target.exists() else mode)
        if replace:
            os.replace(temp, target)
        else:
            _link_new(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_folder(folder)


def _link_new(temp: str, target: Path) -> None:
    """Put the written file at ``target`` only if nothing is there (FileExistsError otherwise)."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:                          # a file system without hard links: look, then move
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "it exists already", str(target)) from None
        os.replace(temp, target)
        return
    os.unlink(temp)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """The two names lead to one existing file (links, '..' and hard links included)."""
    return _same_file(Path(a), Path(b))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def set_aside(path: str | os.PathLike) -> Path:
    """Move a file that cannot be read out of the way, as ``NAME.unreadable`` (``.unreadable.2``
    ... if that exists), so that it is neither read again nor ever overwritten; the new path.
    OSError if it cannot be moved."""
    path = Path(path)
    aside = path.with_name(path.name + ".unreadable")
    n = 2
    while os.path.lexists(aside):
        aside = path.with_name(f"{path.name}.unreadable.{n}")
        n += 1
    os.replace(path, aside)
    return aside


def _open_for_writing(fd: int):
    # One seam for the tests that simulate a full disk.
    return os.fdopen(fd, "wb")


_DISK_FULL = {errno.ENOSPC} | ({errno.EDQUOT} if hasattr(errno, "EDQUOT") else set())


def is_disk_full(err: OSError) -> bool:
    """No space left, or the person's disk quota is used up."""
    return err.errno in _DISK_FULL


def remove_stale_temporaries(target: str | os.PathLike) -> int:
    """Delete temporary files that interrupted saves of ``target`` left behind; how many."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    removed = 0
    try:
        candidates = list(folder.glob(f"{_glob_escape(_base_prefix(target))}*{TEMP_SUFFIX}"))
    except OSError:
        return 0
    for temp in candidates:
        if _is_stale(temp, target):
            try:
                temp.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def _base_prefix(target: Path) -> str:
    return f".{target.name}."


def _temp_prefix(target: Path) -> str:
    return f"{_base_prefix(target)}{os.getpid()}."


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def _is_stale(temp: Path, target: Path) -> bool:
    """A leftover of a writer that no longer runs (never a save in progress)."""
    middle = temp.name[len(_base_prefix(target)):-len(TEMP_SUFFIX)]
    pid_text = middle.split(".", 1)[0]
    if not pid_text.isdigit():
        return _older_than(temp, _STALE_AGE_S)      # the naming of earlier versions: no writer id
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    if sys.platform == "win32":
        return _older_than(temp, _STALE_AGE_S)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False                                 # alive, owned by someone else
    return False


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open folders; the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

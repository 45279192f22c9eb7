"""Autosave copies for crash recovery: one file per window, never shared.

Each window writes ``recovery/<id>.recovery.json`` (the graph's text, the file it came from and
when it was saved) and holds ``<id>.lock`` for as long as it lives. A copy whose lock no live
process holds was left by a window that crashed: the next start offers it. A window deletes
only its own copy: when it saves, and when it closes. Locks are Qt's ``QLockFile`` with stale
detection by process id, so a second NetLoom running beside never sees this one's copies.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile

from graphs import Graph, GraphFileError, dumps_graph, loads_graph
from graphs.atomic import set_aside
from graphs.fileformat import MAX_FILE_BYTES, escape_surrogates, write_atomically
from graphs.reading import ReadError, read_regular
from graphs.values import first_clause

from .user_folders import user_data_folder

FORMAT = "netloom.recovery"
SUFFIX = ".recovery.json"
LEGACY_NAME = "recovery.loom"   # the one shared copy of the first version
MAX_COPY_BYTES = 2 * MAX_FILE_BYTES   # a graph file's text, escaped once more inside the copy


def recovery_folder() -> Path:
    return user_data_folder() / "recovery"


def _lock(path: Path) -> QLockFile:
    lock = QLockFile(str(path))
    lock.setStaleLockTime(0)      # long-lived lock: stale only when its process is gone
    return lock


class RecoveryFile:
    """One window's autosave copy."""

    def __init__(self) -> None:
        self.id = uuid.uuid4().hex[:12]
        folder = recovery_folder()
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{self.id}{SUFFIX}"
        self._lock = _lock(folder / f"{self.id}.lock")
        self._lock.tryLock(0)

    def write(self, graph: Graph, source: Path | None) -> None:
        """GraphFileError if the copy cannot be written (the previous copy then stays)."""
        text = json.dumps({"format": FORMAT, "source": str(source or ""), "saved_at": time.time(),
                           "graph": dumps_graph(graph)}, ensure_ascii=False)
        # A file name that is not UTF-8 reaches Python as lone surrogates: kept escaped, as JSON can.
        write_atomically(self.path, escape_surrogates(text).encode("utf-8"))

    def discard(self) -> None:
        """The work is saved: the copy is no longer needed (the lock stays while the window lives)."""
        self.path.unlink(missing_ok=True)

    def close(self) -> None:
        self.discard()
        self._lock.unlock()


@dataclass
class Leftover:
    """A copy left by a window that did not close normally; its lock is ours until dealt with."""
    path: Path
    source: Path | None
    saved_at: float
    graph_text: str
    lock: QLockFile | None

    @property
    def name(self) -> str:
        return self.source.name if self.source else "an untitled graph"

    def graph(self) -> Graph:
        return loads_graph(self.graph_text, self.path)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        if self.lock is not None:
            self.lock.unlock()

    def release(self) -> None:
        """Leave it for the next start."""
        if self.lock is not None:
            self.lock.unlock()


def leftovers() -> tuple[list[Leftover], list[str]]:
    """Copies that no live window owns, oldest first, and a message for each that cannot be read:
    those are set aside as ``NAME.unreadable`` (never read again, never deleted), so that a
    damaged copy can neither stop the application nor be offered at every start."""
    folder = recovery_folder()
    found: list[Leftover] = []
    problems: list[str] = []
    if not folder.is_dir():
        return found, problems
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        lock = _lock(folder / f"{path.name.removesuffix(SUFFIX)}.lock")
        if not lock.tryLock(0):
            continue                       # a live window's copy
        try:
            found.append(_read(path, lock))
        except GraphFileError as err:
            problems.append(_set_aside(path, err))
            lock.unlock()
    legacy = user_data_folder() / LEGACY_NAME
    if os.path.lexists(legacy):
        try:
            text = read_regular(legacy, MAX_COPY_BYTES, "recovery copy").decode("utf-8")
            loads_graph(text, legacy)
            found.append(Leftover(legacy, None, legacy.stat().st_mtime, text, None))
        except (ReadError, UnicodeDecodeError, GraphFileError, OSError) as err:
            problems.append(_set_aside(legacy, err))
    found.sort(key=lambda leftover: leftover.saved_at)
    return found, problems


def _read(path: Path, lock: QLockFile) -> Leftover:
    """A copy, checked in full (its graph included) so that what is offered can be restored."""
    try:
        data = json.loads(read_regular(path, MAX_COPY_BYTES, "recovery copy").decode("utf-8"))
    except ReadError as err:
        raise GraphFileError(path, "", err.problem) from None
    except UnicodeDecodeError as err:
        raise GraphFileError(path, "", f"is not UTF-8 text (byte {err.start})") from None
    except (ValueError, RecursionError) as err:       # not JSON, nested too deeply, a number of 5,000 digits
        raise GraphFileError(path, "", f"is not a readable recovery copy ({first_clause(err)})") from None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("graph"), str)
            or not isinstance(data.get("source", ""), str)):
        raise GraphFileError(path, "", "is not a NetLoom recovery copy")
    saved_at = data.get("saved_at", 0)
    # A time a clock can show: 10^400, 1e300, NaN and text are no times (and would stop the dialog that shows it).
    if isinstance(saved_at, bool) or not isinstance(saved_at, (int, float)) or not 0 <= saved_at <= _latest_time():
        raise GraphFileError(path, "saved_at", f"{str(saved_at)[:30]} is not the time of a save")
    loads_graph(data["graph"], path)      # GraphFileError, naming the place, if the graph is damaged
    source = data.get("source") or None
    return Leftover(path, Path(source) if source else None, float(saved_at), data["graph"], lock)


def _latest_time() -> float:
    return time.time() + 366 * 24 * 3600      # a clock set a little wrong is no damage


def _set_aside(path: Path, error: Exception) -> str:
    """Move an unreadable copy aside; the message for the person."""
    problem = str(error) if isinstance(error, GraphFileError) else f"{path}: {getattr(error, 'problem', error)}"
    try:
        aside = set_aside(path)
    except OSError as err:
        return f"{problem}; it could not be moved aside ({err.strerror or err}) and is left where it is"
    return f"{problem}; it was kept as {aside}"

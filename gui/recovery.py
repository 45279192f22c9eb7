"""Autosave copies for crash recovery: one file per window, never shared.

Each window writes ``recovery/<id>.recovery.json`` (the graph's text, the file it came from and
when it was saved) and holds ``<id>.lock`` for as long as it lives. A copy whose lock no live
process holds was left by a window that crashed: the next start offers it. A window deletes
only its own copy: when it saves, and when it closes. Locks are Qt's ``QLockFile`` with stale
detection by process id, so a second NetLoom running beside never sees this one's copies.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLockFile

from graphs import Graph, GraphFileError, dumps_graph, loads_graph
from graphs.fileformat import escape_surrogates, write_atomically

from .user_folders import user_data_folder

FORMAT = "netloom.recovery"
SUFFIX = ".recovery.json"
LEGACY_NAME = "recovery.loom"   # the one shared copy of the first version


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
    """Copies that no live window owns, oldest first, and a message for each that is unreadable
    (those are left where they are, for the person to look at)."""
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
            lock.unlock()
            problems.append(str(err))
    legacy = user_data_folder() / LEGACY_NAME
    if legacy.exists():
        try:
            found.append(Leftover(legacy, None, legacy.stat().st_mtime, legacy.read_text(encoding="utf-8"), None))
        except (OSError, UnicodeDecodeError) as err:
            problems.append(f"{legacy}: cannot be read ({err})")
    found.sort(key=lambda leftover: leftover.saved_at)
    return found, problems


def _read(path: Path, lock: QLockFile) -> Leftover:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise GraphFileError(path, "", f"is not a readable recovery copy ({err})") from None
    if (not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("graph"), str)
            or not isinstance(data.get("source", ""), str)
            or not isinstance(data.get("saved_at", 0), (int, float))):
        raise GraphFileError(path, "", "is not a NetLoom recovery copy")
    source = data.get("source") or None
    return Leftover(path, Path(source) if source else None, float(data.get("saved_at", 0)), data["graph"], lock)

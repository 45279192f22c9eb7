"""The window's check of the weights a graph starts from, as ``python main.py check`` does it: the
file the training settings name is read (its checksum compared with the one recorded) and its
tensors matched with the graph's, so that a tensor of the wrong shape is a warning on its node
(with Start Fresh as its fix), and a file that changed or is gone is an error before training
would refuse it (a changed one with "Use it as it is now" as its fix).

Reading a file and compiling the graph on the meta device take up to a second (ResNet-18), so
both happen in a background thread on a snapshot of the graph, once per state of the file and
once per model and set of fresh nodes; meanwhile the check keeps the last word it had."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject

from engine import Report
from engine.interop import WeightsError, file_sha256, read_start_weights, resolve_start, start_weight_diagnostics, weights_fit
from graphs import ERROR, Diagnostic, Graph, UseStartWeights, dumps_graph, loads_graph

from .background import BackgroundJob

Key = tuple[Any, ...]


class StartWeightsCheck:
    def __init__(self, owner: QObject, checked: Callable[[], None]) -> None:
        """``checked`` is called (on the window's thread) when a new word on the weights is ready."""
        self.owner, self.checked = owner, checked
        self.diagnostics: list[Diagnostic] = []
        self.summary = ""          # "Starts from W: 8 of the file's 10 tensors loaded ...", or why not
        self._key: Key | None = None
        self._ready: Key | None = None          # the key the diagnostics are for
        self._shapes: tuple[Key, Any] | None = None    # (file key, (shapes, name) or the WeightsError)

    def of(self, graph: Graph, report: Report, folder: Path | None) -> list[Diagnostic]:
        """The start weights' diagnostics for this graph and its check; worked out anew in the
        background when the entry, the file, the model or its fresh nodes changed."""
        entry = graph.training.get("start_from")
        if not isinstance(entry, dict) or not entry or not report.ok:
            self._key, self._ready, self.diagnostics, self.summary = None, None, [], ""
            return []
        file = resolve_start(entry, folder)
        file_key = (json.dumps(entry, sort_keys=True), str(file), _state(file))
        key = (*file_key, graph.model_fingerprint(), frozenset(n.id for n in graph.nodes.values() if n.fresh))
        if key != self._key:
            self._key = key
            self._start(key, file_key, entry, folder, loads_graph(dumps_graph(graph), "<start weights check>"), report)
        return [d for d in self.diagnostics if d.node is None or d.node in graph.nodes]   # meanwhile, the last word

    def _start(self, key: Key, file_key: Key, entry: dict, folder: Path | None, graph: Graph, report: Report) -> None:
        cached = self._shapes if self._shapes is not None and self._shapes[0] == file_key else None

        def work() -> tuple[Any, list[Diagnostic], str]:
            read = cached[1] if cached is not None else _read(entry, folder)
            if isinstance(read, WeightsError):
                return read, [_unusable(read, entry, folder)], f"Not checked against its start weights: {read}"
            shapes, name = read
            fit = weights_fit(graph, report, shapes)
            return read, start_weight_diagnostics(graph, fit, name), f"Starts from {name}: {fit.summary()}."

        def done(result, error: BaseException | None) -> None:
            if key != self._key:
                return                     # the graph or the file changed again meanwhile
            if error is not None:         # a graph the meta compile cannot take: said, never raised
                result = (None, [], f"Not checked against its start weights: {error}")
            read, self.diagnostics, self.summary = result
            if read is not None:
                self._shapes = (file_key, read)
            self._ready = key
            self.checked()
        BackgroundJob(work, done, self.owner, name="netloom-check-start-weights").start()

    @property
    def pending(self) -> bool:
        return self._key is not None and self._key != self._ready


def _state(file: Path) -> tuple[int, int] | None:
    """What tells a file apart from itself changed: its size and modification time."""
    try:
        status = os.stat(file)
    except OSError:
        return None
    return status.st_size, status.st_mtime_ns


def _read(entry: dict, folder: Path | None) -> tuple[dict[str, tuple[int, ...]], str] | WeightsError:
    try:
        weights = read_start_weights(entry, folder)
    except WeightsError as err:
        return err
    return weights.shapes, weights.path.name


def _unusable(err: WeightsError, entry: dict, folder: Path | None) -> Diagnostic:
    """The error for start weights that cannot be used; when only their contents changed, the
    fix records them as they are now."""
    file = resolve_start(entry, folder)
    fix = None
    try:
        digest = file_sha256(file)
    except WeightsError:
        digest = None
    if digest is not None and digest != entry.get("sha256"):
        fix = UseStartWeights(file.name, digest)
    return Diagnostic(ERROR, None, f"the start weights cannot be used: {err}", fix)

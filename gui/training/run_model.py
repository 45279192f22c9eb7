"""The network of the run shown, with its newest weights, rebuilt in a background thread whenever
the run writes a checkpoint (each epoch). Predict, the channel images, Grad-CAM and projections
of another layer all read it; work that changes a model (optimising an input) takes a copy.

A checkpoint is known by what it holds, not by its path: a run that keeps improving writes
``best.safetensors`` at every epoch under the same name. The model is built again when the
newest checkpoint's step, size or modification time differ from those of the one built, and
``epoch``/``step`` are read from the checkpoint itself, so a view can say which weights it used.
Builds run one at a time; a checkpoint that arrives meanwhile is built next.

The run's graph is a snapshot, not the document: it is checked with a checker and inference
cache of its own, so that the document's checker keeps following the document (handed the
snapshot, it would re-infer every node of the document at its next check)."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from engine import Checker, compile_graph
from engine.training import load_checkpoint
from graphs import Graph, GraphFileError, loads_graph

from ..background import BackgroundJob
from .run_record import RunRecord


class RunModel(QObject):
    """``model`` is None until the run shown has written weights (and again when another run, or
    none, is shown); ``listeners`` hear of each change, with "" or the reason a model could not be built."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.checker = Checker(follow=False)     # each snapshot is checked once, from scratch
        self.model: Any = None              # an fx.GraphModule once the run has weights
        self.graph: Graph | None = None
        self.record: RunRecord | None = None    # the run followed
        self.epoch: int | None = None       # the weights' epoch and step, as their checkpoint says
        self.step: int | None = None
        self.listeners: list[Callable[[str], None]] = []    # called with "" (a new model, or none) or a problem
        self._built: tuple | None = None     # what the model was built from (see _key)
        self._loading: tuple | None = None
        self._checked: tuple[RunRecord, Graph, Any] | None = None    # the followed run's graph and report

    def follow(self, record: RunRecord | None) -> None:
        """Keep to ``record``'s newest checkpoint; another run (or None) drops the model at once,
        so no view ever computes with the weights of a run it no longer shows."""
        if record is not self.record:
            dropped = self.model is not None
            self.record = record
            self.model = self.graph = self.epoch = self.step = None
            self._built = self._checked = None
            if dropped:
                self._tell("")
        if record is None or self._loading is not None:
            return                     # a build under way looks again when it is done
        key = _key(record)
        if key is None or key == self._built:
            return
        checked = self._check(record)
        if checked is None:
            return
        graph, report = checked
        path = key[0]
        self._loading = key
        self._tell("")                 # views may say that newer weights are on their way

        def build():
            saved = load_checkpoint(path)     # weights, step and epoch from one read of the file
            model = compile_graph(graph, report).eval()
            model.load_state_dict(saved.weights)
            return model, saved.epoch, saved.step

        def built(result, error: BaseException | None) -> None:
            self._loading = None
            if self.record is not record:      # another run is shown by now: this model is nobody's
                self.follow(self.record)
                return
            if error is not None:      # a checkpoint mid-write or from another graph: keep the last model
                self._built = key
                self._tell(f"The newest weights could not be loaded: {error}")
                return
            self.model, self.epoch, self.step = result
            self.graph, self._built = graph, key
            self._tell("")
            self.follow(record)        # a newer checkpoint may have come meanwhile
        BackgroundJob(build, built, self, name="netloom-run-model").start()

    def _check(self, record: RunRecord) -> tuple[Graph, Any] | None:
        if self._checked is not None and self._checked[0] is record:
            return self._checked[1], self._checked[2]
        try:
            graph = loads_graph(record.graph_text, "<run>")
        except GraphFileError as err:
            self._tell(f"The run's graph cannot be read: {err}")
            return None
        report = self.checker.check(graph)
        self._checked = (record, graph, report)
        return graph, report

    @property
    def building(self) -> bool:
        """Whether newer weights are being loaded."""
        return self._loading is not None

    def weights_from(self) -> str:
        """Which run's weights, and from when, in words ("" while there are none)."""
        if self.model is None or self.record is None:
            return ""
        return f"{self.record.when(epoch=self.epoch)} (step {self.step})"

    def copy(self):
        """A model of its own for work in another thread."""
        return copy.deepcopy(self.model) if self.model is not None else None

    def _tell(self, problem: str) -> None:
        for listener in list(self.listeners):
            listener(problem)


def _key(record: RunRecord) -> tuple | None:
    """What the run's newest checkpoint holds, as far as can be told without reading it: its path,
    the step it was written at, its size and modification time (None: no checkpoint yet)."""
    saved = record.checkpoint
    if saved is None:
        return None
    try:
        found = os.stat(saved.path)
    except OSError:
        return None                    # gone (its run's folder was removed): nothing newer to load
    return saved.path, saved.step, found.st_size, found.st_mtime_ns

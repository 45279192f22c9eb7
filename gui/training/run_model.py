"""The network of a run with its newest weights, rebuilt in a background thread whenever the
run writes a checkpoint (each epoch). Predict, the channel images and Grad-CAM all read it;
work that changes a model (optimising an input) takes a copy, never this one.

The run's graph is a snapshot, not the document: it is checked with a checker and inference
cache of its own, so that the document's checker keeps following the document (handed the
snapshot, it would re-infer every node of the document at its next check)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from engine import Checker, compile_graph
from engine.training import load_weights
from graphs import Graph, GraphFileError, loads_graph

from ..background import BackgroundJob
from .run_record import RunRecord


class RunModel(QObject):
    """``model`` is None until a run has written weights; ``listeners`` hear of each new model,
    or of the reason one could not be built."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.checker = Checker(follow=False)     # each snapshot is checked once, from scratch
        self.model: Any = None              # an fx.GraphModule once a run has weights
        self.graph: Graph | None = None
        self.listeners: list[Callable[[str], None]] = []    # called with "" (a new model) or a problem
        self._built: tuple[Any, str] | None = None
        self._loading: tuple[Any, str] | None = None        # (weights path, graph text) being built

    def follow(self, record: RunRecord) -> None:
        """Build the model anew when the run's newest checkpoint is not the one built."""
        path = record.latest.get("checkpoint")
        wanted = (path, record.graph_text)
        if not path or wanted in (self._built, self._loading):
            return
        try:
            graph = loads_graph(record.graph_text, "<run>")
        except GraphFileError as err:
            self._tell(f"The run's graph cannot be read: {err}")
            return
        report = self.checker.check(graph)
        self._loading = wanted

        def build():
            model = compile_graph(graph, report).eval()
            model.load_state_dict(load_weights(path))
            return model

        def built(model, error: BaseException | None) -> None:
            if self._loading == wanted:
                self._loading = None
            if error is not None:      # a checkpoint mid-write or from another graph: keep the last model
                self._tell(f"The newest weights could not be loaded: {error}")
                return
            self.model, self.graph, self._built = model, graph, wanted
            self._tell("")
        BackgroundJob(build, built, self, name="netloom-run-model").start()

    def copy(self):
        """A model of its own for work in another thread."""
        return copy.deepcopy(self.model) if self.model is not None else None

    def _tell(self, problem: str) -> None:
        for listener in list(self.listeners):
            listener(problem)

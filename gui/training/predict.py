"""Predict: class probabilities of the run's latest weights for a validation sample or for a
digit drawn with the mouse. The weights come from the run's newest checkpoint (each epoch)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from engine import Checker, compile_graph
from engine.training.checkpoint import load_weights
from graphs import GraphFileError, loads_graph

from ..background import BackgroundJob
from .run_record import RunRecord


class DrawingPad(QWidget):
    """A small grid to draw on: dragging the mouse inks cells (and softly their neighbours)."""
    changed = Signal()

    def __init__(self, rows: int = 8, cols: int = 8, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(110, 110)
        self.resize_grid(rows, cols)

    def resize_grid(self, rows: int, cols: int) -> None:
        self.ink = np.zeros((rows, cols), dtype=np.float32)
        self.update()

    def clear(self) -> None:
        self.ink[:] = 0
        self.update()
        self.changed.emit()

    def _cell(self, pos) -> tuple[int, int] | None:
        rows, cols = self.ink.shape
        r, c = int(pos.y() * rows / self.height()), int(pos.x() * cols / self.width())
        return (r, c) if 0 <= r < rows and 0 <= c < cols else None

    def _paint_at(self, pos) -> None:
        cell = self._cell(pos)
        if cell is None:
            return
        r, c = cell
        rows, cols = self.ink.shape
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols:
                    strength = 1.0 if dr == dc == 0 else 0.35
                    self.ink[rr, cc] = min(1.0, self.ink[rr, cc] + strength)
        self.update()

    def mousePressEvent(self, event) -> None:
        self._paint_at(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.LeftButton:
            self._paint_at(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self.changed.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rows, cols = self.ink.shape
        for r in range(rows):
            for c in range(cols):
                shade = int(255 * (1 - self.ink[r, c]))
                painter.fillRect(QRect(QPoint(c * self.width() // cols, r * self.height() // rows),
                                       QPoint((c + 1) * self.width() // cols, (r + 1) * self.height() // rows)),
                                 QColor(shade, shade, shade))


class PredictPanel(QWidget):
    """Predictions of the run's newest weights. The model is checked with the document's checker
    (its cache already knows the graph, so that is quick) and compiled with its weights in a
    background thread: the window never waits for a large model to be built."""


    def __init__(self, checker: Checker | None = None, parent=None) -> None:
        super().__init__(parent)
        self.checker = checker or Checker()
        self.sample = QSpinBox(minimum=0, maximum=0)
        self.predict_sample = QPushButton("Predict sample")
        self.pad = DrawingPad()
        self.clear = QPushButton("Clear drawing")
        self.chart = pg.PlotWidget(title="Class probabilities")
        self.chart.setBackground("w")
        self.chart.setYRange(0, 1)
        self.result = QLabel("Train for an epoch, then choose a sample or draw one.")
        self.result.setWordWrap(True)
        left = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("validation sample"))
        row.addWidget(self.sample)
        row.addWidget(self.predict_sample)
        left.addLayout(row)
        left.addWidget(QLabel("or draw (the model sees it as one of its inputs):"))
        left.addWidget(self.pad, 1)
        left.addWidget(self.clear)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 1)
        right = QVBoxLayout()
        right.addWidget(self.chart, 1)
        right.addWidget(self.result)
        layout.addLayout(right, 2)
        self.predict_sample.clicked.connect(lambda: self.show_prediction(self.sample_input(), "sample"))
        self.pad.changed.connect(lambda: self.show_prediction(self.drawing_input(), "drawing"))
        self.clear.clicked.connect(self.pad.clear)
        self.data = None
        self.model = None
        self.probabilities: np.ndarray | None = None
        self._weights_path: str | None = None
        self._graph_text = ""
        self._loading: tuple[str, str] | None = None      # (weights path, graph text) being built

    def set_data(self, data) -> None:
        self.data = data
        if data is None:
            return
        self.sample.setMaximum(len(data.x_val) - 1)
        shape = data.input_shape
        drawable = data.kind == "image" and len(shape) == 3 and shape[0] == 1
        self.pad.setEnabled(drawable)
        if drawable:
            self.pad.resize_grid(shape[1], shape[2])

    def show_record(self, record: RunRecord) -> None:
        """Follow the run's newest checkpoint: rebuild the model when its weights change."""
        path = record.latest.get("checkpoint")
        wanted = (path, record.graph_text)
        if not path or wanted == (self._weights_path, self._graph_text) or wanted == self._loading:
            return
        try:
            graph = loads_graph(record.graph_text, "<run>")
        except GraphFileError as err:
            self.result.setText(f"The run's graph cannot be read: {err}")
            return
        report = self.checker.check(graph)
        self._loading = wanted
        graph_text = record.graph_text

        def build():
            model = compile_graph(graph, report).eval()
            model.load_state_dict(load_weights(path))
            return model

        def built(model, error: BaseException | None) -> None:
            # A checkpoint mid-write or from another graph: keep the last model, say why.
            problem = "" if error is None else f"The newest weights could not be loaded: {error}"
            self._take_model(model, path, graph_text, problem)
        BackgroundJob(build, built, self, name="netloom-predict-model").start()

    def _take_model(self, model, path: str, graph_text: str, problem: str) -> None:
        if self._loading == (path, graph_text):
            self._loading = None
        if problem:
            self.result.setText(problem)
            return
        self.model, self._weights_path, self._graph_text = model, path, graph_text

    def sample_input(self) -> torch.Tensor | None:
        return None if self.data is None else self.data.x_val[self.sample.value()][None]

    def drawing_input(self) -> torch.Tensor | None:
        if self.data is None:
            return None
        x = torch.from_numpy(self.pad.ink.copy())[None, None]
        mean, std = self.data.extra.get("mean"), self.data.extra.get("std")
        return (x - mean) / std if mean is not None else x

    def show_prediction(self, x: torch.Tensor | None, what: str) -> np.ndarray | None:
        if x is None or self.model is None:
            self.result.setText("No weights yet: predictions need a run that finished an epoch.")
            return None
        with torch.no_grad():
            out = self.model(x.float() if x.is_floating_point() else x)
        out = out[0] if isinstance(out, tuple) else out
        probabilities = torch.softmax(out.reshape(-1).float(), dim=0).numpy()
        self.probabilities = probabilities
        self.chart.clear()
        self.chart.addItem(pg.BarGraphItem(x=np.arange(len(probabilities)), height=probabilities, width=0.7,
                                           brush="#2563eb"))
        names = self.data.class_names if self.data is not None else []
        best = int(np.argmax(probabilities))
        label = names[best] if best < len(names) else str(best)
        self.chart.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names[: len(probabilities)])]])
        self.result.setText(f"The {what} looks like {label} ({probabilities[best]:.0%}).")
        return probabilities

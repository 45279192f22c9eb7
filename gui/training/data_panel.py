"""The Data tab: a batch of pictures as the model sees them, with their labels (class names, the
folder names of a picture folder), augmented and normalised as the training settings say and
turned back into pixels to be looked at.

Before a run it is the first batch a run will train on (``batch_as_seen``, prepared in a
background thread: reading CIFAR takes seconds); while a run goes, the start of each epoch's
first batch as the worker sent it (``TrainingBatch``). The caption says which of the two it
shows, of which run, epoch and step. Another graph, or other settings, clear it."""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from engine.data import DataSet, input_normalizer
from engine.training import SeenBatch, batch_as_seen
from engine.training import messages as M
from graphs import Graph, dumps_graph, loads_graph

from ..background import BackgroundJob
from ..theme import current as current_theme
from .run_record import RunRecord

SHOWN = 16
LABEL_HEIGHT = 16.0
GAP = 8.0


def label_names(labels: tuple[int, ...], class_names: tuple[str, ...] | list[str]) -> list[str]:
    return [class_names[i] if 0 <= i < len(class_names) else str(i) for i in labels]


class BatchGrid(QWidget):
    """Pictures in a near-square grid, each with its label under it, as large as the panel
    allows; small pictures are enlarged without smoothing, so that 8x8 digits stay crisp."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[QImage] = []
        self.labels: list[str] = []
        self.setMinimumHeight(120)

    def show_batch(self, pixels: np.ndarray | None, labels: list[str]) -> None:
        """``pixels``: N x H x W x C (C 1 or 3), uint8; None clears the grid."""
        self.images = [] if pixels is None else [_image(p) for p in pixels]
        self.labels = list(labels)
        self.update()

    def cells(self) -> list[QRectF]:
        """Where each picture is drawn (its label goes under it)."""
        n = len(self.images)
        if not n:
            return []
        cols = math.ceil(math.sqrt(n * max(1.0, self.width() / max(1, self.height()))))
        cols = min(n, max(1, cols))
        rows = math.ceil(n / cols)
        side = min((self.width() - GAP) / cols - GAP, (self.height() - GAP) / rows - GAP - LABEL_HEIGHT)
        side = max(8.0, side)
        left = (self.width() - cols * (side + GAP) + GAP) / 2
        return [QRectF(left + (i % cols) * (side + GAP), GAP + (i // cols) * (side + GAP + LABEL_HEIGHT), side, side)
                for i in range(n)]

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        for image, label, cell in zip(self.images, self.labels, self.cells()):
            scale = min(cell.width() / image.width(), cell.height() / image.height())
            w, h = image.width() * scale, image.height() * scale
            target = QRectF(cell.center().x() - w / 2, cell.center().y() - h / 2, w, h)
            painter.drawImage(target, image)
            painter.drawText(QRectF(cell.left() - GAP / 2, cell.bottom(), cell.width() + GAP, LABEL_HEIGHT),
                             Qt.AlignmentFlag.AlignCenter, label)
        painter.end()


def _sentence(text: str) -> str:
    return html.escape(text[:1].upper() + text[1:] + ("." if text and not text.endswith(".") else ""))


def _image(pixels: np.ndarray) -> QImage:
    h, w, c = pixels.shape
    data = np.ascontiguousarray(pixels if c == 3 else pixels[..., 0])
    fmt = QImage.Format.Format_RGB888 if c == 3 else QImage.Format.Format_Grayscale8
    return QImage(data.tobytes(), w, h, w * (3 if c == 3 else 1), fmt).copy()


class DataPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)             # how long is not known: a busy bar
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(10)
        self.busy.hide()
        self.before = QPushButton("Before Training")
        self.before.setToolTip("Show the first batch a run with the settings as they are now trains on")
        self.before.clicked.connect(self.show_before_training)
        self.grid = BatchGrid()
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.before)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.busy)
        layout.addWidget(self.grid, 1)
        self.training: dict[str, Any] = {}
        self.graph: Graph | None = None
        self.data: DataSet | None = None
        self.applies = True                      # False once the data set is known not to be pictures
        self.needs_run = False                   # before any run it shows the batch a run would train on
        self.run: RunRecord | None = None        # a run of the graph shown, whose batches are shown
        self.seen: SeenBatch | None = None       # the batch before training, once prepared
        self.shown: tuple[str, Any] = ("", None)     # on screen: ("before", settings) or ("run", (message, status))
        self._key = ""                            # the settings the batch before training is of
        self._preparing = ""
        self._show_nothing("")

    # ------------------------------------------------------------------ what it is given
    def set_source(self, training: dict[str, Any], data: DataSet | None, graph: Graph | None = None) -> None:
        """The graph's training settings, and its data set when the checks have loaded it; the
        graph itself, which may scale its input with a Normalize step (then the model sees raw
        values). Other settings, or a step added or removed, make the batch before training stale
        (and end showing a run's batches)."""
        self.graph = graph
        scaler = input_normalizer(graph) if graph is not None else None
        key = json.dumps([training, scaler], sort_keys=True, default=str)
        if data is not None:
            self.applies = data.kind == "image" and data.x_train.dim() == 4
        if key == self._key and (data is None or data is self.data):
            return
        changed = key != self._key
        self.training, self._key = dict(training), key
        self.data = data if data is not None else self.data if not changed else None
        if changed:
            self.run, self.seen, self._preparing = None, None, ""
            self.busy.hide()
            self._show_nothing("")
            if self.isVisible():
                self.refresh()

    def clear(self) -> None:
        """Another graph is open: nothing of the last one stays."""
        self.training, self._key, self.data, self.run, self.seen, self.applies = {}, "", None, None, None, True
        self.graph = None
        self._preparing = ""
        self.busy.hide()
        self._show_nothing("")

    def reset(self) -> None:
        """The run shown changed: its batches go (the batch before training is the graph's and stays)."""
        self.run, self.shown = None, ("", None)
        if self.isVisible():
            self.refresh()

    def follow_run(self, record: RunRecord) -> None:
        """A run of the graph shown started: its batches are shown as they come."""
        self.run = record

    def show_before_training(self) -> None:
        self.run = None
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh()

    def show_record(self, record: RunRecord) -> None:
        """The dashboard's redraw, while this tab is in view."""
        if record is self.run:
            self.refresh()

    def refresh(self) -> None:
        batch = self.run.latest.get("TrainingBatch") if self.run is not None else None
        if self.run is not None and batch is not None:
            if self.shown != ("run", (batch, self.run.status)):
                self._show_run_batch(self.run, batch)
            return
        if self.run is not None:
            self._show_nothing(f"{html.escape(self.run.name)} has not sent a batch yet: it does at the start of "
                               "each epoch (pictures, with probes on).")
            return
        if self.seen is not None:
            if self.shown != ("before", self._key):
                self._show_seen(self.seen)
        elif self._key and self._preparing != self._key:
            self._prepare()

    def _prepare(self) -> None:
        key, training, data = self._key, self.training, self.data
        text = dumps_graph(self.graph) if self.graph is not None else None    # a copy the background reads
        self._preparing = key
        name = training.get("dataset", "the data set")
        self._show_nothing(f"Reading {html.escape(str(name))} and preparing the first batch as the model will see it...")
        self.busy.show()

        def done(seen: SeenBatch | None, error: BaseException | None) -> None:
            if key != self._key:
                return                              # the settings changed meanwhile: that one is coming
            self._preparing = ""
            self.busy.hide()
            if error is not None:
                words = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
                self._show_nothing(f"No pictures to show: {html.escape(words)}", error=True)
                return
            self.seen = seen
            self.refresh()
        BackgroundJob(lambda: batch_as_seen(training, data, SHOWN, loads_graph(text, "<graph>") if text else None), done,
                      self, name="netloom-batch-as-seen").start()

    def _show_seen(self, seen: SeenBatch) -> None:
        settings = self.training
        self.grid.show_batch(seen.pixels, seen.label_names)
        self.caption.setText(
            f"<b>Before training</b>: the first {len(seen.labels)} samples of the first batch a run trains on "
            f"(epoch 1, seed {settings.get('seed', 0)}), as the model sees them. {_sentence(seen.description)}")
        self.shown = ("before", self._key)
        self.before.setEnabled(False)

    def _show_run_batch(self, record: RunRecord, batch: M.TrainingBatch) -> None:
        self.grid.show_batch(batch.pixels, label_names(batch.labels, batch.class_names))
        epochs = f" of {record.started.epochs}" if record.started is not None else ""
        self.caption.setText(
            f"<b>{html.escape(record.name)}</b> ({record.status}), epoch {batch.epoch}{epochs}, step {batch.step}: "
            f"the start of the epoch's first batch, as the model sees it. {_sentence(batch.description)}")
        self.shown = ("run", (batch, record.status))
        self.before.setEnabled(True)

    def _show_nothing(self, text: str, error: bool = False) -> None:
        self.grid.show_batch(None, [])
        colour = current_theme().error if error else current_theme().hint
        self.caption.setText(f"<span style='color:{colour}'>{text}</span>" if text else
                             "The pictures the model will see appear here.")
        self.shown = ("", None)
        self.before.setEnabled(self.run is not None)

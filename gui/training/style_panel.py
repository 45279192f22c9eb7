"""Neural style transfer in the dashboard: the open graph's convolutions as the feature
network, a content and a style picture, and the picture being optimised, shown as it goes.
The optimisation runs in a background thread on a model of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import compile_graph
from engine.insight import InsightError
from engine.insight import style as S
from graphs import Graph, dumps_graph, loads_graph

from ..background import BackgroundJob, StreamingJob
from ..theme import icon as theme_icon
from .panels import image_view

OPEN_PICTURE = "Open picture..."
SETTINGS_WIDTH = 330
PICTURE_SIDE = 128          # the smallest side of the pictures optimised


def style_applies(graph) -> bool:
    """A graph with convolutions that takes one colour image."""
    inputs = graph.inputs()
    if len(inputs) != 1 or not any(n.type == "Conv2d" for n in graph.nodes.values()):
        return False
    shape = graph.nodes[inputs[0]].params.get("shape")
    return isinstance(shape, list) and len(shape) == 3 and shape[0] == 3


def default_layers(graph) -> tuple[list[str], list[str]]:
    """(content, style) layers: the graph's own choice (its metadata), else ReLUs (or
    convolutions) spread over the depth, the style ones shallow to deep, content at 3/4 depth."""
    meta = graph.metadata
    if isinstance(meta.get("content_layers"), str) and isinstance(meta.get("style_layers"), str):
        return meta["content_layers"].split(), meta["style_layers"].split()
    found = [n.id for n in graph.nodes.values() if n.type == "ReLU"] or \
        [n.id for n in graph.nodes.values() if n.type == "Conv2d"]
    if not found:
        return [], []
    picks = sorted({round(i * (len(found) - 1) / 4) for i in range(5)})
    return [found[(3 * (len(found) - 1)) // 4]], [found[i] for i in picks]


class StylePanel(QWidget):
    needs_run = False          # it works on the graph, with or without a run's weights

    def __init__(self, run_model=None, parent=None) -> None:
        super().__init__(parent)
        self.run_model = run_model
        # scikit-learn's photographs take 1.5 s to load: read when the tab is first shown
        self.pictures: dict[str, np.ndarray] = {}
        self.content = QComboBox()
        self.style_picture = QComboBox()
        for combo, first in ((self.content, "china"), (self.style_picture, "flower")):
            combo.addItems([*S.SAMPLE_PICTURES, OPEN_PICTURE])
            combo.setCurrentText(first)
            combo.activated.connect(lambda _, c=combo: self._picture_chosen(c))
        self.content_layers = QLineEdit()
        self.style_layers = QLineEdit()
        for edit, tip in ((self.content_layers, "Layers whose maps the picture must keep (node ids, space between)"),
                          (self.style_layers, "Layers whose Gram matrices must match the style picture's")):
            edit.setToolTip(tip)
        self.steps = QSpinBox(minimum=1, maximum=5000, value=200)
        self.weight = QDoubleSpinBox(minimum=1.0, maximum=1e9, decimals=0, value=1e4)
        self.weight.setToolTip("Weight of the style terms against the content term's 1")
        self.run = QPushButton(theme_icon("mdi6.brush"), "Run style transfer")
        self.stop = QPushButton(theme_icon("mdi6.stop"), "Stop")
        self.stop.setEnabled(False)
        self.weights_note = QLabel("")
        self.weights_note.setWordWrap(True)
        self.download = QPushButton(theme_icon("mdi6.download"), f"Download VGG-16 weights ({S.VGG16_SIZE_MB} MB)")
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        # The settings in a column at the left, the three pictures as large as the dock allows.
        form = QGridLayout()
        for row, (label, widget) in enumerate((("content picture", self.content), ("content layers", self.content_layers),
                                               ("style picture", self.style_picture), ("style layers", self.style_layers),
                                               ("steps", self.steps), ("style weight", self.weight))):
            form.addWidget(QLabel(label), row, 0)
            form.addWidget(widget, row, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run)
        buttons.addWidget(self.stop)
        buttons.addStretch(1)
        settings = QVBoxLayout()
        settings.addLayout(form)
        settings.addLayout(buttons)
        settings.addWidget(self.weights_note)
        settings.addWidget(self.download)
        settings.addWidget(self.caption)
        settings.addStretch(1)
        column = QWidget()
        column.setLayout(settings)
        scroller = QScrollArea()                  # a short dock scrolls the settings rather than squash them
        scroller.setWidget(column)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setFixedWidth(SETTINGS_WIDTH)
        self.views = {}
        layout = QHBoxLayout(self)
        layout.addWidget(scroller)
        for key, title in (("content", "Content"), ("style", "Style"), ("result", "Result")):
            plot, image = image_view(title)
            image.setLookupTable(None)
            plot.getPlotItem().getViewBox().setDefaultPadding(0.01)
            self.views[key] = (plot, image)
            layout.addWidget(plot, 1)
        self.run.clicked.connect(lambda: self.start())
        self.stop.clicked.connect(self.stop_running)
        self.download.clicked.connect(self.download_weights)
        self.graph: Graph | None = None
        self.applies = False
        self.job: StreamingJob | None = None
        self.progress: list[S.StyleProgress] = []
        self.source = ""

    # ------------------------------------------------------------------ set-up
    def reset(self) -> None:
        """Another run is shown: a picture made already keeps its caption, which names the weights
        it was made with; another graph clears it (``set_graph``)."""

    def show_record(self, record) -> None:
        """The picture is asked for, not drawn from a run."""

    def set_graph(self, graph) -> None:
        self.applies = style_applies(graph)
        if self.graph is not None and (not self.applies or graph.model_fingerprint() != self.graph.model_fingerprint()):
            if self.job is not None:              # another network: its picture is not this one's
                self.job.stop()
                self.job = None
                self.run.setEnabled(True)
                self.stop.setEnabled(False)
            self.views["result"][1].clear()
            self.caption.setText("")
        if not self.applies:
            self.graph = None
            return
        self.graph = loads_graph(dumps_graph(graph), "<style>")
        content, style = default_layers(graph)
        self.content_layers.setText(" ".join(content))
        self.style_layers.setText(" ".join(style))
        self._say_weights()
        if self.isVisible():
            self._show_pictures()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._show_pictures()

    def picture_size(self) -> tuple[int, int]:
        """The graph's input size, at least PICTURE_SIDE: convolutions take pictures of any size,
        and a style needs room to show (the example trains on 32x32 pictures)."""
        assert self.graph is not None
        shape = self.graph.nodes[self.graph.inputs()[0]].params["shape"]
        return max(int(shape[1]), PICTURE_SIDE), max(int(shape[2]), PICTURE_SIDE)

    def _picture(self, combo: QComboBox) -> np.ndarray:
        name = combo.currentText()
        if name not in self.pictures and name in S.SAMPLE_PICTURES:
            self.pictures.update(S.sample_pictures())
        return self.pictures[name]

    def _picture_chosen(self, combo: QComboBox) -> None:
        if combo.currentText() != OPEN_PICTURE:
            self._show_pictures()
            return
        path = QFileDialog.getOpenFileName(self, "Open a picture", "", "Pictures (*.png *.jpg *.jpeg)")[0]
        combo.setCurrentIndex(0)
        if path:
            self.add_picture(path, combo)

    def add_picture(self, path: str, combo: QComboBox) -> bool:
        """Read a PNG or JPEG into the list and choose it; False (said in the panel) if it cannot be."""
        try:
            picture = S.read_picture(path)
        except InsightError as err:
            self.caption.setText(str(err))
            return False
        name = Path(path).name
        self.pictures[name] = picture
        for box in (self.content, self.style_picture):
            if box.findText(name) < 0:
                box.insertItem(box.count() - 1, name)
        combo.setCurrentText(name)
        self._show_pictures()
        return True

    def _show_pictures(self) -> None:
        if self.graph is None:
            return
        for key, combo in (("content", self.content), ("style", self.style_picture)):
            if combo.currentText() != OPEN_PICTURE:
                image = S.as_input(self._picture(combo), self.picture_size())[0].permute(1, 2, 0).numpy()
                self.views[key][1].setImage(image, autoLevels=False, levels=(0, 1))

    def _say_weights(self) -> None:
        present = S.vgg16_weights_present()
        self.download.setVisible(not present)
        self.weights_note.setText(
            "VGG-16's ImageNet weights are on this computer and are used where the graph's convolutions fit them."
            if present else
            "VGG-16's ImageNet weights are not on this computer. Without them the network is untrained (or has "
            "the weights of this graph's newest run): colours and rough textures carry over, painterly strokes "
            "do not.")

    def download_weights(self) -> None:
        self.download.setEnabled(False)
        self.weights_note.setText(f"Downloading VGG-16's weights ({S.VGG16_SIZE_MB} MB)...")

        def done(_, error) -> None:
            self.download.setEnabled(True)
            if error is not None:
                self.weights_note.setText(f"The download failed: {error}. {self.weights_note.text()}")
                return
            self._say_weights()
        BackgroundJob(S.download_vgg16_weights, done, self, name="netloom-vgg16-download").start()

    # ------------------------------------------------------------------ running
    def model(self) -> tuple[Any, str]:
        """The feature network and where its weights come from, in words."""
        assert self.graph is not None
        model = compile_graph(self.graph)
        if S.vgg16_weights_present():
            try:
                S.load_vgg16_weights(model)
                return model, "VGG-16's ImageNet weights"
            except InsightError as err:
                fallback = f"not VGG-16's weights ({err})"
        else:
            fallback = "VGG-16's weights are absent"
        run = self.run_model
        if run is not None and run.model is not None and run.graph is not None and \
                run.graph.model_fingerprint() == self.graph.model_fingerprint():
            return run.copy(), f"the weights of {run.weights_from()} ({fallback})"
        return model, f"untrained weights ({fallback})"

    def start(self) -> bool:
        if self.graph is None or (self.job is not None and not self.job.done):
            return False
        settings = S.StyleSettings(tuple(self.content_layers.text().split()), tuple(self.style_layers.text().split()),
                                   style_weight=self.weight.value(), steps=self.steps.value())
        try:
            content = S.as_input(self._picture(self.content), self.picture_size())
            style = S.as_input(self._picture(self.style_picture), self.picture_size())
            model, self.source = self.model()
            transfer = S.StyleTransfer(model, content, style, settings)
        except (InsightError, KeyError) as err:
            self.caption.setText(f"Style transfer cannot start: {err}")
            return False
        self.progress = []
        self.job = StreamingJob(transfer.run, name="netloom-style-transfer").start()
        self.run.setEnabled(False)
        self.stop.setEnabled(True)
        self.caption.setText(f"Optimising the picture with {self.source}...")
        return True

    def stop_running(self) -> None:
        if self.job is not None:
            self.job.stop()

    def poll(self) -> None:
        """Show what the optimisation has reached (the dashboard calls this on its timer)."""
        job = self.job
        if job is None:
            return
        found = job.take()
        if found:
            self.progress += found
            last = found[-1]
            self.views["result"][1].setImage(last.image, autoLevels=False, levels=(0, 1))
            first = self.progress[0]
            self.caption.setText(f"Step {last.step}/{self.steps.value()} with {self.source}: style loss "
                                 f"{last.style_loss:.3g} (from {first.style_loss:.3g}), content loss "
                                 f"{last.content_loss:.3g}.")
        if job.done:
            self.job = None
            self.run.setEnabled(True)
            self.stop.setEnabled(False)
            if job.error is not None:
                self.caption.setText(f"Style transfer failed: {job.error}")
            elif job.stopping:
                self.caption.setText(self.caption.text() + " Stopped.")

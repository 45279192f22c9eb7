"""Predict: class probabilities of the run's latest weights for a validation sample or for a
digit drawn with the mouse. The weights come from the run's newest checkpoint (each epoch)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from engine.insight import PROMPT, TEXT, grad_cam, grad_cam_layer, predict_kind, saliency

from ..background import BackgroundJob
from ..theme import current as current_theme
from ..theme import icon as theme_icon
from .busy import Busy
from .panels import image_view
from .run_model import RunModel
from .run_record import RunRecord
from .sequence_predict import SequencePredict


class DrawingPad(QWidget):
    """A small grid of square cells to draw on, with its border and grid drawn: dragging the mouse
    inks a cell (and its neighbours a little, as a pen stroke would)."""
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

    def _grid(self) -> tuple[float, float, float]:
        """Cell size and the grid's top-left corner: square cells, centred in the widget."""
        rows, cols = self.ink.shape
        size = max(1.0, min((self.width() - 2) / cols, (self.height() - 2) / rows))
        return size, (self.width() - size * cols) / 2, (self.height() - size * rows) / 2

    def _cell(self, pos) -> tuple[int, int] | None:
        rows, cols = self.ink.shape
        size, left, top = self._grid()
        r, c = int((pos.y() - top) // size), int((pos.x() - left) // size)
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
                    strength = 1.0 if dr == dc == 0 else 0.15 if dr and dc else 0.25
                    self.ink[rr, cc] = min(1.0, self.ink[rr, cc] + strength)
        self.update()

    def mousePressEvent(self, event) -> None:
        self._paint_at(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._paint_at(event.position())

    def mouseReleaseEvent(self, event) -> None:
        self.changed.emit()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rows, cols = self.ink.shape
        size, left, top = self._grid()
        for r in range(rows):
            for c in range(cols):
                shade = int(255 * (1 - self.ink[r, c]))
                painter.fillRect(QRectF(left + c * size, top + r * size, size, size), QColor(shade, shade, shade))
        theme = current_theme()
        painter.setPen(QPen(QColor(theme.pad_grid), 1))            # the grid: where a stroke will land
        for i in range(1, cols):
            painter.drawLine(QPointF(left + i * size, top), QPointF(left + i * size, top + rows * size))
        for i in range(1, rows):
            painter.drawLine(QPointF(left, top + i * size), QPointF(left + cols * size, top + i * size))
        painter.setPen(QPen(QColor(theme.pad_frame if self.isEnabled() else theme.pad_frame_off), 1.5))
        painter.drawRect(QRectF(left, top, cols * size, rows * size))


class PredictPanel(QWidget):
    """Predictions of the run's newest weights, from the run's model (``RunModel``: the run's
    graph checked with a checker of its own and compiled with its weights in a background
    thread): the window never waits for a large model to be built."""


    def __init__(self, run_model: RunModel, parent=None) -> None:
        super().__init__(parent)
        self.run_model = run_model
        run_model.listeners.append(self._model_changed)
        self.sample = QSpinBox(minimum=0, maximum=0)
        self.predict_sample = QPushButton(theme_icon("mdi6.head-question-outline"), "Predict sample")
        self.pad = DrawingPad()
        self.clear = QPushButton(theme_icon("mdi6.eraser"), "Clear drawing")
        self.picture = QLabel()                 # the chosen validation sample, as the model gets it
        self.picture.setFixedSize(72, 72)
        self.picture.setStyleSheet(f"border: 1px solid {current_theme().pad_frame_off};")
        self.chart = pg.PlotWidget(title="Class probabilities")
        self.chart.setBackground(current_theme().plot_background)
        self.chart.setYRange(0, 1)
        self.chart.setLabel("left", "probability")
        self.chart.setLabel("bottom", "class")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        left = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(QLabel("validation sample"))
        row.addWidget(self.sample)
        row.addWidget(self.predict_sample)
        row.addWidget(self.picture)
        left.addLayout(row)
        self.draw_hint = QLabel("or draw (the model sees it as one of its inputs):")
        left.addWidget(self.draw_hint)
        left.addWidget(self.pad, 1)
        # For 2-D points: the training points, and a click anywhere asks the model about that point.
        self.plane = pg.PlotWidget(title="Click a point to predict it")
        self.plane.setBackground(current_theme().plot_background)
        self.plane.setAspectLocked(True)
        self.plane_points = pg.ScatterPlotItem(size=4, pen=None)
        self.chosen = pg.ScatterPlotItem(size=14, symbol="x", pen=pg.mkPen(current_theme().chosen_point, width=2),
                                         brush=None)
        self.plane.addItem(self.plane_points)
        self.plane.addItem(self.chosen)
        self.plane.scene().sigMouseClicked.connect(self._plane_clicked)
        left.addWidget(self.plane, 1)
        self.plane.hide()
        left.addWidget(self.clear)
        self.classic = QWidget()              # samples, the drawing pad, the plane: what is not a sequence of tokens
        layout = QHBoxLayout(self.classic)
        layout.setContentsMargins(0, 0, 0, 0)
        self.sequences = SequencePredict(run_model)       # typed text, for models that read tokens
        self.sequences.hide()
        outer = QVBoxLayout(self)
        outer.addWidget(self.classic)
        outer.addWidget(self.sequences)
        layout.addLayout(left, 1)
        right = QVBoxLayout()
        charts = QHBoxLayout()
        charts.addWidget(self.chart, 3)
        # What drove the prediction: Grad-CAM over the picture for a convolutional network, the
        # input gradient for any other; worked out off the GUI thread after each prediction.
        self.why_plot, self.why_image = image_view(WHY_TITLE)
        self.why_image.setLookupTable(None)      # the overlay is already in colour
        self.why_plot.setToolTip("Grad-CAM on the last convolution layer (Selvaraju et al.), or, for a network "
                                 "without convolutions, |d score / d input| (saliency): bright is where the "
                                 "predicted class's evidence lies")
        self.why_key = evidence_key(self.why_plot)
        charts.addWidget(self.why_plot, 2)
        # Until something is asked, words in the charts' place rather than empty axes.
        self.placeholder = QLabel(ASK)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        charts.addWidget(self.placeholder, 5)
        self.busy = Busy()
        right.addLayout(charts, 1)
        right.addWidget(self.busy)
        right.addWidget(self.result)
        layout.addLayout(right, 2)
        self.predict_sample.clicked.connect(lambda: self.show_prediction(self.sample_input(), "sample"))
        self.pad.changed.connect(lambda: self.show_prediction(self.drawing_input(), "drawing"))
        self.clear.clicked.connect(self.pad.clear)
        self.sample.valueChanged.connect(lambda _: self._show_picture())
        self.data = None
        self.probabilities: np.ndarray | None = None
        self._asked: tuple | None = None        # the prediction whose explanation is being worked out
        self._question: tuple | None = None     # (input, what) last asked: asked again of newer weights
        self._answered_by = ""                  # whose weights gave the prediction shown
        self.reset()

    def reset(self) -> None:
        """Nothing asked yet: the charts give way to what can be done."""
        self.probabilities, self._asked, self._question, self._answered_by = None, None, None, ""
        self.chart.clear()
        self.why_image.clear()
        self.why_plot.setTitle(WHY_TITLE)
        self._show_charts(False)
        self.busy.stop()
        self.result.setText("")
        self.sequences.reset()

    def _show_charts(self, shown: bool, why: bool = False) -> None:
        self.chart.setVisible(shown)
        self.why_plot.setVisible(shown and why)
        self.placeholder.setVisible(not shown)

    def set_data(self, data) -> None:
        self.data = data
        kind = predict_kind(data) if data is not None else ""
        tokens = kind in (PROMPT, TEXT)
        self.classic.setVisible(not tokens)
        self.sequences.setVisible(tokens)
        self.sequences.set_data(data if tokens else None, kind)
        if data is None:
            self.picture.clear()
            self.plane_points.setData([])
            self.chosen.setData([])
            return
        self.sample.setMaximum(len(data.x_val) - 1)
        shape = data.input_shape
        drawable = data.kind == "image" and len(shape) == 3 and shape[0] == 1
        self.pad.setEnabled(drawable)
        if drawable:
            self.pad.resize_grid(shape[1], shape[2])
        plane = data.kind == "points" and shape == (2,)
        for widget in (self.pad, self.clear, self.draw_hint):      # the pad only for pictures
            widget.setVisible(drawable)
        self.picture.setVisible(data.kind == "image")
        self.plane.setVisible(plane)
        if plane:
            points = data.x_train.numpy()
            self.plane_points.setData(points[:, 0], points[:, 1],
                                      brush=[pg.mkBrush(current_theme().series_colour(int(c))) for c in data.y_train])
        self._show_picture()

    def _plane_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.plane.isVisible():
            return
        where = self.plane.getPlotItem().vb.mapSceneToView(event.scenePos())
        self.predict_point(where.x(), where.y())

    def predict_point(self, x: float, y: float) -> np.ndarray | None:
        """The model's probabilities for the point (x, y) of the plane, marked on it."""
        self.chosen.setData([x], [y])
        return self.show_prediction(torch.tensor([[x, y]], dtype=torch.float32), f"point ({x:.2f}, {y:.2f})")

    def _show_picture(self) -> None:
        """The chosen sample as a small grey (or colour) image, for image data."""
        data = self.data
        if data is None or data.kind != "image" or len(data.input_shape) != 3:
            self.picture.clear()
            return
        x = data.x_val[self.sample.value()].float().numpy()
        x = (x - x.min()) / (x.max() - x.min() + 1e-9)
        pixels = np.ascontiguousarray((np.moveaxis(x, 0, -1) * 255).astype(np.uint8))
        height, width, channels = pixels.shape
        if channels == 1:
            image = QImage(pixels.tobytes(), width, height, width, QImage.Format.Format_Grayscale8)
        else:
            rgb = np.ascontiguousarray(pixels[..., :3])
            image = QImage(rgb.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888)
        self.picture.setPixmap(QPixmap.fromImage(image).scaled(self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio))

    def show_record(self, record: RunRecord) -> None:
        """Follow the run's newest checkpoint: the model is rebuilt when its weights change."""
        self.run_model.follow(record)

    def _model_changed(self, problem: str) -> None:
        """New weights (or none, or a problem): say so, and ask the last question again of them."""
        run_model = self.run_model
        if run_model.building:
            self.busy.start("Loading the newest weights of " + (run_model.record.name if run_model.record else "the run")
                            + "...")
            return
        self.busy.stop()
        if problem:
            self.result.setText(problem)
        elif run_model.model is None:
            self.placeholder.setText(ASK)
        elif not self.sequences.isHidden():
            self.sequences.result.setText(f"The newest weights are loaded ({run_model.weights_from()}): type and "
                                          "press Enter.")
        elif self._question is not None and self._answered_by != run_model.weights_from():
            self.show_prediction(*self._question)          # the view follows the run
        elif self.probabilities is None:          # nothing asked yet: say what can be done now
            self.placeholder.setText(f"The newest weights are loaded ({run_model.weights_from()}): {self._asking()}.")
            self.result.setText(f"The newest weights are loaded: {run_model.weights_from()}.")

    def _asking(self) -> str:
        """How to ask the network something, for the data it has."""
        data = self.data
        if data is not None and data.kind == "points" and data.input_shape == (2,):
            return "click a point of the plane at the left to ask about it"
        if self.pad.isEnabled():
            return "choose a validation sample and press Predict sample, or draw one in the grid"
        return "choose a validation sample and press Predict sample"

    @property
    def model(self):
        return self.run_model.model

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
        self._question = (x, what)
        self._answered_by = weights = self.run_model.weights_from()
        with torch.no_grad():
            out = self.model(x.float() if x.is_floating_point() else x)
        out = out[0] if isinstance(out, tuple) else out
        probabilities = torch.softmax(out.reshape(-1).float(), dim=0).numpy()
        self.probabilities = probabilities
        self.chart.clear()
        self.chart.addItem(pg.BarGraphItem(x=np.arange(len(probabilities)), height=probabilities, width=0.7,
                                           brush=current_theme().training_series))
        names: list[str] = list(self.data.class_names) if self.data is not None else []
        best = int(np.argmax(probabilities))
        label = names[best] if best < len(names) else str(best)
        self.chart.getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names[: len(probabilities)])]])
        self.chart.setTitle(f"Class probabilities, {weights}")
        self.result.setText(f"The {what} looks like {label} ({probabilities[best]:.0%}), with the weights of {weights}.")
        self._show_charts(True, why=x.dim() == 4 and self.run_model.graph is not None)
        self._explain(x, best, label)
        return probabilities

    def _explain(self, x: torch.Tensor, target: int, label: str) -> None:
        """Grad-CAM or saliency of the prediction, in a background thread on a copy of the model."""
        graph = self.run_model.graph
        if x.dim() != 4 or graph is None:
            return
        model = self.run_model.copy()
        self._asked = asked = (x, target)
        self.busy.start(f"Working out where the evidence for {label} lies...")

        def explain():
            layer = grad_cam_layer(model, graph, x)
            return layer, (grad_cam(model, layer, x, target) if layer else saliency(model, x, target))

        def show(found, error) -> None:
            if self._asked is not asked:      # a newer prediction is on its way, or another run is shown
                return
            self.busy.stop()
            if error is not None:
                self.why_plot.setTitle(f"Why: {error}")
                return
            layer, (heat, _) = found
            heat = heat.numpy()
            self.why_image.setImage(overlay(x[0].float().numpy(), heat), autoLevels=False, levels=(0, 1))
            how = f"Grad-CAM on {layer}" if layer else "input gradient (saliency)"
            self.why_plot.setTitle(f"Why {label}: {how}")
        BackgroundJob(explain, show, self, name="netloom-explain").start()


WHY_TITLE = "Why: where the evidence lies"
ASK = "Train for an epoch, then choose a validation sample and press Predict sample, or draw one."


def evidence_key(plot: pg.PlotWidget) -> pg.ColorBarItem:
    """The overlay's colour scale beside its picture: dark where there is no evidence for the
    predicted class, bright where there is most (the picture itself shows through the dark)."""
    key = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("inferno"), interactive=False, width=12,
                          label="evidence")
    key.axis.setTicks([[(0.08, "none"), (0.92, "most")]])      # inside the bar: labels at its very ends are cut off
    plot.plotItem.layout.addItem(key, 2, 5)        # where pyqtgraph puts an image's own colour bar
    plot.plotItem.layout.setColumnFixedWidth(4, 5)
    return key


def overlay(picture: np.ndarray, heat: np.ndarray) -> np.ndarray:
    """A C x H x W input shown in grey (or its colours) with a 0..1 heat map laid over it in
    'inferno' colours, as opaque as it is hot: H x W x 3, 0..1."""
    base = picture.mean(axis=0) if picture.shape[0] != 3 else None
    if base is not None:
        base = (base - base.min()) / (np.ptp(base) + 1e-9)
        base = np.repeat(base[..., None], 3, axis=2)
    else:
        base = np.moveaxis((picture - picture.min()) / (np.ptp(picture) + 1e-9), 0, -1)
    heat = np.clip(heat, 0, 1)
    colours = pg.colormap.get("inferno").map(heat.ravel(), mode="float")[:, :3].reshape(*heat.shape, 3)
    # The heat covers the picture where it is strong and leaves it readable where it is not.
    alpha = 0.8 * heat[..., None]
    return (1 - alpha) * base + alpha * colours

"""Dashboard tabs that draw what the lecture notes draw: each neuron of a network on 2-D points as
a picture over the input plane with its wires coloured by weight (as TensorFlow Playground does),
a regression's fitted curve or predicted surface over its data, and the loss landscape around the
current weights with the path the optimizer took, or one landscape for an experiment's runs."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..theme import NEGATIVE, ON_COLOUR_MAP, POSITIVE
from ..theme import current as current_theme
from .run_record import RunRecord

PICTURE, COLUMN_GAP, ROW_GAP = 1.0, 1.6, 0.25   # a neuron's picture and the room between columns and rows
THIN, THICK = 0.5, 6.0                          # a wire's width in pixels for the smallest and largest |w|


def diverging_lookup() -> np.ndarray:
    """Orange below 0, the plot's background at 0, blue above: the sign of a value at a glance."""
    middle = current_theme().plot_background
    return pg.ColorMap([0.0, 0.5, 1.0], [QColor(NEGATIVE), QColor(middle), QColor(POSITIVE)]).getLookupTable(nPts=256)


def symmetric_levels(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    reach = float(np.abs(finite).max()) if finite.size else 1.0
    return -(reach or 1.0), reach or 1.0


def _plot(title: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setBackground(current_theme().plot_background)
    return plot


class NeuronsPanel(QWidget):
    """Columns of pictures: the inputs x₁ and x₂, then each dense layer's neurons (or a Features
    layer's features), each a picture of its output over the input plane; between columns, the
    weights of small layers as wires, blue for positive and orange for negative, thicker for
    larger |w|."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = _plot("Neurons over the input plane")
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMouseEnabled(x=True, y=True)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.images: dict[tuple[str, int], pg.ImageItem] = {}     # (layer or "input", unit) -> its picture
        self.wires: dict[tuple[str, int, int], pg.PlotDataItem] = {}   # (layer, unit, input) -> its wire
        self.labels: list[pg.TextItem] = []
        self._shape: tuple = ()

    def reset(self) -> None:
        self.plot.clear()
        self.images.clear()
        self.wires.clear()
        self.labels.clear()
        self._shape = ()
        self.caption.setText("")
        self.plot.setTitle("Neurons over the input plane")

    def show_record(self, record: RunRecord) -> None:
        shown = record.latest.get("NeuronPictures")
        if shown is None:
            return
        layers = shown.layers
        shape = tuple((layer.layer, layer.pictures.shape[0]) for layer in layers)
        new = shape != self._shape
        if new:                            # another network: lay the columns out anew
            self.reset()
            self._lay_out(shown)
            self._shape = shape
        lookup = diverging_lookup()
        resolution = layers[0].pictures.shape[-1] if layers else 40
        (x0, x1), (y0, y1) = shown.x_range, shown.y_range
        xs, ys = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
        for unit, plane in enumerate((xs, ys)):
            self._picture(("input", unit), plane, lookup)
        for layer in layers:
            for unit, picture in enumerate(layer.pictures):
                self._picture((layer.layer, unit), picture, lookup)
            self._colour_wires(layer)
        if new:                            # every picture and the labels above the columns in view
            self.plot.setRange(self.bounds, padding=0)
        self.plot.setTitle(f"Neurons over the input plane, {record.when(step=shown.step)}")
        large = [f"{layer.layer} ({layer.units} units, {len(layer.pictures)} drawn)" for layer in layers
                 if layer.units > len(layer.pictures)]
        self.caption.setText("Each picture: one neuron's output over the input plane (x₁ across, x₂ up), blue above 0, "
                             "orange below. Wires: the weights, blue positive, orange negative, thicker for larger |w|."
                             + (f" Only the first units of {', '.join(large)}." if large else ""))

    def _picture(self, key: tuple[str, int], values: np.ndarray, lookup: np.ndarray) -> None:
        image = self.images.get(key)
        if image is None:
            return
        image.setImage(np.asarray(values, dtype=np.float32), lut=lookup, levels=symmetric_levels(values), autoLevels=False)
        image.setRect(self.rects[key])          # after the image: the rectangle scales its pixels

    def _lay_out(self, shown) -> None:
        """One column per layer, its pictures stacked and centred; a label above each column."""
        columns = [("input", ("x₁", "x₂"))] + [(layer.layer, layer.labels) for layer in shown.layers]
        tallest = max(len(labels) for _, labels in columns)
        self.centres: dict[tuple[str, int], tuple[float, float]] = {}
        self.rects: dict[tuple[str, int], QRectF] = {}
        for c, (name, labels) in enumerate(columns):
            x = c * (PICTURE + COLUMN_GAP)
            top = (tallest - len(labels)) * (PICTURE + ROW_GAP) / 2
            for unit, label in enumerate(labels):
                y = -(top + unit * (PICTURE + ROW_GAP)) - PICTURE       # y grows upwards: the first unit on top
                image = pg.ImageItem(axisOrder="row-major")
                self.rects[(name, unit)] = QRectF(x, y, PICTURE, PICTURE)
                image.setToolTip(f"{name}: {label}")
                self.plot.addItem(image)
                self.images[(name, unit)] = image
                self.centres[(name, unit)] = (x, y + PICTURE / 2)
            title = "inputs" if name == "input" else next(layer.shown for layer in shown.layers if layer.layer == name)
            text = pg.TextItem(title, color=current_theme().plot_foreground, anchor=(0.5, 1.0))
            text.setPos(x + PICTURE / 2, -top + 0.1)
            self.plot.addItem(text)
            self.labels.append(text)
        height = tallest * (PICTURE + ROW_GAP)
        self.bounds = QRectF(-0.3, -height - 0.2, len(columns) * (PICTURE + COLUMN_GAP) - COLUMN_GAP + 0.6, height + 0.8)
        previous = "input"
        for layer in shown.layers:
            if layer.weights is not None:
                for unit in range(min(layer.weights.shape[0], len(layer.pictures))):
                    for source in range(layer.weights.shape[1]):
                        if (previous, source) not in self.centres:
                            continue
                        (sx, sy), (tx, ty) = self.centres[(previous, source)], self.centres[(layer.layer, unit)]
                        wire = pg.PlotDataItem([sx + PICTURE, tx], [sy, ty])
                        wire.setZValue(-1)
                        self.plot.addItem(wire)
                        self.wires[(layer.layer, unit, source)] = wire
            previous = layer.layer

    def _colour_wires(self, layer) -> None:
        if layer.weights is None:
            return
        reach = float(np.abs(layer.weights).max()) or 1.0
        for (name, unit, source), wire in self.wires.items():
            if name != layer.layer:
                continue
            w = float(layer.weights[unit, source])
            colour = QColor(POSITIVE if w >= 0 else NEGATIVE)
            colour.setAlpha(int(90 + 165 * abs(w) / reach))
            wire.setPen(pg.mkPen(colour, width=THIN + (THICK - THIN) * abs(w) / reach))
            wire.setToolTip(f"{layer.layer}: weight from input {source} to unit {unit} = {w:.3g}")

    def wire_pen(self, layer: str, unit: int, source: int):
        return self.wires[(layer, unit, source)].opts["pen"]


class FitPanel(QWidget):
    """A regression on one input: the training points, the validation points (hollow) and the
    model's curve through them; on two inputs: the predicted surface as a picture, with the
    validation points on it in their targets' colours."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        theme = current_theme()
        self.plot = _plot("Fitted curve")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(10, 10))
        self.train_points = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(theme.training_series), pen=None,
                                               name="training data")
        self.val_points = pg.ScatterPlotItem(size=7, brush=None, pen=pg.mkPen(theme.validation_series, width=1.5),
                                             name="validation data")
        self.curve = pg.PlotDataItem(pen=pg.mkPen(theme.plot_foreground, width=2.5), name="the model")
        self.surface = pg.ImageItem(axisOrder="row-major")
        for item in (self.surface, self.train_points, self.val_points, self.curve):
            self.plot.addItem(item)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.caption)
        self.data = None

    def reset(self) -> None:
        for item in (self.train_points, self.val_points, self.curve):
            item.setData([], [])
        self.surface.clear()
        self.caption.setText("")

    def set_data(self, data) -> None:
        self.data = data

    def show_record(self, record: RunRecord) -> None:
        curve, surface = record.latest.get("FittedCurve"), record.latest.get("PredictedSurface")
        if curve is not None:
            self._show_curve(record, curve)
        elif surface is not None:
            self._show_surface(record, surface)

    def _show_curve(self, record: RunRecord, curve) -> None:
        self.surface.clear()
        self.plot.setAspectLocked(False)
        self.plot.setLabel("bottom", "input x")
        self.plot.setLabel("left", "output y")
        if self.data is not None and self.data.input_shape == (1,):
            targets = self.data.y_train.numpy().reshape(len(self.data.y_train), -1)
            self.train_points.setData(self.data.x_train.numpy()[:, 0], targets[:, 0])
        self.val_points.setData(np.asarray(curve.val_x), np.asarray(curve.val_y).reshape(len(curve.val_x), -1)[:, 0])
        self.curve.setData(np.asarray(curve.x), np.asarray(curve.y)[:, 0])
        self.plot.setTitle(f"Fitted curve, {record.when(epoch=curve.epoch)}")
        self.caption.setText("Dots: training data; hollow rings: validation data the model never trains on; line: what "
                             "the model predicts at each x.")

    def _show_surface(self, record: RunRecord, surface) -> None:
        self.curve.setData([], [])
        self.train_points.setData([], [])
        self.plot.setAspectLocked(True)
        self.plot.setLabel("bottom", "first input (x₁)")
        self.plot.setLabel("left", "second input (x₂)")
        values = np.asarray(surface.values, dtype=np.float32)
        low, high = float(np.nanmin(values)), float(np.nanmax(values))
        lookup = pg.colormap.get("viridis").getLookupTable(nPts=256)
        self.surface.setImage(values, lut=lookup, levels=(low, high), autoLevels=False)
        (x0, x1), (y0, y1) = surface.x_range, surface.y_range
        self.surface.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        targets = np.asarray(surface.val_targets, dtype=np.float32)
        shades = np.clip((targets - low) / ((high - low) or 1.0), 0, 1)
        colormap = pg.colormap.get("viridis")
        brushes = [pg.mkBrush(colormap.map(float(s), mode="qcolor")) for s in shades]
        points = np.asarray(surface.val_points)
        self.val_points.setData(points[:, 0], points[:, 1], brush=brushes, pen=pg.mkPen(current_theme().point_outline))
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.plot.setTitle(f"Predicted surface, {record.when(epoch=surface.epoch)}")
        self.caption.setText(f"Colour: the model's prediction over the plane, from {low:.3g} (dark) to {high:.3g} "
                             "(yellow). Dots: validation points in their true values' colour: where a dot stands out "
                             "from the colour around it, the model is wrong there.")


class LandscapePanel(QWidget):
    """The loss over a plane of weight space: filled contours of log loss over two directions
    around the current weights (the centre), the optimizer's path to them, and, for an
    experiment's runs, one shared landscape with each run's path from their common start."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = _plot("Loss landscape")
        self.plot.setLabel("bottom", "α (first direction)")
        self.plot.setLabel("left", "β (second direction)")
        self.plot.addLegend(offset=(10, 10))
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.contours: list[pg.IsocurveItem] = []
        self.paths: dict[str, pg.PlotDataItem] = {}
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot, 1)
        layout.addLayout(row)
        self.shared = None          # an experiment's SharedLandscape, drawn instead of the run's own

    def reset(self) -> None:
        self.image.clear()
        self._clear_lines()
        self.caption.setText("")
        self.plot.setTitle("Loss landscape")
        self.shared = None

    def show_record(self, record: RunRecord) -> None:
        if self.shared is not None:
            return
        landscape = record.latest.get("LossLandscape")
        if landscape is None:
            said = [note for note in record.started.notes if "landscape" in note] if record.started is not None else []
            if said:                    # a model too large for landscapes: the run says so at its start
                self.caption.setText(" ".join(said))
            return
        self.draw(landscape.alphas, landscape.betas, landscape.losses, {record.name: np.asarray(landscape.path)})
        self.plot.setTitle(f"Loss landscape around the weights of {record.when(epoch=landscape.epoch)}")
        first = int(landscape.path_steps[0]) if len(landscape.path_steps) else 0
        self.caption.setText(f"Colour and contours: the training loss (log scale) over two {landscape.kind or 'directions'} "
                             f"through the current weights (the centre, loss "
                             f"{landscape.centre_loss:.4g}). Line: the path the weights took to get there, "
                             f"{len(landscape.path)} points from step {first}.")

    def show_shared(self, shared, names: list[str]) -> None:
        """One landscape for several runs that start from the same weights: each run's path from the
        centre (their start) along the plane that holds most of their ways."""
        self.reset()
        self.shared = shared
        land = shared.landscape
        self.draw(land.alphas, land.betas, land.losses, {name: shared.paths[name] for name in names})
        self.plot.setTitle("One loss landscape for the experiment's runs")
        self.caption.setText("All runs start at the centre (0, 0), from the same weights. " + "; ".join(
            f"{name}: ends at loss {shared.end_losses[name]:.4g}, the plane holds {shared.captured[name]:.0%} of its way"
            for name in names))

    def _clear_lines(self) -> None:
        """The contours, the paths and their key go; the landscape's picture is redrawn in place."""
        for item in [*self.contours, *self.paths.values()]:
            self.plot.removeItem(item)
        self.contours.clear()
        self.paths.clear()
        legend = self.plot.plotItem.legend
        if legend is not None:
            legend.clear()

    def draw(self, alphas, betas, losses, paths: dict[str, np.ndarray]) -> None:
        self._clear_lines()
        alphas, betas = np.asarray(alphas, dtype=np.float64), np.asarray(betas, dtype=np.float64)
        heights = np.log10(np.maximum(np.asarray(losses, dtype=np.float64), 1e-12))
        finite = heights[np.isfinite(heights)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        filled = np.where(np.isfinite(heights), heights, high).astype(np.float32)
        self.image.setImage(filled, lut=pg.colormap.get("viridis").getLookupTable(nPts=256), levels=(low, high),
                            autoLevels=False)
        self.image.setRect(QRectF(alphas[0], betas[0], alphas[-1] - alphas[0], betas[-1] - betas[0]))
        step_a, step_b = (alphas[-1] - alphas[0]) / max(len(alphas) - 1, 1), (betas[-1] - betas[0]) / max(len(betas) - 1, 1)
        for level in np.linspace(low, high, 9)[1:-1]:
            faint = QColor(ON_COLOUR_MAP)
            faint.setAlpha(110)
            contour = pg.IsocurveItem(data=filled.T, level=float(level), pen=pg.mkPen(faint, width=1))
            contour.setTransform(pg.QtGui.QTransform(step_a, 0, 0, step_b, alphas[0], betas[0]))
            self.plot.addItem(contour)
            self.contours.append(contour)
        for k, (name, path) in enumerate(paths.items()):
            colour = current_theme().series_colour(k + 1) if len(paths) > 1 else ON_COLOUR_MAP
            line = pg.PlotDataItem(path[:, 0], path[:, 1], pen=pg.mkPen(colour, width=2.5), symbol="o", symbolSize=4,
                                   symbolBrush=colour, symbolPen=None, name=name)
            self.plot.addItem(line)
            self.paths[name] = line
        self.plot.setRange(xRange=(alphas[0], alphas[-1]), yRange=(betas[0], betas[-1]), padding=0)

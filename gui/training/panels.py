"""Dashboard panels that look inside the network: gradient flow, filters, activation maps,
histograms, confusion matrix and decision boundary."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.insight import maximise_channels

from ..background import BackgroundJob
from ..theme import current as current_theme
from ..theme import icon as theme_icon
from .busy import Busy
from .run_record import RunRecord


def fitting_columns(n: int, h: int, w: int, width_px: float, height_px: float, gap: int = 1) -> int:
    """How many columns make ``n`` tiles of h x w largest in a view of width_px x height_px: a wide,
    short dock takes the tiles in a long row rather than a square in its middle."""
    if n <= 0 or width_px <= 0 or height_px <= 0:
        return max(1, int(np.ceil(np.sqrt(max(n, 1)))))

    def scale(cols: int) -> float:
        rows = int(np.ceil(n / cols))
        return min(width_px / (cols * (w + gap) - gap), height_px / (rows * (h + gap) - gap))
    return max(range(1, n + 1), key=lambda cols: (scale(cols), -cols))


def view_columns(plot: pg.PlotWidget, n: int, h: int, w: int) -> int:
    """``fitting_columns`` for the view ``plot`` draws in, as large as it is now."""
    view = plot.getViewBox().boundingRect()
    return fitting_columns(n, h, w, view.width(), view.height())


def mosaic(stack: np.ndarray, gap: int = 1, cols: int | None = None) -> np.ndarray:
    """Tiles of N x H x W (each scaled to 0..1 on its own) in ``cols`` columns (by default a
    near-square grid), NaN between."""
    n, h, w = stack.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, tile in enumerate(stack):
        low, high = float(np.min(tile)), float(np.max(tile))
        scaled = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = scaled
    return out


def colour_mosaic(stack: np.ndarray, gap: int = 1, cols: int | None = None) -> np.ndarray:
    """Colour tiles of N x 3 x H x W (each scaled to 0..1 on its own, all colours together, so
    that hues stay as they are) in ``cols`` columns, grey between: rows x columns x 3."""
    n, _, h, w = stack.shape
    cols = cols or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 0.5, dtype=np.float32)
    for i, tile in enumerate(stack):
        low, high = float(np.min(tile)), float(np.max(tile))
        scaled = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = np.moveaxis(scaled, 0, -1)
    return out


class TileNumbers:
    """Each tile's channel number on a mosaic, while tiles are large enough on screen to carry one,
    and a colour bar saying what the colours mean (each tile scaled from its lowest to its highest)."""

    MIN_TILE_PX = 22
    MAX_NUMBERED = 256

    def __init__(self, plot: pg.PlotWidget, image: pg.ImageItem) -> None:
        self.plot = plot
        self.items: list[pg.TextItem] = []
        self.font = QFont()
        self.font.setPointSize(7)
        # Short words on the bar (a long label is cut off by the bar's height); the title says the rest.
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False,
                                   label="in each tile")
        self.bar.setImageItem(image, insert_in=plot.plotItem)
        self.bar.axis.setTicks([[(0.08, "lowest"), (0.92, "highest")]])
        self.cols = 1

    def show(self, stack_shape: tuple[int, ...], gap: int = 1, cols: int | None = None) -> None:
        n, h, w = stack_shape
        cols = self.cols = cols or int(np.ceil(np.sqrt(max(n, 1))))
        if n > self.MAX_NUMBERED:
            n = 0
        while len(self.items) > n:
            self.plot.removeItem(self.items.pop())
        while len(self.items) < n:
            theme = current_theme()
            item = pg.TextItem(color=theme.tile_label, fill=QColor(theme.tile_plate), anchor=(0, 0))
            item.setFont(self.font)
            self.plot.addItem(item)
            self.items.append(item)
        tile_px = min(h, w) / max(self.plot.getViewBox().viewPixelSize()[0], 1e-9)
        for i, item in enumerate(self.items):
            r, c = divmod(i, cols)
            item.setText(str(i))
            item.setPos(c * (w + gap), r * (h + gap))
            item.setVisible(tile_px >= self.MIN_TILE_PX)


def as_tiles(array: np.ndarray) -> np.ndarray:
    """Any layer output or weight as a stack of 2-D tiles: maps stay maps, vectors become a row."""
    if array.ndim == 1:
        return array.reshape(1, 1, -1)
    if array.ndim == 2:
        return array.reshape(1, *array.shape)
    if array.ndim == 3:
        return array
    return array.reshape(array.shape[0], -1, array.shape[-1]) if array.shape[1] != 1 else array[:, 0]


def image_view(title: str) -> tuple[pg.PlotWidget, pg.ImageItem]:
    plot = pg.PlotWidget(title=title)
    plot.setBackground(current_theme().plot_background)
    plot.setAspectLocked(True)
    plot.invertY(True)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    image = pg.ImageItem(axisOrder="row-major")
    image.setLookupTable(pg.colormap.get("viridis").getLookupTable())
    plot.addItem(image)
    return plot, image


class LayerPicker(QComboBox):
    """A layer chooser that keeps the choice while its list of layers grows, and remembers a
    layer asked for before it has anything to show (a node clicked early in a run). It calls
    ``on_change`` when the person picks another layer; ``row`` lays it out after its caption."""

    wanted: str | None = None

    def __init__(self, on_change, caption: str = "layer", parent=None) -> None:
        super().__init__(parent)
        self.caption = caption
        self.currentTextChanged.connect(lambda _: on_change())

    def row(self, *before: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        for widget in before:
            row.addWidget(widget)
        row.addWidget(QLabel(self.caption))
        row.addWidget(self, 1)
        return row

    def want(self, layer: str) -> None:
        self.wanted = layer
        if self.findText(layer) >= 0:
            self.setCurrentText(layer)

    def set_layers(self, layers: list[str]) -> None:
        if [self.itemText(i) for i in range(self.count())] == layers:
            return
        chosen = self.wanted if self.wanted in layers else self.currentText()
        self.blockSignals(True)
        self.clear()
        self.addItems(layers)
        if chosen in layers:
            self.setCurrentText(chosen)
        self.blockSignals(False)


class FiltersPanel(QWidget):
    """A convolution layer's filters, and beside them, on request, what each of its first
    channels responds to: an input optimised from noise to excite it (in a background thread,
    on a copy of the run's newest model)."""

    def __init__(self, run_model=None, parent=None) -> None:
        super().__init__(parent)
        self.run_model = run_model
        self.layer = LayerPicker(self.refresh, "convolution layer")
        self.plot, self.image = image_view(FILTERS_TITLE)
        self.numbers = TileNumbers(self.plot, self.image)
        self.found_plot, self.found_image = image_view(FOUND_TITLE)
        self.found_numbers = TileNumbers(self.found_plot, self.found_image)
        self.count = QSpinBox(minimum=1, maximum=64, value=16, prefix="first ", suffix=" channels")
        self.find_button = QPushButton(theme_icon("mdi6.magnify-scan"), "Find what they respond to")
        self.find_button.setToolTip("Optimise an input from noise to excite each channel (jitter, blur and an L2 "
                             "penalty keep it readable), using the run's newest weights")
        self.busy = Busy()
        self.found_caption = QLabel("")
        self.found_caption.setWordWrap(True)
        row = self.layer.row()
        row.addWidget(self.count)
        row.addWidget(self.find_button)
        images = QHBoxLayout()
        images.addWidget(self.plot, 1)
        images.addWidget(self.found_plot, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(images, 1)
        layout.addWidget(self.busy)
        layout.addWidget(self.found_caption)
        self.find_button.clicked.connect(self.find_channel_images)
        self.record: RunRecord | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.found = None
        self.found_from = ""                  # whose weights the channel images were found with

    def reset(self) -> None:
        self.record, self.found, self.found_from = None, None, ""
        self.layer.set_layers([])
        for image, numbers in ((self.image, self.numbers), (self.found_image, self.found_numbers)):
            image.clear()
            numbers.show((0, 1, 1))
        self.plot.setTitle(FILTERS_TITLE)
        self.found_plot.setTitle(FOUND_TITLE)
        self.found_caption.setText("")
        self.busy.stop()
        self.find_button.setEnabled(True)

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.layer.set_layers(list(record.latest.get("filters", {})))
        self.refresh()
        if self.found is not None and self.run_model is not None and self.run_model.weights_from() != self.found_from:
            self.found_plot.setTitle(f"{FOUND_TITLE}: {self.found_from}; newer weights are in, press Find again")

    def refresh(self) -> None:
        filters = (self.record.latest.get("filters", {}) if self.record else {}).get(self.layer.currentText())
        if filters is None or self.record is None:
            return
        weights = filters.weights
        tiles = weights.mean(axis=1) if weights.ndim == 4 else weights.mean(axis=1)[:, None, :]
        cols = view_columns(self.plot, *tiles.shape)
        self.image.setImage(mosaic(tiles, cols=cols), autoLevels=False, levels=(0, 1))
        self.numbers.show(tiles.shape, cols=cols)
        self.plot.setTitle(f"{filters.layer} filters, {self.record.when(step=filters.step)}")

    def find_channel_images(self) -> bool:
        """Start the optimisation; False (with the reason shown) when it cannot start."""
        layer = self.layer.currentText()
        model = self.run_model.copy() if self.run_model is not None else None
        if model is None or not layer or self.input_shape is None:
            self.found_caption.setText("Needs a layer and the weights of a run that finished an epoch.")
            return False
        shape, count, record = self.input_shape, self.count.value(), self.record
        weights_from = self.run_model.weights_from()
        self.find_button.setEnabled(False)
        self.found_caption.setText("")
        self.busy.start(f"Optimising inputs for {count} channels of {layer} with {weights_from}...")

        def show(found, error) -> None:
            if self.record is not record:         # another run is shown by now
                return
            self.busy.stop()
            self.find_button.setEnabled(True)
            if error is not None:
                self.found_caption.setText(f"Could not find them: {error}")
                return
            self._show_found(found, weights_from)
        BackgroundJob(lambda: maximise_channels(model, layer, shape, count), show, self,
                      name="netloom-channel-images").start()
        return True

    def _show_found(self, found, weights_from: str) -> None:
        self.found, self.found_from = found, weights_from
        images = found.images
        colour = images.shape[1] == 3            # RGB input: the tiles in their own colours
        tiles = images.mean(axis=1)
        cols = view_columns(self.found_plot, *tiles.shape)
        self.found_image.setLookupTable(None if colour else pg.colormap.get("viridis").getLookupTable())
        self.found_image.setImage(colour_mosaic(images, cols=cols) if colour else mosaic(tiles, cols=cols),
                                  autoLevels=False, levels=(0, 1))
        self.found_numbers.show(tiles.shape, cols=cols)
        self.found_numbers.bar.setVisible(not colour)    # its scale describes one-colour tiles only
        self.found_plot.setTitle(f"{FOUND_TITLE}: {weights_from}")
        above = (found.activation - found.noise_activation) / np.maximum(found.noise_spread, 1e-9)
        self.found_caption.setText(
            f"{found.layer}: each tile is the input that excites its channel most. Their activations are "
            f"{np.median(found.activation):.2f} (median) against {np.median(found.noise_activation):.2f} for "
            f"noise of the same size: {np.median(above):.1f} standard deviations above it.")


FILTERS_TITLE = "Filters (each scaled on its own; mean over input channels)"
FOUND_TITLE = "What each channel responds to"


class ActivationsPanel(QWidget):
    """The chosen validation sample beside a layer's feature maps for it."""
    sample_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.sample = QSpinBox(minimum=0, maximum=0)
        self.layer = LayerPicker(self.refresh)
        self.sample_plot, self.sample_image = image_view("Sample")
        self.sample_image.setLookupTable(None)
        self.maps_plot, self.maps_image = image_view("Activation maps")
        self.numbers = TileNumbers(self.maps_plot, self.maps_image)
        self.caption = QLabel("")
        row = self.layer.row(QLabel("validation sample"), self.sample)
        images = QHBoxLayout()
        images.addWidget(self.sample_plot, 1)
        images.addWidget(self.maps_plot, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(images)
        layout.addWidget(self.caption)
        self.sample.valueChanged.connect(self.sample_changed)
        self.record: RunRecord | None = None
        self.maps: np.ndarray | None = None
        self.data = None

    def reset(self) -> None:
        self.record, self.maps = None, None
        self.layer.set_layers([])
        self.maps_image.clear()
        self.numbers.show((0, 1, 1))
        self.caption.setText("")

    def set_samples(self, data) -> None:
        self.data = data
        self.sample.setMaximum(max(0, len(data.x_val) - 1) if data is not None else 0)
        self.show_sample()

    def show_sample(self) -> None:
        data = self.data
        if data is None or data.kind != "image":
            self.sample_image.clear()
            self.sample_plot.setTitle("Sample")
            return
        x = data.x_val[self.sample.value()].numpy()
        picture = x[0] if x.shape[0] == 1 else np.moveaxis(x, 0, -1)
        low, high = float(picture.min()), float(picture.max())
        self.sample_image.setImage((picture - low) / (high - low + 1e-9), autoLevels=False, levels=(0, 1))
        self.sample_plot.setTitle(f"Sample {self.sample.value()}: class {data.class_names[int(data.y_val[self.sample.value()])]}")

    def choose_layer(self, layer: str) -> None:
        self.layer.want(layer)

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.layer.set_layers(list(record.latest.get("activations", {})))
        self.refresh()

    def refresh(self) -> None:
        maps = (self.record.latest.get("activations", {}) if self.record else {}).get(self.layer.currentText())
        if maps is None or self.record is None:
            return
        self.maps = maps.maps
        tiles = as_tiles(maps.maps)
        cols = view_columns(self.maps_plot, *tiles.shape)
        self.maps_image.setImage(mosaic(tiles, cols=cols), autoLevels=False, levels=(0, 1))
        self.numbers.show(tiles.shape, cols=cols)
        self.caption.setText(f"{maps.layer}: {'x'.join(map(str, maps.maps.shape))} for sample {maps.sample}, "
                             f"{self.record.when(step=maps.step)}")


class HistogramsPanel(QWidget):
    """How a layer's weights and their gradients are spread at the latest probe, side by side."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer = LayerPicker(self.refresh)
        self.weights = pg.PlotWidget(title="Weights")
        self.grads = pg.PlotWidget(title="Gradients")
        for plot, what in ((self.weights, "weight"), (self.grads, "gradient")):
            plot.setBackground(current_theme().plot_background)
            plot.setLabel("bottom", f"{what} value")
            plot.setLabel("left", "count")
        self.caption = QLabel("")
        plots = QHBoxLayout()                  # the dock is wide and short: the two side by side
        plots.addWidget(self.weights, 1)
        plots.addWidget(self.grads, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(self.layer.row())
        layout.addLayout(plots, 1)
        layout.addWidget(self.caption)
        self.record: RunRecord | None = None

    def reset(self) -> None:
        self.record = None
        self.layer.set_layers([])
        self.weights.clear()
        self.grads.clear()
        self.caption.setText("")

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        hist = record.latest.get("Histograms")
        if hist is not None:
            self.layer.set_layers([h.layer for h in hist.layers])
        self.refresh()

    def refresh(self) -> None:
        hist = self.record.latest.get("Histograms") if self.record else None
        if hist is None or self.record is None:
            return
        layer = next((h for h in hist.layers if h.layer == self.layer.currentText()), None)
        if layer is None:
            return
        theme = current_theme()
        for plot, counts, (low, high), colour in ((self.weights, layer.weight_counts, layer.weight_range,
                                                   theme.training_series),
                                                  (self.grads, layer.grad_counts, layer.grad_range, theme.validation_series)):
            plot.clear()
            if counts is None:
                continue
            edges = np.linspace(low, high, len(counts) + 1)
            plot.addItem(pg.BarGraphItem(x0=edges[:-1], x1=edges[1:], height=counts, brush=colour))
        self.caption.setText(f"{layer.layer}: {int(layer.weight_counts.sum()):,} weights, {self.record.when(step=hist.step)}")


class ConfusionPanel(QWidget):
    """Rows: the true class, columns: the predicted one, each named; the count in each cell (up to
    20 classes, where they can be read) and a colour bar for the scale. Beside it, on the same
    rows, the share of each class the model gets right: the matrix's cells stretch to fill the
    panel rather than sit square in the middle of a wide, short dock."""

    MAX_COUNTED = 20

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot, self.image = image_view(CONFUSION_TITLE)
        self.plot.setAspectLocked(False)
        for side, text in (("left", "true class"), ("bottom", "predicted class")):
            self.plot.showAxis(side)
            self.plot.setLabel(side, text)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, label="samples")
        self.bar.setImageItem(self.image, insert_in=self.plot.plotItem)
        self.recall = pg.PlotWidget(title="Right, per true class")
        self.recall.setBackground(current_theme().plot_background)
        self.recall.invertY(True)
        self.recall.setYLink(self.plot)
        self.recall.setXRange(0, 100, padding=0.02)
        self.recall.setMouseEnabled(False, False)
        self.recall.setLabel("bottom", "correct (%)")
        self.recall.hideAxis("left")
        self.recall_bars: pg.BarGraphItem | None = None
        self.counts: list[pg.TextItem] = []
        self.count_font = QFont()
        self.count_font.setPointSize(7)
        self.caption = QLabel("")
        plots = QHBoxLayout()
        plots.addWidget(self.plot, 3)
        plots.addWidget(self.recall, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(plots, 1)
        layout.addWidget(self.caption)
        self.matrix: np.ndarray | None = None

    def reset(self) -> None:
        self.matrix = None
        self.image.clear()
        self._show_counts(np.zeros((0, 0), dtype=np.int64))
        for axis in ("left", "bottom"):
            self.plot.getAxis(axis).setTicks(None)
        if self.recall_bars is not None:
            self.recall.removeItem(self.recall_bars)
            self.recall_bars = None
        self.plot.setTitle(CONFUSION_TITLE)
        self.caption.setText("")

    def show_record(self, record: RunRecord) -> None:
        confusion = record.latest.get("ConfusionMatrix")
        if confusion is None:
            return
        matrix = confusion.matrix
        self.matrix = matrix
        self.image.setImage(matrix.astype(np.float32), autoLevels=False)
        self.bar.setLevels((0, max(1, int(matrix.max()))))
        names = confusion.class_names
        ticks = [[(i + 0.5, str(name)) for i, name in enumerate(names)]]
        self.plot.getAxis("left").setTicks(ticks)
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.setTitle(f"{CONFUSION_TITLE}, {record.when(epoch=confusion.epoch)}")
        self._show_recall(matrix)
        self._show_counts(matrix)
        total = matrix.sum()
        worst = np.argsort(-(matrix - np.diag(np.diag(matrix))).flatten())[:1]
        t, p = divmod(int(worst[0]), matrix.shape[1])
        self.caption.setText(f"{np.trace(matrix) / total:.1%} of {total:,} validation samples right; most "
                             f"often confused: {names[t]} taken for {names[p]} ({matrix[t, p]} times)")

    def _show_recall(self, matrix: np.ndarray) -> None:
        rows = matrix.sum(axis=1)
        right = 100 * np.diag(matrix) / np.maximum(rows, 1)
        if self.recall_bars is not None:
            self.recall.removeItem(self.recall_bars)
        self.recall_bars = pg.BarGraphItem(x0=0, width=right, y=np.arange(len(right)) + 0.5, height=0.7,
                                           brush=current_theme().training_series)
        self.recall.addItem(self.recall_bars)

    def _show_counts(self, matrix: np.ndarray) -> None:
        n = matrix.shape[0]
        if n > self.MAX_COUNTED:
            n = 0
        while len(self.counts) > n * n:
            self.plot.removeItem(self.counts.pop())
        while len(self.counts) < n * n:
            item = pg.TextItem(anchor=(0.5, 0.5))
            item.setFont(self.count_font)
            self.plot.addItem(item)
            self.counts.append(item)
        if not n:
            return
        high = max(1, int(matrix.max()))
        width, height = self.plot.getViewBox().viewPixelSize()
        readable = 1 / max(width, 1e-9) >= 18 and 1 / max(height, 1e-9) >= 11   # else a count would be noise
        theme = current_theme()
        for index, item in enumerate(self.counts):
            item.setVisible(readable)
            row, column = divmod(index, n)
            value = int(matrix[row, column])
            item.setText(str(value), color=theme.on_bright if value > 0.6 * high else theme.on_dim)
            item.setPos(column + 0.5, row + 0.5)


CONFUSION_TITLE = "Confusion matrix"


class BoundaryPanel(QWidget):
    """For 2-D data: the predicted class over the plane, faded by confidence, under the points.
    The view is the probed grid (the data and a margin), with the classes' key beside it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title=BOUNDARY_TITLE)
        self.plot.setBackground(current_theme().plot_background)
        self.plot.setLabel("bottom", "first input (x₁)")
        self.plot.setLabel("left", "second input (x₂)")
        self.plot.setAspectLocked(True)      # distances in the plane read the same both ways
        self.image = pg.ImageItem(axisOrder="row-major")
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen(QColor(current_theme().point_outline), width=0.5))
        self.val_points = pg.ScatterPlotItem(size=9, brush=None)      # rings: the validation points, shown on demand
        self.plot.addItem(self.image)
        self.plot.addItem(self.points)
        self.plot.addItem(self.val_points)
        self.key = QLabel("")
        self.key.setWordWrap(True)
        self.key.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.key.setMinimumWidth(220)
        self.show_validation = QCheckBox("Show validation data")
        self.show_validation.setToolTip("Rings in their true class's colour: the points the network never trains on")
        self.show_validation.toggled.connect(lambda _: self._show_validation())
        side = QVBoxLayout()
        side.addWidget(self.show_validation, 0, Qt.AlignmentFlag.AlignLeft)
        side.addWidget(self.key, 1)
        row = QHBoxLayout(self)
        row.addWidget(self.plot)
        row.addLayout(side, 1)
        self.rgba: np.ndarray | None = None
        self.class_names: list[str] = []
        self.boundary = None

    def reset(self) -> None:
        self.rgba = None
        self.boundary = None
        self.image.clear()
        self.val_points.setData([])
        self.plot.setTitle(BOUNDARY_TITLE)
        self.key.setText("")

    def resizeEvent(self, event) -> None:
        """The plane is square (its axes keep one scale): the plot is as wide as it is high, and
        the key takes the rest of a wide dock, rather than blank margins either side."""
        super().resizeEvent(event)
        axes = 70                                   # the left axis and its label, roughly
        self.plot.setMaximumWidth(max(200, self.height() + axes))

    def set_points(self, data) -> None:
        if data is None or data.kind != "points" or data.input_shape != (2,):
            self.points.setData([])
            self.class_names = []
            return
        x = data.x_train.numpy()
        theme = current_theme()
        colours = [pg.mkBrush(theme.series_colour(int(c))) for c in data.y_train]
        self.points.setData(x[:, 0], x[:, 1], brush=colours)
        self.class_names = [str(name) for name in data.class_names]

    def show_record(self, record: RunRecord) -> None:
        boundary = record.latest.get("DecisionBoundary")
        if boundary is None:
            return
        self.boundary = boundary
        self._show_validation()
        theme = current_theme()
        series = theme.series
        palette = np.array([QColor(c).getRgb() for c in series], dtype=np.float32)
        rgba = palette[boundary.classes % len(series)].copy()
        rgba[..., 3] = 40 + 140 * np.clip((boundary.confidence - 0.5) * 2, 0, 1)
        self.rgba = rgba.astype(np.uint8)
        self.image.setImage(self.rgba, autoLevels=False)
        (x0, x1), (y0, y1) = boundary.x_range, boundary.y_range
        self.image.setRect(pg.QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self.plot.setTitle(f"{BOUNDARY_TITLE}, {record.when(epoch=boundary.epoch)}")
        classes = sorted({int(c) for c in np.unique(boundary.classes)} | set(range(len(self.class_names))))
        names = [self.class_names[c] if c < len(self.class_names) else str(c) for c in classes]
        self.key.setText("<b>Colour: the class the model predicts there</b><br>" + "<br>".join(
            f"<span style='color:{theme.series_colour(c)}'>&#9632;</span>&nbsp;{name}" for c, name in
            zip(classes, names)) + "<br><br>Strong colour: sure of it; faded: unsure (near a boundary).<br>"
            "Dots: the training points, in their true class's colour.")

    def _show_validation(self) -> None:
        """The validation points the last boundary came with, as rings in their true class's colour."""
        boundary = self.boundary
        if boundary is None or not self.show_validation.isChecked() or not len(boundary.val_points):
            self.val_points.setData([])
            return
        theme = current_theme()
        pens = [pg.mkPen(theme.series_colour(int(c)), width=2) for c in boundary.val_labels]
        self.val_points.setData(boundary.val_points[:, 0], boundary.val_points[:, 1], pen=pens, brush=None)


BOUNDARY_TITLE = "Decision boundary"


class OutputsPanel(QWidget):
    """What the model gives against what it should give: an autoencoder's validation images (top
    row) above their reconstructions (bottom row); a regression's predictions against their
    targets, with the line a perfect model would sit on."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.images_plot, self.images = image_view("Inputs (top) and their reconstructions (bottom)")
        self.scatter_plot = pg.PlotWidget(title="Predicted against target")
        self.scatter_plot.setBackground(current_theme().plot_background)
        self.scatter_plot.showGrid(x=True, y=True, alpha=0.2)
        self.scatter_plot.setLabel("bottom", "target")
        self.scatter_plot.setLabel("left", "predicted")
        theme = current_theme()
        self.ideal = self.scatter_plot.plot(pen=pg.mkPen(theme.guide, width=1, style=Qt.PenStyle.DashLine))
        self.points = pg.ScatterPlotItem(size=5, brush=pg.mkBrush(theme.training_series), pen=None)
        self.scatter_plot.addItem(self.points)
        self.caption = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.images_plot)
        layout.addWidget(self.scatter_plot)
        layout.addWidget(self.caption)
        self.scatter_plot.hide()

    def reset(self) -> None:
        self.images.clear()
        self.points.setData([])
        self.ideal.setData([], [])
        self.caption.setText("")

    def show_record(self, record: RunRecord) -> None:
        shown = record.latest.get("SampleOutputs")
        if shown is None:
            return
        targets, outputs = shown.targets, shown.outputs
        when = record.when(epoch=shown.epoch)
        error = float(np.mean((outputs.reshape(len(outputs), -1) - targets.reshape(len(targets), -1)) ** 2))
        if outputs.shape == targets.shape and outputs.ndim == 4:        # images in, images out
            self.images_plot.show()
            self.scatter_plot.hide()
            self.images.setImage(_two_rows(targets.mean(axis=1), outputs.mean(axis=1)), autoLevels=False, levels=(0, 1))
            self.caption.setText(f"{when}: mean squared error {error:.4g} over these {len(outputs)} samples")
            return
        self.images_plot.hide()
        self.scatter_plot.show()
        x, y = targets.reshape(-1), outputs.reshape(-1)[: len(targets.reshape(-1))]
        self.points.setData(x, y)
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        self.ideal.setData([low, high], [low, high])
        spread = float(np.var(x)) or 1.0
        self.caption.setText(f"{when}: mean squared error {error:.4g}, R² {1 - error / spread:.3f} "
                             f"over {len(x)} validation samples (the dashed line: a perfect prediction)")


def _two_rows(top: np.ndarray, bottom: np.ndarray, gap: int = 1) -> np.ndarray:
    """N images above their N counterparts, each pair scaled together (so a faint reconstruction
    reads faint), NaN between."""
    n, h, w = top.shape
    out = np.full((2 * h + gap, n * (w + gap) - gap), np.nan, dtype=np.float32)
    for i in range(n):
        low, high = float(min(top[i].min(), bottom[i].min())), float(max(top[i].max(), bottom[i].max()))
        scale = (high - low) or 1.0
        out[:h, i * (w + gap): i * (w + gap) + w] = (top[i] - low) / scale
        out[h + gap:, i * (w + gap): i * (w + gap) + w] = (bottom[i] - low) / scale
    return out

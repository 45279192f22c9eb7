"""Dashboard panels that look inside the network: gradient flow, filters, activation maps,
histograms, confusion matrix and decision boundary."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.insight import maximise_channels
from graphs import GraphFileError, loads_graph

from ..background import BackgroundJob
from ..theme import current as current_theme
from .run_record import RunRecord

VANISHING = 1e-6
EXPLODING = 1e2


def mosaic(stack: np.ndarray, gap: int = 1) -> np.ndarray:
    """Tiles of N x H x W (each scaled to 0..1 on its own) in a near-square grid, NaN between."""
    n, h, w = stack.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan, dtype=np.float32)
    for i, tile in enumerate(stack):
        low, high = float(np.min(tile)), float(np.max(tile))
        scaled = (tile - low) / (high - low) if high > low else np.zeros_like(tile)
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = scaled
    return out


def colour_mosaic(stack: np.ndarray, gap: int = 1) -> np.ndarray:
    """Colour tiles of N x 3 x H x W (each scaled to 0..1 on its own, all colours together, so
    that hues stay as they are) in a near-square grid, grey between: rows x columns x 3."""
    n, _, h, w = stack.shape
    cols = int(np.ceil(np.sqrt(n)))
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
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"), interactive=False,
                                   label="each tile: its lowest (0) to highest (1)")
        self.bar.setImageItem(image, insert_in=plot.plotItem)

    def show(self, stack_shape: tuple[int, ...], gap: int = 1) -> None:
        n, h, w = stack_shape
        cols = int(np.ceil(np.sqrt(n)))
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


class GradientsPanel(QWidget):
    """Mean (solid) and max (dashed) absolute gradient per layer over time, log scale, with the
    vanishing and exploding ranges shaded."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title="Gradient flow: mean (solid) and max (dashed) |gradient| per layer")
        self.plot.setBackground(current_theme().plot_background)
        self.plot.setLogMode(y=True)
        self.plot.setLabel("bottom", "training step")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("left", "|gradient|")
        self.plot.getAxis("left").enableAutoSIPrefix(False)      # "x0.001" makes no sense on a log axis
        self.band_labels: list[pg.TextItem] = []
        theme = current_theme()
        for low, high, band, text in ((-12, np.log10(VANISHING), theme.vanishing_band, "vanishing (below 1e-6)"),
                                      (np.log10(EXPLODING), 6, theme.exploding_band, "exploding (above 1e2)")):
            region = pg.LinearRegionItem(values=(low, high), orientation="horizontal", movable=False,
                                         brush=pg.mkBrush(QColor(band)))
            region.setToolTip(text)
            # The bands mark ranges; the view fits the gradients, not 1e-12 to 1e6.
            self.plot.addItem(region, ignoreBounds=True)
            inside = (0, 0) if high < 0 else (0, 1)         # just inside the band, by its edge
            opaque = QColor(band)
            opaque.setAlpha(255)            # the band's own hue, to be read as text
            label = pg.TextItem(text, color=opaque, anchor=inside)
            label.setPos(0, high if high < 0 else low)
            self.plot.addItem(label, ignoreBounds=True)
            self.band_labels.append(label)
        self.lines: dict[str, tuple] = {}
        self.colours: dict[str, str] = {}       # layer -> its colour on the canvas (set with the graph)
        self.summary = QLabel("")
        # The key beside the plot, not over it: a model has tens of layers.
        self.key = QLabel("")
        self.key.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        key_area = QScrollArea()
        key_area.setWidget(self.key)
        key_area.setWidgetResizable(True)
        key_area.setFixedWidth(170)
        key_area.setFrameShape(QScrollArea.Shape.NoFrame)
        row = QHBoxLayout()
        row.addWidget(self.plot, 1)
        row.addWidget(key_area)
        # Runs side by side (an experiment's variants): each run's gradient by depth, first layer left.
        self.by_depth = pg.PlotWidget(title="Runs compared: mean |gradient| by depth (averaged over each run's probes)")
        self.by_depth.setBackground(current_theme().plot_background)
        self.by_depth.setLogMode(y=True)
        self.by_depth.showGrid(x=True, y=True, alpha=0.2)
        self.by_depth.setLabel("bottom", "layer with weights, first (input side) to last")
        self.by_depth.setLabel("left", "mean |gradient|")
        self.by_depth.getAxis("left").enableAutoSIPrefix(False)
        self.depth_key = QLabel("")
        self.by_depth.hide()
        self.depth_key.hide()
        self.depth_lines: dict[str, pg.PlotDataItem] = {}
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addWidget(self.by_depth, 2)      # when runs are compared, that is the point of the tab
        layout.addWidget(self.depth_key)
        layout.addWidget(self.summary)

    def show_record(self, record: RunRecord) -> None:
        added = False
        for i, (layer, (mean, peak)) in enumerate(record.gradients.items()):
            if layer not in self.lines:
                added = True
                colour = self.colours.get(layer) or current_theme().series_colour(i)
                self.lines[layer] = (self.plot.plot(pen=pg.mkPen(colour, width=2), name=layer, symbol="o",
                                                    symbolSize=4, symbolBrush=colour, symbolPen=None),
                                     self.plot.plot(pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)))
            solid, dashed = self.lines[layer]
            solid.setData(mean.x, np.maximum(mean.y, 1e-12))
            dashed.setData(peak.x, np.maximum(peak.y, 1e-12))
        if added:
            self.key.setText("<br>".join(f"<span style='color:{pen.color().name()}'>&#9472;&#9472;</span>&nbsp;{layer}"
                                         for layer, pen in ((name, lines[0].opts["pen"])
                                                            for name, lines in self.lines.items())))
        left = self.plot.viewRange()[0][0]
        for label in self.band_labels:          # the bands' names stay at the left edge in view
            label.setPos(left, label.pos().y())
        latest = record.latest.get("gradients")
        if latest is not None:
            flags = [f"{g.layer}: {'vanishing' if g.mean_abs_grad < VANISHING else 'exploding'}"
                     for g in latest.layers if g.mean_abs_grad < VANISHING or g.max_abs_grad > EXPLODING]
            self.summary.setText("; ".join(flags) if flags else "All layers receive healthy gradients.")

    def compare(self, runs: list[RunRecord], layer_types: dict[str, str]) -> dict[str, np.ndarray]:
        """Each run's mean |gradient| per layer by depth, when two or more runs have gradients:
        the lecture's picture of vanishing gradients. Normalisation layers are left out, so that
        depth counts the same layers in every variant. Returns the curves drawn, by run name."""
        curves = {}
        for run in runs:
            types = _run_layer_types(run) or layer_types
            values = [float(np.mean(mean.y)) for layer, (mean, _) in run.gradients.items()
                      if mean.size and types.get(layer, "") not in NORMALISATIONS]
            if values:
                curves[run.name] = np.maximum(np.array(values), 1e-14)
        self.by_depth.setVisible(len(curves) >= 2)
        self.depth_key.setVisible(len(curves) >= 2)
        if len(curves) < 2:
            return curves
        keys = []
        for i, (name, values) in enumerate(curves.items()):
            colour = current_theme().series_colour(i)
            line = self.depth_lines.get(name)
            if line is None:
                line = self.depth_lines[name] = self.by_depth.plot(pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=6,
                                                                symbolBrush=colour, symbolPen=None, name=name)
            line.setData(np.arange(1, len(values) + 1), values)
            keys.append(f"<span style='color:{colour}'>&#9472;&#9679;&#9472;</span>&nbsp;{name}: first layer "
                        f"{values[0]:.1e}, last {values[-1]:.1e}")
        self.depth_key.setText(" &nbsp;&nbsp; ".join(keys))
        return curves

    def reset(self) -> None:
        for line in self.depth_lines.values():
            self.by_depth.removeItem(line)
        self.depth_lines = {}
        self.depth_key.setText("")
        for solid, dashed in self.lines.values():
            self.plot.removeItem(solid)
            self.plot.removeItem(dashed)
        self.key.setText("")
        self.lines = {}
        self.summary.setText("")


NORMALISATIONS = ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "LocalResponseNorm")


@functools.lru_cache(maxsize=32)
def _layer_types(graph_text: str) -> dict[str, str]:
    try:
        graph = loads_graph(graph_text, "<run>")
    except GraphFileError:
        return {}
    return {n.id: n.type for n in graph.nodes.values()}


def _run_layer_types(run: RunRecord) -> dict[str, str]:
    """node id -> type in the graph the run trained (empty for a kept run without its graph)."""
    return _layer_types(run.graph_text) if run.graph_text else {}


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
        self.plot, self.image = image_view("Filters (each scaled on its own; mean over input channels)")
        self.numbers = TileNumbers(self.plot, self.image)
        self.found_plot, self.found_image = image_view("What each channel responds to")
        self.found_numbers = TileNumbers(self.found_plot, self.found_image)
        self.count = QSpinBox(minimum=1, maximum=64, value=16, prefix="first ", suffix=" channels")
        self.find_button = QPushButton("Find what they respond to")
        self.find_button.setToolTip("Optimise an input from noise to excite each channel (jitter, blur and an L2 "
                             "penalty keep it readable), using the run's newest weights")
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
        layout.addWidget(self.found_caption)
        self.find_button.clicked.connect(self.find_channel_images)
        self.record: RunRecord | None = None
        self.input_shape: tuple[int, ...] | None = None
        self.found = None

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        self.layer.set_layers(list(record.latest.get("filters", {})))
        self.refresh()

    def refresh(self) -> None:
        filters = (self.record.latest.get("filters", {}) if self.record else {}).get(self.layer.currentText())
        if filters is None:
            return
        weights = filters.weights
        tiles = weights.mean(axis=1) if weights.ndim == 4 else weights.mean(axis=1)[:, None, :]
        self.image.setImage(mosaic(tiles), autoLevels=False, levels=(0, 1))
        self.numbers.show(tiles.shape)

    def find_channel_images(self) -> bool:
        """Start the optimisation; False (with the reason shown) when it cannot start."""
        layer = self.layer.currentText()
        model = self.run_model.copy() if self.run_model is not None else None
        if model is None or not layer or self.input_shape is None:
            self.found_caption.setText("Needs a layer and the weights of a run that finished an epoch.")
            return False
        shape, count = self.input_shape, self.count.value()
        self.find_button.setEnabled(False)
        self.found_caption.setText(f"Optimising inputs for {count} channels of {layer}...")
        BackgroundJob(lambda: maximise_channels(model, layer, shape, count), self._show_found, self,
                      name="netloom-channel-images").start()
        return True

    def _show_found(self, found, error) -> None:
        self.find_button.setEnabled(True)
        if error is not None:
            self.found_caption.setText(f"Could not find them: {error}")
            return
        self.found = found
        images = found.images
        colour = images.shape[1] == 3            # RGB input: the tiles in their own colours
        tiles = images.mean(axis=1)
        self.found_image.setLookupTable(None if colour else pg.colormap.get("viridis").getLookupTable())
        self.found_image.setImage(colour_mosaic(images) if colour else mosaic(tiles), autoLevels=False,
                                  levels=(0, 1))
        self.found_numbers.show(tiles.shape)
        self.found_numbers.bar.setVisible(not colour)    # its scale describes one-colour tiles only
        above = (found.activation - found.noise_activation) / np.maximum(found.noise_spread, 1e-9)
        self.found_caption.setText(
            f"{found.layer}: each tile is the input that excites its channel most. Their activations are "
            f"{np.median(found.activation):.2f} (median) against {np.median(found.noise_activation):.2f} for "
            f"noise of the same size: {np.median(above):.1f} standard deviations above it.")


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

    def set_samples(self, data) -> None:
        self.data = data
        self.sample.setMaximum(max(0, len(data.x_val) - 1) if data is not None else 0)
        self.show_sample()

    def show_sample(self) -> None:
        data = getattr(self, "data", None)
        if data is None or data.kind != "image":
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
        if maps is None:
            return
        self.maps = maps.maps
        tiles = as_tiles(maps.maps)
        self.maps_image.setImage(mosaic(tiles), autoLevels=False, levels=(0, 1))
        self.numbers.show(tiles.shape)
        self.caption.setText(f"{maps.layer}: {'x'.join(map(str, maps.maps.shape))} for sample {maps.sample}, "
                             f"step {maps.step}")


class HistogramsPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer = LayerPicker(self.refresh)
        self.weights = pg.PlotWidget(title="Weights")
        self.grads = pg.PlotWidget(title="Gradients")
        for plot, what in ((self.weights, "weight"), (self.grads, "gradient")):
            plot.setBackground(current_theme().plot_background)
            plot.setLabel("bottom", f"{what} value")
            plot.setLabel("left", "count")
        layout = QVBoxLayout(self)
        layout.addLayout(self.layer.row())
        layout.addWidget(self.weights)
        layout.addWidget(self.grads)
        self.record: RunRecord | None = None

    def show_record(self, record: RunRecord) -> None:
        self.record = record
        hist = record.latest.get("Histograms")
        if hist is not None:
            self.layer.set_layers([h.layer for h in hist.layers])
        self.refresh()

    def refresh(self) -> None:
        hist = self.record.latest.get("Histograms") if self.record else None
        if hist is None:
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


class ConfusionPanel(QWidget):
    """Rows: the true class, columns: the predicted one, each named; the count in each cell (up to
    20 classes, where they can be read) and a colour bar for the scale."""

    MAX_COUNTED = 20

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot, self.image = image_view("Confusion matrix")
        for side, text in (("left", "true class"), ("bottom", "predicted class")):
            self.plot.showAxis(side)
            self.plot.setLabel(side, text)
        self.bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False, label="samples")
        self.bar.setImageItem(self.image, insert_in=self.plot.plotItem)
        self.counts: list[pg.TextItem] = []
        self.count_font = QFont()
        self.count_font.setPointSize(7)
        self.caption = QLabel("")
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot)
        layout.addWidget(self.caption)
        self.matrix: np.ndarray | None = None

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
        self._show_counts(matrix)
        total = matrix.sum()
        worst = np.argsort(-(matrix - np.diag(np.diag(matrix))).flatten())[:1]
        t, p = divmod(int(worst[0]), matrix.shape[1])
        self.caption.setText(f"epoch {confusion.epoch}: {np.trace(matrix) / total:.1%} correct; most "
                             f"often confused: {names[t]} taken for {names[p]} ({matrix[t, p]} times)")

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
        high = max(1, int(matrix.max()))
        cell_px = 1.0 / max(self.plot.getViewBox().viewPixelSize()[0], 1e-9)
        readable = cell_px >= 18                # a count wider than its cell would only be noise
        theme = current_theme()
        for index, item in enumerate(self.counts):
            item.setVisible(readable)
            row, column = divmod(index, n)
            value = int(matrix[row, column])
            item.setText(str(value), color=theme.on_bright if value > 0.6 * high else theme.on_dim)
            item.setPos(column + 0.5, row + 0.5)


class BoundaryPanel(QWidget):
    """For 2-D data: the predicted class over the plane, faded by confidence, under the points."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title="Decision boundary")
        self.plot.setBackground(current_theme().plot_background)
        self.plot.setLabel("bottom", "first input")
        self.plot.setLabel("left", "second input")
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.points = pg.ScatterPlotItem(size=5, pen=pg.mkPen(QColor(current_theme().point_outline), width=0.5))
        self.plot.addItem(self.image)
        self.plot.addItem(self.points)
        layout = QVBoxLayout(self)
        layout.addWidget(self.plot)
        self.rgba: np.ndarray | None = None

    def set_points(self, data) -> None:
        if data is None or data.kind != "points" or data.input_shape != (2,):
            self.points.setData([])
            return
        x = data.x_train.numpy()
        theme = current_theme()
        colours = [pg.mkBrush(theme.series_colour(int(c))) for c in data.y_train]
        self.points.setData(x[:, 0], x[:, 1], brush=colours)

    def show_record(self, record: RunRecord) -> None:
        boundary = record.latest.get("DecisionBoundary")
        if boundary is None:
            return
        series = current_theme().series
        palette = np.array([QColor(c).getRgb() for c in series], dtype=np.float32)
        rgba = palette[boundary.classes % len(series)].copy()
        rgba[..., 3] = 40 + 140 * np.clip((boundary.confidence - 0.5) * 2, 0, 1)
        self.rgba = rgba.astype(np.uint8)
        self.image.setImage(self.rgba, autoLevels=False)
        (x0, x1), (y0, y1) = boundary.x_range, boundary.y_range
        self.image.setRect(pg.QtCore.QRectF(x0, y0, x1 - x0, y1 - y0))
        self.plot.setTitle(f"Decision boundary after epoch {boundary.epoch}")


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

    def show_record(self, record: RunRecord) -> None:
        shown = record.latest.get("SampleOutputs")
        if shown is None:
            return
        targets, outputs = shown.targets, shown.outputs
        error = float(np.mean((outputs.reshape(len(outputs), -1) - targets.reshape(len(targets), -1)) ** 2))
        if outputs.shape == targets.shape and outputs.ndim == 4:        # images in, images out
            self.images_plot.show()
            self.scatter_plot.hide()
            self.images.setImage(_two_rows(targets.mean(axis=1), outputs.mean(axis=1)), autoLevels=False, levels=(0, 1))
            self.caption.setText(f"epoch {shown.epoch}: mean squared error {error:.4g} over these {len(outputs)} samples")
            return
        self.images_plot.hide()
        self.scatter_plot.show()
        x, y = targets.reshape(-1), outputs.reshape(-1)[: len(targets.reshape(-1))]
        self.points.setData(x, y)
        low, high = float(min(x.min(), y.min())), float(max(x.max(), y.max()))
        self.ideal.setData([low, high], [low, high])
        spread = float(np.var(x)) or 1.0
        self.caption.setText(f"epoch {shown.epoch}: mean squared error {error:.4g}, R² {1 - error / spread:.3f} "
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

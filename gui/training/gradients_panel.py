"""The Gradients tab: how strongly each layer of the shown run learns, over the run, and several
runs (an experiment's variants) side by side by depth. Each verdict sits under the plot it is
about and is worked out from the numbers that plot draws."""

from __future__ import annotations

import functools

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from graphs import GraphFileError, loads_graph

from ..canvas.training_overlay import BAND_NAMES, BAND_RANGES, EXPLODING, VANISHING, gradient_band
from ..theme import current as current_theme
from .curves import nice_ceiling
from .run_record import RunRecord

NORMALISATIONS = ("BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "LocalResponseNorm")
HEALTHY = BAND_NAMES.index("healthy")
FLOOR = 1e-14        # a gradient of exactly 0 has no place on a log axis: drawn at the floor


def decade_ticks(plot: pg.PlotWidget, values: np.ndarray) -> None:
    """A log axis that reads in powers of ten: the range is whole decades around ``values``, a
    labelled tick at each power ("1e-3") and unlabelled ones between, never a crowd of labels."""
    values = values[np.isfinite(values) & (values > 0)]
    if not values.size:
        return
    low, high = int(np.floor(np.log10(values.min()))), int(np.ceil(np.log10(values.max())))
    high = max(high, low + 1)
    step = max(1, (high - low + 7) // 8)          # at most about 8 labels
    major = [(float(k), f"1e{k}") for k in range(low, high + 1) if (k - low) % step == 0]
    minor = [(float(np.log10(m * 10.0 ** k)), "") for k in range(low, high) for m in range(2, 10)] \
        if high - low <= 4 else []
    plot.getAxis("left").setTicks([major, minor])
    plot.setYRange(low, high, padding=0)


class GradientsPanel(QWidget):
    """Mean (solid) and max (dashed) absolute gradient per layer over time, log scale, with the
    vanishing and exploding ranges shaded; each layer's line in a colour of its own."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(title=FLOW_TITLE)
        self.plot.setBackground(current_theme().plot_background)
        self.plot.setLogMode(y=True)
        self.plot.setLabel("bottom", "training step")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setLabel("left", "|gradient|")
        self.plot.getAxis("left").enableAutoSIPrefix(False)      # "x0.001" makes no sense on a log axis
        self.plot.enableAutoRange(x=False, y=False)              # whole decades and 1-2-5 steps, set as it grows
        self.band_labels: list[pg.TextItem] = []
        theme = current_theme()
        for low, high, band, text in ((-14, np.log10(VANISHING), theme.vanishing_band, "vanishing (below 1e-6)"),
                                      (np.log10(EXPLODING), 6, theme.exploding_band, "exploding (above 1e2)")):
            region = pg.LinearRegionItem(values=(low, high), orientation="horizontal", movable=False,
                                         brush=pg.mkBrush(QColor(band)))
            region.setToolTip(text)
            # The bands mark ranges; the view fits the gradients, not 1e-14 to 1e6.
            self.plot.addItem(region, ignoreBounds=True)
            inside = (0, 0) if high < 0 else (0, 1)         # just inside the band, by its edge
            opaque = QColor(band)
            opaque.setAlpha(255)            # the band's own hue, to be read as text
            label = pg.TextItem(text, color=opaque, anchor=inside)
            label.setPos(0, high if high < 0 else low)
            self.plot.addItem(label, ignoreBounds=True)
            self.band_labels.append(label)
        self.lines: dict[str, tuple] = {}
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
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
        self.by_depth = pg.PlotWidget(title=DEPTH_TITLE)
        self.by_depth.setBackground(current_theme().plot_background)
        self.by_depth.setLogMode(y=True)
        self.by_depth.showGrid(x=True, y=True, alpha=0.2)
        self.by_depth.setLabel("bottom", "layer with weights, first (input side) to last")
        self.by_depth.setLabel("left", "mean |gradient|")
        self.by_depth.getAxis("left").enableAutoSIPrefix(False)
        self.depth_key = QLabel("")
        self.depth_key.setWordWrap(True)
        self.depth_verdict = QLabel("")
        self.depth_verdict.setWordWrap(True)
        self.depth_lines: dict[str, pg.PlotDataItem] = {}
        # Side by side: the dock is wide and short, and each verdict stays under its own plot.
        flow = QVBoxLayout()
        flow.addLayout(row, 1)
        flow.addWidget(self.summary)
        depth = QVBoxLayout()
        depth.setContentsMargins(0, 0, 0, 0)
        depth.addWidget(self.by_depth, 1)
        depth.addWidget(self.depth_key)
        depth.addWidget(self.depth_verdict)
        self.comparison = QWidget()
        self.comparison.setLayout(depth)
        layout = QHBoxLayout(self)
        layout.addLayout(flow, 1)
        layout.addWidget(self.comparison, 1)     # when runs are compared, that is the point of the tab
        self._show_comparison(False)

    def _show_comparison(self, shown: bool) -> None:
        self.comparison.setVisible(shown)

    def show_record(self, record: RunRecord) -> None:
        added = False
        theme = current_theme()
        for i, (layer, (mean, peak)) in enumerate(record.gradients.items()):
            if layer not in self.lines:
                added = True
                colour = theme.series_colour(i)      # neighbours in the key differ most
                self.lines[layer] = (self.plot.plot(pen=pg.mkPen(colour, width=2), name=layer, symbol="o",
                                                    symbolSize=4, symbolBrush=colour, symbolPen=None),
                                     self.plot.plot(pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)))
            solid, dashed = self.lines[layer]
            solid.setData(mean.x, np.maximum(mean.y, FLOOR))
            dashed.setData(peak.x, np.maximum(peak.y, FLOOR))
        if added:
            self.key.setText("<br>".join(f"<span style='color:{pen.color().name()}'>&#9472;&#9472;</span>&nbsp;{layer}"
                                         for layer, pen in ((name, lines[0].opts["pen"])
                                                            for name, lines in self.lines.items())))
        if record.gradients:
            steps = max(float(mean.x[-1]) for mean, _ in record.gradients.values() if mean.size)
            self.plot.setXRange(0, nice_ceiling(steps), padding=0.02)
            decade_ticks(self.plot, np.concatenate([np.maximum(series.y, FLOOR) for pair in record.gradients.values()
                                                    for series in pair]))
        left = self.plot.viewRange()[0][0]
        for label in self.band_labels:          # the bands' names stay at the left edge in view
            label.setPos(left, label.pos().y())
        self.summary.setText(verdict(record))

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
                curves[run.name] = np.maximum(np.array(values), FLOOR)
        self._show_comparison(len(curves) >= 2)
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
        decade_ticks(self.by_depth, np.concatenate(list(curves.values())))
        self.depth_key.setText("<br>".join(keys))
        self.depth_verdict.setText(depth_verdict(curves))
        return curves

    def reset(self) -> None:
        for line in self.depth_lines.values():
            self.by_depth.removeItem(line)
        self.depth_lines = {}
        self.depth_key.setText("")
        self.depth_verdict.setText("")
        self._show_comparison(False)
        for solid, dashed in self.lines.values():
            self.plot.removeItem(solid)
            self.plot.removeItem(dashed)
        self.key.setText("")
        self.lines = {}
        self.summary.setText("")


FLOW_TITLE = "Gradient flow per layer: mean (solid), max (dashed)"
DEPTH_TITLE = "Runs compared: mean |gradient| by depth (averaged over each run's probes)"


def verdict(record: RunRecord) -> str:
    """The shown run's latest probe judged layer by layer, in the canvas's bands: what the last
    points of the plot say."""
    latest = record.latest.get("gradients")
    if latest is None:
        return ""
    when = record.when(step=latest.step)
    means = {g.layer: g.mean_abs_grad for g in latest.layers}
    bands = {layer: gradient_band(value) for layer, value in means.items()}
    if all(band == HEALTHY for band in bands.values()):
        return (f"{when}, the latest probe: all {len(means)} layers receive healthy gradients (mean |gradient| "
                f"from {min(means.values()):.1e} to {max(means.values()):.1e}, within {BAND_RANGES[HEALTHY]}).")
    parts = [f"{BAND_NAMES[band]} ({BAND_RANGES[band]}) in " +
             ", ".join(f"{layer} {means[layer]:.1e}" for layer in means if bands[layer] == band)
             for band in range(len(BAND_NAMES)) if band != HEALTHY and band in bands.values()]
    healthy = [layer for layer, band in bands.items() if band == HEALTHY]
    rest = f"; healthy in {', '.join(healthy)}" if healthy else ""
    return f"{when}, the latest probe: mean |gradient| is " + "; ".join(parts) + rest + "."


def depth_verdict(curves: dict[str, np.ndarray]) -> str:
    """The compared runs judged from the points the comparison draws, in the canvas's bands: each
    run by the weakest (or strongest) layer it has outside the healthy band."""
    parts, healthy = [], []
    for name, values in curves.items():
        bands = [gradient_band(v) for v in values]
        low, high = min(bands), max(bands)
        if low == high == HEALTHY:
            healthy.append(name)
            continue
        band, index = (low, int(np.argmin(values))) if low < HEALTHY else (high, int(np.argmax(values)))
        parts.append(f"{name}: {BAND_NAMES[band]} ({BAND_RANGES[band]}) at layer {index + 1}, "
                     f"{values[index]:.1e} on average")
    if healthy:
        parts.append(f"healthy at every depth: {', '.join(healthy)}")
    return "Compared: " + "; ".join(parts) + "."


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

"""What the inspector shows under a node's settings to teach what the layer computes: an
activation's function and its derivative on one plot (with the formula), and a trained layer's
weights, from the newest weights of the run shown, as a heat map or as numbers."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from engine.insight import ACTIVATIONS, InsightError, activation_curve, layer_parameters

from ..theme import current as current_theme
from ..training.teaching_panels import diverging_lookup, symmetric_levels

HEAT_MAP, NUMBERS = "heat map", "numbers"
NUMBERS_SHOWN = 12          # rows and columns of weights the numbers table shows


class LayerInsight(QWidget):
    """Fed with ``show_node(node)``; ``run_model`` (a RunModel, set by the window) gives trained weights."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        theme = current_theme()
        self.curve_plot = pg.PlotWidget()
        self.curve_plot.setBackground(theme.plot_background)
        self.curve_plot.showGrid(x=True, y=True, alpha=0.25)
        self.curve_plot.addLegend(offset=(5, 5))
        self.curve_plot.setMinimumHeight(190)
        self.function = self.curve_plot.plot(pen=pg.mkPen(theme.training_series, width=2.5), name="f(x)")
        self.derivative = self.curve_plot.plot(pen=pg.mkPen(theme.validation_series, width=2, style=Qt.PenStyle.DashLine),
                                               name="f′(x)")
        self.formula = QLabel("")
        self.formula.setWordWrap(True)
        self.weights_caption = QLabel("")
        self.weights_caption.setWordWrap(True)
        self.weights_as = QComboBox()
        self.weights_as.addItems([HEAT_MAP, NUMBERS])
        self.weights_as.setToolTip("The weights as colours (blue positive, orange negative) or as numbers")
        self.weights_as.currentTextChanged.connect(lambda _: self._show_weights())
        self.heat_plot = pg.PlotWidget()
        self.heat_plot.setBackground(theme.plot_background)
        self.heat_plot.invertY(True)
        self.heat_plot.setLabel("bottom", "input")
        self.heat_plot.setLabel("left", "unit")
        self.heat_plot.setMinimumHeight(180)
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat_plot.addItem(self.heat)
        self.numbers = QTableWidget()
        self.numbers.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.numbers.setMinimumHeight(180)
        choice = QHBoxLayout()
        choice.addWidget(QLabel("Weights as"))
        choice.addWidget(self.weights_as)
        choice.addStretch(1)
        self.weights_box = QWidget()
        weights = QVBoxLayout(self.weights_box)
        weights.setContentsMargins(0, 0, 0, 0)
        weights.addLayout(choice)
        weights.addWidget(self.heat_plot)
        weights.addWidget(self.numbers)
        weights.addWidget(self.weights_caption)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.curve_plot)
        layout.addWidget(self.formula)
        layout.addWidget(self.weights_box)
        self.run_model = None
        self.node_id: str | None = None
        self.matrix: np.ndarray | None = None
        self.shape: tuple[int, ...] = ()
        self.show_node(None)

    def set_run_model(self, run_model, want_newest=lambda: None) -> None:
        """``want_newest()`` asks for the shown run's newest weights (built in a thread; the
        model's listeners hear when they are there)."""
        self.run_model, self.want_newest = run_model, want_newest
        run_model.listeners.append(lambda problem: self._load_weights())

    def follow_run(self) -> None:
        """The run moved on: while a layer's weights are shown, ask for the newest (the run model
        rebuilds only when a checkpoint holds other weights, and its listeners redraw them)."""
        if self.matrix is not None and self.run_model is not None:
            self.want_newest()

    def show_node(self, node) -> None:
        """The views that apply to ``node`` (a graph node or None); hidden when none does."""
        self.node_id = node.id if node is not None else None
        self.curve = node is not None and node.type in ACTIVATIONS
        self.curve_plot.setVisible(self.curve)
        self.formula.setVisible(self.curve)
        if self.curve:
            self._show_curve(node)
        elif node is not None and self.run_model is not None:
            self.want_newest()
        self._load_weights()

    def _show_curve(self, node) -> None:
        params = {k: v for k, v in node.params.items() if not isinstance(v, dict)}     # a block's parameter: default
        try:
            curve = activation_curve(node.type, params)
        except InsightError as err:
            self.function.setData([], [])
            self.derivative.setData([], [])
            self.formula.setText(str(err))
            return
        self.function.setData(curve.x, curve.y)
        self.derivative.setData(curve.x, curve.slope)
        self.curve_plot.setTitle(f"{node.type} and its derivative")
        words = f"<br>f′: {curve.derivative}" if curve.derivative else ""
        self.formula.setText(f"f(x) = {curve.formula}{words}")

    def _load_weights(self) -> None:
        model = self.run_model.model if self.run_model is not None else None
        found: dict[str, np.ndarray] = {}
        if model is not None and self.node_id is not None:
            found = layer_parameters(model, self.node_id)
        weight = found.get("weight")
        if weight is None or weight.ndim < 2:
            self.matrix = None
        else:
            self.matrix, self.shape = weight.reshape(weight.shape[0], -1), weight.shape   # a filter's taps in one row
        self.weights_box.setVisible(self.matrix is not None)
        self.setVisible(self.curve or self.matrix is not None)
        self._show_weights()

    def _show_weights(self) -> None:
        matrix, shape = self.matrix, self.shape
        if matrix is None:
            return
        heat = self.weights_as.currentText() == HEAT_MAP
        self.heat_plot.setVisible(heat)
        self.numbers.setVisible(not heat)
        if heat:
            self.heat.setImage(matrix, lut=diverging_lookup(), levels=symmetric_levels(matrix), autoLevels=False)
            self.heat.setRect(QRectF(0, 0, matrix.shape[1], matrix.shape[0]))
            self.heat_plot.autoRange()
        else:
            rows, cols = min(len(matrix), NUMBERS_SHOWN), min(matrix.shape[1], NUMBERS_SHOWN)
            self.numbers.clear()
            self.numbers.setRowCount(rows)
            self.numbers.setColumnCount(cols)
            for r in range(rows):
                for c in range(cols):
                    self.numbers.setItem(r, c, QTableWidgetItem(f"{matrix[r, c]:.3g}"))
            self.numbers.resizeColumnsToContents()
        low, high = float(matrix.min()), float(matrix.max())
        cut = "" if heat or matrix.shape[0] <= NUMBERS_SHOWN and matrix.shape[1] <= NUMBERS_SHOWN else \
            f" (the first {NUMBERS_SHOWN} rows and columns)"
        grouped = f"; each row holds one filter's {' x '.join(map(str, shape[1:]))} weights" if len(shape) > 2 else ""
        source = self.run_model.weights_from() if self.run_model is not None else ""
        self.weights_caption.setText(f"Weights of {self.node_id}" + (f" ({source})" if source else "") +
                                     f": {matrix.shape[0]} x {matrix.shape[1]}, from {low:.3g} to {high:.3g}{cut}{grouped}.")

"""Convolution and pooling step by step: an input, a kernel (or a pooling window) and the output,
with the window sliding one output cell at a time. Each cell's multiply-adds (or its max, or its
mean) are written out; stride, padding and dilation can be changed; the output-size formula is
shown with its values, and, for a layer of the graph, checked against the shape on its wire.

The numbers are the engine's (``engine.insight`` conv_steps); this view only lays them out."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import compile_graph
from engine.insight import (
    AVG,
    CONV,
    KERNEL_PRESETS,
    MAX,
    WORKED_EXAMPLES,
    InsightError,
    SlidingWindow,
    WindowSteps,
    layer_input,
    layer_kernel,
    layer_window,
    parse_grid,
    window_steps,
    wire_check,
)

from ..background import BackgroundJob
from ..theme import current as current_theme

PLAY_MS = 450
SHOWN = 32             # the tables show at most this many rows and columns of an input (a 224x224 image is cropped)
KINDS = (CONV, MAX, AVG)
TRAINED, TYPED = "the layer's trained weights", "typed numbers"


def number(value: float) -> str:
    """A cell's number as short as a cell can show it: 30, 3.25, −0.81 (the tooltip and the
    expression give more digits)."""
    if np.isnan(value):
        return ""
    if value == int(value) and abs(value) < 1e5:
        text = str(int(value))
    else:
        text = f"{value:.2f}" if abs(value) < 100 else f"{value:.3g}"
    return text.replace("-", "−")


def grid_text(grid: np.ndarray) -> str:
    return "\n".join(" ".join(number(v) if v != int(v) else str(int(v)) for v in row) for row in grid)


class SlidingWindowView(QDialog):
    """Opened on its own (the notes' worked examples), or for a Conv2d, MaxPool2d or AvgPool2d node
    of ``graph``: then its window comes from the node, its formula is checked against the node's
    wire, its input can be a data-set sample (through the trained layers before it, when a run has
    weights in ``run_model``) and its kernel the layer's trained filter."""

    def __init__(self, parent=None, graph=None, node_id: str | None = None, report=None, run_model=None,
                 data=None) -> None:
        super().__init__(parent)
        self.graph, self.node_id, self.report, self.run_model, self.data = graph, node_id, report, run_model, data
        self.setWindowTitle(f"{node_id}: step by step" if node_id else "Convolution and pooling step by step")
        self.image = np.zeros((1, 1, 1))           # channels x H x W
        self.kernel = np.zeros((1, 1, 1))          # channels x F x F (convolution)
        self.bias = 0.0
        self.steps: WindowSteps | None = None
        self.position = 0                          # cells of the output worked out so far
        self._timer = QTimer(self, interval=PLAY_MS)
        self._timer.timeout.connect(self._play_step)

        self.example = QComboBox()
        if node_id is not None:
            self.example.addItem(f"Layer {node_id}", node_id)
        for name, worked in WORKED_EXAMPLES.items():
            self.example.addItem(f"Notes: {name}", name)
            self.example.setItemData(self.example.count() - 1, worked.title, Qt.ItemDataRole.ToolTipRole)
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.kind.setToolTip("What the window does: multiply-add with a kernel, keep the largest value, or the mean")
        self.pool_size = _spin(1, 15, "Pooling window size (a convolution's window is its kernel)")
        self.stride = _spin(1, 15, "Stride S: how far the window moves at each step")
        self.padding = _spin(0, 15, "Padding P: zeros (for pooling: empty cells) added on each side")
        self.dilation = _spin(1, 15, "Dilation D: the spacing of the window's taps (1: next to each other)")
        settings = QFormLayout()
        for label, widget in (("example", self.example), ("window", self.kind), ("pool size", self.pool_size),
                              ("stride S", self.stride), ("padding P", self.padding), ("dilation D", self.dilation)):
            settings.addRow(label, widget)

        self.input_text = QPlainTextEdit()
        self.input_text.setPlaceholderText("rows of numbers, e.g.\n1 2 3\n4 5 6\n7 8 9")
        self.use_input = QPushButton("Use typed input")
        self.sample = _spin(0, 0, "Which validation sample of the data set")
        self.take_sample = QPushButton("Take sample")
        self.channel = _spin(0, 0, "Which input channel the tables show")
        input_box = QGroupBox("Input")
        input_form = QVBoxLayout(input_box)
        input_form.addWidget(self.input_text)
        row = QHBoxLayout()
        row.addWidget(self.use_input)
        row.addWidget(self.take_sample)
        row.addWidget(self.sample)
        input_form.addLayout(row)
        shown = QHBoxLayout()
        shown.addWidget(QLabel("channel shown"))
        shown.addWidget(self.channel)
        shown.addStretch(1)
        input_form.addLayout(shown)

        self.kernel_choice = QComboBox()
        self.kernel_choice.addItems([*KERNEL_PRESETS, TYPED])
        self.out_channel = _spin(0, 0, "Which output channel's filter of the layer")
        self.input_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.kernel_text = QPlainTextEdit()
        self.kernel_text.setPlaceholderText("rows of numbers, e.g.\n1 0 −1\n1 0 −1\n1 0 −1")
        self.use_kernel = QPushButton("Use typed kernel")
        kernel_box = QGroupBox("Kernel")
        kernel_form = QVBoxLayout(kernel_box)
        choice = QHBoxLayout()
        choice.addWidget(self.kernel_choice, 1)
        choice.addWidget(QLabel("filter"))
        choice.addWidget(self.out_channel)
        kernel_form.addLayout(choice)
        kernel_form.addWidget(self.kernel_text)
        kernel_form.addWidget(self.use_kernel)
        self.kernel_box = kernel_box

        self.input_table, self.kernel_table, self.output_table = _table(), _table(), _table()
        self.input_caption, self.kernel_caption, self.output_caption = QLabel("Input"), QLabel("Kernel"), QLabel("Output")
        tables = QGridLayout()
        for column, (caption, table) in enumerate(((self.input_caption, self.input_table),
                                                   (self.kernel_caption, self.kernel_table),
                                                   (self.output_caption, self.output_table))):
            tables.addWidget(caption, 0, column)
            tables.addWidget(table, 1, column)
        tables.setColumnStretch(0, 3)
        tables.setColumnStretch(1, 1)
        tables.setColumnStretch(2, 2)

        self.step_button = QPushButton("Step")
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.all_button = QPushButton("All cells")
        self.reset_button = QPushButton("Reset")
        buttons = QHBoxLayout()
        for button in (self.reset_button, self.step_button, self.play_button, self.all_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.expression = QLabel("")
        self.expression.setWordWrap(True)
        self.expression.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.formula = QLabel("")
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {current_theme().error}")

        left = QVBoxLayout()
        left.addLayout(settings)
        left.addWidget(input_box)
        left.addWidget(kernel_box)
        left.addStretch(1)
        side = QWidget()
        side.setLayout(left)
        side.setMaximumWidth(340)
        right = QVBoxLayout()
        right.addLayout(tables, 1)
        right.addLayout(buttons)
        right.addWidget(self.expression)
        right.addWidget(self.formula)
        right.addWidget(self.error)
        layout = QHBoxLayout(self)
        layout.addWidget(side)
        layout.addLayout(right, 1)
        self.resize(1150, 640)

        self.example.currentIndexChanged.connect(lambda _: self.load_example())
        for spin in (self.pool_size, self.stride, self.padding, self.dilation):
            spin.valueChanged.connect(lambda _: self.recompute())
        self.kind.currentTextChanged.connect(lambda _: self.recompute())
        self.channel.valueChanged.connect(lambda _: self.redraw())
        self.use_input.clicked.connect(self.type_input)
        self.use_kernel.clicked.connect(self.type_kernel)
        self.kernel_choice.currentTextChanged.connect(lambda _: self.choose_kernel())
        self.out_channel.valueChanged.connect(lambda _: self.choose_kernel())
        self.take_sample.clicked.connect(self.load_sample)
        self.step_button.clicked.connect(lambda: self.step())
        self.all_button.clicked.connect(lambda: self.show_cells(self._cell_count()))
        self.reset_button.clicked.connect(lambda: self.show_cells(0))
        self.play_button.toggled.connect(self.play)
        self.output_table.cellClicked.connect(self._output_clicked)
        if run_model is not None:
            run_model.listeners.append(self._model_changed)
            self.finished.connect(lambda _: run_model.listeners.remove(self._model_changed)
                                  if self._model_changed in run_model.listeners else None)
        self._offer_data()
        self.load_example()

    # ------------------------------------------------------------------ what is shown
    def current_window(self) -> SlidingWindow:
        """The window the settings describe (InsightError when they do not make one)."""
        kind = self.kind.currentText()
        size = self.kernel.shape[-2:] if kind == CONV else (self.pool_size.value(),) * 2
        return SlidingWindow(kind, (int(size[0]), int(size[1])), (self.stride.value(),) * 2, (self.padding.value(),) * 2,
                             (self.dilation.value(),) * 2 if kind != AVG else (1, 1))

    def _set_window(self, window: SlidingWindow) -> None:
        for widget, value in ((self.pool_size, window.kernel[0]), (self.stride, window.stride[0]),
                              (self.padding, window.padding[0]), (self.dilation, window.dilation[0])):
            widget.blockSignals(True)
            widget.setValue(value)
            widget.blockSignals(False)
        self.kind.blockSignals(True)
        self.kind.setCurrentText(window.kind)
        self.kind.blockSignals(False)

    def load_example(self) -> None:
        """A worked example of the notes, or the layer's own window on a typed 6x6 input until a
        sample is taken."""
        key = self.example.currentData()
        if key in WORKED_EXAMPLES:
            worked = WORKED_EXAMPLES[key]
            self.image = _maps(worked.input)
            if worked.kernel is not None:
                self.kernel, self.bias = _maps(worked.kernel), 0.0
                self._show_kernel_choice("vertical edge" if key == "vertical edge" else TYPED)
            self._set_window(worked.window)
            self.expression.setText(worked.title)
        else:
            assert self.node_id is not None          # the example list names the layer only when there is one
            try:
                self._set_window(layer_window(self.graph, self.node_id))
            except InsightError as err:
                self.error.setText(str(err))
                return
            self.image = _maps(WORKED_EXAMPLES["vertical edge"].input)
            self.kernel, self.bias = _maps(KERNEL_PRESETS["vertical edge"]), 0.0
            if self._trained_kernel_available():
                self._show_kernel_choice(TRAINED)
                self.choose_kernel()
            else:
                self._show_kernel_choice("vertical edge")
            self.expression.setText("Take a data-set sample, or type numbers, to see the layer work on them")
        self.input_text.setPlainText(grid_text(self.image[0]))
        self.kernel_text.setPlainText(grid_text(self.kernel[0]))
        self.recompute()

    def _show_kernel_choice(self, text: str) -> None:
        self.kernel_choice.blockSignals(True)
        if text == TRAINED and self.kernel_choice.findText(TRAINED) < 0:
            self.kernel_choice.insertItem(0, TRAINED)
        self.kernel_choice.setCurrentText(text)
        self.kernel_choice.blockSignals(False)

    def recompute(self) -> None:
        """Slide the window anew after any change; the output starts empty again."""
        self._timer.stop()
        self.play_button.setChecked(False)
        self.error.setText("")
        conv = self.kind.currentText() == CONV
        self.kernel_box.setEnabled(conv)
        self.out_channel.setEnabled(self.kernel_choice.currentText() == TRAINED)
        self.pool_size.setEnabled(not conv)
        self.dilation.setEnabled(self.kind.currentText() != AVG)
        try:
            window = self.current_window()
            kernel = self.kernel if conv else None
            image = self.image
            if conv and kernel is not None and len(kernel) != len(image):     # a one-channel kernel: one map
                image = image[min(self.channel.value(), len(image) - 1)][None]
            steps = window_steps(image if conv else image[min(self.channel.value(), len(image) - 1)], window, kernel,
                                 self.bias if conv else 0.0)
        except InsightError as err:
            self.steps = None
            self.error.setText(str(err))
            self._clear_tables()
            self.formula.setText("")
            return
        self.steps = steps
        self.position = 0
        self.channel.setMaximum(len(steps.input) - 1)
        self.formula.setText(self._formula_text(window))
        self.redraw()

    def _formula_text(self, window: SlidingWindow) -> str:
        assert self.steps is not None
        lines = [s.text() for s in self.steps.sizes]
        text = "<br>".join(lines)
        if self.graph is not None and self.node_id is not None and self.report is not None:
            try:
                check = wire_check(self.graph, self.report, self.node_id, window)
            except InsightError as err:
                text += f"<br><i>{err}</i>"
            else:
                theme = current_theme()
                said = (f"the wire out of {check.node} carries {_shape(check.on_wire)}, as the formula says" if check.matches
                        else f"but the wire out of {check.node} carries {_shape(check.on_wire)} (the layer's own settings)")
                text += (f"<br><span style='color:{theme.ok if check.matches else theme.warning_text}'>On the layer's "
                         f"real input, {_shape(check.input_shape)}, these settings give {_shape(check.computed)}: "
                         f"{said}.</span>")
        return text

    def _cell_count(self) -> int:
        return 0 if self.steps is None else self.steps.shape[0] * self.steps.shape[1]

    def step(self) -> bool:
        """One more output cell; False when every cell is done."""
        if self.position >= self._cell_count():
            return False
        self.show_cells(self.position + 1)
        return True

    def show_cells(self, count: int) -> None:
        self.position = max(0, min(count, self._cell_count()))
        self.redraw()

    def play(self, on: bool) -> None:
        if on and self.position >= self._cell_count():
            self.position = 0
        (self._timer.start if on else self._timer.stop)()

    def _play_step(self) -> None:
        if not self.step():
            self._timer.stop()
            self.play_button.setChecked(False)

    def _output_clicked(self, row: int, col: int) -> None:
        if self.steps is not None:
            self.show_cells(row * self.steps.shape[1] + col + 1)

    # ------------------------------------------------------------------ drawing the tables
    def _clear_tables(self) -> None:
        for table in (self.input_table, self.kernel_table, self.output_table):
            table.clear()
            table.setRowCount(0)
            table.setColumnCount(0)

    def redraw(self) -> None:
        steps = self.steps
        if steps is None:
            return
        theme = current_theme()
        channel = min(self.channel.value(), len(steps.padded) - 1)
        padded = steps.padded[channel]
        pad_h, pad_w = steps.window.padding
        rows, cols = min(len(padded), _shown(pad_h)), min(padded.shape[1], _shown(pad_w))
        current = None
        if self.position:
            h, w = steps.shape
            current = steps.cell((self.position - 1) // w, (self.position - 1) % w)
        _fill(self.input_table, padded[:rows, :cols], first_row=-pad_h, first_col=-pad_w)
        pad_colour = QColor(theme.guide)
        pad_colour.setAlpha(120)
        for r in range(rows):
            for c in range(cols):
                if not (pad_h <= r < len(padded) - pad_h and pad_w <= c < padded.shape[1] - pad_w):
                    item = _item(self.input_table, r, c)
                    item.setBackground(QBrush(pad_colour))
                    item.setToolTip("padding")
                    if np.isnan(padded[r, c]):
                        item.setText("·")
        window_colour = QColor(theme.selected)
        window_colour.setAlpha(110)
        winner_colour = QColor(theme.ok)
        winner_colour.setAlpha(170)
        if current is not None:
            for i, r in enumerate(current.rows):
                for j, c in enumerate(current.cols):
                    if r >= rows or c >= cols:
                        continue                     # a tap beyond the part of the input shown
                    item = _item(self.input_table, r, c)
                    item.setBackground(QBrush(winner_colour if current.winner == (i, j) else window_colour))
                    if current.weights is not None:
                        item.setToolTip(f"{number(current.inputs[channel if len(current.inputs) > 1 else 0, i, j])} × "
                                        f"{number(current.weights[channel if len(current.weights) > 1 else 0, i, j])}")
            self.input_table.scrollToItem(_item(self.input_table, min(current.rows[0], rows - 1),
                                                min(current.cols[0], cols - 1)))
        cropped = " (its first 32 rows and columns shown)" if (rows, cols) != padded.shape else ""
        c_count = len(steps.input)
        self.input_caption.setText(f"Input {'channel ' + str(channel) + ' of ' + str(c_count) + ', ' if c_count > 1 else ''}"
                                   f"{steps.input.shape[1]}x{steps.input.shape[2]}, padded by {pad_h}{cropped}")
        if steps.kernel is not None:
            kernel = steps.kernel[min(channel, len(steps.kernel) - 1)]
            _fill(self.kernel_table, kernel)
            bias = f", bias {number(steps.bias)}" if steps.bias else ""
            self.kernel_caption.setText(f"Kernel {kernel.shape[0]}x{kernel.shape[1]}{bias}")
        else:
            kh, kw = steps.window.kernel
            _fill(self.kernel_table, np.full((kh, kw), np.nan))
            self.kernel_caption.setText(f"{steps.window.kind}: a {kh}x{kw} window, nothing to multiply")
        h, w = steps.shape
        shown = np.full((h, w), np.nan)
        flat = steps.output.reshape(-1)
        shown.reshape(-1)[: self.position] = flat[: self.position]
        _fill(self.output_table, shown)
        if current is not None:
            item = _item(self.output_table, current.row, current.col)
            item.setBackground(QBrush(window_colour))
            item.setToolTip(current.expression())
            self.output_table.scrollToItem(item)
        self.output_caption.setText(f"Output {h}x{w}: {self.position} of {h * w} cells")
        if current is not None:
            self.expression.setText(f"Cell ({current.row}, {current.col}): {current.expression()}")
        self.step_button.setEnabled(self.position < h * w)

    # ------------------------------------------------------------------ inputs and kernels
    def type_input(self) -> None:
        try:
            self.image = _maps(parse_grid(self.input_text.toPlainText(), "the input"))
        except InsightError as err:
            self.error.setText(str(err))
            return
        self.channel.setValue(0)
        self.recompute()

    def type_kernel(self) -> None:
        try:
            self.kernel, self.bias = _maps(parse_grid(self.kernel_text.toPlainText(), "the kernel")), 0.0
        except InsightError as err:
            self.error.setText(str(err))
            return
        self._show_kernel_choice(TYPED)
        self.recompute()

    def choose_kernel(self) -> None:
        name = self.kernel_choice.currentText()
        if name == TYPED:
            self.type_kernel()
            return
        if name == TRAINED:
            assert self.node_id is not None and self.graph is not None and self.run_model is not None
            try:
                weights, self.bias = layer_kernel(self.run_model.model, self.node_id, self.out_channel.value())
            except InsightError as err:
                self.error.setText(str(err))
                return
            self.kernel = weights
            self.out_channel.setMaximum(int(self.graph.nodes[self.node_id].params["out_channels"]) - 1)
        else:
            self.kernel, self.bias = _maps(KERNEL_PRESETS[name]), 0.0
        self.kernel_text.setPlainText(grid_text(self.kernel[0]))
        self.recompute()

    def _trained_kernel_available(self) -> bool:
        if self.run_model is None or self.run_model.model is None or self.node_id is None or self.graph is None:
            return False
        return self.graph.nodes[self.node_id].type == "Conv2d"

    def _model_changed(self, problem: str) -> None:
        if not problem and self._trained_kernel_available():
            self._show_kernel_choice(self.kernel_choice.currentText())
            if self.kernel_choice.findText(TRAINED) < 0:
                self.kernel_choice.insertItem(0, TRAINED)
            if self.kernel_choice.currentText() == TRAINED:
                self.choose_kernel()
        self._offer_data()

    def set_data(self, data) -> None:
        if data is not self.data:
            self.data = data
            self._offer_data()

    def _offer_data(self) -> None:
        """A data-set sample is offered for a layer of the graph once the data set is loaded. When
        layers that learn come before this one, its input is what they make of the sample: that
        needs a run's weights."""
        offered = self.data is not None and self.node_id is not None and len(self.data.y_val) > 0
        self.sample.setMaximum(len(self.data.y_val) - 1 if offered and self.data is not None else 0)
        reason = ""
        if not offered:
            reason = ("Open the view from a Conv2d or pooling node of a graph whose data set is loaded"
                      if self.node_id is None else "The data set is not loaded yet")
        elif self._learned_before() and (self.run_model is None or self.run_model.model is None):
            offered, reason = False, "This layer's input is what the trained layers before it make of a sample: train first"
        self.take_sample.setEnabled(offered)
        self.sample.setEnabled(offered)
        self.take_sample.setToolTip(reason or "The validation sample's numbers as they reach this layer")

    def _learned_before(self) -> bool:
        """Whether any layer on the way from the input to this one has weights."""
        if self.graph is None or self.node_id is None or self.report is None:
            return True
        seen, waiting = set(), [e.src for e in self.graph.in_edges(self.node_id)]
        while waiting:
            node = waiting.pop()
            if node not in seen:
                seen.add(node)
                waiting += [e.src for e in self.graph.in_edges(node)]
        return any(self.report.params.get(node, 0) for node in seen)

    def load_sample(self) -> None:
        """The chosen validation sample as it reaches the layer, worked out in a thread: through
        the run's trained layers, or, when none before it learns (an input scaling, say), through
        the graph as it is."""
        assert self.data is not None and self.node_id is not None and self.graph is not None
        sample = self.data.x_val[self.sample.value()]
        node = self.node_id
        if self._learned_before():
            assert self.run_model is not None
            model, graph = self.run_model.copy(), self.run_model.graph
            work = lambda: layer_input(model, graph, node, sample)      # noqa: E731
        else:
            graph, report = self.graph, self.report
            work = lambda: layer_input(compile_graph(graph, report), graph, node, sample)      # noqa: E731
        self.error.setText("Working out the layer's input ...")
        BackgroundJob(work, self._take_image, self, name="netloom-layer-input").start()

    def _take_image(self, image, error: BaseException | None) -> None:
        if error is not None:
            self.error.setText(str(error) if isinstance(error, InsightError) else f"The layer's input failed: {error}")
            return
        self.image = _maps(np.asarray(image, dtype=np.float64))
        self.input_text.setPlainText(grid_text(self.image[0][:SHOWN, :SHOWN]))
        self.error.setText("")
        self.recompute()


def _shown(padding: int) -> int:
    """Rows (or columns) of a padded input the tables show: the crop plus its padding."""
    return SHOWN + 2 * padding


def _item(table: QTableWidget, row: int, col: int) -> QTableWidgetItem:
    item = table.item(row, col)
    assert item is not None, (row, col)          # _fill put one in every cell
    return item


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _maps(values: np.ndarray) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return array[None] if array.ndim == 2 else array


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    spin = QSpinBox(minimum=low, maximum=high)
    spin.setToolTip(tip)
    return spin


def _table() -> QTableWidget:
    table = QTableWidget()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
    for header in (table.horizontalHeader(), table.verticalHeader()):
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(50)
        header.setMinimumSectionSize(20)
    table.verticalHeader().setDefaultSectionSize(24)
    return table


def _fill(table: QTableWidget, grid: np.ndarray, first_row: int = 0, first_col: int = 0) -> None:
    """Numbers in the cells (the full value in each tooltip); rows and columns numbered from 0 as
    the expressions number them, padding rows and columns negative (or past the input's end)."""
    table.clear()
    table.setRowCount(grid.shape[0])
    table.setColumnCount(grid.shape[1])
    table.setVerticalHeaderLabels([str(first_row + r) for r in range(grid.shape[0])])
    table.setHorizontalHeaderLabels([str(first_col + c) for c in range(grid.shape[1])])
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            value = float(grid[r, c])
            item = QTableWidgetItem(number(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if not np.isnan(value):
                item.setToolTip(f"{value:.6g}")
            table.setItem(r, c, item)
    header = table.verticalHeader().width() if table.verticalHeader().isVisible() else 0
    table.setMinimumWidth(min(grid.shape[1] * table.horizontalHeader().defaultSectionSize() + header + 8, 420))


"""Loss, accuracy and learning-rate curves, with smoothing, a log scale, epoch markers and the
curves of an earlier run overlaid for comparison."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from ..theme import current as current_theme
from .run_record import RunRecord

MAX_EPOCH_MARKERS = 200
ACCURACY_LOSSES = ("cross_entropy", "nll", "bce_with_logits")     # the losses of runs that count right answers


def nice_ceiling(value: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``value``: an axis that changes rarely."""
    if value <= 1:
        return 1.0
    power = 10 ** np.floor(np.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def smooth(y: np.ndarray, strength: float) -> np.ndarray:
    """Exponential moving average (strength 0 = none, towards 1 = very smooth)."""
    if strength <= 0 or len(y) < 2:
        return y
    out = np.empty_like(y)
    acc = y[0]
    for i, v in enumerate(y):
        acc = strength * acc + (1 - strength) * v
        out[i] = acc
    return out


class CurvesPanel(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.loss_plot = pg.PlotWidget(title="Loss")
        self.acc_plot = pg.PlotWidget(title="Accuracy")
        self.lr_plot = pg.PlotWidget(title="Learning rate")
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            plot.setBackground(current_theme().plot_background)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.setLabel("bottom", "training step")
            # The step axis grows in 1-2-5 jumps (set in show_record), not on every point: redrawing
            # axes is most of the cost of a live plot.
            plot.enableAutoRange(x=False)

        self.acc_plot.setYRange(0, 100)
        self.loss_plot.setLabel("left", "loss")
        self.acc_plot.setLabel("left", "accuracy (%)")
        self.lr_plot.setLabel("left", "learning rate")
        theme = current_theme()

        def pen(colour, width=2, style=Qt.PenStyle.SolidLine):
            return pg.mkPen(colour, width=width, style=style)
        train, val = theme.training_series, theme.validation_series
        self.lines = {
            "step_loss": self.loss_plot.plot(pen=pen(theme.step_series, 1), name="training (steps)"),
            "train_loss": self.loss_plot.plot(pen=pen(train), symbol="o", symbolSize=4, name="training (epochs)"),
            "val_loss": self.loss_plot.plot(pen=pen(val), symbol="o", symbolSize=4, name="validation"),
            "train_objective": self.loss_plot.plot(pen=pen(train, 1, Qt.PenStyle.DashLine), name="training + L1 term"),
            "train_accuracy": self.acc_plot.plot(pen=pen(train), symbol="o", symbolSize=4, name="training"),
            "val_accuracy": self.acc_plot.plot(pen=pen(val), symbol="o", symbolSize=4, name="validation"),
            "lr": self.lr_plot.plot(pen=pen(theme.rate_series)),
        }
        self.compare_lines = {k: (self.loss_plot if "loss" in k else self.acc_plot).plot(
                                  pen=pen(theme.compared_series, 1, Qt.PenStyle.DashLine))
                              for k in ("val_loss", "val_accuracy")}
        self._compared = ""             # the run the dashed lines show, named in the keys
        self._with_l1 = False           # whether the loss plot draws the training loss with its L1 term
        self._set_keys("")
        for line in list(self.lines.values()) + list(self.compare_lines.values()):
            line.setDownsampling(auto=True, method="peak")   # a million steps stay responsive
            line.setClipToView(True)
        self.markers: list[pg.InfiniteLine] = []

        self.smoothing = QSlider(Qt.Orientation.Horizontal)
        self.smoothing.setRange(0, 95)
        self.smoothing.setToolTip("Smoothing of the per-step loss")
        self.log_scale = QCheckBox("log scale")
        self.log_scale.toggled.connect(lambda on: self.loss_plot.setLogMode(y=on))
        self.compare = QComboBox()
        self.compare.addItem("compare with: none")
        controls = QHBoxLayout()
        controls.addWidget(QLabel("smoothing"))
        controls.addWidget(self.smoothing)
        controls.addWidget(self.log_scale)
        controls.addWidget(self.compare)
        plots = QHBoxLayout()
        plots.addWidget(self.loss_plot, 5)
        plots.addWidget(self.acc_plot, 4)
        plots.addWidget(self.lr_plot, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addLayout(plots, 1)

    def show_record(self, record: RunRecord, others: list[RunRecord]) -> None:
        per_epoch = record.started.steps_per_epoch if record.started else 1
        curves = record.curves
        step_loss = curves["step_loss"]
        self.lines["step_loss"].setData(step_loss.x, smooth(step_loss.y, self.smoothing.value() / 100))
        self.lines["lr"].setData(curves["lr"].x, curves["lr"].y)
        if curves["lr"].size:      # from zero up, so a constant rate reads as one, not as noise
            self.lr_plot.setYRange(0, float(curves["lr"].y.max()) * 1.1, padding=0)
        loss = record.settings.get("loss") if isinstance(record.settings, dict) else None
        # Accuracy only where the run measures one: not for a regression or a reconstruction.
        self.acc_plot.setVisible(bool(curves["val_accuracy"].size) or (
            loss in (None, *ACCURACY_LOSSES) and record.settings.get("reconstruct") is not True))
        self.loss_plot.setLabel("left", f"loss ({str(loss).replace('_', '-')})" if isinstance(loss, str) else "loss")
        if bool(curves["train_objective"].size) != self._with_l1:
            self._with_l1 = not self._with_l1
            self._set_keys(self._compared)
        for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_objective"):
            series = curves[name]
            self.lines[name].setData(series.x * per_epoch, series.y * (100 if "accuracy" in name else 1))
        last = max(step_loss.x[-1] if step_loss.size else 0, record.epoch * per_epoch)
        upper = nice_ceiling(last)
        for plot in (self.loss_plot, self.acc_plot, self.lr_plot):
            if plot.viewRange()[0][1] != upper:
                plot.setXRange(0, upper, padding=0.02)
        self._update_markers(record.epoch, per_epoch)
        self._update_compare(others, per_epoch)

    def _update_markers(self, epochs: int, per_epoch: int) -> None:
        if epochs > MAX_EPOCH_MARKERS:
            epochs = 0
        while len(self.markers) < epochs:
            line = pg.InfiniteLine(pos=(len(self.markers) + 1) * per_epoch, angle=90,
                                   pen=pg.mkPen(current_theme().guide, style=Qt.PenStyle.DotLine))
            self.loss_plot.addItem(line)
            self.markers.append(line)
        while len(self.markers) > epochs:
            self.loss_plot.removeItem(self.markers.pop())

    def _update_compare(self, others: list[RunRecord], per_epoch: int) -> None:
        names = ["compare with: none"] + [r.name for r in others]
        if [self.compare.itemText(i) for i in range(self.compare.count())] != names:
            chosen = self.compare.currentText()
            self.compare.blockSignals(True)
            self.compare.clear()
            self.compare.addItems(names)
            self.compare.setCurrentText(chosen if chosen in names else names[0])
            self.compare.blockSignals(False)
        other = next((r for r in others if r.name == self.compare.currentText()), None)
        for name, line in self.compare_lines.items():
            if other is None:
                line.setData([], [])
            else:
                series = other.curves[name]
                line.setData(series.x * per_epoch, series.y * (100 if "accuracy" in name else 1))
        compared = other.name if other is not None else ""
        if compared != self._compared:
            self._set_keys(compared)
            self._compared = compared

    def _set_keys(self, compared: str) -> None:
        """Each plot's key in its title line, above the curves, never over them."""
        theme = current_theme()
        train, val = theme.training_series, theme.validation_series
        extra = [(theme.compared_series, f"{compared} (validation)", True)] if compared else []
        l1 = [(train, "training + L1 term", True)] if self._with_l1 else []
        self.loss_plot.setTitle(_keyed("Loss", [(theme.step_series, "training (steps)", False),
                                                (train, "training (epochs)", False), *l1, (val, "validation", False),
                                                *extra]))
        self.acc_plot.setTitle(_keyed("Accuracy", [(train, "training", False), (val, "validation", False), *extra]))

    def reset(self) -> None:
        for line in (*self.lines.values(), *self.compare_lines.values()):
            line.setData([], [])
        self._update_markers(0, 1)
        self.acc_plot.show()
        if self._with_l1:
            self._with_l1 = False
            self._set_keys(self._compared)


def _keyed(title: str, entries: list[tuple[str, str, bool]]) -> str:
    """A plot's title followed by its key: a short line in each curve's colour (dashed for a
    compared run) and its name."""
    keys = "&nbsp;&nbsp;".join(f"<span style='color:{colour}'>{'- -' if dashed else '&#9472;&#9472;'}</span>"
                               f"&nbsp;<span style='font-size:8pt'>{name}</span>" for colour, name, dashed in entries)
    return f"{title}&nbsp;&nbsp;&nbsp;{keys}"

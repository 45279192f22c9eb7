"""A recurrent layer (RNN, LSTM, GRU) unrolled over one validation sample: the steps side by side
with what each reads, the hidden state as a heat strip, each gate's values, and how much of the
loss's gradient reaches each step (back-propagation through time), beside the runs of an
experiment and what gradient clipping did. The worker computes it all with its probes
(``RecurrentSteps``, ``TimeGradients``, ``GradientClipping``); this panel only draws."""

from __future__ import annotations

import copy

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from engine.training import ConfigError, TrainingConfig, recurrent_steps, step_gradient_profiles
from engine.training import messages as M

from ..background import BackgroundJob
from ..theme import current as current_theme
from .gradients_panel import FLOOR, decade_ticks
from .panels import LayerPicker
from .run_record import RunRecord

WAITING = "A recurrent layer's steps appear here with the run's probes (Probes on in the training settings)."
STRIP_PX = 120           # a strip's height: the strips scroll rather than squeeze in a short dock
GRADIENT_ROWS = 3        # the gradient plot is as tall as this many strips (several runs' lines and their key)
MAX_TICKS = 40           # step labels on the axis; beyond it every k-th step is named


def step_text(found: M.RecurrentSteps, vocabulary, t: int) -> str:
    """What the layer reads at step t, as a person reads it: the token ('e', 'movie'), or the
    value (one feature), or the first values of a vector."""
    if found.tokens is not None:
        code = int(found.tokens[t])
        piece = vocabulary[code] if vocabulary is not None and 0 <= code < len(vocabulary) else f"#{code}"
        return repr(piece)
    values = found.step_inputs[t]
    if values.size == 1:
        return f"{float(values[0]):.3g}"
    shown = ", ".join(f"{v:.2g}" for v in values[:3])
    return f"[{shown}{', ...' if values.size > 3 else ''}]"


def step_line(found: M.RecurrentSteps, gradients: M.TimeGradients | None, vocabulary, t: int) -> str:
    """Everything the chosen step holds, in one line: what it reads, its hidden state, each gate's
    mean, and the gradient that reaches it."""
    hidden = found.hidden[-1, 0, t]
    parts = [f"Step {t + 1} of {found.hidden.shape[2]} reads {step_text(found, vocabulary, t)}",
             f"hidden state from {hidden.min():+.2f} to {hidden.max():+.2f} (mean |h| {np.abs(hidden).mean():.2f})"]
    if found.gate_names:
        parts.append(", ".join(f"{name} gate mean {found.gates[g, -1, 0, t].mean():.2f}"
                               for g, name in enumerate(found.gate_names)))
    if found.cell is not None:
        parts.append(f"cell mean |c| {np.abs(found.cell[-1, 0, t]).mean():.2f}")
    if gradients is not None and gradients.norms.shape[-1] > t:
        parts.append(f"|dL/dh| {gradients.norms[-1, 0, t]:.1e}")
    return "; ".join(parts) + "."


def clipping_text(record: RunRecord) -> str:
    """How often clipping cut the gradient over the whole run, in words ("" without clipping)."""
    c = record.clipping
    if c is None:
        return ""
    share = c.clipped / c.steps if c.steps else 0.0
    return (f"Gradient clipping at norm {c.threshold:g} cut the gradient at {c.clipped} of {c.steps} steps ({share:.0%}); "
            f"the largest norm before clipping was {c.max_norm:.3g}, the latest mean {c.mean_norm:.3g}.")


class RecurrentPanel(QWidget):
    """The chosen recurrent layer over the chosen validation sample. While the run goes, choosing
    another sample asks the run for it from its next probe on; once the run has ended, the run's
    newest weights unroll it here, in a background thread."""
    sample_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layer = LayerPicker(self.refresh, "recurrent layer")
        self.sample = QSpinBox(minimum=0, maximum=0)
        self.sample.setToolTip("The validation sample to unroll: a running run unrolls it from its next probe on, "
                               "an ended one with its newest weights at once")
        self.sample.setKeyboardTracking(False)
        self.sample.valueChanged.connect(self._sample_changed)
        self.step = QSpinBox(minimum=1, maximum=1, prefix="step ")
        self.step.setToolTip("The step the line below describes (or click a step in the plots)")
        self.step.valueChanged.connect(lambda _: self._show_step())
        row = self.layer.row()
        row.addWidget(QLabel("sample"))
        row.addWidget(self.sample)
        row.addWidget(self.step)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground(current_theme().plot_background)
        self.view.scene().sigMouseClicked.connect(self._clicked)
        self.caption = QLabel(WAITING)
        self.caption.setWordWrap(True)
        self.line = QLabel("")
        self.line.setWordWrap(True)
        self.line.setObjectName("step_line")
        self.gradient_caption = QLabel("")
        self.gradient_caption.setWordWrap(True)
        self.clipping = QLabel("")
        self.clipping.setWordWrap(True)
        self.clipping.setObjectName("clipping")
        inside = QWidget()
        column = QVBoxLayout(inside)
        column.addWidget(self.view, 1)
        for label in (self.caption, self.gradient_caption, self.clipping):
            column.addWidget(label)
        self.strips_area = QScrollArea()
        self.strips_area.setWidget(inside)
        self.strips_area.setWidgetResizable(True)
        self.strips_area.setFrameShape(QFrame.Shape.NoFrame)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.line)
        layout.addWidget(self.strips_area, 1)
        self.data = None
        self.record: RunRecord | None = None
        self.others: list[RunRecord] = []
        self.shown: M.RecurrentSteps | None = None
        self.gradients: M.TimeGradients | None = None
        self.strips: dict[str, tuple[pg.PlotItem, pg.ImageItem]] = {}     # "hidden state", each gate -> its strip
        self.markers: list[pg.InfiniteLine] = []
        self.gradient_plot: pg.PlotItem | None = None
        self.profiles: dict[str, np.ndarray] = {}       # what the gradient plot draws, by run
        self.run_model = None                           # the run's newest weights (set by the dashboard)
        # A sample unrolled on request after a run ended: (that run, sample, steps by layer, gradients
        # by layer); shown only for that run, never for a later run of the same graph.
        self.requested: tuple[RunRecord, int, dict[str, M.RecurrentSteps], dict[str, M.TimeGradients]] | None = None

    def set_run_model(self, run_model) -> None:
        """The run's model (RunModel): with it, a sample chosen after the run ended is unrolled."""
        self.run_model = run_model
        run_model.listeners.append(lambda problem: self._unroll_chosen())

    def _sample_changed(self, sample: int) -> None:
        self.sample_chosen.emit(sample)          # a running run unrolls it from its next probe on
        self._unroll_chosen()

    def _unroll_chosen(self) -> None:
        """Once the run has ended, unroll the chosen sample with its newest weights (a copy, in a
        background thread), unless the run's own probe already shows that sample."""
        record, run_model, sample = self.record, self.run_model, self.sample.value()
        if record is None or run_model is None or self.data is None or record.status in ("starting", "running", "paused"):
            return
        probed = next(iter(record.latest.get("recurrent", {}).values()), None)
        if (probed is not None and probed.sample == sample) or self._requested_for(record, sample):
            return
        if run_model.model is None:
            run_model.follow(record)             # built in a thread; its listeners call back here
            return
        try:
            config = TrainingConfig.from_dict(record.settings)
        except (ConfigError, ValueError):
            return
        model, graph, step = copy.deepcopy(run_model.model), run_model.graph, run_model.step or record.step
        x, y = self.data.x_val, self.data.y_val

        def unrolled():
            return recurrent_steps(step, model, graph, x, y, sample, config.loss, config.truncate_bptt)

        def done(found, error) -> None:
            if error is not None or record is not self.record or sample != self.sample.value():
                return
            self.requested = (record, sample, {m.layer: m for m in found if isinstance(m, M.RecurrentSteps)},
                              {m.layer: m for m in found if isinstance(m, M.TimeGradients)})
            self.refresh()
        BackgroundJob(unrolled, done, self, name="netloom-unroll").start()

    def _requested_for(self, record: RunRecord | None, sample: int) -> bool:
        """Whether ``sample`` of this ended run is unrolled here already."""
        return (self.requested is not None and record is not None and self.requested[0] is record
                and self.requested[1] == sample and record.status not in ("starting", "running", "paused"))

    # ------------------------------------------------------------------ feeding
    def reset(self) -> None:
        self.record, self.others, self.shown, self.gradients, self.requested = None, [], None, None, None
        self.layer.set_layers([])
        self.view.clear()
        self.strips, self.markers, self.gradient_plot, self.profiles = {}, [], None, {}
        for label in (self.line, self.gradient_caption, self.clipping):
            label.setText("")
        self.caption.setText(WAITING)

    def set_data(self, data) -> None:
        self.data = data
        self.sample.setMaximum(max(0, len(data.x_val) - 1) if data is not None else 0)

    def show_record(self, record: RunRecord, others: list[RunRecord] | None = None) -> None:
        self.record = record
        self.others = [r for r in (others or []) if r is not record]
        self.layer.set_layers(list(record.latest.get("recurrent", {})))
        self.clipping.setText(clipping_text(record))
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        record = self.record
        layer = self.layer.currentText()
        found = record.latest.get("recurrent", {}).get(layer) if record is not None else None
        gradients = record.latest.get("time_gradients", {}).get(layer) if record is not None else None
        if self.requested is not None and self._requested_for(record, self.sample.value()):
            found = self.requested[2].get(layer, found)       # the sample chosen after the run ended
            gradients = self.requested[3].get(layer, gradients)
        if found is None or record is None:
            return
        if found is not self.shown:
            self.shown = found
            self._draw_strips(found)
        self.gradients = gradients
        self._draw_gradients(record, layer)
        self._show_step()

    def _draw_strips(self, found: M.RecurrentSteps) -> None:
        names = ("hidden state", *found.gate_names)
        steps = found.hidden.shape[2]
        if list(self.strips) != list(names):
            self.view.clear()
            self.strips, self.markers, self.gradient_plot, self.profiles = {}, [], None, {}
            for i, name in enumerate(names):
                plot = self.view.addPlot(row=i, col=0, title=name if i else "hidden state (units x steps)")
                plot.setMouseEnabled(False, False)
                plot.setLabel("left", "unit")
                image = pg.ImageItem(axisOrder="row-major")
                image.setLookupTable(pg.colormap.get("CET-D1" if i == 0 else "viridis").getLookupTable())
                plot.addItem(image)
                self.strips[name] = (plot, image)
                if i:
                    plot.setXLink(self.strips["hidden state"][0])
        for i, name in enumerate(names):
            plot, image = self.strips[name]
            values = found.hidden[-1, 0] if i == 0 else found.gates[i - 1, -1, 0]      # steps x units
            levels = (-1.0, 1.0) if i == 0 or name in ("cell", "new") else (0.0, 1.0)  # tanh's range; a gate's
            image.setImage(values.T, autoLevels=False, levels=levels)
            image.setRect(0.5, -0.5, steps, values.shape[1])                       # step t centred on t
            plot.setRange(xRange=(0.5, steps + 0.5), yRange=(-0.5, values.shape[1] - 0.5), padding=0)
        self._label_steps(found)
        self._fit_height()
        self.step.setMaximum(steps)
        kind = f"{found.kind}, {found.hidden.shape[0]} stacked" if found.hidden.shape[0] > 1 else found.kind
        when = self.record.when(step=found.step) if self.record is not None else f"step {found.step}"
        cut = (f" The sample has {found.total_steps} steps; its first {steps} are shown."
               if found.total_steps > steps else "")
        ranges = ("Colours: hidden state from -1 (blue) to +1 (red); gates from 0 (closed, dark) to 1 (open, bright)"
                  + ("; the candidate cell and new state from -1 to +1" if found.gate_names else "") + ".")
        self.caption.setText(f"{found.layer} ({kind}) read validation sample {found.sample} in {steps} steps, {when}: "
                             f"the last layer's forward direction, one column per step, one row per unit. {ranges}{cut}"
                             f" The unrolled states match the layer's own output to {found.deviation:.0e}.")

    def _label_steps(self, found: M.RecurrentSteps) -> None:
        """Name each step on the strips' axes by what it reads: a token or a value."""
        steps = found.hidden.shape[2]
        if found.tokens is None and found.step_inputs.shape[-1] > 1:     # vectors: step numbers (the line says more)
            for plot, _ in self.strips.values():
                plot.getAxis("bottom").setTicks(None)
            return
        every = max(1, -(-steps // MAX_TICKS))
        vocabulary = self.data.extra.get("vocabulary") if self.data is not None else None
        ticks = [(t + 1, step_text(found, vocabulary, t).strip("'") or " ") for t in range(0, steps, every)]
        for plot, _ in self.strips.values():
            plot.getAxis("bottom").setTicks([ticks])

    def _draw_gradients(self, record: RunRecord, layer: str) -> None:
        """|dL/dh_t| over the steps: this run's latest probe, and each compared run's median over its probes."""
        profiles: dict[str, np.ndarray] = {}
        if self.gradients is not None:
            profiles[f"{record.name} (latest probe)"] = self.gradients.norms[-1, 0]
        for run in self.others:
            found = run.time_gradients.get(layer) or next(iter(run.time_gradients.values()), [])
            for profile in step_gradient_profiles(run.name, _alike(found)):
                profiles[f"{run.name} (median of its probes)"] = np.array(profile.norms)
        if not profiles:
            self.gradient_caption.setText("")
            return
        if self.gradient_plot is None:
            self.gradient_plot = self.view.addPlot(row=len(self.strips), col=0,
                                                   title="Gradient reaching each step: |dL/dh_t| (log scale)")
            self.gradient_plot.setLogMode(y=True)
            self.gradient_plot.setMouseEnabled(False, False)
            self.gradient_plot.setXLink(self.strips["hidden state"][0])
            self.gradient_plot.addLegend(offset=(-10, 10))
            self.view.ci.layout.setRowStretchFactor(len(self.strips), GRADIENT_ROWS)    # taller: it is read closely
            self._fit_height()
        if set(profiles) != set(self.profiles):
            self.gradient_plot.clear()
            for i, (name, norms) in enumerate(profiles.items()):
                colour = current_theme().series_colour(i)
                self.gradient_plot.plot(np.arange(1, len(norms) + 1), np.maximum(norms, FLOOR), name=name,
                                        pen=pg.mkPen(colour, width=2), symbol="o", symbolSize=4, symbolBrush=colour,
                                        symbolPen=None)
        else:
            for item, norms in zip(self.gradient_plot.listDataItems(), profiles.values()):
                item.setData(np.arange(1, len(norms) + 1), np.maximum(norms, FLOOR))
        self.profiles = profiles
        decade_ticks(self.gradient_plot, np.maximum(np.concatenate(list(profiles.values())), FLOOR))
        self.gradient_caption.setText(" ".join(gradient_sentence(name, norms, self.gradients)
                                               for name, norms in profiles.items()))

    def _fit_height(self) -> None:
        plots = len(self.strips) + GRADIENT_ROWS * (self.gradient_plot is not None)
        self.view.setMinimumHeight(STRIP_PX * plots)

    def _show_step(self) -> None:
        found = self.shown
        if found is None:
            return
        t = min(self.step.value(), found.hidden.shape[2]) - 1
        vocabulary = self.data.extra.get("vocabulary") if self.data is not None else None
        self.line.setText(step_line(found, self.gradients, vocabulary, t))
        plots = [plot for plot, _ in self.strips.values()] + ([self.gradient_plot] if self.gradient_plot else [])
        if len(self.markers) != len(plots):
            for marker in self.markers:
                marker.scene() and marker.scene().removeItem(marker)
            self.markers = []
            for plot in plots:
                marker = pg.InfiniteLine(angle=90, pen=pg.mkPen(current_theme().series_colour(3), width=1.5))
                plot.addItem(marker, ignoreBounds=True)
                self.markers.append(marker)
        for marker in self.markers:
            marker.setValue(t + 1)

    def _clicked(self, event) -> None:
        """A click on any strip (or the gradient plot) chooses the step under it."""
        plots = [plot for plot, _ in self.strips.values()] + ([self.gradient_plot] if self.gradient_plot else [])
        for plot in plots:
            if plot.sceneBoundingRect().contains(event.scenePos()):
                x = plot.vb.mapSceneToView(event.scenePos()).x()
                self.step.setValue(int(round(x)))
                return


def _alike(found: list[M.TimeGradients]) -> list[M.TimeGradients]:
    """The probes of one sample length (the last one's): a median needs rows of one length."""
    if not found:
        return []
    shape = found[-1].norms.shape
    return [m for m in found if m.norms.shape == shape]


def gradient_sentence(name: str, norms: np.ndarray, latest: M.TimeGradients | None) -> str:
    """The profile in words: how much weaker the gradient is at the first step than at the last."""
    first, last = max(float(norms[0]), FLOOR), max(float(norms[-1]), FLOOR)
    ratio = first / last
    judged = ("vanishes on its way back" if ratio < 1e-3 else "weakens on its way back" if ratio < 0.1 else
              "reaches the first steps")
    cut = (f" (truncated every {latest.truncate} steps: a gradient stops at a cut)"
           if latest is not None and latest.truncate and name.endswith("(latest probe)") else "")
    return f"{name}: {first:.1e} at step 1, {last:.1e} at step {len(norms)}: the gradient {judged}{cut}."

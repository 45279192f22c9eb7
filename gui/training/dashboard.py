"""The training dashboard: what the engine reports, drawn live in tabs.

Messages may arrive much faster than anyone can look; the dashboard redraws from the run
record on its own timer (about 25 Hz), and only the tab in view."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QTabWidget, QVBoxLayout, QWidget

from engine.data import CLASSIFICATION, REGRESSION
from engine.insight import feature_layers
from engine.training import MAX_CLASSES_SHOWN, TrainingConfig
from graphs import loads_graph

from ..background import BackgroundJob
from ..theme import current as current_theme
from .curves import CurvesPanel
from .insight_panels import AttentionPanel, EmbeddingPanel, FeatureSpacePanel
from .panels import (
    ActivationsPanel,
    BoundaryPanel,
    ConfusionPanel,
    FiltersPanel,
    GradientsPanel,
    HistogramsPanel,
    OutputsPanel,
)
from .predict import PredictPanel
from .run_model import RunModel
from .run_record import RunRecord
from .style_panel import StylePanel

REDRAW_MS = 40
CONVOLUTIONS = ("Conv1d", "Conv2d", "ConvTranspose2d")


class Dashboard(QWidget):
    sample_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("No run yet: press Train.")
        self.status.setWordWrap(True)
        self.changed_note = QLabel("")
        self.changed_note.setStyleSheet(f"color: {current_theme().warning_text}")
        self.curves = CurvesPanel()
        self.gradients = GradientsPanel()
        self.run_model = RunModel(self)
        self.filters = FiltersPanel(self.run_model)
        self.activations = ActivationsPanel()
        self.histograms = HistogramsPanel()
        self.confusion = ConfusionPanel()
        self.boundary = BoundaryPanel()
        self.outputs = OutputsPanel()
        self.predict = PredictPanel(self.run_model)
        self.features = FeatureSpacePanel(self.run_model)
        self.embeddings = EmbeddingPanel()
        self.attention = AttentionPanel()
        self.style_transfer = StylePanel(self.run_model)
        self.tabs = QTabWidget()
        for panel, title in ((self.curves, "Curves"), (self.gradients, "Gradients"), (self.filters, "Filters"),
                             (self.activations, "Activations"), (self.histograms, "Histograms"),
                             (self.confusion, "Confusion"), (self.boundary, "Boundary"), (self.outputs, "Outputs"),
                             (self.predict, "Predict"), (self.features, "Feature space"),
                             (self.embeddings, "Embeddings"), (self.attention, "Attention"), (self.style_transfer, "Style")):
            self.tabs.addTab(panel, title)
        self.export_png = QPushButton("Export tab as PNG")
        self.export_csv = QPushButton("Export curves as CSV")
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_png)
        buttons.addWidget(self.export_csv)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.changed_note)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.has_convolutions = True
        self.layer_types: dict[str, str] = {}       # node id -> type, of the graph the runs come from
        self.record: RunRecord | None = None
        self.others: list[RunRecord] = []
        self.data = None
        self._dirty = False
        self._timer = QTimer(self, interval=REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.tabs.currentChanged.connect(lambda _: self.mark_dirty())
        self.activations.sample_changed.connect(self._sample_changed)
        self.export_png.clicked.connect(lambda: self.export_plot())
        self.export_csv.clicked.connect(lambda: self.export_curves())

    # ------------------------------------------------------------------ feeding
    def begin(self, record: RunRecord, others: list[RunRecord]) -> None:
        self.record, self.others = record, others
        self.curves.reset()
        self.gradients.reset()
        self.changed_note.setText("")
        self.data = None
        self._load_data(TrainingConfig.from_dict(record.settings), record.graph_text)
        self.adapt()
        self.mark_dirty()

    def show_runs(self, record: RunRecord | None, others: list[RunRecord]) -> None:
        """Show a kept run (one loaded from beside the graph file, say) without a live worker, or,
        with None, nothing: another graph is open and has no runs."""
        self.record, self.others = record, others
        self.changed_note.setText("")
        self.data = None
        if record is None:
            self.curves.reset()
            self.gradients.reset()
            self.status.setText("No runs of this graph yet: press Train (F5).")
        else:
            try:
                self._load_data(TrainingConfig.from_dict(record.settings), record.graph_text)
            except ValueError:
                pass                    # settings of an older version: the run shows without its data
        self.adapt()
        self.mark_dirty()

    def set_graph(self, graph) -> None:
        """The graph the runs come from: Filters applies only when it has convolutions, and each
        layer's gradient line takes its node's colour on the canvas."""
        self.has_convolutions = any(n.type in CONVOLUTIONS for body in (graph, *graph.blocks.values())
                                    for n in body.nodes.values())
        self.layer_types = {n.id: n.type for n in graph.nodes.values()}
        self.gradients.colours = layer_colours(graph)
        self.features.set_layers(feature_layers(graph))
        self.style_transfer.set_graph(graph)
        self.adapt()

    def adapt(self) -> None:
        """Show only the tabs that apply to this model and its data: Filters for convolutions,
        Boundary for 2-D points, Confusion for classification (not for an autoencoder), Outputs
        for an autoencoder (its reconstructions) and for regression (predictions against targets)."""
        data = self.data
        types = set(self.layer_types.values())
        settings = self.record.settings if self.record is not None else {}
        reconstruct = settings.get("reconstruct") is True
        applies = {
            self.filters: self.has_convolutions,
            self.boundary: data is not None and data.kind == "points" and data.input_shape == (2,) and not reconstruct,
            self.confusion: not reconstruct and (data is None or data.task == CLASSIFICATION),
            self.outputs: reconstruct or (data is not None and data.task == REGRESSION),
            self.predict: not reconstruct and (data is None or data.task == CLASSIFICATION),
            self.features: not reconstruct and (data is None or (data.task == CLASSIFICATION
                                                                 and data.num_classes <= MAX_CLASSES_SHOWN)),
            self.embeddings: "Embedding" in types,
            self.attention: bool({"MultiheadAttention", "TransformerEncoderLayer"} & types) or self._has_attention(),
            self.style_transfer: self.style_transfer.applies,
        }
        for panel, shown in applies.items():
            self.tabs.setTabVisible(self.tabs.indexOf(panel), shown)

    def _has_attention(self) -> bool:
        """Attention inside a block (a Transformer encoder block) shows up in the run's probes."""
        return self.record is not None and bool(self.record.latest.get("attention"))

    def _load_data(self, config: TrainingConfig, graph_text: str = "") -> None:
        """The data set in this process too, for showing samples, points and predictions, as the
        run's model takes it (raw values for a graph that normalises its input itself); read in a
        thread (CIFAR takes seconds) so the window never waits for it."""
        from engine.data import as_graph_takes, load_dataset
        options = {k: v for k, v in config.dataset_options.items() if k != "download"}

        def load():
            data = load_dataset(config.dataset, **options)
            return as_graph_takes(data, loads_graph(graph_text, "<run>")) if graph_text else data
        BackgroundJob(load, lambda data, error: self._show_data(data if error is None else None), self,
                      name="netloom-dashboard-data").start()

    def _show_data(self, data) -> None:
        self.data = data
        self.adapt()
        self.activations.set_samples(self.data)
        self.boundary.set_points(self.data)
        self.predict.set_data(self.data)
        self.filters.input_shape = data.input_shape if data is not None else None
        self.features.data = self.embeddings.data = data

    def mark_dirty(self, *args) -> None:
        self._dirty = True

    def set_graph_changed(self, changed: bool) -> None:
        self.changed_note.setText("The graph has changed since this run started; the run trains the graph as it "
                                  "was." if changed else "")

    def _sample_changed(self, index: int) -> None:
        self.activations.show_sample()
        self.predict.sample.setValue(index)
        self.sample_chosen.emit(index)

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        if self.tabs.currentWidget() is self.style_transfer:
            self.style_transfer.poll()          # the style transfer runs whether or not there is a run
        if not self._dirty or self.record is None:
            return
        self._dirty = False
        record = self.record
        self.status.setText(self._status_text(record))
        self.adapt()
        panel = self.tabs.currentWidget()
        if panel is self.curves:
            self.curves.show_record(record, [r for r in self.others if r is not record])
        elif panel is self.gradients:
            self.gradients.show_record(record)
            self.gradients.compare(self.others, self.layer_types)
        elif panel in (self.filters, self.features):
            self.run_model.follow(record)        # their views asked for work on the newest weights
            panel.show_record(record)
        elif panel is not self.style_transfer and hasattr(panel, "show_record"):
            panel.show_record(record)

    def _status_text(self, r: RunRecord) -> str:
        parts = [f"<b>{r.name}</b>: {r.status}"]
        if r.started is not None:
            parts.append(f"on {r.started.device}, epoch {r.epoch}/{r.started.epochs}, step {r.step}")
        speed = r.curves["samples_per_s"]
        if speed.size:
            parts.append(f"{speed.y[-1]:,.0f} samples/s")
        elapsed = r.elapsed_s if r.status != "running" else time.monotonic() - r.started_at
        parts.append(f"elapsed {elapsed:.0f} s")
        if r.status == "running" and r.eta_s is not None:
            parts.append(f"ETA {r.eta_s:.0f} s")
        val = r.curves["val_accuracy"]
        if val.size:
            parts.append(f"validation accuracy {val.y[-1]:.1%}")
        text = ", ".join(parts)
        if r.status == "failed" and r.final is not None:
            text += f"<br><span style='color:{current_theme().error}'><b>Failed:</b> {r.final.reason}</span>"
        return text

    # ------------------------------------------------------------------ export
    def export_plot(self, path: str | None = None) -> bool:
        """The whole tab in view as a PNG: every plot in it, with its labels and scales."""
        panel = self.tabs.currentWidget()
        if panel is None:
            return False
        if path is None:
            path = QFileDialog.getSaveFileName(self, "Export tab", f"{self.tabs.tabText(self.tabs.currentIndex())}.png",
                                               "PNG images (*.png)")[0]
            if not path:
                return False
        return panel.grab().save(path, "PNG")

    def export_curves(self, path: str | None = None) -> bool:
        if self.record is None:
            return False
        if path is None:
            path = QFileDialog.getSaveFileName(self, "Export curves", f"{self.record.name}.csv", "CSV (*.csv)")[0]
            if not path:
                return False
        self.record.write_csv(path)
        return True


SHADES = (100, 140, 70, 175, 55)       # lightness of the 1st, 2nd ... layer of one category, in %


def layer_colours(graph) -> dict[str, str]:
    """Each layer's colour as the canvas draws its node (its category's), in a lighter or darker
    shade for each further layer of the same category, so that lines of one plot can be told apart."""
    theme = current_theme()
    seen: dict[str, int] = {}
    colours = {}
    for node in graph.nodes.values():
        category = node.spec.category
        k = seen.get(category, 0)
        seen[category] = k + 1
        base, shade = QColor(theme.category(category)), SHADES[k % len(SHADES)]
        colours[node.id] = (base.lighter(shade) if shade >= 100 else base.darker(10000 // shade)).name()
    return colours

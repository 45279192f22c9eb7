"""The training dashboard: what the engine reports, drawn live in tabs.

Messages may arrive much faster than anyone can look; the dashboard redraws from the run
record on its own timer (about 25 Hz), and only the tab in view."""

from __future__ import annotations

from typing import Protocol, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.data import CLASSIFICATION, REGRESSION
from engine.insight import RECURRENT_TYPES, feature_layers
from engine.training import MAX_CLASSES_SHOWN, TrainingConfig
from graphs import loads_graph

from ..background import BackgroundJob
from ..theme import current as current_theme
from ..theme import icon as theme_icon
from .curves import CurvesPanel
from .data_panel import DataPanel
from .gradients_panel import GradientsPanel
from .insight_panels import AttentionPanel, EmbeddingPanel, FeatureSpacePanel
from .panels import (
    ActivationsPanel,
    BoundaryPanel,
    ConfusionPanel,
    FiltersPanel,
    HistogramsPanel,
    OutputsPanel,
)
from .predict import PredictPanel
from .recurrent_panel import RecurrentPanel
from .run_model import RunModel
from .run_record import RunRecord
from .style_panel import StylePanel
from .teaching_panels import FitPanel, LandscapePanel, NeuronsPanel
from .view_help import ViewHelpDialog, summary
from .words_panel import WordPairsPanel

REDRAW_MS = 40


class RunPanel(Protocol):
    """What every tab is: it forgets what it drew, and draws a run (the dashboard's record)."""

    def reset(self) -> None: ...

    def show_record(self, record: RunRecord) -> None: ...

CONVOLUTIONS = ("Conv1d", "Conv2d", "ConvTranspose2d")


class Dashboard(QWidget):
    sample_chosen = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.status = QLabel("No run yet: press Train.")
        self.status.setWordWrap(True)
        self.changed_note = QLabel("")
        self.changed_note.setStyleSheet(f"color: {current_theme().warning_text}")
        self.elsewhere = QLabel("")        # a run of another graph going on (an experiment's variant)
        self.elsewhere.setWordWrap(True)
        self.elsewhere.hide()
        self.curves = CurvesPanel()
        self.data_view = DataPanel()
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
        self.through_time = RecurrentPanel()
        self.through_time.set_run_model(self.run_model)
        self.word_pairs = WordPairsPanel()
        self.style_transfer = StylePanel(self.run_model)
        self.neurons = NeuronsPanel()
        self.fit = FitPanel()
        self.landscape = LandscapePanel()
        self.tabs = QTabWidget()
        for panel, title in ((self.curves, "Curves"), (self.data_view, "Data"), (self.gradients, "Gradients"),
                             (self.filters, "Filters"),
                             (self.activations, "Activations"), (self.histograms, "Histograms"),
                             (self.confusion, "Confusion"), (self.boundary, "Boundary"), (self.neurons, "Neurons"),
                             (self.outputs, "Outputs"), (self.fit, "Fit"), (self.landscape, "Landscape"),
                             (self.predict, "Predict"), (self.features, "Feature space"),
                             (self.embeddings, "Embeddings"), (self.word_pairs, "Skip-gram pairs"),
                             (self.attention, "Attention"), (self.through_time, "Through time"),
                             (self.style_transfer, "Style")):
            self.tabs.addTab(panel, title)
        self.export_png = QPushButton("Export tab as PNG")
        self.export_csv = QPushButton("Export curves as CSV")
        self.export_png.setIcon(theme_icon("mdi6.image-outline"))
        self.export_csv.setIcon(theme_icon("mdi6.file-delimited-outline"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_png)
        buttons.addWidget(self.export_csv)
        buttons.addStretch(1)
        self.help_button = QToolButton()
        self.help_button.setText("?")
        self.help_button.setIcon(theme_icon("mdi6.help-circle-outline"))
        self.help_button.setToolTip("What this view shows and how to read it")
        self.help_button.setAutoRaise(True)
        self.help_button.clicked.connect(lambda: self.show_help(self.tabs.tabText(self.tabs.currentIndex())))
        self.tabs.setCornerWidget(self.help_button, Qt.Corner.TopRightCorner)
        self.help: ViewHelpDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.elsewhere)
        layout.addWidget(self.changed_note)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        self.has_convolutions = True
        self.layer_types: dict[str, str] = {}       # node id -> type, of the graph the runs come from
        self.graph_training: dict = {}
        self.record: RunRecord | None = None
        self.others: list[RunRecord] = []
        self.data = None
        self._dirty = False
        self._timer = QTimer(self, interval=REDRAW_MS)
        self._timer.timeout.connect(self.redraw)
        self._timer.start()
        self.tabs.currentChanged.connect(lambda _: self.mark_dirty())
        self.empty = QLabel()              # over a tab's controls while no run of the graph is shown
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setAutoFillBackground(True)
        self.empty.setMargin(24)
        self.empty.hide()
        self.activations.sample_changed.connect(self._sample_changed)
        self.through_time.sample_chosen.connect(self._sample_changed)
        self.export_png.clicked.connect(lambda: self.export_plot())
        self.export_csv.clicked.connect(lambda: self.export_curves())

    # ------------------------------------------------------------------ feeding
    def panels(self) -> list[RunPanel]:
        """Every tab's view. Each has ``reset()`` (forget what it drew) and ``show_record(record)``."""
        return [cast(RunPanel, self.tabs.widget(i)) for i in range(self.tabs.count())]

    def begin(self, record: RunRecord, others: list[RunRecord]) -> None:
        """A run of the graph on the canvas has started: every tab shows it from now on."""
        self._show(record, others)
        self._load_data(record, TrainingConfig.from_dict(record.settings))

    def show_runs(self, record: RunRecord | None, others: list[RunRecord]) -> None:
        """Show a kept run (one loaded from beside the graph file, say) without a live worker, or,
        with None, nothing: another graph is open and has no runs."""
        self._show(record, others)
        if record is None:
            self.status.setText("No runs of this graph yet: press Train (F5).")
            return
        try:
            self._load_data(record, TrainingConfig.from_dict(record.settings))
        except ValueError:
            pass                    # settings of an older version: the run shows without its data

    def _show(self, record: RunRecord | None, others: list[RunRecord]) -> None:
        """The one way a run (or none) comes into view. Every tab draws from the record shown; when
        that changes, every tab forgets what it drew, the data set of the run before is let go and
        the run's model is dropped, so that no tab shows another graph's or another run's results."""
        if record is not self.record:
            self.record = record
            for panel in self.panels():
                panel.reset()
            self._show_data(None)
            self.run_model.follow(record)
        self.others = others
        self.changed_note.setText("")
        self.adapt()
        self.mark_dirty()
        self._place_empty()

    def set_graph(self, graph) -> None:
        """The graph the runs come from: Filters applies only when it has convolutions."""
        self.has_convolutions = any(n.type in CONVOLUTIONS for body in (graph, *graph.blocks.values())
                                    for n in body.nodes.values())
        self.layer_types = {n.id: n.type for n in graph.nodes.values()}
        self.graph_training = dict(graph.training)      # what a run of it will do, before there is one
        self.features.set_layers(feature_layers(graph))
        window = _skipgram_window(self.graph_training)
        if window is not None:
            self.word_pairs.set_window(window)
        self.style_transfer.set_graph(graph)
        self.adapt()

    def adapt(self) -> None:
        """Show only the tabs that apply to this model and its data: Filters for convolutions,
        Boundary for 2-D points, Confusion for classification (not for an autoencoder), Outputs
        for an autoencoder (its reconstructions) and for regression (predictions against targets)."""
        data = self.data
        types = set(self.layer_types.values())
        settings = self.record.settings if self.record is not None else self.graph_training
        reconstruct = settings.get("reconstruct") is True
        applies = {
            self.data_view: self.data_view.applies,
            self.filters: self.has_convolutions,
            self.boundary: data is not None and data.kind == "points" and data.input_shape == (2,) and not reconstruct,
            self.confusion: not reconstruct and (data is None or data.task == CLASSIFICATION),
            self.outputs: reconstruct or (data is not None and data.task == REGRESSION),
            self.predict: not reconstruct and (data is None or data.task == CLASSIFICATION),
            self.features: not reconstruct and (data is None or (data.task == CLASSIFICATION
                                                                 and data.num_classes <= MAX_CLASSES_SHOWN)),
            self.embeddings: "Embedding" in types,
            self.attention: bool({"MultiheadAttention", "TransformerEncoderLayer"} & types) or self._has_attention(),
            self.through_time: bool(set(RECURRENT_TYPES) & types),
            self.word_pairs: _skipgram_window(settings) is not None,
            self.style_transfer: self.style_transfer.applies,
            self.neurons: (not reconstruct and data is not None and data.kind == "points" and data.input_shape == (2,))
            or self._has("NeuronPictures"),
            self.fit: (data is not None and data.task == REGRESSION and data.input_shape in ((1,), (2,)))
            or self._has("FittedCurve") or self._has("PredictedSurface"),
            self.landscape: settings.get("landscape") is True or self._has("LossLandscape")
            or self.landscape.shared is not None,
        }
        for panel, shown in applies.items():
            self.tabs.setTabVisible(self.tabs.indexOf(panel), shown)

    def _has(self, kind: str) -> bool:
        return self.record is not None and kind in self.record.latest

    def _has_attention(self) -> bool:
        """Attention inside a block (a Transformer encoder block) shows up in the run's probes."""
        return self.record is not None and bool(self.record.latest.get("attention"))

    def _load_data(self, record: RunRecord, config: TrainingConfig) -> None:
        """The data set in this process too, for showing samples, points and predictions, as the
        run's model takes it (raw values for a graph that normalises its input itself); read in a
        thread (CIFAR takes seconds) so the window never waits for it."""
        from engine.data import as_graph_takes, load_dataset
        options = {k: v for k, v in config.dataset_options.items() if k != "download"}

        def load():
            data = load_dataset(config.dataset, **options)
            return as_graph_takes(data, loads_graph(record.graph_text, "<run>")) if record.graph_text else data

        def loaded(data, error) -> None:
            if record is self.record:      # not a data set of a run no longer shown
                self._show_data(data if error is None else None)
        BackgroundJob(load, loaded, self,
                      name="netloom-dashboard-data").start()

    def _show_data(self, data) -> None:
        self.data = data
        self.adapt()
        self.activations.set_samples(self.data)
        self.boundary.set_points(self.data)
        self.predict.set_data(self.data)
        self.fit.set_data(self.data)
        self.through_time.set_data(self.data)
        self.filters.input_shape = data.input_shape if data is not None else None
        self.features.data = self.embeddings.data = data

    def mark_dirty(self, *args) -> None:
        self._dirty = True

    def set_elsewhere(self, text: str) -> None:
        self.elsewhere.setText(text)
        self.elsewhere.setVisible(bool(text))

    def titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def show_help(self, title: str) -> ViewHelpDialog:
        """What the view ``title`` shows and how to read it, in a window beside the dashboard."""
        if self.help is None:
            self.help = ViewHelpDialog(self)
        self.help.show_view(title)
        return self.help

    def set_graph_changed(self, changed: bool) -> None:
        self.changed_note.setText("The graph has changed since this run started; the run trains the graph as it "
                                  "was." if changed else "")

    def _sample_changed(self, index: int) -> None:
        """One probe sample for every view: the one chosen in Activations or in Through time."""
        for box in (self.activations.sample, self.through_time.sample):
            box.blockSignals(True)
            box.setValue(index)
            box.blockSignals(False)
        self.activations.show_sample()
        self.predict.sample.setValue(index)
        self.sample_chosen.emit(index)

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        if self.tabs.currentWidget() is self.style_transfer:
            self.style_transfer.poll()          # the style transfer runs whether or not there is a run
        if not self._dirty:
            return
        self._dirty = False
        self._place_empty()
        record = self.record
        if record is None:
            return
        self.status.setText(self._status_text(record))
        self.adapt()
        panel = cast(RunPanel | None, self.tabs.currentWidget())
        if panel is self.curves:
            self.curves.show_record(record, [r for r in self.others if r is not record])
        elif panel is self.gradients:
            self.gradients.show_record(record)
            self.gradients.compare(self.others, self.layer_types)
        elif panel is self.through_time:
            self.through_time.show_record(record, self.others)
        elif panel in (self.filters, self.features):
            self.run_model.follow(record)        # their views asked for work on the newest weights
            panel.show_record(record)
        elif panel is not self.style_transfer and panel is not None:
            panel.show_record(record)

    def _place_empty(self) -> None:
        """With no run of the graph shown, a tab that draws runs says so (and what it will show)
        over its controls, rather than show empty axes."""
        panel = self.tabs.currentWidget()
        if self.record is not None or panel is None or not getattr(panel, "needs_run", True):
            self.empty.hide()
            return
        if self.empty.parent() is not panel:
            self.empty.setParent(panel)
        title = self.tabs.tabText(self.tabs.currentIndex())
        self.empty.setText(f"<p><b>No run of this graph yet.</b></p><p>Press Train (F5): {summary(title)}</p>"
                           "<p>The ? button says how to read this view.</p>")
        self.empty.setGeometry(panel.rect())
        self.empty.show()
        self.empty.raise_()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.empty.isVisible():         # once the tabs' pages have their new size
            QTimer.singleShot(0, self, self._place_empty)

    def _status_text(self, r: RunRecord) -> str:
        parts = [f"<b>{r.name}</b>: {r.status}"]
        if r.started is not None:
            parts.append(f"on {r.started.device}, epoch {r.epoch}/{r.started.epochs}, step {r.step}")
        speed = r.curves["samples_per_s"]
        if speed.size:
            parts.append(f"{speed.y[-1]:,.0f} samples/s")
        if r.started is not None:           # the worker's clock, from the run's own start
            parts.append(f"elapsed {seconds(r.elapsed_now)}")
        eta = r.eta_s
        if eta is not None:
            parts.append(f"about {seconds(eta)} left")
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


def _skipgram_window(settings: dict) -> int | None:
    """The window of a run (or graph) that trains word2vec on skip-gram pairs; None for any other."""
    options = settings.get("dataset_options")
    if settings.get("dataset") != "text" or not isinstance(options, dict) or options.get("mode") != "skipgram":
        return None
    window = options.get("window", 2)
    return window if isinstance(window, int) and not isinstance(window, bool) else 2


def seconds(value: float) -> str:
    """A duration as a person reads it: tenths below 10 s, whole seconds below 2 minutes, then minutes."""
    if value < 10:
        return f"{value:.1f} s"
    if value < 120:
        return f"{value:.0f} s"
    minutes, rest = divmod(round(value), 60)
    return f"{minutes} min {rest:02d} s"

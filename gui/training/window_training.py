"""Training from the main window: Train, Pause and Stop, the settings dialog, the dashboard
dock, the gradient colours on the canvas, and keeping runs beside the graph file."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMessageBox, QSpinBox

from engine.training import ConfigError, TrainingConfig
from graphs import GraphFileError, load_graph
from graphs.edits import SetTraining
from graphs.events import MODEL_EVENTS, TrainingChanged
from graphs.experiment import Experiment, load_experiment

from ..canvas.training_overlay import GradientLegend, apply_overlay, clear_overlay
from ..document import PathChanged, Replaced
from ..theme import current as current_theme
from .controller import TrainingController
from .dashboard import Dashboard
from .run_history import RunHistory, add_run, load_runs, save_runs
from .settings_dialog import TrainingSettingsDialog


class TrainingUI(QObject):
    """A child of the window, so that its connections end with the window's widgets."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.controller = TrainingController(window)
        self.dashboard = Dashboard()
        self.dock = QDockWidget("Training", window)
        self.dock.setObjectName("Training")
        self.dock.setWidget(self.dashboard)
        window.addDockWidget(Qt.BottomDockWidgetArea, self.dock)
        problems = window.findChild(QDockWidget, "Problems")
        window.tabifyDockWidget(problems, self.dock)
        self.dock.hide()             # until the first run: the canvas keeps the room (View menu shows it)
        self.legend = GradientLegend(window.view)
        self.legend.view = window.view
        self._build_actions()
        c = self.controller
        c.started.connect(self._started)
        c.updated.connect(self._updated)
        c.ended.connect(self._ended)
        window.document.subscribe(self._on_changes, kinds=(Replaced, PathChanged, TrainingChanged, *MODEL_EVENTS))
        self.dashboard.sample_chosen.connect(c.set_probe)
        self.dashboard.features.layer_chosen.connect(c.set_feature_layer)
        self._shown_fingerprint = ""                    # what the open graph computes, when the last run started
        self.experiment: Experiment | None = None      # opened from the example library: Run Experiment trains it
        self._variants_left: list = []
        self._update_actions()
        self._show_epochs()

    def _build_actions(self) -> None:
        w = self.window
        menu = w.menuBar().addMenu("&Train")
        self.train_action = QAction("&Train", w, shortcut=QKeySequence("F5"), triggered=self._train_clicked)
        self.pause_action = QAction("&Pause", w, checkable=True, triggered=self.pause)
        self.stop_action = QAction("&Stop", w, shortcut=QKeySequence("Shift+F5"), triggered=self.controller.stop)
        self.settings_action = QAction("Training &Settings...", w, triggered=self.edit_settings)
        for action in (self.train_action, self.pause_action, self.stop_action):
            menu.addAction(action)
            w.toolbar.addAction(action)
            if action is self.train_action:     # how long, beside the button that starts it
                self.epochs_box = QSpinBox(minimum=1, maximum=100_000, prefix="epochs ")
                self.epochs_box.setObjectName("epochs")
                self.epochs_box.setToolTip("Passes over the training data (saved in the file's training settings)")
                self.epochs_box.setKeyboardTracking(False)
                self.epochs_box.valueChanged.connect(self._set_epochs)
                w.toolbar.addWidget(self.epochs_box)
        self.experiment_action = QAction("Run &Experiment (All Variants)", w)
        self.experiment_action.triggered.connect(self._experiment_clicked)
        self.experiment_action.setToolTip("Train every variant of the open experiment, one after another, and "
                                          "compare their gradients")
        menu.addAction(self.experiment_action)
        menu.addSeparator()
        menu.addAction(self.settings_action)
        w.toolbar.addAction(self.settings_action)
        menu.addAction(self.dock.toggleViewAction())

    # ------------------------------------------------------------------ buttons
    def config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.window.document.graph.training)

    def _train_clicked(self, checked: bool = False) -> None:
        self.train()

    def train(self, epochs: int | None = None) -> bool:
        w = self.window
        report = w.document.check_now()
        if not report.ok:
            w.say("Fix the errors first: " + report.errors[0].message)
            w.problems.parent().raise_()
            return False
        try:
            config = self.config()
        except ConfigError as err:
            w.show_error("The training settings cannot be used", str(err))
            return False
        if epochs is not None:
            config = config.replace(epochs=epochs)
        allow_download = False
        if config.dataset_options.get("download") is True:
            allow_download = self.ask_download(config)
            if not allow_download:
                w.say("Training not started: the data set would have to be downloaded first")
                return False
        self.controller.start(w.document.graph, config, w.document.path, allow_download)
        return True

    def ask_download(self, config: TrainingConfig) -> bool:
        """A graph file cannot make NetLoom download on its own: the person agrees first."""
        if not self.window.interactive:
            return False
        root = config.dataset_options.get("root", "?")
        answer = QMessageBox.question(self.window, "Download the data set?",
                                      f"The training settings ask to download {config.dataset} into {root}. "
                                      "Download it there now?",
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def pause(self, paused: bool) -> None:
        (self.controller.pause if paused else self.controller.resume)()
        self._update_actions()

    def edit_settings(self) -> bool:
        try:
            current = self.config()
        except ConfigError as err:
            self.window.say(f"{err}; showing the defaults")
            current = TrainingConfig()
        dialog = TrainingSettingsDialog(current, self.window)
        if dialog.exec() and dialog.result_config is not None:
            self.window.document.push(SetTraining(dialog.result_config.to_dict()), "Change training settings", at=())
            return True
        return False

    def _show_epochs(self) -> None:
        epochs = self.window.document.graph.training.get("epochs", TrainingConfig.epochs)
        self.epochs_box.blockSignals(True)
        self.epochs_box.setValue(epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else 10)
        self.epochs_box.blockSignals(False)

    def _set_epochs(self, epochs: int) -> None:
        training = self.window.document.graph.training
        if training.get("epochs") != epochs:
            self.window.document.push(SetTraining({**training, "epochs": epochs}), f"Train for {epochs} epochs", at=())

    # ------------------------------------------------------------------ experiments
    def open_experiment(self, path) -> bool:
        """Open an experiment's first variant, ready for Run Experiment."""
        try:
            experiment = load_experiment(path)
        except GraphFileError as err:
            self.window.show_error("This experiment cannot be opened", str(err))
            return False
        if not self.window.open_example(experiment.variants[0].graph):
            return False                              # the person kept their own document open
        self.experiment = experiment
        self._update_actions()
        names = ", ".join(v.name for v in experiment.variants)
        self.window.say(f"{experiment.title}. Train > Run Experiment trains all {len(experiment.variants)} "
                        f"variants ({names}); the Gradients tab compares them.")
        return True

    def _experiment_clicked(self, checked: bool = False) -> None:
        self.run_experiment()

    def run_experiment(self, epochs: int | None = None) -> bool:
        """Train each variant in turn (each in its own run, named after it)."""
        if self.experiment is None or self.controller.running:
            return False
        self._variants_left = [(v, epochs) for v in self.experiment.variants]
        self.dashboard.gradients.reset()
        self._start_next_variant()
        self.dashboard.tabs.setCurrentWidget(self.dashboard.gradients)
        return True

    def _start_next_variant(self) -> None:
        variant, epochs = self._variants_left.pop(0)
        try:
            graph = load_graph(variant.graph)
            config = TrainingConfig.from_dict(graph.training)
        except (GraphFileError, ConfigError) as err:
            self._variants_left = []
            self.window.show_error("A variant of the experiment cannot be trained", str(err))
            return
        if epochs is not None:
            config = config.replace(epochs=epochs)
        record = self.controller.start(graph, config, None)
        record.name = variant.name

    def _update_actions(self) -> None:
        running = self.controller.running
        self.experiment_action.setEnabled(self.experiment is not None and not running)
        self.train_action.setEnabled(not running)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        if not running:
            self.pause_action.setChecked(False)

    # ------------------------------------------------------------------ run events
    def _started(self, record) -> None:
        self._shown_fingerprint = self.window.document.graph.model_fingerprint()
        if record.model_fingerprint != self._shown_fingerprint:
            clear_overlay(self.window.scene)
        self.dock.show()
        self.dock.raise_()
        self.window.resizeDocks([self.dock], [int(self.window.height() * 0.45)], Qt.Vertical)
        QTimer.singleShot(0, self.window.view.fit_all)      # the canvas got smaller: keep the graph in view
        self.dashboard.set_graph(self.window.document.graph)
        self.dashboard.begin(record, self.controller.runs)
        self.legend.place()
        self.legend.show()
        self._update_actions()

    def _updated(self, record) -> None:
        self.dashboard.mark_dirty()
        # Another graph's run (an experiment's variant) does not colour this canvas.
        if record.model_fingerprint == self._shown_fingerprint:
            gradients = record.latest.get("gradients")
            means = {g.layer: g.mean_abs_grad for g in gradients.layers} if gradients else {}
            apply_overlay(self.window.scene, means, record.dead_units)
        self._update_actions()

    def _ended(self, record) -> None:
        self._update_actions()
        self.dashboard.mark_dirty()
        w = self.window
        final = record.final
        if record.status == "failed":
            w.say(f"Training failed: {final.reason}")
            if final.node and final.node in w.scene.nodes:
                w.focus_node(final.node)
                clear_overlay(w.scene)
                item = w.scene.nodes[final.node]
                item.overlay = QColor(current_theme().failed_node)
                item.update()
        else:
            w.say(f"Training {record.status}: epoch {final.epoch}" +
                  (f", validation accuracy {final.val_accuracy:.1%}" if final.val_accuracy is not None else ""))
        self._keep(record)
        if self._variants_left and record.status == "finished":
            QTimer.singleShot(0, self._start_next_variant)
        else:
            self._variants_left = []

    def _on_changes(self, changes) -> None:
        if changes.has(Replaced, TrainingChanged):
            self._show_epochs()
        if changes.has(Replaced):
            self.experiment = None
            self._update_actions()
            self._document_replaced()
        elif changes.has(PathChanged):
            self._adopt_untitled_runs()
        if changes.changes_model:
            self._note_graph_changes()

    def _note_graph_changes(self) -> None:
        """The dashboard says when the graph no longer computes what the shown run trained (a
        move or new training settings do not count)."""
        record = self.controller.current
        if record is not None:
            self.dashboard.set_graph_changed(self.window.document.graph.model_fingerprint() != record.model_fingerprint)

    def node_chosen(self, node_id: str) -> None:
        """Clicking a node shows its activation maps."""
        self.dashboard.activations.choose_layer(node_id)

    # ------------------------------------------------------------------ runs kept with their graph
    def _keep(self, record) -> None:
        """Write a finished run into the history of the graph file it was made from, which need not
        be the one open now; runs of an untitled graph are kept once it is saved."""
        if record.document is None:
            return
        current = self.window.document.path
        try:
            if current is not None and str(current) == record.document:
                said = save_runs(self._runs_of(record.document), current)
            else:
                said = add_run(record, Path(record.document))
        except GraphFileError as err:
            self.window.show_error("The runs could not be kept", str(err))
            return
        if said:
            self.window.show_error("A runs file was damaged", said)

    def _runs_of(self, document: str) -> list:
        return [r for r in self.controller.runs if r.document == document]

    def _document_replaced(self) -> None:
        """Another graph is open: show its kept runs; a run still going trains on and is kept with
        the graph it came from."""
        path = self.window.document.path
        history = RunHistory()
        if path is not None:
            try:
                history = load_runs(path)
            except GraphFileError as err:
                self.window.show_error("The runs file cannot be used", str(err))
        for record in history.records:
            record.document = record.document or str(path)
        self.controller.runs = history.records
        if history.problem:
            self.window.show_error("A runs file was damaged", history.problem)
        if not self.controller.running:
            self.controller.current = history.records[-1] if history.records else None
            self.dashboard.set_graph(self.window.document.graph)
            self.dashboard.show_runs(self.controller.current, history.records)
            self.legend.hide()
            clear_overlay(self.window.scene)
        if self.dashboard.style_transfer.applies and "style_layers" in self.window.document.graph.metadata:
            self.dock.show()                    # a graph made for style transfer opens on its view
            self.dashboard.tabs.setCurrentWidget(self.dashboard.style_transfer)

    def _adopt_untitled_runs(self) -> None:
        """Saving an untitled graph: the runs made from it belong to the new file from now on."""
        path = self.window.document.path
        untitled = [r for r in self.controller.runs if r.document is None and r is not self._running_record()]
        if path is None or not untitled:
            return
        for record in untitled:
            record.document = str(path)
        self._keep(untitled[-1])

    def _running_record(self):
        return self.controller.current if self.controller.running else None

    def shutdown(self) -> bool:
        """Closing: ask before ending a run that is going (unless not interactive)."""
        if self.controller.running and self.window.interactive:
            answer = QMessageBox.question(self.window, "Training is running", "Stop the training and close?",
                                          QMessageBox.Yes | QMessageBox.No)
            if answer != QMessageBox.Yes:
                return False
        self.controller.shutdown()
        return True

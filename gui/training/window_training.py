"""Training from the window: Train, Pause and Stop (declared as commands), the settings dialog,
the dashboard, the gradient colours on the canvas, experiments, and keeping runs beside the
graph file."""

from __future__ import annotations

import functools
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QSpinBox
from safetensors.torch import save as safetensors_bytes

from engine.data import input_normalizer, statistics_edit
from engine.insight import RECURRENT_TYPES
from engine.training import ConfigError, TrainingConfig, input_statistics, load_weights, shared_landscape
from graphs import GraphFileError, load_graph
from graphs.atomic import write_atomically
from graphs.edits import SetTraining
from graphs.events import MODEL_EVENTS, TrainingChanged
from graphs.experiment import Experiment, experiment_files, load_experiment

from ..background import BackgroundJob
from ..canvas.scene import GraphScene
from ..canvas.training_overlay import GradientLegend, apply_overlay, clear_overlay
from ..canvas.view import GraphView
from ..commands import NODE_MENU, TOOLBAR, Choice, Command, Context, Place, files
from ..document import Checked, PathChanged, Replaced
from ..selection import SelectionChanged
from ..theme import current as current_theme
from .controller import TrainingController
from .dashboard import Dashboard
from .run_history import RunHistory, add_run, load_runs, save_runs
from .settings_dialog import TrainingSettingsDialog


class TrainingUI(QObject):
    """Training in the window, given the document, the window's port and the canvas it colours.
    Its commands are ``commands()``; ``state_changed`` says when their state changed (a run
    started, paused or ended). The window docks ``dashboard`` as the "Training" panel."""
    state_changed = Signal()

    def __init__(self, ctx: Context, scene: GraphScene, view: GraphView, parent: QObject | None = None,
                 keep_warm: bool = False) -> None:
        super().__init__(parent)
        self.ctx, self.scene, self.view = ctx, scene, view
        self.controller = TrainingController(self, keep_warm=keep_warm)      # a person's window keeps a run ready
        self.dashboard = Dashboard()
        self.legend = GradientLegend(view)
        self.epochs_box = QSpinBox(minimum=1, maximum=100_000, prefix="epochs ")    # how long, beside Train
        self.epochs_box.setObjectName("epochs")
        self.epochs_box.setToolTip("Passes over the training data (saved in the file's training settings)")
        self.epochs_box.setKeyboardTracking(False)
        self.epochs_box.valueChanged.connect(self._set_epochs)
        c = self.controller
        c.started.connect(self._started)
        c.updated.connect(self._updated)
        c.ended.connect(self._ended)
        document = ctx.document
        document.subscribe(self._on_changes, kinds=(Replaced, PathChanged, TrainingChanged, *MODEL_EVENTS))
        document.subscribe(lambda changes: self._show_data_source(), kinds=(Replaced, TrainingChanged, Checked))
        document.subscribe(lambda changes: self.node_chosen(document.selection.node), kinds=(SelectionChanged,))
        self.dashboard.sample_chosen.connect(c.set_probe)
        self.dashboard.features.layer_chosen.connect(c.set_feature_layer)
        self._shown_fingerprint = ""                    # what the open graph computes, when the last run started
        self.experiment: Experiment | None = None      # opened from the example library: Run Experiment trains it
        self._variants_left: list = []
        self._said_start: set[int] = set()             # runs whose start weights were said
        self._variant_number = 0                        # of the variant training (1-based)
        self._show_epochs()
        self._show_data_source()

    def commands(self) -> list[Command]:
        running = lambda ctx: self.controller.running      # noqa: E731 - read at each refresh
        return [
            Command("train.start", "&Train", lambda ctx: self.train(), (Place(TRAIN), Place(TOOLBAR)), keys="F5",
                    enabled=lambda ctx: not self.controller.running, icon="mdi6.play"),
            Command("train.pause", "&Pause", lambda ctx: self.pause(not self.controller.paused),
                    (Place(TRAIN), Place(TOOLBAR)), enabled=running, checked=lambda ctx: self.controller.paused,
                    icon="mdi6.pause"),
            Command("train.stop", "&Stop", lambda ctx: self.controller.stop(), (Place(TRAIN), Place(TOOLBAR)),
                    keys="Shift+F5", enabled=running, icon="mdi6.stop"),
            Command("train.experiment", "Run &Experiment (All Variants)", lambda ctx: self.run_experiment(),
                    (Place(TRAIN),), enabled=lambda ctx: self.experiment is not None and not self.controller.running,
                    tip=lambda ctx: "Train every variant of the open experiment, one after another, and compare "
                                    "their gradients"),
            Command("train.settings", "Training &Settings...", lambda ctx: self.edit_settings(),
                    (Place(TRAIN, 1), Place(TOOLBAR)), icon="mdi6.tune-variant"),
            Command("train.save_weights", "Save Trained &Weights...", lambda ctx: self.save_weights(),
                    (Place(TRAIN, 1),), enabled=lambda ctx: self._checkpoint() is not None,
                    tip=lambda ctx: "Write the newest run's weights to a file, to start another graph from them"),
            Command("train.unroll", "&Unroll Through Time", lambda ctx: self.unroll(ctx.node or ctx.selection.node),
                    (Place(NODE_MENU, 4),), enabled=lambda ctx: self._recurrent(ctx.node or ctx.selection.node),
                    tip=lambda ctx: "Show this recurrent layer step by step over a sample: its hidden state, its "
                                    "gates and the gradient reaching each step", icon="mdi6.timeline-clock-outline"),
            Command("train.open_experiment", "Experiment", lambda ctx, path: self.open_experiment(path),
                    (Place("&File/New from &Example", 1),),
                    choices=lambda ctx: [Choice(f"Experiment: {title}", path) for title, path in _experiments()]),
            Command("help.training_view", "Training View", lambda ctx, title: self.dashboard.show_help(title),
                    (Place("&Help/&Training Views"),),
                    choices=lambda ctx: [Choice(title, title) for title in self.dashboard.titles()]),
        ]

    # ------------------------------------------------------------------ buttons
    def config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.ctx.document.graph.training)

    def train(self, epochs: int | None = None) -> bool:
        document, window = self.ctx.document, self.ctx.window
        report = document.check_now()
        if not report.ok:
            window.say("Fix the errors first: " + report.errors[0].message)
            window.show_panel("Problems")
            return False
        try:
            config = self.config()
        except ConfigError as err:
            window.show_error("The training settings cannot be used", str(err))
            return False
        if epochs is not None:
            config = config.replace(epochs=epochs)
        self._fill_input_statistics(config)
        allow_download = False
        if config.dataset_options.get("download") is True:
            allow_download = self.ask_download(config)
            if not allow_download:
                window.say("Training not started: the data set would have to be downloaded first")
                return False
        self.controller.start(document.graph, config, document.path, allow_download)
        return True

    def _fill_input_statistics(self, config: TrainingConfig) -> None:
        """A graph that normalises its input itself gets the statistics of the data set it trains
        on before it starts: an edit the canvas shows and Undo takes back (the run would use them
        anyway, and its weights are trained for them)."""
        document = self.ctx.document
        if input_normalizer(document.graph) is None:
            return
        data = document.data_for(config)
        edit = statistics_edit(document.graph, input_statistics(data, config)) if data is not None else None
        if edit is not None:
            document.push(edit, "Normalize with the statistics training uses", at=())

    def ask_download(self, config: TrainingConfig) -> bool:
        """A graph file cannot make NetLoom download on its own: the person agrees first."""
        root = config.dataset_options.get("root", "?")
        return self.ctx.window.confirm("Download the data set?", f"The training settings ask to download "
                                       f"{config.dataset} into {root}. Download it there now?", unattended=False)

    def pause(self, paused: bool) -> None:
        (self.controller.pause if paused else self.controller.resume)()
        self.state_changed.emit()

    def edit_settings(self) -> bool:
        try:
            current = self.config()
        except ConfigError as err:
            self.ctx.window.say(f"{err}; showing the defaults")
            current = TrainingConfig()
        graph = self.ctx.document.graph
        types = {n.type for body in (graph, *graph.blocks.values()) for n in body.nodes.values()}
        dialog = TrainingSettingsDialog(current, self.dashboard, self.ctx.document.path, layer_types=types)
        if dialog.exec() and dialog.result_config is not None:
            self.ctx.document.push(SetTraining(dialog.result_config.to_dict()), "Change training settings", at=())
            return True
        return False

    def _checkpoint(self) -> str | None:
        record = self.controller.current
        checkpoint = record.latest.get("checkpoint") if record is not None else None
        return checkpoint if isinstance(checkpoint, str) else None

    def save_weights(self, path: str | None = None) -> bool:
        """The newest run's weights as a .safetensors file of their own (a start for fine-tuning)."""
        window, document = self.ctx.window, self.ctx.document
        weights = self.trained_weights()
        if weights is None:
            window.say("No weights to save: train first (the graph has changed since the last run, or it has none)")
            return False
        if path is None:
            start = Path(document.path or document.graph.name).with_suffix(".safetensors")
            path = window.choose_save_path("Save trained weights", str(start), "Weights (*.safetensors)")
            if not path:
                return False
        try:
            write_atomically(path, safetensors_bytes({k: v.contiguous() for k, v in weights.items()}))
        except OSError as err:
            window.show_error("The weights cannot be saved", f"{path}: {err.strerror or err}")
            return False
        window.say(f"Saved the weights of {self.controller.current.name if self.controller.current else 'the run'} to "
                   f"{path}; Training Settings > Start weights takes them")
        return True

    def _show_epochs(self) -> None:
        epochs = self.ctx.document.graph.training.get("epochs", TrainingConfig.epochs)
        self.epochs_box.blockSignals(True)
        self.epochs_box.setValue(epochs if isinstance(epochs, int) and not isinstance(epochs, bool) else 10)
        self.epochs_box.blockSignals(False)

    def _set_epochs(self, epochs: int) -> None:
        training = self.ctx.document.graph.training
        if training.get("epochs") != epochs:
            self.ctx.document.push(SetTraining({**training, "epochs": epochs}), f"Train for {epochs} epochs", at=())

    # ------------------------------------------------------------------ experiments
    def open_experiment(self, path) -> bool:
        """Open an experiment's first variant, ready for Run Experiment."""
        try:
            experiment = load_experiment(path)
        except GraphFileError as err:
            self.ctx.window.show_error("This experiment cannot be opened", str(err))
            return False
        if not files.open_example(self.ctx, experiment.variants[0].graph):
            return False                              # the person kept their own document open
        self.experiment = experiment
        self.state_changed.emit()
        names = ", ".join(v.name for v in experiment.variants)
        self.ctx.window.say(f"{experiment.title}. Train > Run Experiment trains all {len(experiment.variants)} "
                        f"variants ({names}); the Gradients tab compares them (and Through time, for recurrent layers).")
        return True

    def run_experiment(self, epochs: int | None = None) -> bool:
        """Train each variant in turn (each in its own run, named after it)."""
        if self.experiment is None or self.controller.running:
            return False
        self._variants_left = [(v, epochs) for v in self.experiment.variants]
        self.dashboard.gradients.reset()
        self._start_next_variant()
        recurrent = self.dashboard.tabs.isTabVisible(self.dashboard.tabs.indexOf(self.dashboard.through_time))
        self.dashboard.tabs.setCurrentWidget(self.dashboard.through_time if recurrent else self.dashboard.gradients)
        return True

    def _start_next_variant(self) -> None:
        self._variant_number = len(self.experiment.variants) - len(self._variants_left) + 1 if self.experiment else 0
        variant, epochs = self._variants_left.pop(0)
        try:
            graph = load_graph(variant.graph)
            config = TrainingConfig.from_dict(graph.training)
        except (GraphFileError, ConfigError) as err:
            self._variants_left = []
            self.ctx.window.show_error("A variant of the experiment cannot be trained", str(err))
            return
        if epochs is not None:
            config = config.replace(epochs=epochs)
        record = self.controller.start(graph, config, None)
        record.name = variant.name

    # ------------------------------------------------------------------ run events
    # The dashboard shows the runs of the graph on the canvas, and only those: a run starts on the
    # dashboard when it trains the graph on the canvas (an experiment's other variants do not),
    # and opening another graph shows that graph's kept runs, or none. A run of another graph that
    # goes on meanwhile is said in one line, by name, and compared where runs are compared.
    def _of_canvas(self, record) -> bool:
        return record is self.dashboard.record

    def _started(self, record) -> None:
        self._shown_fingerprint = self.ctx.document.graph.model_fingerprint()
        self.ctx.window.show_panel("Training", height_share=0.45)
        if record.model_fingerprint != self._shown_fingerprint:
            self.dashboard.show_runs(self.dashboard.record, self.controller.runs)     # compared, not shown
            self._say_elsewhere(record)
            self.state_changed.emit()
            return
        QTimer.singleShot(0, self.ctx.window.fit_view)      # the canvas got smaller: keep the graph in view
        clear_overlay(self.scene)
        self.dashboard.set_graph(self.ctx.document.graph)
        self.dashboard.begin(record, self.controller.runs)
        self.dashboard.data_view.follow_run(record)
        self.dashboard.set_elsewhere("")
        self.legend.place()
        self.legend.show()
        self.state_changed.emit()

    def _updated(self, record) -> None:
        self.dashboard.mark_dirty()
        start = record.latest.get("StartWeights")
        if start is not None and id(record) not in self._said_start:
            self._said_start.add(id(record))
            self.ctx.window.say(f"Starting from {Path(start.path).name}: {start.summary}" +
                                (f"; {start.mismatches[0]}" if start.mismatches else ""))
        if self._of_canvas(record):       # another graph's run (an experiment's variant) does not colour this canvas
            gradients = record.latest.get("gradients")
            means = {g.layer: g.mean_abs_grad for g in gradients.layers} if gradients else {}
            apply_overlay(self.scene, means, record.dead_units)
        else:
            self._say_elsewhere(record)
        self.state_changed.emit()

    def _say_elsewhere(self, record) -> None:
        """One line about a run that is not of the graph on the canvas."""
        shown = self.dashboard.record
        canvas = f"the canvas and the lines above show {shown.name}" if shown is not None else \
            "the graph on the canvas has no run yet"
        progress = f"epoch {record.epoch}/{record.started.epochs}" if record.started is not None else "starting"
        if self.experiment is not None and record.name in self._variant_names():
            total = len(self.experiment.variants)
            if record.status in ("running", "paused", "starting"):
                text = (f"Experiment '{self.experiment.title}': training variant {record.name} ({self._variant_number} of "
                        f"{total}), {progress}; {canvas}.")
            elif self._variants_left or record.status != "finished":
                text = f"Experiment '{self.experiment.title}': variant {record.name} {record.status}; {canvas}."
            else:
                tabs = self.dashboard.tabs
                where = ("Gradients, Through time and Curves" if tabs.isTabVisible(tabs.indexOf(self.dashboard.through_time))
                         else "Gradients and Curves")
                text = f"Experiment '{self.experiment.title}': {total} variants trained, compared in {where}; {canvas}."
        else:
            text = f"{record.name} of another graph is {record.status} ({progress}); it is kept with its own graph."
        self.dashboard.set_elsewhere(text)

    def _variant_names(self) -> set[str]:
        return {v.name for v in self.experiment.variants} if self.experiment is not None else set()

    def _ended(self, record) -> None:
        self.state_changed.emit()
        self.dashboard.mark_dirty()
        w = self.ctx.window
        final = record.final
        # Said with the run's name where it is not the canvas's graph's (an experiment's variant).
        who = "Training" if self._of_canvas(record) else f"Variant {record.name}" \
            if record.name in self._variant_names() else f"{record.name} of another graph"
        if not self._of_canvas(record) or (record.name in self._variant_names() and not self._variants_left):
            self._say_elsewhere(record)
        if record.status == "failed":
            w.say(f"{who} failed: {final.reason}")
            if final.node and final.node in self.scene.nodes and self._of_canvas(record):
                self.ctx.selection.set([final.node])
                w.show_node(final.node, centre=True)
                clear_overlay(self.scene)
                item = self.scene.nodes[final.node]
                item.overlay = QColor(current_theme().failed_node)
                item.update()
        else:
            w.say(f"{who} {record.status}: epoch {final.epoch}" +
                  (f", validation accuracy {final.val_accuracy:.1%}" if final.val_accuracy is not None else ""))
        self._keep(record)
        if self._variants_left and record.status == "finished":
            QTimer.singleShot(0, self._start_next_variant)
        else:
            if self._variants_left == [] and record.name in self._variant_names() and record.status == "finished":
                self._share_landscape()
            self._variants_left = []

    def _share_landscape(self) -> None:
        """After an experiment whose runs recorded their paths (the landscape setting): one loss
        landscape for all of them, worked out in a thread, in the Landscape tab."""
        assert self.experiment is not None
        variants = self.experiment.variants
        newest = {r.name: r for r in self.controller.runs}             # each variant's latest run
        paths = {v.name: newest[v.name].latest["WeightPath"] for v in variants
                 if v.name in newest and "WeightPath" in newest[v.name].latest}
        if len(paths) != len(variants):
            return                      # trained without the landscape setting: nothing to share
        try:
            graph = load_graph(variants[0].graph)
            config = TrainingConfig.from_dict(graph.training)
        except (GraphFileError, ConfigError) as err:
            self.ctx.window.say(f"No shared landscape: {err}")
            return
        self.ctx.window.say("Drawing the experiment's runs on one loss landscape ...")

        def drawn(shared, error: BaseException | None) -> None:
            if error is not None:
                self.ctx.window.say(f"No shared landscape: {error}")
                return
            self.dashboard.landscape.show_shared(shared, list(paths))
            self.dashboard.adapt()
            self.dashboard.tabs.setCurrentWidget(self.dashboard.landscape)
            self.ctx.window.say(f"The {len(paths)} runs on one loss landscape, each from their common start")
        BackgroundJob(lambda: shared_landscape(graph, config, paths), drawn, self, name="netloom-shared-landscape").start()

    def _show_data_source(self) -> None:
        """The Data tab shows the batch of the graph on the canvas, as its settings are now."""
        document = self.ctx.document
        self.dashboard.data_view.set_source(document.graph.training, document.data_set_for(document.graph.training),
                                            document.graph)
        self.dashboard.adapt()

    def _on_changes(self, changes) -> None:
        if changes.has(Replaced, TrainingChanged):
            self._show_epochs()
        if changes.has(Replaced):
            self.dashboard.data_view.clear()
            self.experiment = None
            self.state_changed.emit()
            self._document_replaced()
        elif changes.has(PathChanged):
            self._adopt_untitled_runs()
        if changes.changes_model:
            self._note_graph_changes()

    def _note_graph_changes(self) -> None:
        """The dashboard says when the graph no longer computes what the shown run trained (a
        move or new training settings do not count)."""
        record = self.dashboard.record
        if record is not None:
            self.dashboard.set_graph_changed(self.ctx.document.graph.model_fingerprint() != record.model_fingerprint)

    def node_chosen(self, node_id: str | None) -> None:
        """Selecting a node shows its activation maps (and a recurrent layer's steps)."""
        if node_id is not None:
            self.dashboard.activations.choose_layer(node_id)
            if self._recurrent(node_id):
                self.dashboard.through_time.layer.want(node_id)

    def _recurrent(self, node_id: str | None) -> bool:
        """Whether ``node_id`` is a recurrent layer of the model shown (what Through time unrolls)."""
        node = self.ctx.document.graph.nodes.get(node_id) if node_id and not self.ctx.document.levels else None
        return node is not None and node.type in RECURRENT_TYPES

    def unroll(self, node_id: str | None) -> bool:
        """The Through time tab on a recurrent layer: its steps from the run's probes."""
        if not self._recurrent(node_id):
            return False
        assert node_id is not None
        self.dashboard.through_time.layer.want(node_id)
        self.dashboard.tabs.setCurrentWidget(self.dashboard.through_time)
        self.dashboard.mark_dirty()
        self.ctx.window.show_panel("Training")
        if self.controller.current is None:
            self.ctx.window.say(f"Train (F5) to see {node_id} unrolled: its steps appear with the run's probes.")
        return True

    # ------------------------------------------------------------------ runs kept with their graph
    def _keep(self, record) -> None:
        """Write a finished run into the history of the graph file it was made from, which need not
        be the one open now; runs of an untitled graph are kept once it is saved."""
        if record.document is None:
            return
        current = self.ctx.document.path
        try:
            if current is not None and str(current) == record.document:
                said = save_runs(self._runs_of(record.document), current)
            else:
                said = add_run(record, Path(record.document))
        except GraphFileError as err:
            self.ctx.window.show_error("The runs could not be kept", str(err))
            return
        if said:
            self.ctx.window.show_error("A runs file was damaged", said)

    def _runs_of(self, document: str) -> list:
        return [r for r in self.controller.runs if r.document == document]

    def _document_replaced(self) -> None:
        """Another graph is open: show its kept runs; a run still going trains on and is kept with
        the graph it came from."""
        path, graph = self.ctx.document.path, self.ctx.document.graph
        history = RunHistory()
        if path is not None:
            try:
                history = load_runs(path)
            except GraphFileError as err:
                self.ctx.window.show_error("The runs file cannot be used", str(err))
        for record in history.records:
            record.document = record.document or str(path)
        self.controller.runs = history.records
        if history.problem:
            self.ctx.window.show_error("A runs file was damaged", history.problem)
        shown = history.records[-1] if history.records else None
        running = self._running_record()
        if running is None:
            self.controller.current = shown
        self.dashboard.set_graph(graph)
        self.dashboard.show_runs(shown, history.records)      # every tab: this graph's run, or none
        self.legend.hide()
        clear_overlay(self.scene)
        if running is not None:       # it trains on, and is kept with the graph it came from
            self._say_elsewhere(running)
        else:
            self.dashboard.set_elsewhere("")
        if self.dashboard.style_transfer.applies and "style_layers" in graph.metadata:
            self.ctx.window.show_panel("Training")       # a graph made for style transfer opens on its view
            self.dashboard.tabs.setCurrentWidget(self.dashboard.style_transfer)

    def _adopt_untitled_runs(self) -> None:
        """Saving an untitled graph: the runs made from it belong to the new file from now on."""
        path = self.ctx.document.path
        untitled = [r for r in self.controller.runs if r.document is None and r is not self._running_record()]
        if path is None or not untitled:
            return
        for record in untitled:
            record.document = str(path)
        self._keep(untitled[-1])

    def trained_weights(self):
        """The newest run's weights when they belong to the graph as it is (so export takes them), else None."""
        record = self.dashboard.record
        checkpoint = record.latest.get("checkpoint") if record else None
        if record is None or not checkpoint or record.model_fingerprint != self.ctx.document.graph.model_fingerprint():
            return None
        return load_weights(checkpoint)

    def _running_record(self):
        return self.controller.current if self.controller.running else None

    def shutdown(self) -> bool:
        """Closing: ask before ending a run that is going."""
        if self.controller.running and not self.ctx.window.confirm("Training is running", "Stop the training and close?",
                                                                   unattended=True):
            return False
        self.controller.shutdown()
        return True


TRAIN = "&Train"


@functools.cache
def _experiments() -> tuple[tuple[str, Path], ...]:
    """(title, file) of each experiment in the example library, read once."""
    found = []
    for path in experiment_files(files.EXAMPLES):
        try:
            found.append((load_experiment(path).title, path))
        except GraphFileError:
            found.append((path.name, path))
    return tuple(found)

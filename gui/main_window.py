"""The main window: the canvas in the middle, the palette, inspector, problems and training
panels docked around it, the status bar, and the menus and toolbar built from the commands.

The window only wires these parts together. What an action does is its command's (``gui/commands``,
and the training and import parts' own); what a gesture on the canvas does is its interaction's
(``gui/canvas/interactions.py``); what only a window can do for them (ask, choose a file, the
clipboard, the canvas's view) is ``window_port.QtWindowPort``.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea, QVBoxLayout, QWidget

from engine.training import describe_device, resolve_device
from graphs import dumps_graph
from graphs.events import MetadataChanged

from . import theme as themes
from .actions import CommandActions
from .autosave import Autosave
from .canvas.breadcrumb import Breadcrumb
from .canvas.find_bar import FindBar
from .canvas.interactions import GESTURES, CanvasGestures
from .canvas.minimap import Minimap
from .canvas.scene import GraphScene
from .canvas.start_page import StartPage
from .canvas.view import GraphView
from .commands import Context, blocks, editing, files, fixes, learning
from .document import Checked, Document, PathChanged
from .inspector import Inspector
from .model_io import ModelIO
from .palette import Palette
from .problems import ProblemsPanel
from .teaching.commands import TeachingViews
from .training.window_training import TrainingUI
from .window_commands import help_commands, window_commands
from .window_port import QtWindowPort

EXAMPLES = files.EXAMPLES

# Windows opened besides the first (restored work): kept alive here until they close.
_EXTRA_WINDOWS: list[MainWindow] = []


class MainWindow(QMainWindow):
    commands: CommandActions           # the menus and toolbar (the Help menu lists their shortcuts)

    def __init__(self, interactive: bool = True) -> None:
        super().__init__()
        self.document = Document(parent=self)
        self.scene = GraphScene(self.document, self)
        self.view = GraphView(self.scene)
        self.breadcrumb = Breadcrumb(self.document)
        self.setCentralWidget(_column(self.breadcrumb, self.view))
        builtin, problem = blocks.builtin_blocks()
        self.layer_palette = Palette(self.document, builtin)
        self.inspector = Inspector(self.document)
        self.port = QtWindowPort(self, self.view, self.inspector, interactive)
        self.problems = ProblemsPanel(self.document, self.port)
        self.context = Context(self.document, self.port)
        self.training = TrainingUI(self.context, self.scene, self.view, self, keep_warm=interactive)
        self.model_io = ModelIO(self.context, self.training.trained_weights, self)
        self.teaching = TeachingViews(self, self.training.dashboard)
        dashboard = self.training.dashboard
        self.inspector.insight.set_run_model(dashboard.run_model, lambda: dashboard.run_model.follow(dashboard.record))
        self.training.state_changed.connect(self.inspector.insight.follow_run)       # weights shown follow the run
        self.autosave = Autosave(self.document, self.port, self, self.open_new_window, self)
        self.docks = {title: self._dock(title, widget, area) for title, widget, area in (
            ("Layers", self.layer_palette, Qt.DockWidgetArea.LeftDockWidgetArea),
            ("Inspector", _scrolling(self.inspector), Qt.DockWidgetArea.RightDockWidgetArea),
            ("Problems", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea),
            ("Training", self.training.dashboard, Qt.DockWidgetArea.BottomDockWidgetArea))}
        self._arrange_docks()
        self.minimap = Minimap(self.view, self.scene)
        self.start_page = StartPage(self.view, self.document, EXAMPLES,
                                    lambda path: files.open_example(self.context, path))
        self.find_bar = FindBar(self.view, lambda: [(n.id, n.type) for n in self.document.shown.nodes.values()],
                                lambda node: editing.reveal(self.context, node))
        self.commands = CommandActions(self, self.context, [
            *files.COMMANDS, *editing.COMMANDS, *window_commands(self.view, self.minimap, self.find_bar, self.close),
            *blocks.COMMANDS, *self.training.commands(), *learning.COMMANDS, *fixes.COMMANDS, *self.model_io.commands(),
            *self.teaching.commands(), *help_commands(self, lambda: self.commands.shortcuts(), interactive)], GESTURES)
        self.gestures = CanvasGestures(self.scene, self.view, self.context, self.commands)
        self._add_panel_toggles()
        self._build_status_bar()
        self._connect()
        if problem:
            self.port.say(problem)
        # torch, Qt and the window are a few million objects that live as long as the process:
        # frozen, the collector's full passes (0.4 s each once a large graph is open) skip them.
        gc.freeze()
        self.resize(1400, 860)
        self._update_title()
        self._show_totals(self.document.report)

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _arrange_docks(self) -> None:
        docks = self.docks
        self.resizeDocks([docks["Layers"], docks["Inspector"]], [210, 300], Qt.Orientation.Horizontal)
        self.resizeDocks([docks["Problems"]], [130], Qt.Orientation.Vertical)
        self.tabifyDockWidget(docks["Problems"], docks["Training"])
        docks["Training"].hide()       # until the first run: the canvas keeps the room (View menu shows it)

    def _add_panel_toggles(self) -> None:
        view = self.commands.menu("&View")
        view.addSeparator()
        for title in ("Layers", "Inspector", "Problems"):
            view.addAction(self.docks[title].toggleViewAction())
        self.commands.menu("&Train").addSeparator()
        self.commands.menu("&Train").addAction(self.docks["Training"].toggleViewAction())
        self.commands.add_toolbar_widget("train.start", self.training.epochs_box)

    def _build_status_bar(self) -> None:
        self.totals_label = QLabel()
        self.check_label = QLabel()
        self.device_label = QLabel(f"training device: {describe_device(resolve_device('auto'))}")
        for label in (self.check_label, self.totals_label, self.device_label):
            self.statusBar().addPermanentWidget(label)

    def _connect(self) -> None:
        document = self.document
        document.message.connect(self.port.say)
        document.subscribe(lambda changes: self._show_totals(changes.of(Checked)[-1].report), kinds=(Checked,))
        document.undo_stack.cleanChanged.connect(self._update_title)
        document.subscribe(self._update_title, kinds=(PathChanged, MetadataChanged))
        self.problems.node_activated.connect(lambda node: editing.reveal(self.context, node))
        self.layer_palette.add_requested.connect(lambda type_name: editing.add_after_selection(self.context, type_name))
        self.training.state_changed.connect(self.commands.refresh)

    # ------------------------------------------------------------------ status
    def _show_totals(self, report) -> None:
        learning = (f" ({report.trainable_params:,} trainable, {report.frozen_params:,} frozen)"
                    if report.frozen_params else "")
        self.totals_label.setText(f"{report.total_params:,} parameters{learning}, {report.total_macs:,} multiply-adds")
        theme = themes.current()
        if report.errors:
            self.check_label.setText(f"<span style='color:{theme.error}'>{len(report.errors)} error(s)</span>")
        elif report.warnings:
            self.check_label.setText(f"<span style='color:{theme.warning_text}'>{len(report.warnings)} warning(s)</span>")
        else:
            self.check_label.setText(f"<span style='color:{theme.ok}'>checks pass</span>")

    def _update_title(self, *_) -> None:
        path = self.document.path
        self.setWindowTitle(f"{self.document.graph.name} - {path.name if path else 'untitled'}[*] - NetLoom")
        self.setWindowModified(self.document.modified)

    # ------------------------------------------------------------------ window events
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_laid_out", False):
            # Dock sizes only hold once the window has its real size: keep the canvas large.
            self._laid_out = True
            QTimer.singleShot(0, lambda: self.resizeDocks([self.docks["Problems"]], [160], Qt.Orientation.Vertical))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "find_bar") and self.find_bar.isVisible():
            self.find_bar.place()
        if hasattr(self, "training"):
            self.training.legend.place()

    def closeEvent(self, event) -> None:
        if files.maybe_save(self.context) and self.training.shutdown():
            self.model_io.shutdown()
            self.autosave.close()
            event.accept()
        else:
            event.ignore()

    def open_new_window(self) -> MainWindow:
        """Another window of the same kind, kept alive until it closes."""
        window = type(self)(interactive=self.port.interactive)
        _EXTRA_WINDOWS.append(window)
        window.destroyed.connect(lambda *_: _EXTRA_WINDOWS.remove(window) if window in _EXTRA_WINDOWS else None)
        window.show()
        return window

    # ------------------------------------------------------------------ for scripts and tests
    def graph_text(self) -> str:
        return dumps_graph(self.document.graph)


def _column(*widgets: QWidget) -> QWidget:
    """Widgets stacked without margins, the last one taking the room (the canvas under its bar)."""
    column = QWidget()
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for widget in widgets:
        layout.addWidget(widget, 1 if widget is widgets[-1] else 0)
    return column


def _scrolling(widget: QWidget) -> QScrollArea:
    """A panel that scrolls when it is taller than its dock (the inspector with its plots), rather
    than making the window taller; as wide as the panel needs, as it was without scrolling."""
    area = _TallScroll()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area


class _TallScroll(QScrollArea):
    def eventFilter(self, watched, event) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()          # the panel's fields changed: the dock takes their width again
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        widget = self.widget()
        inner = widget.minimumSizeHint() if widget is not None else QSize()
        return QSize(inner.width() + self.verticalScrollBar().sizeHint().width(), 60)

"""The main window: canvas in the middle, palette, inspector and problems around it, menus,
toolbar and status bar; files, autosave and recovery."""

from __future__ import annotations

import gc
import json
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

import resources
from engine.training import describe_device, resolve_device
from graphs import GraphError, GraphFileError, dumps_graph, loads_graph
from graphs.editing import add_after_edit, add_at_edit, delete_edit
from graphs.edits import AddNode
from graphs.events import MetadataChanged
from graphs.experiment import experiment_files, load_experiment
from graphs.fragments import extract, paste_edit
from graphs.layout import layout_edit

from . import theme as themes
from .block_actions import BlockActions
from .canvas.breadcrumb import Breadcrumb
from .canvas.context_menus import canvas_menu
from .canvas.find_bar import FindBar
from .canvas.minimap import Minimap
from .canvas.scene import GraphScene
from .canvas.view import GraphView
from .document import Checked, Document, Opened, PathChanged
from .inspector import Inspector
from .palette import Palette
from .problems import ProblemsPanel
from .recovery import RecoveryFile
from .window_files import FileHandling

EXAMPLES = resources.examples_folder()
AUTOSAVE_MS = 60_000


class MainWindow(FileHandling, QMainWindow):
    def __init__(self, interactive: bool = True) -> None:
        super().__init__()
        self.interactive = interactive   # False for screenshots and tests: no questions asked
        self.document = Document(parent=self)
        self.scene = GraphScene(self.document, self)
        self.view = GraphView(self.scene)
        self.breadcrumb = Breadcrumb(self.document, self.go_up)
        canvas = QWidget()
        column = QVBoxLayout(canvas)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.breadcrumb)
        column.addWidget(self.view, 1)
        self.setCentralWidget(canvas)
        self._level_views: dict = {}        # levels -> the view each was left at, to come back to
        self.palette = self.layer_palette = Palette()   # both names: mypy knows ``palette`` as QWidget's method
        self.inspector = Inspector(self.document)
        self.problems = ProblemsPanel(self.document)
        layers = self._dock("Layers", self.palette, Qt.LeftDockWidgetArea)
        inspector = self._dock("Inspector", self.inspector, Qt.RightDockWidgetArea)
        problems = self._dock("Problems", self.problems, Qt.BottomDockWidgetArea)
        self.resizeDocks([layers, inspector], [210, 300], Qt.Horizontal)
        self.resizeDocks([problems], [130], Qt.Vertical)
        self.settings = QSettings("NetLoom", "NetLoom")
        self._build_actions()
        self._build_status_bar()
        self.scene.selectionChanged.connect(self._selection_changed)
        self.scene.status.connect(self.say)
        self.scene.open_requested.connect(self.open_block)
        self.view.context_menu = lambda pos, item: canvas_menu(self, pos, item)
        self.document.subscribe(self._opened, kinds=(Opened,))
        self.document.message.connect(self.say)
        self.document.subscribe(lambda changes: self._show_totals(changes.of(Checked)[-1].report), kinds=(Checked,))
        self.document.undo_stack.cleanChanged.connect(self._update_title)
        self.document.subscribe(self._update_title, kinds=(PathChanged, MetadataChanged))
        self.problems.node_activated.connect(self.focus_node)
        self.palette.add_requested.connect(self.add_after_selection)
        self.view.layer_dropped.connect(self.add_at)
        self.recovery = RecoveryFile()
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        from .model_io import ModelIO
        from .training.window_training import TrainingUI
        self.training = TrainingUI(self)
        self.model_io = ModelIO(self)
        self._build_help_menu()               # last: it lists the shortcuts of every other menu
        self._decorate_toolbar()
        # torch, Qt and the window are a few million objects that live as long as the process:
        # frozen, the collector's full passes (0.4 s each once a large graph is open) skip them.
        gc.freeze()
        self.resize(1400, 860)
        self._update_title()
        self._show_totals(self.document.report)

    # ------------------------------------------------------------------ building
    def _dock(self, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def make_action(self, text: str, slot, shortcut=None, menu=None, toolbar=None) -> QAction:
        """An action of this window, added to a menu and the toolbar when they are given."""
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        if menu is not None:
            menu.addAction(action)
        if toolbar is not None:
            toolbar.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        tools = self.addToolBar("Main")
        tools.setObjectName("Main")
        file_menu = bar.addMenu("&File")
        self.make_action("&New", self.new_document, QKeySequence.New, file_menu, tools)
        examples = file_menu.addMenu("New from &Example")
        for path in sorted(EXAMPLES.glob("*.loom")):
            self.make_action(_example_title(path), lambda checked=False, p=path: self.open_example(p), menu=examples)
        examples.addSeparator()
        for path in experiment_files(EXAMPLES):
            self.make_action(f"Experiment: {_experiment_title(path)}",
                             lambda checked=False, p=path: self.training.open_experiment(p), menu=examples)
        self.make_action("&Open...", lambda: self.open_file(), QKeySequence.Open, file_menu, tools)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.make_action("&Save", self.save, QKeySequence.Save, file_menu, tools)
        self.make_action("Save &As...", self.save_as, QKeySequence.SaveAs, file_menu)
        self._file_menu_end = file_menu.addSeparator()     # other parts add their entries above this
        self.make_action("&Quit", self.close, QKeySequence.Quit, file_menu)
        self._update_recent_menu()

        edit = bar.addMenu("&Edit")
        undo = self.document.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.Undo)
        redo = self.document.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.Redo)
        edit.addActions([undo, redo])
        tools.addActions(self._fixed_undo_buttons())
        self.undo_action, self.redo_action = undo, redo
        edit.addSeparator()
        self.make_action("Cu&t", self.cut, QKeySequence.Cut, edit)
        self.make_action("&Copy", self.copy, QKeySequence.Copy, edit)
        self.make_action("&Paste", self.paste, QKeySequence.Paste, edit)
        self.make_action("&Duplicate", self.duplicate, "Ctrl+D", edit)
        self.make_action("De&lete", self.delete_selection, QKeySequence.Delete, edit)
        self.make_action("Select &All", self.select_all, QKeySequence.SelectAll, edit)
        edit.addSeparator()
        self.blocks = BlockActions(self, edit, self.layer_palette)
        self.make_action("&Open Block", self.open_selected_block, "Alt+Down", edit)
        self.make_action("&Close Block", lambda: self.go_up(len(self.document.levels) - 1), "Alt+Up", edit)
        self.make_action("Make Block &Unique", self.make_selected_unique, menu=edit)
        edit.addSeparator()
        self.make_action("Auto &Layout", self.auto_layout, "Ctrl+L", edit, tools)
        edit.addSeparator()
        self.find_bar = FindBar(self.view, lambda: [(n.id, n.type) for n in self.document.shown.nodes.values()],
                                self.focus_node)
        self.make_action("&Find...", self.find_bar.open, QKeySequence.StandardKey.Find, edit)
        self.make_action("Find &Next", self.find_bar.next, "F3", edit)
        self.make_action("Find Pre&vious", self.find_bar.previous, "Shift+F3", edit)

        view = bar.addMenu("&View")
        self.make_action("&Fit to Window", self.view.fit_all, "Ctrl+0", view, tools)
        self.make_action("Zoom &In", lambda: self.view.set_zoom(self.view.zoom * 1.25), QKeySequence.ZoomIn, view)
        self.make_action("Zoom &Out", lambda: self.view.set_zoom(self.view.zoom / 1.25), QKeySequence.ZoomOut, view)
        self.minimap = Minimap(self.view, self.scene)
        minimap = self.make_action("&Minimap", self.minimap.set_enabled, "Ctrl+Shift+M", view)
        minimap.setCheckable(True)
        minimap.setChecked(True)
        theme_menu = view.addMenu("&Theme")
        group = QActionGroup(self)
        saved = str(self.settings.value("theme", "system"))
        for choice in themes.CHOICES:
            action = self.make_action(choice.capitalize(), lambda checked=False, c=choice: self._choose_theme(c),
                                      menu=theme_menu)
            action.setCheckable(True)
            action.setChecked(choice == saved)
            group.addAction(action)
        view.addSeparator()
        for dock in self.findChildren(QDockWidget):
            view.addAction(dock.toggleViewAction())
        self.menus = {"file": file_menu, "edit": edit, "view": view}
        self.toolbar = tools

    def _fixed_undo_buttons(self) -> list[QAction]:
        """Undo and Redo for the toolbar with fixed names (the menu's say what they undo, which
        would make every button after them shift at each edit); what they undo is the tooltip."""
        stack = self.document.undo_stack
        buttons = []
        for name, go, can, changed, text in (
                ("Undo", stack.undo, stack.canUndo, stack.canUndoChanged, stack.undoTextChanged),
                ("Redo", stack.redo, stack.canRedo, stack.canRedoChanged, stack.redoTextChanged)):
            action = QAction(name, self)
            action.triggered.connect(go)
            changed.connect(action.setEnabled)
            action.setEnabled(can())
            text.connect(lambda what, a=action, n=name: a.setToolTip(f"{n} {what}" if what else n))
            buttons.append(action)
        self.tool_undo, self.tool_redo = buttons
        return buttons

    def _decorate_toolbar(self) -> None:
        """Icons from the platform's style beside the toolbar's words (no icon files to ship)."""
        pixmaps = QStyle.StandardPixmap
        icons = {"&New": pixmaps.SP_FileIcon, "&Open...": pixmaps.SP_DialogOpenButton,
                 "&Save": pixmaps.SP_DialogSaveButton, "Undo": pixmaps.SP_ArrowBack, "Redo": pixmaps.SP_ArrowForward,
                 "Auto &Layout": pixmaps.SP_FileDialogListView, "&Fit to Window": pixmaps.SP_TitleBarMaxButton,
                 "&Train": pixmaps.SP_MediaPlay, "&Pause": pixmaps.SP_MediaPause, "&Stop": pixmaps.SP_MediaStop,
                 "Training &Settings...": pixmaps.SP_FileDialogDetailedView}
        for action in self.toolbar.actions():
            if action.text() in icons:
                action.setIcon(themes.toolbar_icon(self.style().standardIcon(icons[action.text()])))
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)

    def _choose_theme(self, choice: str) -> None:
        """Kept for the next start: plots and canvas take their colours as they are made."""
        self.settings.setValue("theme", choice)
        now = themes.current().name
        wanted = "dark" if choice == "dark" or (choice == "system" and themes.system_is_dark()) else "light"
        self.say(f"The {wanted} theme applies when NetLoom next starts" if wanted != now else f"Theme: {choice}")

    def _build_help_menu(self) -> None:
        menu = self.menuBar().addMenu("&Help")
        self.make_action("&Keyboard Shortcuts", self.show_shortcuts, QKeySequence.StandardKey.HelpContents, menu)
        self.make_action("&About NetLoom", self.show_about, menu=menu)
        self.menus["help"] = menu

    def shortcuts(self) -> list[tuple[str, str]]:
        """(command, keys) of every menu command that has a shortcut, in menu order."""
        found: list[tuple[str, str]] = []

        def walk(menu) -> None:
            for action in menu.actions():
                if action.menu() is not None:
                    walk(action.menu())
                elif not action.shortcut().isEmpty():
                    name = action.text().replace("&", "").rstrip(".")
                    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                    if (name, keys) not in found:
                        found.append((name, keys))
        walk(self.menuBar())
        found += [("Cancel the wire being drawn", "Esc"), ("Pan the canvas", "Middle button drag"),
                  ("Zoom around the pointer", "Mouse wheel")]
        return found

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td>{name}</td><td style='padding-left:16px'><b>{keys}</b></td></tr>"
                       for name, keys in self.shortcuts())
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", f"<table>{rows}</table>", parent=self)
        if self.interactive:
            box.exec()

    def show_about(self) -> None:
        if self.interactive:
            QMessageBox.about(self, "About NetLoom", f"NetLoom {resources.version()}: design, train and inspect neural "
                                                     "networks visually.")

    def add_to_file_menu(self, *entries) -> None:
        """Add actions or submenus to the File menu, after the file commands and above Quit."""
        menu = self.menus["file"]
        for entry in entries:
            if isinstance(entry, QMenu):
                menu.insertMenu(self._file_menu_end, entry)
            else:
                menu.insertAction(self._file_menu_end, entry)

    def _build_status_bar(self) -> None:
        self.totals_label = QLabel()
        self.check_label = QLabel()
        self.device_label = QLabel(f"training device: {describe_device(resolve_device('auto'))}")
        for label in (self.check_label, self.totals_label, self.device_label):
            self.statusBar().addPermanentWidget(label)

    # ------------------------------------------------------------------ status
    def say(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _show_totals(self, report) -> None:
        self.totals_label.setText(f"{report.total_params:,} parameters, {report.total_macs:,} multiply-adds")
        theme = themes.current()
        if report.errors:
            self.check_label.setText(f"<span style='color:{theme.error}'>{len(report.errors)} error(s)</span>")
        elif report.warnings:
            self.check_label.setText(f"<span style='color:{theme.warning_text}'>{len(report.warnings)} warning(s)</span>")
        else:
            self.check_label.setText(f"<span style='color:{theme.ok}'>checks pass</span>")

    def _update_title(self, *_) -> None:
        path = self.document.path
        name = path.name if path else "untitled"
        self.setWindowTitle(f"{self.document.graph.name} - {name}[*] - NetLoom")
        self.setWindowModified(self.document.modified)

    # ------------------------------------------------------------------ selection
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_laid_out", False):
            # Dock sizes only hold once the window has its real size: keep the canvas large.
            self._laid_out = True
            problems = self.findChild(QDockWidget, "Problems")
            QTimer.singleShot(0, lambda: self.resizeDocks([problems], [160], Qt.Vertical))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if hasattr(self, "find_bar") and self.find_bar.isVisible():
            self.find_bar.place()
        if hasattr(self, "training"):
            self.training.legend.place()

    def _selection_changed(self) -> None:
        nodes = self.scene.selected_node_ids()
        self.inspector.show_node(nodes[0] if len(nodes) == 1 else None)
        if len(nodes) == 1:
            self.training.node_chosen(nodes[0])

    def focus_node(self, node_id: str) -> None:
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        self.scene.clearSelection()
        item.setSelected(True)
        self.view.centerOn(item)

    def select_node(self, node_id: str) -> None:
        """Select a node just added; the view scrolls only if it is out of sight (no re-centring,
        so that nodes dropped one after another stay where they were dropped)."""
        item = self.scene.nodes.get(node_id)
        if item is None:
            return
        self.scene.clearSelection()
        item.setSelected(True)
        self.view.ensureVisible(item, 40, 40)

    def select_all(self) -> None:
        for item in self.scene.nodes.values():
            item.setSelected(True)

    # ------------------------------------------------------------------ opening blocks
    def open_block(self, use: str) -> bool:
        """Show the body of the block node ``use`` uses (double-click, Alt+Down)."""
        node = self.document.shown.nodes.get(use)
        if node is None or node.type not in self.document.graph.blocks:
            return False
        self._level_views[self.document.levels] = self.view.view_state()
        return self.document.open_block(use)

    def open_selected_block(self) -> None:
        chosen = [n for n in self.scene.selected_node_ids() if self.document.shown.nodes[n].type in self.document.graph.blocks]
        if len(chosen) != 1:
            self.say("select one block to open")
            return
        self.open_block(chosen[0])

    def go_up(self, depth: int) -> None:
        """Back up to ``depth`` levels below the model (the breadcrumb, Alt+Up)."""
        if depth < 0 or depth >= len(self.document.levels):
            return
        below = self.document.levels[depth][1]
        self.document.close_to(depth)
        if below is not None and below in self.scene.nodes:      # the block just left stays selected
            self.scene.clearSelection()
            self.scene.nodes[below].setSelected(True)

    def _opened(self, changes) -> None:
        """A level is shown: as it was left, or fitted to the window the first time."""
        state = self._level_views.pop(self.document.levels, None)
        if state is None or not self.view.restore_view(state):
            self.view.fit_all()

    def make_selected_unique(self) -> None:
        chosen = [n for n in self.scene.selected_node_ids() if self.document.shown.nodes[n].type in self.document.graph.blocks]
        if not chosen:
            self.say("select a block to make unique")
            return
        for use in chosen:
            self.document.make_unique(use)

    # ------------------------------------------------------------------ editing
    def add_at(self, type_name: str, x: float, y: float) -> str | None:
        return self._add(type_name, lambda: add_at_edit(self.document.shown, type_name, x, y))

    def add_after_selection(self, type_name: str) -> str | None:
        """Add a layer after the selected node (into its chain), or at the centre of the view."""
        selected = self.scene.selected_node_ids()
        if len(selected) != 1:
            centre = self.view.mapToScene(self.view.viewport().rect().center())
            return self.add_at(type_name, centre.x(), centre.y())
        return self._add(type_name, lambda: add_after_edit(self.document.shown, selected[0], type_name))

    def _add(self, type_name: str, make_edit) -> str | None:
        try:
            edit = self.blocks.adding(type_name, make_edit)
        except GraphError as err:
            self.say(str(err))
            return None
        added = edit.node.id if isinstance(edit, AddNode) else next(_added_nodes(edit))
        if self.document.push(edit):
            self.select_node(added)
            return added
        return None

    def delete_selection(self) -> None:
        edit = delete_edit(self.document.shown, self.scene.selected_node_ids(), self.scene.selected_edges())
        if edit is not None:
            self.document.push(edit)

    def copy(self) -> bool:
        nodes = self.scene.selected_node_ids()
        if not nodes:
            return False
        # Plain text (JSON with a format name): it pastes into other NetLoom windows and can be
        # read in a text editor, and paste() refuses anything that is not a fragment.
        QApplication.clipboard().setText(json.dumps(extract(self.document.shown, nodes)))
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self) -> None:
        try:
            fragment = json.loads(QApplication.clipboard().text())
        except ValueError:
            self.say("the clipboard holds no NetLoom layers")
            return
        try:
            pasted = paste_edit(self.document.shown, fragment)
        except GraphError as err:
            self.say(str(err))
            return
        if self.document.push(pasted):
            self.scene.clearSelection()    # select what was pasted, ready to be moved
            for edit in pasted.edits:
                node = getattr(edit, "node", None)
                if node is not None and node.id in self.scene.nodes:
                    self.scene.nodes[node.id].setSelected(True)

    def duplicate(self) -> None:
        if self.copy():
            self.paste()

    def auto_layout(self) -> None:
        canvas = self.view.viewport().size()
        self.document.push(layout_edit(self.document.shown, (canvas.width(), canvas.height())), "Auto layout")
        self.view.fit_all()

    def show_error(self, title: str, text: str) -> None:
        self.say(text)
        if self.interactive:
            QMessageBox.warning(self, title, text)

    def closeEvent(self, event) -> None:
        if self.maybe_save() and self.training.shutdown():
            self.model_io.shutdown()
            self.recovery.close()
            self.autosave_timer.stop()
            event.accept()
        else:
            event.ignore()

    # ------------------------------------------------------------------ for scripts and tests
    def graph_text(self) -> str:
        return dumps_graph(self.document.graph)


def _experiment_title(path: Path) -> str:
    try:
        return load_experiment(path).title
    except GraphFileError:
        return path.name


def _example_title(path: Path) -> str:
    try:
        return loads_graph(path.read_text(encoding="utf-8"), path).name
    except (GraphFileError, OSError):
        return path.stem


def _added_nodes(edit):
    """The nodes an edit adds, looking into compound edits (a built-in block and its use)."""
    for inner in getattr(edit, "edits", ()):
        if isinstance(inner, AddNode):
            yield inner.node.id
        else:
            yield from _added_nodes(inner)

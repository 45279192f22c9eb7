"""The window's file commands: New, Open, Save, recent files, and crash recovery (autosave to this
window's own copy, restoring the copies that crashed windows left).

A part of ``MainWindow`` kept in its own module: it uses the window's document, view, settings
and status bar, and its question dialogs are methods so that tests can answer them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu, QMessageBox

from graphs import Graph, GraphFileError, load_graph, save_graph
from graphs.edits import SetView

from .recovery import Leftover, RecoveryFile, leftovers

if TYPE_CHECKING:
    from .canvas.view import GraphView
    from .document import Document
    _Window = QMainWindow
else:
    _Window = object

MAX_RECENT = 8
Button = QMessageBox.StandardButton

# Windows opened besides the first (restored work): kept alive here until they close.
_EXTRA_WINDOWS: list = []


class FileHandling(_Window):
    """File commands of the main window (a mixin: ``self`` is the ``MainWindow``)."""

    # What the window provides (declared for the type checker).
    document: Document
    view: GraphView
    settings: QSettings
    recent_menu: QMenu
    recovery: RecoveryFile
    interactive: bool
    say: Callable[[str], None]
    show_error: Callable[[str, str], None]
    make_action: Callable[..., Any]
    _update_title: Callable[..., None]

    def new_document(self) -> None:
        if self.maybe_save():
            self.document.replace(Graph(name="untitled"), None)

    def open_example(self, path: Path) -> bool:
        """An example opens as a new untitled document, so saving never overwrites it; False
        when the person kept the document they had, or the example cannot be read."""
        if not self.maybe_save():
            return False
        graph = self._load(path, "This example cannot be opened")
        if graph is None:
            return False
        self.document.replace(graph, None)
        self.view.fit_all()
        return True

    def open_file(self, path: str | Path | None = None) -> bool:
        if not self.maybe_save():
            return False
        if path is None:
            path = self.choose_open_path()
            if not path:
                return False
        graph = self._load(path, "The file cannot be opened")
        if graph is None:
            return False
        self.document.replace(graph, Path(path).resolve())
        if not (graph.view and self.view.restore_view(graph.view)):
            self.view.fit_all()
        self._remember(Path(path).resolve())
        return True

    def _load(self, path, title: str) -> Graph | None:
        """A graph file, or None after showing the loader's message (the document stays as it was)."""
        try:
            return load_graph(path)
        except GraphFileError as err:
            self.show_error(title, str(err))
            return None

    def save(self) -> bool:
        if self.document.path is None:
            return self.save_as()
        return self._save_to(self.document.path)

    def save_as(self) -> bool:
        path = self.choose_save_path()
        return bool(path) and self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        graph = self.document.graph
        if not self.document.levels:        # the view of an opened block is not the model's
            self.document.apply_quietly(SetView(self.view.view_state()))
        try:
            save_graph(graph, path)
        except GraphFileError as err:
            self.show_error("The file cannot be saved", str(err))
            return False
        self.document.set_path(path.resolve())
        self._remember(path.resolve())
        self.say(f"Saved {path}")
        self.recovery.discard()
        return True

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, or the person agreed)."""
        if not self.document.modified or not self.interactive:
            return True
        answer = self.ask_save_changes()
        if answer == Button.Save:
            return self.save()
        return answer == Button.Discard

    # Dialogs are methods so that tests can answer them.
    def ask_save_changes(self):
        return QMessageBox.question(self, "Unsaved changes",
                                    f"Save the changes to {self.document.graph.name}?",
                                    Button.Save | Button.Discard | Button.Cancel)

    def choose_open_path(self) -> str:
        return QFileDialog.getOpenFileName(self, "Open graph", "", "NetLoom graphs (*.loom)")[0]

    def choose_save_path(self) -> str:
        start = str(self.document.path or f"{self.document.graph.name}.loom")
        path = QFileDialog.getSaveFileName(self, "Save graph", start, "NetLoom graphs (*.loom)")[0]
        return path if not path or path.endswith(".loom") else path + ".loom"

    def _remember(self, path: Path) -> None:
        recent = [p for p in _recent(self.settings) if p != str(path)]
        self.settings.setValue("recent", [str(path)] + recent[: MAX_RECENT - 1])
        self._update_recent_menu()

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for p in _recent(self.settings):
            self.make_action(p, lambda checked=False, path=p: self.open_file(path), menu=self.recent_menu)
        self.recent_menu.setEnabled(bool(self.recent_menu.actions()))

    # ------------------------------------------------------------------ autosave and recovery
    def autosave(self, force: bool = False) -> None:
        """Copy unsaved work to this window's own recovery file."""
        if not (self.document.modified or force):
            return
        try:
            self.recovery.write(self.document.graph, self.document.path)
        except (GraphFileError, OSError) as err:
            self.say(f"Autosave failed: {err}")

    def offer_recovery(self) -> list:
        """Offer every copy that windows which did not close normally left; the windows that show
        restored work. The first restored copy opens in this window, the others in their own."""
        found, problems = leftovers()
        for problem in problems:
            self.say(f"A recovery copy cannot be read: {problem}")
        restored: list = []
        for leftover in found:
            answer = self.ask_restore(leftover) if self.interactive else Button.Yes
            if answer == Button.Yes:
                window = self if not restored else self.open_new_window()
                if window.restore(leftover):
                    restored.append(window)
            elif answer == Button.Discard:
                leftover.remove()
            else:
                leftover.release()            # asked again at the next start
        return restored

    def restore(self, leftover: Leftover) -> bool:
        try:
            graph = leftover.graph()
        except GraphFileError as err:
            self.show_error("The saved work cannot be restored", str(err))
            leftover.release()
            return False
        self.document.replace(graph, leftover.source)
        # Restored work is unsaved work: no state of the undo stack counts as saved.
        self.document.undo_stack.resetClean()
        self._update_title()
        self.view.fit_all()
        self.autosave(force=True)        # this window's own copy first, then the old one goes
        leftover.remove()
        return True

    def ask_restore(self, leftover: Leftover):
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(leftover.saved_at))
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"NetLoom did not close normally. Unsaved work on {leftover.name} was kept "
                          f"automatically at {when}. Restore it?", parent=self)
        box.setStandardButtons(Button.Yes | Button.Discard | Button.Ignore)
        box.button(Button.Yes).setText("Restore")
        box.button(Button.Ignore).setText("Ask Again Next Time")
        return box.exec()

    def open_new_window(self):
        """Another window of the same kind, kept alive until it closes."""
        window = type(self)(interactive=self.interactive)
        _EXTRA_WINDOWS.append(window)
        window.destroyed.connect(lambda *_: _EXTRA_WINDOWS.remove(window) if window in _EXTRA_WINDOWS else None)
        window.show()
        return window


def _recent(settings: QSettings) -> list[str]:
    value = settings.value("recent", [], list)
    return [str(p) for p in value] if isinstance(value, list) else []

"""The window's side of the commands (``commands.WindowPort``): the status bar, its dialogs, the
clipboard, the canvas's view and the settings. A window run without a person (``interactive``
False: a script, a screenshot, the tests) asks nothing and takes the answer given for that case."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QFileDialog, QInputDialog, QLineEdit, QMainWindow, QMessageBox

from .canvas.view import GraphView
from .inspector import Inspector
from .recovery import Leftover

Button = QMessageBox.StandardButton
_ANSWERS = {Button.Save: "save", Button.Discard: "discard", Button.Cancel: "cancel"}


class QtWindowPort:
    def __init__(self, window: QMainWindow, view: GraphView, inspector: Inspector, interactive: bool) -> None:
        self.window, self.view, self.inspector = window, view, inspector
        self.interactive = interactive
        self.settings = QSettings("NetLoom", "NetLoom")

    # ------------------------------------------------------------------ telling and asking
    def say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def show_error(self, title: str, text: str) -> None:
        self.say(text)
        if self.interactive:
            QMessageBox.warning(self.window, title, text)

    def ask_save_changes(self, name: str) -> str:
        if not self.interactive:
            return "discard"
        answer = QMessageBox.question(self.window, "Unsaved changes", f"Save the changes to {name}?",
                                      Button.Save | Button.Discard | Button.Cancel)
        return _ANSWERS.get(answer, "cancel")

    def confirm(self, title: str, text: str, unattended: bool) -> bool:
        if not self.interactive:
            return unattended
        return QMessageBox.question(self.window, title, text, Button.Yes | Button.No) == Button.Yes

    def ask_text(self, title: str, label: str, suggestion: str) -> str | None:
        if not self.interactive:
            return suggestion
        text, ok = QInputDialog.getText(self.window, title, label, QLineEdit.EchoMode.Normal, suggestion)
        return text.strip() if ok and text.strip() else None

    def ask_restore(self, leftover: Leftover) -> str:
        """Restore, discard, or ask again later ("restore", "discard", "later"): work a window that did
        not close normally left."""
        if not self.interactive:
            return "restore"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(leftover.saved_at))
        box = QMessageBox(QMessageBox.Icon.Question, "Restore unsaved work?",
                          f"NetLoom did not close normally. Unsaved work on {leftover.name} was kept "
                          f"automatically at {when}. Restore it?", parent=self.window)
        box.setStandardButtons(Button.Yes | Button.Discard | Button.Ignore)
        box.button(Button.Yes).setText("Restore")
        box.button(Button.Ignore).setText("Ask Again Next Time")
        answer = box.exec()
        return "restore" if answer == Button.Yes else "discard" if answer == Button.Discard else "later"

    def choose_open_path(self, title: str, pattern: str) -> str:
        return QFileDialog.getOpenFileName(self.window, title, "", pattern)[0]

    def choose_save_path(self, title: str, start: str, pattern: str) -> str:
        return QFileDialog.getSaveFileName(self.window, title, start, pattern)[0]

    def choose_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self.window, title)

    # ------------------------------------------------------------------ the clipboard
    def clipboard_text(self) -> str:
        return QApplication.clipboard().text()

    def set_clipboard_text(self, text: str) -> None:
        QApplication.clipboard().setText(text)

    # ------------------------------------------------------------------ the canvas
    def canvas_centre(self) -> tuple[float, float]:
        centre = self.view.mapToScene(self.view.viewport().rect().center())
        return centre.x(), centre.y()

    def canvas_size(self) -> tuple[int, int]:
        size = self.view.viewport().size()
        return size.width(), size.height()

    def view_state(self) -> dict:
        return self.view.view_state()

    def restore_view(self, state: dict) -> bool:
        return self.view.restore_view(state)

    def fit_view(self) -> None:
        self.view.fit_all()

    def keep_view(self) -> None:
        self.view.keep_view()

    def show_node(self, node_id: str, centre: bool) -> None:
        item = self.view.graph_scene.nodes.get(node_id)
        if item is None:
            return
        if centre:
            self.view.centerOn(item)
        else:
            self.view.ensureVisible(item, 40, 40)

    def focus_rename(self) -> None:
        self.inspector.focus_name()

    def show_panel(self, name: str, height_share: float | None = None) -> None:
        dock = self.window.findChild(QDockWidget, name)
        if dock is None:
            return
        dock.show()
        dock.raise_()
        if height_share is not None:
            self.window.resizeDocks([dock], [int(self.window.height() * height_share)], Qt.Orientation.Vertical)

    # ------------------------------------------------------------------ settings
    def setting(self, key: str, default: Any) -> Any:
        value = self.settings.value(key, default)
        if isinstance(default, list) and not isinstance(value, list):     # QSettings gives one entry as a str
            value = [value] if isinstance(value, str) else default
        return value

    def keep_setting(self, key: str, value: Any) -> None:
        self.settings.setValue(key, value)

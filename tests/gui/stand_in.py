"""A stand-in for the window's port (``gui.commands.WindowPort``), so that commands run on a
document without a window: it records what it was told and answers as a test sets it up."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from graphs import Graph
from gui.commands import Context
from gui.document import Document


class StandInWindow:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.errors: list[tuple[str, str]] = []
        self.clipboard = ""
        self.save_answer = "discard"            # to "Save the changes?"
        self.text_answer: str | None = None     # to a question asking for text; None: take the suggestion
        self.confirm_answer = True
        self.open_path = ""
        self.save_path = ""
        self.folder = ""
        self.centre = (100.0, 80.0)
        self.size = (860, 600)
        self.view = {"zoom": 1.0, "center": [0.0, 0.0]}
        self.fitted = 0
        self.kept_views = 0
        self.shown_nodes: list[tuple[str, bool]] = []
        self.renaming = 0
        self.panels: list[str] = []
        self.settings: dict[str, Any] = {}

    def say(self, text: str) -> None:
        self.said.append(text)

    def show_error(self, title: str, text: str) -> None:
        self.errors.append((title, text))
        self.say(text)

    def ask_save_changes(self, name: str) -> str:
        return self.save_answer

    def confirm(self, title: str, text: str, unattended: bool) -> bool:
        return self.confirm_answer

    def ask_text(self, title: str, label: str, suggestion: str) -> str | None:
        return suggestion if self.text_answer is None else self.text_answer or None

    def choose_open_path(self, title: str, pattern: str) -> str:
        return self.open_path

    def choose_save_path(self, title: str, start: str, pattern: str) -> str:
        return self.save_path

    def choose_folder(self, title: str) -> str:
        return self.folder

    def clipboard_text(self) -> str:
        return self.clipboard

    def set_clipboard_text(self, text: str) -> None:
        self.clipboard = text

    def canvas_centre(self) -> tuple[float, float]:
        return self.centre

    def canvas_size(self) -> tuple[int, int]:
        return self.size

    def view_state(self) -> dict:
        return dict(self.view)

    def restore_view(self, state: dict) -> bool:
        self.view = dict(state)
        return True

    def fit_view(self) -> None:
        self.fitted += 1

    def keep_view(self) -> None:
        self.kept_views += 1

    def show_node(self, node_id: str, centre: bool) -> None:
        self.shown_nodes.append((node_id, centre))

    def focus_rename(self) -> None:
        self.renaming += 1

    def show_panel(self, name: str, height_share: float | None = None) -> None:
        self.panels.append(name)

    def setting(self, key: str, default: Any) -> Any:
        return self.settings.get(key, default)

    def keep_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value


def context(graph: Graph, owner: QObject) -> Context:
    """A document showing ``graph`` (a child of ``owner``, which a test keeps), and a stand-in
    window, as commands get them."""
    document = Document(parent=owner)
    document.replace(graph, None)
    window = StandInWindow()
    document.message.connect(window.say)         # as the window's status bar hears the document
    return Context(document, window)

"""Find (Ctrl+F): a bar over the canvas that finds layers by id or type, with next and previous.

Typing jumps to the first match and says how many there are; Enter or F3 goes to the next,
Shift+Enter or Shift+F3 to the previous, wrapping around; Esc closes the bar. The layer found
is selected and centred, so the inspector shows it at once.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget


class FindBar(QFrame):
    def __init__(self, parent: QWidget, nodes: Callable[[], list[tuple[str, str]]],
                 focus: Callable[[str], None]) -> None:
        super().__init__(parent)
        self.canvas = parent
        self._nodes, self._focus = nodes, focus    # (id, type) in document order; show one node
        self._found: list[str] = []
        self._at = -1
        self.setObjectName("FindBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit(placeholderText="Find a layer by id or type")
        self.edit.setClearButtonEnabled(True)
        self.edit.setMinimumWidth(220)
        self.count = QLabel("")
        self.count.setMinimumWidth(70)
        previous, following, close = QToolButton(), QToolButton(), QToolButton()
        for button, text in ((previous, "▲"), (following, "▼"), (close, "✕")):
            button.setText(text)
        previous.setToolTip("Previous match (Shift+Enter, Shift+F3)")
        following.setToolTip("Next match (Enter, F3)")
        close.setToolTip("Close (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        for widget in (self.edit, self.count, previous, following, close):
            layout.addWidget(widget)
        self.edit.textChanged.connect(self._search)
        self.edit.returnPressed.connect(self.next)
        previous.clicked.connect(self.previous)
        following.clicked.connect(self.next)
        close.clicked.connect(self.close_bar)
        QShortcut(QKeySequence("Shift+Return"), self.edit, self.previous)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close_bar)
        self.hide()

    def open(self) -> None:
        self.show()
        self.place()
        self.raise_()
        self.edit.setFocus()
        self.edit.selectAll()
        self._search(self.edit.text())

    def close_bar(self) -> None:
        self.hide()
        self.canvas.setFocus()

    def place(self) -> None:
        """Top right of the canvas, clear of its scroll bar."""
        self.adjustSize()
        self.move(max(0, self.canvas.width() - self.width() - 24), 8)

    def matches(self, text: str) -> list[str]:
        needle = text.strip().lower()
        if not needle:
            return []
        return [node_id for node_id, type_name in self._nodes()
                if needle in node_id.lower() or needle in type_name.lower()]

    def _search(self, text: str) -> None:
        self._found = self.matches(text)
        self._at = -1
        self.next() if self._found else self._say()

    def next(self) -> None:
        self._step(+1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, step: int) -> None:
        if not self.isVisible():
            self.open()
            return
        if not self._found:
            self._say()
            return
        self._at = (self._at + step) % len(self._found)
        self._focus(self._found[self._at])
        self._say()

    def _say(self) -> None:
        if not self.edit.text().strip():
            self.count.setText("")
        elif not self._found:
            self.count.setText("no match")
        else:
            self.count.setText(f"{self._at + 1} of {len(self._found)}")

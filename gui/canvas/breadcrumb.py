"""The bar over the canvas while a block is open: where the canvas is (the model, then each use
opened on the way down), a click on any part to go back up, and what editing here means: a
block used several times changes everywhere, unless the opened use is made unique first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QToolButton, QWidget

from graphs.events import BlockChanged, NodeRenamed

from ..document import Checked, Document, Opened, Replaced
from ..theme import current as current_theme


class ElidedLabel(QLabel):
    """A line of plain text that is cut short with "…" where the bar is too narrow, never in the
    middle of a word without a sign; the whole text is its tooltip (``full_text``)."""

    def __init__(self) -> None:
        super().__init__()
        self.full_text = ""
        # it may be cut short, never widen the window
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, max(0, self.width())))


class Breadcrumb(QFrame):
    def __init__(self, document: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setObjectName("Breadcrumb")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        theme = current_theme()
        self.setStyleSheet(f"#Breadcrumb {{ background: {theme.bar}; border: 0; border-bottom: 1px solid {theme.bar_line}; }}"
                           f"#Breadcrumb QLabel, #Breadcrumb QToolButton {{ color: {theme.node_text}; }}")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 3, 8, 3)
        self.row.setSpacing(2)
        self.crumbs: list[QToolButton] = []        # one per level above the shown one
        self.here = QLabel()
        self.uses = ElidedLabel()
        self.uses.setStyleSheet(f"color: {theme.node_muted};")
        self.unique = QPushButton("Make Unique")
        self.unique.setToolTip("Give this use a copy of the block of its own, so that editing it changes this use alone")
        self.unique.clicked.connect(self._make_unique)
        self.close_button = QPushButton("Close Block")
        self.close_button.setToolTip("Back up one level (Alt+Up)")
        self.close_button.clicked.connect(lambda: self.document.close_to(len(self.document.levels) - 1))
        document.subscribe(lambda changes: self.refresh(), kinds=(Opened, Replaced, BlockChanged, NodeRenamed, Checked))
        self.refresh()

    def refresh(self) -> None:
        levels = self.document.levels
        self.setVisible(bool(levels))
        if not levels:
            return
        while self.row.count():
            item = self.row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget not in (self.here, self.uses, self.unique, self.close_button):
                widget.deleteLater()
        self.crumbs = []
        names = [self.document.graph.name or "model"] + [_level_text(block, use) for block, use in levels]
        for depth, name in enumerate(names[:-1]):
            crumb = QToolButton()
            crumb.setText(name)
            crumb.setAutoRaise(True)
            crumb.setToolTip("Show this level")
            crumb.clicked.connect(lambda checked=False, d=depth: self.document.close_to(d))
            self.crumbs.append(crumb)
            self.row.addWidget(crumb)
            self.row.addWidget(QLabel("›"))
        self.here.setText(f"<b>{names[-1]}</b>")
        self.row.addWidget(self.here)
        self.row.addSpacing(16)
        block, use = levels[-1]
        count = self.document.uses_of(block)
        shapes = "shapes as in this use" if use is not None else "shapes from its example inputs"
        # what editing here does first: a narrow bar cuts the end of the line
        said = f"Edits change all {count} uses of {block}" if count > 1 else f"Edits change {block}, used only here"
        self.uses.set_full_text(f"{said}; {shapes}")
        self.row.addWidget(self.uses, 1)
        self.row.addWidget(self.unique)
        self.row.addWidget(self.close_button)
        self.unique.setVisible(use is not None and count > 1)      # after adding: a new parent hides

    def _make_unique(self) -> None:
        levels = self.document.levels
        block, use = levels[-1]
        if use is not None:
            self.document.make_unique(use, at=levels[:-1])


def _level_text(block: str, use: str | None) -> str:
    return block if use is None else f"{use}: {block}"

"""The problems list: the diagnostics of the last check. Clicking one selects and centres its
node; a diagnostic that carries a fix has a button that applies it as one undoable edit (for
training data that cannot be found, after the person picks its folder or file)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QWidget

from graphs import Diagnostic

from .commands import WindowPort, fixes
from .document import Checked, Document, Opened
from .theme import current as current_theme


class ProblemRow(QWidget):
    def __init__(self, diagnostic, apply_fix) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        mark = QLabel("●")
        mark.setStyleSheet(f"color: {current_theme().severity(diagnostic.severity)}")
        text = QLabel(diagnostic.message)
        text.setWordWrap(True)
        layout.addWidget(mark)
        layout.addWidget(text, 1)
        self.fix_button = None
        if diagnostic.fix is not None:
            self.fix_button = QPushButton(diagnostic.fix.label)
            self.fix_button.clicked.connect(lambda: apply_fix(diagnostic))
            layout.addWidget(self.fix_button)


class ProblemsPanel(QListWidget):
    node_activated = Signal(str)

    def __init__(self, document: Document, window: WindowPort, parent=None) -> None:
        super().__init__(parent)
        self.document, self.port = document, window
        self.diagnostics: list[Diagnostic] = []
        # The problems of what the canvas shows: the model's, or an opened block's, bound to the use
        # it was opened through, so that each one names a node that can be clicked.
        document.subscribe(lambda changes: self.show_report(document.shown_report), kinds=(Checked, Opened))
        self.itemClicked.connect(self._clicked)
        self.show_report(document.shown_report)

    def show_report(self, report) -> None:
        if report.diagnostics == self.diagnostics:
            return
        self.diagnostics = list(report.diagnostics)
        self.clear()
        ordered = report.errors + report.warnings
        if not ordered:
            item = QListWidgetItem("No problems.")
            item.setForeground(QColor(current_theme().ok))
            self.addItem(item)
            return
        for d in ordered:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, d.node)
            row = ProblemRow(d, self.apply_fix)
            item.setSizeHint(row.sizeHint())
            self.addItem(item)
            self.setItemWidget(item, row)

    def apply_fix(self, diagnostic) -> None:
        fixes.apply_fix(self.document, diagnostic, self.port)

    def _clicked(self, item) -> None:
        node = item.data(Qt.ItemDataRole.UserRole)
        if node:
            self.node_activated.emit(node)

    def fix_buttons(self) -> list[QPushButton]:
        buttons = []
        for i in range(self.count()):
            row = self.itemWidget(self.item(i))
            if isinstance(row, ProblemRow) and row.fix_button is not None:
                buttons.append(row.fix_button)
        return buttons

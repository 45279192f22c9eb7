"""What a view is working on while it works: a line of text, a moving bar and the seconds so far.
Views whose work can take over a second (channel images, t-SNE, a projection, Grad-CAM, the run's
model being built) show one, so that a person never wonders whether anything is happening."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

TICK_MS = 250


class Busy(QWidget):
    """Hidden until ``start(text)``; ``stop()`` hides it again. ``text()`` is what it says."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)              # no known end: the bar moves to say work goes on
        self.bar.setTextVisible(False)
        self.bar.setFixedWidth(120)
        self.bar.setMaximumHeight(12)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        self._what = ""
        self._since = 0.0
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.hide()

    @property
    def working(self) -> bool:
        return self._timer.isActive()

    def start(self, what: str) -> None:
        self._what, self._since = what, time.monotonic()
        self._tick()
        self._timer.start()
        self.show()

    def stop(self) -> None:
        self._timer.stop()
        self.hide()

    def text(self) -> str:
        return self.label.text()

    def _tick(self) -> None:
        spent = time.monotonic() - self._since
        self.label.setText(f"{self._what} ({spent:.0f} s)" if spent >= 1 else self._what)

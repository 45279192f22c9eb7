"""The Qt binding keeps Python's reference counts straight while painting: a binding that
drops a reference to None per call crashes the app after a few thousand repaints."""

import sys

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage, QPainter, QPen


def test_painting_does_not_leak_or_drop_references_to_none(qapp):
    image = QImage(64, 64, QImage.Format_ARGB32)
    painter = QPainter(image)
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.setPen(QPen(QColor("red")))
        painter.drawLine(QPointF(0, 0), QPointF(10, 10))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    drift = sys.getrefcount(None) - before
    painter.end()
    assert abs(drift) < 200, f"None's reference count moved by {drift} over 6,000 painter calls"

"""How a node learns, drawn on it: a frozen node is hatched and carries a lock on its header; a
learning-rate factor other than 1 ("×0.1") and a fresh start ("fresh") are small badges there.

The hatch is a pattern brush, which Qt draws in screen pixels at any zoom, so a frozen part of
the graph reads as hatched from close up and from far out alike; the badges are white plates
with dark text on the header, which has its category's colour in both themes."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen

from ..theme import current as current_theme

BADGE_PT = 7
LOCK_WIDTH = 10.0


def badges(factor: float, fresh: bool) -> list[str]:
    """The badges of a node that learns at ``factor`` times the run's rate (0: frozen, shown by
    its lock instead) and starts ``fresh`` or from the start weights."""
    words = [f"\u00d7{factor:g}"] if factor not in (0, 1) else []
    return words + (["fresh"] if fresh else [])


def describe(factor: float, fresh: bool) -> str:
    """How a node learns, in words (its tooltip)."""
    parts = []
    if factor == 0:
        parts.append("frozen: its weights stay as they start (learning-rate factor 0)")
    elif factor != 1:
        parts.append(f"learns at {factor:g} times the run's learning rate")
    if fresh:
        parts.append("starts from fresh weights, not from the start weights")
    return "; ".join(parts)


def hatch(painter: QPainter, rect: QRectF, colour: str, radius: float = 0.0) -> None:
    """Diagonal lines over ``rect``, a few screen pixels apart at any zoom."""
    painter.save()
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(QColor(colour), Qt.BrushStyle.BDiagPattern))
    if radius:
        painter.drawRoundedRect(rect, radius, radius)
    else:
        painter.drawRect(rect)
    painter.restore()


def header_marks(painter: QPainter, header: QRectF, right: float, factor: float, fresh: bool) -> float:
    """The lock and badges on a node's header, right-aligned at ``right``; where they begin."""
    theme = current_theme()
    x = right
    painter.save()
    if factor == 0:
        x -= LOCK_WIDTH
        lock(painter, QRectF(x, header.top() + 4, LOCK_WIDTH, header.height() - 8), QColor(theme.header_text))
        x -= 4
    font = QFont(painter.font())
    font.setPointSizeF(BADGE_PT)
    font.setBold(True)
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    for word in reversed(badges(factor, fresh)):
        width = metrics.horizontalAdvance(word) + 8
        x -= width
        plate = QRectF(x, header.top() + 4, width, header.height() - 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(QColor(theme.badge_fill)))
        painter.drawRoundedRect(plate, 3, 3)
        painter.setPen(QColor(theme.badge_text))
        painter.drawText(plate, Qt.AlignmentFlag.AlignCenter, word)
        x -= 4
    painter.restore()
    return x


def lock(painter: QPainter, box: QRectF, colour: QColor) -> None:
    """A padlock filling ``box``: a shackle over a solid body."""
    body = QRectF(box.left(), box.top() + box.height() * 0.45, box.width(), box.height() * 0.55)
    shackle = QRectF(box.left() + box.width() * 0.2, box.top(), box.width() * 0.6, box.height() * 0.8)
    painter.setPen(QPen(colour, 1.6))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawArc(shackle, 0, 180 * 16)
    for x in (shackle.left(), shackle.right()):
        painter.drawLine(QPointF(x, shackle.center().y()), QPointF(x, body.top()))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(colour))
    painter.drawRoundedRect(body, 1.5, 1.5)

"""While training, the gradient numbers colour the canvas: layers and the wires into them show
how much gradient reaches them, and ReLU-family nodes with many dead units get a badge."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from ..theme import current as current_theme
from .view import GraphView

VANISHING, EXPLODING = 1e-6, 1e2
DEAD_BADGE_SHARE = 0.5

# (upper bound of mean |gradient|, words) from vanishing to exploding; their colours are the theme's
BANDS = [(VANISHING, "vanishing &lt;1e-6"), (1e-4, "weak"), (1.0, "healthy"), (EXPLODING, "large"),
         (math.inf, "exploding &gt;1e2")]


BAND_NAMES = ("vanishing", "weak", "healthy", "large", "exploding")
BAND_RANGES = ("below 1e-6", "1e-6 to 1e-4", "1e-4 to 1", "1 to 1e2", "above 1e2")


def gradient_band(mean_abs_grad: float) -> int:
    """Which band of BANDS a mean |gradient| falls in (0: vanishing ... 4: exploding)."""
    return next((i for i, (bound, _) in enumerate(BANDS) if mean_abs_grad < bound), len(BANDS) - 1)


def gradient_colour(mean_abs_grad: float) -> QColor:
    return QColor(current_theme().gradient_bands[gradient_band(mean_abs_grad)])


def apply_overlay(scene, gradients: dict[str, float], dead: dict[str, float]) -> None:
    """Colour nodes with weights (a light tint) and the wires into them; badge dead ReLUs."""
    for node_id, item in scene.nodes.items():
        value = gradients.get(node_id)
        tint = None
        if value is not None:
            tint = gradient_colour(value)
            tint.setAlpha(70)
        share = dead.get(node_id)
        badge = f"{share:.0%} dead" if share is not None and share >= DEAD_BADGE_SHARE else ""
        if tint != item.overlay or badge != item.badge:
            item.overlay, item.badge = tint, badge
            item.update()
    for edge, item in scene.edges.items():
        value = gradients.get(edge.dst)
        colour = gradient_colour(value) if value is not None else None
        if colour != item.overlay:
            item.overlay = colour
            item.update()


def clear_overlay(scene) -> None:
    apply_overlay(scene, {}, {})


class GradientLegend(QFrame):
    """A key to the colours: one compact row in the canvas's lower right corner while they are
    shown, with a button to close it (it comes back with the next run)."""

    def __init__(self, view: GraphView) -> None:
        super().__init__(view)
        self.view = view                    # the canvas, told how much of its bottom the key takes
        self.setObjectName("GradientLegend")
        theme = current_theme()
        self.setStyleSheet(f"#GradientLegend {{ background: {theme.plot_background}; border: 1px solid {theme.grid}; }}"
                           f"#GradientLegend QLabel, #GradientLegend QToolButton {{ color: {theme.node_text}; }}")
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 2, 2)
        row.setSpacing(4)
        chips = " ".join(f"<span style='color:{colour}'>&#9632;</span>&nbsp;{words}"
                         for (_, words), colour in zip(BANDS, theme.gradient_bands))
        self.text = QLabel(f"<b>gradient</b>&nbsp; {chips}")
        self.text.setToolTip("Colour of a layer: the mean |gradient| that reaches it in the last step.\n"
                             "Badge on a ReLU: the share of its units that were never active.")
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Hide the key (it comes back with the next run)")
        close.clicked.connect(self.hide)
        view.viewport().installEventFilter(self)   # stay in the corner as the canvas is resized (a dock opens)
        row.addWidget(self.text)
        row.addWidget(close)
        self.adjustSize()
        self.hide()

    def place(self) -> None:
        """Lower right corner of the canvas. The key is a child of the view, not of its viewport:
        the view scrolls its viewport's children along with the drawing."""
        area = self.view.viewport().geometry()
        self.adjustSize()
        self.move(area.right() - self.width() - 12, area.bottom() - self.height() - 12)

    def eventFilter(self, watched, event) -> bool:     # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self.place()
        return False

    def setVisible(self, visible: bool) -> None:     # noqa: N802 - Qt's name; show() and hide() come here
        super().setVisible(visible)
        self.view.bottom_reserve = self.height() + 16 if visible else 0

"""The start page: over a canvas that holds no layer yet (File > New, or everything deleted), what
to do first, and the examples to start from instead, each as a picture drawn from its own graph
and one line saying what it shows. It goes as soon as the graph has a layer, and never covers a
block that is open."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QToolButton, QVBoxLayout

from graphs import Graph, GraphFileError, load_graph
from graphs.events import NodeAdded, NodeRemoved

from ..document import Document, Opened, Replaced
from ..theme import current as current_theme
from .items import BASE_HEIGHT, NODE_WIDTH
from .view import GraphView

# The examples offered, with what each teaches, in the order a newcomer would take them.
STARTERS = (
    ("lenet5.loom", "Classify digits with two convolutions"),
    ("mlp_spiral.loom", "Dense layers learn a curved boundary"),
    ("conv_autoencoder.loom", "Squeeze images to a code and back"),
    ("unet.loom", "Skip connections across an encoder and decoder"),
    ("resnet18.loom", "Residual blocks, stage by stage"),
    ("vgg16.loom", "A deep stack of 3x3 convolutions"),
    ("char_lstm.loom", "Predict text one character at a time"),
    ("transformer_classifier.loom", "Attention over the rows of an image"),
)
THUMBNAIL = QSize(136, 64)
ENDS = ("Input", "Output")

FIRST_STEPS = (
    "<b>Build a model</b><ol style='margin-top:2px'>"
    "<li><b>Double-click a layer</b> in the Layers palette: it is added after the selected node and wired in "
    "(drag it instead to place it anywhere).</li>"
    "<li><b>Set its numbers</b> in the Inspector on the right: channels, kernel size ...</li>"
    "<li><b>Problems</b> below lists what does not fit yet; a <b>Fix</b> button mends it in one click.</li>"
    "<li><b>Train</b> (F5) once it checks clean. Help &gt; Getting Started says more.</li></ol>"
    "<b>Or start from an example:</b>")


def is_blank(graph: Graph) -> bool:
    """No layer yet: nothing, or only Inputs and Outputs."""
    return all(node.type in ENDS for node in graph.nodes.values())


def thumbnail(graph: Graph, size: QSize = THUMBNAIL) -> QPixmap:
    """The graph as the canvas lays it out, drawn small: each node a box in its category's
    colour, each wire a line from output to input."""
    theme = current_theme()
    picture = QPixmap(size)
    picture.fill(QColor(theme.canvas))
    placed = {n: graph.positions[n] for n in graph.nodes if n in graph.positions}
    if not placed:
        return picture
    xs, ys = [x for x, _ in placed.values()], [y for _, y in placed.values()]
    bounds = QRectF(min(xs), min(ys), max(xs) - min(xs) + NODE_WIDTH, max(ys) - min(ys) + BASE_HEIGHT)
    margin = 6
    scale = min((size.width() - 2 * margin) / bounds.width(), (size.height() - 2 * margin) / bounds.height())
    offset = QPointF((size.width() - bounds.width() * scale) / 2, (size.height() - bounds.height() * scale) / 2)

    def at(x: float, y: float) -> QPointF:
        return QPointF((x - bounds.left()) * scale, (y - bounds.top()) * scale) + offset

    painter = QPainter(picture)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(theme.wire), 1.0))
    for edge in graph.edges:
        if edge.src in placed and edge.dst in placed:
            (sx, sy), (dx, dy) = placed[edge.src], placed[edge.dst]
            painter.drawLine(at(sx + NODE_WIDTH, sy + BASE_HEIGHT / 2), at(dx, dy + BASE_HEIGHT / 2))
    painter.setPen(Qt.PenStyle.NoPen)
    for node_id, (x, y) in placed.items():
        node = graph.nodes[node_id]
        painter.setBrush(QBrush(QColor(theme.category(node.spec.category))))
        painter.drawRoundedRect(QRectF(at(x, y), at(x + NODE_WIDTH, y + BASE_HEIGHT)), 2, 2)
    painter.end()
    return picture


class StartPage(QFrame):
    """Over the lower part of the canvas while the shown graph is blank; ``open_example(path)``
    opens the example clicked."""

    def __init__(self, view: GraphView, document: Document, examples: Path,
                 open_example: Callable[[Path], object]) -> None:
        super().__init__(view)
        self.view, self.document, self.examples, self.open_example = view, document, examples, open_example
        self.setObjectName("start_page")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.steps = QLabel(FIRST_STEPS)
        self.steps.setWordWrap(True)
        self.cards: dict[str, QToolButton] = {}
        self._grid = QGridLayout()
        self._grid.setSpacing(2)
        layout = self._column = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.steps)
        layout.addLayout(self._grid)
        layout.addStretch(1)
        self.hide()
        document.subscribe(lambda changes: self.follow(), kinds=(Replaced, Opened, NodeAdded, NodeRemoved))
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)     # its size, not the view's: scroll bars come and go
        self.follow()

    def follow(self) -> None:
        """Shown while the canvas shows a blank graph at the top level."""
        blank = not self.document.levels and is_blank(self.document.shown)
        if blank and not self.cards:
            self._make_cards()
        self.setVisible(blank)
        if blank:
            self._place()
            self.raise_()
        self.view.bottom_reserves["start page"] = self.reserved_height()

    def _make_cards(self) -> None:
        """The example cards, made the first time the page shows (opening eight graphs)."""
        for i, (file, line) in enumerate(STARTERS):
            path = self.examples / file
            try:
                graph = load_graph(path)
            except (GraphFileError, OSError):
                continue            # an example missing from this installation is not offered
            card = QToolButton()
            card.setObjectName(f"example_{path.stem}")
            card.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            card.setIcon(QIcon(thumbnail(graph)))
            card.setIconSize(THUMBNAIL)
            card.setText("\n".join([graph.name, *textwrap.wrap(line, 28)]))
            card.setToolTip(graph.metadata.get("description", ""))
            card.setAutoRaise(True)
            card.setMinimumWidth(THUMBNAIL.width() + 60)
            card.clicked.connect(lambda _checked=False, p=path: self.open_example(p))
            self._grid.addWidget(card, i // 4, i % 4)
            self.cards[path.stem] = card

    def _place(self) -> None:
        """Along the bottom of the canvas, centred: the graph's first nodes stay above it."""
        viewport = self.view.viewport().geometry()
        width = min(self.sizeHint().width(), viewport.width() - 16)
        needed = self._column.totalHeightForWidth(width)      # the wrapped steps' lines included
        height = min(max(needed, self.sizeHint().height()), int(viewport.height() * 0.8))
        self.setGeometry(viewport.left() + (viewport.width() - width) // 2, viewport.bottom() - height - 8, width, height)

    def reserved_height(self) -> int:
        """Pixels along the bottom of the canvas the page covers (0 while hidden)."""
        return self.height() + 16 if self.isVisible() else 0

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self._viewport and self.isVisible():
            self._place()
            self.view.bottom_reserves["start page"] = self.reserved_height()
        return False

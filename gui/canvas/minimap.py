"""The minimap: the whole graph in a small corner of the canvas, with the part the canvas shows
outlined. Clicking or dragging on it moves the canvas there.

The graph is drawn once into a pixmap (each node a box in its category's colour, problems in
red, the wires as thin lines) and drawn again only after the document changed, debounced, so
a burst of edits or checks of ten thousand nodes costs the minimap one redraw, not one each. Moving
the canvas only repaints the outline. It hides itself while the whole graph is in view: there
is nowhere to go.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from graphs.events import STRUCTURE_EVENTS, NodeMoved, WireRouted

from ..document import Checked, Opened, Replaced
from ..theme import current as current_theme
from .items import NODE_WIDTH
from .scene import GraphScene
from .view import GraphView

WIDTH, HEIGHT = 220, 150      # at most; a wide graph gets a flatter map, a tall one a narrower
MARGIN = 12
REDRAW_MS = 150


class Minimap(QWidget):
    def __init__(self, view: GraphView, scene: GraphScene) -> None:
        super().__init__(view)
        self.view, self.graph_scene = view, scene
        self.setObjectName("Minimap")
        self.setFixedSize(WIDTH, HEIGHT)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("The whole graph: click or drag to move the canvas there")
        self.enabled = True                 # the View menu's choice; shown only when it helps
        self._pixmap: QPixmap | None = None
        self._bounds = QRectF()             # the scene rectangle the pixmap shows
        self._nodes = QRectF()              # where the nodes are, measured when the document changed
        self._rects: dict[str, QRectF] = {}     # each node's, measured then too
        self._redraw = QTimer(self, singleShot=True, interval=REDRAW_MS)
        self._redraw.timeout.connect(self._invalidate)
        # Redrawn after the document changed (not on every item update: hovering repaints items)
        scene.document.subscribe(lambda changes: self._redraw.start(),
                                 kinds=(Replaced, Opened, Checked, *STRUCTURE_EVENTS, NodeMoved, WireRouted))
        view.moved.connect(self.follow_view)
        self.hide()

    # ------------------------------------------------------------------ when it is shown
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.follow_view()

    def follow_view(self) -> None:
        """Place it, show it while part of the graph is out of view, and outline what is in view.
        A canvas made small (a tall dock beside it) keeps it: the map would hide what it maps."""
        visible = self._visible_rect()
        roomy = self.view.viewport().width() >= 3 * self.width() and self.view.viewport().height() >= 4 * self.height()
        wanted = self.enabled and roomy and not self._nodes.isEmpty() and not visible.contains(self._nodes)
        if wanted != self.isVisible():
            self.setVisible(wanted)
        if wanted:
            scroll = self.view.horizontalScrollBar()
            below = scroll.height() if scroll.isVisible() else 0
            self.move(MARGIN, self.view.height() - self.height() - MARGIN - below)
            self.raise_()
            self.update()

    def _invalidate(self) -> None:
        self._pixmap = None
        self._nodes = self._nodes_rect()
        self._bounds = self._nodes.adjusted(-40, -40, 40, 40)
        if not self._nodes.isEmpty():
            aspect = (self._nodes.width() + 80) / (self._nodes.height() + 80)
            self.setFixedSize(max(60, min(WIDTH, round(HEIGHT * aspect))), max(50, min(HEIGHT, round(WIDTH / aspect))))
        self.follow_view()

    def _nodes_rect(self) -> QRectF:
        """Where the nodes are, from the document's positions (plain numbers: measuring ten
        thousand items through Qt costs a tenth of a second); the boxes are made when drawn."""
        self._rects = {}
        places = self._places()
        if not places:
            return QRectF()
        return QRectF(QPointF(min(x for x, _, _ in places), min(y for _, y, _ in places)),
                      QPointF(max(x for x, _, _ in places) + NODE_WIDTH, max(y + h for _, y, h in places)))

    def _places(self) -> list[tuple[float, float, float]]:
        positions = self.graph_scene.shown_graph.positions
        places = []
        for node_id, item in self.graph_scene.nodes.items():
            x, y = positions.get(node_id) or (item.pos().x(), item.pos().y())
            places.append((x, y, item.height))
        return places

    def _visible_rect(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    # ------------------------------------------------------------------ drawing
    def _transform(self) -> tuple[float, QPointF]:
        """Scale and offset from scene to minimap pixels (the graph centred, aspect kept)."""
        bounds = self._bounds
        width, height = self.width(), self.height()
        scale = min((width - 8) / max(bounds.width(), 1.0), (height - 8) / max(bounds.height(), 1.0))
        offset = QPointF((width - bounds.width() * scale) / 2, (height - bounds.height() * scale) / 2)
        return scale, offset

    def to_minimap(self, point: QPointF) -> QPointF:
        scale, offset = self._transform()
        return QPointF((point.x() - self._bounds.left()) * scale, (point.y() - self._bounds.top()) * scale) + offset

    def to_scene(self, point: QPointF) -> QPointF:
        scale, offset = self._transform()
        return QPointF((point.x() - offset.x()) / scale + self._bounds.left(),
                       (point.y() - offset.y()) / scale + self._bounds.top())

    def _render(self) -> QPixmap:
        scene = self.graph_scene
        scale, offset = self._transform()
        pixmap = QPixmap(self.size())
        pixmap.fill(QColor(current_theme().plate))
        painter = QPainter(pixmap)
        painter.translate(offset)
        painter.scale(scale, scale)
        painter.translate(-self._bounds.topLeft())
        # Batched, a call per colour: ten thousand nodes are drawn in C++, not a Python call each.
        # Wires as straight runs between centres and bends: at this scale curves cannot be told apart.
        if not self._rects:
            self._rects = {node_id: QRectF(x, y, NODE_WIDTH, h) for node_id, (x, y, h) in zip(scene.nodes, self._places())}
        rects = self._rects
        routes = scene.shown_graph.routes
        wires = []
        for e in scene.edges:
            if e.src in rects and e.dst in rects:      # through a routed wire's bends (a folded row's return)
                points = [rects[e.src].center(), *(QPointF(x, y) for x, y in routes.get(e, ())), rects[e.dst].center()]
                wires += [QLineF(p, q) for p, q in zip(points, points[1:])]
        theme = current_theme()
        painter.setPen(QPen(QColor(theme.far_wire), 0))         # cosmetic: one pixel at any scale
        painter.drawLines(wires)
        painter.setPen(Qt.PenStyle.NoPen)
        shown = scene.shown_graph
        boxes: dict[str, list[QRectF]] = {}
        for node_id, rect in rects.items():
            node = shown.nodes.get(node_id)
            colour = theme.severity(scene.severity_of(node_id)) or theme.category(node.spec.category if node else "")
            boxes.setdefault(colour, []).append(rect)
        for colour, group in boxes.items():
            painter.setBrush(QBrush(QColor(colour)))
            painter.drawRects(group)
        painter.end()
        return pixmap

    def paintEvent(self, event) -> None:
        if self._pixmap is None:
            self._pixmap = self._render()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._pixmap)
        visible = self._visible_rect()
        window = QRectF(self.to_minimap(visible.topLeft()), self.to_minimap(visible.bottomRight()))
        window = window.intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        theme = current_theme()
        painter.setPen(QPen(QColor(theme.selected), 1.5))
        painter.setBrush(QBrush(QColor(theme.view_fill)))
        painter.drawRect(window)
        painter.setPen(QPen(QColor(theme.far_wire), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()

    # ------------------------------------------------------------------ moving the canvas
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._go(event.position())
            event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
            event.accept()

    def _go(self, point: QPointF) -> None:
        self.view.centerOn(self.to_scene(point))

"""The whole of a large graph, zoomed far out, drawn as one item.

Thousands of node and wire items each painting a dot cost a Python call apiece on every frame
(10,000 nodes: 75 ms, a stutter). Far out, where no text can be read anyway, the scene hides
them and shows this item instead: boxes in their category's colour (problems outlined, frozen
nodes hatched), and all wires as one path, recorded once into a ``QPicture`` that Qt replays in
C++ each frame. The picture is recorded again only after the graph or its marks changed.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPen, QPicture
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem

from ..theme import current as current_theme
from .items import Canvas

FAR_ZOOM = 0.3          # below this a node's text is unreadable and the overview takes over
FAR_MIN_NODES = 1500    # smaller graphs paint their own items at any zoom


class OverviewItem(QGraphicsItem):
    def __init__(self, scene: Canvas) -> None:
        super().__init__()
        self.graph_scene = scene
        self._picture: QPicture | None = None
        self._bounds = QRectF()
        self.setZValue(-1)
        self.setVisible(False)

    def invalidate(self) -> None:
        if self._picture is not None:
            self._picture = None
            self.update()

    def _record(self) -> None:
        gc.disable()            # ten thousand short-lived rectangles: no collector passes meanwhile
        try:
            self._record_picture()
        finally:
            gc.enable()

    def _record_picture(self) -> None:
        scene, theme = self.graph_scene, current_theme()
        boxes: dict[str, list[QRectF]] = {}
        marked: dict[str, list[QRectF]] = {}
        frozen: list[QRectF] = []
        bounds = QRectF()
        for node_id, node_item in scene.nodes.items():
            rect = node_item.sceneBoundingRect()
            bounds = bounds.united(rect)
            category = scene.document.shown.nodes[node_id].spec.category if node_id in scene.document.shown.nodes else ""
            boxes.setdefault(theme.category(category), []).append(rect)
            if scene.learning(node_id)[0] == 0:
                frozen.append(rect)
            mark = theme.severity(scene.severity_of(node_id))
            if mark is not None:
                marked.setdefault(mark, []).append(rect)
        wires = QPainterPath()
        for wire in scene.edges.values():
            wires.addPath(wire.path())
        picture = QPicture()
        painter = QPainter(picture)
        painter.setPen(QPen(QColor(theme.far_wire), 0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(wires)
        painter.setPen(Qt.PenStyle.NoPen)
        for colour, rects in boxes.items():
            painter.setBrush(QBrush(QColor(colour)))
            painter.drawRects(rects)
        painter.setBrush(QBrush(QColor(theme.frozen_hatch_far), Qt.BrushStyle.BDiagPattern))    # as a node's own hatch
        painter.drawRects(frozen)
        for mark, rects in marked.items():
            # A cosmetic pen: three screen pixels at any zoom, so that one problem among ten
            # thousand nodes is still seen from far out.
            pen = QPen(QColor(mark), 3)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QBrush(QColor(mark)))
            painter.drawRects(rects)
        painter.end()
        self.prepareGeometryChange()
        self._picture, self._bounds = picture, bounds.united(wires.boundingRect()).adjusted(-20, -20, 20, 20)

    def boundingRect(self) -> QRectF:
        if self._picture is None and self.isVisible():
            self._record()
        return self._bounds

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self._picture is None:
            self._record()
        assert self._picture is not None
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)    # crisp marks; far out, curves need no smoothing
        self._picture.play(painter)

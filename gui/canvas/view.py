"""The canvas view: zoom around the cursor, pan, rubber-band selection, fit, drops from the
palette (handed on as ``layer_dropped``), and the view each level of the document was left at."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QMenu

from ..document import Opened
from .items import EdgeItem, NodeItem
from .scene import GraphScene

LAYER_MIME = "application/x-netloom-layer"
MIN_ZOOM, MAX_ZOOM = 0.05, 4.0


class GraphView(QGraphicsView):
    layer_dropped = Signal(str, float, float)     # layer type, scene x, y
    moved = Signal()                              # what the view shows changed: scrolled, zoomed, resized

    def __init__(self, scene: GraphScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.graph_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self._panning = None
        # (scene point, item or None) -> the menu for a right-click there, given by the window
        self.context_menu: Callable[[QPointF, Any], QMenu] | None = None
        self.bottom_reserves: dict[str, int] = {}     # pixels along the bottom that each overlay takes
        self._level_views: dict[tuple, dict] = {}      # levels -> the view a block was opened from
        scene.document.subscribe(self._level_shown, kinds=(Opened,))

    # ------------------------------------------------------------------ zoom and pan
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, factor: float) -> None:
        factor = max(MIN_ZOOM, min(MAX_ZOOM, factor))
        self.scale(factor / self.zoom, factor / self.zoom)
        self.graph_scene.zoom_changed(self.zoom)
        self.moved.emit()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.moved.emit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.moved.emit()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        self.set_zoom(self.zoom * (1.15 ** steps))
        event.accept()

    @property
    def bottom_reserve(self) -> int:
        return max(self.bottom_reserves.values(), default=0)

    def fit_all(self) -> None:
        """Show every node (wires follow them; their curve handles would only add margin)."""
        nodes = list(self.graph_scene.nodes.values())
        if not nodes:
            return
        rect = nodes[0].sceneBoundingRect()
        for item in nodes[1:]:
            rect = rect.united(item.sceneBoundingRect())
        self.fitInView(rect.adjusted(-30, -30, 30, 30), Qt.AspectRatioMode.KeepAspectRatio)
        if self.bottom_reserve:     # a key along the bottom (training colours) covers no node
            self.fitInView(rect.adjusted(-30, -30, 30, 30 + self.bottom_reserve / self.zoom),
                           Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.5:
            self.set_zoom(1.5)
        self.graph_scene.zoom_changed(self.zoom)
        self.moved.emit()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._panning = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._panning is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._panning = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def contextMenuEvent(self, event) -> None:
        if self.context_menu is None:
            return super().contextMenuEvent(event)
        scene_pos = self.mapToScene(event.pos())
        under = [i for i in self.scene().items(scene_pos) if isinstance(i, (NodeItem, EdgeItem))]
        item = next((i for i in under if isinstance(i, NodeItem)), under[0] if under else None)
        self.context_menu(scene_pos, item).exec(event.globalPos())
        event.accept()

    def view_state(self) -> dict:
        centre = self.mapToScene(self.viewport().rect().center())
        return {"zoom": round(self.zoom, 3), "center": [round(centre.x(), 1), round(centre.y(), 1)]}

    def restore_view(self, state: dict) -> bool:
        try:
            zoom, (x, y) = float(state["zoom"]), state["center"]
        except (KeyError, TypeError, ValueError):
            return False
        self.set_zoom(zoom)
        self.centerOn(float(x), float(y))
        return True

    def keep_view(self) -> None:
        """Remember this level's view: a block is being opened, and closing it comes back here."""
        self._level_views[self.graph_scene.document.levels] = self.view_state()

    def _level_shown(self, changes) -> None:
        """Another level is shown: as it was left, or fitted to the window the first time."""
        state = self._level_views.pop(self.graph_scene.document.levels, None)
        if state is None or not self.restore_view(state):
            self.fit_all()

    # ------------------------------------------------------------------ drops from the palette
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            type_name = bytes(event.mimeData().data(LAYER_MIME)).decode()
            pos = self.mapToScene(event.position().toPoint())
            self.layer_dropped.emit(type_name, pos.x(), pos.y())
            event.acceptProposedAction()
        else:
            super().dropEvent(event)

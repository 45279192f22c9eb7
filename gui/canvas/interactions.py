"""Gestures on the canvas, each a small object that turns mouse and key events into document
changes: drawing a wire from port to port, dragging nodes, selecting (a click or a rubber band),
opening a block with a double-click, dropping a layer from the palette, and the right-click
menus. The scene hands them its events (``GraphScene.interactions``) and only mirrors the
document; these write to it, through the commands or ``Document.push``.

An edit's way: a gesture here -> a command or an edit -> ``Document.push`` -> the graph's
events (and ``SelectionChanged``) on the document's channel -> the scene's items.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsSceneMouseEvent, QMenu
from shiboken6 import isValid

from graphs import Edge
from graphs.edits import Connect, Move

from ..commands import CANVAS_MENU, NODE_MENU, WIRE_MENU, Context, blocks, editing
from ..theme import current as current_theme
from .items import EdgeItem, NodeItem, Port, wire_path
from .scene import GRID, GraphScene, Interaction
from .view import GraphView

# What the canvas does without a menu command, for the list of shortcuts (Help).
GESTURES = [("Cancel the wire being drawn", "Esc"), ("Pan the canvas", "Middle button drag"),
            ("Zoom around the pointer", "Mouse wheel")]


class WireDrawing(Interaction):
    """From an output port, drag to an input port: the wire follows the pointer, green where it
    may land and red with the reason where it may not; Esc cancels it."""

    def __init__(self, scene: GraphScene, ctx: Context) -> None:
        self.scene, self.ctx = scene, ctx
        self.preview: QGraphicsPathItem | None = None
        self.source: Port | None = None

    def press(self, event: QGraphicsSceneMouseEvent) -> bool:
        port = self.scene.port_at(event.scenePos()) if event.button() == Qt.MouseButton.LeftButton else None
        if port is None or not port.is_output:
            return False
        self.source, self.preview = port, QGraphicsPathItem()
        self.preview.setPen(QPen(QColor(current_theme().selected), 2, Qt.PenStyle.DashLine))
        self.preview.setZValue(3)
        self.scene.addItem(self.preview)
        self.preview.setPath(wire_path(port.scenePos(), event.scenePos()))
        event.accept()
        return True

    def move(self, event: QGraphicsSceneMouseEvent) -> bool:
        if self.preview is None or self.source is None:
            return False
        self.preview.setPath(wire_path(self.source.scenePos(), event.scenePos()))
        target = self.scene.port_at(event.scenePos())
        if target is not None and not target.is_output:
            problem = self.ctx.document.shown.connection_problem(self._edge(self.source, target))
            theme = current_theme()
            self.preview.setPen(QPen(QColor(theme.error if problem else theme.ok), 2, Qt.PenStyle.DashLine))
            if problem:
                self.ctx.window.say(problem)
        event.accept()
        return True

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        if self.preview is None or self.source is None:
            return False
        source = self.source
        self._drop_preview()
        target = self.scene.port_at(event.scenePos())
        if target is not None and not target.is_output:
            self.connect(source, target)
        event.accept()
        return True

    def key(self, event) -> bool:
        if event.key() != Qt.Key.Key_Escape or self.preview is None:
            return False
        self._drop_preview()
        self.ctx.window.say("Wiring cancelled")
        event.accept()
        return True

    def connect(self, source: Port, target: Port) -> bool:
        edge = self._edge(source, target)
        problem = self.ctx.document.shown.connection_problem(edge)
        if problem:
            self.ctx.window.say(f"Cannot wire: {problem}")
            return False
        return self.ctx.document.push(Connect(edge))

    def _drop_preview(self) -> None:
        if self.preview is not None:
            self.scene.removeItem(self.preview)
        self.preview, self.source = None, None

    @staticmethod
    def _edge(source: Port, target: Port) -> Edge:
        return Edge(source.node_id, target.node_id, source.name, target.name)


class NodeDragging(Interaction):
    """Qt moves the selected items under the pointer; the wires follow, and the finished drag is
    one Move edit (snapped to the grid) of every node it moved."""

    def __init__(self, scene: GraphScene, ctx: Context) -> None:
        self.scene, self.ctx = scene, ctx
        self.start: dict[str, QPointF] = {}

    def pressed(self, event: QGraphicsSceneMouseEvent) -> None:
        # What a drag may move: the selection as it is once the press has selected.
        items = self.scene.nodes
        self.start = {n: items[n].pos() for n in self.ctx.selection.nodes if n in items}

    def moved(self, event: QGraphicsSceneMouseEvent) -> None:
        if self.start and event.buttons() & Qt.MouseButton.LeftButton:
            for node_id in self.start:
                self.scene.node_moved(node_id)

    def released(self, event: QGraphicsSceneMouseEvent) -> None:
        moved = {}
        for node_id, before in self.start.items():
            item = self.scene.nodes.get(node_id)
            if item is not None and item.pos() != before:
                moved[node_id] = (round(item.pos().x() / GRID) * GRID, round(item.pos().y() / GRID) * GRID)
        self.start = {}
        if moved:
            self.ctx.document.push(Move(moved), "Move" if len(moved) > 1 else f"Move {next(iter(moved))}")


class Selecting(Interaction):
    """A click or a rubber band selects items (Qt's own handling); what they select becomes the
    document's selection, which the scene then mirrors."""

    def __init__(self, scene: GraphScene, ctx: Context) -> None:
        self.scene, self.ctx = scene, ctx
        scene.selectionChanged.connect(self.items_selected)

    def items_selected(self) -> None:
        if not isValid(self.scene) or self.scene.mirroring:    # going with its window, or following the document
            return
        chosen = self.scene.selectedItems()
        self.ctx.selection.set([i.node_id for i in chosen if isinstance(i, NodeItem)],
                               [i.edge for i in chosen if isinstance(i, EdgeItem)])


class BlockOpening(Interaction):
    """A double-click on a block's node shows its body."""

    def __init__(self, scene: GraphScene, ctx: Context) -> None:
        self.scene, self.ctx = scene, ctx

    def double_click(self, event: QGraphicsSceneMouseEvent) -> bool:
        item = next((i for i in self.scene.items(event.scenePos()) if isinstance(i, NodeItem)), None)
        if item is None or event.button() != Qt.MouseButton.LeftButton \
                or item.node.type not in self.ctx.document.graph.blocks:
            return False
        blocks.open_block(self.ctx, item.node_id)
        event.accept()
        return True


class CanvasGestures:
    """The canvas's interactions, installed on its scene and view: the gestures above, drops from
    the palette (a layer where it is dropped) and the right-click menus (built by ``menus`` from
    the command declarations, for what is under the pointer)."""

    def __init__(self, scene: GraphScene, view: GraphView, ctx: Context, menus) -> None:
        self.scene, self.view, self.ctx, self.menus = scene, view, ctx, menus
        self.wire = WireDrawing(scene, ctx)
        self.dragging = NodeDragging(scene, ctx)
        self.selecting = Selecting(scene, ctx)
        scene.interactions = [self.wire, BlockOpening(scene, ctx), self.dragging]
        view.layer_dropped.connect(self.drop)
        view.context_menu = self.menu_for

    def drop(self, type_name: str, x: float, y: float) -> str | None:
        """A layer from the palette, where it was dropped."""
        return editing.add_at(self.ctx, type_name, x, y)

    def menu_for(self, scene_pos: QPointF, item: QGraphicsItem | None) -> QMenu:
        """The menu of a right-click at ``scene_pos`` on ``item`` (a node, a wire, or None). A node
        not in the selection becomes the selection, so that the menu acts on what was clicked."""
        if isinstance(item, NodeItem):
            if item.node_id not in self.ctx.selection:
                self.ctx.selection.set([item.node_id])
            return self.menus.canvas_menu(NODE_MENU, self.ctx.at(node=item.node_id), self.view)
        if isinstance(item, EdgeItem):
            return self.menus.canvas_menu(WIRE_MENU, self.ctx.at(wire=item.edge), self.view)
        return self.menus.canvas_menu(CANVAS_MENU, self.ctx.at(point=(scene_pos.x(), scene_pos.y())), self.view)


"""The canvas scene: mirrors the document's events into items, and turns mouse gestures on it
(dragging wires between ports, moving nodes) into document edits."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from graphs import ERROR, Changes, Edge
from graphs.edits import Connect, Move
from graphs.events import (
    STRUCTURE_EVENTS,
    EdgeAdded,
    EdgeRemoved,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    WireRouted,
)

from ..document import Checked, Document, Opened, Replaced
from ..theme import current as current_theme
from .items import EdgeItem, NodeItem, Port, wire_path
from .overview import FAR_MIN_NODES, FAR_ZOOM, OverviewItem

GRID = 20.0
ROOM = QRectF(-5000, -5000, 10000, 10000)   # the canvas an empty graph starts with


class GraphScene(QGraphicsScene):
    status = Signal(str)          # a message for the status bar (a refused wire, ...)
    open_requested = Signal(str)  # a block node double-clicked: show its body

    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._severity: dict[str, str] = {}
        self._wire: QGraphicsPathItem | None = None
        self._wire_from: Port | None = None
        self._press_positions: dict[str, QPointF] = {}
        self._edges_of: dict[str, set[Edge]] = {}       # node -> the wires drawn at it
        self._shown = None                                # the report the items show
        self.building = False          # True while rebuild adds every item
        self.overview = OverviewItem(self)                # large graphs, zoomed far out
        self.addItem(self.overview)
        self.far = False
        self._zoom = 1.0
        self.setSceneRect(ROOM)
        document.subscribe(self._on_changes, kinds=(Replaced, Opened, Checked, *STRUCTURE_EVENTS, NodeMoved, WireRouted,
                                                    ParamsChanged))
        self.rebuild()

    # ------------------------------------------------------------------ mirroring the document
    @property
    def shown_graph(self):
        """The graph the canvas draws: the model, or the body of an opened block."""
        return self.document.shown

    def labels_wire(self, edge: Edge) -> bool:
        """One label per output port: the wires fanning out of a port carry the same tensor."""
        siblings = self._port_wires(edge)
        return not siblings or edge == min(siblings, key=lambda e: (e.dst, e.dst_port))

    def _port_wires(self, edge: Edge) -> set[Edge]:
        """The wires drawn from ``edge``'s output port."""
        return {e for e in self._edges_of.get(edge.src, ()) if e.src_port == edge.src_port and e.src == edge.src}

    def _place_port_labels(self, edge: Edge) -> None:
        """A wire of a port came, went or moved: its siblings' label may change side."""
        for e in self._port_wires(edge):
            wire = self.edges.get(e)
            if wire is not None:
                wire.place_label()

    def first_turns(self, edge: Edge) -> list[float]:
        """Where each wire leaving ``edge``'s output port heads in its first gap: the height of its
        first bend, or of the input port it reaches."""
        heights = []
        for e in self._port_wires(edge) | {edge}:
            route = self.shown_graph.routes.get(e)
            if route:
                heights.append(route[0][1])
            elif e.dst in self.nodes:
                heights.append(self.nodes[e.dst].port_position(e.dst_port, False).y())
        return heights

    # ------------------------------------------------------------------ far out
    def zoom_changed(self, zoom: float) -> None:
        """The view's scale: far out, a large graph is shown by its overview item alone."""
        self._zoom = zoom
        self._set_far(zoom < FAR_ZOOM and len(self.nodes) >= FAR_MIN_NODES)

    def _set_far(self, far: bool) -> None:
        if far == self.far:
            return
        self.far = far
        for item in list(self.nodes.values()) + list(self.edges.values()):
            item.setVisible(not far)
        self.overview.invalidate()
        self.overview.setVisible(far)

    def rebuild(self) -> None:
        graph = self.document.shown
        for item in list(self.nodes.values()) + list(self.edges.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.edges.clear()
        self._edges_of.clear()
        self._shown = None
        for node_id in graph.nodes:
            self._add_node(node_id)
        self.building = True           # labels are placed once all wires are there, not per wire:
        for edge in graph.edges:        # by show_report, as each wire gets its label
            self._add_edge(edge)
        self.building = False
        self.show_report(self.document.shown_report)
        self.overview.invalidate()
        self.zoom_changed(self._zoom)     # decide again for the new graph, at the current zoom
        # Room for every node (a 10,000-node chain is two million wide) and for new ones around.
        bounds = QRectF(ROOM)
        for item in self.nodes.values():
            bounds = bounds.united(item.sceneBoundingRect())
        self.setSceneRect(bounds.adjusted(-2000, -2000, 2000, 2000))

    def _on_changes(self, changes: Changes) -> None:
        """Mirror one edit's events; the scene only shows, it never writes to the document."""
        graph = self.document.shown
        self.overview.invalidate()
        for event in changes.events:
            if isinstance(event, (Replaced, Opened)):
                self.rebuild()
            elif isinstance(event, Checked):
                self.show_report(self.document.shown_report)
            elif isinstance(event, NodeAdded):
                self._add_node(event.node)
                self._make_room(event.node)
            elif isinstance(event, NodeRemoved):
                item = self.nodes.pop(event.node, None)
                if item is not None:
                    self.removeItem(item)
                self._edges_of.pop(event.node, None)
            elif isinstance(event, NodeRenamed):
                self._renamed(event.old, event.new)
            elif isinstance(event, NodeMoved):
                item = self.nodes.get(event.node)
                pos = graph.positions.get(event.node)
                if item is not None and pos is not None and (item.pos().x(), item.pos().y()) != pos:
                    item.setPos(*pos)
                    self.node_moved(event.node)
                self._make_room(event.node)
            elif isinstance(event, ParamsChanged):
                item = self.nodes.get(event.node)
                if item is not None:
                    item.refresh()
            elif isinstance(event, EdgeAdded):
                self._add_edge(event.edge)
            elif isinstance(event, EdgeRemoved):
                self._remove_edge(event.edge)
            elif isinstance(event, WireRouted):
                wire = self.edges.get(event.edge)
                if wire is not None:
                    wire.update_path()

    def _make_room(self, node_id: str) -> None:
        item = self.nodes.get(node_id)
        if item is not None and not self.sceneRect().contains(item.sceneBoundingRect()):
            self.setSceneRect(self.sceneRect().united(item.sceneBoundingRect().adjusted(-2000, -2000, 2000, 2000)))

    def _renamed(self, old: str, new: str) -> None:
        item = self.nodes.pop(old, None)
        if item is None:
            return
        item.node_id = new
        self.nodes[new] = item
        for edge in list(self._edges_of.get(old, ())):
            self._remove_edge(edge)
        self._edges_of.pop(old, None)
        for edge in self.document.shown.edges:
            if new in (edge.src, edge.dst) and edge not in self.edges:
                self._add_edge(edge)
        item.update()

    def _add_node(self, node_id: str) -> None:
        item = NodeItem(self, node_id)
        # A node added without a place (by a script) is shown right of the others; it gets a
        # place in the document only when the person moves it.
        pos = self.document.shown.positions.get(node_id) or self._free_spot()
        item.setPos(*pos)
        item.setVisible(not self.far)
        self.addItem(item)
        self.nodes[node_id] = item

    def _add_edge(self, edge: Edge) -> None:
        if edge.src in self.nodes and edge.dst in self.nodes and edge not in self.edges:
            item = EdgeItem(self, edge)
            item.setVisible(not self.far)
            self.addItem(item)
            self.edges[edge] = item
            self._edges_of.setdefault(edge.src, set()).add(edge)
            self._edges_of.setdefault(edge.dst, set()).add(edge)
            if not self.building:
                self._place_port_labels(edge)

    def _remove_edge(self, edge: Edge) -> None:
        item = self.edges.pop(edge, None)
        if item is not None:
            self.removeItem(item)
        for end in (edge.src, edge.dst):
            self._edges_of.get(end, set()).discard(edge)
        self._place_port_labels(edge)

    def _free_spot(self) -> tuple[float, float]:
        """Where a node without a position goes: right of everything, on the grid."""
        if not self.nodes:
            return (0.0, 0.0)
        right = max(item.pos().x() for item in self.nodes.values())
        return (right + 220.0, 0.0)

    def show_report(self, report) -> None:
        """Marks, node texts and wire labels follow the new report, only where it differs from
        the one shown before (an edit changes a few nodes, not ten thousand)."""
        if report is self._shown:
            return
        severity: dict[str, str] = {}
        for d in report.diagnostics:
            if d.node and (d.severity == ERROR or severity.get(d.node) != ERROR):
                severity[d.node] = d.severity
        shown = self._shown
        changed = {n for n in set(severity) | set(self._severity) if severity.get(n) != self._severity.get(n)}
        if shown is None:
            changed = set(self.nodes)
        else:
            for table, before in ((report.shapes, shown.shapes), (report.params, shown.params)):
                if table is not before:
                    changed |= {n for n in set(table) | set(before) if table.get(n) != before.get(n)}
            if report.tensors is not shown.tensors:      # what flows on the wires (every output port)
                changed |= {key[0] for key in set(report.tensors) | set(shown.tensors)
                            if report.tensors.get(key) != shown.tensors.get(key)}
        self._severity, self._shown = severity, report
        if changed:
            self.overview.invalidate()
        for node_id in changed:
            item = self.nodes.get(node_id)
            if item is not None:
                item.update()
            for edge in self._edges_of.get(node_id, ()):
                wire = self.edges.get(edge) if edge.src == node_id else None    # a label is its source's tensor
                if wire is not None:
                    wire.update_label()

    def severity_of(self, node_id: str) -> str | None:
        return self._severity.get(node_id)

    def node_moved(self, node_id: str) -> None:
        for edge in self._edges_of.get(node_id, ()):
            item = self.edges.get(edge)
            if item is not None:
                item.update_path()
        for edge in self._edges_of.get(node_id, ()):
            if edge.dst == node_id:          # a wire into it changed course: labels of its port
                self._place_port_labels(edge)

    # ------------------------------------------------------------------ gestures
    def port_at(self, pos: QPointF) -> Port | None:
        """The port under a point: ports are part of their node's item, hit by distance."""
        slop = QRectF(pos.x() - 10, pos.y() - 10, 20, 20)
        for item in self.items(slop):
            if isinstance(item, NodeItem):
                port = item.port_at(pos)
                if port is not None:
                    return port
        return None

    def mousePressEvent(self, event) -> None:
        port = self.port_at(event.scenePos()) if event.button() == Qt.MouseButton.LeftButton else None
        if port is not None and port.is_output:
            self._wire_from = port
            self._wire = QGraphicsPathItem()
            self._wire.setPen(QPen(QColor(current_theme().selected), 2, Qt.PenStyle.DashLine))
            self._wire.setZValue(3)
            self.addItem(self._wire)
            self._wire.setPath(wire_path(port.scenePos(), event.scenePos()))
            event.accept()
            return
        super().mousePressEvent(event)
        # What a drag may move: the selection as it is once the press has selected.
        self._press_positions = {item.node_id: item.pos() for item in self.selectedItems()
                                 if isinstance(item, NodeItem)}

    def mouseMoveEvent(self, event) -> None:
        if self._wire is not None:
            self._wire.setPath(wire_path(self._wire_from.scenePos(), event.scenePos()))
            target = self.port_at(event.scenePos())
            if target is not None and not target.is_output:
                edge = Edge(self._wire_from.node_id, target.node_id, self._wire_from.name, target.name)
                problem = self.document.shown.connection_problem(edge)
                colour = QColor(current_theme().error if problem else current_theme().ok)
                self._wire.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
                if problem:
                    self.status.emit(problem)
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._press_positions and event.buttons() & Qt.MouseButton.LeftButton:
            for node_id in self._press_positions:      # wires follow the nodes being dragged
                self.node_moved(node_id)

    def mouseDoubleClickEvent(self, event) -> None:
        item = next((i for i in self.items(event.scenePos()) if isinstance(i, NodeItem)), None)
        if item is not None and event.button() == Qt.MouseButton.LeftButton \
                and item.node.type in self.document.graph.blocks:
            self.open_requested.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape and self._wire is not None:   # Esc drops the wire being drawn
            self.cancel_wire()
            event.accept()
            return
        super().keyPressEvent(event)

    def cancel_wire(self) -> None:
        if self._wire is not None:
            self.removeItem(self._wire)
            self._wire, self._wire_from = None, None
            self.status.emit("Wiring cancelled")

    def mouseReleaseEvent(self, event) -> None:
        if self._wire is not None:
            self.removeItem(self._wire)
            self._wire = None
            source, self._wire_from = self._wire_from, None
            target = self.port_at(event.scenePos())
            if target is not None and not target.is_output:
                self.connect_ports(source, target)
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._commit_moves()

    def connect_ports(self, source: Port, target: Port) -> bool:
        edge = Edge(source.node_id, target.node_id, source.name, target.name)
        problem = self.document.shown.connection_problem(edge)
        if problem:
            self.status.emit(f"Cannot wire: {problem}")
            return False
        return self.document.push(Connect(edge))

    def _commit_moves(self) -> None:
        """A finished drag becomes one Move edit (snapped to the grid) for all nodes it moved."""
        moved = {}
        for node_id, item in self.nodes.items():
            before = self._press_positions.get(node_id)
            if before is not None and item.pos() != before:
                x = round(item.pos().x() / GRID) * GRID
                y = round(item.pos().y() / GRID) * GRID
                moved[node_id] = (x, y)
        self._press_positions = {}
        if moved:
            self.document.push(Move(moved), "Move" if len(moved) > 1 else f"Move {next(iter(moved))}")

    # ------------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        theme = current_theme()
        painter.fillRect(rect, QColor(theme.canvas))
        scale = painter.worldTransform().m11()
        if scale < 0.35:          # zoomed far out: a grid would only be noise (and slow)
            return
        step = GRID if scale > 0.7 else GRID * 5
        pen = QPen(QColor(theme.grid), 0)
        painter.setPen(pen)
        left = int(rect.left() // step) * step
        top = int(rect.top() // step) * step
        lines = []
        x = left
        while x < rect.right():
            lines.append((QPointF(x, rect.top()), QPointF(x, rect.bottom())))
            x += step
        y = top
        while y < rect.bottom():
            lines.append((QPointF(rect.left(), y), QPointF(rect.right(), y)))
            y += step
        for a, b in lines:
            painter.drawLine(a, b)

    def selected_node_ids(self) -> list[str]:
        return [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [item.edge for item in self.selectedItems() if isinstance(item, EdgeItem)]

"""The canvas scene: mirrors the document's events into items (nodes, wires, their marks, the
selection), and hands mouse and key events to its interactions (``interactions.py``), which
turn gestures into edits. The scene itself never writes to the document."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneMouseEvent

from graphs import ERROR, Changes, Edge
from graphs.events import (
    STRUCTURE_EVENTS,
    EdgeAdded,
    EdgeRemoved,
    LearningChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    WireRouted,
)

from ..document import Checked, Document, Opened, Replaced
from ..selection import SelectionChanged
from ..theme import current as current_theme
from .items import EdgeItem, NodeItem, Port
from .overview import FAR_MIN_NODES, FAR_ZOOM, OverviewItem

GRID = 20.0
ROOM = QRectF(-5000, -5000, 10000, 10000)   # the canvas an empty graph starts with


class Interaction:
    """One gesture. ``press``, ``move``, ``release``, ``double_click`` and ``key`` come before Qt's
    own handling and return True to take the event (Qt's is then skipped); ``pressed``, ``moved``
    and ``released`` come after it, for gestures that build on it (a drag of what Qt selected)."""

    def press(self, event: QGraphicsSceneMouseEvent) -> bool:
        return False

    def pressed(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def move(self, event: QGraphicsSceneMouseEvent) -> bool:
        return False

    def moved(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def release(self, event: QGraphicsSceneMouseEvent) -> bool:
        return False

    def released(self, event: QGraphicsSceneMouseEvent) -> None:
        pass

    def double_click(self, event: QGraphicsSceneMouseEvent) -> bool:
        return False

    def key(self, event) -> bool:
        return False



class GraphScene(QGraphicsScene):
    def __init__(self, document: Document, parent=None) -> None:
        super().__init__(parent)
        self.document = document
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self.interactions: list[Interaction] = []     # the gestures, given the events in turn
        self.mirroring = False          # True while items follow the document (their selection changes are no gesture)
        self._severity: dict[str, str] = {}
        self._edges_of: dict[str, set[Edge]] = {}       # node -> the wires drawn at it
        self._shown = None                                # the report the items show
        self.building = False          # True while rebuild adds every item
        self.overview = OverviewItem(self)                # large graphs, zoomed far out
        self.addItem(self.overview)
        self.far = False
        self._zoom = 1.0
        self.setSceneRect(ROOM)
        document.subscribe(self._on_changes, kinds=(Replaced, Opened, Checked, *STRUCTURE_EVENTS, NodeMoved, WireRouted,
                                                    ParamsChanged, LearningChanged, SelectionChanged))
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

    def learning(self, node_id: str) -> tuple[float, bool]:
        """How a node of the shown graph learns: (learning-rate factor, fresh). The layers of an
        opened block learn as the model's use they were opened through does."""
        document = self.document
        if not document.levels:
            node = document.graph.nodes.get(node_id)
            return (node.lr_factor, node.fresh) if node is not None else (1.0, False)
        use = document.graph.nodes.get(document.levels[0][1] or "")
        inner = document.shown.nodes.get(node_id)
        if use is None or inner is None or inner.type in ("Input", "Output"):
            return 1.0, False
        return use.lr_factor, use.fresh

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
        """Mirror one edit's events (and the selection they leave)."""
        self.mirroring = True
        try:
            self._mirror(changes)
            if changes.has(SelectionChanged, Replaced, Opened):
                self._mirror_selection()
        finally:
            self.mirroring = False

    def _mirror(self, changes: Changes) -> None:
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
            elif isinstance(event, LearningChanged):      # a use of an opened block: all its layers
                for node_id in (self.nodes if self.document.levels else (event.node,)):
                    if node_id in self.nodes:
                        self.nodes[node_id].update()
                        self.nodes[node_id].setToolTip(self.nodes[node_id].tooltip())

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

    # Each event goes to the interactions in turn; one that takes it ends Qt's own handling.
    def mousePressEvent(self, event) -> None:
        if not any(i.press(event) for i in self.interactions):
            super().mousePressEvent(event)
            for interaction in self.interactions:
                interaction.pressed(event)

    def mouseMoveEvent(self, event) -> None:
        if not any(i.move(event) for i in self.interactions):
            super().mouseMoveEvent(event)
            for interaction in self.interactions:
                interaction.moved(event)

    def mouseReleaseEvent(self, event) -> None:
        if not any(i.release(event) for i in self.interactions):
            super().mouseReleaseEvent(event)
            for interaction in self.interactions:
                interaction.released(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if not any(i.double_click(event) for i in self.interactions):
            super().mouseDoubleClickEvent(event)

    def keyPressEvent(self, event) -> None:
        if not any(i.key(event) for i in self.interactions):
            super().keyPressEvent(event)

    # ------------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, exposed: QRectF | QRect) -> None:
        rect, theme = QRectF(exposed), current_theme()
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

    # ------------------------------------------------------------------ the selection
    def _mirror_selection(self) -> None:
        """Items selected as the document's selection says (their flags only where they differ)."""
        selection = self.document.selection
        wanted: set[QGraphicsItem] = {self.nodes[n] for n in selection.nodes if n in self.nodes}
        wanted |= {self.edges[w] for w in selection.wires if w in self.edges}
        for item in set(self.selectedItems()) ^ wanted:
            item.setSelected(item in wanted)

"""What the canvas draws: nodes with their ports, and wires labelled with their tensor shape.

Items only paint what the document and the latest check report say; they hold no model data
of their own beyond the id they stand for. What they read of the canvas they are on is
``Canvas`` (the scene is one), so that they need not know the scene that makes them.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QStyleOptionGraphicsItem,
)

from engine import format_shape
from graphs import ERROR, FUNCTION, Edge
from graphs.blocks import ref_name
from graphs.operations import call_text

from ..document import Document
from ..theme import Theme
from ..theme import current as current_theme
from . import far_labels, learning_marks

NODE_WIDTH = 180.0
HEADER = 22.0
LINE = 16.0
PORT_RADIUS = 6.0
# Ports sit as on a node of this height however tall its parameters make it, so that wires
# between the nodes of a row run straight.
BASE_HEIGHT = HEADER + 3 * LINE + 8
MAX_PARAM_LINES = 3
TEXT_WIDTH = NODE_WIDTH - 20

MIN_TEXT_PX = 6.0        # text smaller than this on screen is not drawn: it could not be read
PX_PER_PT = 96 / 72      # Qt's logical resolution: a point is 4/3 of a logical pixel


def on_screen_px(points: float, scale: float) -> float:
    """How many pixels high text of ``points`` is drawn at the view's ``scale``."""
    return points * PX_PER_PT * scale
LABEL_FONT_PT = 7
FAR_LABEL_GROWTH = 4.0   # a shape label is drawn at most this much larger in the scene zoomed out


def compact(number: int) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if number >= size:
            return f"{number / size:.1f}{unit}".replace(".0" + unit, unit)
    return str(number)


class Canvas(Protocol):
    """What items read from the scene that shows them."""
    document: Document
    nodes: dict[str, NodeItem]
    edges: dict[Edge, EdgeItem]
    building: bool                  # every item is being made: wire labels are placed once at the end

    def severity_of(self, node_id: str) -> str | None: ...

    def learning(self, node_id: str) -> tuple[float, bool]: ...

    def labels_wire(self, edge: Edge) -> bool: ...

    def first_turns(self, edge: Edge) -> list[float]: ...


_PORT_TOOLS: dict[str, tuple[QPen, QBrush, QBrush]] = {}


def _port_tools(theme: Theme) -> tuple[QPen, QBrush, QBrush]:
    """The pen and brushes of ports, made once per theme (every visible node paints its ports)."""
    if theme.name not in _PORT_TOOLS:
        _PORT_TOOLS[theme.name] = (QPen(QColor(theme.port_line), 1.5), QBrush(QColor(theme.port_fill)),
                                   QBrush(QColor(theme.port_hover)))
    return _PORT_TOOLS[theme.name]


class Port:
    """A wiring point: outputs on the right edge of a node, inputs on the left. Painted and hit
    by its node; not an item of its own (10,000 nodes would need 20,000 more items)."""

    def __init__(self, parent: NodeItem, name: str, is_output: bool, multiple: bool, offset: QPointF) -> None:
        self.node_item, self.name, self.is_output, self.multiple = parent, name, is_output, multiple
        self.offset = offset

    @property
    def node_id(self) -> str:
        return self.node_item.node_id

    def scenePos(self) -> QPointF:   # noqa: N802 - the name Qt items use, so callers need not care
        return self.node_item.scenePos() + self.offset

    def hit(self, local: QPointF) -> bool:
        d = local - self.offset
        return d.x() * d.x() + d.y() * d.y() <= (PORT_RADIUS + 3) ** 2

    def tooltip(self) -> str:
        return f"{'output' if self.is_output else 'input'} '{self.name}'" + (
            " (takes several wires)" if self.multiple else "")


class NodeItem(QGraphicsItem):
    def __init__(self, scene: Canvas, node_id: str) -> None:
        super().__init__()
        self.graph_scene, self.node_id = scene, node_id
        # No geometry notifications (a Python call per change of every item): the scene moves
        # the wires of nodes that move by an edit, and of those a drag moves when told.
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(1)
        self.setAcceptHoverEvents(True)         # for the port under the pointer
        self.ports: dict[tuple[str, bool], Port] = {}
        self._hovered: Port | None = None
        self.overlay: QColor | None = None      # set while training: gradient health
        self.badge: str = ""                    # e.g. "62% dead"
        self._height = BASE_HEIGHT
        self._bounds = QRectF()
        self._lines: list[str] = []
        self.refresh()

    # ------------------------------------------------------------------ content
    @property
    def node(self):
        return self.graph_scene.document.shown.nodes[self.node_id]

    @property
    def height(self) -> float:
        return self._height

    def refresh(self) -> None:
        """Follow the node's parameters: its label lines, its height, its ports."""
        node = self.node
        # Inside an opened block an Input's shape is only the block's example: its "out" line
        # gives what the opened use feeds it.
        example = node.type == "Input" and bool(self.graph_scene.document.levels)
        self._lines = defining_lines(node, skip=("shape",) if example else ())
        height = max(BASE_HEIGHT, HEADER + 4 + (len(self._lines) + 2) * LINE + 4)
        if height != self._height or self._bounds.isEmpty():
            self.prepareGeometryChange()
            self._height = height
            r = PORT_RADIUS + 2
            self._bounds = QRectF(-r, -2, NODE_WIDTH + 2 * r, self._height + 4)
        self.rebuild_ports()
        self.update()

    def rebuild_ports(self) -> None:
        self.ports.clear()
        spec = self.node.spec
        for ports, is_output in ((spec.inputs, False), (spec.outputs, True)):
            for i, p in enumerate(ports):
                y = HEADER + (i + 1) * (BASE_HEIGHT - HEADER) / (len(ports) + 1)
                offset = QPointF(NODE_WIDTH if is_output else 0.0, y)
                self.ports[(p.name, is_output)] = Port(self, p.name, is_output, p.multiple, offset)
        self.setToolTip(self.tooltip())

    def tooltip(self) -> str:
        """What the node is, and how it learns when that is not as the run does."""
        spec = self.node.spec
        learning = learning_marks.describe(*self.graph_scene.learning(self.node_id))
        return f"{spec.type}: {spec.description}" + (f"\n{learning[0].upper()}{learning[1:]}." if learning else "")

    def port_at(self, scene_pos: QPointF) -> Port | None:
        local = self.mapFromScene(scene_pos)
        return next((port for port in self.ports.values() if port.hit(local)), None)

    def hoverMoveEvent(self, event) -> None:
        port = next((p for p in self.ports.values() if p.hit(event.pos())), None)
        if port is not self._hovered:
            self._hovered = port
            if port is None:
                self.unsetCursor()
                self.setToolTip(self.tooltip())
            else:
                self.setCursor(Qt.CursorShape.CrossCursor)
                self.setToolTip(port.tooltip())
            self.update()

    def hoverLeaveEvent(self, event) -> None:
        if self._hovered is not None:
            self._hovered = None
            self.unsetCursor()
            self.update()

    def port_position(self, name: str, is_output: bool) -> QPointF:
        port = self.ports.get((name, is_output))
        return port.scenePos() if port is not None else self.scenePos()

    def lines(self) -> list[str]:
        """Type and parameter count; the parameters that define the node, over as many lines as
        they need; output shape and any training badge."""
        node, report = self.node, self.graph_scene.document.shown_report
        shape = report.shapes.get(node.id)
        first_out = next(iter(node.spec.outputs), None)
        info = report.tensors.get((node.id, first_out.name)) if first_out is not None else None
        # a tensor's own words where the batch axis is not first ("3xbatchx2x5x8", "1x5x16 (no batch axis)")
        last = f"out {info if info is not None else format_shape(shape)}" if shape is not None else "out ?"
        if self.badge:
            last += f" · {self.badge}"
        first = node.type
        params = report.params.get(node.id)
        if params:      # by the type, where it has room: a long output shape would elide it
            first += f" · {compact(params)} params"
        return [first, *(self._lines or [""]), last]

    # ------------------------------------------------------------------ painting
    def boundingRect(self) -> QRectF:
        return self._bounds         # kept, not made: Qt asks for it tens of thousands of times

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        spec = self.node.spec
        rect = QRectF(0, 0, NODE_WIDTH, self._height)
        severity = self.graph_scene.severity_of(self.node_id)
        theme = current_theme()
        border = QColor(theme.severity(severity) or theme.node_border)
        if self.isSelected():
            border = QColor(theme.selected)
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        if on_screen_px(8, scale) < MIN_TEXT_PX:
            self._paint_far(painter, rect, spec, border, severity, scale)
            return
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(border, 3 if (severity or self.isSelected()) else 1.2))
        painter.setBrush(QBrush(self.overlay or QColor(theme.node_body)))
        painter.drawRoundedRect(rect, 6, 6)
        factor, fresh = self.graph_scene.learning(self.node_id)
        if factor == 0:
            learning_marks.hatch(painter, rect, theme.frozen_hatch, 6)
        header = QRectF(0, 0, NODE_WIDTH, HEADER)
        painter.setBrush(QBrush(QColor(theme.category(spec.category))))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawRoundedRect(header, 6, 6)
        painter.drawRect(QRectF(0, HEADER / 2, NODE_WIDTH, HEADER / 2))   # square lower corners
        painter.setPen(QColor(theme.header_text))
        bold = QFont(painter.font())
        bold.setBold(True)
        painter.setFont(bold)
        marks_end = NODE_WIDTH - 8
        if severity:
            painter.drawText(header.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             "!" if severity == ERROR else "?")
            marks_end -= 10
        marks_start = learning_marks.header_marks(painter, header, marks_end, factor, fresh)
        name = painter.fontMetrics().elidedText(self.node_id, Qt.TextElideMode.ElideRight, int(marks_start - 8))
        painter.drawText(header.adjusted(8, 0, -8, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
        painter.setFont(QFont(painter.font().family(), 8))
        metrics = painter.fontMetrics()
        lines = self.lines()
        for i, text in enumerate(lines):
            painter.setPen(QColor(theme.node_text if i in (0, len(lines) - 1) else theme.node_muted))
            text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(TEXT_WIDTH))
            painter.drawText(QRectF(10, HEADER + 4 + i * LINE, TEXT_WIDTH, LINE),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        self._paint_ports(painter)

    def _paint_ports(self, painter: QPainter) -> None:
        pen, brush, hover = _port_tools(current_theme())
        painter.setPen(pen)
        for port in self.ports.values():
            painter.setBrush(hover if port is self._hovered else brush)
            painter.drawEllipse(port.offset, PORT_RADIUS, PORT_RADIUS)

    def _paint_far_text(self, painter: QPainter, box: QRectF, scale: float, colour: QColor) -> None:
        """The type and the key numbers, each while its letters can still be read."""
        node = self.node
        least = far_labels.readable_points(scale)
        if least is None:
            return
        figures = far_labels.numbers(node)
        text, title_pt, figure_pt = far_labels.fitted(far_labels.title(node), figures, box.width(), box.height(), least)
        if not title_pt:
            return
        font = QFont(painter.font())
        show_figures = bool(figure_pt)
        figure_box = QRectF(box)
        if show_figures:
            font.setPointSizeF(figure_pt)
            figure_height = QFontMetricsF(font).height()
            figure_box = QRectF(box.left(), box.bottom() - figure_height, box.width(), figure_height)
            box = box.adjusted(0, 0, 0, -figure_height)
        painter.setPen(colour)
        if show_figures:
            painter.setFont(font)
            painter.drawText(figure_box, Qt.AlignmentFlag.AlignCenter, figures)
        font.setBold(True)
        font.setPointSizeF(title_pt)
        painter.setFont(font)
        painter.drawText(box, far_labels.WRAP, text)

    def _paint_far(self, painter: QPainter, rect: QRectF, spec, border: QColor, severity, scale: float) -> None:
        """Zoomed out: a box in its category's colour, its type and key numbers in large letters
        while those can still be read (``far_labels``), problems as a thick border, and while training a band in the gradient's
        colour along the bottom; no small text."""
        theme = current_theme()
        colour = QColor(theme.category(spec.category))
        painter.setPen(QPen(border, 8 if (severity or self.isSelected()) else 0))
        painter.setBrush(QBrush(colour))
        painter.drawRect(rect)
        if self.graph_scene.learning(self.node_id)[0] == 0:
            learning_marks.hatch(painter, rect, theme.frozen_hatch_far)
        if self.overlay is not None:
            band = QColor(self.overlay)
            band.setAlpha(255)            # the near view's light tint would vanish on a coloured box
            painter.fillRect(QRectF(rect.left(), rect.bottom() - rect.height() / 3, rect.width(), rect.height() / 3),
                             band)
        self._paint_far_text(painter, rect.adjusted(4, 3, -4, -3), scale, QColor(theme.header_text))
        if scale * PORT_RADIUS >= 2:          # ports while they can still be aimed at
            self._paint_ports(painter)


class EdgeItem(QGraphicsPathItem):
    """A wire: from an output port to an input port, through the bends its route gives (a
    laid-out skip connection), with its tensor shape written where there is room for it."""

    def __init__(self, scene: Canvas, edge: Edge) -> None:
        super().__init__()
        self.graph_scene, self.edge = scene, edge
        self.overlay: QColor | None = None
        self.label = ""                  # the tensor shape, painted only where it can be read
        self._label_box = QRectF()
        self._fits = True                # whether the label fits the wire's first run
        self._far_growth = 1.0           # how much larger it may be drawn zoomed out, and still fit
        self._far_box = QRectF()         # ... and the box it then takes at most
        self._hovered = False
        self._shape: QPainterPath | None = None     # made when Qt first asks (hover, click)
        self._first_run = (QPointF(), QPointF())     # the wire's stretch from its output port
        self._end = QPointF()            # the input port it arrives at, where its arrowhead points
        self.setZValue(0)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)
        self.update_path()

    def update_path(self) -> None:
        scene = self.graph_scene
        src = scene.nodes.get(self.edge.src)
        dst = scene.nodes.get(self.edge.dst)
        if src is None or dst is None:
            return
        a = src.port_position(self.edge.src_port, True)
        b = dst.port_position(self.edge.dst_port, False)
        via = [QPointF(x, y) for x, y in scene.document.shown.routes.get(self.edge, ())]
        self.prepareGeometryChange()
        self.setPath(wire_path(a, b, via))
        self._shape = None
        self._first_run = (a, via[0] if via else b)
        self._end = b
        if not self.graph_scene.building:        # else placed once every wire of its port is drawn
            self.place_label()

    def update_label(self) -> None:
        info = self.graph_scene.document.shown_report.wire_tensor(self.edge)
        text = str(info) if info is not None else ""
        if text != self.label:
            self.label = text
            self.place_label()
            self.update()

    def place_label(self) -> None:
        """Above the middle of the wire's first run, the gap after its output port, where no
        node is; a label wider than that run is shown only while the pointer is on the wire."""
        a, b = self._first_run
        width = _label_metrics().horizontalAdvance(self.label) + 6
        run = abs(b.x() - a.x())
        # Wires of the same port that rise in this gap pass above the port, falling ones below:
        # the label goes on the side none takes (above when both are free).
        ends = self.graph_scene.first_turns(self.edge)
        rising, falling = any(y < a.y() - 1 for y in ends), any(y > a.y() + 1 for y in ends)
        self._fits = width <= run - 8 and not (rising and falling)
        middle = QPointF((a.x() + b.x()) / 2, a.y() if self._fits else (a.y() + b.y()) / 2)
        top = middle.y() + 2 if self._fits and rising else middle.y() - 16
        self.prepareGeometryChange()
        self._label_box = QRectF(middle.x() - width / 2, top, width, 14)
        # Zoomed out, the label is drawn larger in the scene (as large on screen as the least
        # readable text) while it still fits its run; this is the largest box it can take then.
        self._far_growth = min(FAR_LABEL_GROWTH, (run - 8) / width) if self._fits and self.label else 1.0
        self._far_box = self._grown(self._far_growth) if self._far_growth > 1.0 else QRectF()

    def _grown(self, growth: float) -> QRectF:
        """The label's box ``growth`` times as large, on the same side of the wire and centred
        on the same point of it."""
        box = self._label_box
        above = box.top() < self._first_run[0].y()
        width, height = box.width() * growth, box.height() * growth
        top = box.bottom() - height if above else box.top()
        return QRectF(box.center().x() - width / 2, top, width, height)

    def label_points(self, scale: float) -> float | None:
        """The size the shape label is drawn at when the view's scale is ``scale``: its own size
        while that can be read, larger zoomed out while the larger label fits its run; None
        where it is not drawn then (the pointer on the wire shows it at any zoom it can be read)."""
        if not self.label:
            return None
        if on_screen_px(LABEL_FONT_PT, scale) >= MIN_TEXT_PX:
            return LABEL_FONT_PT if self._hovered or (self._fits and self.graph_scene.labels_wire(self.edge)) else None
        growth = MIN_TEXT_PX / on_screen_px(LABEL_FONT_PT, scale)
        if growth <= self._far_growth and self.graph_scene.labels_wire(self.edge):
            return LABEL_FONT_PT * growth
        return None

    def shape(self) -> QPainterPath:
        if self._shape is None:
            # Made when first needed, not for every wire on opening (12,000 stroked outlines).
            stroker = QPainterPathStroker()
            stroker.setWidth(10)         # easy to point at: hover shows the shape, a click selects
            self._shape = stroker.createStroke(self.path())
        return self._shape

    def hoverEnterEvent(self, event) -> None:
        self._hovered = True
        self.update()

    def hoverLeaveEvent(self, event) -> None:
        self._hovered = False
        self.update()

    def boundingRect(self) -> QRectF:
        end = self._end
        arrow = QRectF(end.x() - ARROW_MAX - PORT_RADIUS, end.y() - ARROW_MAX / 2, ARROW_MAX + PORT_RADIUS, ARROW_MAX)
        return super().boundingRect().united(self._label_box).united(self._far_box).united(arrow)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        # The pen is chosen when painting (selection, training colours), not kept per change.
        theme = current_theme()
        colour = self.overlay or QColor(theme.selected if self.isSelected() or self._hovered else theme.wire)
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        width = 3.0 if self.overlay is not None else 2.0
        # never thinner than a pixel and a half on screen: zoomed out, a wire still reads as a line
        painter.setPen(QPen(colour, max(width, 1.5 / max(scale, 1e-6))))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(arrowhead(self._end, scale))
        points = self.label_points(scale)
        if points is not None:
            font = QFont(painter.font())
            font.setPointSizeF(points)
            painter.setFont(font)
            box = self._label_box if points == LABEL_FONT_PT else self._grown(points / LABEL_FONT_PT)
            if self._hovered and not self._fits:      # over other drawing: on a plate of its own
                painter.fillRect(box, QColor(theme.plate))
            painter.setPen(QColor(theme.wire_label))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.label)


ARROW_MIN, ARROW_MAX = 9.0, 30.0      # an arrowhead's length in the scene: at least, at most
ARROW_PX = 9.0                        # ... and on screen, while the scene's limits allow


def arrowhead(end: QPointF, scale: float) -> QPolygonF:
    """The head of a wire arriving at an input port at ``end``: it points right, the way every
    wire arrives, with its tip at the port's edge (at the box's edge zoomed out, where ports are
    not drawn), about ARROW_PX long on screen at any zoom."""
    length = max(ARROW_MIN, min(ARROW_MAX, ARROW_PX / max(scale, 1e-6)))
    tip = end.x() - (PORT_RADIUS if scale * PORT_RADIUS >= 2 else 0.0)
    return QPolygonF([QPointF(tip, end.y()), QPointF(tip - length, end.y() - length * 0.45),
                      QPointF(tip - length, end.y() + length * 0.45)])


def wire_path(a: QPointF, b: QPointF, via: list[QPointF] | None = None) -> QPainterPath:
    """From port to port through the bends: level runs stay straight (a routed wire crossing a
    column), and each change of height is an S-curve leaving and arriving level."""
    path = QPainterPath(a)
    points = [a, *(via or ()), b]
    routed = len(points) > 2
    for p, q in zip(points, points[1:]):
        if routed and (p.y() == q.y() or p.x() == q.x()):     # along a gap or a corridor
            path.lineTo(q)
            continue
        # a routed wire bends within its gap, not beyond it; a free one curves out of its port
        dx = abs(q.x() - p.x()) * 0.5 if routed else max(40.0, min(160.0, abs(q.x() - p.x()) * 0.5))
        path.cubicTo(QPointF(p.x() + dx, p.y()), QPointF(q.x() - dx, q.y()), q)
    return path


def _show(value) -> str:
    ref = ref_name(value)
    if ref is not None:         # inside a block: the block's parameter it takes
        return ref
    if isinstance(value, list) and any(isinstance(v, float) for v in value):     # statistics: 0.485, 0.456, 0.406
        return ", ".join(f"{v:.3g}" for v in value)
    return "x".join(map(str, value)) if isinstance(value, list) else str(value)


def defining_params(node, skip: tuple[str, ...] = ()) -> list[str]:
    """``name=value`` for the parameters that define a node, as PyTorch prints a module: its key
    ones (a convolution's channels, kernel and stride), then every other that is not its default
    (padding 3, bias False)."""
    if node.type == FUNCTION and isinstance(node.params.get("args"), list) and isinstance(node.params.get("kwargs"), dict):
        return [call_text(node.params["op"], node.params["args"], node.params["kwargs"], limit=120)]
    spec = node.spec
    key = [name for name in spec.key_params if name in node.params]
    rest = [p.name for p in spec.params if p.name in node.params and p.name not in key
            and node.params[p.name] != p.default]
    return [f"{name}={_show(node.params[name])}" for name in key + rest if name not in skip]


@cache
def _label_metrics() -> QFontMetricsF:
    """The wire labels' font metrics, made once (ten thousand wires are placed on opening)."""
    font = QFont()
    font.setPointSizeF(LABEL_FONT_PT)
    return QFontMetricsF(font)


@cache
def _text_metrics() -> QFontMetricsF:
    """The node text's (8 pt) font metrics, made once."""
    return QFontMetricsF(QFont(QFont().family(), 8))


def defining_lines(node, skip: tuple[str, ...] = ()) -> list[str]:
    """The defining parameters wrapped onto at most MAX_PARAM_LINES lines of the node's width;
    what does not fit is elided on the last line (the inspector shows it all)."""
    metrics = _text_metrics()
    lines: list[str] = []
    for part in defining_params(node, skip):
        if lines and metrics.horizontalAdvance(f"{lines[-1]}, {part}") <= TEXT_WIDTH:
            lines[-1] = f"{lines[-1]}, {part}"
        else:
            lines.append(part)
    if len(lines) > MAX_PARAM_LINES:
        lines = [*lines[:MAX_PARAM_LINES - 1], ", ".join(lines[MAX_PARAM_LINES - 1:])]
    return lines

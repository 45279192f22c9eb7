"""Helpers that drive the real widgets as a person would: mouse on the canvas, drops."""

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def view_point(window, scene_point) -> QPoint:
    return window.view.mapFromScene(scene_point)


def port_point(window, node_id, port, is_output) -> QPoint:
    return view_point(window, window.scene.nodes[node_id].ports[(port, is_output)].scenePos())


def node_point(window, node_id) -> QPoint:
    item = window.scene.nodes[node_id]
    return view_point(window, item.sceneBoundingRect().center() + QPointF(0, -10))


def drag(window, start: QPoint, end: QPoint, steps: int = 5) -> None:
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(viewport, start + (end - start) * i / steps)
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, end)


def click(window, point: QPoint) -> None:
    QTest.mouseClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, point)


def drop_from_palette(window, type_name: str, point: QPoint) -> None:
    """The palette's own drag data, delivered to the canvas as a drag-and-drop does."""
    tree = window.layer_palette.tree
    mime: QMimeData = tree.mimeData([tree.layer_item(type_name)])
    viewport = window.view.viewport()
    pos = QPointF(point)
    for event in (QDragEnterEvent(point, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier),
                  QDragMoveEvent(point, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier),
                  QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)):
        QApplication.sendEvent(viewport, event)


def type_into(field, text: str) -> None:
    """Select what a field holds, type over it and press Enter."""
    field.selectAll()
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key_Return)

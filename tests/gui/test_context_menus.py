"""Right-click menus: a node's (open a block, rename, delete), a wire's (insert a layer on it,
disconnect) and the canvas's (add a layer where the click was); a real right-click shows the
menu for what is under the pointer."""

import pytest
from PySide6.QtCore import QPointF, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QMenu

import resources
from graphs import Edge
from gui.commands import files
from tests.gui.driving import node_point


def _action(menu: QMenu, *path: str):
    for text in path[:-1]:
        menu = next(a.menu() for a in menu.actions() if a.menu() is not None and a.text() == text)
    return next(a for a in menu.actions() if a.text() == path[-1])


def test_a_wire_menu_inserts_a_layer_on_the_wire_and_disconnects_it(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    graph = window.document.graph
    wire = window.scene.edges[Edge("fc1", "relu3")]
    menu = window.view.context_menu(QPointF(), wire)
    _action(menu, "Insert Layer", "Regularization", "Dropout").trigger()
    assert [e.src for e in graph.in_edges("relu3")] == ["drop1"] and graph.in_edges("drop1")[0].src == "fc1"
    window.document.undo_stack.undo()
    menu = window.view.context_menu(QPointF(), window.scene.edges[Edge("fc1", "relu3")])
    _action(menu, "Disconnect").trigger()
    assert graph.in_edges("relu3") == []


def test_a_node_menu_renames_deletes_and_opens_blocks(window, qtbot):
    files.open_file(window.context, resources.example("resnet18.loom"))
    menu = window.view.context_menu(QPointF(), window.scene.nodes["fc"])
    assert list(window.document.selection.nodes) == ["fc"]               # the menu acts on what was clicked
    _action(menu, "Rename").trigger()
    assert window.inspector.fields["__id__"].selectedText() == "fc"          # ready to type over
    _action(menu, "Delete").trigger()
    assert "fc" not in window.document.graph.nodes
    menu = window.view.context_menu(QPointF(), window.scene.nodes["layer2"])
    assert [a.text() for a in menu.actions()][:3] == ["Open Stage", "Make Block Unique", "Ungroup Block"]
    _action(menu, "Open Stage").trigger()
    assert window.document.levels == (("Stage", "layer2"),)


def test_the_canvas_menu_adds_a_layer_where_the_click_was(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    menu = window.view.context_menu(QPointF(2000, 1500), None)
    _action(menu, "Add Layer Here", "Activation", "GELU").trigger()
    added = list(window.document.selection.nodes)[0]
    assert window.document.graph.nodes[added].type == "GELU"
    x, y = window.document.graph.positions[added]
    assert abs(x - 2000) <= 200 and abs(y - 1500) <= 200


@pytest.mark.slow
def test_a_real_right_click_shows_the_menu_of_the_node_under_the_pointer(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes["conv2"])
    shown = []

    def look():
        popup = QApplication.activePopupWidget()
        if popup is not None:
            shown.append([a.text() for a in popup.actions()])
            popup.close()
    QTimer.singleShot(200, look)
    point = node_point(window, "conv2")
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point, window.view.viewport().mapToGlobal(point))
    window.view.contextMenuEvent(event)
    assert shown and "Add Layer After" in shown[0] and "Delete" in shown[0]
    assert list(window.document.selection.nodes) == ["conv2"]

"""Building and changing a graph with the mouse and keyboard, and undoing every step."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from graphs import Edge, Graph
from graphs.layout import COLUMN_PITCH
from gui.commands import files
from gui.main_window import EXAMPLES
from tests.gui.driving import click, drag, drop_from_palette, node_point, port_point
from tests.helpers import chain


def empty(window):
    window.document.replace(Graph(name="fresh"), None)
    window.view.set_zoom(1.0)
    window.view.centerOn(300, 100)


@pytest.mark.slow
def test_drag_a_layer_from_the_palette_onto_the_canvas(window, qtbot):
    empty(window)
    target = QPoint(200, 150)
    scene_pos = window.view.mapToScene(target)
    drop_from_palette(window, "Conv2d", target)
    graph = window.document.graph
    assert list(graph.nodes) == ["conv1"] and graph.nodes["conv1"].params["out_channels"] == 16
    x, y = graph.positions["conv1"]
    assert abs(x - scene_pos.x()) <= 10 and abs(y - scene_pos.y()) <= 10 and x % 20 == 0
    assert "conv1" in window.scene.nodes
    window.commands.action("edit.undo").trigger()
    assert not graph.nodes and not window.scene.nodes
    window.commands.action("edit.redo").trigger()
    assert "conv1" in graph.nodes and "conv1" in window.scene.nodes


@pytest.mark.slow
def test_wire_two_nodes_by_dragging_from_port_to_port(window, qtbot):
    empty(window)
    graph = window.document.graph
    window.document.push(graph.add_node_edit("Input", position=(0, 0), shape=[3, 8, 8]))
    window.document.push(graph.add_node_edit("Conv2d", position=(300, 40), out_channels=4))
    drag(window, port_point(window, "input1", "out", True), port_point(window, "conv1", "in", False))
    assert graph.edges == [Edge("input1", "conv1")]
    edge_item = window.scene.edges[Edge("input1", "conv1")]
    qtbot.waitUntil(lambda: edge_item.label == "3x8x8")
    lines = window.scene.nodes["conv1"].lines()
    assert (lines[0], lines[-1]) == ("Conv2d · 112 params", "out 4x6x6")
    assert ", ".join(lines[1:-1]) == "out_channels=4, kernel_size=3, stride=1"     # in full, as it is defined
    window.commands.action("edit.undo").trigger()
    assert graph.edges == [] and not window.scene.edges
    window.commands.action("edit.redo").trigger()
    assert graph.edges == [Edge("input1", "conv1")]


@pytest.mark.slow
def test_an_illegal_wire_is_refused_with_the_reason(window, qtbot):
    window.document.replace(chain("ReLU", "Sigmoid", input_shape=[4]), None)
    window.view.fit_all()
    graph = window.document.graph
    before = list(graph.edges)
    drag(window, port_point(window, "sigmoid1", "out", True), port_point(window, "relu1", "in", False))
    assert graph.edges == before
    assert "relu1 already has an input on 'in'" in window.statusBar().currentMessage()


@pytest.mark.slow
def test_moving_a_node_by_dragging_is_one_undo_step(window, qtbot):
    open_at(window, chain("ReLU", input_shape=[4]), "relu1", click_it=False)
    start = window.document.graph.positions["relu1"]
    steps = window.document.undo_stack.count()
    point = node_point(window, "relu1")
    drag(window, point, point + QPoint(100, 60), steps=8)
    x, y = window.document.graph.positions["relu1"]
    assert (x - start[0], y - start[1]) == (100.0, 60.0)
    assert window.document.undo_stack.count() == steps + 1
    window.commands.action("edit.undo").trigger()
    assert window.document.graph.positions["relu1"] == start
    assert window.scene.nodes["relu1"].pos().x() == start[0]


def select(window, node_id):
    window.scene.clearSelection()
    click(window, node_point(window, node_id))
    assert list(window.document.selection.nodes) == [node_id]


def open_at(window, graph, node_id, click_it=True):
    """Show ``graph`` at 100 % centred on ``node_id`` and (by default) select it with a click."""
    window.document.replace(graph, None)
    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes[node_id])
    if click_it:
        select(window, node_id)


def test_errors_mark_the_node_and_clicking_the_problem_selects_it(window, qtbot):
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 9}), input_shape=(1, 8, 8))
    window.document.replace(g, None)
    assert window.scene.severity_of("conv1") == "error"
    assert "1 error(s)" in window.check_label.text()
    item = window.problems.item(0)
    qtbot.mouseClick(window.problems.viewport(), Qt.LeftButton, pos=window.problems.visualItemRect(item).center())
    assert list(window.document.selection.nodes) == ["conv1"]


def test_double_click_in_the_palette_adds_after_the_selection_and_wires_it(window, qtbot):
    open_at(window, chain("ReLU", input_shape=[4]), "relu1")
    tree = window.layer_palette.tree
    item = tree.layer_item("Linear")
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())    # a double-click's first click
    qtbot.mouseDClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    graph = window.document.graph
    # relu1 fed the output: the new layer goes between them, and the output moves over for it.
    assert Edge("relu1", "fc1") in graph.edges and Edge("fc1", "output1") in graph.edges
    assert Edge("relu1", "output1") not in graph.edges
    assert graph.positions["fc1"][0] == graph.positions["relu1"][0] + COLUMN_PITCH
    assert graph.positions["output1"][0] == graph.positions["fc1"][0] + COLUMN_PITCH
    assert window.scene.nodes["output1"].pos().x() == graph.positions["output1"][0]
    window.commands.action("edit.undo").trigger()
    assert "fc1" not in graph.nodes and Edge("relu1", "output1") in graph.edges


def test_drops_land_where_they_are_dropped_without_the_view_jumping(window, qtbot):
    empty(window)
    points = [QPoint(150, 120), QPoint(420, 120), QPoint(150, 300)]
    before = window.view.mapToScene(QPoint(0, 0))
    for point in points:
        drop_from_palette(window, "ReLU", point)
    assert window.view.mapToScene(QPoint(0, 0)) == before      # no re-centring after a drop
    for node, point in zip(("relu1", "relu2", "relu3"), points):
        x, y = window.document.graph.positions[node]
        expected = window.view.mapToScene(point)
        assert abs(x - expected.x()) <= 10 and abs(y - expected.y()) <= 10


def test_the_edit_keys_copy_paste_and_delete_what_is_selected_on_the_canvas(window, qtbot):
    window.document.replace(chain(("Linear", {"out_features": 8}), "ReLU", input_shape=[4]), None)
    graph = window.document.graph
    window.scene.nodes["fc1"].setSelected(True)              # as a rubber band selects
    window.scene.nodes["relu1"].setSelected(True)
    assert sorted(window.document.selection.nodes) == ["fc1", "relu1"]
    viewport = window.view.viewport()
    QTest.keyClick(viewport, Qt.Key_C, Qt.ControlModifier)     # the Edit menu's shortcuts
    QTest.keyClick(viewport, Qt.Key_V, Qt.ControlModifier)
    assert "fc2" in graph.nodes and "relu2" in graph.nodes and Edge("fc2", "relu2") in graph.edges
    # the pasted nodes are the selection, and the canvas shows them selected
    assert sorted(n for n, item in window.scene.nodes.items() if item.isSelected()) == ["fc2", "relu2"]
    QTest.keyClick(viewport, Qt.Key_Delete)
    assert "fc2" not in graph.nodes and "relu2" not in graph.nodes and not window.scene.selectedItems()
    window.commands.action("edit.undo").trigger()
    assert "fc2" in graph.nodes and not window.scene.nodes["fc2"].isSelected()


@pytest.mark.slow
def test_the_checks_as_you_edit_include_the_data_set_and_match_the_check_command(window, qtbot, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from graphs import save_graph
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    graph = window.document.graph
    qtbot.waitUntil(lambda: window.document.data is not None, timeout=30_000)
    assert "checks pass" in window.check_label.text()
    window.document.try_edit(lambda: graph.set_params_edit("fc3", out_features=5))
    qtbot.waitUntil(lambda: not window.document.report.ok, timeout=5_000)
    error = window.document.report.errors[0]
    assert error.message == "fc3: gives 5 outputs but digits has 10 classes" and error.fix is not None
    # The command line says the same of the same file.
    save_graph(graph, tmp_path / "five.loom")
    root = Path(__file__).resolve().parents[2]
    printed = subprocess.run([sys.executable, str(root / "main.py"), "check", str(tmp_path / "five.loom")],
                             capture_output=True, text=True, timeout=120).stdout
    assert [d.message for d in window.document.report.diagnostics] == \
        [line.split(maxsplit=1)[1].split("  [fix:")[0] for line in printed.splitlines() if line.startswith("  error")]
    # One click on its fix in the Problems list mends it.
    button = window.problems.fix_buttons()[0]
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.document.report.ok, timeout=5_000)
    assert graph.nodes["fc3"].params["out_features"] == 10


def test_escape_cancels_a_wire_being_drawn(window, qtbot):
    open_at(window, chain("ReLU", input_shape=[4]), "relu1")
    from graphs.edits import Disconnect
    graph = window.document.graph
    assert window.document.push(Disconnect(Edge("relu1", "output1")))     # an output port to wire again
    start = port_point(window, "relu1", "out", True)
    end = port_point(window, "output1", "in", False)
    viewport = window.view.viewport()
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    QTest.mouseMove(viewport, (start + end) / 2)
    assert window.gestures.wire.preview is not None
    QTest.keyClick(viewport, Qt.Key_Escape)
    QTest.mouseMove(viewport, end)
    QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, end)
    assert Edge("relu1", "output1") not in graph.edges
    assert window.statusBar().currentMessage() == "Wiring cancelled"


def test_the_help_menu_lists_the_shortcuts(window):
    shortcuts = dict(window.commands.shortcuts())
    assert shortcuts["Train"] == "F5" and shortcuts["Undo"] == "Ctrl+Z" and shortcuts["Save"] == "Ctrl+S"
    assert shortcuts["Cancel the wire being drawn"] == "Esc"
    entries = [a.text() for a in window.commands.menu("&Help").actions() if not a.isSeparator()]
    assert "&Keyboard Shortcuts" in entries and entries[-1] == "&About NetLoom"


def test_a_rubber_band_selects_in_the_document_and_the_canvas_shows_what_commands_select(window, qtbot):
    open_at(window, chain("ReLU", "Tanh", input_shape=[4]), "relu1", click_it=False)
    first, last = window.scene.nodes["relu1"].sceneBoundingRect(), window.scene.nodes["tanh1"].sceneBoundingRect()
    start = window.view.mapFromScene(first.topLeft() - QPointF(20, 40))      # empty canvas above-left of relu1
    assert window.view.itemAt(start) is None
    drag(window, start, window.view.mapFromScene(last.bottomRight() + QPointF(20, 20)))
    selection = window.document.selection
    assert sorted(selection.nodes) == ["relu1", "tanh1"] and Edge("relu1", "tanh1") in selection.wires
    assert window.inspector.node_id is None                    # two nodes: the inspector shows the graph
    click(window, node_point(window, "tanh1"))
    assert selection.nodes == ("tanh1",) and window.inspector.node_id == "tanh1"
    QTest.keyClick(window.view.viewport(), Qt.Key_A, Qt.ControlModifier)      # Select All, a command
    assert selection.nodes == ("input1", "relu1", "tanh1", "output1")
    assert all(item.isSelected() for item in window.scene.nodes.values())
    click(window, start)                                       # a click on the empty canvas clears it
    assert not selection and not window.scene.selectedItems()

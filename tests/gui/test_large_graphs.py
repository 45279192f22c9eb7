"""Large graphs in the editor: far out the whole graph is one overview that still shows every
mark; near in, nodes show their shapes as before; an edit updates only what it changed."""

import pytest
from PySide6.QtGui import QColor

from bench.generated_graphs import residual_mlp
from gui.theme import current

pytestmark = pytest.mark.slow     # graphs of thousands of nodes in the window


def red_pixels(window) -> int:
    image = window.view.viewport().grab().toImage()
    red = QColor(current().error).rgb()
    return sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
               if image.pixel(x, y) == red)


def test_far_out_a_large_graph_is_one_overview_with_its_marks(window, qtbot):
    graph = residual_mlp(2000)
    window.document.replace(graph, None)
    window.view.fit_all()
    qtbot.wait(50)
    assert window.scene.far and window.scene.overview.isVisible()
    assert not any(item.isVisible() for item in list(window.scene.nodes.values())[:50])
    assert red_pixels(window) == 0
    into_adds = [n for n in graph.nodes if n.startswith("fc") and any(graph.nodes[s].type == "Add"
                                                                      for s in graph.successors(n))]
    node = into_adds[200]
    window.document.try_edit(lambda: graph.set_params_edit(node, out_features=3))   # its block's Add no longer fits
    window.document.check_now()
    qtbot.wait(50)
    errors = window.document.report.errors
    assert errors and window.scene.severity_of(errors[0].node) == "error"
    assert red_pixels(window) > 0                       # the error shows far out too


def test_near_in_nodes_and_wires_show_their_shapes(window, qtbot):
    graph = residual_mlp(2000)
    window.document.replace(graph, None)
    window.view.set_zoom(1.0)
    assert not window.scene.far
    item = window.scene.nodes["fc10"]
    assert item.isVisible() and item.lines()[-1].startswith("out ")
    wire = next(w for e, w in window.scene.edges.items() if e.src == "fc10")
    assert wire.label == str(window.document.report.wire_tensor(wire.edge))


def test_an_edit_updates_only_the_nodes_whose_report_changed(window, qtbot, monkeypatch):
    graph = residual_mlp(600)
    window.document.replace(graph, None)
    updated = []
    from gui.canvas import items
    original = items.NodeItem.update
    monkeypatch.setattr(items.NodeItem, "update", lambda self, *a: (updated.append(self.node_id), original(self, *a)))
    node = [n for n in graph.nodes if n.startswith("fc")][10]
    window.document.try_edit(lambda: graph.set_params_edit(node, bias=False))
    window.document.check_now()
    assert set(updated) == {node}             # its parameter count changed; nothing else did


def test_the_canvas_has_room_for_a_long_graph(window):
    graph = residual_mlp(3000)
    window.document.replace(graph, None)
    last = window.scene.nodes[list(graph.nodes)[-1]]
    assert window.scene.sceneRect().contains(last.sceneBoundingRect())
    window.view.set_zoom(1.0)
    window.view.centerOn(last)
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert abs(centre.x() - last.sceneBoundingRect().center().x()) < 50

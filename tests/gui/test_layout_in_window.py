"""Auto Layout in the window: skip wires drawn around nodes (U-Net reads as a U), labels clear of
nodes, one undo step, and a long chain folded to fit the window at a readable size."""

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtTest import QTest

import resources
from graphs import topological_order
from graphs.edits import Move
from gui.canvas.items import NODE_WIDTH, on_screen_px
from gui.commands import files


def _node_rects(window):
    return {node_id: QRectF(item.pos(), QPointF(item.pos().x() + NODE_WIDTH, item.pos().y() + item._height))
            for node_id, item in window.scene.nodes.items()}


def _wires_through_nodes(window):
    """Each (wire, node) where the drawn wire passes inside a node that is not one of its ends."""
    rects = _node_rects(window)
    found = []
    for edge, wire in window.scene.edges.items():
        path = wire.path()
        points = [path.pointAtPercent(i / 400) for i in range(401)]
        for node_id, rect in rects.items():
            inner = rect.adjusted(1, 1, -1, -1)
            if node_id not in (edge.src, edge.dst) and any(inner.contains(p) for p in points):
                found.append((str(edge), node_id))
    return found


@pytest.mark.slow
def test_auto_layout_draws_unet_as_a_u_with_its_skips_around_the_nodes(window, qtbot):
    files.open_file(window.context, resources.example("unet.loom"))
    graph = window.document.graph
    # drawn as the first version drew it: one row, where the skips run behind the nodes
    window.document.push(Move({n: (i * 300.0, 0.0) for i, n in enumerate(graph.nodes)}))
    one_row = window.graph_text()
    assert _wires_through_nodes(window) != []
    QTest.keyClick(window, Qt.Key_L, Qt.ControlModifier)               # Auto Layout
    pos = graph.positions
    assert _wires_through_nodes(window) == []
    # the encoder goes down, the decoder comes back up, the flow runs left to right
    assert pos["enc1"][1] < pos["enc2"][1] < pos["bottleneck"][1] > pos["dec2"][1] > pos["dec1"][1]
    assert pos["enc1"][1] == pos["dec1"][1] and pos["enc2"][1] == pos["dec2"][1]
    xs = [pos[n][0] for n in ("input1", "enc1", "down1", "enc2", "down2", "bottleneck", "up2", "skip2", "dec2",
                              "up1", "skip1", "dec1", "head", "output1")]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # the skips run across above the path they jump over
    skip = window.scene.edges[next(e for e in window.scene.edges if e.src == "enc1" and e.dst == "skip1")]
    assert skip.path().boundingRect().top() < min(pos[n][1] for n in ("enc2", "bottleneck", "dec2"))
    # every shape label that is drawn lies clear of the nodes
    rects = _node_rects(window).values()
    for wire in window.scene.edges.values():
        if wire._fits and wire.label:
            assert not any(r.intersects(wire._label_box) for r in rects), wire.label
    # the shipped file is this layout; one undo step goes back to the row
    assert window.graph_text() == resources.example("unet.loom").read_text()
    window.document.undo_stack.undo()
    assert window.graph_text() == one_row


@pytest.mark.slow
def test_the_shipped_examples_hide_no_wire_behind_a_node(window, qtbot):
    for name in ("unet.loom", "inception_module.loom", "resnext_block.loom", "resnet18.loom", "vgg16.loom"):
        files.open_file(window.context, resources.example(name))
        assert _wires_through_nodes(window) == [], name


@pytest.mark.slow
def test_lenet_after_auto_layout_fits_the_window_with_every_parameter_readable(window, qtbot):
    window.resize(1400, 900)
    files.open_file(window.context, resources.example("lenet5.loom"))
    QTest.keyClick(window, Qt.Key_L, Qt.ControlModifier)
    view = window.view
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in window.scene.nodes.values():
        assert visible.contains(item.sceneBoundingRect()), item.node_id
    # node text (8 pt) at least 8 px high: the parameters read, not only the types
    assert on_screen_px(8, view.zoom) >= 8, view.zoom
    # folded like lines of text: each band runs left to right, the next band below it, and the
    # wire from one band to the next runs around, behind no node
    graph = window.document.graph
    order = topological_order(graph)
    places = [graph.positions[n] for n in order]
    for (x0, y0), (x1, y1) in zip(places, places[1:]):
        assert (y1 == y0 and x1 > x0) or (y1 > y0 and x1 == 0.0), (x0, y0, x1, y1)
    assert len({y for _, y in places}) > 1
    assert _wires_through_nodes(window) == []


def test_a_built_in_block_from_the_palette_brings_its_definition_in_one_undo_step(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    before = window.graph_text()
    tree = window.layer_palette.tree
    item = tree.layer_item("VGGStage")
    assert item is not None and item.font(0).italic() and "Built-in" in item.toolTip(0)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    qtbot.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
    graph = window.document.graph
    assert {"VGGStage", "ConvReLU"} <= set(graph.blocks)               # and the block it is made of
    use = list(window.document.selection.nodes)
    assert len(use) == 1 and graph.nodes[use[0]].type == "VGGStage"
    assert not tree.layer_item("VGGStage").font(0).italic()            # now the document's own
    window.document.undo_stack.undo()
    assert window.graph_text() == before

"""Blocks in the window: Group into Block and Ungroup from the keyboard, each one undo step, and
the palette's Blocks section to drag a block in from."""

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

import resources
from gui.commands import files
from tests.gui.driving import drop_from_palette, view_point


def _select(window, *node_ids):
    window.scene.clearSelection()
    for node_id in node_ids:
        window.scene.nodes[node_id].setSelected(True)


@pytest.mark.slow
def test_ctrl_g_groups_the_selection_into_a_block_and_undo_restores_it(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    before = window.graph_text()
    graph = window.document.graph
    stage = ["conv1", "relu1", "pool1"]
    _select(window, *stage)
    QTest.keyClick(window, Qt.Key_G, Qt.ControlModifier)
    graph = window.document.graph
    assert "Block1" in graph.blocks and not set(stage) & set(graph.nodes)
    use = list(window.document.selection.nodes)
    assert use == ["block1"] and graph.nodes["block1"].type == "Block1"
    qtbot.waitUntil(lambda: "block1" in window.document.report.shapes)
    assert window.document.report.ok, window.document.report.diagnostics
    assert window.document.report.shapes["block1"] == (6, 4, 4)            # the stage's output, as before
    assert window.document.report.params["block1"] == 6 * 9 + 6
    assert window.layer_palette.tree.layer_item("Block1") is not None              # ready to be used again
    window.document.undo_stack.undo()
    assert window.graph_text() == before
    assert window.layer_palette.tree.layer_item("Block1") is None


def test_ctrl_shift_g_writes_a_block_use_out_in_one_undo_step(window, qtbot):
    files.open_file(window.context, resources.example("resnet18.loom"))
    qtbot.waitUntil(lambda: window.document.report.total_params > 0)
    total = window.document.report.total_params
    _select(window, "layer1")
    QTest.keyClick(window, Qt.Key_G, Qt.ControlModifier | Qt.ShiftModifier)
    graph = window.document.graph
    assert "layer1" not in graph.nodes and {"layer1_0_conv1", "layer1_1_add"} <= set(graph.nodes)
    qtbot.waitUntil(lambda: "layer1_0_conv1" in window.document.report.params)
    assert window.document.report.ok and window.document.report.total_params == total == 11_181_642     # 10 classes
    window.document.undo_stack.undo()
    assert "layer1" in window.document.graph.nodes


def test_a_block_from_the_palette_drops_onto_the_canvas_as_a_use(window):
    files.open_file(window.context, resources.example("resnet18.loom"))
    blocks = window.layer_palette.tree.topLevelItem(0)
    assert blocks.text(0) == "Blocks"
    listed = [(blocks.child(i).text(0), blocks.child(i).font(0).italic()) for i in range(blocks.childCount())]
    own = [name for name, italic in listed if not italic]
    assert own == ["BasicBlock", "Downsample", "DownBlock", "Stage"]              # the file's own, first
    assert listed[:4] == [(name, False) for name in own]
    builtin = [name for name, italic in listed if italic]                          # then the built-in ones
    assert builtin == ["ConvReLU", "VGGStage", "Bottleneck", "BottleneckDown", "Inception", "TransformerEncoder"]
    point = view_point(window, window.scene.sceneRect().center()) + QPoint(0, 150)
    drop_from_palette(window, "BasicBlock", point)
    graph = window.document.graph
    added = [n for n in graph.nodes.values() if n.type == "BasicBlock" and n.id != "layer1"]
    assert len(added) == 1 and added[0].params == {"repeat": 1, "channels": 64}
    assert [p.name for p in added[0].spec.inputs] == ["x"]

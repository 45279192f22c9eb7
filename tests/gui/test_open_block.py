"""Opening a block in the canvas: double-click a use to see its body as that use computes it,
edit the definition (every use follows), find a problem on the layer inside that causes it,
go back up by the breadcrumb, and Make Unique to detach one use; each edit undoes in one step,
and undo shows the level it changes."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QPushButton, QToolButton

import resources
from graphs import dumps_graph, load_graph
from gui.canvas.breadcrumb import Breadcrumb
from gui.commands import blocks, files
from gui.inspector import Inspector
from tests.gui.driving import node_point, type_into


def _open_resnet(window, qtbot):
    files.open_file(window.context, resources.example("resnet18.loom"))
    qtbot.waitUntil(lambda: window.document.report.total_params > 0)


def _double_click(window, node_id):
    QTest.mouseDClick(window.view.viewport(), Qt.LeftButton, Qt.NoModifier, node_point(window, node_id))


def test_double_click_opens_a_block_with_shapes_of_that_use_and_the_breadcrumb_goes_back(window, qtbot):
    _open_resnet(window, qtbot)
    window.view.fit_all()
    _double_click(window, "layer3")
    assert window.document.levels == (("Stage", "layer3"),)
    assert sorted(window.scene.nodes) == ["0", "1", "out", "x"]
    assert window.breadcrumb.isVisible()
    assert window.breadcrumb.uses.full_text == "Edits change all 3 uses of Stage; shapes as in this use"
    # a narrow bar cuts the line's end with a sign, what editing does stays in view
    size = window.size()
    window.resize(1100, size.height())
    qtbot.waitUntil(lambda: window.breadcrumb.uses.text().endswith("…"))
    assert window.breadcrumb.uses.text().startswith("Edits change all 3 uses")
    window.resize(size)
    _double_click(window, "0")
    assert window.document.levels == (("Stage", "layer3"), ("DownBlock", "0"))
    # shapes as layer3 computes them on the example's 32x32 pictures: 128 channels at 4x4 in, 256 at 2x2 out
    assert window.document.shown_report.shapes["x"] == (128, 4, 4)
    assert window.scene.nodes["x"].lines()[1:] == ["", "out 128x4x4"]     # not the block's example shape
    assert window.scene.nodes["conv1"].lines()[-1].startswith("out 256x2x2")
    shown = ", ".join(window.scene.nodes["conv1"].lines()[1:-1])      # wrapped over lines, each whole
    assert shown == "out_channels=channels, kernel_size=3, stride=stride, padding=1, bias=False"
    assert [c.text() for c in window.breadcrumb.crumbs] == ["ResNet-18", "layer3: Stage"]
    window.breadcrumb.crumbs[0].click()
    assert window.document.levels == () and "layer3" in window.scene.nodes
    assert list(window.document.selection.nodes) == ["layer3"]        # the block just left


def test_editing_a_definition_changes_every_use_and_a_problem_is_marked_inside(window, qtbot):
    _open_resnet(window, qtbot)
    total = window.document.report.total_params
    blocks.open_block(window.context, "layer1")
    assert window.document.levels == (("BasicBlock", "layer1"),)
    window.scene.nodes["conv1"].setSelected(True)
    padding = window.inspector.fields["padding"]
    padding.setFocus()
    padding.selectAll()
    QTest.keyClicks(padding, "0")
    QTest.keyClick(padding, Qt.Key_Return)
    graph = window.document.graph
    assert graph.blocks["BasicBlock"].nodes["conv1"].params["padding"] == 0
    qtbot.waitUntil(lambda: not window.document.report.ok)
    # the model's report blames the uses; the open body marks the Add whose inputs differ
    assert any(d.node == "layer1" for d in window.document.report.errors)
    assert window.scene.severity_of("add") == "error"
    assert "64x6x6 and 64x8x8" in window.document.shown_report.for_node("add")[0].message
    assert window.problems.diagnostics[0].node == "add"
    window.document.close_to(0)
    window.document.undo_stack.undo()       # undo opens the level it changes
    assert window.document.levels == (("BasicBlock", "layer1"),)
    assert graph.blocks["BasicBlock"].nodes["conv1"].params["padding"] == 1
    qtbot.waitUntil(lambda: window.document.report.ok)
    assert window.document.report.total_params == total


def test_make_unique_detaches_the_opened_use_and_undo_gives_it_back(on_graph, qtbot):
    ctx = on_graph(load_graph(resources.example("resnet18.loom")))
    breadcrumb = Breadcrumb(ctx.document)
    qtbot.addWidget(breadcrumb)
    breadcrumb.show()
    before = dumps_graph(ctx.document.graph)
    blocks.open_block(ctx, "layer4")
    assert breadcrumb.unique.isVisible()
    breadcrumb.unique.click()
    graph = ctx.document.graph
    assert graph.nodes["layer4"].type == "Stage2" and graph.nodes["layer3"].type == "Stage"
    assert ctx.document.levels == (("Stage2", "layer4"),)       # still open, now on the copy
    assert breadcrumb.uses.full_text.startswith("Edits change Stage2, used only here")
    assert not breadcrumb.unique.isVisible()
    blocks.open_block(ctx, "1")
    assert ctx.document.levels[-1] == ("BasicBlock", "1")       # blocks inside stay shared
    breadcrumb.crumbs[0].click()
    assert ctx.document.levels == () and ctx.selection.nodes == ("layer4",)
    ctx.document.undo_stack.undo()
    assert ctx.document.levels == ()
    assert dumps_graph(graph) == before
    ctx.document.undo_stack.redo()
    assert graph.nodes["layer4"].type == "Stage2"


def test_alt_keys_open_and_close_the_selected_block_and_inner_params_show_what_the_use_gives(window, qtbot):
    _open_resnet(window, qtbot)
    window.scene.nodes["layer2"].setSelected(True)
    QTest.keyClick(window, Qt.Key_Down, Qt.AltModifier)
    assert window.document.levels == (("Stage", "layer2"),)
    window.scene.nodes["0"].setSelected(True)
    QTest.keyClick(window, Qt.Key_Down, Qt.AltModifier)
    window.scene.nodes["conv1"].setSelected(True)
    field = window.inspector.fields["out_channels"]
    assert field.findChild(QLabel).text() == "<b>channels</b> = 128"      # the value the opened use gives
    field.findChild(QPushButton).click()        # "Own value": the layer keeps 128, for every use
    conv1 = window.document.graph.blocks["DownBlock"].nodes["conv1"]
    assert conv1.params["out_channels"] == 128
    assert window.inspector.fields["out_channels"].value() == 128
    window.document.undo_stack.undo()
    assert conv1.params["out_channels"] == {"param": "channels"}
    QTest.keyClick(window, Qt.Key_Up, Qt.AltModifier)
    QTest.keyClick(window, Qt.Key_Up, Qt.AltModifier)
    assert window.document.levels == ()
    assert not window.breadcrumb.isVisible()


def test_a_value_inside_a_block_becomes_a_block_parameter_each_use_sets(on_graph, qtbot):
    ctx = on_graph(load_graph(resources.example("resnet18.loom")))
    inspector = Inspector(ctx.document)
    qtbot.addWidget(inspector)
    inspector.show()
    graph = ctx.document.graph
    before = dumps_graph(graph)
    blocks.open_block(ctx, "layer1")
    ctx.selection.set(["conv1"])
    button = inspector.findChild(QToolButton, "link_kernel_size")
    actions = [a.text() for a in button.menu().actions()]
    assert actions == ["New block parameter 'kernel_size'", "Take block parameter 'channels'"]
    button.menu().actions()[0].trigger()
    assert graph.blocks["BasicBlock"].parameters == {"channels": 64, "kernel_size": 3}
    assert graph.blocks["BasicBlock"].nodes["conv1"].params["kernel_size"] == {"param": "kernel_size"}
    assert inspector.fields["kernel_size"].findChild(QLabel).text() == "<b>kernel_size</b> = 3"
    blocks.close_block(ctx)
    assert ctx.selection.nodes == ("layer1",) and inspector.node_id == "layer1"     # the block just left
    field = inspector.fields["kernel_size"]              # every use now has its own value
    type_into(field, "5")
    assert graph.nodes["layer1"].params["kernel_size"] == 5
    qtbot.waitUntil(lambda: not ctx.document.report.ok)      # 5x5 with padding 1 shrinks the map
    assert graph.nodes["layer2"].type == "Stage" and graph.blocks["Stage"].nodes["1"].params["kernel_size"] == 3
    ctx.document.undo_stack.undo()
    ctx.document.undo_stack.undo()
    assert ctx.document.levels == (("BasicBlock", "layer1"),)     # the declaration was made there
    assert dumps_graph(graph) == before

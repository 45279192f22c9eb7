"""General operations in the editor: found in the palette by searching, placed after a layer,
their call edited in the inspector and read on the node."""

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QLineEdit

from gui.canvas.scene import GraphScene
from gui.inspector import Inspector
from gui.palette import OPERATIONS_GROUP
from tests.helpers import chain


def test_search_the_palette_for_an_operation_and_place_it_after_the_selection(window, qtbot):
    window.document.replace(chain("Linear", input_shape=(6, 8)), None)
    operations = next(window.layer_palette.tree.topLevelItem(i) for i in range(window.layer_palette.tree.topLevelItemCount())
                      if window.layer_palette.tree.topLevelItem(i).text(0) == OPERATIONS_GROUP)
    assert not operations.isExpanded()                     # 112 entries stay folded until searched
    QTest.keyClicks(window.layer_palette.search, "attention")
    shown = [operations.child(i).text(0) for i in range(operations.childCount()) if not operations.child(i).isHidden()]
    assert shown == ["scaled_dot_product_attention()"] and operations.isExpanded()
    window.layer_palette.search.clear()
    QTest.keyClicks(window.layer_palette.search, "softmax")
    window.document.selection.set(["fc1"])
    item = window.layer_palette.tree.layer_item("Function:softmax")
    assert not item.isHidden()
    window.layer_palette.tree.scrollToItem(item)
    rect = window.layer_palette.tree.visualItemRect(item)
    qtbot.mouseClick(window.layer_palette.tree.viewport(), Qt.LeftButton, pos=rect.center())   # a double-click's first click
    qtbot.mouseDClick(window.layer_palette.tree.viewport(), Qt.LeftButton, pos=rect.center())
    graph = window.document.graph
    added = next(n for n in graph.nodes.values() if n.type == "Function")
    assert added.params["op"] == "softmax" and added.params["args"] == [{"tensor": 0}, -1]
    assert [e.src for e in graph.in_edges(added.id)] == ["fc1"]           # put into the chain after fc1
    window.document.check_now()
    assert window.document.report.ok
    assert "softmax(x0, -1)" in window.scene.nodes[added.id].lines()


def test_edit_a_call_in_the_inspector_and_see_its_shape_and_label_follow(on_graph, qtbot):
    ctx = on_graph(chain(("Function", {"op": "transpose", "args": [{"tensor": 0}, 1, 2]}), input_shape=(6, 8)))
    inspector = Inspector(ctx.document)
    qtbot.addWidget(inspector)
    inspector.show()
    scene = GraphScene(ctx.document, inspector)
    node = next(n for n in ctx.document.graph.nodes if n.startswith("function"))
    ctx.selection.set([node])
    assert ctx.document.report.shapes[node] == (8, 6)
    args = inspector.findChild(QLineEdit, "args")
    assert args.text() == "x0, 1, 2"
    args.selectAll()
    QTest.keyClicks(args, "x0, batch, 2, 24")
    QTest.keyClick(args, Qt.Key_Return)
    op = inspector.findChild(QComboBox, "op")
    op.setCurrentText("reshape")
    op.activated.emit(op.currentIndex())
    params = ctx.document.graph.nodes[node].params
    assert params["op"] == "reshape" and params["args"] == [{"tensor": 0}, {"batch": 1}, 2, 24]
    ctx.document.check_now()
    assert ctx.document.report.shapes[node] == (2, 24)
    assert "reshape(x0, batch, 2, 24)" in scene.nodes[node].lines()
    # arguments that are not plain data are refused in words, and nothing changes
    args = inspector.findChild(QLineEdit, "args")
    args.selectAll()
    QTest.keyClicks(args, "__import__('os').system('true')")
    QTest.keyClick(args, Qt.Key_Return)
    assert ctx.document.graph.nodes[node].params["args"] == [{"tensor": 0}, {"batch": 1}, 2, 24]
    assert "takes only numbers" in ctx.window.said[-1]
    ctx.document.undo_stack.undo()
    ctx.document.undo_stack.undo()
    assert ctx.document.graph.nodes[node].params["op"] == "transpose"

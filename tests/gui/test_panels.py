"""The panels beside the canvas, each a real widget on a document without a window: the inspector
edits the selected node (typed values checked against the layer spec, one undo step each), the
problems list fixes with one click, the palette finds layers by name and description."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QSpinBox

from graphs import Edge
from graphs.editing import delete_edit
from gui.canvas.scene import GraphScene
from gui.commands import blocks
from gui.inspector import Inspector
from gui.palette import Palette
from gui.problems import ProblemsPanel
from tests.gui.driving import type_into
from tests.helpers import chain


def inspecting(on_graph, qtbot, graph, node_id):
    """A document showing ``graph`` with ``node_id`` selected, its inspector and a canvas scene."""
    ctx = on_graph(graph)
    inspector = Inspector(ctx.document)
    qtbot.addWidget(inspector)
    inspector.show()
    scene = GraphScene(ctx.document, inspector)
    ctx.selection.set([node_id])
    return ctx, inspector, scene


def test_edit_a_parameter_in_the_inspector(on_graph, qtbot):
    ctx, inspector, _ = inspecting(on_graph, qtbot, chain(("Conv2d", {"out_channels": 4}), "Flatten",
                                                          input_shape=(1, 8, 8)), "conv1")
    field = inspector.findChild(QSpinBox, "out_channels")
    assert field.value() == 4 and field.maximum() == 65536 and field.minimum() == 1
    type_into(field, "12")
    graph = ctx.document.graph
    assert graph.nodes["conv1"].params["out_channels"] == 12
    qtbot.waitUntil(lambda: ctx.document.report.shapes.get("flatten1") == (432,))
    type_into(field, "0")          # below the minimum: the field does not take it
    assert graph.nodes["conv1"].params["out_channels"] == 12
    ctx.document.undo_stack.undo()
    assert graph.nodes["conv1"].params["out_channels"] == 4 and field.value() == 4
    ctx.document.undo_stack.redo()
    assert graph.nodes["conv1"].params["out_channels"] == 12


def test_padding_takes_same_typed_in_the_inspector(on_graph, qtbot):
    ctx, inspector, _ = inspecting(on_graph, qtbot, chain(("Conv2d", {"out_channels": 4, "kernel_size": 5}),
                                                          input_shape=(1, 8, 8)), "conv1")
    padding = inspector.findChild(QLineEdit, "padding")
    assert "same" in padding.placeholderText()
    type_into(padding, "same")
    assert ctx.document.graph.nodes["conv1"].params["padding"] == "same"
    qtbot.waitUntil(lambda: ctx.document.report.shapes.get("conv1") == (4, 8, 8))
    type_into(padding, "full")
    assert ctx.document.graph.nodes["conv1"].params["padding"] == "same"
    assert "must be integers or 'same'" in ctx.window.said[-1]


def test_text_fields_refuse_values_the_spec_does_not_allow(on_graph, qtbot):
    ctx, inspector, _ = inspecting(on_graph, qtbot, chain(("Conv2d", {"out_channels": 4}), input_shape=(1, 8, 8)),
                                   "conv1")
    kernel = inspector.findChild(QLineEdit, "kernel_size")
    type_into(kernel, "3x5")
    assert ctx.document.graph.nodes["conv1"].params["kernel_size"] == [3, 5]
    type_into(kernel, "3x5x7")
    assert ctx.document.graph.nodes["conv1"].params["kernel_size"] == [3, 5]
    assert "must be one integer or a list of 2" in ctx.window.said[-1]
    # said on the field itself: the text stays, marked, with the reason under it
    assert kernel.text() == "3x5x7" and "must be one integer or a list of 2" in inspector.refusal("kernel_size")
    type_into(kernel, "abc")          # no keystroke is swallowed in silence
    said = inspector.refusal("kernel_size")
    assert kernel.text() == "abc" and "'abc' is not a value: type whole numbers such as 3 or 3x5" in said
    assert ctx.document.graph.nodes["conv1"].params["kernel_size"] == [3, 5]
    type_into(kernel, "5")            # corrected: taken, and the field says nothing more
    assert ctx.document.graph.nodes["conv1"].params["kernel_size"] == 5 and inspector.refusal("kernel_size") == ""


def test_number_boxes_say_what_they_refuse(on_graph, qtbot):
    from PySide6.QtWidgets import QSpinBox
    ctx, inspector, _ = inspecting(on_graph, qtbot, chain(("Conv2d", {"out_channels": 4}), input_shape=(1, 8, 8)),
                                   "conv1")
    channels = inspector.findChild(QSpinBox, "out_channels")
    channels.setFocus()
    qtbot.keyClicks(channels, "x")                  # Qt's own validator drops the letter: the field says why
    assert inspector.refusal("out_channels") == \
        f"'x' is not a digit: this takes a whole number from 1 to {channels.maximum():,}"
    assert ctx.document.graph.nodes["conv1"].params["out_channels"] == 4
    channels.lineEdit().selectAll()
    qtbot.keyClicks(channels, "8")
    qtbot.keyClick(channels, Qt.Key_Return)
    assert ctx.document.graph.nodes["conv1"].params["out_channels"] == 8 and inspector.refusal("out_channels") == ""


def test_the_inspector_labels_settings_in_words_with_the_torch_name_in_the_tooltip(on_graph, qtbot):
    from PySide6.QtWidgets import QFormLayout, QLabel
    _, inspector, _ = inspecting(on_graph, qtbot, chain(("Conv2d", {"out_channels": 4}), input_shape=(1, 8, 8)), "conv1")
    labels = {}
    for row in range(inspector.form.rowCount()):
        item = inspector.form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        if item is not None and isinstance(item.widget(), QLabel):
            labels[item.widget().text()] = item.widget().toolTip()
    assert "Output channels" in labels and "<code>out_channels</code>" in labels["Output channels"]
    assert "Kernel size" in labels and "<code>kernel_size</code>" in labels["Kernel size"]
    assert not any("_" in text for text in labels)


def test_rename_in_the_inspector_keeps_the_node_selected_and_shown(on_graph, qtbot):
    ctx, inspector, scene = inspecting(on_graph, qtbot, chain("ReLU", input_shape=[4]), "relu1")
    type_into(inspector.findChild(QLineEdit, "name"), "activation")
    graph = ctx.document.graph
    assert "activation" in graph.nodes and Edge("input1", "activation") in graph.edges
    assert "activation" in scene.nodes and scene.nodes["activation"].isSelected()
    assert ctx.selection.nodes == ("activation",) and inspector.node_id == "activation"
    type_into(inspector.findChild(QLineEdit, "name"), "input1")          # taken: refused, in words
    assert "a node named 'input1' already exists" in ctx.window.said[-1] and "activation" in graph.nodes
    ctx.document.undo_stack.undo()
    assert "relu1" in graph.nodes and "relu1" in scene.nodes and inspector.node_id == "relu1"


def test_the_inspector_follows_the_selection(on_graph, qtbot):
    ctx, inspector, _ = inspecting(on_graph, qtbot, chain("ReLU", "Tanh", input_shape=[4]), "relu1")
    assert inspector.fields["__id__"].text() == "relu1"
    ctx.selection.set(["relu1", "tanh1"])                  # several: the graph's summary
    assert inspector.node_id is None and "2 layers" in inspector.shapes.text()
    ctx.selection.set(["tanh1"])
    assert inspector.node_id == "tanh1" and inspector.fields["__id__"].text() == "tanh1"
    ctx.document.try_edit(lambda: delete_edit(ctx.document.graph, ["tanh1"], []))
    assert inspector.node_id is None and not ctx.selection


def test_one_click_fix_from_the_problems_list(on_graph, qtbot):
    ctx = on_graph(chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), ("Linear", {"out_features": 10}),
                         input_shape=(1, 8, 8)))
    problems = ProblemsPanel(ctx.document, ctx.window)
    qtbot.addWidget(problems)
    problems.show()
    scene = GraphScene(ctx.document, problems)
    buttons = problems.fix_buttons()
    assert [b.text() for b in buttons] == ["Insert Flatten before fc1"]
    assert scene.severity_of("fc1") == "warning"
    qtbot.mouseClick(buttons[0], Qt.LeftButton)
    graph = ctx.document.graph
    assert graph.in_edges("fc1")[0].src == "flatten1"
    qtbot.waitUntil(lambda: ctx.document.report.shapes.get("fc1") == (10,))
    assert problems.item(0).text() == "No problems."
    assert scene.severity_of("fc1") is None
    ctx.document.undo_stack.undo()
    assert "flatten1" not in graph.nodes and graph.in_edges("fc1")[0].src == "conv1"


def test_palette_search_filters_by_name_and_description(on_graph, qtbot):
    ctx = on_graph(chain("ReLU", input_shape=[4]))
    palette = Palette(ctx.document, blocks.builtin_blocks()[0])
    qtbot.addWidget(palette)
    qtbot.keyClicks(palette.search, "pool")
    # the built-in blocks whose descriptions speak of pooling, then the pooling layers, then the
    # pooling operations a Function node can call
    assert palette.visible_types() == ["VGGStage", "Inception", "MaxPool1d", "MaxPool2d", "AvgPool2d",
                                       "AdaptiveAvgPool2d", "MaxPool3d", "AvgPool3d", "AdaptiveAvgPool1d",
                                       "AdaptiveAvgPool3d", "adaptive_avg_pool1d()", "adaptive_avg_pool2d()",
                                       "adaptive_max_pool2d()", "avg_pool1d()", "avg_pool2d()", "max_pool1d()",
                                       "max_pool2d()", "avg_pool3d()", "max_pool3d()", "adaptive_avg_pool3d()"]
    palette.search.clear()
    qtbot.keyClicks(palette.search, "skip connections")
    assert palette.visible_types() == ["Add"]

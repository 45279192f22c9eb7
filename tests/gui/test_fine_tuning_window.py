"""Fine-tuning in the window, driven as a person would: freezing from the node menu (the canvas
hatches and locks what is frozen, the status bar and the inspector count trainable and frozen
parameters), learning-rate factors, Adapt to Data Set, and the start weights checked against the
graph with their fixes one click away in the Problems list and on the node."""

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from safetensors.torch import save_file

import resources
from engine import compile_graph
from graphs import save_graph
from graphs.editing import freeze_up_to_edit
from gui.canvas.items import HEADER, NODE_WIDTH
from gui.commands import files, learning
from gui.theme import current as current_theme
from tests.gui.driving import type_into
from tests.helpers import lenet


def _action(menu, text):
    found = [a for a in menu.actions() if a.text() == text]
    assert found, f"{text!r} not in {[a.text() for a in menu.actions()]}"
    return found[0]


def node_image(window, node_id) -> QImage:
    """The node as the canvas draws it at zoom 1."""
    item = window.scene.nodes[node_id]
    source = item.mapRectToScene(QRectF(0, 0, NODE_WIDTH, item.height))
    image = QImage(int(source.width()), int(source.height()), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    window.scene.render(painter, QRectF(0, 0, image.width(), image.height()), source)
    painter.end()
    return image


def body_share(image: QImage, colour: str) -> float:
    """The share of the node's body (below its header) painted in ``colour``."""
    wanted = QColor(colour).rgb()
    points = [(x, y) for x in range(4, image.width() - 4) for y in range(int(HEADER) + 4, image.height() - 4)]
    return sum(image.pixel(x, y) == wanted for x, y in points) / len(points)


def lock_pixels(image: QImage) -> int:
    """Header-text pixels at the right end of the header, where the lock goes."""
    wanted = QColor(current_theme().header_text).rgb()
    return sum(image.pixel(x, y) == wanted for x in range(image.width() - 40, image.width() - 4)
               for y in range(2, int(HEADER) - 2))


def test_freezing_a_block_from_its_menu_hatches_it_and_counts_its_parameters_frozen(window, qtbot):
    files.open_file(window.context, resources.example("resnet18.loom"))
    document, theme = window.document, current_theme()
    before = node_image(window, "layer4")
    assert body_share(before, theme.node_body) > 0.6 and lock_pixels(before) == 0
    menu = window.view.context_menu(QPointF(), window.scene.nodes["layer4"])
    _action(menu, "Freeze").trigger()
    assert document.graph.nodes["layer4"].frozen
    after = node_image(window, "layer4")
    assert body_share(after, theme.node_body) < body_share(before, theme.node_body) - 0.08      # hatched
    assert lock_pixels(after) > 15                                                                 # and locked
    assert "Frozen: its weights stay as they start" in window.scene.nodes["layer4"].toolTip()
    qtbot.waitUntil(lambda: document.report.frozen_params > 0)
    report = document.report
    assert report.frozen_params == report.params["layer4"] > 8_000_000          # the whole block use
    assert f"({report.trainable_params:,} trainable, {report.frozen_params:,} frozen)" in window.totals_label.text()
    window.scene.clearSelection()
    document.selection.set([])
    assert f"{report.trainable_params:,} trainable and {report.frozen_params:,} frozen" in window.inspector.shapes.text()
    window.commands.action("edit.undo").trigger()
    assert not document.graph.nodes["layer4"].frozen
    qtbot.waitUntil(lambda: "frozen" not in window.totals_label.text())
    assert body_share(node_image(window, "layer4"), theme.node_body) > 0.6


def test_freeze_up_to_here_from_the_node_menu_is_one_undo_step(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    graph = window.document.graph
    menu = window.view.context_menu(QPointF(), window.scene.nodes["pool2"])
    _action(menu, "Freeze Up to Here").trigger()
    assert [n.id for n in graph.nodes.values() if n.frozen] == ["norm", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]
    assert window.document.undo_stack.undoText() == "Freeze up to pool2"
    qtbot.waitUntil(lambda: "940 frozen" in window.totals_label.text())
    # the menu of a frozen node offers Unfreeze, not Freeze; the Train menu has them all
    texts = [a.text() for a in window.view.context_menu(QPointF(), window.scene.nodes["conv1"]).actions()]
    assert "Unfreeze" in texts and "Freeze" not in texts
    assert window.commands.action("learn.unfreeze_all").isEnabled()
    window.commands.action("learn.unfreeze_all").trigger()
    assert not any(n.frozen for n in graph.nodes.values())
    window.document.undo_stack.undo()
    window.document.undo_stack.undo()
    assert not any(n.frozen for n in graph.nodes.values())


def test_an_opened_frozen_block_shows_its_layers_frozen_and_offers_no_freezing(window, qtbot):
    files.open_file(window.context, resources.example("resnet18.loom"))
    window.document.push(freeze_up_to_edit(window.document.graph, "layer2"))
    window.document.open_block("layer2")
    inner = next(n for n in window.document.shown.nodes.values() if n.type not in ("Input", "Output"))
    assert window.scene.learning(inner.id) == (0.0, False)
    menu = window.view.context_menu(QPointF(), window.scene.nodes[inner.id])
    assert not {"Freeze", "Unfreeze", "Freeze Up to Here"} & {a.text() for a in menu.actions()}
    assert window.document.selection.node == inner.id and window.inspector.learning is None   # learns as its use


def test_learning_rate_factor_and_fresh_start_in_the_inspector(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    document = window.document
    document.selection.set(["fc2"])
    field = window.inspector.learning
    assert field is not None and field.factor.value() == 1.0
    type_into(field.factor, "0.1")
    assert document.graph.nodes["fc2"].lr_factor == 0.1
    assert document.undo_stack.undoText() == "Learning rate of fc2 x0.1"
    assert "Learns at 0.1 times the run's learning rate." in window.inspector.shapes.text()
    qtbot.waitUntil(field.fresh.isVisible)                   # laid out in the inspector
    qtbot.mouseClick(field.fresh, Qt.LeftButton, pos=field.fresh.rect().center())
    assert document.graph.nodes["fc2"].fresh
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert window.inspector.learning.factor.value() == 1.0 and not window.inspector.learning.fresh.isChecked()
    type_into(window.inspector.learning.factor, "0")
    assert document.graph.nodes["fc2"].frozen and window.inspector.learning.factor.text() == "frozen"


def test_learning_commands_ask_for_a_factor_and_refuse_what_cannot_be_one(on_graph):
    ctx = on_graph(lenet())
    ctx.selection.set(["fc1", "fc2", "output1"])
    ctx.window.text_answer = "0,5"
    assert learning.set_learning_rate(ctx)
    assert [ctx.document.graph.nodes[n].lr_factor for n in ("fc1", "fc2", "output1")] == [0.5, 0.5, 1.0]
    for typed, said in (("fast", "must be a number, not 'fast'"), ("500", "between 0 (frozen) and 100")):
        ctx.window.text_answer = typed
        assert not learning.set_learning_rate(ctx)
        assert said in ctx.window.said[-1]
    assert learning.start_fresh(ctx) and ctx.document.graph.nodes["fc1"].fresh
    assert learning.start_fresh(ctx) and not ctx.document.graph.nodes["fc1"].fresh      # all fresh: back in
    ctx.selection.set(["input1"])
    assert not learning.freeze_up_to(ctx)                                                  # an Input learns nothing
    assert "input1 is an Input" in ctx.window.said[-1]


def test_adapt_to_data_set_needs_the_data_sets_classes(on_graph, qtbot):
    graph = lenet()
    graph.training = graph.training | {"dataset": "digits", "dataset_options": {"class_subset": [5, 6, 7]}}
    ctx = on_graph(graph)
    ctx.document.data = None
    assert not learning.adapt_to_data_set(ctx)
    assert "still being read" in ctx.window.said[-1]
    qtbot.waitUntil(lambda: ctx.document.data is not None, timeout=30_000)
    assert learning.adapt_to_data_set(ctx)
    fc3 = ctx.document.graph.nodes["fc3"]
    assert fc3.params["out_features"] == 3 and fc3.fresh
    assert ctx.document.undo_stack.undoText() == "Adapt fc3 to the data set (3 outputs)"


# ---------------------------------------------------------------------- start weights
def lenet_weights(path, head: int = 10):
    """LeNet's weights as a safetensors file, its head of ``head`` outputs."""
    graph = lenet()
    graph.apply(graph.set_params_edit("fc3", out_features=head))
    save_file({k: v.contiguous() for k, v in compile_graph(graph).state_dict().items()}, str(path))
    return path


def open_saved(window, tmp_path, graph):
    save_graph(graph, tmp_path / "graph.loom")
    assert files.open_file(window.context, tmp_path / "graph.loom")


def test_a_new_data_set_offers_adapt_to_data_set_as_a_fix_in_problems(window, qtbot, tmp_path):
    from engine.interop import start_entry
    weights = lenet_weights(tmp_path / "digits.safetensors")
    graph = lenet()
    graph.training = graph.training | {"dataset": "digits", "dataset_options": {"class_subset": [5, 6, 7, 8, 9]},
                                       "start_from": start_entry(weights, tmp_path / "graph.loom")}
    open_saved(window, tmp_path, graph)
    qtbot.waitUntil(lambda: any(b.text().startswith("Adapt fc3") for b in window.problems.fix_buttons()),
                    timeout=30_000)
    button = next(b for b in window.problems.fix_buttons() if b.text().startswith("Adapt fc3"))
    assert button.text() == "Adapt fc3 to the data set (5 outputs, fresh weights)"
    qtbot.mouseClick(button, Qt.LeftButton)
    fc3 = window.document.graph.nodes["fc3"]
    assert fc3.params["out_features"] == 5 and fc3.fresh
    qtbot.waitUntil(lambda: window.document.report.ok and not window.document.report.warnings, timeout=30_000)
    assert "fresh" in window.scene.nodes["fc3"].toolTip().lower()
    window.document.undo_stack.undo()                        # one step: size and fresh start together
    assert window.document.graph.nodes["fc3"].params["out_features"] == 10 and not window.document.graph.nodes["fc3"].fresh


def test_a_start_tensor_of_the_wrong_shape_is_marked_on_its_node_with_start_fresh_on_its_menu(window, qtbot, tmp_path):
    from engine.interop import start_entry
    weights = lenet_weights(tmp_path / "w.safetensors", head=5)
    graph = lenet()
    graph.training = graph.training | {"start_from": start_entry(weights, tmp_path / "graph.loom")}
    open_saved(window, tmp_path, graph)
    qtbot.waitUntil(lambda: window.scene.severity_of("fc3") == "warning", timeout=30_000)
    (warning,) = window.document.report.for_node("fc3")
    assert "fc3.weight as 5x84 where it is 10x84" in warning.message
    assert ("Starts from w.safetensors: 8 of the file's 12 tensors loaded, 2 input statistics set by the normalize "
            "setting instead, 2 of the wrong shape") in \
        window.statusBar().currentMessage()
    menu = window.view.context_menu(QPointF(), window.scene.nodes["fc3"])
    assert [a.text() for a in menu.actions()][0] == "Start fc3 from fresh weights"
    menu.actions()[0].trigger()
    assert window.document.graph.nodes["fc3"].fresh
    qtbot.waitUntil(lambda: window.scene.severity_of("fc3") is None, timeout=30_000)


def test_a_changed_start_file_is_an_error_fixed_by_using_it_as_it_is_now(window, qtbot, tmp_path):
    from engine.interop import start_entry
    weights = lenet_weights(tmp_path / "w.safetensors")
    graph = lenet()
    graph.training = graph.training | {"start_from": start_entry(weights, tmp_path / "graph.loom")}
    lenet_weights(weights)                                    # trained on since: other values
    open_saved(window, tmp_path, graph)
    qtbot.waitUntil(lambda: bool(window.document.report.errors), timeout=30_000)
    (error,) = window.document.report.errors
    assert "its contents changed since" in error.message and error.node is None
    button = next(b for b in window.problems.fix_buttons() if b.text() == "Use w.safetensors as it is now")
    qtbot.mouseClick(button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.document.report.ok, timeout=30_000)
    assert window.document.graph.training["start_from"]["path"] == "w.safetensors"
    (tmp_path / "w.safetensors").unlink()
    window.document.check_now()
    qtbot.waitUntil(lambda: bool(window.document.report.errors), timeout=30_000)
    assert "does not exist" in window.document.report.errors[0].message


def test_save_as_names_the_start_weights_from_the_new_place(window, tmp_path):
    from engine.interop import start_entry
    (tmp_path / "weights").mkdir()
    weights = lenet_weights(tmp_path / "weights" / "w.safetensors")
    graph = lenet()
    graph.training = graph.training | {"start_from": start_entry(weights, None)}      # untitled: the full path
    files.open_example(window.context, resources.example("lenet_digits.loom"))
    window.document.replace(graph, None)
    (tmp_path / "models").mkdir()
    window.port.choose_save_path = lambda *args: str(tmp_path / "models" / "lenet.loom")
    assert files.save_as(window.context)
    assert window.document.graph.training["start_from"]["path"] == "../weights/w.safetensors"
    assert not window.document.modified

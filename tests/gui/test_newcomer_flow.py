"""A newcomer's first model, driven through the real widgets and counted: from File > New to a
LeNet-5 that checks clean, with no README. Each click, double-click, drag or field typed into
(focus, type, Enter) is one action."""

from PySide6.QtCore import QRectF, Qt, QUrl
from PySide6.QtTest import QTest

from gui.palette import COMMON_GROUP
from tests.gui.driving import type_into

LENET_PARAMETERS = 156 + 2_416 + 30_840 + 10_164 + 850      # 1x28x28 in: 16x4x4 = 256 features into 120


class Person:
    """Drives the window and counts what they do."""

    def __init__(self, window, qtbot) -> None:
        self.window, self.qtbot, self.actions = window, qtbot, 0

    def click_toolbar(self, command_id: str) -> None:
        toolbar = self.window.commands.toolbar
        button = toolbar.widgetForAction(self.window.commands.action(command_id))
        QTest.mouseClick(button, Qt.LeftButton)
        self.actions += 1

    def double_click_layer(self, type_name: str) -> None:
        """In the palette as it opens: no search, no scrolling (the common layers come first)."""
        tree = self.window.layer_palette.tree
        item = next(tree.common.child(i) for i in range(tree.common.childCount()) if tree.common.child(i).text(0) == type_name)
        rect = tree.visualItemRect(item)
        assert tree.viewport().rect().contains(rect), f"{type_name} is below the fold"
        QTest.mouseClick(tree.viewport(), Qt.LeftButton, pos=rect.center())       # a double-click's first click
        QTest.mouseDClick(tree.viewport(), Qt.LeftButton, pos=rect.center())
        self.actions += 1

    def type_into(self, field_name: str, text: str) -> None:
        field = self.window.inspector.fields[field_name]
        self.qtbot.waitUntil(field.isVisible, timeout=2000)        # the inspector shows it
        QTest.mouseClick(field, Qt.LeftButton)
        type_into(field, text)
        self.actions += 1

    def click_fix(self, label: str) -> None:
        self.qtbot.waitUntil(lambda: any(b.text() == label for b in self.window.problems.fix_buttons()), timeout=5000)
        button = next(b for b in self.window.problems.fix_buttons() if b.text() == label)
        QTest.mouseClick(button, Qt.LeftButton)
        self.actions += 1


def test_a_newcomer_builds_lenet5_in_at_most_twenty_actions(window, qtbot):
    person = Person(window, qtbot)
    window.docks["Layers"].raise_()
    person.click_toolbar("file.new")
    graph = window.document.graph
    assert [n.type for n in graph.nodes.values()] == ["Input", "Output"]   # a start that checks clean
    assert window.document.selection.node == "input1"
    window.document.check_now()
    assert window.problems.item(0).text() == "No problems."
    person.type_into("shape", "1x28x28")
    for layer, settings in (("Conv2d", {"out_channels": "6", "kernel_size": "5"}), ("ReLU", {}), ("MaxPool2d", {}),
                            ("Conv2d", {"kernel_size": "5"}), ("ReLU", {}), ("MaxPool2d", {}),
                            ("Linear", {"out_features": "120"})):
        person.double_click_layer(layer)
        for name, value in settings.items():
            person.type_into(name, value)
    # A Linear after a map: the check offers Flatten, and the fix puts it into the flow.
    person.click_fix("Insert Flatten before fc1")
    assert window.document.selection.node == "fc1"        # the next layer still goes after fc1
    for layer, settings in (("ReLU", {}), ("Linear", {"out_features": "84"}), ("ReLU", {}), ("Linear", {})):
        person.double_click_layer(layer)
        for name, value in settings.items():
            person.type_into(name, value)

    window.document.check_now()
    report = window.document.report
    assert not report.errors and not report.warnings, [d.message for d in report.diagnostics]
    chain, node = [], "input1"
    while True:
        chain.append(graph.nodes[node].type)
        following = graph.out_edges(node)
        if not following:
            break
        node = following[0].dst
    assert chain == ["Input", "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU",
                     "Linear", "ReLU", "Linear", "Output"]
    assert report.total_params == LENET_PARAMETERS
    assert person.actions == 19             # at most 20: File > New, 11 layers, 6 numbers typed, 1 fix
    boxes = [window.scene.nodes[n].sceneBoundingRect() for n in graph.nodes]
    overlapping = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:] if a.intersects(b)]
    assert not overlapping                    # every node added or fixed in landed in the flow, on no other


def test_the_palette_opens_on_the_common_layers(window):
    tree = window.layer_palette.tree
    assert tree.topLevelItem(0) is tree.common and tree.common.text(0) == COMMON_GROUP
    shown = QRectF(tree.viewport().rect())
    for type_name in ("Input", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "Output"):
        item = next(tree.common.child(i) for i in range(tree.common.childCount()) if tree.common.child(i).text(0) == type_name)
        assert shown.contains(QRectF(tree.visualItemRect(item)))
        assert "Double-click" in item.toolTip(0)
    assert "Double-click" in window.layer_palette.how_to.text() and window.layer_palette.how_to.isVisible()


def test_training_settings_are_labelled_in_words_with_the_torch_name_in_the_tooltip(qtbot):
    from PySide6.QtWidgets import QLabel

    from engine.training import TrainingConfig
    from gui.training.settings_dialog import TrainingSettingsDialog

    dialog = TrainingSettingsDialog(TrainingConfig())
    qtbot.addWidget(dialog)
    labels = {label.text(): label.toolTip() for label in dialog.findChildren(QLabel) if label.buddy() is None}
    assert "Probe every (steps)" in labels and "<code>probe_every</code>" in labels["Probe every (steps)"]
    assert "Clip gradient norm at" in labels and "<code>clip_grad_norm</code>" in labels["Clip gradient norm at"]
    assert "Learning rate" in labels
    assert not [text for text in labels if "_" in text]


def test_help_says_what_to_do_first_and_explains_each_canvas_concept(window, qtbot):
    from gui.help_topics import HelpWindow

    help_menu = window.commands.menu("&Help")
    entries = [action.text().replace("&", "") for action in help_menu.actions() if not action.isSeparator()]
    concepts = ["Getting Started", "Ports and Wires", "Layers and Operations", "Blocks", "Problems and Fixes"]
    assert [entry for entry in entries if entry in concepts] == concepts
    window.commands.action("help.start").trigger()
    page = window.findChild(HelpWindow)
    assert page.isVisible() and "Double-click a layer" in page.page.toPlainText()
    page.page.anchorClicked.emit(QUrl("topic:wires"))       # a link to another concept turns the page
    assert page.topic == "wires" and "arrowhead" in page.page.toPlainText()
    window.commands.action("help.problems").trigger()
    assert "Insert Flatten" in page.page.toPlainText()


def test_a_blank_canvas_shows_first_steps_and_example_pictures_that_open_the_example(window, qtbot):
    from gui.commands import files
    page = window.start_page
    files.open_example(window.context, files.EXAMPLES / "mlp_spiral.loom")
    assert not page.isVisible()                                    # a graph with layers: no start page
    window.commands.action("file.new").trigger()
    qtbot.waitUntil(page.isVisible, timeout=2000)
    assert "Double-click a layer" in page.steps.text()
    card = page.cards["lenet5"]
    assert "LeNet-5" in card.text() and "Classify digits" in card.text()
    picture = card.icon().pixmap(card.iconSize()).toImage()
    colours = {picture.pixelColor(x, y).name() for x in range(0, picture.width(), 4) for y in range(0, picture.height(), 4)}
    assert len(colours) > 3                                        # the graph's boxes drawn in their colours, not a blank
    assert page.geometry().top() > window.view.mapFromScene(window.scene.nodes["input1"].sceneBoundingRect().bottomLeft()).y()
    window.layer_palette.add_requested.emit("ReLU")                # a first layer: the page goes
    assert not page.isVisible()
    window.document.undo_stack.undo()                              # blank again: it comes back
    assert page.isVisible()
    QTest.mouseClick(card, Qt.LeftButton)
    assert window.document.graph.name == "LeNet-5" and not page.isVisible()

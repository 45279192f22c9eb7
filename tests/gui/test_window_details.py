"""With nothing selected, the inspector introduces what is shown: the example's own words
("Press Train ..."), its size, the data it trains on and whether it checks; inside an open
block, the block's. And toolbar buttons that stay put: Undo's name does not grow with what it
undoes; the gradient key, which covers no node and can be closed; training settings in groups, and
epochs set from the toolbar; tabs that apply; a confusion matrix that reads; numbered tiles; a drawing pad
that can be seen; an Outputs tab for autoencoders and regression; a plane to click for 2-D points; gradient
lines in their layers' canvas colours; the dark theme."""

import pytest

import resources
from graphs import load_graph
from gui.commands import blocks, files


@pytest.fixture
def dashboard(qtbot):
    """The training dashboard on its own, shown, as the window docks it."""
    from gui.training.dashboard import Dashboard
    panel = Dashboard()
    qtbot.addWidget(panel)
    panel.resize(1200, 500)
    panel.show()
    return panel


def test_the_inspector_introduces_the_example_until_a_node_is_selected(on_graph, qtbot):
    from gui.inspector import Inspector
    ctx = on_graph(load_graph(resources.example("lenet_digits.loom")))
    inspector = Inspector(ctx.document)
    qtbot.addWidget(inspector)
    text = inspector.shapes.text()
    assert inspector.title.text().startswith("<b>LeNet")
    assert "Press Train" in text
    assert "13 layers, 19,754 parameters" in text and "Trains on <b>digits</b>" in text
    assert "Checks pass." in text
    ctx.selection.set(["conv1"])
    assert inspector.fields and "Press Train" not in inspector.shapes.text()
    ctx.selection.clear()
    assert "Press Train" in inspector.shapes.text()
    qtbot.waitUntil(lambda: ctx.document.data is not None, timeout=30_000)      # the data set it is checked against
    ctx.document.try_edit(lambda: ctx.document.graph.set_params_edit("fc3", out_features=5))     # 10 classes
    qtbot.waitUntil(lambda: "problem(s) to fix" in inspector.shapes.text())


def test_inside_an_open_block_the_summary_is_the_block(on_graph, qtbot):
    from gui.inspector import Inspector
    ctx = on_graph(load_graph(resources.example("resnet18.loom")))
    inspector = Inspector(ctx.document)
    qtbot.addWidget(inspector)
    blocks.open_block(ctx, "layer1")
    assert inspector.title.text() == "<b>BasicBlock</b> (block)"
    assert "7 layers, 73,984 parameters" in inspector.shapes.text()


def test_toolbar_buttons_keep_their_place_when_undo_learns_what_it_undoes(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    toolbar = window.commands.toolbar
    undo, redo = window.commands.action("edit.undo"), window.commands.action("edit.redo")
    train = toolbar.widgetForAction(window.commands.action("train.start"))
    before = train.geometry()
    assert not undo.isEnabled()
    window.document.try_edit(lambda: window.document.graph.set_params_edit("fc1", out_features=100))
    qtbot.wait(50)
    assert undo.isEnabled() and undo.toolTip() == "Undo Change out_features of fc1"
    assert toolbar.widgetForAction(undo).text() == "Undo"
    assert undo.text() == "&Undo Change out_features of fc1"          # the menu says what it undoes
    assert train.geometry() == before
    assert not toolbar.widgetForAction(window.commands.action("train.start")).icon().isNull()
    undo.trigger()
    assert window.document.graph.nodes["fc1"].params["out_features"] == 120 and redo.isEnabled()


def test_the_gradient_key_is_one_closable_row_that_covers_no_node(window, qtbot):
    from PySide6.QtWidgets import QToolButton

    files.open_file(window.context, resources.example("lenet_digits.loom"))
    legend = window.training.legend
    legend.place()
    legend.show()
    window.view.fit_all()
    legend.place()
    viewport = window.view.viewport().geometry()
    key = legend.geometry().translated(-viewport.x(), -viewport.y())      # in the viewport's pixels
    assert key.height() < 40                                   # one row
    for item in window.scene.nodes.values():
        box = window.view.mapFromScene(item.sceneBoundingRect()).boundingRect()
        assert not box.intersects(key), item.node_id
    window.view.verticalScrollBar().setValue(window.view.verticalScrollBar().value() + 200)
    assert legend.geometry().translated(-viewport.x(), -viewport.y()) == key   # scrolling does not move it
    legend.findChild(QToolButton).click()
    assert not legend.isVisible() and window.view.bottom_reserve == 0


def test_training_settings_come_in_groups_with_help_and_fields_that_do_not_apply_are_off(qtbot):
    from PySide6.QtWidgets import QGroupBox

    from engine.training import TrainingConfig
    from gui.training.settings_dialog import TrainingSettingsDialog

    dialog = TrainingSettingsDialog(TrainingConfig())
    qtbot.addWidget(dialog)
    groups = [box.title() for box in dialog.findChildren(QGroupBox) if box.isVisibleTo(dialog)]
    assert groups == ["Data", "Loss and optimizer", "Schedule", "Run", "Probes", "Fine-tuning"]
    assert dialog.fields["momentum"].toolTip().startswith("Share of the last step")
    assert not dialog.fields["momentum"].isEnabled()                   # adam takes no momentum
    dialog.fields["optimizer"].setCurrentText("sgd")
    assert dialog.fields["momentum"].isEnabled() and dialog.fields["nesterov"].isEnabled()
    assert not dialog.fields["step_size"].isEnabled()
    dialog.fields["schedule"].setCurrentText("step")
    assert dialog.fields["step_size"].isEnabled() and dialog.fields["gamma"].isEnabled()


def test_epochs_are_set_from_the_toolbar_into_the_file_in_one_undo_step(window, qtbot):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    files.open_file(window.context, resources.example("lenet_digits.loom"))
    box = window.training.epochs_box
    assert box.value() == window.document.graph.training["epochs"]
    box.selectAll()
    QTest.keyClicks(box, "25")
    QTest.keyClick(box, Qt.Key_Return)
    assert window.document.graph.training["epochs"] == 25
    window.document.undo_stack.undo()
    assert box.value() == window.document.graph.training["epochs"] != 25


def test_the_dashboard_shows_only_the_tabs_that_apply(dashboard):
    from graphs import load_graph

    def shown():
        return [dashboard.tabs.tabText(i) for i in range(dashboard.tabs.count()) if dashboard.tabs.isTabVisible(i)]
    dashboard.set_graph(load_graph(resources.example("mlp_spiral.loom")))
    assert "Filters" not in shown()                         # no convolutions
    dashboard.set_graph(load_graph(resources.example("resnet18.loom")))
    assert "Filters" in shown()                             # convolutions inside blocks count
    from engine.data import load_dataset
    dashboard._show_data(load_dataset("spiral"))
    assert "Boundary" in shown() and "Confusion" in shown()
    dashboard._show_data(load_dataset("sine"))              # regression: no classes, no 2-D points
    assert "Boundary" not in shown() and "Confusion" not in shown()


def test_the_confusion_matrix_names_its_classes_counts_its_cells_and_has_a_colour_bar(dashboard):
    import numpy as np

    from engine.training import messages as M
    from gui.training.run_record import RunRecord

    panel = dashboard.confusion
    panel.resize(900, 700)
    panel.show()
    matrix = np.array([[5, 1, 0], [0, 7, 2], [1, 0, 9]])
    record = RunRecord(name="run 1", settings={})
    record.latest["ConfusionMatrix"] = M.ConfusionMatrix(epoch=2, matrix=matrix, class_names=("cat", "dog", "eel"))
    panel.show_record(record)
    ticks = panel.plot.getAxis("left")._tickLevels[0]
    assert [name for _, name in ticks] == ["cat", "dog", "eel"]
    assert [item.textItem.toPlainText() for item in panel.counts] == ["5", "1", "0", "0", "7", "2", "1", "0", "9"]
    assert all(item.isVisible() for item in panel.counts)       # cells large enough to read
    assert panel.bar.levels() == (0, 9)
    assert "dog taken for eel (2 times)" in panel.caption.text()


def test_filter_and_activation_tiles_carry_their_channel_numbers_and_a_colour_scale(dashboard):
    import numpy as np

    from engine.training import messages as M
    from gui.training.run_record import RunRecord

    panel = dashboard.filters
    panel.resize(900, 700)
    panel.show()
    record = RunRecord(name="run 1", settings={})
    record.latest["filters"] = {"conv1": M.Filters(step=5, layer="conv1", weights=np.random.rand(6, 1, 3, 3))}
    panel.show_record(record)
    assert [item.textItem.toPlainText() for item in panel.numbers.items] == ["0", "1", "2", "3", "4", "5"]
    assert all(item.isVisible() for item in panel.numbers.items)
    assert panel.numbers.bar.levels() == (0, 1)


def test_the_drawing_pad_has_square_cells_a_grid_and_a_thin_brush(qtbot):
    from PySide6.QtCore import QPoint, Qt

    from gui.training.predict import DrawingPad

    pad = DrawingPad(8, 8)
    qtbot.addWidget(pad)
    pad.setFixedSize(300, 200)                 # wider than tall: the cells stay square, centred
    pad.show()
    size, left, top = pad._grid()
    assert size == (200 - 2) / 8 and left > 30
    centre = QPoint(int(left + 3.5 * size), int(top + 4.5 * size))
    qtbot.mousePress(pad, Qt.LeftButton, pos=centre)
    qtbot.mouseRelease(pad, Qt.LeftButton, pos=centre)
    assert pad.ink[4, 3] == 1.0 and pad.ink[4, 4] == 0.25 and pad.ink[5, 4] == 0.15 and pad.ink[0, 0] == 0
    image = pad.grab().toImage()
    middle = int(top + 2.5 * size)
    assert image.pixelColor(int(left) - 5, middle).lightness() > 200         # outside the pad: nothing drawn
    assert min(image.pixelColor(x, middle).lightness() for x in range(int(left) - 1, int(left) + 2)) < 200   # border


def test_outputs_show_reconstructions_and_predictions_against_targets(dashboard):
    import numpy as np

    from engine.data import load_dataset
    from engine.training import messages as M
    from gui.training.run_record import RunRecord

    panel = dashboard.outputs
    record = RunRecord(name="run 1", settings={"reconstruct": True})
    images = np.random.rand(8, 1, 8, 8).astype(np.float32)
    record.latest["SampleOutputs"] = M.SampleOutputs(3, images, images, images * 0.5)
    panel.show_record(record)
    assert panel.images.image.shape == (2 * 8 + 1, 8 * 9 - 1)          # inputs above reconstructions
    assert "mean squared error" in panel.caption.text()
    dashboard.record = record
    dashboard.adapt()
    visible = [dashboard.tabs.tabText(i) for i in range(dashboard.tabs.count()) if dashboard.tabs.isTabVisible(i)]
    assert "Outputs" in visible and "Predict" not in visible and "Confusion" not in visible
    targets = np.linspace(-1, 1, 50, dtype=np.float32)[:, None]
    record.latest["SampleOutputs"] = M.SampleOutputs(5, targets, targets, targets + 0.1)
    panel.show_record(record)
    x, y = panel.points.getData()
    assert np.allclose(y - x, 0.1) and "R² 0.97" in panel.caption.text()
    dashboard.record = RunRecord(name="run 2", settings={})
    dashboard._show_data(load_dataset("sine"))
    visible = [dashboard.tabs.tabText(i) for i in range(dashboard.tabs.count()) if dashboard.tabs.isTabVisible(i)]
    assert "Outputs" in visible and "Predict" not in visible


def test_predict_on_two_dimensional_points_asks_the_model_about_a_clicked_point(dashboard, qtbot):
    import torch
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from engine.data import load_dataset

    predict = dashboard.predict
    dashboard.tabs.setCurrentWidget(predict)
    predict.set_data(load_dataset("spiral"))
    qtbot.waitUntil(predict.plane.isVisible)
    assert predict.plane.isVisible() and not predict.pad.isVisible()

    class LeftOrRight(torch.nn.Module):             # class 0 left of x = 0, class 1 right of it
        def forward(self, x):
            return torch.stack([-x[:, 0] * 10, x[:, 0] * 10, torch.zeros(len(x))], dim=1)
    predict.run_model.model = LeftOrRight()
    p = predict.predict_point(0.5, -0.2)
    assert p.argmax() == 1 and predict.result.text().startswith("The point (0.50, -0.20) looks like")
    view = predict.plane.getPlotItem().vb
    target = predict.plane.mapFromScene(view.mapViewToScene(QPointF(-0.8, 0.1)))
    QTest.mouseClick(predict.plane.viewport(), Qt.LeftButton, Qt.NoModifier, target)
    qtbot.waitUntil(lambda: predict.probabilities is not None and predict.probabilities.argmax() == 0)
    x, y = predict.chosen.getData()
    assert abs(x[0] + 0.8) < 0.05 and abs(y[0] - 0.1) < 0.05


def test_each_layers_gradient_line_has_a_colour_of_its_own(qtbot):
    """Five Linear layers are five lines told apart at a glance, not five shades of one blue."""
    from PySide6.QtGui import QColor

    from engine.training import messages as M
    from gui.training.gradients_panel import GradientsPanel
    from gui.training.run_record import RunRecord

    panel = GradientsPanel()
    qtbot.addWidget(panel)
    record = RunRecord("run 1", {})
    layers = [f"fc{i}" for i in range(1, 6)]
    record.absorb(M.GradientFlow(10, tuple(M.LayerGradient(name, 1e-3, 1e-2, 1.0) for name in layers)))
    panel.show_record(record)
    colours = [QColor(panel.lines[name][0].opts["pen"].color()) for name in layers]
    for i, a in enumerate(colours):
        for b in colours[i + 1:]:
            distance = sum((x - y) ** 2 for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])) ** 0.5
            assert distance > 80, (a.name(), b.name())
    assert all(f"color:{c.name()}" in panel.key.text() for c in colours)       # the key names each


def test_the_dark_theme_darkens_the_canvas_the_nodes_and_the_plots(window, qtbot):
    import pyqtgraph as pg
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    from gui import theme as themes
    from gui.training.curves import CurvesPanel

    class App:                                      # what apply() sets, without restyling this process
        def setStyle(self, style):
            self.style = style

        def setPalette(self, palette):
            self.palette = palette
    app = App()
    try:
        assert themes.apply(app, "dark") is themes.DARK and app.style == "Fusion"
        assert app.palette.color(app.palette.ColorRole.Window).lightness() < 60
        files.open_file(window.context, resources.example("lenet_digits.loom"))
        window.scene.update()
        shot = window.view.viewport().grab().toImage()
        assert shot.pixelColor(3, 3).lightness() < 40                         # the canvas
        item = window.scene.nodes["fc1"]
        body = window.view.mapFromScene(item.sceneBoundingRect().center() + QPointF(60, 20))
        assert shot.pixelColor(body).lightness() < 60                         # a node's body
        plot = CurvesPanel()
        qtbot.addWidget(plot)
        assert QColor(plot.loss_plot.backgroundBrush().color()).lightness() < 40
    finally:
        themes.apply(app, "light")
        pg.setConfigOptions(background="k", foreground="d")                   # pyqtgraph's own defaults
    assert themes.current() is themes.LIGHT

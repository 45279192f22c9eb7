"""Looking inside from the window: each view after a real run in the training worker, driven
through its widgets (tabs, buttons, clicks on points, typed tokens)."""

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

import resources
from engine.training import TrainingConfig
from gui.commands import files
from gui.main_window import EXAMPLES
from tests.helpers import chain


def train_in_window(window, qtbot, epochs, **settings):
    graph = window.document.graph
    graph.training = TrainingConfig.from_dict(graph.training).replace(device="cpu", **settings).to_dict()
    assert window.training.train(epochs)
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=180_000)
    record = window.training.controller.current
    assert record.status == "finished", record.final
    return record


def show(dashboard, panel):
    dashboard.tabs.setCurrentWidget(panel)
    dashboard.mark_dirty()
    dashboard.redraw()


def title(plot) -> str:
    return plot.getPlotItem().titleLabel.text


def click_at(plot, x, y):
    """A left click on a pyqtgraph plot at the data point (x, y)."""
    view = plot.getPlotItem().vb
    QTest.mouseClick(plot.viewport(), Qt.LeftButton, Qt.NoModifier,
                     plot.mapFromScene(view.mapViewToScene(QPointF(x, y))))


@pytest.mark.slow
def test_lenet_feature_space_channel_images_and_grad_cam(window, qtbot):
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    train_in_window(window, qtbot, 3)
    dashboard = window.training.dashboard
    tabs = dashboard.tabs
    assert tabs.isTabVisible(tabs.indexOf(dashboard.features))
    assert not tabs.isTabVisible(tabs.indexOf(dashboard.attention))
    assert not tabs.isTabVisible(tabs.indexOf(dashboard.embeddings))

    # Feature space: the validation set as relu4 sees it, by class; a click shows the sample.
    features = dashboard.features
    show(dashboard, features)
    qtbot.waitUntil(lambda: features.shown is not None)
    x, y = features.points.getData()
    assert len(x) == 359 and features.layer.currentText() == "relu4"
    assert "class separation (silhouette in this map)" in features.caption.text()
    assert "classes: " in features.key.text()
    qtbot.wait(50)
    index = 17
    click_at(features.plot, x[index], y[index])
    qtbot.waitUntil(lambda: title(features.chosen_plot).startswith("Sample "))
    shown = int(title(features.chosen_plot).split()[1].rstrip(":"))
    assert abs(x[shown] - x[index]) < 0.5 and abs(y[shown] - y[index]) < 0.5
    digit = features.data.class_names[int(features.data.y_val[shown])]
    assert title(features.chosen_plot) == f"Sample {shown}: {digit}"
    assert features.chosen_image.image.shape == (8, 8, 3)

    # Another layer after the run: projected at once from the newest weights.
    qtbot.waitUntil(lambda: dashboard.run_model.model is not None, timeout=30_000)
    features.layer.setCurrentText("pool1")
    qtbot.waitUntil(lambda: features.shown is not None and features.shown.layer == "pool1", timeout=30_000)
    assert features.caption.text().startswith("pool1 after epoch 3")
    features.layer.setCurrentText("relu4")
    qtbot.waitUntil(lambda: features.shown.layer == "relu4", timeout=30_000)

    # t-SNE on request, worked out off the GUI thread.
    features.method.setCurrentText("t-SNE")
    qtbot.waitUntil(lambda: features.caption.text().startswith("relu4") and "t-SNE" in features.caption.text(),
                    timeout=60_000)
    assert features.mapped.shape == (359, 2)

    # Filters: what each channel of conv2 responds to, on request.
    filters = dashboard.filters
    show(dashboard, filters)
    qtbot.waitUntil(lambda: dashboard.run_model.model is not None, timeout=30_000)
    filters.layer.setCurrentText("conv2")
    filters.count.setValue(8)
    qtbot.mouseClick(filters.find_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: filters.found is not None, timeout=60_000)
    assert filters.found.images.shape == (8, 1, 8, 8) and filters.found.layer == "conv2"
    assert "standard deviations above it" in filters.found_caption.text()
    cols = filters.found_numbers.cols
    assert filters.found_image.image.shape == (-(-8 // cols) * 9 - 1, cols * 9 - 1)   # 8 tiles of 8x8, 1-pixel gaps
    assert f"{dashboard.record.name}, epoch 3 of 3" in title(filters.found_plot)          # the weights they were found with

    # Predict: the prediction and where its evidence lies (Grad-CAM on the last convolution).
    predict = dashboard.predict
    show(dashboard, predict)
    predict.sample.setValue(40)
    qtbot.mouseClick(predict.predict_sample, Qt.LeftButton)
    label = predict.data.class_names[int(predict.probabilities.argmax())]
    qtbot.waitUntil(lambda: title(predict.why_plot) == f"Why {label}: Grad-CAM on conv2", timeout=30_000)
    picture = predict.why_image.image
    assert picture.shape == (8, 8, 3) and 0 <= picture.min() and picture.max() <= 1


@pytest.mark.slow
def test_attention_heads_after_a_run(window, qtbot):
    graph = chain(("MultiheadAttention", {"num_heads": 2}), "Flatten", ("Linear", {"out_features": 10}),
                  input_shape=(8, 8))
    graph.training = {"dataset": "digits", "dataset_options": {"as_sequence": True}, "probe_every": 5}
    window.document.replace(graph, None)
    train_in_window(window, qtbot, 1)
    dashboard = window.training.dashboard
    assert dashboard.tabs.isTabVisible(dashboard.tabs.indexOf(dashboard.attention))
    show(dashboard, dashboard.attention)
    panel = dashboard.attention
    qtbot.waitUntil(lambda: panel.shown is not None)
    assert panel.layer.currentText() == "attn1" and len(panel.images) == 2
    for image in panel.images:
        assert image.image.shape == (8, 8)
        assert np.allclose(image.image.sum(axis=1), 1.0, atol=1e-5)
    assert "2 heads, 8 queries x 8 keys" in panel.caption.text()


@pytest.mark.slow
def test_word2vec_neighbours_of_a_typed_word(window, qtbot):
    files.open_example(window.context, EXAMPLES / "word2vec_skipgram.loom")
    train_in_window(window, qtbot, 2)
    dashboard = window.training.dashboard
    tabs = dashboard.tabs
    assert tabs.isTabVisible(tabs.indexOf(dashboard.embeddings))
    assert not tabs.isTabVisible(tabs.indexOf(dashboard.features))     # 205 classes: no clusters to colour
    panel = dashboard.embeddings
    show(dashboard, panel)
    qtbot.waitUntil(lambda: panel.shown is not None and panel.data is not None)
    assert len(panel.points.getData()[0]) == 205 and len(panel.labels) == 205
    panel.token.setFocus()
    qtbot.keyClicks(panel.token, "the")
    assert panel.neighbours.text().startswith("<b>Nearest to 'the'</b>")
    assert panel.neighbours.text().count("<tr>") == 10
    qtbot.keyClicks(panel.token, "zzz")
    assert panel.neighbours.text() == "'thezzz' is not a token of this embedding."


@pytest.mark.slow
def test_the_vanishing_gradient_experiment_in_the_window(window, qtbot):
    entry = next(a for a in window.findChildren(type(window.commands.action("train.experiment")))
                 if a.text().startswith("Experiment: Vanishing gradients"))
    assert not window.commands.action("train.experiment").isEnabled()
    entry.trigger()
    assert window.document.graph.name == "10-layer MLP, sigmoid" and window.document.path is None
    assert window.commands.action("train.experiment").isEnabled()
    window.training.run_experiment(epochs=1)
    qtbot.waitUntil(lambda: not window.training.controller.running and not window.training._variants_left,
                    timeout=180_000)
    runs = window.training.controller.runs
    assert [r.name for r in runs] == ["sigmoid", "ReLU", "ReLU with BatchNorm", "residual"]
    assert all(r.status == "finished" for r in runs)
    dashboard = window.training.dashboard
    assert dashboard.tabs.currentWidget() is dashboard.gradients
    dashboard.mark_dirty()
    dashboard.redraw()
    panel = dashboard.gradients
    assert panel.by_depth.isVisible()
    curves = {name: line.getData() for name, line in panel.depth_lines.items()}     # the lines drawn
    assert set(curves) == {"sigmoid", "ReLU", "ReLU with BatchNorm", "residual"}
    assert all(list(x) == list(range(1, 12)) for x, _ in curves.values())   # BatchNorm layers left out of the depth
    assert 10 ** curves["sigmoid"][1][0] < 1e-3 * 10 ** curves["residual"][1][0]     # drawn on a log axis
    assert "sigmoid: first layer" in panel.depth_key.text()

    # The canvas, the status and every verdict speak of the same variant: the one on the canvas.
    assert window.document.graph.name == "10-layer MLP, sigmoid" and dashboard.record is runs[0]
    assert dashboard.status.text().startswith("<b>sigmoid</b>: finished")
    assert "4 variants trained" in dashboard.elsewhere.text() and "show sigmoid" in dashboard.elsewhere.text()
    assert window.statusBar().currentMessage().startswith("Variant residual finished")
    latest = runs[0].latest["gradients"]                 # the verdict under the plot: from its last points
    vanishing = [g.layer for g in latest.layers if g.mean_abs_grad < 1e-6]
    assert vanishing and panel.summary.text().startswith("sigmoid, step ")
    said = panel.summary.text().split("vanishing (below 1e-6) in ")[1].split(";")[0]
    assert [part.split()[0] for part in said.split(", ")] == vanishing and "all 11 layers" not in panel.summary.text()
    sigmoid = 10 ** curves["sigmoid"][1]                 # the verdict under the comparison: from its points
    assert sigmoid.min() < 1e-6 and f"sigmoid: vanishing (below 1e-6) at layer {int(sigmoid.argmin()) + 1}, " \
        f"{sigmoid.min():.1e} on average" in panel.depth_verdict.text()
    assert "residual" in panel.depth_verdict.text().split("healthy at every depth: ")[1]


@pytest.mark.slow
def test_style_transfer_view_runs_and_says_the_weights_are_missing(window, qtbot, tmp_path):
    files.open_example(window.context, resources.example("style_transfer_vgg16.loom"))
    dashboard = window.training.dashboard
    panel = dashboard.style_transfer
    assert window.docks["Training"].isVisible() and dashboard.tabs.currentWidget() is panel
    assert panel.content_layers.text() == "relu4_2"
    assert panel.style_layers.text() == "relu1_1 relu2_1 relu3_1 relu4_1 relu5_1"
    assert "not on this computer" in panel.weights_note.text() and panel.download.isVisibleTo(panel)
    assert panel.views["content"][1].image.shape == (128, 128, 3)
    panel.steps.setValue(2)
    qtbot.mouseClick(panel.run, Qt.LeftButton)
    assert not panel.run.isEnabled()
    qtbot.waitUntil(lambda: (dashboard.redraw() or True) and panel.job is None, timeout=120_000)
    assert panel.run.isEnabled()
    assert panel.caption.text().startswith("Step 2/2 with untrained weights (VGG-16's weights are absent)")
    assert panel.views["result"][1].image.shape == (128, 128, 3)
    from PIL import Image
    mine = tmp_path / "stripes.png"
    Image.fromarray(np.tile(np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)[:, None], (40, 60, 1))).save(mine)
    assert panel.add_picture(str(mine), panel.style_picture)
    assert panel.style_picture.currentText() == "stripes.png" and panel.content.findText("stripes.png") >= 0
    assert panel.views["style"][1].image.shape == (128, 128, 3)
    bad = tmp_path / "notes.png"
    bad.write_text("not a picture")
    assert not panel.add_picture(str(bad), panel.style_picture)
    assert "notes.png: not a picture NetLoom can read" in panel.caption.text()


def test_channel_images_of_colour_input_keep_their_colours(qtbot):
    import torch

    from engine import compile_graph
    from gui.training.panels import FiltersPanel
    from gui.training.run_model import RunModel
    torch.manual_seed(0)
    run_model = RunModel()
    run_model.model = compile_graph(chain(("Conv2d", {"out_channels": 5, "kernel_size": 3, "padding": 1}),
                                          input_shape=(3, 12, 12)))
    panel = FiltersPanel(run_model)
    qtbot.addWidget(panel)
    run_model.setParent(panel)         # freed with the panel, on the GUI thread, not by the collector later
    panel.input_shape = (3, 12, 12)
    panel.layer.set_layers(["conv1"])
    qtbot.mouseClick(panel.find_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: panel.found is not None, timeout=30_000)
    picture = panel.found_image.image
    cols = panel.found_numbers.cols
    assert picture.shape == (-(-5 // cols) * 13 - 1, cols * 13 - 1, 3)      # 5 colour tiles of 12x12
    tile = picture[:12, :12]
    assert 0 <= tile.min() and tile.max() <= 1 and np.ptp(tile.reshape(-1, 3).mean(0)) > 0.05   # not grey
    assert not panel.found_numbers.bar.isVisible()

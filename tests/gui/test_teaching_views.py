"""The teaching views in the window, driven by clicks and typing: convolution and pooling step by
step (numbers equal torch's), from Help > Learn and from a layer's node menu."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

import resources
from gui.commands import files


def _grid(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def _numbers(table) -> np.ndarray:
    return np.array([[float(t.replace("−", "-")) for t in row] for row in _grid(table)])


def _learn(window, text: str):
    menu = window.commands.menu("&Help/&Learn")
    next(a for a in menu.actions() if a.text() == text).trigger()
    return window.teaching.opened[-1]


def _set(spin, value: int) -> None:
    spin.selectAll()
    QTest.keyClicks(spin, str(value))
    QTest.keyClick(spin, Qt.Key.Key_Return)


def test_the_notes_vertical_edge_steps_cell_by_cell_with_each_multiply_add(window, qtbot):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    assert view.example.currentText() == "Notes: vertical edge"
    assert _grid(view.output_table) == [[""] * 4] * 4                 # nothing worked out yet
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table)[0] == ["0", "", "", ""]
    assert view.expression.text().startswith("Cell (0, 0): 10·1 + 10·0 + 10·(−1)")
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table)[0][:2] == ["0", "30"]
    assert view.expression.text().endswith("= 30")
    highlighted = {(r, c) for r in range(6) for c in range(6)
                   if view.input_table.item(r, c).background().style() != Qt.BrushStyle.NoBrush}
    assert highlighted == {(r, c) for r in range(3) for c in range(1, 4)}          # the window of cell (0, 1)
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table) == [["0", "30", "30", "0"]] * 4
    assert "W_out = ⌊(W − F + 2P) / S⌋ + 1 = ⌊(6 − 3 + 2·0) / 1⌋ + 1 = 4" in view.formula.text()


def test_stride_padding_and_dilation_typed_in_give_torchs_convolution(window, qtbot):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    image = np.arange(49, dtype=np.float64).reshape(7, 7) % 5 - 2
    view.input_text.setPlainText("\n".join(" ".join(str(int(v)) for v in row) for row in image))
    qtbot.mouseClick(view.use_input, Qt.MouseButton.LeftButton)
    view.kernel_choice.setCurrentText("sharpen")
    _set(view.stride, 2)
    _set(view.padding, 1)
    _set(view.dilation, 2)
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    kernel = torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)
    expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], kernel[None, None], stride=2, padding=1,
                                          dilation=2)[0, 0].numpy()
    assert np.allclose(_numbers(view.output_table), expected, atol=5e-3)
    assert view.output_caption.text().startswith(f"Output {expected.shape[0]}x{expected.shape[1]}")
    assert "D(F − 1)" in view.formula.text()              # the general formula once D is not 1
    view.input_text.setPlainText("1 2\n3 x")
    qtbot.mouseClick(view.use_input, Qt.MouseButton.LeftButton)
    assert "'x' in row 2, column 2 is not a number" in view.error.text()


@pytest.mark.parametrize("example, pool", [("Notes: max pooling", torch.nn.functional.max_pool2d),
                                           ("Notes: average pooling", torch.nn.functional.avg_pool2d)])
def test_pooling_examples_equal_torch_and_mark_the_winner(window, qtbot, example, pool):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    view.example.setCurrentText(example)
    assert not view.kernel_box.isEnabled()                   # pooling multiplies nothing
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    first = view.expression.text()
    assert first == ("Cell (0, 0): max(1, 1, 5, 6) = 6" if "max" in example else "Cell (0, 0): (1 + 1 + 5 + 6) / 4 = 3.25")
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    source = torch.tensor([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=torch.float64)
    assert np.allclose(_numbers(view.output_table), pool(source[None, None], 2)[0, 0].numpy())
    _set(view.padding, 1)                                    # padding shows as empty cells around the map
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert view.input_table.rowCount() == 6 and view.input_table.item(0, 0).toolTip() == "padding"
    assert np.allclose(_numbers(view.output_table), pool(source[None, None], 2, padding=1)[0, 0].numpy())


def test_a_conv_node_opens_its_own_window_checked_against_its_wire(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    graph = window.document.graph
    conv = next(n.id for n in graph.nodes.values() if n.type == "Conv2d")
    menu = window.view.context_menu(QPointF(), window.scene.nodes[conv])
    next(a for a in menu.actions() if a.text() == "Convolution Step by Step...").trigger()
    view = window.teaching.opened[-1]
    params = graph.nodes[conv].params
    assert view.example.currentText() == f"Layer {conv}"
    assert view.padding.value() == (params.get("padding", 0) if isinstance(params.get("padding", 0), int) else 0)
    assert "as the formula says" in view.formula.text()
    _set(view.stride, view.stride.value() + 1)
    assert "but the wire out of" in view.formula.text()
    pool = next(n.id for n in graph.nodes.values() if n.type in ("MaxPool2d", "AvgPool2d"))
    menu = window.view.context_menu(QPointF(), window.scene.nodes[pool])
    next(a for a in menu.actions() if a.text() == "Pooling Step by Step...").trigger()
    assert window.teaching.opened[-1].kind.currentText() in ("max pooling", "average pooling")
    first = window.teaching.opened[0]        # before the first convolution only the input's scaling: no run needed
    qtbot.waitUntil(lambda: first.take_sample.isEnabled(), timeout=30_000)
    _set(first.sample, 3)
    qtbot.mouseClick(first.take_sample, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: first.image.shape[1] > 6, timeout=30_000)
    scaling = graph.nodes["norm"].params
    sample = (window.document.data.x_val[3].double().numpy() - scaling["mean"][0]) / scaling["std"][0]
    assert np.allclose(first.image, sample) and first.input_table.rowCount() == sample.shape[1] + 2 * first.padding.value()
    qtbot.mouseClick(first.all_button, Qt.MouseButton.LeftButton)
    expected = torch.nn.functional.conv2d(torch.tensor(sample)[None], torch.tensor(first.kernel)[None],
                                          padding=first.padding.value(), stride=first.stride.value())[0, 0].numpy()
    assert np.allclose(first.steps.output, expected)
    relu = next(n.id for n in graph.nodes.values() if n.type == "ReLU")
    menu = window.view.context_menu(QPointF(), window.scene.nodes[relu])
    assert not any("Step by Step" in a.text() for a in menu.actions())


def _train(window, qtbot, monkeypatch, example: str, until, **settings) -> list:
    from engine.training import TrainingConfig
    from gui.main_window import EXAMPLES
    from tests.gui.test_training_dashboard import record_messages
    seen = record_messages(monkeypatch)
    files.open_example(window.context, EXAMPLES / example)
    config = TrainingConfig.from_dict(window.document.graph.training).replace(**({"device": "cpu"} | settings))
    window.document.graph.training = config.to_dict()
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: until(seen), timeout=180_000)
    return seen


def _shown(dashboard) -> list[str]:
    return [dashboard.tabs.tabText(i) for i in range(dashboard.tabs.count()) if dashboard.tabs.isTabVisible(i)]


def test_neurons_wires_validation_rings_and_the_landscape_of_a_playground_run(window, qtbot, monkeypatch):
    from engine.training import messages as M
    seen = _train(window, qtbot, monkeypatch, "playground_features.loom",
                  lambda seen: any(isinstance(m, M.LossLandscape) and m.epoch >= 2 for m in seen), epochs=2,
                  landscape=True, probe_every=0)
    dashboard = window.training.dashboard
    qtbot.waitUntil(lambda: dashboard.data is not None, timeout=30_000)
    assert {"Neurons", "Boundary", "Landscape"} <= set(_shown(dashboard)) and "Fit" not in _shown(dashboard)

    # Neurons: each picture is the message's picture of that unit; each wire is coloured by its weight's sign.
    dashboard.tabs.setCurrentWidget(dashboard.neurons)
    pictures = [m for m in seen if isinstance(m, M.NeuronPictures)][-1]
    dashboard.redraw()
    for layer in pictures.layers:
        for unit, picture in enumerate(layer.pictures):
            assert np.array_equal(dashboard.neurons.images[(layer.layer, unit)].image, picture)
    small = next(layer for layer in pictures.layers if layer.weights is not None and layer.layer != pictures.layers[0].layer)
    w = small.weights
    unit, source = np.unravel_index(np.argmax(w), w.shape)
    assert dashboard.neurons.wire_pen(small.layer, unit, source).color().name() == "#2b7bd6"       # positive: blue
    unit, source = np.unravel_index(np.argmin(w), w.shape)
    assert dashboard.neurons.wire_pen(small.layer, unit, source).color().name() == "#f08a24"       # negative: orange
    heaviest = dashboard.neurons.wire_pen(small.layer, *np.unravel_index(np.argmax(np.abs(w)), w.shape)).widthF()
    lightest = dashboard.neurons.wire_pen(small.layer, *np.unravel_index(np.argmin(np.abs(w)), w.shape)).widthF()
    assert heaviest > lightest

    # Boundary: the validation overlay draws the boundary message's validation points when ticked.
    dashboard.tabs.setCurrentWidget(dashboard.boundary)
    dashboard.redraw()
    assert len(dashboard.boundary.val_points.data) == 0
    qtbot.mouseClick(dashboard.boundary.show_validation, Qt.MouseButton.LeftButton)
    boundary = [m for m in seen if isinstance(m, M.DecisionBoundary)][-1]
    shown = dashboard.boundary.val_points.getData()
    assert len(boundary.val_points) > 0
    assert np.allclose(shown[0], boundary.val_points[:, 0]) and np.allclose(shown[1], boundary.val_points[:, 1])

    # Landscape: log loss over the plane, the path ending at the centre (the current weights).
    dashboard.tabs.setCurrentWidget(dashboard.landscape)
    dashboard.redraw()
    landscape = [m for m in seen if isinstance(m, M.LossLandscape)][-1]
    assert np.allclose(dashboard.landscape.image.image, np.log10(landscape.losses), atol=1e-5)
    path = next(iter(dashboard.landscape.paths.values())).getData()
    assert np.allclose(path[0], landscape.path[:, 0]) and (path[0][-1], path[1][-1]) == pytest.approx((0, 0), abs=1e-6)
    assert f"loss {landscape.centre_loss:.4g}" in dashboard.landscape.caption.text()

    # Inspector: a trained Linear layer's weights as a heat map and as numbers, from the run's newest weights.
    linear = small.layer
    window.document.selection.set([linear])
    qtbot.waitUntil(lambda: window.inspector.node_id == linear)
    qtbot.waitUntil(lambda: dashboard.run_model.model is not None, timeout=30_000)
    insight = window.inspector.insight
    from engine.insight import layer_parameters
    weights = layer_parameters(dashboard.run_model.model, linear)["weight"]
    assert insight.weights_box.isVisible() and np.array_equal(insight.heat.image, weights)
    assert f"Weights of {linear} ({dashboard.run_model.weights_from()})" in insight.weights_caption.text()
    assert "epoch" in dashboard.run_model.weights_from()                 # which run and step they are from
    insight.weights_as.setCurrentText("numbers")
    assert insight.numbers.item(0, 1).text() == f"{weights[0, 1]:.3g}"
    assert insight.numbers.rowCount() == min(len(weights), 12)


def test_the_inspector_plots_an_activation_and_its_derivative(window, qtbot):
    from gui.commands import editing
    files.open_file(window.context, resources.example("mlp_spiral.loom"))
    graph = window.document.graph
    node = next(n.id for n in graph.nodes.values() if n.type in ("ReLU", "Tanh", "Sigmoid"))
    window.inspector.show_node(node)
    insight = window.inspector.insight
    assert insight.curve_plot.isVisible() and not insight.weights_box.isVisible()      # no run: no weights yet
    x, y = insight.function.getData()
    _, slope = insight.derivative.getData()
    reference = torch.tensor(x, requires_grad=True)
    out = {"ReLU": torch.relu, "Tanh": torch.tanh, "Sigmoid": torch.sigmoid}[graph.nodes[node].type](reference)
    out.sum().backward()
    assert np.allclose(y, out.detach().numpy()) and np.allclose(slope, reference.grad.numpy())
    assert insight.formula.text().startswith("f(x) = ")
    window.document.selection.set([node])
    leaky = editing.add_after_selection(window.context, "LeakyReLU")
    window.inspector.show_node(leaky)
    field = window.inspector.fields["negative_slope"]
    field.selectAll()
    QTest.keyClicks(field, "0.2")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert graph.nodes[leaky].params["negative_slope"] == pytest.approx(0.2)
    x, y = insight.function.getData()
    assert y[0] == pytest.approx(0.2 * x[0])
    linear = next(n.id for n in graph.nodes.values() if n.type == "Linear")
    window.inspector.show_node(linear)
    assert not insight.isVisible()                       # neither an activation nor a trained layer


def test_a_one_input_regression_shows_its_fitted_curve_over_the_data(window, qtbot, monkeypatch):
    from engine.training import messages as M
    seen = _train(window, qtbot, monkeypatch, "predictor_quadratic.loom",
                  lambda seen: any(isinstance(m, M.FittedCurve) for m in seen), epochs=2)
    dashboard = window.training.dashboard
    qtbot.waitUntil(lambda: dashboard.data is not None, timeout=30_000)
    assert "Fit" in _shown(dashboard) and "Neurons" not in _shown(dashboard)
    dashboard.tabs.setCurrentWidget(dashboard.fit)
    dashboard.redraw()
    curve = [m for m in seen if isinstance(m, M.FittedCurve)][-1]
    x, y = dashboard.fit.curve.getData()
    assert np.allclose(x, curve.x) and np.allclose(y, curve.y[:, 0])
    assert len(dashboard.fit.train_points.data) == len(dashboard.data.x_train)
    assert np.allclose(dashboard.fit.val_points.getData()[0], curve.val_x)


def test_a_two_input_regression_shows_its_predicted_surface(window, qtbot, monkeypatch):
    from engine.training import messages as M
    seen = _train(window, qtbot, monkeypatch, "surface_regression.loom",
                  lambda seen: any(isinstance(m, M.PredictedSurface) for m in seen), epochs=1)
    dashboard = window.training.dashboard
    qtbot.waitUntil(lambda: dashboard.data is not None, timeout=30_000)
    assert "Fit" in _shown(dashboard)
    dashboard.tabs.setCurrentWidget(dashboard.fit)
    dashboard.redraw()
    surface = [m for m in seen if isinstance(m, M.PredictedSurface)][-1]
    assert np.array_equal(dashboard.fit.surface.image, surface.values.astype(np.float32))
    assert np.allclose(np.array(dashboard.fit.val_points.getData()), surface.val_points.T)
    assert dashboard.fit.plot.plotItem.titleLabel.text.startswith("Predicted surface, ")


def test_runs_are_named_by_their_settings_beside_the_runs_of_the_same_graph(window):
    from engine.training import TrainingConfig
    from gui.training.run_record import RunRecord
    controller = window.training.controller
    sgd = TrainingConfig(optimizer="sgd", lr=0.1, momentum=0.9)
    assert controller.name_for(sgd, "graph A") == "SGD lr 0.1 momentum 0.9"
    controller.runs.append(RunRecord("SGD lr 0.1 momentum 0.9", sgd.to_dict(), "graph A"))
    assert controller.name_for(sgd.replace(l1=0.001), "graph A") == "L1 0.001"              # what differs, only
    assert controller.name_for(sgd, "graph A") == "SGD lr 0.1 momentum 0.9 (2)"             # the same settings again
    assert controller.name_for(TrainingConfig(optimizer="adam", lr=0.01), "graph B") == "Adam lr 0.01"   # another graph


@pytest.mark.slow     # three training runs
def test_run_experiment_on_the_optimizers_draws_their_paths_on_one_landscape(window, qtbot):
    from engine.training import messages as M
    from gui.main_window import EXAMPLES
    ui = window.training
    assert ui.open_experiment(EXAMPLES / "optimizers.experiment.json")
    assert ui.run_experiment(epochs=2)
    landscape = ui.dashboard.landscape
    qtbot.waitUntil(lambda: landscape.shared is not None, timeout=300_000)
    names = ["SGD lr 0.1", "SGD lr 0.1 momentum 0.9", "Adam lr 0.01"]
    assert list(landscape.paths) == names and ui.dashboard.tabs.currentWidget() is landscape
    runs = {r.name: r for r in ui.controller.runs}
    for name in names:
        x, y = landscape.paths[name].getData()
        assert (x[0], y[0]) == pytest.approx((0, 0), abs=1e-6)                  # every run from the common start
        assert np.allclose(np.c_[x, y], landscape.shared.paths[name])
        assert len(x) == len(runs[name].latest["WeightPath"].steps)
        assert isinstance(runs[name].latest["WeightPath"], M.WeightPath)
    assert np.allclose(landscape.image.image, np.log10(landscape.shared.landscape.losses), atol=1e-5)
    assert "SGD lr 0.1: ends at loss" in landscape.caption.text() and "of its way" in landscape.caption.text()


def test_the_loss_plot_draws_the_training_loss_with_its_l1_term_only_when_l1_is_on(qtbot):
    from engine.training import messages as M
    from gui.training.curves import CurvesPanel
    from gui.training.run_record import RunRecord
    panel = CurvesPanel()
    qtbot.addWidget(panel)
    with_l1 = RunRecord("L1 0.001", {"loss": "cross_entropy", "l1": 0.001})
    for epoch, (loss, penalty) in enumerate([(1.0, 0.25), (0.5, 0.125)], 1):
        with_l1.absorb(M.EpochMetrics(epoch, epoch * 10, loss, 0.5, loss, 0.5, float(epoch), penalty))
    panel.show_record(with_l1, [])
    _, y = panel.lines["train_objective"].getData()
    assert list(y) == [1.25, 0.625]                           # the loss the run minimised: loss + its L1 term
    _, plain = panel.lines["train_loss"].getData()
    assert list(plain) == [1.0, 0.5]
    assert "training + L1 term" in panel.loss_plot.getPlotItem().titleLabel.text
    panel.reset()
    without = RunRecord("Adam lr 0.001", {"loss": "cross_entropy"})
    without.absorb(M.EpochMetrics(1, 10, 1.0, 0.5, 1.0, 0.5, 1.0))
    panel.show_record(without, [])
    assert panel.lines["train_objective"].getData()[1] is None or len(panel.lines["train_objective"].getData()[1]) == 0
    assert "L1" not in panel.loss_plot.getPlotItem().titleLabel.text

"""Training settings and probes for the lecture notes: weight initialisation, L1, runs named by
their settings, neurons as pictures over the input plane, fitted curves and surfaces, the
validation points of the boundary, and the weights' path on a loss landscape."""

import math

import numpy as np
import pytest
import torch

from engine import compile_graph
from engine.data import load_dataset
from engine.insight import InsightError, input_plane, neuron_pictures, random_plane
from engine.insight.landscape import loss_surface, project
from engine.training import ConfigError, TrainingConfig, run_name, train
from engine.training.initialisation import initialise, layer_weights
from engine.training.loop import LANDSCAPE_SAMPLES, loss_value
from engine.training.messages import (
    DecisionBoundary,
    EpochMetrics,
    Finished,
    FittedCurve,
    LossLandscape,
    NeuronPictures,
    PredictedSurface,
    RunStarted,
    StepMetrics,
    WeightPath,
)
from engine.training.probes import predicted_surface
from graphs import Graph
from tests.helpers import chain


def mlp(*widths, input_shape=(2,), activation="ReLU"):
    layers = []
    for width in widths[:-1]:
        layers += [("Linear", {"out_features": width}), activation]
    return chain(*layers, ("Linear", {"out_features": widths[-1]}), input_shape=input_shape)


def run(graph, **settings):
    return list(train(graph, TrainingConfig.from_dict(graph.training).replace(**({"device": "cpu"} | settings))))


def of(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


# ---------------------------------------------------------------------- initialisation and L1
def test_initialisation_schemes_set_every_layer_weight_and_zero_its_bias():
    g = Graph("mixed")
    x = g.add_node("Input", shape=[3, 16, 16])
    conv = g.add_node("Conv2d", out_channels=64, kernel_size=3)
    bn = g.add_node("BatchNorm2d")
    flat = g.add_node("Flatten")
    fc = g.add_node("Linear", out_features=256)
    for a, b in ((x, conv), (conv, bn), (bn, flat), (flat, fc), (fc, g.add_node("Output"))):
        g.connect(a, b)
    model = compile_graph(g)
    torch.manual_seed(0)
    assert initialise(model, "normal", 0.05) == 2
    assert model.conv1.weight.std().item() == pytest.approx(0.05, rel=0.05)
    assert model.fc1.weight.std().item() == pytest.approx(0.05, rel=0.05)
    assert not model.conv1.bias.any() and not model.fc1.bias.any()
    assert torch.equal(model.bn1.weight, torch.ones(64))          # normalisation keeps its own start
    initialise(model, "kaiming")
    fan_in = 64 * 14 * 14
    assert model.fc1.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    initialise(model, "xavier")
    bound = math.sqrt(6 / (fan_in + 256))
    assert model.fc1.weight.abs().max().item() <= bound and model.fc1.weight.abs().max().item() > 0.95 * bound
    assert [name for _, name, _ in layer_weights(model)] == ["weight", "weight"]


@pytest.mark.slow
def test_a_chosen_initialisation_starts_the_run_and_the_seed_makes_it_repeatable():
    graph = mlp(32, 3)
    config = dict(dataset="spiral", epochs=1, landscape=True, init="normal", init_std=0.3, probes=False)
    first = of(run(graph, **config), WeightPath)[0]
    torch.manual_seed(0)
    expected = compile_graph(graph)
    initialise(expected, "normal", 0.3)
    start = torch.nn.utils.parameters_to_vector(expected.parameters()).detach().numpy()
    np.testing.assert_array_equal(first.weights[0], start)
    assert first.steps[0] == 0
    assert np.std(first.weights[0][:64]) == pytest.approx(0.3, rel=0.2)        # fc1's weights
    np.testing.assert_array_equal(of(run(graph, **config), WeightPath)[0].weights, first.weights)


@pytest.mark.slow
def test_l1_is_added_to_the_loss_and_reported_beside_it():
    graph = mlp(16, 3)
    messages = run(graph, dataset="spiral", epochs=2, l1=0.01, log_every=1, probes=False)
    torch.manual_seed(0)
    start = compile_graph(graph)
    total = sum(w.abs().sum().item() for _, _, w in layer_weights(start))
    steps = of(messages, StepMetrics)
    assert steps[0].penalty == pytest.approx(0.01 * total, rel=1e-5)        # the first step's weights: the start
    assert steps[-1].penalty < steps[0].penalty                             # L1 shrinks the weights
    epochs = of(messages, EpochMetrics)
    assert epochs[0].penalty == pytest.approx(np.mean([s.penalty for s in steps if s.epoch == 0]), rel=1e-6)
    plain = run(graph, dataset="spiral", epochs=1, log_every=1, probes=False)
    assert of(plain, StepMetrics)[0].penalty is None and of(plain, EpochMetrics)[0].penalty is None
    assert of(plain, StepMetrics)[0].loss == pytest.approx(steps[0].loss)     # the loss shown leaves L1 out


def test_training_settings_for_the_notes_are_checked():
    for changes, message in (({"init": "orthogonal"}, "training.init: 'orthogonal' is not one of default, normal"),
                             ({"init_std": 0.0}, "training.init_std: must be positive"),
                             ({"l1": -1.0}, "training.l1: must not be negative")):
        with pytest.raises(ConfigError, match=message):
            TrainingConfig.from_dict(changes)


def test_runs_are_named_by_their_settings():
    c = TrainingConfig
    assert run_name(c()) == "Adam lr 0.001"
    assert run_name(c(optimizer="sgd", lr=0.05)) == "SGD lr 0.05 momentum 0.9"
    assert run_name(c(optimizer="sgd", lr=0.05, momentum=0.0, l1=1e-3, init="xavier")) == \
        "SGD lr 0.05, L1 0.001, init xavier"
    assert run_name(c(weight_decay=1e-4, init="normal", init_std=0.5, batch_size=32, schedule="cosine")) == \
        "Adam lr 0.001, L2 0.0001, init normal σ 0.5, batch 32, cosine schedule"
    runs = [c(optimizer="sgd", lr=0.1, momentum=0.0), c(optimizer="sgd", lr=0.1), c(lr=0.01)]
    assert [run_name(r, [o for o in runs if o is not r]) for r in runs] == \
        ["SGD lr 0.1", "SGD lr 0.1 momentum 0.9", "Adam lr 0.01"]
    runs = [c(init="xavier", epochs=5), c(init="kaiming", epochs=5, seed=1)]
    assert [run_name(r, [o for o in runs if o is not r]) for r in runs] == ["init xavier, seed 0", "init kaiming, seed 1"]
    assert run_name(c(), [c()]) == "Adam lr 0.001"              # nothing differs: the name it has alone


# ---------------------------------------------------------------------- pictures over the input plane
def test_neuron_pictures_are_the_layer_outputs_on_the_grid():
    graph = chain(("Features", {"x1_times_x2": True}), ("Linear", {"out_features": 5}), "Tanh",
                  ("Linear", {"out_features": 40}), ("Linear", {"out_features": 3}), input_shape=(2,))
    torch.manual_seed(1)
    model = compile_graph(graph)
    plane = input_plane(torch.tensor([[-1.0, 0.0], [2.0, 3.0]]), 12)
    layers = {layer.layer: layer for layer in neuron_pictures(model, graph, plane)}
    assert list(layers) == ["features1", "fc1", "fc2", "fc3"]
    grid = plane.points
    with torch.no_grad():
        feats = model.features1(grid)
        hidden = torch.tanh(model.fc1(feats))
        wide = model.fc2(hidden)
        expected = {"features1": feats, "fc1": hidden, "fc2": wide, "fc3": model.fc3(wide)}
    for name, values in expected.items():
        units = min(values.shape[1], 32)
        np.testing.assert_allclose(layers[name].pictures, values[:, :units].T.reshape(units, 12, 12).numpy(), atol=1e-6)
    assert layers["fc1"].shown == "tanh1" and layers["fc2"].shown == "fc2"
    assert layers["features1"].labels == ("x1", "x2", "x1·x2")
    assert layers["fc2"].units == 40 and layers["fc2"].pictures.shape == (32, 12, 12)      # the first 32 pictured
    np.testing.assert_array_equal(layers["fc1"].weights, model.fc1.weight.detach().numpy())   # wires: sign and size
    assert layers["fc2"].weights.shape == (40, 5)
    # a grid point's picture value is the model at that point: rows follow y, columns x
    row, col = 7, 3
    point = torch.tensor([[plane.x_range[0] + col * (plane.x_range[1] - plane.x_range[0]) / 11,
                           plane.y_range[0] + row * (plane.y_range[1] - plane.y_range[0]) / 11]])
    with torch.no_grad():
        assert model.features1(point)[0, 2].item() == pytest.approx(layers["features1"].pictures[2, row, col], abs=1e-5)
    with pytest.raises(InsightError, match="one input of two numbers"):
        neuron_pictures(compile_graph(mlp(4, 1, input_shape=(1,))), mlp(4, 1, input_shape=(1,)), plane)


@pytest.mark.slow
def test_a_run_on_2d_points_sends_neurons_each_probe_and_the_validation_points_each_epoch():
    graph = mlp(8, 8, 3, activation="Tanh")
    messages = run(graph, dataset="spiral", epochs=2, probe_every=10, batch_size=64)
    pictures = of(messages, NeuronPictures)
    assert [p.step for p in pictures] == [10, 20, 30]
    assert [layer.layer for layer in pictures[0].layers] == ["fc1", "fc2", "fc3"]
    assert pictures[0].layers[0].pictures.shape == (8, 40, 40)
    assert not np.allclose(pictures[0].layers[0].pictures, pictures[-1].layers[0].pictures)    # they learn
    data = load_dataset("spiral")
    boundary = of(messages, DecisionBoundary)[-1]
    np.testing.assert_array_equal(boundary.val_points, data.x_val.numpy())
    np.testing.assert_array_equal(boundary.val_labels, data.y_val.numpy())
    assert pictures[0].x_range == boundary.x_range


@pytest.mark.slow
def test_a_1d_regression_sends_its_fitted_curve_and_a_2d_one_its_surface():
    curve_graph = chain(("Features", {"x2": False, "x1_squared": True}), ("Linear", {"out_features": 1}),
                        input_shape=(1,))
    messages = run(curve_graph, dataset="curve", loss="mse", lr=0.05, epochs=40, batch_size=32)
    curves = of(messages, FittedCurve)
    assert [c.epoch for c in curves] == list(range(1, 41))
    final = curves[-1]
    data = load_dataset("curve")
    assert final.x.shape == (200,) and final.y.shape == (200, 1)
    assert final.x[0] < data.x_train.min() and final.x[-1] > data.x_train.max()
    truth = 0.5 * final.x ** 2 - final.x + 1           # the data's own formula: [1, x, x²] can fit it exactly
    assert np.abs(final.y[:, 0] - truth).max() < 0.15
    np.testing.assert_array_equal(final.val_x, data.x_val[:, 0].numpy())
    assert not of(messages, DecisionBoundary) and not of(messages, NeuronPictures)
    surface_messages = run(mlp(8, 1, activation="Tanh"), dataset="surface", loss="mse", epochs=1)
    surface = of(surface_messages, PredictedSurface)[0]
    assert surface.values.shape == (60, 60) and surface.val_points.shape[1] == 2
    assert len(surface.val_targets) == len(surface.val_points)


def test_the_surface_is_the_model_over_the_plane():
    model = compile_graph(mlp(4, 1, activation="Tanh")).eval()
    points = torch.tensor([[-2.0, -1.0], [1.0, 3.0]])
    found = predicted_surface(3, model, points, points, torch.zeros(2, 1), resolution=5)
    plane = input_plane(points, 5)
    with torch.no_grad():
        np.testing.assert_allclose(found.values, model(plane.points)[:, 0].reshape(5, 5).numpy(), atol=1e-6)


# ---------------------------------------------------------------------- loss landscapes
def test_the_landscape_centre_is_the_models_loss():
    graph = mlp(16, 3)
    torch.manual_seed(0)
    model = compile_graph(graph)
    data = load_dataset("spiral")
    x, y = data.x_train[:256], data.y_train[:256]
    plane = random_plane(model, seed=4)
    found = loss_surface(model, plane, x, y, lambda out, t: loss_value("cross_entropy", out, t),
                         np.linspace(-1, 1, 7), np.linspace(-2, 2, 5))
    with torch.no_grad():
        expected = loss_value("cross_entropy", model.eval()(x), y).item()
    assert found.centre_loss == pytest.approx(expected, rel=1e-5)
    assert found.losses.shape == (5, 7) and found.losses[2, 3] == pytest.approx(expected, rel=1e-5)
    assert found.losses.max() > expected           # random directions lead uphill somewhere
    # filter-normalised: each filter of a direction has its weights' filter's norm; biases stay put
    params = list(model.parameters())
    u = plane.u[: params[0].numel()].reshape(params[0].shape)
    np.testing.assert_allclose(u.norm(dim=1), params[0].detach().norm(dim=1), rtol=1e-5)
    assert not plane.u[params[0].numel(): params[0].numel() + 16].any()
    # the grid evaluated point by point (models vmap cannot batch) gives the same numbers
    import engine.insight.landscape as landscape_module

    def refuse(*args, **kwargs):
        raise RuntimeError("vmap cannot batch this")
    original = landscape_module.vmap
    landscape_module.vmap = refuse
    try:
        slow = loss_surface(model, plane, x, y, lambda out, t: loss_value("cross_entropy", out, t),
                            np.linspace(-1, 1, 7), np.linspace(-2, 2, 5))
    finally:
        landscape_module.vmap = original
    np.testing.assert_allclose(slow.losses, found.losses, rtol=1e-5)


@pytest.mark.slow
def test_a_run_with_the_landscape_setting_draws_its_path_from_the_start():
    graph = mlp(8, 3, activation="Tanh")
    messages = run(graph, dataset="spiral", epochs=3, landscape=True, log_every=5, probes=False)
    landscapes = of(messages, LossLandscape)
    path = of(messages, WeightPath)[0]
    assert [m.epoch for m in landscapes] == [1, 2, 3]
    assert isinstance(messages[-1], Finished) and isinstance(messages[-2], WeightPath)
    last = landscapes[-1]
    assert last.path_steps[0] == 0 and last.path_steps[-1] == 45 and list(path.steps) == list(last.path_steps)
    assert last.losses.shape == (21, 21) and last.alphas[10] == 0 and last.betas[10] == 0
    # the centre is the run's last weights: its loss is the final model's on the landscape's data
    torch.manual_seed(0)
    model = compile_graph(graph).eval()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(path.weights[-1]), model.parameters())
    data = load_dataset("spiral")
    with torch.no_grad():
        loss = loss_value("cross_entropy", model(data.x_train[:LANDSCAPE_SAMPLES]), data.y_train[:LANDSCAPE_SAMPLES])
    assert last.centre_loss == pytest.approx(loss.item(), rel=1e-5)
    assert np.abs(last.path[-1]).max() < 1e-4           # the path ends where the plane's centre is
    # the path's first point is the start, projected
    plane = random_plane(model, seed=0)
    np.testing.assert_allclose(last.path[0], project(plane, torch.as_tensor(path.weights[:1]))[0], atol=1e-5)


@pytest.mark.slow
def test_a_model_too_large_for_a_landscape_is_said_not_failed():
    graph = mlp(512, 512, 3)
    messages = run(graph, dataset="spiral", epochs=1, landscape=True, probes=False)
    started = of(messages, RunStarted)[0]
    assert any("no loss landscape: the model has 265,731 parameters" in note for note in started.notes)
    assert isinstance(messages[-1], Finished) and not of(messages, WeightPath)


def test_a_landscape_far_out_is_written_as_strict_json():
    import json

    from engine.training.messages import to_json
    message = LossLandscape(1, np.zeros(2), np.zeros(2), np.array([[0.5, np.nan], [np.inf, 2.0]]), 0.5,
                            np.zeros((1, 2)), np.zeros(1, dtype=np.int64), "random")
    text = json.dumps(to_json(message), allow_nan=False)
    assert json.loads(text)["losses"] == [[0.5, None], [None, 2.0]]

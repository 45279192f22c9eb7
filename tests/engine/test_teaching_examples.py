"""The examples and experiments made for the lecture notes do what their descriptions promise:
the predictors find the formulas, the wide network overfits and regularisation cures it,
initialisation decides whether a deep network learns, and three optimizers share one landscape."""

from pathlib import Path

import numpy as np
import pytest
import torch

import resources
from engine import compile_graph
from engine.data import load_dataset
from engine.insight import InsightError
from engine.training import TrainingConfig, shared_landscape, train
from engine.training.experiment import average_gradients, variant_messages
from engine.training.loop import LANDSCAPE_SAMPLES, loss_value
from engine.training.messages import EpochMetrics, Finished, FittedCurve, GradientFlow, WeightPath
from graphs import load_graph
from graphs.experiment import load_experiment

FOLDER = resources.examples_folder()


def example_run(name: str, **changes) -> list:
    graph = load_graph(FOLDER / name)
    return list(train(graph, TrainingConfig.from_dict(graph.training).replace(**({"device": "cpu"} | changes))))


def experiment_runs(name: str, **changes) -> dict[str, list]:
    """Every message of every variant, by variant name (each with the file's settings and ``changes``)."""
    experiment = load_experiment(FOLDER / f"{name}.experiment.json")
    found: dict[str, list] = {}
    for variant in experiment.variants:
        graph = load_graph(variant.graph)
        config = TrainingConfig.from_dict(graph.training).replace(**({"device": "cpu"} | changes))
        found[variant.name] = list(train(graph, config))
        assert isinstance(found[variant.name][-1], Finished), found[variant.name][-1]
    return found


def epochs(messages) -> list[EpochMetrics]:
    return [m for m in messages if isinstance(m, EpochMetrics)]


@pytest.mark.slow
@pytest.mark.parametrize("name, truth", [("predictor_quadratic.loom", lambda x: 0.5 * x ** 2 - x + 1),
                                         ("predictor_sin3x.loom", lambda x: 0.5 + 0.3 * x + np.sin(3 * x))])
def test_the_notes_linear_predictors_find_their_formulas(name, truth):
    messages = example_run(name)
    curve = [m for m in messages if isinstance(m, FittedCurve)][-1]
    assert np.abs(curve.y[:, 0] - truth(curve.x)).max() < 0.15       # noise 0.1 on 160 samples
    assert epochs(messages)[-1].val_loss < 0.02


@pytest.mark.slow
def test_the_overfitting_example_overfits_visibly():
    found = epochs(example_run("overfitting.loom", probes=False))
    val = np.array([e.val_loss for e in found])
    train_loss = np.array([e.train_loss for e in found])
    best = int(val.argmin())
    assert best < len(found) // 3                            # the validation loss turns early ...
    assert val[-1] > 2.5 * val[best]                         # ... and rises far while ...
    assert train_loss[-1] < train_loss[best] / 5             # ... the training loss keeps falling
    assert found[-1].train_accuracy == 1.0 and found[-1].val_accuracy < 0.95


@pytest.mark.slow
def test_dropout_l2_and_l1_each_keep_the_validation_loss_down():
    runs = experiment_runs("regularisation", probes=False)
    final = {name: epochs(messages)[-1] for name, messages in runs.items()}
    assert list(final) == ["no regularisation", "dropout 0.5", "L2 0.01", "L1 0.001"]
    plain = final["no regularisation"].val_loss
    for name in ("dropout 0.5", "L2 0.01", "L1 0.001"):
        assert final[name].val_loss < 0.6 * plain, (name, final[name].val_loss, plain)
    assert final["L1 0.001"].penalty > 0 and final["no regularisation"].penalty is None


@pytest.mark.slow
def test_initialisation_decides_whether_the_deep_network_learns():
    runs = experiment_runs("initialisation")
    assert list(runs) == ["init normal σ 0.01", "init normal σ 1", "init xavier", "init kaiming"]
    depth = {name: average_gradients(name, [m for m in messages if isinstance(m, GradientFlow)])
             for name, messages in runs.items()}
    final = {name: epochs(messages)[-1] for name, messages in runs.items()}
    small = depth["init normal σ 0.01"].mean_abs_grad
    assert small[0] < 1e-4 * small[-1]                       # the first layer gets nothing ...
    assert final["init normal σ 0.01"].val_accuracy == pytest.approx(0.5)     # ... and nothing is learned
    xavier = depth["init xavier"].mean_abs_grad
    assert 0.1 < xavier[0] / xavier[-1] < 10                 # every layer gets a gradient of one size
    assert final["init xavier"].val_accuracy > 0.8 and final["init kaiming"].val_accuracy > 0.8


@pytest.mark.slow
def test_sgd_momentum_and_adam_share_one_landscape_from_their_common_start():
    experiment = load_experiment(FOLDER / "optimizers.experiment.json")
    paths = {name: m for name, m in variant_messages(experiment, epochs=3) if isinstance(m, WeightPath)}
    assert list(paths) == ["SGD lr 0.1", "SGD lr 0.1 momentum 0.9", "Adam lr 0.01"]
    graph = load_graph(experiment.variants[0].graph)
    config = TrainingConfig.from_dict(graph.training)
    found = shared_landscape(graph, config, paths, resolution=15)
    for name, points in found.paths.items():
        np.testing.assert_allclose(points[0], [0, 0], atol=1e-5)          # every path starts at the centre
        assert found.end_losses[name] < found.landscape.centre_loss       # and goes downhill
        assert found.captured[name] > 0.5
    torch.manual_seed(config.seed)
    start = compile_graph(graph).eval()                      # the weights every variant starts from
    data = load_dataset(config.dataset, **config.dataset_options)
    with torch.no_grad():
        loss = loss_value(config.loss, start(data.x_train[:LANDSCAPE_SAMPLES]), data.y_train[:LANDSCAPE_SAMPLES])
    assert found.landscape.centre_loss == pytest.approx(loss.item(), rel=1e-5)
    assert found.landscape.losses[7, 7] == pytest.approx(loss.item(), rel=1e-5)
    ends = {name: points[-1] for name, points in found.paths.items()}
    assert np.linalg.norm(ends["SGD lr 0.1 momentum 0.9"]) > np.linalg.norm(ends["SGD lr 0.1"])   # momentum goes further
    # runs that do not start together cannot share it
    other = dict(paths)
    shifted = paths["Adam lr 0.01"]
    other["moved"] = WeightPath(shifted.steps, shifted.weights + 0.01)
    with pytest.raises(InsightError, match="moved starts from other weights than SGD lr 0.1"):
        shared_landscape(graph, config, other)


def test_every_experiment_file_of_the_library_opens():
    titles = {load_experiment(p).title.split(":")[0] for p in Path(FOLDER).glob("*.experiment.json")}
    assert {"Vanishing gradients", "Regularisation", "Initialisation", "Optimizers on one loss landscape"} <= titles

"""The bundled architecture library: every example checks clean, compiles and trains a step;
the classic ImageNet networks have torchvision's exact parameter counts."""

from pathlib import Path

import pytest
import torch

from engine import check, compile_graph
from engine.interop.exporter import example_inputs
from engine.training import TrainingConfig, train
from engine.training.messages import EpochMetrics, Finished
from graphs import load_graph

FOLDER = Path(__file__).resolve().parents[2] / "resources" / "examples"
EXAMPLES = sorted(FOLDER.glob("*.loom"))
EXPERIMENT_GRAPHS = sorted(FOLDER.glob("*/*.loom"))      # the variants of the experiments
LOCAL_DATA = ("image_folder", "cifar10")      # these read the person's own files


def test_the_library_has_every_promised_architecture():
    names = {p.stem for p in EXAMPLES}
    assert {"perceptron", "mlp_spiral", "lenet5", "lenet_digits", "cifar10_convnet", "alexnet", "vgg16", "resnet18",
            "inception_module", "resnext_block", "unet", "conv_autoencoder", "char_lstm", "gru_classifier",
            "transformer_classifier", "word2vec_skipgram", "alexnet_torchvision", "keras_cnn", "playground_features",
            "predictor_quadratic", "predictor_sin3x", "surface_regression", "overfitting", "sentiment_lstm",
            "sine_forecast", "wave_generator"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES + EXPERIMENT_GRAPHS, ids=lambda p: str(p.relative_to(FOLDER)))
def test_every_example_checks_compiles_and_runs_forward_and_backward(path):
    graph = load_graph(path)
    assert len(graph.metadata["description"]) > 40
    report = check(graph)
    assert report.ok and not report.warnings, report.diagnostics
    model = compile_graph(graph, report)
    inputs = example_inputs(graph, batch=2)
    out = model(*inputs)
    out = out if isinstance(out, tuple) else (out,)
    assert tuple(out[0].shape[1:]) == report.shapes[graph.outputs()[0]]
    out[0].float().square().mean().backward()
    assert all(p.grad is not None for p in model.parameters())
    TrainingConfig.from_dict(graph.training)          # its training section is valid


@pytest.mark.parametrize("name, parameters", [("alexnet_torchvision", 61_100_840), ("vgg16", 138_357_544),
                                              ("resnet18", 11_689_512), ("alexnet", 62_378_344),
                                              ("keras_cnn", 1_668_490)])
def test_classics_have_their_published_parameter_counts(name, parameters):
    """torchvision's for its three; the single-stream AlexNet of the lecture notes (96-256-384-384-256
    filters on 227x227); the notes' Keras CNN as model.summary() counts it. The examples train on
    the bundled digits with 10 classes: with ImageNet's 1,000 in their last layer, they have the
    published counts."""
    graph = load_graph(next(p for p in EXAMPLES if p.stem == name))
    head = graph.in_edges(graph.outputs()[0])[0].src
    assert graph.nodes[head].type == "Linear" and graph.nodes[head].params["out_features"] == 10
    if name != "keras_cnn":
        graph.set_params(head, out_features=1000)
    assert check(graph).total_params == parameters


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in EXAMPLES + EXPERIMENT_GRAPHS
                                  if TrainingConfig.from_dict(load_graph(p).training).dataset not in LOCAL_DATA],
                         ids=lambda p: str(p.relative_to(FOLDER)))
def test_examples_with_bundled_data_train_an_epoch(path):
    graph = load_graph(path)
    config = TrainingConfig.from_dict(graph.training).replace(epochs=1, device="cpu", probes=False)
    if config.dataset == "digits":
        # The digits at the example's own size and colours, through the path Train takes, but
        # a few of them: AlexNet at 227x227 and VGG-16 take a minute an epoch on two cores.
        config = config.replace(dataset_options=config.dataset_options | {"per_class": 3, "val_fraction": 0.02})
    messages = list(train(graph, config))
    assert isinstance(messages[-1], Finished), messages[-1]
    epoch = [m for m in messages if isinstance(m, EpochMetrics)][0]
    assert torch.isfinite(torch.tensor(epoch.val_loss))


@pytest.mark.slow
def test_the_perceptron_separates_two_clouds_the_gru_reads_digits_and_the_lstm_reads_sentiment():
    for name, goal in (("perceptron", 0.95), ("gru_classifier", 0.95), ("sentiment_lstm", 0.8)):
        graph = load_graph(next(p for p in EXAMPLES if p.stem == name))
        final = list(train(graph, TrainingConfig.from_dict(graph.training).replace(device="cpu", probes=False)))[-1]
        assert final.val_accuracy >= goal, (name, final)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["sine_forecast", "wave_generator"])
def test_the_wave_examples_learn_their_sequences(name):
    """Many to many and one to many: the mean squared error on validation waves ends far below
    the variance of a sine (0.5), which a model that ignored its input would get."""
    graph = load_graph(next(p for p in EXAMPLES if p.stem == name))
    final = list(train(graph, TrainingConfig.from_dict(graph.training).replace(device="cpu", probes=False)))[-1]
    assert isinstance(final, Finished) and final.val_loss < 0.02, final

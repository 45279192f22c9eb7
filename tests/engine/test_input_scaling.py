"""Input scaling is part of the graph: a Normalize step after the Input holds the statistics its
data set is standardised with, training fills them in, and the model (and every export of it)
takes raw values; a graph without one says in its exports what scaling its inputs need."""

import importlib.util
import re

import pytest
import torch

from engine import check, compile_graph
from engine.data import (
    as_graph_takes,
    data_statistics,
    input_normalizer,
    load_dataset,
    raw_values,
    statistics_edit,
)
from engine.interop import python_source
from engine.training import TrainingConfig, export_note, input_statistics, train
from engine.training.messages import Finished, RunStarted
from graphs import Graph, GraphError, dumps_graph, loads_graph
from tests.helpers import chain


def normalized(shape=(3, 4, 4), **params) -> Graph:
    g = Graph(name="scaled")
    x = g.add_node("Input", shape=list(shape))
    norm = g.add_node("Normalize", **params)
    g.connect(x, norm)
    g.connect(norm, g.add_node("Output"))
    return g


def test_normalize_scales_each_channel_and_keeps_its_statistics_in_the_state_dict():
    g = normalized(mean=[0.5, 0.25, 0.0], std=[0.5, 0.25, 2.0])
    report = check(g)
    assert report.ok and report.shapes["norm1"] == (3, 4, 4) and report.params["norm1"] == 0
    model = compile_graph(g, report)
    x = torch.rand(2, 3, 4, 4)
    expected = (x - torch.tensor([0.5, 0.25, 0.0]).view(3, 1, 1)) / torch.tensor([0.5, 0.25, 2.0]).view(3, 1, 1)
    assert torch.allclose(model(x), expected)
    assert {k: v.tolist() for k, v in model.state_dict().items()} == {"norm1.mean": [0.5, 0.25, 0.0],
                                                                     "norm1.std": [0.5, 0.25, 2.0]}
    one = compile_graph(normalized(shape=(6,), mean=[1.0], std=[2.0]))        # one value for every feature
    assert torch.equal(one(torch.full((1, 6), 3.0)), torch.ones(1, 6))


def test_statistics_that_do_not_fit_the_channels_are_named_on_the_node_with_a_fix():
    report = check(normalized(mean=[0.5, 0.5], std=[1.0]))
    assert [d.node for d in report.errors] == ["norm1"]
    assert report.errors[0].message == ("norm1: mean holds 2 values but its 3x4x4 input has 3 channels: give one value "
                                        "or 3")
    assert report.errors[0].fix.value == [0.5]
    with pytest.raises(GraphError, match="'std' must be at least 1e-06, not 0"):
        normalized(std=[0.0])
    with pytest.raises(GraphError, match="'mean' must be a number"):
        normalized(mean=["a"])


def test_the_normalizer_is_the_step_the_input_feeds_and_the_data_set_hands_it_raw_values():
    digits = load_dataset("digits")
    mean, std = data_statistics(digits)
    assert mean == [0.305937] and std == [0.37649]            # the training part's, as the file keeps them
    g = chain("Normalize", "Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    assert input_normalizer(g) == "norm1" and input_normalizer(chain("ReLU", input_shape=(4,))) is None
    raw = as_graph_takes(digits, g)
    pixels = load_dataset("digits", normalize=False)
    assert torch.allclose(raw.x_train, pixels.x_train, atol=1e-6) and "mean" not in raw.extra
    assert data_statistics(raw) == ([0.305937], [0.37649])    # kept for filling the node
    assert as_graph_takes(digits, chain("ReLU", input_shape=(1, 8, 8))) is digits
    edit = statistics_edit(g, data_statistics(digits))
    g.apply(edit)
    assert g.nodes["norm1"].params == {"mean": [0.305937], "std": [0.37649]}
    assert statistics_edit(g, data_statistics(digits)) is None          # already there
    g.revert(edit)
    assert g.nodes["norm1"].params == {"mean": [0.0], "std": [1.0]}


def test_a_run_fills_in_the_statistics_and_trains_exactly_as_the_data_set_standardising_would():
    config = TrainingConfig(epochs=1, batch_size=64, probes=False, device="cpu", seed=3)
    plain = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "ReLU", "Flatten", ("Linear", {"out_features": 10}),
                  input_shape=(1, 8, 8))
    scaled = loads_graph(dumps_graph(plain))
    scaled.apply(scaled.insert_between_edit(scaled.out_edges("input1")[0], "Normalize"))
    runs = {}
    for name, graph in (("plain", plain), ("scaled", scaled)):
        messages = list(train(graph, config))
        runs[name] = (messages[0], messages[-1])
    started, finished = runs["scaled"]
    assert isinstance(finished, Finished) and isinstance(started, RunStarted)
    assert started.input_scaling == "norm1 normalises the inputs with the statistics of digits: mean 0.3059, std 0.3765"
    assert "expects normalised inputs" in runs["plain"][0].input_scaling
    assert scaled.nodes["norm1"].params["mean"] == [0.0]            # the caller's graph is left as it was
    assert finished.val_loss == pytest.approx(runs["plain"][1].val_loss, rel=1e-4)


def test_which_statistics_is_the_settings_choice_and_imagenets_do_not_fit_grey_pictures():
    digits = load_dataset("digits", image_size=32, color=True)
    assert input_statistics(digits, TrainingConfig(normalize="imagenet")) == ([0.485, 0.456, 0.406],
                                                                            [0.229, 0.224, 0.225])
    assert input_statistics(raw_values(digits), TrainingConfig()) == data_statistics(digits)
    grey = chain("Normalize", "Flatten", ("Linear", {"out_features": 10}), input_shape=(1, 8, 8))
    grey.set_training({"dataset": "digits", "normalize": "imagenet"})
    failed = list(train(grey, TrainingConfig(normalize="imagenet", epochs=1, device="cpu", probes=False)))[-1]
    assert "norm1: mean holds 3 values but its 1x8x8 input has 1 channel" in failed.reason


def test_colour_digits_are_real_digits_in_colours_that_say_nothing_about_the_class():
    grey = load_dataset("digits", image_size=32, normalize=False)
    colour = load_dataset("digits", image_size=32, color=True, normalize=False)
    assert colour.input_shape == (3, 32, 32) and colour.num_classes == 10
    assert torch.equal(colour.y_train, grey.y_train)
    assert torch.equal(colour.x_train, load_dataset("digits", image_size=32, color=True, normalize=False).x_train)
    corners = colour.x_train[:, :, 0, 0]                            # the background of each picture
    assert corners.std(0).min() > 0.08                              # colours vary from picture to picture (0 to 0.4)
    by_class = torch.stack([corners[colour.y_train == c].mean(0) for c in range(10)])
    assert (by_class.max(0).values - by_class.min(0).values).max() < 0.15   # and not with the class
    ink = colour.x_train - colour.x_train[:, :, :1, :1]             # where the digit is drawn, far from the background
    assert float(ink.abs().amax(dim=(2, 3)).min()) > 0.15
    with pytest.raises(ValueError, match="color and as_sequence do not go together"):
        load_dataset("digits", color=True, as_sequence=True)


@pytest.mark.slow
def test_the_exported_lenet_scores_on_raw_digits_as_the_trained_model_does(tmp_path):
    """The exported file takes pixels as the data set holds them and scores what training reported."""
    import resources
    from graphs import load_graph
    graph = load_graph(resources.example("lenet_digits.loom"))
    config = TrainingConfig.from_dict(graph.training).replace(epochs=3, probes=False, device="cpu",
                                                              checkpoint_dir=str(tmp_path / "run"))
    final = list(train(graph, config))[-1]
    assert isinstance(final, Finished) and final.val_accuracy > 0.8
    from engine.training import load_weights
    state = load_weights(str(tmp_path / "run" / "last.safetensors"))
    path = tmp_path / "lenet.py"
    path.write_text(python_source(graph, note=export_note(graph, state)), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert "The model takes raw values (pixels from 0 to 1: scikit-learn's digits divided by 16)" in text
    spec = importlib.util.spec_from_file_location("lenet_export", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    exported = getattr(module, re.findall(r"^class (\w+)\(nn\.Module\)", text, re.M)[-1])(weights=None).eval()
    exported.load_state_dict(state)
    pixels = load_dataset("digits", normalize=False)
    with torch.no_grad():
        accuracy = int((exported(pixels.x_val).argmax(1) == pixels.y_val).sum()) / len(pixels.y_val)
    assert accuracy == pytest.approx(final.val_accuracy, abs=1e-9)


def test_a_graph_without_a_normalize_step_says_in_its_export_what_its_inputs_need():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3}), "Flatten", ("Linear", {"out_features": 10}),
              input_shape=(1, 8, 8))
    g.set_training({"dataset": "digits"})
    note = export_note(g)
    assert note.startswith("Inputs need scaling first: the model was trained on digits normalised with the "
                           "statistics of digits, so give it (x - mean) / std per channel (feature) with mean 0.3059 "
                           "and std 0.3765")
    assert "(x - mean) / std" in python_source(g, note=note).replace("\n", " ")
    g.set_training({"dataset": "spiral"})
    assert export_note(g) == ""                               # points are not normalised: nothing to say

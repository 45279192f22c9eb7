"""Activation functions and their derivatives as the inspector plots them: the notes' formulas."""

import numpy as np
import pytest
import torch

from engine import compile_graph
from engine.insight import InsightError, layer_parameters, module_of
from engine.insight.activations import ACTIVATIONS, activation_curve
from tests.helpers import chain


def test_sigmoid_tanh_and_relu_have_the_notes_derivatives():
    sigmoid = activation_curve("Sigmoid", points=101)
    s = 1 / (1 + np.exp(-sigmoid.x))
    np.testing.assert_allclose(sigmoid.y, s, atol=1e-12)
    np.testing.assert_allclose(sigmoid.slope, s * (1 - s), atol=1e-12)
    assert sigmoid.slope.max() == pytest.approx(0.25) and abs(sigmoid.x[np.argmax(sigmoid.slope)]) < 1e-12
    assert "at most 1/4" in sigmoid.derivative
    tanh = activation_curve("Tanh", low=-3, high=3, points=61)
    np.testing.assert_allclose(tanh.slope, 1 - np.tanh(tanh.x) ** 2, atol=1e-12)
    relu = activation_curve("ReLU", low=-2, high=2, points=5)
    assert relu.x.tolist() == [-2, -1, 0, 1, 2]
    assert relu.y.tolist() == [0, 0, 0, 1, 2] and relu.slope.tolist() == [0, 0, 0, 1, 1]
    assert relu.formula == "max(0, x)"


def test_parameters_and_trained_slopes_shape_the_curve():
    leaky = activation_curve("LeakyReLU", {"negative_slope": 0.2}, low=-1, high=1, points=3)
    assert leaky.y.tolist() == [-0.2, 0, 1] and leaky.slope.tolist() == [0.2, 0.2, 1]
    learned = torch.nn.PReLU(4, init=0.3)
    assert activation_curve("PReLU", module=learned, low=-1, high=1, points=3).slope[0] == pytest.approx(0.3)
    for name in ACTIVATIONS:          # every catalog activation of one number plots
        curve = activation_curve(name, points=11)
        assert curve.y.shape == curve.slope.shape == (11,) and np.isfinite(curve.slope).all()


def test_what_cannot_be_plotted_is_said():
    with pytest.raises(InsightError, match="Softmax is not an activation of one number .a function of a whole vector"):
        activation_curve("Softmax")
    with pytest.raises(InsightError, match="Conv2d is not an activation"):
        activation_curve("Conv2d")
    with pytest.raises(InsightError, match="LeakyReLU: 'negative_slope' must be at most 1"):
        activation_curve("LeakyReLU", {"negative_slope": 5})
    with pytest.raises(InsightError, match="ELU has no parameter 'beta'"):
        activation_curve("ELU", {"beta": 1})
    with pytest.raises(InsightError, match="from a smaller to a larger"):
        activation_curve("ReLU", low=1, high=-1)
    with pytest.raises(InsightError, match="points must be between 2 and 10000"):
        activation_curve("ReLU", points=10**6)


def test_a_layers_weights_for_the_inspector_and_a_trained_prelu_slope():
    graph = chain(("Linear", {"out_features": 3}), ("PReLU", {"init": 0.1}), input_shape=(4,))
    model = compile_graph(graph)
    found = layer_parameters(model, "fc1")
    assert set(found) == {"weight", "bias"} and found["weight"].shape == (3, 4)
    np.testing.assert_array_equal(found["weight"], model.fc1.weight.detach().numpy())
    assert layer_parameters(model, "input1") == {}
    with torch.no_grad():
        module_of(model, "prelu1").weight.fill_(0.4)
    assert activation_curve("PReLU", module=module_of(model, "prelu1"), low=-1, high=1, points=3).y[0] == \
        pytest.approx(-0.4)

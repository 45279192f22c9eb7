"""The Features layer: TensorFlow Playground's feature toggles for 2-D points, and the notes'
feature vectors of one number ([1, x, x²], [1, x, sin 3x] with a Linear layer's bias)."""

import math

import pytest
import torch

from engine import check, compile_graph
from engine.interop.exporter import export_pt2, python_source
from graphs import SetParam, categories, feature_labels
from tests.helpers import chain


def test_each_toggle_adds_its_feature_in_order():
    params = {"x1": True, "x2": False, "x1_squared": True, "x1_times_x2": True, "sin_x2": True, "frequency": 3.0}
    graph = chain(("Features", params), input_shape=(2,))
    assert check(graph).shapes["features1"] == (4,)
    x = torch.tensor([[0.5, -2.0], [1.0, 3.0]])
    out = compile_graph(graph)(x)
    a, b = x[:, 0], x[:, 1]
    assert torch.allclose(out, torch.stack([a, a * a, a * b, torch.sin(3 * b)], dim=1))
    assert feature_labels(graph.nodes["features1"].params, 2) == ["x1", "x1²", "x1·x2", "sin 3x2"]


def test_one_number_gives_the_notes_feature_vectors():
    quadratic = chain(("Features", {"x2": False, "x1_squared": True}), ("Linear", {"out_features": 1}), input_shape=(1,))
    report = check(quadratic)
    assert report.ok and report.shapes["features1"] == (2,) and report.params["fc1"] == 3    # w·[1, x, x²]
    model = compile_graph(quadratic)
    with torch.no_grad():
        model.fc1.weight.copy_(torch.tensor([[2.0, -1.0]]))
        model.fc1.bias.fill_(0.5)
    assert model(torch.tensor([[3.0]])).item() == pytest.approx(0.5 + 2 * 3 - 9)
    wave = {"x2": False, "sin_x1": True, "frequency": 3.0}
    assert feature_labels(wave, 1) == ["x", "sin 3x"]
    out = compile_graph(chain(("Features", wave), input_shape=(1,)))(torch.tensor([[0.5]]))
    assert out[0].tolist() == pytest.approx([0.5, math.sin(1.5)])


def test_features_that_cannot_be_made_are_errors_with_a_fix():
    found = check(chain("Features", input_shape=(1,))).errors      # x2 is on by default
    assert [d.message for d in found] == ["features1: x2 uses x2, but each sample has one number (x): switch it off"]
    assert found[0].fix == SetParam("features1", "x2", False)
    off = {"x1": False, "x2": False}
    assert check(chain(("Features", off), input_shape=(2,))).errors[0].fix == SetParam("features1", "x1", True)
    assert "gets 5" in check(chain("Features", input_shape=(5,))).errors[0].message
    assert "needs a 1-D input" in check(chain("Features", input_shape=(1, 8, 8))).errors[0].message


def test_the_palette_offers_it_and_export_carries_it(tmp_path):
    assert [s.type for s in categories()["Features"]] == ["Features"]
    graph = chain(("Features", {"x1_times_x2": True, "sin_x1": True}), ("Linear", {"out_features": 3}), input_shape=(2,))
    compiled = compile_graph(graph).eval()
    namespace: dict = {}
    exec(compile(python_source(graph), "model.py", "exec"), namespace)      # the exported file defines Features itself
    exported = next(c for c in namespace.values() if isinstance(c, type) and issubclass(c, torch.nn.Module)
                    and c.__name__ != "Features")().eval()
    exported.load_state_dict(compiled.state_dict())
    x = torch.randn(5, 2)
    assert torch.allclose(exported(x), compiled(x))
    export_pt2(graph, tmp_path / "m.pt2", compiled.state_dict())
    assert torch.allclose(torch.export.load(str(tmp_path / "m.pt2")).module()(x), compiled(x), atol=1e-6)

"""ONNX files in: a file written here by torch.onnx.export comes back as a graph that computes
what the original model and onnxruntime compute; without the extra the message names it."""

import importlib.util
import warnings

import pytest
import torch
from torch import nn

from engine import check, compile_graph
from engine.interop import import_source, load_source_module
from engine.interop.onnx_import import fold_identities


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 8 * 8, 5)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(torch.relu(self.bn(self.conv(x)))), 1))


def write_onnx(model: nn.Module, path, shape=(1, 3, 16, 16)) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.randn(*shape),), str(path), dynamo=False)


def test_an_onnx_file_round_trips_and_matches_onnxruntime(tmp_path):
    pytest.importorskip("onnx2torch")
    pytest.importorskip("onnxruntime")
    import onnx
    torch.manual_seed(0)
    model = SmallNet().eval()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
    path = tmp_path / "small.onnx"
    write_onnx(model, path)
    # The older exporter reads some weights through an alias: Identity(weight) -> the layer.
    proto = onnx.load(str(path))
    conv = next(n for n in proto.graph.node if n.op_type == "Conv")
    proto.graph.node.insert(0, onnx.helper.make_node("Identity", [conv.input[1]], ["conv_weight_alias"]))
    conv.input[1] = "conv_weight_alias"
    onnx.save(proto, str(path))
    assert "Identity" not in {n.op_type for n in fold_identities(onnx.load(str(path))).graph.node}
    imported = import_source(str(path), None)
    graph, state = imported.graph, imported.state
    assert {"Conv2d", "MaxPool2d", "Linear"} <= {n.type for n in graph.nodes.values()}
    assert check(graph).total_params == imported.parameters
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(compiled(x), model(x), atol=1e-4)


def test_onnx_problems_are_named(tmp_path):
    if importlib.util.find_spec("onnx2torch") is None:
        with pytest.raises(ValueError, match=r"needs the onnx extra: pip install 'netloom\[onnx\]'"):
            load_source_module(str(tmp_path / "model.onnx"), None)
        return
    with pytest.raises(ValueError, match="model.onnx: no such file"):
        load_source_module(str(tmp_path / "model.onnx"), None)
    (tmp_path / "text.onnx").write_text("not a model")
    with pytest.raises(ValueError, match="text.onnx: not an ONNX model"):
        load_source_module(str(tmp_path / "text.onnx"), None)
    two = tmp_path / "two.onnx"

    class Two(nn.Module):
        def forward(self, a, b):
            return a + b
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(Two(), (torch.randn(1, 3), torch.randn(1, 3)), str(two), dynamo=False)
    with pytest.raises(ValueError, match="the model takes 2 inputs"):
        load_source_module(str(two), None)

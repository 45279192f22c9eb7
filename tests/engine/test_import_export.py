"""Into and out of ordinary PyTorch code: import any traceable module exactly, refuse what
cannot be expressed, export standalone Python, TorchScript and ONNX that compute the same."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
from safetensors.torch import save_file
from torch import nn

from engine import check, compile_graph
from engine.interop.exporter import ExportError, export_onnx, export_pt2, export_python, export_torchscript
from engine.interop.importer import ImportProblem, import_module
from graphs import dumps_graph, loads_graph
from tests.engine.networks import lstm_graph, residual_graph

ROOT = Path(__file__).resolve().parents[2]


def same_outputs(module, graph, state, x, tolerance=1e-5):
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    module.eval()
    with torch.no_grad():
        return torch.allclose(module(x), compiled(x), atol=tolerance, rtol=tolerance)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "vgg16", "alexnet", "mobilenet_v2"])
def test_torchvision_models_import_exactly(name):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    x = torch.randn(1, 3, 224, 224)
    graph, state = import_module(model, x)
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())
    graph = loads_graph(dumps_graph(graph))            # and it survives the file format
    assert same_outputs(model, graph, state, x)
    assert all(pos is not None for pos in graph.positions.values()) and len(graph.positions) == len(graph.nodes)


class SkipNet(nn.Module):
    """Hand-written, with functional calls and a skip connection."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.proj = nn.Conv2d(3, 8, 1)
        self.head = nn.Linear(8 * 16 * 16, 5)

    def forward(self, x):
        y = F.relu(self.bn(self.conv(x)))
        y = y + self.proj(x)
        return self.head(y.view(y.size(0), -1)).softmax(dim=-1)


def test_a_hand_written_module_with_a_skip_connection():
    model = SkipNet()
    x = torch.randn(2, 3, 16, 16)
    graph, state = import_module(model, x)
    types = sorted(n.type for n in graph.nodes.values())
    assert types.count("Add") == 1 and "Flatten" in types and "Softmax" in types and "ReLU" in types
    add = next(n for n in graph.nodes.values() if n.type == "Add")
    assert len(graph.in_edges(add.id)) == 2
    assert same_outputs(model, graph, state, x)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 32, batch_first=True, num_layers=2)
        self.out = nn.Linear(32, 3)

    def forward(self, tokens):
        seq, _ = self.lstm(self.embed(tokens))
        return self.out(seq[:, -1])


def test_a_recurrent_model_maps_to_the_last_step_port():
    model = Recurrent()
    tokens = torch.randint(0, 50, (4, 12))
    graph, state = import_module(model, tokens)
    assert graph.nodes["tokens"].params == {"shape": [12], "dtype": "int64"}
    assert graph.in_edges("out")[0].src_port == "last"
    assert same_outputs(model, graph, state, tokens)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.norm = nn.InstanceNorm1d(4)
        self.other = nn.InstanceNorm1d(4)

    def forward(self, x):
        y = self.fc(x) * 2.0
        y = torch.clamp(y, 0, 1)
        y = self.norm(y.unsqueeze(1)).squeeze(1)
        return y + self.other(x.unsqueeze(1)).squeeze(1) + torch.special.i0(x)


def test_what_cannot_be_mapped_is_listed_with_where_it_occurs():
    with pytest.raises(ImportProblem) as info:
        import_module(Unsupported(), torch.randn(2, 4), tracer="fx")
    problems = info.value.problems
    # Each cause once, where it occurs; what merely follows a refused step is not listed again.
    assert problems == ["norm (InstanceNorm1d): no NetLoom layer for InstanceNorm1d",
                        "other (InstanceNorm1d): no NetLoom layer for InstanceNorm1d",
                        "special_i0 (function special_i0): no NetLoom layer or operation for torch.special_i0"]


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


def test_control_flow_that_fx_cannot_trace_is_refused():
    with pytest.raises(ImportProblem, match="torch.fx cannot trace Branchy"):
        import_module(Branchy(), torch.randn(2, 4))


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


def test_shared_weights_are_refused_not_duplicated():
    with pytest.raises(ImportProblem, match="the same layer is used twice"):
        import_module(Shared(), torch.randn(2, 4))


def random_state(graph):
    torch.manual_seed(3)
    return {k: v for k, v in compile_graph(graph).state_dict().items()}


@pytest.mark.slow
@pytest.mark.parametrize("build", [lstm_graph, residual_graph], ids=["lstm", "residual"])
def test_exported_python_runs_without_netloom_and_matches(build, tmp_path):
    graph = build()
    state = random_state(graph)
    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "w.safetensors"))
    export_python(graph, tmp_path / "model.py", weights="w.safetensors")
    shape = graph.nodes[graph.inputs()[0]].params["shape"]
    x = torch.randn(3, *shape)
    torch.save(x, tmp_path / "x.pt")
    script = (f"import sys, torch; sys.path.insert(0, {str(tmp_path)!r}); import model; "
              f"m = [c for c in vars(model).values() if isinstance(c, type) and issubclass(c, torch.nn.Module) "
              f"and c.__module__ == 'model'][0]().eval(); "
              f"torch.save(m(torch.load({str(tmp_path / 'x.pt')!r})), {str(tmp_path / 'y.pt')!r})")
    # A fresh interpreter whose path holds neither this project nor its packages but torch's.
    result = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    with torch.no_grad():
        assert torch.allclose(torch.load(tmp_path / "y.pt"), compiled(x), atol=1e-6)
    assert "netloom" not in (tmp_path / "model.py").read_text().lower().replace("exported from netloom", "")


def test_pt2_export_runs_any_batch_size_and_matches(tmp_path):
    graph = residual_graph()
    state = random_state(graph)
    export_pt2(graph, tmp_path / "m.pt2", state)
    program = torch.export.load(str(tmp_path / "m.pt2")).module()
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    for batch in (1, 2, 7):
        x = torch.randn(batch, 16, 16, 16)
        with torch.no_grad():
            assert torch.allclose(program(x), compiled(x), atol=1e-5)


def test_pt2_export_with_a_fixed_batch_refuses_another_batch_size(tmp_path):
    graph = residual_graph()
    export_pt2(graph, tmp_path / "m.pt2", dynamic_batch=False)
    program = torch.export.load(str(tmp_path / "m.pt2")).module()
    assert program(torch.randn(2, 16, 16, 16)).shape[0] == 2
    with pytest.raises(AssertionError, match=r"Guard failed: .*size\(\)\[0\] == 2"):
        program(torch.randn(3, 16, 16, 16))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch deprecates TorchScript; kept while it works
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_export_loads_and_matches(tmp_path):
    graph = residual_graph()
    state = random_state(graph)
    export_torchscript(graph, tmp_path / "m.pt", state)
    loaded = torch.jit.load(str(tmp_path / "m.pt"))
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    x = torch.randn(2, 16, 16, 16)
    with torch.no_grad():
        assert torch.allclose(loaded(x), compiled(x), atol=1e-6)


def test_onnx_export_is_checked_and_compared_when_available(tmp_path):
    graph = residual_graph()
    try:
        import onnx  # noqa: F401
    except ImportError:
        with pytest.raises(ExportError, match="ONNX export needs the onnx package"):
            export_onnx(graph, tmp_path / "m.onnx")
        return
    state = random_state(graph)
    export_onnx(graph, tmp_path / "m.onnx", state)
    try:
        import onnxruntime
    except ImportError:
        return
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    x = torch.randn(2, 16, 16, 16)
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    with torch.no_grad():
        expected = compiled(x).numpy()
    got = session.run(None, {"input1": x.numpy()})[0]
    assert abs(got - expected).max() < 1e-4

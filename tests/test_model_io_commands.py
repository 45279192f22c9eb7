"""``python main.py import`` and ``export`` as a person uses them."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine import check, compile_graph
from graphs import load_graph

pytestmark = pytest.mark.slow     # each test runs main.py in a fresh interpreter

ROOT = Path(__file__).resolve().parent.parent


def run(*args, cwd):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_import_torchvision_then_export_and_run_the_code(tmp_path):
    result = run("import", "torchvision:alexnet", "alex.loom", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "imported torchvision:alexnet: 24 nodes, 61,100,840 parameters" in result.stdout
    assert (tmp_path / "alex.safetensors").exists()
    assert check(load_graph(tmp_path / "alex.loom")).total_params == 61_100_840
    result = run("export", "alex.loom", "--to", "py", "alex.py", "--weights", "alex.safetensors", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ran = subprocess.run([sys.executable, "-I", str(tmp_path / "alex.py")], capture_output=True, text=True,
                         timeout=300, cwd=tmp_path)
    assert ran.returncode == 0 and ran.stdout.strip() == "output 1: (2, 1000)", ran.stderr


MODEL_FILE = '''
import pytest
import torch
from torch import nn


class Tiny(nn.Module):
    example_input_shape = [6]

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(6, 6)
        self.b = nn.Linear(6, 2)

    def forward(self, x):
        return self.b(torch.tanh(self.a(x)) + x)
'''


@pytest.mark.filterwarnings("ignore::DeprecationWarning")   # torch deprecates TorchScript; kept while it works
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_import_a_class_from_a_python_file_and_export_torchscript(tmp_path):
    (tmp_path / "tiny.py").write_text(MODEL_FILE)
    result = run("import", "tiny.py:Tiny", "tiny.loom", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    graph = load_graph(tmp_path / "tiny.loom")
    assert sorted(n.type for n in graph.nodes.values()) == ["Add", "Input", "Linear", "Linear", "Output", "Tanh"]
    result = run("export", "tiny.loom", "--to", "torchscript", "tiny.pt", "--weights", "tiny.safetensors", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    scripted = torch.jit.load(str(tmp_path / "tiny.pt"))
    from safetensors.torch import load_file
    compiled = compile_graph(graph)
    compiled.load_state_dict(load_file(tmp_path / "tiny.safetensors"))
    x = torch.randn(3, 6)
    assert torch.allclose(scripted(x), compiled(x), atol=1e-6)


def test_export_a_training_checkpoint_as_a_pt2_program(tmp_path):
    lenet = str(ROOT / "resources" / "examples" / "lenet_digits.loom")
    result = run("train", lenet, "--epochs", "1", "--device", "cpu", "--checkpoint-dir", "ck", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    result = run("export", lenet, "--to", "pt2", "lenet.pt2", "--weights", "ck/last.safetensors", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    from engine.training.checkpoint import load_weights
    compiled = compile_graph(load_graph(lenet)).eval()
    compiled.load_state_dict(load_weights(tmp_path / "ck" / "last.safetensors"))
    program = torch.export.load(str(tmp_path / "lenet.pt2")).module()
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(program(x), compiled(x), atol=1e-5)


def test_import_and_export_problems_are_clear(tmp_path):
    (tmp_path / "bad.py").write_text("import torch\nclass Net(torch.nn.Module):\n"
                                     "    def forward(self, x):\n        return torch.special.i0(x)\n")
    result = run("import", "bad.py:Net", "bad.loom", "--input-shape", "4", cwd=tmp_path)
    assert result.returncode == 1
    assert "cannot import this module exactly" in result.stderr and "torch.special_i0" in result.stderr
    assert not (tmp_path / "bad.loom").exists()
    onnx = run("import", "model.onnx", "x.loom", cwd=tmp_path)
    installed = importlib.util.find_spec("onnx2torch") is not None
    assert onnx.returncode == 1
    assert ("model.onnx: no such file" if installed else "needs the onnx extra: pip install 'netloom[onnx]'") in onnx.stderr
    assert "torchvision has no model 'resnet1000'" in run("import", "torchvision:resnet1000", "x.loom", cwd=tmp_path).stderr
    assert "give the shape of one input with --input-shape" in run("import", "bad.py:Net", "x.loom", cwd=tmp_path).stderr
    lenet = str(ROOT / "resources" / "examples" / "lenet_digits.loom")
    result = run("export", lenet, "--to", "py", "x.py", "--weights", "missing.safetensors", cwd=tmp_path)
    assert result.returncode == 1 and "missing.safetensors: no such file" in result.stderr


MODELS = """
import torch
from torch import nn


class Broken(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x)[:, :, None] @ torch.ones(3, 3)


class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) if x.sum() > 0 else x


class IdentityAdd(nn.Module):
    def __init__(self):
        super().__init__()
        self.res_scale1 = nn.Identity()
        self.norm1 = nn.LayerNorm(4)
        self.mix = nn.Linear(4, 4)
        self.norm2 = nn.LayerNorm(4)

    def forward(self, x):
        x = self.res_scale1(x) + self.mix(self.norm1(x))
        return self.norm2(x)
"""


def test_import_never_prints_a_traceback(tmp_path):
    (tmp_path / "models.py").write_text(MODELS)
    broken = run("import", "models.py:Broken", "a.loom", "--input-shape", "4", cwd=tmp_path)
    assert broken.returncode == 1 and "Traceback" not in broken.stderr
    assert "Broken fails on the example inputs once traced: mat1 and mat2 shapes cannot be multiplied" in broken.stderr
    branches = run("import", "models.py:Branches", "b.loom", "--input-shape", "4", cwd=tmp_path)
    assert branches.returncode == 1 and "Traceback" not in branches.stderr
    assert "torch.fx cannot trace Branches" in branches.stderr
    added = run("import", "models.py:IdentityAdd", "c.loom", "--input-shape", "5,4", cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("imported models.py:IdentityAdd: ")
    assert check(load_graph(tmp_path / "c.loom")).ok

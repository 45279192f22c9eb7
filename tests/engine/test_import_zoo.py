"""Importing the model zoo: one torchvision model of each family that needs general operations,
learned tensors or the newer layers, and the common hand-written styles (a ViT with a class
token, channel shuffle, squeeze-and-excitation, layer scale, chunk and split).

Each import must be exact on a second input it never saw, with the same parameter count, after
the graph goes through the file format; export to Python must compute the same again."""

import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from engine import check, compile_graph, import_module
from engine.interop.exporter import python_source
from graphs import dumps_graph, loads_graph


def small_vit():
    from torchvision.models.vision_transformer import VisionTransformer
    return VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64)


def small_maxvit():
    from torchvision.models.maxvit import MaxVit
    return MaxVit(input_size=(64, 64), stem_channels=16, partition_size=2, block_channels=[16, 32],
                  block_layers=[1, 1], head_dim=8, stochastic_depth_prob=0.1)


# name -> (constructor arguments, image side): the smallest input each family takes, for time.
# ViT and MaxViT are built small from torchvision's own classes: the same code, fewer layers.
BUILT_SMALL = {"vit": (small_vit, 32), "maxvit": (small_maxvit, 64)}
FAMILIES = {
    "densenet121": ({}, 64),
    "efficientnet_b0": ({}, 64),
    "mnasnet0_5": ({}, 64),
    "mobilenet_v3_small": ({}, 64),
    "shufflenet_v2_x0_5": ({}, 64),
    "regnet_y_400mf": ({}, 64),
    "squeezenet1_1": ({}, 64),
    "convnext_tiny": ({}, 64),
    "vit": ({}, 32),
    "maxvit": ({}, 64),
    "googlenet": ({"aux_logits": False, "init_weights": False}, 64),
}


def imported(model: nn.Module, x: torch.Tensor):
    model.eval()
    graph, state = import_module(model, x, tolerance=1e-4)
    graph = loads_graph(dumps_graph(graph))           # what a saved file gives back
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    return graph, state, compiled


def assert_exact(model, compiled, x):
    with torch.no_grad():
        expected, got = model(x), compiled(x)
    assert got.shape == expected.shape
    assert float((expected - got).abs().max()) <= 1e-4 * max(1.0, float(expected.abs().max()))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(FAMILIES))
def test_each_torchvision_family_imports_exactly(name):
    torch.manual_seed(0)
    arguments, side = FAMILIES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = (BUILT_SMALL[name][0]() if name in BUILT_SMALL else
                 torchvision.models.get_model(name, weights=None, **arguments)).eval()
    graph, _, compiled = imported(model, torch.randn(1, 3, side, side))
    report = check(graph)
    assert report.total_params == sum(p.numel() for p in model.parameters())
    # A correct model gets no advice: a warning's fix would change what an exact import computes
    # (a block's inner warnings show on its use, so this covers every level).
    assert [d.message for d in report.diagnostics] == []
    assert_exact(model, compiled, torch.randn(3, 3, side, side))     # another batch size, other values


class TinyViT(nn.Module):
    """A vision transformer written as timm writes one: patches, a class token and a position
    embedding held as parameters, fused attention with heads split off in front of the batch
    axis, layer scale, and the class token read back with x[:, 0]."""

    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.heads = heads
        self.patch = nn.Conv2d(3, dim, 4, 4)
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 5, dim))
        self.norm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), 0.1))
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        B, N, C = x.shape
        qkv = self.qkv(self.norm(x)).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attended = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, N, C)
        x = x + self.gamma * self.proj(attended)
        return self.head(x[:, 0])


class ShuffleUnit(nn.Module):
    """ShuffleNet's unit, written out: split, channel shuffle through x.size(), and squeeze-and-
    excitation gating."""

    def __init__(self, channels=8, groups=2):
        super().__init__()
        self.groups = groups
        self.branch = nn.Sequential(nn.Conv2d(channels // 2, channels // 2, 3, padding=1), nn.ReLU())
        self.squeeze = nn.Conv2d(channels, 2, 1)
        self.excite = nn.Conv2d(2, channels, 1)

    def forward(self, x):
        kept, changed = x.chunk(2, dim=1)
        x = torch.cat([kept, self.branch(changed)], dim=1)
        b, c, h, w = x.size()
        x = x.view(b, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous().view(b, c, h, w)
        scale = torch.sigmoid(self.excite(F.relu(self.squeeze(x.mean((2, 3), keepdim=True)))))
        first, rest = torch.split(x * scale, [3, 5], dim=1)
        return torch.cat([rest, first], dim=1)


@pytest.mark.parametrize("make, shape", [(TinyViT, (3, 8, 8)), (ShuffleUnit, (8, 6, 6))], ids=["vit", "shuffle"])
def test_hand_written_styles_import_export_and_run_exactly(make, shape):
    torch.manual_seed(1)
    model = make().eval()
    graph, state, compiled = imported(model, torch.randn(2, *shape))
    other = torch.randn(5, *shape)
    assert_exact(model, compiled, other)
    namespace: dict = {"__name__": "exported"}
    exec(compile(python_source(graph), "exported.py", "exec"), namespace)
    exported = namespace[type(compiled).__name__]().eval()
    exported.load_state_dict(state)
    assert_exact(model, exported, other)


def test_learned_tensors_become_parameter_nodes_with_their_values_in_the_weights():
    torch.manual_seed(2)
    model = TinyViT().eval()
    graph, state, _ = imported(model, torch.randn(2, 3, 8, 8))
    parameters = {n.id: n for n in graph.nodes.values() if n.type == "Parameter"}
    assert sorted(parameters) == ["cls_token", "gamma", "pos_embed"]
    assert parameters["pos_embed"].params["shape"] == [1, 5, 16]
    assert torch.equal(state["gamma"], model.gamma.detach())
    report = check(graph)
    assert str(report.tensors[("pos_embed", "out")]) == "1x5x16 (no batch axis)"
    # q, k and v stacked in front of the batch axis, as the model's own code has them
    stacked = next(n for n in graph.nodes.values() if n.type == "Function" and n.params["op"] == "permute")
    assert str(report.tensors[(stacked.id, "out")]) == "3xbatchx2x5x8"
    split = next(n for n in graph.nodes.values() if n.type == "Function" and n.params["op"] == "unbind")
    assert [str(report.tensors[(split.id, f"out{i}")]) for i in (1, 2, 3)] == ["2x5x8"] * 3


def test_shape_arithmetic_is_stored_as_literals_and_the_batch_size():
    model = ShuffleUnit().eval()
    graph, _, compiled = imported(model, torch.randn(2, 8, 6, 6))
    functions = [n.params for n in graph.nodes.values() if n.type == "Function"]
    # x.view(b, groups, c // groups, h, w): a Reshape keeps the batch axis; x.mean((2, 3), keepdim=True)
    assert any(n.type == "Reshape" and n.params["shape"] == [2, 4, 6, 6] for n in graph.nodes.values())
    assert {"op": "mean", "args": [{"tensor": 0}, [2, 3]], "kwargs": {"keepdim": True}, "outputs": 1} in functions
    assert any(f["op"] == "split" and f["outputs"] == 2 for f in functions)
    assert_exact(model, compiled, torch.randn(7, 8, 6, 6))      # b = x.size() read again at any batch


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) if x.mean() > 0 else x


class MeansOverTheBatch(nn.Module):
    def forward(self, x):
        return x - x.mean(0)


class NotWhitelisted(nn.Module):
    def forward(self, x):
        return torch.special.i0(x) + torch.fft.fft(x).real


def test_the_refusals_left_name_the_step_and_why():
    with pytest.raises(Exception, match="torch.fx cannot trace DataDependent"):
        import_module(DataDependent(), torch.randn(2, 4))
    with pytest.raises(Exception, match="mixes the samples of a batch"):
        import_module(MeansOverTheBatch(), torch.randn(2, 4))
    with pytest.raises(Exception) as caught:
        import_module(NotWhitelisted(), torch.randn(2, 4))
    assert "special_i0 (function special_i0): no NetLoom layer or operation for torch.special_i0" in str(caught.value)
    assert "fft" in str(caught.value)

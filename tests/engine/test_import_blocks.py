"""The importer keeps a module's hierarchy: its own submodule classes become blocks, one
definition per class and structure, with the numbers that differ between uses (channels,
strides) as the block's parameters, and the weights keep their code's names."""

import importlib.util

import pytest
import torch
import torchvision
from torch import nn

from engine import check, compile_graph
from engine.interop.exporter import python_source
from engine.interop.importer import ImportProblem, import_module
from graphs import dumps_graph, loads_graph
from graphs.block_edits import flattened


@pytest.mark.slow
def test_resnet50_opens_as_a_stem_sixteen_bottlenecks_and_a_head():
    torch.manual_seed(0)
    model = torchvision.models.resnet50(weights=None).eval()
    graph, state = import_module(model, torch.randn(1, 3, 64, 64))     # exactness is checked inside
    types = [n.type for n in graph.nodes.values()]
    uses = [n.id for n in graph.nodes.values() if n.type in graph.blocks]
    assert len(uses) == 16 and uses[0] == "layer1_0" and uses[-1] == "layer4_2"
    assert types[:5] == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "MaxPool2d"]
    assert types[-4:] == ["AdaptiveAvgPool2d", "Flatten", "Linear", "Output"]
    assert len(graph.nodes) == 25
    # the first of each stage (with its downsample path) and the rest: two structures, each one
    # block whose widths and stride are parameters, as the class takes them in torchvision
    assert sorted(graph.blocks) == ["Bottleneck", "Bottleneck2"]
    first = graph.blocks["Bottleneck"]
    assert [n.type for n in first.nodes.values()].count("Conv2d") == 4          # three and the downsample
    assert first.parameters == {"out_channels": 64, "stride": 1, "conv3_out_channels": 256}
    assert first.nodes["conv2"].params["stride"] == first.nodes["downsample_0"].params["stride"] == {"param": "stride"}
    assert {k: v for k, v in graph.nodes["layer3_0"].params.items() if k != "repeat"} == {
        "out_channels": 256, "stride": 2, "conv3_out_channels": 1024}
    assert [n.type for n in graph.nodes.values() if n.type in graph.blocks].count("Bottleneck2") == 12
    assert "layer1_0.downsample_0.weight" in state and "layer4_2.conv3.weight" in state
    assert check(graph).total_params == sum(p.numel() for p in model.parameters())


@pytest.mark.slow
def test_the_imported_blocks_survive_the_file_and_compute_as_the_module():
    torch.manual_seed(1)
    model = torchvision.models.resnet18(weights=None).eval()
    x = torch.randn(2, 3, 48, 48)
    graph, state = import_module(model, x)
    again = loads_graph(dumps_graph(graph))
    # plain blocks, and the first of a later stage (which downsamples): one block each
    assert set(again.blocks) == set(graph.blocks) == {"BasicBlock", "BasicBlock2"}
    assert graph.nodes["layer1_0"].type == graph.nodes["layer4_1"].type == "BasicBlock"
    assert graph.nodes["layer2_0"].type == "BasicBlock2"          # with its downsample path
    compiled = compile_graph(again).eval()
    compiled.load_state_dict(state)
    flat = compile_graph(flattened(again)).eval()
    with torch.no_grad():
        expected = model(x)
        assert torch.allclose(compiled(x), expected, atol=1e-5)
        flat.load_state_dict({k: v for k, v in zip(flat.state_dict(), compiled.state_dict().values())})
        assert torch.allclose(flat(x), expected, atol=1e-5)


class Pair(nn.Module):
    """Two inputs, two results: the block gets a port for each."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 4), nn.Linear(4, 4)

    def forward(self, x, y):
        return self.a(x) + y, torch.relu(self.b(y))


class UsesPair(nn.Module):
    def __init__(self):
        super().__init__()
        self.pair = Pair()
        self.head = nn.Linear(4, 2)

    def forward(self, x, y):
        s, t = self.pair(x, y)
        return self.head(s * t)


def test_a_block_with_two_inputs_and_two_results_is_wired_port_by_port():
    graph, state = import_module(UsesPair(), (torch.randn(3, 4), torch.randn(3, 4)))
    body = graph.blocks["Pair"]
    assert list(body.inputs()) == ["x", "y"] and list(body.outputs()) == ["out1", "out2"]
    into_pair = sorted((e.src, e.dst_port) for e in graph.edges if e.dst == "pair")
    assert into_pair == [("x", "x"), ("y", "y")]
    assert sorted(e.src_port for e in graph.edges if e.src == "pair") == ["out1", "out2"]
    assert set(state) == {"pair.a.weight", "pair.a.bias", "pair.b.weight", "pair.b.bias", "head.weight", "head.bias"}


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(4, 4), nn.RReLU())

    def forward(self, x):
        return self.inner(x)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Unsupported()

    def forward(self, x):
        return self.block(x)


def test_a_problem_inside_a_block_names_the_layer_by_its_full_path():
    with pytest.raises(ImportProblem) as caught:
        import_module(Outer(), torch.randn(2, 4))
    assert any("block.inner.1 (RReLU): no NetLoom layer for RReLU" in p for p in caught.value.problems)



def test_densenet_layers_become_blocks_that_take_the_concatenation_and_read_as_a_chain(tmp_path):
    from torchvision.models.densenet import DenseNet
    torch.manual_seed(0)
    model = DenseNet(growth_rate=4, block_config=(3, 2), num_init_features=8, bn_size=2, num_classes=5).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    graph, state = import_module(model, torch.randn(1, 3, 32, 32))     # exact in both modes, checked inside
    # trying the joined call left no trace: weights and BatchNorm statistics as they were
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    uses = [n for n in graph.nodes.values() if n.type in graph.blocks]
    assert list(graph.blocks) == ["DenseLayer"] and len(uses) == 5         # one block, used by each of the 3 + 2 layers
    assert uses[0].id == "features_denseblock1_denselayer1"
    assert graph.nodes[uses[0].id].origin == "features.denseblock1.denselayer1"
    # each layer's input is the Concat of the one before and that layer's own output: a chain
    # with short skips, not a wire from every layer to every later one
    concats = [n.id for n in graph.nodes.values() if n.type == "Concat"]
    assert len(concats) == 5 and all(len(graph.in_edges(c)) == 2 for c in concats)
    assert len(graph.nodes) == 25
    assert "features_denseblock1_denselayer1.conv1.weight" in state
    graph = loads_graph(dumps_graph(graph))
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(compiled(x), model(x), atol=1e-5)
    assert check(graph).diagnostics == []
    # exported, the layer is a class that takes the joined maps, and torchvision's weights load unchanged
    path = tmp_path / "densenet_export.py"
    path.write_text(python_source(graph), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("densenet_export", path)
    exported = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(exported)
    assert "class DenseLayer(nn.Module):" in path.read_text(encoding="utf-8")
    written = exported.DenseNet().eval()
    assert written.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.allclose(written(x), model(x), atol=1e-5)


def test_a_module_passed_a_list_it_does_not_simply_join_is_traced_through():
    class SumOfMaps(nn.Module):            # adds the maps: their concatenation would give another result
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 1)

        def forward(self, maps):
            return self.conv(sum(maps))

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Conv2d(2, 2, 3, padding=1)
            self.mix = SumOfMaps()

        def forward(self, x):
            return self.mix([x, self.stem(x)])

    graph, _ = import_module(Model().eval(), torch.randn(1, 2, 8, 8))
    assert not graph.blocks
    assert [n.type for n in graph.nodes.values()].count("Add") == 1 and "mix_conv" in graph.nodes

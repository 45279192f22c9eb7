"""Blocks in the engine: shapes and totals through blocks, problems inside them, modules whose
state-dict keys read like hand-written PyTorch, and exported code with one class per block."""

import importlib.util
from pathlib import Path

import pytest
import torch

import resources
from engine import check, compile_graph
from engine.checking.checker import Checker
from engine.interop.exporter import python_source
from graphs import load_graph
from graphs.block_edits import flattened
from tests.helpers import residual_graph

GOLDEN_V2 = Path(__file__).resolve().parents[1] / "data" / "v2" / "golden.loom"


def test_shapes_parameters_and_multiply_adds_flow_through_a_block():
    report = check(residual_graph(repeat=3, channels=4))
    assert report.ok, report.diagnostics
    assert report.shapes["layer1"] == (4, 8, 8)
    one_copy = 2 * (4 * 4 * 9 + 4)
    assert report.params["layer1"] == 3 * one_copy          # the block node shows its totals
    assert report.macs["layer1"] == 3 * 2 * (4 * 4 * 9 * 64)
    assert report.total_params == 3 * one_copy + (4 * 64 * 10 + 10)


def test_a_problem_inside_a_block_is_marked_on_the_block_node_naming_the_layer():
    g = residual_graph()
    g.blocks["Residual"].set_params("conv1", kernel_size=11)
    report = check(g)
    assert [d.node for d in report.errors] == ["layer1"]
    assert "layer1: inside copy 1 of Residual: conv1:" in report.errors[0].message
    assert "11x11" in report.errors[0].message


def test_a_value_that_suits_no_layer_is_named_with_the_layer_it_feeds():
    g = residual_graph()
    g.blocks["Residual"].set_params("conv1", kernel_size=g.blocks["Residual"].param("channels"))
    g.set_params("layer1", channels=2000)
    report = check(g)
    assert "conv1.kernel_size = channels: 'kernel_size' must be at most 1024" in report.errors[0].message


def test_a_followed_graph_is_checked_again_when_a_block_is_edited():
    g = residual_graph()
    checker = Checker()
    assert checker.check(g).ok
    g.blocks["Residual"].set_params("conv2", out_channels=5)          # the Add now gets 5 and 4 channels
    report = checker.check(g)
    assert not report.ok and report.errors[0].node == "layer1"


def test_repeat_needs_one_input_and_one_output():
    g = load_graph(GOLDEN_V2)
    g.set_params("mix", repeat=2)
    report = check(g)
    assert report.errors[0].node == "mix"
    assert "repeat 2 chains copies, which needs a block with one input and one output; Mix has 2 and 2" \
        in report.errors[0].message


def test_a_graph_with_blocks_computes_what_its_flattened_form_computes():
    g = load_graph(GOLDEN_V2)
    model, flat = compile_graph(g).eval(), compile_graph(flattened(g)).eval()
    # layer1.0.conv1.weight in the block model is layer1_0_conv1.weight once written out
    renamed = {k.rsplit(".", 1)[0].replace(".", "_") + "." + k.rsplit(".", 1)[1]: v
               for k, v in model.state_dict().items()}
    flat.load_state_dict(renamed)
    x = torch.randn(3, 4, 8, 8)
    for a, b in zip(model(x), flat(x), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.slow
def test_resnet18_keys_are_torchvisions_and_its_weights_load_unchanged():
    torchvision = pytest.importorskip("torchvision")
    g = load_graph(resources.example("resnet18.loom"))
    assert len(g.nodes) == 14             # the input's scaling, a stem, four stages and a head
    g.set_params("fc", out_features=1000)                       # ImageNet's head (the example has 10 classes)
    model = compile_graph(g).eval()
    reference = torchvision.models.resnet18().eval()
    # Every key is torchvision's; the Normalize step's statistics come on top (strict=False takes them).
    assert [k for k in model.state_dict() if not k.startswith("norm.")] == list(reference.state_dict())
    assert model.load_state_dict(reference.state_dict(), strict=False).missing_keys == ["norm.mean", "norm.std"]
    model.norm.mean.fill_(0.0)
    model.norm.std.fill_(1.0)             # as torchvision's model, which takes the inputs as they come
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)
    assert type(model.layer2).__name__ == "Stage" and type(model.layer1[0]).__name__ == "BasicBlock"


def _run_export(tmp_path, graph, name):
    path = tmp_path / f"{name}.py"
    path.write_text(python_source(graph), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path.read_text(encoding="utf-8"), module


def test_python_export_writes_one_class_per_block_taking_the_blocks_parameters(tmp_path):
    g = load_graph(resources.example("resnet18.loom"))
    text, module = _run_export(tmp_path, g, "resnet18_export")
    assert text.count("class BasicBlock(nn.Module):") == 1
    assert "    def __init__(self, channels=64):" in text
    assert "self.conv2 = nn.Conv2d(channels, out_channels=channels, kernel_size=3" in text
    assert "    def __init__(self, in_channels, channels=128, stride=2):" in text     # Downsample
    assert "self.layer1 = nn.Sequential(BasicBlock(channels=64), BasicBlock(channels=64))" in text
    assert "self.layer3 = Stage(in_channels=128, channels=256)" in text
    exported, compiled = module.ResNet18().eval(), compile_graph(g).eval()
    exported.load_state_dict(compiled.state_dict())
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(exported(x), compiled(x))


def test_exported_blocks_with_several_ports_and_nesting_compute_the_same(tmp_path):
    g = load_graph(GOLDEN_V2)
    text, module = _run_export(tmp_path, g, "golden_export")
    assert "self.first = ConvBN(in_channels=width, channels=width, stride=1)" in text
    exported, compiled = module.GoldenV2().eval(), compile_graph(g).eval()
    exported.load_state_dict(compiled.state_dict())
    x = torch.randn(2, 4, 8, 8)
    with torch.no_grad():
        for a, b in zip(exported(x), compiled(x), strict=True):
            assert torch.equal(a, b)


def test_a_use_that_would_expand_beyond_the_limit_is_an_error_not_an_allocation():
    from graphs import Graph
    g = Graph()
    inner = g.define_block("Inner")
    chain = inner.add_node("Input", id="x", shape=[4])
    for i in range(100):
        relu = inner.add_node("ReLU", id=f"r{i}")
        inner.connect(chain, relu)
        chain = relu
    inner.connect(chain, inner.add_node("Output", id="out"))
    outer = g.define_block("Outer")
    ox = outer.add_node("Input", id="x", shape=[4])
    use = outer.add_node("Inner", id="inner", repeat=1000)
    outer.connect(ox, use)
    outer.connect(use, outer.add_node("Output", id="out"))
    x = g.add_node("Input", shape=[4])
    big = g.add_node("Outer", id="big", repeat=1000)
    g.connect(x, big)
    g.connect(big, g.add_node("Output"))
    report = check(g)
    assert report.errors[0].node == "big"
    assert "expands to 100,000,000 layers; a graph may hold at most 200,000" in report.errors[0].message


def test_an_opened_block_is_checked_as_the_use_computes_it_and_marks_the_layer_inside():
    graph = load_graph(resources.example("resnet18.loom"))
    checker = Checker()
    report = checker.check(graph)
    body, inside = checker.inside(graph, report, [("Stage", "layer4"), ("DownBlock", "0")])
    assert inside.ok and inside.shapes["x"] == (256, 2, 2) and inside.shapes["out"] == (512, 1, 1)     # 32x32 input
    assert body.nodes["conv1"].params["out_channels"] == 512          # bound: a number, not a reference
    assert sum(inside.params.values()) == sum(
        p.numel() for n, p in compile_graph(graph).named_parameters() if n.startswith("layer4.0."))
    graph.blocks["DownBlock"].set_params("conv2", kernel_size=5)      # 5x5 with padding 1 shrinks the map
    report = checker.check(graph)
    assert [d.node for d in report.errors] == ["layer2"]
    _, inside = checker.inside(graph, report, [("Stage", "layer2"), ("DownBlock", "0")])
    assert [d.node for d in inside.errors] == ["add"]
    assert "128x2x2 and 128x4x4" in inside.errors[0].message
    _, alone = checker.inside(graph, report, [("DownBlock", None)])    # on its own: defaults
    assert alone.errors[0].node == "add"

"""The compiled graph is the same network as one written by hand in PyTorch."""

import pytest
import torch
from torch import fx

from engine import CompileError, check, compile_graph
from graphs import CATALOG, Graph
from tests.engine.networks import PAIRS
from tests.helpers import chain


@pytest.mark.parametrize("name", list(PAIRS))
def test_same_parameters_and_outputs_as_hand_written(name):
    hand_cls, build, shape = PAIRS[name]
    torch.manual_seed(0)
    hand = hand_cls()
    compiled = compile_graph(build())
    assert isinstance(compiled, fx.GraphModule)
    def count(m):
        return sum(p.numel() for p in m.parameters())
    assert count(compiled) == count(hand)
    compiled.load_state_dict(hand.state_dict())      # same names: the node ids
    x = torch.randn(5, *shape)
    for mode in ("train", "eval"):
        getattr(hand, mode)(), getattr(compiled, mode)()
        torch.manual_seed(1)
        expected = hand(x)
        torch.manual_seed(1)
        assert torch.allclose(compiled(x), expected, atol=1e-6, rtol=0)


def test_forward_takes_inputs_in_order_and_returns_outputs_in_order():
    g = Graph(name="two heads")
    a = g.add_node("Input", shape=[4])
    b = g.add_node("Input", shape=[6])
    cat = g.add_node("Concat", dim=1)
    g.connect(a, cat); g.connect(b, cat)
    fc = g.add_node("Linear", out_features=3)
    g.connect(cat, fc)
    first, second = g.add_node("Output"), g.add_node("Output")
    g.connect(fc, first); g.connect(cat, second)
    model = compile_graph(g)
    xa, xb = torch.randn(2, 4), torch.randn(2, 6)
    out_fc, out_cat = model(xa, xb)
    assert out_fc.shape == (2, 3)
    assert torch.equal(out_cat, torch.cat([xa, xb], dim=1))
    assert type(model).__name__ == "TwoHeads"
    assert "self.fc1(" in model.code and "def forward(self, input1, input2)" in model.code


def test_a_graph_with_errors_is_refused_with_its_diagnostics():
    g = chain(("Conv2d", {"out_channels": 4, "kernel_size": 9}), input_shape=(1, 8, 8))
    with pytest.raises(CompileError, match="conv1: kernel 9x9 is larger than its 8x8 input") as info:
        compile_graph(g)
    assert [d.node for d in info.value.diagnostics] == ["conv1"]


def example_graph(type_name):
    """A small graph around one layer of every catalog type."""
    spec = CATALOG[type_name]
    dtype, shape = "float32", (4, 8, 8)
    if spec.input_ranks == (2,) or type_name in ("Permute", "BatchNorm1d", "LayerNorm", "Linear"):
        shape = (6, 8)
    if spec.input_ranks == (4,):          # volumes and videos
        shape = (4, 4, 8, 8)
    if type_name == "Embedding":
        dtype, shape = "int64", (6,)
    if type_name == "Features":          # features of 2-D points
        shape = (2,)
    if not spec.inputs:        # Parameter, Constant: added to what flows in, as a position embedding is
        g = Graph(name=type_name)
        x, n = g.add_node("Input", shape=list(shape)), g.add_node(type_name, shape=list(shape))
        add = g.add_node("Add")
        g.connect(x, add); g.connect(n, add)
        g.connect(add, g.add_node("Output"))
        return g
    if len(spec.inputs) > 1:      # a decoder: its target and its memory, each from an Input
        g = Graph(name=type_name)
        n = g.add_node(type_name)
        for port in spec.inputs:
            g.connect(g.add_node("Input", shape=list(shape)), n, dst_port=port.name)
        g.connect(n, g.add_node("Output"))
        return g
    if spec.inputs and spec.inputs[0].multiple and type_name != "Function":   # Function: x0 * 2 by default
        g = Graph(name=type_name)
        a, b = g.add_node("Input", shape=list(shape)), g.add_node("Input", shape=list(shape))
        n = g.add_node(type_name)
        g.connect(a, n); g.connect(b, n)
        g.connect(n, g.add_node("Output"))
        return g
    return chain(type_name, input_shape=shape, dtype=dtype, name=type_name)


@pytest.mark.parametrize("type_name", [t for t in CATALOG if t not in ("Input", "Output")])
def test_every_catalog_layer_compiles_and_trains(type_name):
    g = example_graph(type_name)
    model = compile_graph(g)
    inputs = []
    for node_id in g.inputs():
        p = g.nodes[node_id].params
        if p["dtype"] == "int64":
            inputs.append(torch.randint(0, 5, (3, *p["shape"])))
        else:
            inputs.append(torch.randn(3, *p["shape"], requires_grad=True))
    out = model(*inputs)
    from engine import check
    assert tuple(out.shape[1:]) == check(g).shapes["output1"]
    out.float().sum().backward()
    grads = [p.grad for p in model.parameters()] + [x.grad for x in inputs if x.is_floating_point()]
    assert grads and all(gr is not None for gr in grads)


@pytest.mark.parametrize("identity_first", [True, False])
@pytest.mark.parametrize("feeds", ["Add", "Output"])
def test_a_pass_through_node_whose_input_also_feeds_others_compiles_and_computes(identity_first, feeds):
    """``x = self.res_scale1(x) + self.mix(self.norm1(x))`` with ``res_scale1 = nn.Identity()``:
    an Identity hands on its input without taking it from the input's other readers, whichever
    of them the forward reaches first, and also when it feeds an Output directly."""
    g = Graph(name="fan out")
    x = g.add_node("Input", shape=[8])
    norm = g.add_node("LayerNorm")
    first, second = ("Identity", "Linear") if identity_first else ("Linear", "Identity")
    made = {first: g.add_node(first, **({"out_features": 8} if first == "Linear" else {})),
            second: g.add_node(second, **({"out_features": 8} if second == "Linear" else {}))}
    ident, fc = made["Identity"], made["Linear"]
    g.connect(x, norm); g.connect(norm, ident); g.connect(norm, fc)
    if feeds == "Add":
        add = g.add_node("Add")
        g.connect(ident, add); g.connect(fc, add); g.connect(add, g.add_node("Output"))
    else:
        g.connect(ident, g.add_node("Output")); g.connect(fc, g.add_node("Output"))
    assert check(g).ok
    model = compile_graph(g)
    torch.manual_seed(0)
    sample = torch.randn(3, 8)
    normed = getattr(model, norm)(sample)
    expected = (normed, getattr(model, fc)(normed))
    got = model(sample)
    if feeds == "Add":
        assert torch.allclose(got, expected[0] + expected[1])
    else:
        assert all(torch.allclose(a, b) for a, b in zip(got, expected))

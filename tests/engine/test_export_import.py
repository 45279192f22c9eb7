"""The second import tracer (torch.export): what it rebuilds, and what it refuses by name."""

import pytest
import torch
from torch import nn

from bench.training_parity import train_difference
from engine import compile_graph
from engine.interop.importer import ImportProblem, import_module


class Stage(nn.Module):
    """A residual convolution with batch norm and dropout: a block of its own."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm2d(channels)
        self.drop = nn.Dropout(0.3)

    def forward(self, x):
        return x + self.drop(torch.relu(self.bn(self.conv(x))))


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.stages = nn.Sequential(Stage(8), Stage(8))
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))


def test_a_network_imports_with_its_blocks_and_trains_as_the_original():
    torch.manual_seed(0)
    net = Net()
    x = torch.randn(2, 3, 8, 8)
    graph, state = import_module(net, x, tracer="export")
    assert [n.type for n in graph.nodes.values()] == ["Input", "Conv2d", "Stage", "Stage", "Function", "Linear", "Output"]
    assert sorted(graph.blocks) == ["Stage"]         # one definition, used twice
    body = graph.blocks["Stage"]
    assert [n.type for n in body.nodes.values()] == ["Input", "Conv2d", "BatchNorm2d", "ReLU", "Dropout", "Add", "Output"]
    compiled = compile_graph(graph).eval()
    compiled.load_state_dict(state)
    bigger = torch.randn(5, 3, 8, 8)            # any batch size, not only the example's
    assert torch.allclose(compiled(bigger), net.eval()(bigger), atol=1e-5)
    # dropout and batch statistics as the module trains; running statistics updated as it does
    assert train_difference(net, graph, state, (x,)) is None
    # the comparison sees what evaluation cannot: statistics kept otherwise, dropout dropped
    graph.blocks["Stage"].nodes["bn"].params["momentum"] = 0.5
    assert str(train_difference(net, graph, state, (x,))).startswith("buffer stages.0.bn.running_mean differs by")


class Odd(nn.Module):
    def forward(self, x):
        return torch.special.i0(x) + 1


class WithOdd(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.inner = Odd()

    def forward(self, x):
        return self.inner(self.fc(x))


def test_an_operation_with_no_netloom_equivalent_is_refused_naming_it_and_its_module():
    with pytest.raises(ImportProblem) as caught:
        import_module(WithOdd(), torch.randn(2, 4), tracer="export")
    assert caught.value.problems == [
        "inner (Odd): no NetLoom layer or operation for the ATen operation aten.special_i0.default"]


def test_auto_lists_what_each_tracer_said_when_both_refuse():
    with pytest.raises(ImportProblem) as caught:
        import_module(WithOdd(), torch.randn(2, 4))
    assert any(p.startswith("with torch.fx: ") and "torch.special_i0" in p for p in caught.value.problems)
    assert any(p.startswith("with torch.export: ") and "aten.special_i0" in p for p in caught.value.problems)


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.head = nn.Linear(4, 10, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids):
        return self.head(self.embed(ids))


def test_tied_weights_are_refused_by_name_not_untied():
    with pytest.raises(ImportProblem, match=r"head \(Linear\): shares the learned tensor .*weight with embed "
                                            r"\(Embedding\) \(tied weights\)"):
        import_module(Tied(), torch.randint(0, 10, (2, 3)), tracer="export")


class Sampler(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.mean = nn.Linear(4, 2)

    def forward(self, x):
        mean = self.mean(x)
        return mean * 2 if self.training else torch.tanh(mean)


class Counter(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.register_buffer("seen", torch.zeros(()))

    def forward(self, x):
        self.seen += x.shape[0]
        return self.fc(x)


def test_what_would_train_otherwise_is_refused_by_name():
    with pytest.raises(ImportProblem) as caught:
        import_module(nn.Sequential(nn.Linear(3, 4), Sampler()), torch.randn(2, 3), tracer="export")
    assert caught.value.problems == ["1 (Sampler): computes otherwise while training than while evaluating (mul where "
                                     "evaluating has tanh): a branch on self.training, which a graph cannot follow"]
    with pytest.raises(ImportProblem) as caught:
        import_module(Counter(), torch.randn(2, 4), tracer="export")
    assert caught.value.problems == ["Counter: changes the buffer seen in place as it runs (add_), which a graph "
                                     "cannot follow"]


def test_a_tracer_that_does_not_exist_is_named():
    with pytest.raises(ValueError, match="tracer 'jit': give one of auto, fx, export"):
        import_module(Counter(), torch.randn(2, 4), tracer="jit")

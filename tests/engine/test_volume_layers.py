"""The layers for volumes, videos and signals (Conv3d, ConvTranspose1d/3d, MaxPool3d, AvgPool3d,
AdaptiveAvgPool1d/3d, BatchNorm3d): each compiles to the network written by hand with torch's
own layer, in training and evaluation, and exports as Python code that computes the same."""

import pytest
import torch
from torch import nn

from engine import check, compile_graph
from engine.interop.exporter import python_source
from tests.helpers import chain

VOLUME = (3, 4, 8, 8)
SIGNAL = (3, 10)
# type, its parameters, the same layer written by hand, the input of one sample
CASES = {
    "Conv3d": ({"out_channels": 5, "kernel_size": [1, 3, 3], "stride": [1, 2, 2], "padding": [0, 1, 1]},
               lambda: nn.Conv3d(3, 5, (1, 3, 3), (1, 2, 2), (0, 1, 1)), VOLUME),
    "ConvTranspose3d": ({"out_channels": 2, "kernel_size": 2, "stride": 2},
                        lambda: nn.ConvTranspose3d(3, 2, 2, 2), VOLUME),
    "ConvTranspose1d": ({"out_channels": 4, "kernel_size": 3, "stride": 2, "output_padding": 1},
                        lambda: nn.ConvTranspose1d(3, 4, 3, 2, output_padding=1), SIGNAL),
    "MaxPool3d": ({"kernel_size": [1, 2, 2]}, lambda: nn.MaxPool3d((1, 2, 2)), VOLUME),
    "AvgPool3d": ({"kernel_size": 2, "count_include_pad": False, "padding": 1},
                  lambda: nn.AvgPool3d(2, padding=1, count_include_pad=False), VOLUME),
    "AdaptiveAvgPool1d": ({"output_size": 3}, lambda: nn.AdaptiveAvgPool1d(3), SIGNAL),
    "AdaptiveAvgPool3d": ({"output_size": [1, 2, 2]}, lambda: nn.AdaptiveAvgPool3d((1, 2, 2)), VOLUME),
    "BatchNorm3d": ({"momentum": 0.2}, lambda: nn.BatchNorm3d(3, momentum=0.2), VOLUME),
}
SHAPES = {"Conv3d": (5, 4, 4, 4), "ConvTranspose3d": (2, 8, 16, 16), "ConvTranspose1d": (4, 22), "MaxPool3d": (3, 4, 4, 4),
          "AvgPool3d": (3, 3, 5, 5), "AdaptiveAvgPool1d": (3, 3), "AdaptiveAvgPool3d": (3, 1, 2, 2), "BatchNorm3d": VOLUME}


class Hand(nn.Module):
    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)


@pytest.mark.parametrize("type_name", list(CASES))
def test_each_volume_layer_is_the_hand_written_layer(type_name):
    params, make, shape = CASES[type_name]
    graph = chain((type_name, params), input_shape=shape, name=type_name)
    graph.rename(next(n for n in graph.nodes if graph.nodes[n].type == type_name), "layer")
    report = check(graph)
    assert report.ok, [d.message for d in report.errors]
    assert report.shapes["layer"] == SHAPES[type_name]
    torch.manual_seed(0)
    hand = Hand(make())
    compiled = compile_graph(graph)
    compiled.load_state_dict(hand.state_dict())
    namespace: dict = {"__name__": "exported"}
    exec(compile(python_source(graph), "exported.py", "exec"), namespace)
    exported = namespace[type(compiled).__name__]()
    exported.load_state_dict(hand.state_dict())
    x = torch.randn(3, *shape)
    for mode in ("train", "eval"):
        results = []
        for model in (hand, compiled, exported):
            model.train(mode == "train")
            results.append(model(x))
        assert results[0].shape == (3, *SHAPES[type_name])
        assert torch.allclose(results[0], results[1], atol=1e-6) and torch.allclose(results[0], results[2], atol=1e-6)
    assert torch.equal(hand.state_dict().get("layer.running_mean", torch.zeros(1)),
                       compiled.state_dict().get("layer.running_mean", torch.zeros(1)))


def test_a_kernel_larger_than_the_volume_is_named():
    report = check(chain(("Conv3d", {"kernel_size": 5}), input_shape=(3, 2, 8, 8)))
    assert any("kernel 5x5x5 is larger than its 2x8x8 input" in d.message for d in report.errors)

"""Style transfer's mechanics offline, on scikit-learn's two photographs, with the example's
VGG-16-shaped feature network (untrained: no weights can be downloaded here)."""

import numpy as np
import pytest
import torch

import resources
from engine import compile_graph
from engine.insight.layer_values import InsightError
from engine.insight.style import (
    SAMPLE_PICTURES,
    StyleSettings,
    StyleTransfer,
    as_input,
    colour_statistics,
    gram,
    load_vgg16_weights,
    read_picture,
    sample_pictures,
)
from graphs import load_graph


def test_gram_matrix_counts_channels_firing_together():
    maps = torch.zeros(1, 2, 2, 2)
    maps[0, 0] = 1.0                        # channel 0 fires everywhere, channel 1 at one place
    maps[0, 1, 0, 0] = 2.0
    found = gram(maps)[0]
    assert found.shape == (2, 2)
    assert torch.allclose(found, torch.tensor([[4.0, 2.0], [2.0, 4.0]]) / 8)


@pytest.mark.slow
def test_style_loss_falls_and_the_image_takes_the_style_pictures_colours():
    torch.manual_seed(0)
    graph = load_graph(resources.example("style_transfer_vgg16.loom"))
    model = compile_graph(graph)
    pictures = sample_pictures()
    assert set(pictures) == set(SAMPLE_PICTURES) == {"china", "flower"}
    content, style = as_input(pictures["china"], (48, 48)), as_input(pictures["flower"], (48, 48))
    assert content.shape == (1, 3, 48, 48) and 0 <= float(content.min()) and float(content.max()) <= 1
    settings = StyleSettings(tuple(graph.metadata["content_layers"].split()),
                             tuple(graph.metadata["style_layers"].split()), steps=40, report_every=10)
    progress = list(StyleTransfer(model, content, style, settings).run())
    assert [p.step for p in progress] == [1, 10, 20, 30, 40]
    assert progress[-1].style_loss < 0.3 * progress[0].style_loss
    assert progress[-1].image.shape == (48, 48, 3)
    target = colour_statistics(style[0].permute(1, 2, 0))
    before = np.abs(colour_statistics(content[0].permute(1, 2, 0)) - target).sum()
    after = np.abs(colour_statistics(progress[-1].image) - target).sum()
    assert after < 0.6 * before, (before, after)
    assert not any(p.requires_grad for p in model.parameters())   # the picture learned, not the network


def test_missing_or_mismatched_vgg16_weights_are_said_plainly(tmp_path):
    model = compile_graph(load_graph(resources.example("style_transfer_vgg16.loom")))
    with pytest.raises(InsightError, match="VGG-16's ImageNet weights are not on this computer.*download them"):
        load_vgg16_weights(model, tmp_path / "vgg16-397923af.pth")
    wrong = {"features.0.weight": torch.zeros(32, 3, 3, 3), "features.0.bias": torch.zeros(32)}
    torch.save(wrong, tmp_path / "wrong.pth")
    with pytest.raises(InsightError, match="the graph has 11 convolutions; VGG-16 has 1"):
        load_vgg16_weights(model, tmp_path / "wrong.pth")


def test_vgg16_weights_go_into_the_convolutions_in_order(tmp_path):
    model = compile_graph(load_graph(resources.example("style_transfer_vgg16.loom")))
    convolutions = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    state = {}
    for i, conv in enumerate(convolutions + [torch.nn.Conv2d(512, 512, 3), torch.nn.Conv2d(512, 512, 3)]):
        state[f"features.{3 * i}.weight"] = torch.full_like(conv.weight, float(i))
        state[f"features.{3 * i}.bias"] = torch.full_like(conv.bias, float(i))
    torch.save(state, tmp_path / "vgg.pth")
    assert load_vgg16_weights(model, tmp_path / "vgg.pth") == 11
    assert [float(c.weight.detach()[0, 0, 0, 0]) for c in convolutions] == [float(i) for i in range(11)]


def test_pictures_that_cannot_be_read_are_refused_by_name(tmp_path):
    from PIL import Image
    good = tmp_path / "small.png"
    Image.fromarray(np.full((5, 7, 3), 200, dtype=np.uint8)).save(good)
    assert read_picture(good).shape == (5, 7, 3)
    (tmp_path / "text.png").write_text("not a picture")
    (tmp_path / "empty.jpg").write_bytes(b"")
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    (tmp_path / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                                        chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))
    for name, message in (("text.png", "not a picture NetLoom can read"), ("empty.jpg", "not a picture"),
                          ("huge.png", "pixels a picture may have"), ("absent.png", "cannot be read \\(no such file")):
        with pytest.raises(InsightError, match=message) as caught:
            read_picture(tmp_path / name)
        assert name in str(caught.value)

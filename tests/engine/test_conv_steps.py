"""Convolution and pooling step by step: every number equals torch's, the notes' worked examples
come out as the notes have them, and the output-size formula agrees with the shape on the wire."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine import check, compile_graph
from engine.insight import InsightError
from engine.insight.conv_steps import (
    AVG,
    CONV,
    MAX,
    WORKED_EXAMPLES,
    SlidingWindow,
    convolution_steps,
    layer_input,
    layer_kernel,
    layer_window,
    parse_grid,
    pooling_steps,
    preset_kernel,
    wire_check,
)
from engine.insight.layer_values import run_keeping
from tests.helpers import chain, lenet


def test_the_notes_vertical_edge_example():
    steps = WORKED_EXAMPLES["vertical edge"].steps()
    assert steps.output.tolist() == [[0, 30, 30, 0]] * 4
    cell = steps.cell(0, 1)
    assert (cell.rows, cell.cols) == ((0, 1, 2), (1, 2, 3))
    assert cell.expression() == "10·1 + 10·0 + 0·(−1) + 10·1 + 10·0 + 0·(−1) + 10·1 + 10·0 + 0·(−1) = 30"
    assert steps.sizes[1].text() == "W_out = ⌊(W − F + 2P) / S⌋ + 1 = ⌊(6 − 3 + 2·0) / 1⌋ + 1 = 4"


def test_the_notes_max_pooling_example():
    steps = WORKED_EXAMPLES["max pooling"].steps()
    assert steps.output.tolist() == [[6, 8], [3, 4]]
    cells = list(steps.cells())
    assert [(c.row, c.col) for c in cells] == [(0, 0), (0, 1), (1, 0), (1, 1)]     # along rows, then down
    assert cells[0].expression() == "max(1, 1, 5, 6) = 6" and cells[0].winner == (1, 1)
    assert cells[3].rows == (2, 3) and cells[3].cols == (2, 3)
    assert WORKED_EXAMPLES["average pooling"].steps().output.tolist() == [[3.25, 5.25], [2, 2]]


@pytest.mark.parametrize("stride, padding, dilation", itertools.product((1, 2, 3), (0, 1, 2), (1, 2)))
def test_convolution_numbers_equal_torch(stride, padding, dilation):
    rng = np.random.default_rng(stride * 100 + padding * 10 + dilation)
    image, kernel = rng.normal(size=(3, 9, 8)), rng.normal(size=(3, 3, 3))
    window = SlidingWindow(CONV, (3, 3), (stride,) * 2, (padding,) * 2, (dilation,) * 2)
    steps = convolution_steps(image, kernel, window, bias=0.25)
    expected = F.conv2d(torch.tensor(image)[None], torch.tensor(kernel)[None], torch.tensor([0.25], dtype=torch.float64),
                        stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()
    assert steps.output.shape == expected.shape == steps.shape
    np.testing.assert_allclose(steps.output, expected, atol=1e-12)
    for cell in steps.cells():      # each cell's multiply-adds make its value
        assert cell.products.sum() + cell.bias == pytest.approx(cell.value)
        assert cell.inputs.shape == (3, 3, 3)


@pytest.mark.parametrize("kernel, stride, padding, dilation, ceil",
                         itertools.product((2, 3), (1, 2, 3), (0, 1), (1, 2), (False, True)))
def test_max_pooling_numbers_equal_torch(kernel, stride, padding, dilation, ceil):
    image = np.random.default_rng(kernel + 7 * stride).normal(size=(7, 9))
    steps = pooling_steps(image, SlidingWindow(MAX, (kernel,) * 2, (stride,) * 2, (padding,) * 2, (dilation,) * 2, ceil))
    expected = F.max_pool2d(torch.tensor(image)[None, None], kernel, stride, padding, dilation, ceil_mode=ceil)[0, 0]
    np.testing.assert_array_equal(steps.output, expected.numpy())
    for cell in steps.cells():
        r, c = cell.winner
        assert cell.counted[r, c] and cell.inputs[0, r, c] == cell.value


@pytest.mark.parametrize("kernel, stride, padding, ceil, include_pad",
                         itertools.product((2, 3), (1, 2, 3), (0, 1), (False, True), (False, True)))
def test_average_pooling_numbers_equal_torch(kernel, stride, padding, ceil, include_pad):
    image = np.random.default_rng(kernel + 5 * stride).normal(size=(7, 9))
    steps = pooling_steps(image, SlidingWindow(AVG, (kernel,) * 2, (stride,) * 2, (padding,) * 2, (1, 1), ceil, include_pad))
    expected = F.avg_pool2d(torch.tensor(image)[None, None], kernel, stride, padding, ceil_mode=ceil,
                            count_include_pad=include_pad)[0, 0]
    np.testing.assert_allclose(steps.output, expected.numpy(), atol=1e-12)
    cell = steps.cell(0, 0)
    assert cell.divisor == (kernel * kernel if include_pad else (kernel - padding) ** 2)


def test_a_trained_layer_step_by_step_is_what_the_model_computes():
    graph = lenet()
    report = check(graph)
    torch.manual_seed(3)
    model = compile_graph(graph, report).eval()
    sample = torch.randn(1, 8, 8)
    image = layer_input(model, graph, "conv2", sample)           # the first stage's output for this sample
    kernel, bias = layer_kernel(model, "conv2", out_channel=5)
    assert image.shape == (6, 4, 4) and kernel.shape == (6, 3, 3)
    steps = convolution_steps(image, kernel, layer_window(graph, "conv2"), bias)
    with torch.no_grad():
        _, kept = run_keeping(model, ["conv2"], sample[None])
    np.testing.assert_allclose(steps.output, kept["conv2"][0, 5].double().numpy(), atol=1e-5)
    pooled = pooling_steps(layer_input(model, graph, "pool2", sample)[2], layer_window(graph, "pool2"))
    with torch.no_grad():
        _, kept = run_keeping(model, ["pool2"], sample[None])
    np.testing.assert_allclose(pooled.output, kept["pool2"][0, 2].double().numpy(), atol=1e-6)


def test_the_formula_is_checked_against_the_wire():
    graph = chain(("Conv2d", {"out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1}),
                  ("MaxPool2d", {"kernel_size": 3, "stride": 2, "ceil_mode": True}), input_shape=(1, 28, 28))
    report = check(graph)
    conv = wire_check(graph, report, "conv1")
    assert conv.matches and conv.computed == (4, 14, 14) == conv.on_wire
    assert conv.sizes[0].text() == "H_out = ⌊(H − F + 2P) / S⌋ + 1 = ⌊(28 − 3 + 2·1) / 2⌋ + 1 = 14 " \
                                   "(1 of the padded 30 left over: no window reaches it)"
    assert "carries 4x14x14, as the formula says" in conv.text()
    pool_check = wire_check(graph, report, "pool1")
    assert pool_check.matches and pool_check.on_wire == (4, 7, 7)
    assert pool_check.sizes[0].text().endswith("= ⌈(14 − 3 + 2·0) / 2⌉ + 1 = 7")
    changed = wire_check(graph, report, "conv1", SlidingWindow(CONV, (3, 3), (1, 1), (0, 0), (2, 2)))
    assert not changed.matches and changed.computed == (4, 24, 24)
    assert "D(F − 1)" in changed.sizes[1].text() and "would be 4x24x24, but the wire out of conv1 carries 4x14x14" \
        in changed.text()


def test_layer_windows_follow_the_parameters():
    graph = chain(("Conv2d", {"out_channels": 2, "kernel_size": 5, "padding": "same", "dilation": 2}), "ReLU",
                  ("AvgPool2d", {"kernel_size": 2, "count_include_pad": False}), input_shape=(1, 16, 16))
    assert layer_window(graph, "conv1") == SlidingWindow(CONV, (5, 5), (1, 1), (4, 4), (2, 2))
    assert layer_window(graph, "pool1") == SlidingWindow(AVG, (2, 2), (2, 2), (0, 0), (1, 1), False, False)
    with pytest.raises(InsightError, match="relu1 is a ReLU: step by step shows Conv2d, MaxPool2d and AvgPool2d"):
        layer_window(graph, "relu1")


def test_typed_numbers_and_presets():
    assert parse_grid("1 2 3\n4, 5, 6").tolist() == [[1, 2, 3], [4, 5, 6]]
    assert parse_grid("1 −1; 0 2").tolist() == [[1, -1], [0, 2]]
    for text, message in (("1 2\n3", "row 2 has 1 numbers and row 1 has 2"),
                          ("1 x", "'x' in row 1, column 2 is not a number"), ("", "at least one row"),
                          ("1 inf", "finite"), ("\n".join(["1"] * 33), "at most 32 rows")):
        with pytest.raises(InsightError, match=message):
            parse_grid(text)
    blurred = convolution_steps(np.ones((5, 5)), preset_kernel("blur"))
    np.testing.assert_allclose(blurred.output, np.ones((3, 3)))
    image = np.arange(25.0).reshape(5, 5)
    same = convolution_steps(image, preset_kernel("identity"), SlidingWindow(padding=(1, 1)))
    np.testing.assert_array_equal(same.output, image)
    with pytest.raises(InsightError, match="no kernel preset 'emboss'"):
        preset_kernel("emboss")


def test_settings_that_cannot_work_are_said_plainly():
    with pytest.raises(InsightError, match="does not fit once"):
        convolution_steps(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(InsightError, match="the kernel has 2 channel"):
        convolution_steps(np.ones((3, 5, 5)), np.ones((2, 3, 3)))
    with pytest.raises(InsightError, match="more than half of the window"):
        SlidingWindow(MAX, (2, 2), (2, 2), (2, 2))
    with pytest.raises(InsightError, match="average pooling has no dilation"):
        SlidingWindow(AVG, (2, 2), (2, 2), (0, 0), (2, 2))
    with pytest.raises(InsightError, match="stride must be two whole numbers of at least 1"):
        SlidingWindow(CONV, (3, 3), (0, 1))
    with pytest.raises(InsightError, match="finite"):
        convolution_steps(np.full((4, 4), np.nan), np.ones((3, 3)))
    with pytest.raises(InsightError, match="the output is 4x4: it has no cell"):
        WORKED_EXAMPLES["vertical edge"].steps().cell(4, 0)

"""The teaching views in the window, driven by clicks and typing: convolution and pooling step by
step (numbers equal torch's), from Help > Learn and from a layer's node menu."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

import resources
from gui.commands import files


def _grid(table) -> list[list[str]]:
    return [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]


def _numbers(table) -> np.ndarray:
    return np.array([[float(t.replace("−", "-")) for t in row] for row in _grid(table)])


def _learn(window, text: str):
    menu = window.commands.menu("&Help/&Learn")
    next(a for a in menu.actions() if a.text() == text).trigger()
    return window.teaching.opened[-1]


def _set(spin, value: int) -> None:
    spin.selectAll()
    QTest.keyClicks(spin, str(value))
    QTest.keyClick(spin, Qt.Key.Key_Return)


def test_the_notes_vertical_edge_steps_cell_by_cell_with_each_multiply_add(window, qtbot):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    assert view.example.currentText() == "Notes: vertical edge"
    assert _grid(view.output_table) == [[""] * 4] * 4                 # nothing worked out yet
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table)[0] == ["0", "", "", ""]
    assert view.expression.text().startswith("Cell (0, 0): 10·1 + 10·0 + 10·(−1)")
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table)[0][:2] == ["0", "30"]
    assert view.expression.text().endswith("= 30")
    highlighted = {(r, c) for r in range(6) for c in range(6)
                   if view.input_table.item(r, c).background().style() != Qt.BrushStyle.NoBrush}
    assert highlighted == {(r, c) for r in range(3) for c in range(1, 4)}          # the window of cell (0, 1)
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert _grid(view.output_table) == [["0", "30", "30", "0"]] * 4
    assert "W_out = ⌊(W − F + 2P) / S⌋ + 1 = ⌊(6 − 3 + 2·0) / 1⌋ + 1 = 4" in view.formula.text()


def test_stride_padding_and_dilation_typed_in_give_torchs_convolution(window, qtbot):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    image = np.arange(49, dtype=np.float64).reshape(7, 7) % 5 - 2
    view.input_text.setPlainText("\n".join(" ".join(str(int(v)) for v in row) for row in image))
    qtbot.mouseClick(view.use_input, Qt.MouseButton.LeftButton)
    view.kernel_choice.setCurrentText("sharpen")
    _set(view.stride, 2)
    _set(view.padding, 1)
    _set(view.dilation, 2)
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    kernel = torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)
    expected = torch.nn.functional.conv2d(torch.tensor(image)[None, None], kernel[None, None], stride=2, padding=1,
                                          dilation=2)[0, 0].numpy()
    assert np.allclose(_numbers(view.output_table), expected, atol=5e-3)
    assert view.output_caption.text().startswith(f"Output {expected.shape[0]}x{expected.shape[1]}")
    assert "D(F − 1)" in view.formula.text()              # the general formula once D is not 1
    view.input_text.setPlainText("1 2\n3 x")
    qtbot.mouseClick(view.use_input, Qt.MouseButton.LeftButton)
    assert "'x' in row 2, column 2 is not a number" in view.error.text()


@pytest.mark.parametrize("example, pool", [("Notes: max pooling", torch.nn.functional.max_pool2d),
                                           ("Notes: average pooling", torch.nn.functional.avg_pool2d)])
def test_pooling_examples_equal_torch_and_mark_the_winner(window, qtbot, example, pool):
    view = _learn(window, "&Convolution and Pooling Step by Step...")
    view.example.setCurrentText(example)
    assert not view.kernel_box.isEnabled()                   # pooling multiplies nothing
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    first = view.expression.text()
    assert first == ("Cell (0, 0): max(1, 1, 5, 6) = 6" if "max" in example else "Cell (0, 0): (1 + 1 + 5 + 6) / 4 = 3.25")
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    source = torch.tensor([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=torch.float64)
    assert np.allclose(_numbers(view.output_table), pool(source[None, None], 2)[0, 0].numpy())
    _set(view.padding, 1)                                    # padding shows as empty cells around the map
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert view.input_table.rowCount() == 6 and view.input_table.item(0, 0).toolTip() == "padding"
    assert np.allclose(_numbers(view.output_table), pool(source[None, None], 2, padding=1)[0, 0].numpy())


def test_a_conv_node_opens_its_own_window_checked_against_its_wire(window, qtbot):
    files.open_file(window.context, resources.example("lenet_digits.loom"))
    graph = window.document.graph
    conv = next(n.id for n in graph.nodes.values() if n.type == "Conv2d")
    menu = window.view.context_menu(QPointF(), window.scene.nodes[conv])
    next(a for a in menu.actions() if a.text() == "Convolution Step by Step...").trigger()
    view = window.teaching.opened[-1]
    params = graph.nodes[conv].params
    assert view.example.currentText() == f"Layer {conv}"
    assert view.padding.value() == (params.get("padding", 0) if isinstance(params.get("padding", 0), int) else 0)
    assert "as the formula says" in view.formula.text()
    _set(view.stride, view.stride.value() + 1)
    assert "but the wire out of" in view.formula.text()
    pool = next(n.id for n in graph.nodes.values() if n.type in ("MaxPool2d", "AvgPool2d"))
    menu = window.view.context_menu(QPointF(), window.scene.nodes[pool])
    next(a for a in menu.actions() if a.text() == "Pooling Step by Step...").trigger()
    assert window.teaching.opened[-1].kind.currentText() in ("max pooling", "average pooling")
    relu = next(n.id for n in graph.nodes.values() if n.type == "ReLU")
    menu = window.view.context_menu(QPointF(), window.scene.nodes[relu])
    assert not any("Step by Step" in a.text() for a in menu.actions())

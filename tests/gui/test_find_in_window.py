"""Find (Ctrl+F): by id or type, next and previous, wrapping around, the match selected."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

import resources
from gui.commands import files

pytestmark = pytest.mark.slow     # a 1,000-node graph in the window


def test_ctrl_f_finds_layers_by_id_and_type_and_steps_through_them(window, qtbot):
    files.open_file(window.context, resources.example("lenet5.loom"))
    QTest.keyClick(window, Qt.Key_F, Qt.ControlModifier)
    bar = window.find_bar
    assert bar.isVisible() and bar.edit.hasFocus()
    QTest.keyClicks(bar.edit, "Conv")                   # LeNet-5's convolutions are c1 and c3: found by type
    assert list(window.document.selection.nodes) == ["c1"] and bar.count.text() == "1 of 2"
    QTest.keyClick(bar.edit, Qt.Key_Return)
    assert list(window.document.selection.nodes) == ["c3"] and bar.count.text() == "2 of 2"
    QTest.keyClick(bar.edit, Qt.Key_Return)                       # wraps around
    assert list(window.document.selection.nodes) == ["c1"]
    QTest.keyClick(bar.edit, Qt.Key_Return, Qt.ShiftModifier)     # and back
    assert list(window.document.selection.nodes) == ["c3"]
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert window.scene.nodes["c3"].sceneBoundingRect().adjusted(-5, -5, 5, 5).contains(centre)
    assert window.inspector.node_id == "c3"

    bar.edit.clear()
    QTest.keyClicks(bar.edit, "tanh")                             # ids tanh1 ... tanh4
    assert bar.count.text() == "1 of 4" and list(window.document.selection.nodes) == ["tanh1"]
    QTest.keyClick(window, Qt.Key_F3)
    assert list(window.document.selection.nodes) == ["tanh2"]

    bar.edit.clear()
    QTest.keyClicks(bar.edit, "zzz")
    assert bar.count.text() == "no match"
    QTest.keyClick(bar.edit, Qt.Key_Escape)
    assert not bar.isVisible()

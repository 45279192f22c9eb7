"""The minimap: hidden while the whole graph is in view, shown once part of it is not, drawn
with the nodes' colours and the part in view outlined; a click on it moves the canvas there."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

import resources
from gui.commands import files
from gui.theme import current


def _zoomed_in_on_the_input(window, qtbot):
    files.open_file(window.context, resources.example("unet.loom"))
    window.view.fit_all()
    qtbot.waitUntil(lambda: not window.minimap._nodes.isEmpty())
    assert not window.minimap.isVisible()                    # everything is in view: nowhere to go
    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes["input1"])
    qtbot.waitUntil(window.minimap.isVisible)


def test_the_minimap_shows_the_whole_graph_once_part_of_it_is_out_of_view(window, qtbot):
    _zoomed_in_on_the_input(window, qtbot)
    image = window.minimap.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())}
    for category in ("Pooling", "Merge", "Blocks"):          # U-Net's pools, concats and conv blocks
        assert QColor(current().category(category)).name() in colours, category
    # the outline of the part in view sits at the input's end of the map (the left)
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    outline = window.minimap.to_minimap(visible.center())
    assert outline.x() < window.minimap.width() / 3


def test_clicking_the_minimap_moves_the_canvas_there_and_the_view_menu_hides_it(window, qtbot):
    _zoomed_in_on_the_input(window, qtbot)
    target = window.scene.nodes["output1"].sceneBoundingRect().center()
    QTest.mouseClick(window.minimap, Qt.LeftButton, Qt.NoModifier, window.minimap.to_minimap(target).toPoint())
    centre = window.view.mapToScene(window.view.viewport().rect().center())
    assert abs(centre.x() - target.x()) < 40 and abs(centre.y() - target.y()) < 200
    assert window.view.mapToScene(window.view.viewport().rect()).boundingRect().contains(QPointF(target))
    toggle = next(a for a in window.commands.menu("&View").actions() if a.text() == "&Minimap")
    toggle.trigger()
    assert not window.minimap.isVisible()
    toggle.trigger()
    assert window.minimap.isVisible()


def test_a_short_canvas_hides_the_map_so_that_it_covers_no_node(window, qtbot):
    _zoomed_in_on_the_input(window, qtbot)
    window.resize(1400, 420)                            # a short canvas: the map would hide what it maps
    qtbot.waitUntil(lambda: not window.minimap.isVisible())
    window.resize(1400, 900)
    qtbot.waitUntil(window.minimap.isVisible)

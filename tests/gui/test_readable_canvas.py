"""The canvas reads at every zoom: zoomed-out boxes keep their type and key numbers, wires show
which way they flow. Judged on the pixels the view draws."""

from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

import resources
from gui.canvas import far_labels
from gui.commands import files
from gui.theme import current as current_theme
from tests.helpers import chain


def grab(window) -> QImage:
    window.view.viewport().repaint()
    return window.view.viewport().grab().toImage()


def near(colour: QColor, wanted: QColor, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour.getRgb()[:3], wanted.getRgb()[:3]))


def box_pixels(window, image: QImage, node_id: str, colour: QColor) -> int:
    rect = window.view.mapFromScene(window.scene.nodes[node_id].sceneBoundingRect()).boundingRect()
    return sum(near(image.pixelColor(x, y), colour, 60) for x in range(rect.left() + 3, rect.right() - 3)
               for y in range(rect.top() + 3, rect.bottom() - 3))


def test_type_names_split_only_between_words():
    assert far_labels.words("ConvReLU") == "Conv ReLU"
    assert far_labels.words("AdaptiveAvgPool2d") == "Adaptive Avg Pool2d"
    assert far_labels.words("LeakyReLU") == "Leaky ReLU" and far_labels.words("GELU") == "GELU"
    assert far_labels.words("ConvTranspose2d") == "Conv Transpose2d"


def test_zoomed_out_boxes_keep_their_key_numbers(window):
    files.open_example(window.context, resources.example("resnet18.loom"))
    graph = window.document.graph
    stages = [n for n in graph.nodes.values() if n.type == "Stage"]
    assert [far_labels.numbers(n) for n in stages] == ["128", "256", "512"]        # three Stages told apart
    assert far_labels.numbers(graph.nodes["conv1"]) == "64 · 7x7 /2"
    assert far_labels.numbers(graph.nodes["layer1"]) == "x2 · 64"                 # a block used twice
    window.view.set_zoom(0.35)
    window.view.centerOn(window.scene.nodes["layer2"].sceneBoundingRect().center())
    image = grab(window)
    text = QColor(current_theme().header_text)
    pictures = []
    for stage in stages:
        rect = window.view.mapFromScene(window.scene.nodes[stage.id].sceneBoundingRect()).boundingRect()
        pictures.append(image.copy(rect.adjusted(2, 2, -2, -2)))
        assert box_pixels(window, image, stage.id, text) > 40                    # its name and numbers are drawn
    assert pictures[0] != pictures[1] != pictures[2] != pictures[0]               # and differ, box from box


def test_a_transposed_convolution_box_is_never_blank_zoomed_out(window):
    window.document.replace(chain(("Conv2d", {"out_channels": 8}), ("ConvTranspose2d", {"out_channels": 4, "kernel_size": 2,
                                                                                     "stride": 2}),
                                  input_shape=(1, 8, 8)), None)
    window.document.check_now()
    text = QColor(current_theme().header_text)
    node = next(n.id for n in window.document.graph.nodes.values() if n.type == "ConvTranspose2d")
    for zoom in (0.5, 0.35, 0.25, 0.2):
        window.view.set_zoom(zoom)
        window.view.centerOn(window.scene.nodes[node].sceneBoundingRect().center())
        assert box_pixels(window, grab(window), node, text) > 15, zoom


def wire_at(window, image: QImage, x: float, y: float, dy: float) -> bool:
    """Whether the view drew the wire's colour at scene point (x, y), ``dy`` pixels down."""
    point = window.view.mapFromScene(QPointF(x, y))
    return near(image.pixelColor(point.x(), point.y() + round(dy)), QColor(current_theme().wire))


def test_wires_end_in_an_arrowhead_at_their_input_port(window):
    window.document.replace(chain("ReLU", input_shape=[4]), None)
    wire = next(e for e in window.document.graph.edges if e.dst == "relu1")
    for zoom in (1.0, 0.3):
        window.view.set_zoom(zoom)
        window.view.centerOn(window.scene.nodes["relu1"].sceneBoundingRect().center())
        image = grab(window)
        end = window.scene.nodes["relu1"].port_position(wire.dst_port, False)
        start = window.scene.nodes["input1"].port_position(wire.src_port, True)
        tip = end.x() - (6 if zoom == 1.0 else 0)
        head = tip - 7 / zoom           # most of the way back from the tip, where the head is wide
        assert wire_at(window, image, head, end.y(), -2) and wire_at(window, image, head, end.y(), 2), zoom
        leaving = start.x() + (12 if zoom == 1.0 else 1 / zoom)      # past the output port: the line alone, thin
        assert wire_at(window, image, leaving, end.y(), 0), zoom
        assert not wire_at(window, image, leaving, end.y(), -3) and not wire_at(window, image, leaving, end.y(), 3), zoom


def label_pixels(window, wire, box) -> int:
    """How many pixels of ``box`` the wire's label accounts for: the view drawn with and without it."""
    rect = window.view.mapFromScene(box).boundingRect()
    with_label = grab(window)
    label, wire.label = wire.label, ""
    without = grab(window)
    wire.label = label
    return sum(with_label.pixelColor(x, y) != without.pixelColor(x, y)
               for x in range(rect.left(), rect.right() + 1) for y in range(rect.top(), rect.bottom() + 1))


def test_zoomed_out_a_wire_keeps_its_shape_label_while_it_fits_its_run(window):
    files.open_example(window.context, resources.example("lenet5.loom"))
    flatten = next(w for e, w in window.scene.edges.items() if e.src == "flatten1")
    assert flatten.label == "400"
    for zoom, points in ((1.0, 7.0), (0.45, 7.0 * 0.64 / 0.45)):
        window.view.set_zoom(zoom)
        window.view.centerOn(flatten.sceneBoundingRect().center())
        # drawn as large on screen as the least readable text, in the wire's first run
        assert abs(flatten.label_points(zoom) - points) < 0.05, zoom
        box = flatten._grown(points / 7.0)
        assert box.width() <= abs(flatten._first_run[1].x() - flatten._first_run[0].x())
        assert label_pixels(window, flatten, box) > 10, zoom
    # farther out it would not fit between the boxes: not drawn, rather than drawn over them
    window.view.set_zoom(0.2)
    window.view.centerOn(flatten.sceneBoundingRect().center())
    assert flatten.label_points(0.2) is None
    assert label_pixels(window, flatten, flatten._grown(flatten._far_growth)) == 0

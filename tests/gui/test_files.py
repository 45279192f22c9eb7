"""Files in the editor: save and reopen, refuse broken files, ask before losing work, recover."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QImage

from gui.commands import files
from gui.main_window import EXAMPLES, MainWindow
from tests.helpers import chain

ROOT = Path(__file__).resolve().parents[2]


def test_save_reopen_and_compare(window, qtbot, tmp_path, monkeypatch):
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    window.document.try_edit(lambda: window.document.graph.set_params_edit("conv1", out_channels=8))
    assert window.isWindowModified() and window.windowTitle().startswith("LeNet for digits - untitled[*]")
    target = tmp_path / "mine.loom"
    monkeypatch.setattr(window.port, "choose_save_path", lambda *a: str(target))
    files.save(window.context)
    assert not window.isWindowModified() and "mine.loom" in window.windowTitle()
    saved = target.read_text()
    other = MainWindow(interactive=False)
    qtbot.addWidget(other)
    assert files.open_file(other.context, target)
    assert other.graph_text() == saved
    assert other.document.graph.nodes["conv1"].params["out_channels"] == 8
    assert other.document.graph.view["zoom"] > 0          # the view is kept with the file
    assert str(target.resolve()) in [a.text() for a in other.commands.menu("&File/Open &Recent").actions()]


def test_examples_open_as_untitled_so_they_are_never_overwritten(window, monkeypatch, tmp_path):
    files.open_example(window.context, EXAMPLES / "mlp_spiral.loom")
    assert window.document.path is None
    asked = []
    monkeypatch.setattr(window.port, "choose_save_path", lambda *a: asked.append(1) or str(tmp_path / "s.loom"))
    files.save(window.context)
    assert asked == [1]


def test_a_broken_file_shows_the_loader_message_and_keeps_the_document(window, tmp_path):
    window.document.replace(chain("ReLU", input_shape=[4], name="kept"), None)
    before = window.graph_text()
    bad = tmp_path / "bad.loom"
    bad.write_text('{"format": "netloom.graph", "format_version": 7}')
    assert not files.open_file(window.context, bad)
    assert window.graph_text() == before
    assert "written by a newer NetLoom" in window.statusBar().currentMessage()


def test_closing_with_unsaved_changes_asks(qtbot, monkeypatch):
    win = MainWindow(interactive=True)
    qtbot.addWidget(win)
    win.show()
    win.document.try_edit(lambda: win.document.graph.add_node_edit("ReLU"))
    monkeypatch.setattr(win.port, "ask_save_changes", lambda name: "cancel")
    win.close()
    assert win.isVisible()
    monkeypatch.setattr(win.port, "ask_save_changes", lambda name: "discard")
    win.close()
    assert not win.isVisible()


@pytest.mark.slow
def test_screenshot_of_a_file_from_the_command_line(tmp_path):
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), str(EXAMPLES / "mlp_spiral.loom"),
                             "--screenshot", str(shot)], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert image.width() >= 800 and image.height() >= 600
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 50                      # not blank
    dense_blue = 0xFF2563EB                        # the header colour of Linear nodes
    assert any(image.pixel(x, y) == dense_blue for x in range(0, image.width(), 2)
               for y in range(0, image.height(), 2))


@pytest.mark.slow
def test_screenshot_of_a_missing_file_fails(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), str(tmp_path / "none.loom"), "--screenshot",
                             str(tmp_path / "x.png")], capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2 and not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_import_a_torchvision_model_and_export_it_from_the_file_menu(window, qtbot, tmp_path):
    assert window.model_io.import_model("torchvision:resnet18")
    qtbot.waitUntil(lambda: not window.model_io.importing, timeout=120_000)    # in its child process
    graph = window.document.graph
    # a stem, eight BasicBlock uses (the module's own class becomes a block) and a head
    assert len(graph.nodes) == 17 and window.document.path is None
    assert sum(1 for n in graph.nodes.values() if n.type in graph.blocks) == 8
    assert "11,689,512 parameters" in window.totals_label.text()
    target = tmp_path / "resnet.py"
    assert window.model_io.export_model("py", str(target))
    assert (tmp_path / "resnet.safetensors").exists()        # the imported weights go along
    assert "with its trained weights" in window.statusBar().currentMessage()
    ran = subprocess.run([sys.executable, "-I", str(target)], capture_output=True, text=True, timeout=300)
    assert ran.stdout.strip() == "output 1: (2, 1000)", ran.stderr
    assert window.model_io.export_model("pt2", str(tmp_path / "resnet.pt2"))
    program = torch.export.load(str(tmp_path / "resnet.pt2")).module()
    assert program(torch.randn(1, 3, 224, 224)).shape == (1, 1000)
    file_menu = window.commands.menu("&File")
    titles = [a.text() for a in file_menu.actions()]
    # Import and Export sit after the file commands, above the separator and Quit.
    assert titles[-4:] == ["&Import PyTorch Model...", "&Export", "", "&Quit"]
    export_menu = next(a.menu() for a in file_menu.actions() if a.text() == "&Export")
    assert [a.text() for a in export_menu.actions()][0] == "as PyTorch Program (recommended)..."


@pytest.mark.slow
def test_an_import_that_fails_leaves_the_document(window, qtbot, tmp_path):
    window.document.replace(chain("ReLU", input_shape=[4], name="kept"), None)
    before = window.graph_text()
    assert window.model_io.import_model("torchvision:no_such_net")
    qtbot.waitUntil(lambda: not window.model_io.importing, timeout=60_000)
    assert window.graph_text() == before
    assert "torchvision has no model 'no_such_net'" in window.statusBar().currentMessage()


def test_saving_keeps_the_view_through_an_edit_and_leaves_nothing_to_undo(window, tmp_path, monkeypatch):
    from graphs.events import ViewChanged
    window.document.replace(chain("ReLU", input_shape=[4], name="viewed"), None)
    seen = []
    window.document.subscribe(seen.append, kinds=(ViewChanged,))
    window.view.set_zoom(1.5)
    monkeypatch.setattr(window.port, "choose_save_path", lambda *a: str(tmp_path / "viewed.loom"))
    assert files.save(window.context)
    assert len(seen) == 1 and window.document.graph.view["zoom"] == 1.5
    assert not window.document.modified and window.document.undo_stack.count() == 0


def test_opening_a_file_without_layout_places_its_nodes_in_the_document(window, tmp_path):
    from graphs import save_graph
    graph = chain("ReLU", "Tanh", input_shape=[4], name="unplaced")
    graph.positions.clear()
    save_graph(graph, tmp_path / "unplaced.loom")
    assert files.open_file(window.context, tmp_path / "unplaced.loom")
    positions = window.document.graph.positions
    assert set(positions) == set(window.document.graph.nodes)
    assert [window.scene.nodes[n].pos().toTuple() for n in positions] == list(positions.values())


CRASHING_MODEL = """
import os
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        os._exit(3)          # the model's code kills its process
"""

SHADOWING_HELPER = "raise RuntimeError('the real safetensors must be used, not this file')\n"

SHADOWED_MODEL = """
import torch.nn as nn
import helper_layers           # a module beside the model: still found

class Net(nn.Module):
    example_input_shape = [4]

    def __init__(self):
        super().__init__()
        self.fc = helper_layers.make()

    def forward(self, x):
        return self.fc(x)
"""


@pytest.mark.slow
def test_importing_a_python_file_whose_code_crashes_leaves_the_editor_running(window, qtbot, tmp_path):
    (tmp_path / "crash.py").write_text(CRASHING_MODEL)
    window.document.replace(chain("ReLU", input_shape=[4], name="kept"), None)
    assert window.model_io.import_model(f"{tmp_path / 'crash.py'}:Net")
    assert window.model_io.importing                  # the window is not waiting for it
    qtbot.waitUntil(lambda: not window.model_io.importing, timeout=60_000)
    assert "the import process ended without a result (exit code 3)" in window.statusBar().currentMessage()
    assert window.document.graph.name == "kept" and window.isVisible()


@pytest.mark.slow
def test_a_file_beside_the_model_named_like_a_dependency_does_not_shadow_it(window, qtbot, tmp_path):
    (tmp_path / "safetensors.py").write_text(SHADOWING_HELPER)
    (tmp_path / "helper_layers.py").write_text("import torch.nn as nn\n\ndef make():\n    return nn.Linear(4, 2)\n")
    (tmp_path / "model.py").write_text(SHADOWED_MODEL)
    assert window.model_io.import_model(f"{tmp_path / 'model.py'}:Net")
    qtbot.waitUntil(lambda: not window.model_io.importing, timeout=60_000)
    assert [n.type for n in window.document.graph.nodes.values()] == ["Input", "Linear", "Output"], \
        window.statusBar().currentMessage()

"""The dashboard's Data tab shows the pictures the model sees: before a run the first batch it
will train on (the same pixels and labels as ``batch_as_seen``), during a run the batches the
worker sends, saying which; other settings or another graph clear it."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

import resources
from engine.interop import read_weights, start_entry
from engine.training import batch_as_seen, load_weights
from engine.training import messages as M
from graphs import save_graph
from graphs.edits import SetTraining
from gui.commands import files
from gui.training.run_record import RunRecord
from tests.gui.test_fine_tuning_window import lenet_weights
from tests.helpers import lenet

AUGMENTED = {"dataset": "digits", "dataset_options": {"class_subset": [5, 6, 7, 8, 9]},
             "augment": {"rotation": 20.0, "flip": True}, "device": "cpu"}


def open_with(window, tmp_path, **training):
    graph = lenet()
    graph.training = graph.training | AUGMENTED | training
    save_graph(graph, tmp_path / "lenet.loom")
    assert files.open_file(window.context, tmp_path / "lenet.loom")


def show_data_tab(window, qtbot):
    window.port.show_panel("Training", 0.5)
    dashboard = window.training.dashboard
    dashboard.tabs.setCurrentWidget(dashboard.data_view)
    return dashboard.data_view


def drawn_pixel(panel, index: int, row: int, col: int) -> QColor:
    """The colour the tab shows at the middle of a picture's pixel."""
    cell = panel.grid.cells()[index]
    image = panel.grid.images[index]
    scale = min(cell.width() / image.width(), cell.height() / image.height())
    left = cell.center().x() - image.width() * scale / 2
    top = cell.center().y() - image.height() * scale / 2
    shot = panel.grid.grab().toImage()
    return shot.pixelColor(int(left + (col + 0.5) * scale), int(top + (row + 0.5) * scale))


def test_before_training_the_tab_shows_the_first_batch_a_run_trains_on(window, qtbot, tmp_path):
    open_with(window, tmp_path)
    panel = show_data_tab(window, qtbot)
    qtbot.waitUntil(lambda: panel.seen is not None, timeout=30_000)
    expected = batch_as_seen(window.document.graph.training, count=16)
    assert np.array_equal(panel.seen.pixels, expected.pixels)
    assert panel.grid.labels == expected.label_names and set(expected.label_names) <= {"5", "6", "7", "8", "9"}
    assert "Before training" in panel.caption.text() and "epoch 1, seed 0" in panel.caption.text()
    assert "left-right flips, rotations up to 20 degrees" in panel.caption.text()
    # what is drawn is those pixels, each picture's own, enlarged
    for index, (row, col) in ((0, (3, 4)), (5, (6, 2))):
        value = int(expected.pixels[index, row, col, 0])
        assert drawn_pixel(panel, index, row, col).red() == value
    # other settings: the batch is prepared again for them
    training = window.document.graph.training
    window.document.push(SetTraining(training | {"augment": {}}), at=())
    qtbot.waitUntil(lambda: panel.seen is not None and "augmentations: none" in panel.caption.text().lower(),
                    timeout=30_000)
    assert np.array_equal(panel.seen.pixels, batch_as_seen(window.document.graph.training, count=16).pixels)
    # another graph: nothing of this one stays, and a data set of points has no Data tab
    files.open_example(window.context, resources.example("mlp_spiral.loom"))
    assert panel.grid.images == [] and panel.seen is None
    dashboard = window.training.dashboard
    qtbot.waitUntil(lambda: not dashboard.tabs.isTabVisible(dashboard.tabs.indexOf(panel)), timeout=30_000)


def test_during_a_run_the_tab_shows_the_batch_the_worker_sent_and_which(window, qtbot, tmp_path):
    open_with(window, tmp_path)
    panel = show_data_tab(window, qtbot)
    qtbot.waitUntil(lambda: panel.seen is not None, timeout=30_000)
    record = RunRecord("run 4", window.document.graph.training)
    record.absorb(M.RunStarted("cpu", 100, 250, 50, 8, 3, "digits", ("5", "6", "7", "8", "9")))
    pixels = np.zeros((2, 8, 8, 1), dtype=np.uint8)
    pixels[1, 2, 3] = 200
    panel.follow_run(record)
    panel.show_record(record)
    assert "has not sent a batch yet" in panel.caption.text() and panel.grid.images == []
    record.absorb(M.TrainingBatch(2, 16, pixels, (4, 0), ("5", "6", "7", "8", "9"), "augmentations: none; "
                                  "normalised with its own statistics"))
    panel.show_record(record)
    assert "run 4</b> (running), epoch 2 of 3, step 16" in panel.caption.text()
    assert panel.grid.labels == ["9", "5"]
    assert drawn_pixel(panel, 1, 2, 3).red() == 200 and drawn_pixel(panel, 1, 2, 2).red() == 0
    assert panel.before.isEnabled()
    qtbot.mouseClick(panel.before, Qt.LeftButton)
    assert "Before training" in panel.caption.text() and not panel.before.isEnabled()
    assert len(panel.grid.images) == 16


@pytest.mark.slow
def test_a_run_from_the_window_starts_from_weights_named_beside_the_file_and_shows_its_batches(window, qtbot,
                                                                                                tmp_path):
    weights = lenet_weights(tmp_path / "start.safetensors")
    open_with(window, tmp_path, dataset_options={}, epochs=1, probe_every=0,
              start_from=start_entry(weights, tmp_path / "lenet.loom"))
    assert window.document.graph.training["start_from"]["path"] == "start.safetensors"     # relative to the file
    panel = show_data_tab(window, qtbot)
    qtbot.waitUntil(lambda: panel.seen is not None, timeout=30_000)
    before = panel.seen
    assert window.training.train()
    record = window.training.controller.current
    qtbot.waitUntil(lambda: record.status in ("finished", "failed"), timeout=180_000)
    assert record.status == "finished", record.final
    start = record.latest["StartWeights"]
    assert start.loaded == 10 and start.mismatches == ()
    batch = record.latest["TrainingBatch"]
    assert batch.epoch == 1 and np.array_equal(batch.pixels, before.pixels)      # what the tab showed before
    window.training.dashboard.redraw()
    panel.show_record(record)
    assert f"{record.name}</b> (finished), epoch 1 of 1" in panel.caption.text()
    assert panel.grid.labels == before.label_names
    # its weights, saved from the Train menu, are a start for the next graph
    window.port.choose_save_path = lambda *args: str(tmp_path / "trained.safetensors")
    window.commands.action("train.save_weights").trigger()
    saved = read_weights(tmp_path / "trained.safetensors").tensors
    trained = load_weights(record.latest["checkpoint"])
    assert saved.keys() == trained.keys() and all(torch.equal(saved[k], trained[k]) for k in saved)
    assert "Training Settings > Start weights takes them" in window.statusBar().currentMessage()

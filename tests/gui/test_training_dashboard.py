"""Training from the window: the dashboard shows what the engine reports while the editor
stays usable; pause, stop, probes, predictions, failures and kept runs."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from engine.training import TrainingConfig
from engine.training import messages as M
from graphs import dumps_graph
from gui.canvas.training_overlay import gradient_colour
from gui.commands import files
from gui.main_window import EXAMPLES
from gui.training.run_history import load_runs
from gui.training.run_record import RunRecord
from tests.gui.driving import click, node_point

ROOT = Path(__file__).resolve().parents[2]


def open_lenet(window, **settings):
    files.open_example(window.context, EXAMPLES / "lenet_digits.loom")
    config = TrainingConfig.from_dict(window.document.graph.training).replace(**({"device": "cpu"} | settings))
    window.document.graph.training = config.to_dict()
    return config


def record_messages(monkeypatch) -> list:
    """Every message the window receives, as the engine sent it."""
    seen = []
    original = RunRecord.absorb

    def absorb(self, m):
        seen.append(m)
        original(self, m)
    monkeypatch.setattr(RunRecord, "absorb", absorb)
    return seen


def epochs_of(seen):
    return [m for m in seen if isinstance(m, M.EpochMetrics)]


def test_a_live_run_from_the_toolbar(window, qtbot, monkeypatch, tmp_path):
    seen = record_messages(monkeypatch)
    open_lenet(window, epochs=400, probe_every=5, log_every=2)
    ui = window.training
    window.commands.action("train.start").trigger()
    assert not window.commands.action("train.start").isEnabled() and window.commands.action("train.stop").isEnabled()
    qtbot.waitUntil(lambda: len(epochs_of(seen)) >= 3, timeout=120_000)
    dashboard = ui.dashboard

    # The curves hold the values the engine reported.
    dashboard.tabs.setCurrentWidget(dashboard.curves)
    dashboard.mark_dirty()
    dashboard.redraw()
    x, y = dashboard.curves.lines["val_loss"].getData()
    reported = [m.val_loss for m in epochs_of(seen)]
    assert list(y[: len(reported)]) == reported[: len(y)] and len(y) >= 3
    per_epoch = next(m for m in seen if isinstance(m, M.RunStarted)).steps_per_epoch
    assert list(x[:3]) == [per_epoch, 2 * per_epoch, 3 * per_epoch]
    assert "run 1</b>: running, on cpu" in dashboard.status.text()

    # Gradient flow colours the canvas with the reported numbers.
    flow = [m for m in seen if isinstance(m, M.GradientFlow)]
    qtbot.waitUntil(lambda: window.scene.nodes["conv1"].overlay is not None)
    latest = ui.controller.current.latest["gradients"]
    conv1 = next(g for g in latest.layers if g.layer == "conv1")
    assert window.scene.nodes["conv1"].overlay.rgb() == gradient_colour(conv1.mean_abs_grad).rgb()
    from graphs import Edge
    assert window.scene.edges[Edge("norm", "conv1")].overlay is not None
    assert window.scene.nodes["relu1"].overlay is None and flow
    assert ui.legend.isVisible()

    # How responsive the window stays while it trains is measured in bench.window_training.

    # Editing during the run is allowed and noted; the running copy is untouched.
    window.document.try_edit(lambda: window.document.graph.set_params_edit("fc1", out_features=100))
    assert "changed since this run started" in dashboard.changed_note.text()

    # Pick a sample and click a node: its activation maps for that sample arrive.
    dashboard.tabs.setCurrentWidget(dashboard.activations)
    dashboard.activations.sample.setValue(7)
    window.view.set_zoom(1.0)
    window.view.centerOn(window.scene.nodes["conv2"])
    click(window, node_point(window, "conv2"))
    assert dashboard.activations.layer.wanted == "conv2"
    qtbot.waitUntil(lambda: any(isinstance(m, M.ActivationMaps) and m.sample == 7 for m in seen), timeout=60_000)
    qtbot.waitUntil(lambda: dashboard.activations.caption.text().startswith("conv2: 16x4x4 for sample 7"),
                    timeout=10_000)
    assert dashboard.activations.maps.shape == (16, 4, 4)
    cols = dashboard.activations.numbers.cols           # as many columns as make the maps largest in the view
    rows = -(-16 // cols)
    assert dashboard.activations.maps_image.image.shape == (rows * 5 - 1, cols * 5 - 1)    # 16 maps of 4x4, 1-px gaps
    assert cols > rows                                  # a wide, short dock takes them in a long row

    # Predict with the weights of the newest checkpoint.
    dashboard.tabs.setCurrentWidget(dashboard.predict)
    qtbot.waitUntil(lambda: (dashboard.redraw() or True) and dashboard.predict.model is not None, timeout=30_000)
    assert dashboard.predict.result.text().startswith("The newest weights are loaded")    # not "train first"
    dashboard.predict.sample.setValue(3)
    assert not dashboard.predict.picture.pixmap().isNull()                    # the sample, as an image
    qtbot.mouseClick(dashboard.predict.predict_sample, Qt.LeftButton)
    p = dashboard.predict.probabilities
    assert p.shape == (10,) and abs(p.sum() - 1) < 1e-5
    assert dashboard.predict.result.text().startswith("The sample looks like")
    pad = dashboard.predict.pad
    qtbot.mousePress(pad, Qt.LeftButton, pos=pad.rect().center())
    qtbot.mouseRelease(pad, Qt.LeftButton, pos=pad.rect().center())
    assert pad.ink.max() == 1.0 and dashboard.predict.result.text().startswith("The drawing looks like")

    # Pause holds the run; resume and stop.
    window.commands.action("train.pause").trigger()
    qtbot.wait(800)                        # messages already on their way arrive
    steps_before = ui.controller.current.step
    qtbot.wait(800)
    assert ui.controller.current.step == steps_before and ui.controller.current.status == "paused"
    window.commands.action("train.pause").trigger()
    qtbot.waitUntil(lambda: ui.controller.current.step > steps_before, timeout=30_000)
    window.commands.action("train.stop").trigger()
    qtbot.waitUntil(lambda: not ui.controller.running, timeout=60_000)
    assert ui.controller.current.status == "stopped" and window.commands.action("train.start").isEnabled()

    # Export the whole tab (every plot in it) and the curves.
    dashboard.tabs.setCurrentWidget(dashboard.curves)
    assert dashboard.export_plot(str(tmp_path / "loss.png"))
    image = QImage(str(tmp_path / "loss.png"))
    ratio = dashboard.curves.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(dashboard.curves.width() * ratio),
                                               round(dashboard.curves.height() * ratio))
    assert dashboard.export_curves(str(tmp_path / "curves.csv"))
    lines = (tmp_path / "curves.csv").read_text().splitlines()
    assert lines[0].startswith("unit,index,step_loss") and any(line.startswith("epoch,1,") for line in lines)


@pytest.mark.slow
def test_a_run_that_diverges_fails_in_the_dashboard_and_leaves_the_editor(window, qtbot):
    open_lenet(window, epochs=5, lr=1e6, optimizer="sgd", probes=False)
    before = dumps_graph(window.document.graph)
    window.commands.action("train.start").trigger()
    qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    record = window.training.controller.current
    assert record.status == "failed"
    window.training.dashboard.redraw()
    assert "Failed:</b> the loss became" in window.training.dashboard.status.text()
    assert "Training failed" in window.statusBar().currentMessage()
    assert dumps_graph(window.document.graph) == before
    assert window.commands.action("train.start").isEnabled()


def test_a_graph_with_errors_does_not_start(window, qtbot):
    open_lenet(window)
    window.document.try_edit(lambda: window.document.graph.set_params_edit("conv1", kernel_size=11))
    assert not window.training.train()
    assert "Fix the errors first: conv1: kernel 11x11" in window.statusBar().currentMessage()
    assert not window.training.controller.running


@pytest.mark.slow
def test_runs_are_kept_beside_the_graph_and_compared(window, qtbot, monkeypatch, tmp_path):
    open_lenet(window, epochs=2, probes=False)
    monkeypatch.setattr(window.port, "choose_save_path", lambda *a: str(tmp_path / "lenet.loom"))
    files.save(window.context)
    for _ in range(2):
        window.commands.action("train.start").trigger()
        qtbot.waitUntil(lambda: not window.training.controller.running, timeout=120_000)
    kept = load_runs(tmp_path / "lenet.loom").records
    assert [r.name for r in kept] == ["run 1", "run 2"] and kept[0].curves["val_loss"].size == 2
    curves = window.training.dashboard.curves
    window.training.dashboard.tabs.setCurrentWidget(curves)
    window.training.dashboard.mark_dirty()
    window.training.dashboard.redraw()
    curves.compare.setCurrentText("run 1")
    window.training.dashboard.mark_dirty()
    window.training.dashboard.redraw()
    _, y = curves.compare_lines["val_loss"].getData()
    assert list(y) == list(kept[0].curves["val_loss"].y)
    assert "run 1 (validation)" in curves.loss_plot.plotItem.titleLabel.text    # named in the key, over no curve
    _, accuracy = curves.lines["val_accuracy"].getData()      # in %, on an axis that says so
    assert list(accuracy) == [100 * a for a in kept[1].curves["val_accuracy"].y]
    assert curves.acc_plot.plotItem.getAxis("left").labelText == "accuracy (%)"
    assert curves.loss_plot.plotItem.getAxis("left").labelText == "loss (cross-entropy)"


def test_settings_dialog_writes_the_training_section(window, qtbot, monkeypatch):
    from gui.training.settings_dialog import TrainingSettingsDialog
    open_lenet(window)

    def fill(dialog):
        dialog.fields["epochs"].setValue(3)
        dialog.fields["optimizer"].setCurrentText("sgd")
        dialog.fields["lr"].setValue(-1)          # refused by the spin box: stays at its minimum 0
        dialog.fields["lr"].setValue(0.05)
        dialog.accept()
        return dialog.result()
    monkeypatch.setattr(TrainingSettingsDialog, "exec", fill)
    assert window.training.edit_settings()
    training = window.document.graph.training
    assert training["epochs"] == 3 and training["optimizer"] == "sgd" and training["lr"] == 0.05
    window.commands.action("edit.undo").trigger()
    assert window.document.graph.training["optimizer"] == "adam"


@pytest.mark.slow
def test_train_and_screenshot_from_the_command_line(tmp_path):
    shot = tmp_path / "training.png"
    example = tmp_path / "mlp_spiral.loom"          # trained runs are kept beside it: never in the checkout
    shutil.copy(EXAMPLES / "mlp_spiral.loom", example)
    result = subprocess.run([sys.executable, str(ROOT / "main.py"), str(example), "--train", "3",
                             "--screenshot", str(shot)], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert image.height() >= 600
    # The dashboard's validation curve (red) is drawn in the lower half of the window.
    red = 0xFFDC2626
    assert any(image.pixel(x, y) == red for x in range(0, image.width(), 2)
               for y in range(image.height() // 2, image.height(), 2))

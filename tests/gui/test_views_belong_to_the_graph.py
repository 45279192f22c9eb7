"""Every training view shows the run of the graph on the canvas, says which run and which step its
data come from, and uses the newest weights; opening another graph clears every tab. Driven as a
person does it: the example menu, F5, the tabs, the ? button."""

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from engine.training import load_checkpoint
from engine.training import messages as M
from gui.training.dashboard import seconds
from gui.training.run_record import RunRecord

pytestmark = pytest.mark.slow       # a real run in the worker process


def open_example(window, title: str) -> None:
    menu = window.commands.menu("&File/New from &Example")
    action = next(a for a in menu.actions() if a.text() == title)
    action.trigger()
    assert window.document.graph.name == title


def show(dashboard, panel) -> None:
    dashboard.tabs.setCurrentWidget(panel)
    dashboard.mark_dirty()
    dashboard.redraw()


def title(plot) -> str:
    return plot.getPlotItem().titleLabel.text


def bright_yellow(widget) -> int:
    """Pixels of viridis' top end (a full confusion cell, a bright map) the widget shows."""
    image = widget.grab().toImage()
    return sum(1 for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)
               if (lambda c: c.red() > 200 and c.green() > 200 and c.blue() < 80)(image.pixelColor(x, y)))


def test_every_view_follows_the_canvas_graph_its_run_and_its_newest_weights(window, qtbot, monkeypatch):
    seen = []
    absorb = RunRecord.absorb
    monkeypatch.setattr(RunRecord, "absorb", lambda self, m: (seen.append(m), absorb(self, m)))
    open_example(window, "LeNet for digits")
    window.document.graph.training = {**window.document.graph.training, "device": "cpu"}
    window.training.epochs_box.setValue(3)
    window.activateWindow()
    QTest.keyClick(window, Qt.Key.Key_F5)
    ui, dashboard = window.training, window.training.dashboard
    assert ui.controller.running
    qtbot.waitUntil(lambda: not ui.controller.running, timeout=180_000)
    record = ui.controller.current
    assert record.status == "finished" and record is dashboard.record

    # One clock: the finished line says the time the worker reported last, never less than a live one.
    final = seen[-1] if isinstance(seen[-1], M.Finished) else next(m for m in seen if isinstance(m, M.Finished))
    steps = [m.elapsed_s for m in seen if isinstance(m, M.StepMetrics)]
    assert final.elapsed_s >= max(steps)
    show(dashboard, dashboard.curves)
    assert f"elapsed {seconds(final.elapsed_s)}" in dashboard.status.text() and "left" not in dashboard.status.text()

    # Each view says which run and which step (or epoch) of it it shows.
    show(dashboard, dashboard.confusion)
    assert title(dashboard.confusion.plot).endswith(f"{record.name}, epoch 3 of 3")
    assert bright_yellow(dashboard.confusion) > 0
    show(dashboard, dashboard.activations)
    qtbot.waitUntil(lambda: dashboard.activations.maps is not None)
    assert f"{record.name}, step " in dashboard.activations.caption.text()
    show(dashboard, dashboard.filters)
    assert f", {record.name}, step " in title(dashboard.filters.plot)
    show(dashboard, dashboard.histograms)
    assert f"{record.name}, step " in dashboard.histograms.caption.text()
    show(dashboard, dashboard.features)
    qtbot.waitUntil(lambda: dashboard.features.shown is not None)
    assert title(dashboard.features.plot).endswith(f"{record.name}, epoch 3 of 3")
    show(dashboard, dashboard.gradients)
    assert dashboard.gradients.summary.text().startswith(f"{record.name}, step ")

    # Predict uses the newest checkpoint's weights (best.safetensors was rewritten at every epoch).
    predict = dashboard.predict
    show(dashboard, predict)
    assert not predict.chart.isVisible() and predict.placeholder.isVisible()     # words, not empty axes
    qtbot.waitUntil(lambda: (dashboard.redraw() or True) and dashboard.run_model.epoch == 3, timeout=60_000)
    newest = load_checkpoint(record.checkpoint.path)
    assert newest.epoch == 3 and dashboard.run_model.step == newest.step == record.step
    weights = dashboard.run_model.model.state_dict()
    assert all(torch.equal(weights[name], tensor) for name, tensor in newest.weights.items())
    predict.sample.setValue(3)
    qtbot.mouseClick(predict.predict_sample, Qt.MouseButton.LeftButton)
    assert predict.chart.isVisible() and not predict.placeholder.isVisible()
    assert predict.result.text().endswith(f"with the weights of {record.name}, epoch 3 of 3 (step {newest.step}).")
    qtbot.waitUntil(lambda: title(predict.why_plot).endswith(": Grad-CAM on conv2"), timeout=60_000)

    # Help for the view in front: the ? beside the tabs.
    show(dashboard, dashboard.confusion)
    qtbot.mouseClick(dashboard.help_button, Qt.MouseButton.LeftButton)
    assert dashboard.help.isVisible() and dashboard.help.title == "Confusion"
    assert "true class" in dashboard.help.text.toPlainText()
    entry = next(a for a in window.commands.menu("&Help/&Training Views").actions() if a.text() == "Feature space")
    entry.trigger()                                      # and the Help menu, for every view
    assert dashboard.help.title == "Feature space" and "silhouette" in dashboard.help.text.toPlainText()

    # Another graph: every tab forgets LeNet's run, its data and its model.
    open_example(window, "ResNet-18")
    assert dashboard.record is None and dashboard.run_model.model is None
    assert dashboard.status.text() == "No runs of this graph yet: press Train (F5)."
    for index in range(dashboard.tabs.count()):
        if not dashboard.tabs.isTabVisible(index):
            continue
        panel = dashboard.tabs.widget(index)
        show(dashboard, panel)
        name = dashboard.tabs.tabText(index)
        if getattr(panel, "needs_run", True):
            assert dashboard.empty.isVisible() and dashboard.empty.parent() is panel, name
            assert "No run of this graph yet" in dashboard.empty.text(), name
        assert bright_yellow(panel) == 0, name
    assert dashboard.confusion.image.image is None and dashboard.confusion.matrix is None
    assert dashboard.filters.image.image is None and dashboard.filters.layer.count() == 0
    assert dashboard.activations.maps is None and dashboard.activations.maps_image.image is None
    assert dashboard.activations.sample_image.image is None
    assert not dashboard.histograms.weights.getPlotItem().listDataItems()
    assert predict.probabilities is None and predict.picture.pixmap().isNull()
    assert len(dashboard.features.points.data) == 0 and dashboard.features.shown is None
    x, _ = dashboard.curves.lines["val_loss"].getData()
    assert not dashboard.gradients.lines and (x is None or len(x) == 0)

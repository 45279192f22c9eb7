"""Sequences seen from inside, in the window: a recurrent layer unrolled over a sample (its steps,
hidden state and gates), the gradient reaching each step and what clipping did, the training
settings of recurrent layers and word2vec; driven through the window's widgets after real runs."""

import copy
import os

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt, QUrl
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

import resources
from engine.training import TrainingConfig
from engine.training import messages as M
from gui.commands import files
from tests.gui.test_insight_views import show, train_in_window

SHOTS = os.environ.get("NETLOOM_SHOTS")        # a folder: the views are saved there as PNG too


def shot(widget, name: str) -> QImage:
    image = widget.grab().toImage()
    if SHOTS:
        image.save(os.path.join(SHOTS, name))
    return image


def click_in(view, plot, x, y):
    """A left click on the plot ``plot`` of a GraphicsLayoutWidget, at the data point (x, y)."""
    QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, view.mapFromScene(plot.vb.mapViewToScene(QPointF(x, y))))


def test_recurrent_settings_sit_with_the_loss_and_apply_only_where_they_can(qtbot):
    from gui.training.settings_dialog import GROUPS, TrainingSettingsDialog

    loss_group = dict(GROUPS)["Loss and optimizer"]
    assert {"negative_samples", "truncate_bptt", "lstm_forget_bias"} <= set(loss_group)
    dialog = TrainingSettingsDialog(TrainingConfig(), layer_types={"Input", "GRU", "Linear", "Output"})
    qtbot.addWidget(dialog)
    fields = dialog.fields
    assert fields["truncate_bptt"].isEnabled()                  # a GRU reads sequences
    assert not fields["lstm_forget_bias"].isEnabled()            # but has no forget gate
    assert "no LSTM layer" in fields["lstm_forget_bias"].toolTip()
    assert not fields["negative_samples"].isEnabled()            # cross-entropy draws no negatives
    fields["loss"].setCurrentText("negative_sampling")
    assert fields["negative_samples"].isEnabled()
    assert fields["truncate_bptt"].toolTip().startswith("Steps a gradient may travel back")
    fields["truncate_bptt"].setValue(8)
    fields["lstm_forget_bias"].setValue(-3.0)                    # a bias may close the gate too
    dialog.accept()
    assert dialog.result_config.truncate_bptt == 8 and dialog.result_config.lstm_forget_bias == -3.0
    assert fields["negative_samples"].maximum() == 1000 and fields["lstm_forget_bias"].maximum() == 10.0

    plain = TrainingSettingsDialog(TrainingConfig(), layer_types={"Input", "Linear", "Output"})
    qtbot.addWidget(plain)
    assert not plain.fields["truncate_bptt"].isEnabled() and not plain.fields["lstm_forget_bias"].isEnabled()


@pytest.mark.slow
def test_the_char_lstm_unrolled_with_its_gates_and_the_gradient_through_time(window, qtbot):
    files.open_example(window.context, resources.example("char_lstm.loom"))
    dashboard = window.training.dashboard
    tabs, panel = dashboard.tabs, dashboard.through_time
    assert tabs.isTabVisible(tabs.indexOf(panel))
    node = next(n.id for n in window.document.graph.nodes.values() if n.type == "LSTM")
    record = train_in_window(window, qtbot, 2, probe_every=0, clip_grad_norm=0.5)   # probes at epoch ends

    # The node's menu opens the tab on that layer.
    assert window.training.unroll(node)
    assert tabs.currentWidget() is panel
    show(dashboard, panel)
    found = record.latest["recurrent"][node]
    assert panel.layer.currentText() == node and panel.shown is found
    assert list(panel.strips) == ["hidden state", "input", "forget", "cell", "output"]
    steps, units = found.hidden.shape[2], found.hidden.shape[3]
    hidden_image = panel.strips["hidden state"][1].image
    assert hidden_image.shape == (units, steps)                 # a row per unit, a column per step
    assert np.allclose(hidden_image, found.hidden[-1, 0].T)
    assert np.allclose(panel.strips["forget"][1].image, found.gates[1, -1, 0].T)

    # The steps are named by the characters they read.
    vocabulary = dashboard.data.extra["vocabulary"]
    ticks = dict(panel.strips["output"][0].getAxis("bottom")._tickLevels[0])
    assert ticks[1] == vocabulary[int(found.tokens[0])]

    # A click on a step describes it in one line.
    click_in(panel.view, panel.strips["hidden state"][0], 5, units / 2)
    assert panel.step.value() == 5
    line = panel.line.text()
    assert line.startswith(f"Step 5 of {steps} reads {vocabulary[int(found.tokens[4])]!r}")
    assert f"forget gate mean {found.gates[1, -1, 0, 4].mean():.2f}" in line
    gradients = record.latest["time_gradients"][node]
    assert f"|dL/dh| {gradients.norms[-1, 0, 4]:.1e}" in line

    # The gradient through time, and what clipping did.
    plotted = panel.gradient_plot.listDataItems()[0].yData
    assert np.allclose(plotted, np.maximum(gradients.norms[-1, 0], 1e-14))
    tally = record.clipping
    assert tally is not None and tally.steps > 0 and tally.threshold == 0.5
    assert panel.clipping.text().startswith(f"Gradient clipping at norm 0.5 cut the gradient at {tally.clipped} of "
                                            f"{tally.steps} steps")
    shot(panel, "through_time_char_lstm.png")

    # Another sample: the run is asked for it; the run has ended, so its newest weights unroll it here.
    asked = []
    dashboard.sample_chosen.connect(asked.append)
    panel.sample.setValue(3)
    assert asked == [3] and dashboard.activations.sample.value() == 3
    qtbot.waitUntil(lambda: panel.shown is not None and panel.shown.sample == 3, timeout=60_000)
    from engine.insight import unroll
    expected = unroll(dashboard.run_model.model, node, dashboard.data.x_val[3:4])
    assert np.allclose(panel.shown.hidden, expected.hidden, atol=1e-5)
    assert np.allclose(panel.strips["hidden state"][1].image, expected.hidden[-1, 0].T, atol=1e-5)
    assert "validation sample 3" in panel.caption.text()
    shot(panel, "through_time_char_lstm_sample3.png")

    # A later run of the same graph is never shown the earlier run's unrolled sample.
    unrolled = panel.shown
    later = copy.copy(record)
    panel.show_record(later, [])
    assert panel.shown is not unrolled and panel.shown is later.latest["recurrent"][node]


def test_runs_of_an_experiment_are_compared_step_by_step(qtbot):
    """Two runs' median gradient profiles in one plot, judged in words (the RNN's vanishes)."""
    from gui.training.recurrent_panel import RecurrentPanel
    from gui.training.run_record import RunRecord

    panel = RecurrentPanel()
    qtbot.addWidget(panel)
    runs = []
    for name, first in (("RNN", 1e-11), ("LSTM", 1e-3)):
        run = RunRecord(name, {})
        hidden = np.zeros((1, 1, 50, 4), np.float32)
        run.absorb(M.RecurrentSteps(10, "memory", "RNN", 0, np.zeros((50, 2), np.float32), None, hidden, None))
        for step in (10, 20, 30):
            run.absorb(M.TimeGradients(step, "memory", 0, np.geomspace(first * step / 10, 0.3, 50)[None, None]))
        runs.append(run)
    panel.show_record(runs[1], runs)
    names = [item.name() for item in panel.gradient_plot.listDataItems()]
    assert names == ["LSTM (latest probe)", "RNN (median of its probes)"]
    rnn = panel.gradient_plot.listDataItems()[1].yData
    assert rnn[0] == pytest.approx(2e-11) and rnn[-1] == pytest.approx(0.3)
    assert "RNN (median of its probes): 2.0e-11 at step 1, 3.0e-01 at step 50: the gradient vanishes" in \
        panel.gradient_caption.text()
    assert "LSTM (latest probe): 3.0e-03 at step 1" in panel.gradient_caption.text()
    assert "0.5" not in panel.clipping.text() and panel.clipping.text() == ""      # no clipping in these runs


def predict_after_training(window, qtbot, example: str):
    """The example trained for 2 epochs, the Predict tab shown once the run's weights and data are in."""
    files.open_example(window.context, resources.example(example))
    train_in_window(window, qtbot, 2)
    dashboard = window.training.dashboard
    show(dashboard, dashboard.predict)
    qtbot.waitUntil(lambda: dashboard.predict.run_model.model is not None and dashboard.data is not None,
                    timeout=60_000)
    return dashboard, dashboard.predict


@pytest.mark.slow
def test_the_char_lstm_predicts_the_next_character_of_a_typed_prompt_and_writes_text(window, qtbot):
    from engine.insight import generate, next_token_probabilities, tokenize

    dashboard, predict = predict_after_training(window, qtbot, "char_lstm.loom")
    panel = predict.sequences
    assert panel.isVisible() and not predict.pad.isVisible()          # no digit pad for text
    vocabulary = dashboard.data.extra["vocabulary"]

    QTest.keyClicks(panel.prompt, "the signal")
    QTest.keyClick(panel.prompt, Qt.Key_Return)
    codes = tokenize("the signal", vocabulary, "chars").codes
    expected = next_token_probabilities(predict.run_model.model, codes, 32)
    assert np.allclose(panel.probabilities, expected)
    heights = next(i for i in panel.chart.getPlotItem().items if isinstance(i, pg.BarGraphItem)).opts["height"]
    assert np.allclose(heights, np.sort(expected)[::-1][:10])           # the ten likeliest, likeliest first
    best = vocabulary[int(np.argmax(expected))]
    assert f"the most likely next token is {best!r}" in panel.result.text()

    # Greedy generation (temperature 0) writes what the model's argmax gives, token by token.
    panel.temperature.setValue(0.0)
    panel.length.setValue(25)
    qtbot.mouseClick(panel.generate_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "tokens generated" in panel.result.text(), timeout=60_000)
    greedy = "".join(t.text for t in generate(predict.run_model.model, codes, list(vocabulary), 25, 0.0, window=32))
    assert panel.generated_text() == greedy and len(panel.generated) == 25
    assert greedy in panel.text.toPlainText() and panel.text.toPlainText().startswith("the signal")
    assert "greedy" in panel.result.text()
    first = panel.generated[0]                  # greedy: the model's own probability of the token it took
    assert first.probability == pytest.approx(float(expected.max()), rel=1e-5)
    panel.text.highlighted.emit(QUrl("#0"))      # the mouse over the first generated token
    assert panel.hover.text() == f"Token 1: {first.text!r}, drawn with probability {first.probability:.1%}."
    shot(predict, "predict_char_lstm.png")

    # A character the model never saw is named.
    panel.prompt.setText("Hello!")
    QTest.keyClick(panel.prompt, Qt.Key_Return)
    assert "never saw" in panel.result.text() and "'!'" in panel.result.text()


@pytest.mark.slow
def test_a_typed_sentence_is_classified_by_the_sentiment_lstm(window, qtbot):
    from engine.insight import class_probabilities, tokenize

    dashboard, predict = predict_after_training(window, qtbot, "sentiment_lstm.loom")
    panel, data = predict.sequences, dashboard.data
    assert panel.isVisible() and not panel.generate_button.isVisible()     # a classifier writes nothing
    assert panel.prompt_label.text() == "sentence"

    QTest.keyClicks(panel.prompt, "a wonderful and warm film zzyzx")
    QTest.keyClick(panel.prompt, Qt.Key_Return)
    tokens = tokenize("a wonderful and warm film zzyzx", data.extra["vocabulary"], "words", length=data.input_shape[0])
    expected = class_probabilities(predict.run_model.model, tokens.codes)
    assert np.allclose(panel.probabilities, expected)
    best = data.class_names[int(np.argmax(expected))]
    assert panel.result.text().startswith(f"The sentence reads as {best} ({expected.max():.0%})")
    assert "Read as unknown: zzyzx" in panel.result.text()

    # A validation sample's words, without the padding in front.
    panel.sample.setValue(0)
    qtbot.mouseClick(panel.use_sample, Qt.LeftButton)
    text = panel.prompt.text()
    assert text and "<pad>" not in text
    assert text.split() == [data.extra["vocabulary"][c] for c in data.x_val[0].tolist() if c != 0]
    assert panel.result.text().startswith("The sentence reads as") and "zzyzx" not in panel.result.text()
    shot(predict, "predict_sentiment.png")


def test_the_skipgram_pairs_of_a_typed_sentence_fill_the_notes_table(window, qtbot):
    dashboard = window.training.dashboard
    tabs, panel = dashboard.tabs, dashboard.word_pairs
    files.open_example(window.context, resources.example("char_lstm.loom"))
    assert not tabs.isTabVisible(tabs.indexOf(panel))          # a character model makes no word pairs
    files.open_example(window.context, resources.example("word2vec_skipgram.loom"))
    assert tabs.isTabVisible(tabs.indexOf(panel))
    show(dashboard, panel)
    assert not dashboard.empty.isVisible()                     # no run needed: the pairs come from the sentence
    assert panel.window_size.value() == 2                           # the example's window

    def row(r):
        return [panel.table.item(r, c).text() for c in range(3)]
    assert panel.table.rowCount() == 8
    assert row(0) == ["the", "wide, road", "(the, wide)  (the, road)"]
    assert row(3) == ["shimmered", "wide, road, in, the", "(shimmered, wide)  (shimmered, road)  (shimmered, in)  "
                                                          "(shimmered, the)"]
    assert panel.caption.text().startswith("26 pairs from 8 words with a window of 2")
    shot(panel, "skipgram_pairs.png")
    panel.window_size.setValue(3)
    assert row(7) == ["sun", "in, the, hot", "(sun, in)  (sun, the)  (sun, hot)"]
    assert panel.caption.text().startswith("36 pairs from 8 words with a window of 3")
    panel.sentence.selectAll()
    QTest.keyClicks(panel.sentence, "The cat sat on the mat")
    assert panel.table.rowCount() == 6 and row(4) == ["the", "cat, sat, on, mat", "(the, cat)  (the, sat)  (the, on)  (the, mat)"]


def test_analogies_over_an_embedding_in_the_embeddings_tab(qtbot):
    from engine.data import load_dataset
    from gui.training.insight_panels import EmbeddingPanel
    from gui.training.run_record import RunRecord

    panel = EmbeddingPanel()
    qtbot.addWidget(panel)
    data = load_dataset("text", mode="skipgram", window=2)
    panel.data = data
    vocabulary = list(data.extra["vocabulary"])
    index = {w: i for i, w in enumerate(vocabulary)}
    vectors = np.random.default_rng(0).normal(size=(len(vocabulary), 8)).astype(np.float32)
    a, b, c, d = vocabulary[:4]
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[index[d]] = unit[index[a]] - unit[index[b]] + unit[index[c]]   # d is exactly a - b + c of unit vectors
    record = RunRecord("run 1", {})
    record.absorb(M.EmbeddingSpace(1, "embed1", vectors, vectors[:, :2]))
    panel.show_record(record)
    fields = panel.analogy.fields
    for field, word in zip(fields, (a, b, c)):
        QTest.keyClicks(field, word)
    answer = panel.analogy.answer.text()
    assert f"<b>{a} - {b} + {c}</b> is nearest to" in answer
    assert answer.index(f"<td>{d}</td>") == answer.index("<td>")          # d first
    assert "<td align='right'>&nbsp;1.00</td>" in answer
    fields[1].setText("qqqq")
    assert panel.analogy.answer.text() == "'qqqq' is not a token of this embedding."

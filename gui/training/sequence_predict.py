"""Predict for models that read sequences of tokens: a typed prompt and the next-token
probabilities of a language model, with text generated token by token (temperature, length); or
the class probabilities of a typed sentence for a sequence classifier. The padding tokens a data
set puts in front are never shown. Generation runs in a background thread, on a copy of the run's
model, and its tokens appear as they come."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from engine.insight import (
    MAX_GENERATED,
    PROMPT,
    TEXT,
    InsightError,
    class_probabilities,
    generate,
    next_token_probabilities,
    tokenize,
)

from ..background import BackgroundJob
from ..theme import current as current_theme
from ..theme import icon as theme_icon
from .run_model import RunModel

TOP_TOKENS = 10          # next-token bars shown: the most likely ones
PAD = "<pad>"
STREAM_MS = 50


def shown_piece(piece: str) -> str:
    """A token as a bar's label: a space or a line break made visible."""
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(piece, piece)


class SequencePredict(QWidget):
    """The sequence half of Predict. ``set_data`` says which kind (``PROMPT``, ``TEXT``) applies."""

    def __init__(self, run_model: RunModel, parent=None) -> None:
        super().__init__(parent)
        self.run_model = run_model
        self.kind = ""
        self.data: Any = None           # the run's DataSet
        self.prompt = QLineEdit()
        self.prompt.setObjectName("prompt")
        self.prompt.returnPressed.connect(self.predict)
        self.sample = QSpinBox(minimum=0, maximum=0)
        self.use_sample = QPushButton(theme_icon("mdi6.text-box-outline"), "Use sample")
        self.use_sample.setToolTip("Put the chosen validation sample's text in the box (without its padding)")
        self.use_sample.clicked.connect(self.take_sample)
        self.ask = QPushButton(theme_icon("mdi6.head-question-outline"), "Predict")
        self.ask.clicked.connect(self.predict)
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=5.0, singleStep=0.1, value=0.8, prefix="temperature ")
        self.temperature.setToolTip("Below 1 the likely tokens gain; above 1 the choice flattens; 0 always takes the "
                                    "most likely token (greedy)")
        self.length = QSpinBox(minimum=1, maximum=MAX_GENERATED, value=120, prefix="length ")
        self.length.setToolTip("How many tokens to write after the prompt")
        self.generate_button = QPushButton(theme_icon("mdi6.creation"), "Generate")
        self.generate_button.clicked.connect(self.generate)
        self.chart = pg.PlotWidget(title="Next-token probabilities")
        self.chart.setBackground(current_theme().plot_background)
        self.chart.setYRange(0, 1)
        self.chart.setLabel("left", "probability")
        self.chart.setMouseEnabled(False, False)
        self.text = QTextBrowser()
        self.text.setObjectName("generated")
        self.text.setOpenLinks(False)
        self.text.highlighted.connect(self._hovered)
        self.hover = QLabel("")
        self.result = QLabel("")
        self.result.setWordWrap(True)
        top = QHBoxLayout()
        self.prompt_label = QLabel("prompt")
        top.addWidget(self.prompt_label)
        top.addWidget(self.prompt, 1)
        top.addWidget(self.ask)
        top.addWidget(QLabel("validation sample"))
        top.addWidget(self.sample)
        top.addWidget(self.use_sample)
        writing = QHBoxLayout()
        writing.addWidget(self.temperature)
        writing.addWidget(self.length)
        writing.addWidget(self.generate_button)
        writing.addStretch(1)
        below = QHBoxLayout()
        below.addWidget(self.chart, 2)
        below.addWidget(self.text, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(writing)
        layout.addLayout(below, 1)
        layout.addWidget(self.hover)
        layout.addWidget(self.result)
        self.writing = [self.temperature, self.length, self.generate_button, self.text, self.hover]
        self.probabilities: np.ndarray | None = None
        self.generated: list = []            # GeneratedToken, as they come from the background thread
        self._generation = 0                 # which generation is current (an older one stops)
        self._prompt_text = ""
        self._stream = QTimer(self, interval=STREAM_MS)
        self._stream.timeout.connect(self._show_generated)

    # ------------------------------------------------------------------ feeding
    def set_data(self, data, kind: str) -> None:
        self.data, self.kind = data, kind
        self.stop()
        self.sample.setMaximum(max(0, len(data.x_val) - 1) if data is not None else 0)
        words = kind == TEXT
        self.prompt_label.setText("sentence" if words else "prompt")
        self.prompt.setPlaceholderText("Type a sentence to classify, then Enter" if words else
                                       "Type the start of a text, then Enter for the next token or Generate")
        for widget in self.writing:
            widget.setVisible(kind == PROMPT)
        self.chart.setTitle("Class probabilities" if words else "Next-token probabilities")

    def reset(self) -> None:
        self.stop()
        self.probabilities = None
        self.chart.clear()
        self.text.clear()
        self.result.setText("")

    def stop(self) -> None:
        self._generation += 1
        self._stream.stop()

    @property
    def vocabulary(self):
        return self.data.extra.get("vocabulary") if self.data is not None else None

    def _tokens(self):
        """The typed text as the model's tokens; None (and the reason said) when it cannot be read."""
        data = self.data
        if data is None or self.vocabulary is None:
            self.result.setText("The run's data set is still loading.")
            return None
        if self.run_model.model is None:
            self.result.setText("No weights yet: predictions need a run that finished an epoch.")
            return None
        try:
            return tokenize(self.prompt.text(), self.vocabulary, data.extra.get("unit", "chars"),
                            length=data.input_shape[0] if self.kind == TEXT else None)
        except InsightError as err:
            self.result.setText(str(err))
            return None

    def take_sample(self) -> str:
        """The chosen validation sample's tokens as text, padding left out."""
        if self.data is None or self.vocabulary is None:
            return ""
        vocabulary = self.vocabulary
        codes = self.data.x_val[self.sample.value()].reshape(-1).tolist()
        pieces = [vocabulary[c] for c in codes if 0 <= c < len(vocabulary) and vocabulary[c] != PAD]
        text = ("" if self.data.extra.get("unit", "chars") == "chars" else " ").join(pieces)
        self.prompt.setText(text)
        if self.run_model.model is not None:
            self.predict()
        return text

    # ------------------------------------------------------------------ asking
    def predict(self) -> np.ndarray | None:
        """Next-token probabilities of the prompt, or class probabilities of the sentence."""
        tokens = self._tokens()
        if tokens is None:
            return None
        model, data = self.run_model.model, self.data
        weights = self.run_model.weights_from()
        try:
            if self.kind == TEXT:
                probabilities = class_probabilities(model, tokens.codes)
                names = list(data.class_names)
            else:
                probabilities = next_token_probabilities(model, tokens.codes, data.input_shape[0])
                names = [str(v) for v in self.vocabulary]
        except InsightError as err:
            self.result.setText(str(err))
            return None
        self.probabilities = probabilities
        order = np.argsort(probabilities)[::-1][:TOP_TOKENS] if self.kind == PROMPT else np.arange(len(probabilities))
        self.chart.clear()
        self.chart.addItem(pg.BarGraphItem(x=np.arange(len(order)), height=probabilities[order], width=0.7,
                                           brush=current_theme().training_series))
        labels = [shown_piece(names[i]) if i < len(names) else str(i) for i in order]
        self.chart.getAxis("bottom").setTicks([list(enumerate(labels))])
        best = int(order[0]) if self.kind == PROMPT else int(np.argmax(probabilities))
        best_name = names[best] if best < len(names) else str(best)
        unknown = f" Read as unknown: {', '.join(tokens.unknown)}." if tokens.unknown else ""
        if self.kind == TEXT:
            self.result.setText(f"The sentence reads as {best_name} ({probabilities[best]:.0%}), with the weights of "
                                f"{weights}.{unknown}")
        else:
            self.result.setText(f"After the prompt, the most likely next token is {best_name!r} "
                                f"({probabilities[best]:.0%}), with the weights of {weights}.{unknown}")
        return probabilities

    def generate(self) -> bool:
        """Text after the prompt, token by token in a background thread; each token shows as it comes."""
        tokens = self._tokens()
        if tokens is None or self.kind != PROMPT:
            return False
        self.stop()
        generation = self._generation
        model, vocabulary = self.run_model.copy(), list(self.vocabulary)
        length, temperature, window = self.length.value(), self.temperature.value(), self.data.input_shape[0]
        self.generated = found = []
        self._prompt_text = self.prompt.text()

        def write():
            for token in generate(model, tokens.codes, vocabulary, length, temperature, seed=0, window=window):
                if generation != self._generation:       # stopped, or a newer generation began
                    break
                found.append(token)

        def done(_, error) -> None:
            if generation != self._generation:
                return
            self._stream.stop()
            self._show_generated()
            if error is not None:
                self.result.setText(f"Generation stopped: {error}")
            else:
                self.result.setText(self._summary())
        self._stream.start()
        self.result.setText(f"Writing {length} tokens at temperature {temperature:g}...")
        BackgroundJob(write, done, self, name="netloom-generate").start()
        return True

    def _show_generated(self) -> None:
        """The prompt, then each generated token shaded by how unlikely it was when drawn; hovering
        a token says its step and probability."""
        tokens = list(self.generated)
        theme = current_theme()
        gap = self._gap()
        parts = [f"<span style='color:{theme.node_muted}'>{_html(self._prompt_text)}</span>"]
        for i, t in enumerate(tokens):
            shade = _blend(theme.training_series, theme.plot_background, 0.1 + 0.6 * (1 - t.probability))
            parts.append(f"{gap}<a href='#{i}' style='text-decoration:none; color:{theme.node_text}; "
                         f"background-color:{shade}'>{_html(t.text)}</a>")
        self.text.setHtml("<div style='font-family: monospace; white-space: pre-wrap'>" + "".join(parts) + "</div>")

    def _hovered(self, url) -> None:
        """The token under the mouse: which step, and the probability it was drawn with."""
        fragment = url.fragment()
        if fragment.isdigit() and int(fragment) < len(self.generated):
            t = self.generated[int(fragment)]
            self.hover.setText(f"Token {int(fragment) + 1}: {t.text!r}, drawn with probability {t.probability:.1%}.")

    def _gap(self) -> str:
        """Between tokens: nothing for characters, a space for words."""
        return "" if self.data is None or self.data.extra.get("unit", "chars") == "chars" else " "

    def _summary(self) -> str:
        tokens = self.generated
        if not tokens:
            return "Nothing was generated."
        chances = np.array([t.probability for t in tokens])
        greedy = self.temperature.value() == 0
        how = ("greedy: always the most likely token; its shade is how unsure the model was" if greedy else
               f"temperature {self.temperature.value():g}; each token's shade is how unlikely it was when drawn")
        return (f"{len(tokens)} tokens generated ({how}). Hover over a token for its probability: mean "
                f"{chances.mean():.0%}, lowest {chances.min():.0%}.")

    def generated_text(self) -> str:
        return self._gap().join(t.text for t in self.generated)


def _html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")


def _blend(colour: str, background: str, share: float) -> str:
    """``share`` of ``colour`` over ``background``, as #rrggbb (Qt's rich text reads no rgba)."""
    a, b = QColor(colour).name(), QColor(background).name()          # both as #rrggbb
    mix = [round(share * int(a[i:i + 2], 16) + (1 - share) * int(b[i:i + 2], 16)) for i in (1, 3, 5)]
    return "#" + "".join(f"{v:02x}" for v in mix)

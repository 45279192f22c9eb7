"""Playing with words: the skip-gram pairs word2vec trains on, for a sentence a student types
(the same pairing the data set uses, so the table is what trains), and analogies (a - b + c)
over an Embedding layer's vectors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.data import skipgram_positions, words
from engine.insight import InsightError, analogy

from .run_record import RunRecord

NOTES_SENTENCE = "The wide road shimmered in the hot sun"
MAX_WINDOW = 10
MAX_WORDS = 200          # words of a typed sentence put in the table (a pasted page would be a wall of pairs)


def pairs_by_word(sentence: str, window: int) -> list[tuple[str, list[str]]]:
    """Each word of the sentence in order, with the context words it is paired with: the rows of
    the lecture notes' table, from the pairs the data set makes."""
    found = words(sentence)[:MAX_WORDS]
    rows: list[tuple[str, list[str]]] = [(word, []) for word in found]
    for centre, context in zip(*(p.tolist() for p in skipgram_positions(len(found), window))):
        rows[centre][1].append(found[context])
    return rows


class WordPairsPanel(QWidget):
    """A typed sentence and a window size; the table lists each word with its context words and
    the (centre, context) pairs training takes from them."""
    needs_run = False            # the pairs come from the sentence, not from a run

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.sentence = QLineEdit(NOTES_SENTENCE)
        self.sentence.setObjectName("sentence")
        self.window_size = QSpinBox(minimum=1, maximum=MAX_WINDOW, value=2, prefix="window ")
        self.window_size.setToolTip("Words on each side of a word that count as its context")
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["word", "context words", "training pairs (word, context)"])
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("sentence"))
        row.addWidget(self.sentence, 1)
        row.addWidget(self.window_size)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.caption)
        self.sentence.textChanged.connect(lambda _: self.show_pairs())
        self.window_size.valueChanged.connect(lambda _: self.show_pairs())
        self.show_pairs()

    def set_window(self, window: int) -> None:
        """The window the graph's data set trains with."""
        self.window_size.setValue(max(1, min(MAX_WINDOW, window)))

    def reset(self) -> None:
        """Nothing of a run is shown here."""

    def show_record(self, record: RunRecord) -> None:
        """The pairs do not depend on a run."""

    def show_pairs(self) -> int:
        rows = pairs_by_word(self.sentence.text(), self.window_size.value())
        self.table.setRowCount(len(rows))
        for r, (word, context) in enumerate(rows):
            cells = (word, ", ".join(context), "  ".join(f"({word}, {c})" for c in context))
            for c, text in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        total = sum(len(context) for _, context in rows)
        window = self.window_size.value()
        self.caption.setText(f"{total} pairs from {len(rows)} words with a window of {window} ({window} words on each "
                             "side). Skip-gram training shows the network one word and asks for each of its context "
                             "words in turn: words met in like contexts end up with like vectors. These are the pairs "
                             "the word2vec data set makes of its text.")
        return total


class AnalogyBox(QWidget):
    """a - b + c over an Embedding layer's vectors (king - man + woman), nearest by cosine."""

    def __init__(self, tokens: Callable[[int], list[str]], parent=None) -> None:
        super().__init__(parent)
        self.tokens = tokens                  # names of the first n rows of the embedding
        self.vectors: np.ndarray | None = None
        self.fields = [QLineEdit() for _ in range(3)]
        for field, hint in zip(self.fields, ("king", "man", "woman")):
            field.setPlaceholderText(hint)
            field.setMaximumWidth(110)
            field.textChanged.connect(lambda _: self.show_analogy())
        self.answer = QLabel("Analogies: a - b + c, e.g. king - man + woman.")
        self.answer.setWordWrap(True)
        row = QHBoxLayout()
        for i, field in enumerate(self.fields):
            row.addWidget(field)
            if i < 2:
                row.addWidget(QLabel("-" if i == 0 else "+"))
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.answer)

    def set_vectors(self, vectors: np.ndarray | None) -> None:
        self.vectors = vectors
        self.show_analogy()

    def show_analogy(self) -> list[tuple[str, float]]:
        """The tokens nearest a - b + c, listed; [] while a word is missing or unknown."""
        typed = [f.text().strip() for f in self.fields]
        if self.vectors is None or not all(typed):
            return []
        tokens = self.tokens(len(self.vectors))
        unknown = [t for t in typed if t not in tokens]
        if unknown:
            self.answer.setText(f"'{unknown[0]}' is not a token of this embedding.")
            return []
        a, b, c = (tokens.index(t) for t in typed)
        try:
            found = [(tokens[i], s) for i, s in analogy(self.vectors, a, b, c, 5)]
        except InsightError as err:
            self.answer.setText(str(err))
            return []
        rows = "".join(f"<tr><td>{t}</td><td align='right'>&nbsp;{s:.2f}</td></tr>" for t, s in found)
        self.answer.setText(f"<b>{typed[0]} - {typed[1]} + {typed[2]}</b> is nearest to (cosine):<table>{rows}</table>")
        return found

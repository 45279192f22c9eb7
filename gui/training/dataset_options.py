"""The options of the chosen data set as a form: one field per option its loader takes (a tick,
a number, a text), a folder or file picker beside the option that says where the data is
(``root``, ``path``), and the options it does not take named rather than dropped unsaid."""

from __future__ import annotations

import inspect
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.data import dataset_options

# option -> it names a folder (True) or a file (False)
PLACES = {"root": True, "path": False}

HELP = {
    "root": "The folder the data is in",
    "path": "The file the data is in",
    "download": "Download the data into the folder when it is not there (NetLoom asks first)",
    "limit": "Use only this many training samples (and a fifth as many for validation); 0: all",
    "normalize": "Standardise the values with the training samples' mean and standard deviation per channel",
    "image_size": "Resize the pictures to this size (one number, or height x width)",
    "color": "Draw each digit in a random colour on a background of another (3 channels)",
    "as_sequence": "Give each picture as a sequence of its rows (for RNNs and Transformers)",
    "val_fraction": "Share of the samples kept aside for validation",
    "seed": "Random seed of the split (and of generated data)",
    "n_samples": "How many points to generate",
    "noise": "How much noise the generated points get",
    "classes": "How many classes to generate",
    "turns": "How many turns each spiral arm makes",
    "grayscale": "Read the pictures as grey (1 channel) instead of colour (3)",
    "crop_padding": "Augment: pad by this many pixels and crop back at a random place; 0: off",
    "flip": "Augment: mirror half of the training pictures left to right",
    "target": "The column to predict",
    "task": "classification, regression, or auto (guessed from the target column)",
    "seq_len": "Characters (or tokens) per training sequence",
    "mode": "chars: next-character prediction; skipgram: word2vec pairs of words",
    "window": "Words on each side that count as context (skipgram)",
    "class_subset": "Only these classes, by number or name, separated by commas; empty: all",
    "per_class": "Use only this many training samples of each class; 0: all",
}


class DatasetOptionsForm(QWidget):
    """The fields of one data set's options; ``values()`` gives what differs from its defaults
    (and the required ones), as the training settings keep them."""
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)
        self.fields: dict[str, QWidget] = {}
        self.pickers: dict[str, QPushButton] = {}
        self.defaults: dict[str, Any] = {}
        self.left_out = QLabel("")
        self.left_out.setWordWrap(True)
        self.name = ""

    def set_dataset(self, name: str, values: dict[str, Any]) -> None:
        """Show ``name``'s options with ``values`` (those not given at their defaults)."""
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields, self.pickers, self.name = {}, {}, name
        try:
            self.defaults = dataset_options(name)
        except ValueError:
            self.defaults = {}
        for option, default in self.defaults.items():
            widget = _field(option, default, values.get(option, default))
            widget.setObjectName(f"option_{option}")
            widget.setToolTip(HELP.get(option, ""))
            self.fields[option] = widget
            _follow(widget, self.changed.emit)
            label = QLabel(option + (" *" if default is inspect.Parameter.empty else ""))
            label.setToolTip(HELP.get(option, "") + (" (required)" if default is inspect.Parameter.empty else ""))
            row: QWidget = widget
            if option in PLACES:
                row = self._with_picker(option, widget)
            self.form.addRow(label, row)
        unknown = sorted(set(values) - set(self.defaults))
        self.left_out = QLabel(f"{name} takes no option {', '.join(unknown)}: left out" if unknown else "")
        self.left_out.setWordWrap(True)
        if unknown:
            self.form.addRow(self.left_out)

    def _with_picker(self, option: str, edit: QWidget) -> QWidget:
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        button = QPushButton("Choose...")
        button.setObjectName(f"choose_{option}")
        button.setToolTip(f"Choose the {'folder' if PLACES[option] else 'file'} of the data")
        button.clicked.connect(lambda: self.choose(option))
        self.pickers[option] = button
        edit.setMinimumWidth(260)          # a path, readable
        row.addWidget(edit, 1)
        row.addWidget(button)
        return box

    def choose(self, option: str) -> str:
        """Ask for the folder or file of ``option`` and put it in its field; "" if none was chosen."""
        edit = self.fields[option]
        assert isinstance(edit, QLineEdit)
        start = edit.text()
        chosen = (QFileDialog.getExistingDirectory(self, "Choose the folder of the data", start) if PLACES[option]
                  else QFileDialog.getOpenFileName(self, "Choose the file of the data", start)[0])
        if chosen:
            edit.setText(chosen)
        return chosen

    def values(self) -> dict[str, Any]:
        """The options as the settings keep them: those that differ from the defaults, and the
        required ones. ValueError naming the option when a field holds something unusable."""
        result: dict[str, Any] = {}
        for option, widget in self.fields.items():
            default = self.defaults[option]
            value = _value(option, widget, default)
            if default is inspect.Parameter.empty:
                if value in ("", None):
                    raise ValueError(f"dataset_options.{option}: {self.name} needs it")
                result[option] = value
            elif value != default:
                result[option] = value
        return result


def _field(option: str, default: Any, value: Any) -> QWidget:
    if isinstance(default, bool):
        tick = QCheckBox()
        tick.setChecked(bool(value))
        return tick
    if isinstance(default, int) and isinstance(value, int) and not isinstance(value, bool):
        whole = QSpinBox()
        whole.setRange(0, 10_000_000)
        whole.setValue(value)
        return whole
    if isinstance(default, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        real = QDoubleSpinBox()
        real.setDecimals(4)
        real.setRange(0.0, 1e6)
        real.setSingleStep(0.05)
        real.setValue(float(value))
        return real
    text = QLineEdit(_text(value, option))
    if option == "image_size":
        text.setPlaceholderText("as stored, or e.g. 32 or 224x224")
    elif option == "class_subset":
        text.setPlaceholderText("all, or e.g. 0, 1, 2")
    elif default is inspect.Parameter.empty:
        text.setPlaceholderText("required")
    return text


def _text(value: Any, option: str = "") -> str:
    if value is None or value is inspect.Parameter.empty:
        return ""
    if isinstance(value, list):
        return ("x" if option == "image_size" else ", ").join(str(v) for v in value)
    return str(value)


def _value(option: str, widget: QWidget, default: Any) -> Any:
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        return widget.value()
    assert isinstance(widget, QLineEdit)
    text = widget.text().strip()
    if option == "class_subset":        # class numbers or names, by commas; empty: every class
        parts = [part.strip() for part in text.split(",") if part.strip()]
        return [int(p) if p.isdigit() else p for p in parts] or None
    if option == "image_size" and default is None:      # a picture folder's: height x width, or one side
        if not text:
            return None
        try:
            sides = [int(part) for part in text.replace("x", " ").replace(",", " ").split()]
        except ValueError:
            raise ValueError(f"dataset_options.image_size: give one number or height x width, not {text!r}") from None
        if len(sides) not in (1, 2) or min(sides) < 1:
            raise ValueError(f"dataset_options.image_size: give one number or height x width, not {text!r}")
        return sides * 2 if len(sides) == 1 else sides
    return text


def _follow(widget: QWidget, slot) -> None:
    if isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
        widget.valueChanged.connect(slot)
    elif isinstance(widget, QLineEdit):
        widget.textChanged.connect(slot)

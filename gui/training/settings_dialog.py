"""Training settings as a form generated from the engine's TrainingConfig, in groups (data; loss
and optimizer; schedule; run; probes; fine-tuning, whose editors are ``fine_tuning_settings``), each
field with its help and disabled while it does not apply (momentum only for SGD and RMSprop); the
data set's own options as fields of their own, with a folder or file picker where the data is read
from; saved into the graph file's training section as one undoable edit."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.data import LOADERS
from engine.training import (
    DEVICES,
    INITS,
    LOSSES,
    MAX_FORGET_BIAS,
    MAX_NEGATIVE_SAMPLES,
    NORMALIZE,
    OPTIMIZERS,
    SCHEDULES,
    TrainingConfig,
)

from ..labels import human_label, named_tooltip
from ..theme import current as current_theme
from . import fine_tuning_settings as fine_tuning
from .dataset_options import DatasetOptionsForm
from .fine_tuning_settings import SettingEditor

CHOICES = {"dataset": list(LOADERS), "loss": list(LOSSES), "optimizer": list(OPTIMIZERS),
           "schedule": list(SCHEDULES), "device": list(DEVICES), "normalize": list(NORMALIZE),
           "init": list(INITS)}

GROUPS = (
    ("Data", ("dataset", "dataset_options", "batch_size", "reconstruct")),
    ("Loss and optimizer", ("loss", "negative_samples", "optimizer", "lr", "momentum", "nesterov", "weight_decay",
                            "l1", "clip_grad_norm", "truncate_bptt", "lstm_forget_bias")),
    ("Schedule", ("epochs", "schedule", "step_size", "gamma", "early_stopping")),
    ("Run", ("seed", "init", "init_std", "device", "amp", "compile", "checkpoint_dir", "checkpoint_every")),
    ("Probes", ("probes", "log_every", "probe_every", "probe_sample", "landscape")),
    fine_tuning.GROUP,
)

HELP = {
    "dataset": "The data set the graph trains on; its Input and Output must fit it (the checks say so)",
    "dataset_options": "Options of the chosen data set (* required); hover over one to see what it does",
    "batch_size": "Samples per training step",
    "reconstruct": "The target is the input itself (autoencoders)",
    "loss": "What training minimises; cross-entropy expects raw scores (no Softmax at the end)",
    "optimizer": "How the weights follow their gradients",
    "lr": "Learning rate: the size of each step",
    "momentum": "Share of the last step carried into the next (SGD and RMSprop)",
    "nesterov": "Nesterov momentum (SGD with momentum above 0)",
    "weight_decay": "L2 penalty on the weights; 0 is off",
    "l1": "L1 penalty: l1 · Σ|w| over the layers' weights, added to the loss; 0 is off",
    "clip_grad_norm": "Largest gradient norm a step may use; 0 is off",
    "negative_samples": "Words drawn at random per target by the negative sampling loss (word2vec): the model learns "
                        "to tell the true context word from them",
    "truncate_bptt": "Steps a gradient may travel back inside a recurrent layer (truncated back-propagation through "
                     "time); 0: the whole sequence",
    "lstm_forget_bias": "Added to every LSTM forget gate's starting bias; 1 to 3 keeps the gates open at first, so "
                        "the gradient reaches far back",
    "epochs": "Passes over the training data",
    "schedule": "How the learning rate changes during training",
    "step_size": "Epochs between decays (step schedule)",
    "gamma": "Factor the learning rate is multiplied by at a decay (step and plateau schedules)",
    "early_stopping": "Stop after this many epochs without a better validation loss; 0 is off",
    "seed": "Random seed: the same seed gives the same run",
    "init": "How the layers' weights start: torch's default, normal (σ = init_std), Xavier (Glorot) or Kaiming (He)",
    "init_std": "Standard deviation σ of the normal initialisation",
    "device": "Where to train: auto picks CUDA or MPS when there is one, else the CPU",
    "amp": "Mixed precision (used on CUDA)",
    "compile": "torch.compile the model first (used on CUDA)",
    "checkpoint_dir": "Folder for checkpoints (last and best); empty: none are written",
    "checkpoint_every": "Epochs between checkpoints",
    "probes": "Record gradients, activations and filters for the dashboard",
    "log_every": "Steps between the loss points of the curves",
    "probe_every": "Steps between probes; 0: at the ends of epochs only",
    "probe_sample": "Which validation sample the activation maps show",
    "landscape": "Record the weights' path and draw the loss landscape around them each epoch (models up to "
                 "200,000 parameters)",
}

# field -> (the field it depends on, whether it applies for that field's value)
APPLIES = {
    "momentum": ("optimizer", lambda v: v in ("sgd", "rmsprop")),
    "nesterov": ("optimizer", lambda v: v == "sgd"),
    "step_size": ("schedule", lambda v: v == "step"),
    "gamma": ("schedule", lambda v: v in ("step", "plateau")),
    "checkpoint_every": ("checkpoint_dir", lambda v: bool(v.strip())),
    "probe_every": ("probes", bool),
    "probe_sample": ("probes", bool),
    "init_std": ("init", lambda v: v == "normal"),
    "negative_samples": ("loss", lambda v: v == "negative_sampling"),
}

RECURRENT = ("RNN", "LSTM", "GRU")
# field -> the layer types of the graph it needs (a graph without them leaves it off)
NEEDS_LAYERS = {"truncate_bptt": RECURRENT, "lstm_forget_bias": ("LSTM",)}
RANGES = {"lstm_forget_bias": (-MAX_FORGET_BIAS, MAX_FORGET_BIAS), "negative_samples": (1, MAX_NEGATIVE_SAMPLES)}


class TrainingSettingsDialog(QDialog):
    def __init__(self, config: TrainingConfig, parent=None, graph_path: Path | None = None,
                 layer_types: set[str] | None = None) -> None:
        """``graph_path``: the graph's file, which start weights are named relative to (None: untitled);
        ``layer_types``: the graph's layer types, which some settings need (None: not known, all apply)."""
        super().__init__(parent)
        self.layer_types = layer_types
        self.setWindowTitle("Training settings")
        self.fields: dict[str, QWidget] = {}
        group_of = {name: group for group, names in GROUPS for name in names}
        order = {name: i for i, name in enumerate(name for _, names in GROUPS for name in names)}
        boxes = {group: QGroupBox(group) for group in (*(g for g, _ in GROUPS), "Other")}
        forms = {group: QFormLayout(box) for group, box in boxes.items()}     # any new setting: Other
        self.options = DatasetOptionsForm()
        self.options.set_dataset(config.dataset, config.dataset_options)
        for f in dataclasses.fields(TrainingConfig):
            value = getattr(config, f.name)
            widget = self.options if f.name == "dataset_options" else \
                fine_tuning.editor(f.name, value, graph_path) or _editor(f.name, value)
            widget.setObjectName(f.name)
            widget.setToolTip(_tooltip(f.name))
            self.fields[f.name] = widget
        for name in sorted(self.fields, key=lambda n: order.get(n, len(order))):     # in the groups' order
            label = QLabel(fine_tuning.LABELS.get(name) or human_label(name))
            label.setToolTip(_tooltip(name))
            forms[group_of.get(name, "Other")].addRow(label, self.fields[name])
        for source in dict.fromkeys(source for source, _ in APPLIES.values()):
            _changed(self.fields[source], self._follow)
        _changed(self.fields["dataset"], self._dataset_chosen)
        self._follow()
        grid = QGridLayout()       # two columns: data, loss and schedule; run and probes
        for i, group in enumerate(g for g, _ in GROUPS):
            grid.addWidget(boxes[group], i % 3, i // 3)
        if forms["Other"].rowCount():
            grid.addWidget(boxes["Other"], 2, 1)
        self.error = QLabel("")
        self.error.setStyleSheet(f"color: {current_theme().error}")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.result_config: TrainingConfig | None = None

    def _dataset_chosen(self, name: str) -> None:
        """Another data set: its own options, keeping the values of those it shares with the last."""
        try:
            kept = self.options.values()
        except ValueError:
            kept = {}
        self.options.set_dataset(name, {k: v for k, v in kept.items() if k != "root" and k != "path"})

    def _follow(self, *_) -> None:
        """Enable each field only while it applies (momentum for SGD and RMSprop ...)."""
        values = self.values(strict=False)
        for name, (source, applies) in APPLIES.items():
            self.fields[name].setEnabled(bool(applies(values[source])))
        for name, types in NEEDS_LAYERS.items():
            if self.layer_types is not None and not self.layer_types & set(types):
                self.fields[name].setEnabled(False)
                self.fields[name].setToolTip(f"{HELP[name]}. This graph has no {' or '.join(types)} layer.")

    def values(self, strict: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, widget in self.fields.items():
            if isinstance(widget, SettingEditor):
                data[name] = widget.value(strict)
            elif isinstance(widget, QComboBox):
                data[name] = widget.currentText()
            elif isinstance(widget, QCheckBox):
                data[name] = widget.isChecked()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                data[name] = widget.value()
            elif isinstance(widget, QLineEdit) and widget.property("json"):     # an object, as JSON text
                try:
                    data[name] = json.loads(widget.text() or "{}")
                except ValueError as err:
                    if strict:
                        raise ValueError(f"{name}: {err}") from None
                    data[name] = {}
            elif isinstance(widget, QLineEdit):
                data[name] = widget.text()
            elif isinstance(widget, DatasetOptionsForm):
                try:
                    data[name] = widget.values()
                except ValueError:
                    if strict:
                        raise
                    data[name] = {}
        return data

    def accept(self) -> None:
        """Keep the dialog open, with the reason, while a setting is not usable."""
        try:
            self.result_config = TrainingConfig.from_dict(self.values())
        except ValueError as err:        # ConfigError, or a data set option that cannot be read
            self.error.setText(str(err))
            return
        super().accept()


def _tooltip(name: str) -> str:
    """What a setting does, and the name the training section (and torch) gives it."""
    return named_tooltip(name, HELP.get(name) or fine_tuning.HELP.get(name, ""))


def _changed(widget, slot) -> None:
    if isinstance(widget, SettingEditor):
        widget.changed.connect(slot)
    elif isinstance(widget, QComboBox):
        widget.currentTextChanged.connect(slot)
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    elif isinstance(widget, QLineEdit):
        widget.textChanged.connect(slot)


def _editor(name: str, value: Any) -> QWidget:
    """The field for one setting, by the kind of its value: a choice, a tick, a number, options."""
    if name in CHOICES:
        combo = QComboBox()
        combo.addItems(CHOICES[name])
        combo.setEditable(name == "device")      # cuda:1 and the like
        combo.setCurrentText(value)
        return combo
    if isinstance(value, bool):
        tick = QCheckBox()
        tick.setChecked(value)
        return tick
    if isinstance(value, int):
        whole = QSpinBox()
        whole.setRange(*(int(v) for v in RANGES.get(name, (0, 10_000_000))))
        whole.setValue(value)
        return whole
    if isinstance(value, float):
        real = QDoubleSpinBox()
        real.setDecimals(6)
        real.setRange(*RANGES.get(name, (0.0, 1e6)))
        real.setValue(value)
        return real
    if isinstance(value, dict):
        text = QLineEdit(json.dumps(value))
        text.setProperty("json", True)
        return text
    return QLineEdit(str(value))

"""Training settings as a form generated from the engine's TrainingConfig; saved into the
graph file's training section as one undoable edit."""

from __future__ import annotations

import dataclasses
import json

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from engine.data import LOADERS
from engine.training import ConfigError, TrainingConfig
from engine.training.config import DEVICES, LOSSES, OPTIMIZERS, SCHEDULES

CHOICES = {"dataset": list(LOADERS), "loss": list(LOSSES), "optimizer": list(OPTIMIZERS),
           "schedule": list(SCHEDULES), "device": list(DEVICES)}


class TrainingSettingsDialog(QDialog):
    def __init__(self, config: TrainingConfig, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Training settings")
        self.fields = {}
        form = QFormLayout()
        for f in dataclasses.fields(TrainingConfig):
            value = getattr(config, f.name)
            if f.name in CHOICES:
                widget = QComboBox()
                widget.addItems(CHOICES[f.name])
                widget.setEditable(f.name == "device")      # cuda:1 and the like
                widget.setCurrentText(value)
            elif isinstance(value, bool):
                widget = QCheckBox()
                widget.setChecked(value)
            elif isinstance(value, int):
                widget = QSpinBox(minimum=0, maximum=10_000_000)
                widget.setValue(value)
            elif isinstance(value, float):
                widget = QDoubleSpinBox(minimum=0.0, maximum=1e6, decimals=6)
                widget.setValue(value)
            elif isinstance(value, dict):
                widget = QLineEdit(json.dumps(value))
                widget.setPlaceholderText('e.g. {"noise": 0.3} or {"root": "~/data"}')
            else:
                widget = QLineEdit(str(value))
            widget.setObjectName(f.name)
            form.addRow(f.name, widget)
            self.fields[f.name] = widget
        self.error = QLabel("")
        self.error.setStyleSheet("color: #dc2626")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.result_config: TrainingConfig | None = None

    def values(self) -> dict:
        data = {}
        for name, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                data[name] = widget.currentText()
            elif isinstance(widget, QCheckBox):
                data[name] = widget.isChecked()
            elif isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                data[name] = widget.value()
            elif name == "dataset_options":
                data[name] = json.loads(widget.text() or "{}")
            else:
                data[name] = widget.text()
        return data

    def accept(self) -> None:
        """Keep the dialog open, with the reason, while a setting is not usable."""
        try:
            self.result_config = TrainingConfig.from_dict(self.values())
        except ValueError as err:        # ConfigError, or JSON that does not parse
            self.error.setText(str(err) if isinstance(err, ConfigError) else f"dataset_options: {err}")
            return
        super().accept()

"""The fine-tuning group of Training Settings: the weights a graph starts from, the
augmentations, the normalisation and whether a frozen node's BatchNorm statistics follow the data.

The start weights are chosen with a file picker, never typed: the file is read for its SHA-256
off the window's thread (a ResNet's weights are 45 MB), its path is recorded relative to the
graph's file, and the field says whether the file is still the one recorded. Each editor gives
the setting's value as the training section keeps it (``value()``: an object, a choice)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.data import AUGMENT_SETTINGS
from engine.interop import WeightsError, file_sha256, resolve_start, start_entry
from engine.training import NORMALIZE

from ..background import BackgroundJob
from ..theme import current as current_theme

GROUP = ("Fine-tuning", ("start_from", "normalize", "augment", "update_frozen_batchnorm"))

# The words the dialog shows; the setting's own name is in each tooltip.
LABELS = {"start_from": "Start weights", "normalize": "Normalise with", "augment": "Augmentations",
          "update_frozen_batchnorm": "Update frozen BatchNorm"}
HELP = {
    "start_from": "The weights training starts from: a .safetensors file (a NetLoom checkpoint too) or a PyTorch "
                  "state dict. Tensors that fit are loaded; nodes marked fresh keep new weights",
    "normalize": "The statistics the pictures are standardised with: the data set's own, those the start weights "
                 "were trained with (recorded for torchvision's and timm's), or ImageNet's; a graph with a Normalize "
                 "step after its Input gets them there and takes raw values",
    "augment": "Changes made to every training batch, each picture its own way; validation pictures stay as they are",
    "update_frozen_batchnorm": "Let the BatchNorm layers of frozen nodes follow the new data's statistics "
                               "(off: they stay as the start weights have them)",
}
NORMALIZE_WORDS = {"data": "the data set's statistics", "weights": "the start weights' statistics",
                   "imagenet": "ImageNet's statistics"}
AUGMENT_WORDS = {   # setting -> (label, help, largest value, unit shown)
    "resized_crop": ("Random resized crop", "Crop a random part of at least this share of the picture's area, "
                     "and resize it back (0: off)", 1.0, ""),
    "flip": ("Mirror left to right", "Mirror half of the pictures left to right", 1.0, ""),
    "rotation": ("Rotation", "Turn each picture by a random angle up to this many degrees either way (0: off)",
                 180.0, " °"),
    "color_jitter": ("Colour jitter", "Change brightness, contrast and saturation each by up to this share "
                     "(0: off)", 1.0, ""),
}
WEIGHT_FILES = "Weights (*.safetensors *.pt *.pth *.bin);;All files (*)"


def label(name: str) -> str:
    return LABELS.get(name, name)


def tooltip(name: str) -> str:
    return f"{HELP[name]} ({name})" if name in HELP else ""


class SettingEditor(QWidget):
    """An editor of one setting whose value is no single number, tick or word."""
    changed = Signal()

    def value(self, strict: bool = True) -> Any:
        """The setting as the training section keeps it; with ``strict``, ValueError naming the
        setting while it cannot be given yet."""
        raise NotImplementedError


def editor(name: str, value: Any, graph_path: Path | None) -> SettingEditor | None:
    """The editor of a fine-tuning setting, None for a setting the generic editors handle."""
    if name == "start_from":
        return StartWeightsField(value, graph_path)
    if name == "augment":
        return AugmentField(value)
    if name == "normalize":
        return NormalizeChoice(value)
    return None


class NormalizeChoice(SettingEditor):
    def __init__(self, value: str) -> None:
        super().__init__()
        self.combo = QComboBox()
        for choice in NORMALIZE:
            self.combo.addItem(NORMALIZE_WORDS.get(choice, choice), choice)
        self.combo.setCurrentIndex(max(0, self.combo.findData(value)))
        self.combo.currentIndexChanged.connect(lambda _: self.changed.emit())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)

    def value(self, strict: bool = True) -> str:
        return str(self.combo.currentData())

    def choose(self, setting: str) -> None:
        self.combo.setCurrentIndex(self.combo.findData(setting))


class AugmentField(SettingEditor):
    """A field per augmentation; the value holds those that are on (and any the file named)."""

    def __init__(self, value: dict[str, Any]) -> None:
        super().__init__()
        self.given = dict(value)
        self.fields: dict[str, QCheckBox | QDoubleSpinBox] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for key in AUGMENT_SETTINGS:
            words, help_text, top, unit = AUGMENT_WORDS[key]
            field: QCheckBox | QDoubleSpinBox
            if key == "flip":
                field = QCheckBox()
                field.setChecked(value.get(key) is True)
                field.toggled.connect(lambda _: self.changed.emit())
            else:
                field = QDoubleSpinBox()
                field.setRange(0.0, top)
                field.setDecimals(2 if top <= 1 else 0)
                field.setSingleStep(0.05 if top <= 1 else 5)
                field.setSuffix(unit)
                field.setSpecialValueText("off")
                number = value.get(key, 0.0)
                field.setValue(float(number) if isinstance(number, (int, float)) and not isinstance(number, bool) else 0)
                field.valueChanged.connect(lambda _: self.changed.emit())
            field.setObjectName(f"augment_{key}")
            field.setToolTip(f"{help_text} ({key})")
            row_label = QLabel(words)
            row_label.setToolTip(field.toolTip())
            form.addRow(row_label, field)
            self.fields[key] = field

    def value(self, strict: bool = True) -> dict[str, Any]:
        result = {k: v for k, v in self.given.items() if k not in self.fields}    # refused by name on OK
        for key, field in self.fields.items():
            setting: Any = field.isChecked() if isinstance(field, QCheckBox) else field.value()
            if setting or key in self.given:
                result[key] = setting
        return result


class StartWeightsField(SettingEditor):
    """The start weights: the file as recorded, whether it is still that file, and buttons to
    choose another, to take the file as it is now (after it changed) and to start from random
    weights. Reading a file for its checksum happens in a background thread."""

    def __init__(self, entry: dict[str, Any], graph_path: Path | None) -> None:
        super().__init__()
        self.entry: dict[str, Any] = dict(entry)
        self.graph_path = graph_path
        self.reading = ""                 # the file being read for its checksum, "" when none
        self.path_label = QLabel()
        self.path_label.setObjectName("start_path")
        self.path_label.setWordWrap(True)
        self.state = QLabel()
        self.state.setObjectName("start_state")
        self.state.setWordWrap(True)
        self.choose_button = QPushButton("Choose...")
        self.choose_button.setObjectName("choose_start")
        self.choose_button.setToolTip("Choose the weights file training starts from")
        self.current_button = QPushButton("Use the File as It Is Now")
        self.current_button.setObjectName("start_as_is")
        self.current_button.setToolTip("The file changed since it was chosen: record its new contents as the start")
        self.clear_button = QPushButton("None")
        self.clear_button.setObjectName("clear_start")
        self.clear_button.setToolTip("Start from random weights")
        self.choose_button.clicked.connect(lambda: self.choose())
        self.current_button.clicked.connect(self.use_as_is)
        self.clear_button.clicked.connect(self.clear)
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for button in (self.choose_button, self.current_button, self.clear_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.path_label)
        layout.addWidget(self.state)
        layout.addLayout(buttons)
        self._show()
        if self.entry:
            self._verify()

    @property
    def folder(self) -> Path | None:
        return self.graph_path.parent if self.graph_path is not None else None

    def value(self, strict: bool = True) -> dict[str, Any]:
        if strict and self.reading:
            raise ValueError(f"training.start_from: {Path(self.reading).name} is still being read for its "
                             "checksum; a moment")
        return dict(self.entry)

    # ------------------------------------------------------------------ the buttons
    def choose(self, path: str | None = None) -> bool:
        """Record a weights file (asked for when not given) as the start, once read for its
        checksum; the statistics and source stay when it is the file recorded before."""
        if path is None:
            start = str(resolve_start(self.entry, self.folder).parent) if self.entry else str(self.folder or "")
            path = QFileDialog.getOpenFileName(self, "Choose the start weights", start, WEIGHT_FILES)[0]
            if not path:
                return False
        same = bool(self.entry) and resolve_start(self.entry, self.folder).resolve() == Path(path).resolve()
        kept = {k: v for k, v in self.entry.items() if k in ("mean", "std", "source")} if same else {}
        graph_path = self.graph_path

        def record() -> dict[str, Any]:
            return start_entry(path, graph_path) | kept
        self._read(path, record, self._recorded)
        return True

    def use_as_is(self) -> None:
        """The file changed since it was chosen: its new contents become the start."""
        if self.entry:
            self.choose(str(resolve_start(self.entry, self.folder)))

    def clear(self) -> None:
        self.entry, self.reading = {}, ""
        self._show()
        self.changed.emit()

    # ------------------------------------------------------------------ reading and saying
    def _verify(self) -> None:
        """Whether the file recorded is still there and still the one recorded."""
        path, recorded = resolve_start(self.entry, self.folder), self.entry.get("sha256")

        def checksum() -> str:
            return file_sha256(path)

        def compared(digest: str) -> None:
            theme = current_theme()
            if recorded is None or digest == recorded:
                self._say(f"unchanged since it was chosen (SHA-256 {digest[:12]}...)", theme.ok)
            else:
                self._say(f"changed since it was chosen: SHA-256 {digest[:12]}... instead of {recorded[:12]}...; "
                          "training refuses it until it is chosen again", theme.error)
                self.current_button.show()
        self._read(str(path), checksum, compared)

    def _read(self, path: str, work, done) -> None:
        self.reading = path
        self._say(f"reading {Path(path).name} for its checksum...", current_theme().hint)

        def finished(result, error: BaseException | None) -> None:
            if self.reading != path:
                return                      # another file was chosen meanwhile
            self.reading = ""
            self._show()
            if error is None:
                done(result)
            else:
                message = str(error) if isinstance(error, (WeightsError, OSError)) else f"{type(error).__name__}: {error}"
                self._say(message, current_theme().error)
            self.changed.emit()
        BackgroundJob(work, finished, self, name="netloom-start-weights").start()

    def _recorded(self, entry: dict[str, Any]) -> None:
        self.entry = entry
        self._show()
        self._say(f"chosen: SHA-256 {entry['sha256'][:12]}..., recorded so that a changed file is noticed",
                  current_theme().ok)

    def _show(self) -> None:
        path = self.entry.get("path")
        if not path:
            self.path_label.setText("none: training starts from random weights")
        else:
            source = f" ({self.entry['source']})" if self.entry.get("source") else ""
            statistics = ", with the statistics it was trained with" if "mean" in self.entry else ""
            self.path_label.setText(f"<b>{html.escape(str(path))}</b>{html.escape(source)}{statistics}")
        self.state.setText("")
        self.current_button.hide()
        self.clear_button.setEnabled(bool(path))

    def _say(self, text: str, colour: str) -> None:
        self.state.setText(f"<span style='color:{colour}'>{html.escape(text)}</span>")

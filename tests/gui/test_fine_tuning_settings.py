"""Training Settings' fine-tuning group, driven as a person would: the start weights chosen with a
file picker (read for their checksum in the background, named relative to the graph's file), a
changed file noticed and taken as it is now, augmentations and normalisation typed and chosen."""

import hashlib

import torch
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog
from safetensors.torch import save_file

from engine.training import TrainingConfig
from gui.training.settings_dialog import TrainingSettingsDialog
from tests.gui.driving import type_into


def weights_file(path, value: float = 0.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({"fc3.weight": torch.full((5, 84), value)}, str(path))
    return path


def dialog_for(qtbot, config: TrainingConfig, graph_path) -> TrainingSettingsDialog:
    dialog = TrainingSettingsDialog(config, graph_path=graph_path)
    qtbot.addWidget(dialog)
    return dialog


def test_start_weights_are_chosen_with_a_picker_and_named_from_the_graph_file(qtbot, tmp_path, monkeypatch):
    weights = weights_file(tmp_path / "weights" / "lenet_0_4.safetensors")
    dialog = dialog_for(qtbot, TrainingConfig(), tmp_path / "graph.loom")
    field = dialog.fields["start_from"]
    assert "random weights" in field.path_label.text()
    assert dialog.findChild(type(field.path_label), "start_path") is field.path_label
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        lambda *args: asked.append(args[1]) or (str(weights), ""))
    qtbot.mouseClick(field.choose_button, Qt.LeftButton)
    assert asked == ["Choose the start weights"]
    qtbot.waitUntil(lambda: "chosen: SHA-256" in field.state.text(), timeout=10_000)
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    assert sha[:12] in field.state.text()
    assert "weights/lenet_0_4.safetensors" in field.path_label.text()
    qtbot.mouseClick(dialog.findChild(type(field.choose_button), "clear_start"), Qt.LeftButton)
    assert dialog.values()["start_from"] == {}
    qtbot.mouseClick(field.choose_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "chosen" in field.state.text(), timeout=10_000)
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert dialog.result_config.start_from == {"path": "weights/lenet_0_4.safetensors", "sha256": sha}


def test_a_changed_weights_file_is_said_and_can_be_taken_as_it_is_now(qtbot, tmp_path):
    weights = weights_file(tmp_path / "w.safetensors")
    old = hashlib.sha256(weights.read_bytes()).hexdigest()
    entry = {"path": "w.safetensors", "sha256": old, "mean": [0.5], "std": [0.25], "source": "test"}
    dialog = dialog_for(qtbot, TrainingConfig(start_from=entry), tmp_path / "graph.loom")
    field = dialog.fields["start_from"]
    qtbot.waitUntil(lambda: "unchanged since it was chosen" in field.state.text(), timeout=10_000)
    assert not field.current_button.isVisible()
    weights_file(weights, 1.0)                                   # someone trains on and overwrites it
    new = hashlib.sha256(weights.read_bytes()).hexdigest()
    dialog = dialog_for(qtbot, TrainingConfig(start_from=entry), tmp_path / "graph.loom")
    dialog.show()
    field = dialog.fields["start_from"]
    qtbot.waitUntil(lambda: "changed since it was chosen" in field.state.text(), timeout=10_000)
    assert new[:12] in field.state.text() and old[:12] in field.state.text()
    assert field.current_button.isVisible()
    qtbot.mouseClick(field.current_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "chosen" in field.state.text(), timeout=10_000)
    # the same file: its statistics and source stay, the checksum is the new one
    assert dialog.values()["start_from"] == entry | {"sha256": new}


def test_a_missing_weights_file_is_named(qtbot, tmp_path):
    entry = {"path": "gone.safetensors", "sha256": "0" * 64}
    dialog = dialog_for(qtbot, TrainingConfig(start_from=entry), tmp_path / "graph.loom")
    field = dialog.fields["start_from"]
    qtbot.waitUntil(lambda: "does not exist" in field.state.text(), timeout=10_000)
    assert "gone.safetensors" in field.state.text()


def test_augmentations_and_normalisation_are_fields_with_words_and_the_setting_in_the_tooltip(qtbot, tmp_path):
    dialog = dialog_for(qtbot, TrainingConfig(), None)
    augment = dialog.fields["augment"]
    assert dialog.values()["augment"] == {}
    assert augment.fields["rotation"].text() == "off"
    assert augment.fields["rotation"].toolTip().endswith("(rotation)")
    assert dialog.fields["normalize"].toolTip().endswith("(normalize)")
    type_into(augment.fields["rotation"], "15")
    type_into(augment.fields["resized_crop"], "0.5")
    flip = augment.fields["flip"]
    qtbot.mouseClick(flip, Qt.LeftButton, pos=QPoint(6, flip.height() // 2))      # on its box
    assert dialog.values()["augment"] == {"rotation": 15.0, "resized_crop": 0.5, "flip": True}
    combo = dialog.fields["normalize"].combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "the data set's statistics", "the start weights' statistics", "ImageNet's statistics"]
    dialog.fields["normalize"].choose("weights")            # needs statistics the start weights lack
    dialog.accept()
    assert dialog.result_config is None
    assert "normalize: 'weights' needs the statistics" in dialog.error.text()
    dialog.fields["normalize"].choose("imagenet")
    dialog.fields["update_frozen_batchnorm"].setChecked(True)
    dialog.accept()
    config = dialog.result_config
    assert config.augment == {"rotation": 15.0, "resized_crop": 0.5, "flip": True}
    assert config.normalize == "imagenet" and config.update_frozen_batchnorm

"""Training settings: what the ``.loom`` file's ``training`` section holds, checked field by field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..data import DataError
from ..data.augment import Augmentation
from ..interop import WeightsError, check_start_entry

LOSSES = ("cross_entropy", "nll", "bce_with_logits", "mse", "l1")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")
NORMALIZE = ("data", "weights", "imagenet")   # images' statistics: their own, the start weights', ImageNet's


class ConfigError(ValueError):
    """A training setting that cannot be used; the message names the field."""


@dataclass
class TrainingConfig:
    dataset: str = "digits"
    dataset_options: dict[str, Any] = field(default_factory=dict)
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 0.001
    momentum: float = 0.9          # SGD and RMSprop
    nesterov: bool = False         # SGD
    weight_decay: float = 0.0
    batch_size: int = 64
    epochs: int = 10
    schedule: str = "none"
    step_size: int = 10            # "step": epochs between decays
    gamma: float = 0.1             # "step" and "plateau": decay factor
    early_stopping: int = 0        # patience in epochs on validation loss; 0 = off
    clip_grad_norm: float = 0.0    # 0 = off
    seed: int = 0
    device: str = "auto"
    amp: bool = False              # mixed precision (used on CUDA)
    compile: bool = False          # torch.compile (used on CUDA)
    reconstruct: bool = False      # the target is the input itself (autoencoders)
    log_every: int = 10            # steps between step metrics
    probe_every: int = 50          # steps between probes (gradients, activations ...); 0 = epoch ends only
    probes: bool = True
    probe_sample: int = 0          # which validation sample the activation maps show
    checkpoint_dir: str = ""       # empty: no checkpoints
    checkpoint_every: int = 1      # epochs between checkpoints
    # Fine-tuning (how each node learns is the node's own: its lr_factor and fresh).
    start_from: dict[str, Any] = field(default_factory=dict)   # path (from the graph's file), sha256, mean, std, source
    augment: dict[str, Any] = field(default_factory=dict)      # resized_crop, flip, rotation, color_jitter
    normalize: str = "data"        # images normalised with their own statistics, the start weights' or ImageNet's
    update_frozen_batchnorm: bool = False   # a frozen node's BatchNorm statistics follow the data (else fixed)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "training") -> TrainingConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: must be an object")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        defaults = cls()
        values = {}
        for key, value in data.items():
            if key not in fields:
                raise ConfigError(f"{where}.{key}: unknown setting; known: {', '.join(fields)}")
            default = getattr(defaults, key)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value) if ok else value
            else:
                ok = isinstance(value, type(default))
            if not ok:
                raise ConfigError(f"{where}.{key}: must be {_kind(default)}, not {value!r}")
            values[key] = value
        config = cls(**values)
        config.validate(where)
        return config

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingConfig:
        return TrainingConfig.from_dict(self.to_dict() | changes)

    def validate(self, where: str = "training") -> None:
        for name, choices in (("loss", LOSSES), ("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                              ("device", DEVICES)):
            value = getattr(self, name)
            base = value.split(":")[0] if name == "device" else value
            if base not in choices:
                raise ConfigError(f"{where}.{name}: {value!r} is not one of {', '.join(choices)}")
        for name in ("lr", "batch_size", "epochs", "step_size", "log_every", "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, not {getattr(self, name)}")
        for name in ("weight_decay", "clip_grad_norm", "momentum", "early_stopping", "probe_every",
                     "probe_sample"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must not be negative, not {getattr(self, name)}")
        if not 0 < self.gamma <= 1:
            raise ConfigError(f"{where}.gamma: must be in (0, 1], not {self.gamma}")
        if self.nesterov and (self.optimizer != "sgd" or self.momentum == 0):
            raise ConfigError(f"{where}.nesterov: needs the sgd optimizer with a momentum above 0")
        self._validate_fine_tuning(where)

    def _validate_fine_tuning(self, where: str) -> None:
        try:
            Augmentation.from_settings(self.augment, f"{where}.augment")
            if self.start_from:
                check_start_entry(self.start_from, f"{where}.start_from")
        except (DataError, WeightsError) as err:
            raise ConfigError(str(err)) from None
        if self.normalize not in NORMALIZE:
            raise ConfigError(f"{where}.normalize: {self.normalize!r} is not one of {', '.join(NORMALIZE)}")
        if self.normalize == "weights" and "mean" not in self.start_from:
            raise ConfigError(f"{where}.normalize: 'weights' needs the statistics the start weights were trained with "
                              "(start_from.mean and start_from.std, recorded for torchvision's and timm's weights); "
                              "choose data or imagenet")


def _kind(default: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "text",
            dict: "an object"}[type(default)]

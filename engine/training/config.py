"""Training settings: what the ``.loom`` file's ``training`` section holds, checked field by field."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

LOSSES = ("cross_entropy", "nll", "bce_with_logits", "mse", "l1")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")


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

    @classmethod
    def from_file(cls, data: dict[str, Any], where: str = "training") -> TrainingConfig:
        """The settings a graph file holds, which are the file's and not the person's: beyond
        ``from_dict``, its checkpoint folder must lie inside ``checkpoints/`` of the current folder,
        so that no file makes NetLoom create or write folders elsewhere."""
        config = cls.from_dict(data, where)
        problem = file_folder_problem(config.checkpoint_dir)
        if problem:
            raise ConfigError(f"{where}.checkpoint_dir: {problem}")
        return config

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> TrainingConfig:
        return TrainingConfig.from_dict(self.to_dict() | changes)

    def validate(self, where: str = "training") -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):      # nan passes every comparison
                raise ConfigError(f"{where}.{f.name}: must be a finite number, not {value}")
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


CHECKPOINTS = "checkpoints"     # the one folder a graph file may name for checkpoints (the default's too)


def file_folder_problem(folder: str) -> str | None:
    """Why a graph file may not name ``folder`` for its checkpoints, or None: only a folder inside
    ``checkpoints/`` of the current folder (``checkpoints/lenet``), reached without ``..`` or a
    link that leads elsewhere; empty means no checkpoints."""
    if not folder:
        return None
    path = PurePath(folder)
    inside = (not path.is_absolute() and not path.drive and ".." not in path.parts and len(path.parts) >= 2
              and path.parts[0] == CHECKPOINTS)
    if inside:
        try:
            inside = Path(folder).resolve().is_relative_to(Path(CHECKPOINTS).resolve())
        except (OSError, ValueError, RuntimeError):
            inside = False
    if inside:
        return None
    return (f"{folder[:80]!r} is not inside {CHECKPOINTS}/ of the current folder; a graph file may name only a "
            f"folder there (such as {CHECKPOINTS}/run1), so that no file makes NetLoom create folders elsewhere: "
            "give another folder with --checkpoint-dir")


def _kind(default: Any) -> str:
    return {bool: "true or false", int: "an integer", float: "a number", str: "text",
            dict: "an object"}[type(default)]

"""Training settings: what the ``.loom`` file's ``training`` section holds, checked field by field."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from ..data import DataError
from ..data.augment import Augmentation
from ..interop import WeightsError, check_start_entry

LOSSES = ("cross_entropy", "nll", "bce_with_logits", "mse", "l1", "negative_sampling")
MAX_NEGATIVE_SAMPLES = 1000
MAX_FORGET_BIAS = 10.0          # sigmoid(10) is 0.99995: beyond it a forget gate cannot open further
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "adadelta")
SCHEDULES = ("none", "step", "cosine", "one_cycle", "plateau")
DEVICES = ("auto", "cpu", "cuda", "mps")
NORMALIZE = ("data", "weights", "imagenet")   # images' statistics: their own, the start weights', ImageNet's
INITS = ("default", "normal", "xavier", "kaiming")


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
    weight_decay: float = 0.0      # L2: the optimizer shrinks every parameter towards 0
    l1: float = 0.0                # L1: l1 · Σ|w| over the layers' weights, added to the loss
    batch_size: int = 64
    epochs: int = 10
    schedule: str = "none"
    step_size: int = 10            # "step": epochs between decays
    gamma: float = 0.1             # "step" and "plateau": decay factor
    early_stopping: int = 0        # patience in epochs on validation loss; 0 = off
    clip_grad_norm: float = 0.0    # 0 = off
    truncate_bptt: int = 0         # steps a gradient travels back inside a recurrent layer; 0 = the whole sequence
    lstm_forget_bias: float = 0.0  # added to every LSTM forget gate's bias before training (Keras starts at 1)
    negative_samples: int = 5      # words drawn per target by the negative_sampling loss (word2vec)
    seed: int = 0
    init: str = "default"          # layers' starting weights: torch's default, normal (init_std), xavier, kaiming
    init_std: float = 0.01         # the standard deviation of the "normal" initialisation
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
    landscape: bool = False        # record the weights' path and send loss landscapes (small models only)

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
                              ("device", DEVICES), ("init", INITS)):
            value = getattr(self, name)
            base = value.split(":")[0] if name == "device" else value
            if base not in choices:
                raise ConfigError(f"{where}.{name}: {value!r} is not one of {', '.join(choices)}")
        for name in ("lr", "batch_size", "epochs", "step_size", "log_every", "checkpoint_every", "init_std",
                     "negative_samples"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{where}.{name}: must be positive, not {getattr(self, name)}")
        for name in ("weight_decay", "l1", "clip_grad_norm", "momentum", "early_stopping", "probe_every",
                     "probe_sample", "truncate_bptt"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{where}.{name}: must not be negative, not {getattr(self, name)}")
        if not -MAX_FORGET_BIAS <= self.lstm_forget_bias <= MAX_FORGET_BIAS:
            raise ConfigError(f"{where}.lstm_forget_bias: must be between -{MAX_FORGET_BIAS:g} and {MAX_FORGET_BIAS:g}, "
                              f"not {self.lstm_forget_bias}")
        if self.negative_samples > MAX_NEGATIVE_SAMPLES:
            raise ConfigError(f"{where}.negative_samples: at most {MAX_NEGATIVE_SAMPLES}, not {self.negative_samples}")
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


OPTIMIZER_NAMES = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop", "adagrad": "Adagrad",
                   "adadelta": "Adadelta"}


def run_name(config: TrainingConfig, others: Sequence[TrainingConfig] = ()) -> str:
    """A run's name from its settings, not its number. Alone: the optimizer and learning rate
    (with momentum where the optimizer has one), then each setting that changes what is learned
    and differs from the defaults: "SGD lr 0.05 momentum 0.9", "Adam lr 0.001, L1 0.001, init
    xavier". Beside ``others`` (the runs it is compared with): only what differs between them,
    the data set, epochs and seed included ("init xavier" among runs that differ in nothing
    else), and the optimizer first whenever it differs or nothing else does."""
    mine = _named_settings(config)
    if others:
        theirs = [_named_settings(other) for other in others]
        differ = {key for key, text in mine.items() if any(t.get(key) != text for t in theirs)}
        differ |= {key for t in theirs for key in t if key not in mine}
        shown = [key for key in mine if key in differ and mine[key]]
        if not differ & set(OPTIMIZER_KEYS) and shown:
            return ", ".join(mine[key] for key in shown)
    else:
        defaults = _named_settings(TrainingConfig())
        shown = [key for key, text in mine.items() if key not in RUN_KEYS and text and text != defaults.get(key)]
    head = " ".join(mine[key] for key in OPTIMIZER_KEYS if mine.get(key))
    return ", ".join([head] + [mine[key] for key in shown if key not in OPTIMIZER_KEYS])


OPTIMIZER_KEYS = ("optimizer", "lr", "momentum")
RUN_KEYS = ("dataset", "epochs", "seed")        # named only where runs beside each other differ in them


def _named_settings(c: TrainingConfig) -> dict[str, str]:
    """Each setting that changes what is learned, as a name shows it ("" where it is off)."""
    return {
        "optimizer": OPTIMIZER_NAMES[c.optimizer], "lr": f"lr {c.lr:g}",
        "momentum": (f"{'nesterov ' if c.nesterov else ''}momentum {c.momentum:g}"
                     if c.optimizer in ("sgd", "rmsprop") and c.momentum > 0 else ""),
        "weight_decay": f"L2 {c.weight_decay:g}" if c.weight_decay else "",
        "l1": f"L1 {c.l1:g}" if c.l1 else "",
        "init": "" if c.init == "default" else f"init normal σ {c.init_std:g}" if c.init == "normal" else f"init {c.init}",
        "batch_size": f"batch {c.batch_size}", "schedule": "" if c.schedule == "none" else f"{c.schedule} schedule",
        "clip_grad_norm": f"clip {c.clip_grad_norm:g}" if c.clip_grad_norm else "",
        "dataset": f"on {c.dataset}", "epochs": f"{c.epochs} epochs", "seed": f"seed {c.seed}",
    }


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

"""What every data set provides: tensors split into training and validation, and facts about them.

Data sets here are held in memory as tensors (and on the training device during a run), then
batched by indexing: for data of this size that beats a DataLoader with workers by far
(``bench/data_path.py`` measures it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from ..layers import format_shape

CLASSIFICATION = "classification"
REGRESSION = "regression"


class DataError(ValueError):
    """A data set that cannot be loaded; the message names the file or option at fault."""


@dataclass
class DataSet:
    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    task: str = CLASSIFICATION
    class_names: list[str] = field(default_factory=list)
    # What a person sees when looking at a sample: "image", "points", "sequence", "table", "text".
    kind: str = "table"
    extra: dict[str, Any] = field(default_factory=dict)   # e.g. the vocabulary of a text set

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def input_dtype(self) -> str:
        return "int64" if not self.x_train.is_floating_point() else "float32"

    @property
    def target_shape(self) -> tuple[int, ...]:
        return tuple(self.y_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.task == CLASSIFICATION else 0

    def to(self, device: torch.device) -> DataSet:
        moved = {k: getattr(self, k).to(device) for k in ("x_train", "y_train", "x_val", "y_val")}
        return DataSet(self.name, **moved, task=self.task, class_names=self.class_names, kind=self.kind,
                       extra=self.extra)

    def describe(self) -> str:
        what = (f"{self.num_classes} classes" if self.task == CLASSIFICATION
                else f"targets {format_shape(self.target_shape)}")
        return (f"{self.name}: {len(self.x_train):,} training and {len(self.x_val):,} validation samples "
                f"of {format_shape(self.input_shape)}, {what}")


def split(x: torch.Tensor, y: torch.Tensor, val_fraction: float, seed: int,
          stratify: bool = True) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A reproducible train/validation split; classes keep their proportions when stratified."""
    if not 0.0 < val_fraction < 1.0:
        raise DataError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    generator = torch.Generator().manual_seed(seed)
    if stratify and not y.is_floating_point() and y.dim() == 1:
        val_idx, train_idx = [], []
        for label in torch.unique(y):
            members = torch.nonzero(y == label).flatten()
            members = members[torch.randperm(len(members), generator=generator)]
            n_val = int(round(len(members) * val_fraction))
            val_idx.append(members[:n_val])
            train_idx.append(members[n_val:])
        train = torch.cat(train_idx)
        train = train[torch.randperm(len(train), generator=generator)]
        val = _dealt(val_idx, generator)
    else:
        order = torch.randperm(len(x), generator=generator)
        n_val = int(round(len(x) * val_fraction))
        val, train = order[:n_val], order[n_val:]
    if len(train) == 0 or len(val) == 0:
        raise DataError(f"{len(x)} samples are too few to split with val_fraction={val_fraction}")
    return x[train], y[train], x[val], y[val]


def _dealt(groups: list[torch.Tensor], generator: torch.Generator) -> torch.Tensor:
    """The classes' validation samples dealt out like cards, one of each class a round in a random
    order, so that the first samples a view steps through (Predict, Outputs) show every class."""
    rounds = max((len(g) for g in groups), default=0)
    dealt = []
    for r in range(rounds):
        hand = torch.stack([g[r] for g in groups if r < len(g)])
        dealt.append(hand[torch.randperm(len(hand), generator=generator)])
    return torch.cat(dealt) if dealt else torch.zeros(0, dtype=torch.int64)


def standardize(x_train: torch.Tensor, x_val: torch.Tensor, extra: dict | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero mean and unit variance per feature (tables, points) or per channel (images, signals),
    with statistics from the training part only. The statistics go into ``extra`` (``mean``,
    ``std``, shaped like one sample) so new inputs, a drawn digit say, can be treated alike."""
    dims = (0,) if x_train.dim() <= 2 else (0, *range(2, x_train.dim()))
    mean = x_train.mean(dim=dims, keepdim=True)
    std = x_train.std(dim=dims, keepdim=True).clamp_min(1e-6)
    if extra is not None:
        extra["mean"], extra["std"] = mean[0], std[0]
    return (x_train - mean) / std, (x_val - mean) / std

"""Which statistics images are normalised with: their own (what loading does by default), or
those the start weights were trained with (ImageNet's for torchvision's and timm's weights).

A data set that loading standardised keeps its statistics in ``extra["mean"]``/``["std"]``
(per channel, shaped like one sample), so its pixels can always be recovered: to normalise it
with other statistics, or to draw a sample as the person would see it.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import DataError, DataSet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def pixel_statistics(data: DataSet) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(mean, std) the data set's images were standardised with, each C x 1 x 1; None for
    images kept as pixels (0 to 1)."""
    mean, std = data.extra.get("mean"), data.extra.get("std")
    if not isinstance(mean, torch.Tensor) or not isinstance(std, torch.Tensor):
        return None
    return mean.reshape(-1, 1, 1), std.reshape(-1, 1, 1)


def to_pixels(x: torch.Tensor, data: DataSet) -> torch.Tensor:
    """Images of ``data`` (N x C x H x W, as stored or as a batch fed to the model) back as pixels."""
    stats = pixel_statistics(data)
    if stats is None:
        return x
    mean, std = (s.to(x.device) for s in stats)
    return x * std + mean


def renormalized(data: DataSet, mean: Sequence[float], std: Sequence[float], what: str) -> DataSet:
    """The data set with its images normalised with ``mean`` and ``std`` (one number per channel)
    instead of their own statistics; ``what`` names where they come from, for messages."""
    if data.kind != "image" or data.x_train.dim() != 4:
        raise DataError(f"normalising with {what} needs images; {data.name} holds {data.kind} data")
    channels = data.x_train.shape[1]
    if len(mean) != channels or len(std) != channels:
        raise DataError(f"{what} are for {len(mean)} colour channels but {data.name}'s images have {channels}; "
                        f"load them with {len(mean)} channels (for an image folder: grayscale false) or normalise "
                        "with the data's own statistics")
    if any(s <= 0 for s in std):
        raise DataError(f"{what}: every standard deviation must be above 0, not {list(std)}")
    device = data.x_train.device
    new_mean = torch.tensor(list(mean), dtype=torch.float32, device=device).reshape(-1, 1, 1)
    new_std = torch.tensor(list(std), dtype=torch.float32, device=device).reshape(-1, 1, 1)
    x_train, x_val = ((to_pixels(x, data) - new_mean) / new_std for x in (data.x_train, data.x_val))
    extra = dict(data.extra) | {"mean": new_mean.cpu(), "std": new_std.cpu()}
    return DataSet(data.name, x_train, data.y_train, x_val, data.y_val, data.task, data.class_names, data.kind, extra)

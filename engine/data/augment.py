"""Image augmentation applied to whole batches on the training device.

Each sample gets its own random numbers, drawn from a generator that the training loop owns (so
a resumed run draws the same numbers). Two sources of settings: a data set's own options
(``crop_padding``, ``flip``: pad and crop, as CIFAR training does) and the training settings'
``augment`` (random resized crops, flips, rotations, colour jitter). The geometric ones are one
affine resampling of the batch (``affine_grid`` and ``grid_sample``), whatever their number;
colour jitter works on the pixels, so standardised images are taken back to pixels for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .base import DataError

ASPECT_RATIOS = (3 / 4, 4 / 3)       # the widths to heights a resized crop takes, as torchvision's
GREY = (0.299, 0.587, 0.114)         # luma weights of red, green and blue


@dataclass(frozen=True)
class Augmentation:
    """What is done to each training batch; every field off by default."""
    resized_crop: float = 0.0       # smallest share of the picture a crop keeps (0.5: 50-100% of its area); 0 = off
    flip: bool = False              # mirror left to right half of the time
    rotation: float = 0.0           # turn by up to this many degrees either way
    color_jitter: float = 0.0       # brightness, contrast and saturation each times 1 +- up to this
    crop_padding: int = 0           # the data set's own: pad by this and crop back at a random place
    flip_data: bool = False         # the data set's own flip option

    @classmethod
    def from_settings(cls, settings: Any, where: str = "training.augment") -> Augmentation:
        """The training settings' ``augment`` object, checked field by field (DataError naming it)."""
        if not isinstance(settings, dict):
            raise DataError(f"{where}: must be an object with resized_crop, flip, rotation and color_jitter")
        for key, value in settings.items():
            if key not in SETTINGS:
                raise DataError(f"{where}.{key}: unknown augmentation; known: {', '.join(SETTINGS)}")
            if key == "flip":
                if not isinstance(value, bool):
                    raise DataError(f"{where}.flip: must be true or false, not {value!r}")
                continue
            low, high, unit = _LIMITS[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise DataError(f"{where}.{key}: must be a number from {low:g} to {high:g}{unit}, not {value!r}")
        return cls(resized_crop=float(settings.get("resized_crop", 0.0)), flip=bool(settings.get("flip", False)),
                   rotation=float(settings.get("rotation", 0.0)), color_jitter=float(settings.get("color_jitter", 0.0)))

    def with_data_options(self, extra: dict[str, Any]) -> Augmentation:
        """Adds a data set's own ``crop_padding`` and ``flip`` options (kept in its ``extra``)."""
        return Augmentation(self.resized_crop, self.flip, self.rotation, self.color_jitter,
                            int(extra.get("crop_padding", 0) or 0), bool(extra.get("flip", False)))

    @property
    def active(self) -> bool:
        return bool(self.resized_crop or self.flip or self.rotation or self.color_jitter or self.crop_padding
                    or self.flip_data)

    def describe(self) -> str:
        parts = []
        if self.crop_padding:
            parts.append(f"crops after padding by {self.crop_padding}")
        if self.resized_crop:
            parts.append(f"random resized crops of {self.resized_crop:.0%}-100%")
        if self.flip or self.flip_data:
            parts.append("left-right flips")
        if self.rotation:
            parts.append(f"rotations up to {self.rotation:g} degrees")
        if self.color_jitter:
            parts.append(f"colour jitter of {self.color_jitter:.0%}")
        return ", ".join(parts) or "none"

    def apply(self, x: torch.Tensor, generator: torch.Generator,
              statistics: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """An augmented copy of the batch N x C x H x W. ``statistics``: the (mean, std) its
        images were standardised with, None for pixels from 0 to 1 (colour jitter needs pixels)."""
        if x.dim() != 4:
            raise DataError(f"augmentations work on images (a batch of N x C x H x W), not a batch of shape "
                            f"{list(x.shape)}")
        if self.crop_padding or self.flip_data:
            x = augment_batch(x, self.crop_padding, self.flip_data, generator)
        if self.resized_crop or self.rotation:
            x = self._resample(x, generator)
        elif self.flip:                     # a flip alone moves no pixel off the grid: exact
            x = torch.where(_draw(x, generator) < 0.5, x.flip(-1), x)
        if self.color_jitter:
            x = self._jitter(x, generator, statistics)
        return x

    def _resample(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Crop, rotation and flip drawn for each sample, applied as one resampling."""
        n = len(x)
        ones = torch.ones(n, device=x.device)
        width, height, cx, cy = ones, ones, ones * 0, ones * 0
        if self.resized_crop:
            area = self.resized_crop + (1 - self.resized_crop) * _uniform(n, generator, x.device)
            low, high = (math.log(r) for r in ASPECT_RATIOS)
            ratio = torch.exp(low + (high - low) * _uniform(n, generator, x.device))
            width, height = (area * ratio).sqrt().clamp(max=1.0), (area / ratio).sqrt().clamp(max=1.0)
            cx = (1 - width) * (2 * _uniform(n, generator, x.device) - 1)
            cy = (1 - height) * (2 * _uniform(n, generator, x.device) - 1)
        angle = math.radians(self.rotation) * (2 * _uniform(n, generator, x.device) - 1) if self.rotation else ones * 0
        mirror = _uniform(n, generator, x.device) < 0.5 if self.flip else ones < 0
        return affine(x, width, height, cx, cy, angle, mirror)

    def _jitter(self, x: torch.Tensor, generator: torch.Generator,
                statistics: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        n, channels = x.shape[:2]
        if statistics is not None:
            mean, std = (s.to(x.device, x.dtype) for s in statistics)
            x = x * std + mean
        s = self.color_jitter
        brightness, contrast, saturation = (1 + s * (2 * _uniform(n, generator, x.device) - 1)[:, None, None, None]
                                            for _ in range(3))
        x = x * brightness
        grey = (x * torch.tensor(GREY, device=x.device, dtype=x.dtype)[:, None, None]).sum(1, keepdim=True) \
            if channels == 3 else x.mean(1, keepdim=True)
        level = grey.mean(dim=(1, 2, 3), keepdim=True)
        x = (x - level) * contrast + level
        if channels == 3:
            grey = grey * contrast + level * (1 - contrast)
            x = grey + (x - grey) * saturation
        x = x.clamp(0.0, 1.0)
        if statistics is not None:
            x = (x - mean) / std
        return x


SETTINGS = ("resized_crop", "flip", "rotation", "color_jitter")     # what the training settings' augment holds
_LIMITS = {"resized_crop": (0.0, 1.0, " (the smallest share of the picture kept; 0 = off)"),
           "rotation": (0.0, 180.0, " degrees"),
           "color_jitter": (0.0, 1.0, "")}


def affine(x: torch.Tensor, width: torch.Tensor, height: torch.Tensor, cx: torch.Tensor, cy: torch.Tensor,
           angle: torch.Tensor, mirror: torch.Tensor) -> torch.Tensor:
    """Each picture of N x C x H x W read from its window: ``width`` and ``height`` as shares of
    the picture, centred at (``cx``, ``cy``) in -1..1 coordinates, turned by ``angle`` radians (a
    quarter turn is ``torch.rot90(x, 1, (2, 3))``), mirrored left to right where ``mirror``; each a
    tensor of N. Places outside the picture repeat its edge (a background, not a black corner)."""
    _, _, h, w = x.shape
    cos, sin = angle.cos(), angle.sin()
    flip = 1 - 2 * mirror.to(cos.dtype)
    # -1..1 coordinates along each side: turn in pixel units, so that a turn of a picture wider
    # than high stays a turn
    aspect = w / h
    theta = torch.stack([
        torch.stack([width * cos * flip, -height * sin / aspect, cx], dim=1),
        torch.stack([width * sin * aspect * flip, height * cos, cy], dim=1),
    ], dim=1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def _uniform(n: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    return torch.rand(n, generator=generator, device=generator.device).to(device)


def _draw(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    return _uniform(len(x), generator, x.device)[:, None, None, None]


def augment_batch(x: torch.Tensor, crop_padding: int, flip: bool, generator: torch.Generator) -> torch.Tensor:
    """Random crops (after zero padding by ``crop_padding``) and horizontal flips of N x C x H x W."""
    n, _, h, w = x.shape
    if flip:
        mask = torch.rand(n, generator=generator, device=generator.device) < 0.5
        x = torch.where(mask.to(x.device)[:, None, None, None], x.flip(-1), x)
    if crop_padding > 0:
        p = crop_padding
        padded = torch.nn.functional.pad(x, (p, p, p, p))
        dy = torch.randint(0, 2 * p + 1, (n,), generator=generator, device=generator.device).to(x.device)
        dx = torch.randint(0, 2 * p + 1, (n,), generator=generator, device=generator.device).to(x.device)
        rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
        cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
        batch = torch.arange(n, device=x.device)[:, None, None, None]
        channels = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
        x = padded[batch, channels, rows, cols]
    return x

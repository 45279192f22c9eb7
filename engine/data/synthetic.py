"""Small synthetic sets: 2-D points for decision boundaries, noisy curves and surfaces for regression."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from .base import CLASSIFICATION, REGRESSION, DataError, DataSet, split, standardize
from .subsets import subset


def _points(name: str, x: np.ndarray, y: np.ndarray, val_fraction: float, seed: int) -> DataSet:
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.int64)
    x_train, y_train, x_val, y_val = split(xt, yt, val_fraction, seed)
    classes = int(yt.max()) + 1
    return DataSet(name, x_train, y_train, x_val, y_val, CLASSIFICATION,
                   [f"class {i}" for i in range(classes)], kind="points")


def spiral(n_samples: int = 1200, noise: float = 0.2, classes: int = 3, turns: float = 1.5,
           val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    """Interleaved spiral arms: no straight line separates them, a small MLP does."""
    rng = np.random.default_rng(seed)
    per = n_samples // classes
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.05, 1.0, per)
        theta = np.linspace(0, turns * 2 * math.pi, per) + c * 2 * math.pi / classes
        theta = theta + rng.normal(0, noise * 0.5, per)
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(per, c))
    return _points("spiral", np.concatenate(xs), np.concatenate(ys), val_fraction, seed)


def moons(n_samples: int = 1000, noise: float = 0.15, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    # scikit-learn costs 0.1 s and 60 MB of memory: loaded only when its data are asked for
    from sklearn.datasets import make_moons
    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _points("moons", x, y, val_fraction, seed)


def circles(n_samples: int = 1000, noise: float = 0.08, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    from sklearn.datasets import make_circles
    x, y = make_circles(n_samples=n_samples, noise=noise, factor=0.5, random_state=seed)
    return _points("circles", x, y, val_fraction, seed)


def xor(n_samples: int = 1000, noise: float = 0.1, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n_samples, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return _points("xor", x + rng.normal(0, noise, x.shape), y, val_fraction, seed)


def gaussian(n_samples: int = 1000, noise: float = 0.5, classes: int = 2, val_fraction: float = 0.2,
             seed: int = 0) -> DataSet:
    """Gaussian blobs around points of a circle; noise is their standard deviation."""
    rng = np.random.default_rng(seed)
    per = n_samples // classes
    angles = np.arange(classes) * 2 * math.pi / classes
    centres = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 1.5
    x = np.concatenate([rng.normal(centres[c], noise, (per, 2)) for c in range(classes)])
    y = np.repeat(np.arange(classes), per)
    return _points("gaussian", x, y, val_fraction, seed)


def sine(n_samples: int = 500, noise: float = 0.1, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    """y = sin(x) + noise on [-pi, pi]: a 1-D regression for the MSE or L1 loss."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-math.pi, math.pi, (n_samples, 1))
    y = np.sin(x) + rng.normal(0, noise, x.shape)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    x_train, y_train, x_val, y_val = split(xt, yt, val_fraction, seed, stratify=False)
    return DataSet("sine", x_train, y_train, x_val, y_val, REGRESSION, kind="points")


CURVES = {
    "quadratic": ("y = 0.5x² − x + 1", lambda x: 0.5 * x ** 2 - x + 1),
    "wave": ("y = 0.5 + 0.3x + sin 3x", lambda x: 0.5 + 0.3 * x + np.sin(3 * x)),
    "sine": ("y = sin x", np.sin),
}
SURFACES = {
    "bowl": ("y = x1² + x2²", lambda a, b: a ** 2 + b ** 2),
    "saddle": ("y = x1·x2", lambda a, b: a * b),
    "waves": ("y = sin x1 + sin x2", lambda a, b: np.sin(a) + np.sin(b)),
}


def curve(function: str = "quadratic", n_samples: int = 200, noise: float = 0.1, low: float = -3.0,
          high: float = 3.0, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    """Noisy samples of a function of one number, for the notes' linear predictors of features:
    ``quadratic`` is fitted exactly by w·[1, x, x²], ``wave`` by w·[1, x, sin 3x]. Few samples and
    much noise make a set a wide network overfits."""
    formula, fn = _choice(CURVES, function, "curve")
    if not low < high:
        raise DataError(f"curve: low ({low}) must be below high ({high})")
    if n_samples < 2 or noise < 0:
        raise DataError("curve: n_samples must be at least 2 and noise not negative")
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (n_samples, 1))
    y = fn(x) + rng.normal(0, noise, x.shape)
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    x_train, y_train, x_val, y_val = split(xt, yt, val_fraction, seed, stratify=False)
    return DataSet("curve", x_train, y_train, x_val, y_val, REGRESSION, kind="points", extra={"formula": formula})


def surface(function: str = "waves", n_samples: int = 600, noise: float = 0.05, val_fraction: float = 0.2,
            seed: int = 0) -> DataSet:
    """Noisy samples of a function of two numbers on [-3, 3]², for the predicted surface of a 2-D
    regression: ``bowl`` (x1² + x2²), ``saddle`` (x1·x2), ``waves`` (sin x1 + sin x2), each made
    exactly by a Features layer and one Linear unit."""
    formula, fn = _choice(SURFACES, function, "surface")
    if n_samples < 2 or noise < 0:
        raise DataError("surface: n_samples must be at least 2 and noise not negative")
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3.0, 3.0, (n_samples, 2))
    y = fn(x[:, :1], x[:, 1:]) + rng.normal(0, noise, (n_samples, 1))
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    x_train, y_train, x_val, y_val = split(xt, yt, val_fraction, seed, stratify=False)
    return DataSet("surface", x_train, y_train, x_val, y_val, REGRESSION, kind="points", extra={"formula": formula})


def _choice(table: dict, name: str, data_set: str):
    if name not in table:
        raise DataError(f"{data_set}: function {name!r} is not one of {', '.join(table)}")
    return table[name]


def digits(val_fraction: float = 0.2, seed: int = 0, normalize: bool = True, image_size: int = 8,
           as_sequence: bool = False, color: bool = False, class_subset: Any = None, per_class: Any = 0) -> DataSet:
    """scikit-learn's bundled 1,797 handwritten digits, 8x8 grey images, 10 classes.

    ``image_size`` enlarges them (bilinear), e.g. to 32 for the classic LeNet-5 input;
    ``as_sequence`` gives each image as a sequence of its rows (rows x columns) for RNNs and
    Transformers; ``color`` draws each digit in a light colour of its own on a dark background of
    another (3 channels), the small colour pictures the ImageNet architectures of the example
    library train on. ``class_subset`` and ``per_class`` (``subsets``) are chosen first, so that
    only the samples kept are enlarged and coloured: 100 digits at 227x227 rather than 1,797."""
    from sklearn.datasets import load_digits
    if color and as_sequence:
        raise DataError("digits: color and as_sequence do not go together (a sequence of rows has no channels)")
    bunch = load_digits()
    ink = torch.as_tensor(bunch.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    colours = _colours(len(ink), seed) if color else None      # drawn for every digit: each keeps its own

    def pictures(index: torch.Tensor) -> torch.Tensor:
        x = ink[index]
        if image_size != 8:
            x = torch.nn.functional.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
        if colours is not None:
            background, ink_colour = colours[0][index], colours[1][index]
            x = background + (ink_colour - background) * x
        return x[:, 0] if as_sequence else x

    # the split and the subset choose sample numbers; only the pictures of those kept are made
    i_train, y_train, i_val, y_val = split(torch.arange(len(y)), y, val_fraction, seed)
    kind = "sequence" if as_sequence else "image"
    chosen = subset(DataSet("digits", i_train, y_train, i_val, y_val, CLASSIFICATION, [str(d) for d in range(10)],
                            kind=kind), class_subset, per_class)
    x_train, x_val = pictures(chosen.x_train), pictures(chosen.x_val)
    extra: dict = {}
    if normalize:
        x_train, x_val = standardize(x_train, x_val, extra)
    return DataSet("digits", x_train, chosen.y_train, x_val, chosen.y_val, CLASSIFICATION, chosen.class_names,
                   kind=kind, extra=extra)


def _colours(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A background and an ink colour for each of ``n`` digits (N x 3 x 1 x 1 each): a light ink
    on a dark background of another colour (every channel at least 0.2 apart), so that colour
    says nothing about the digit and the network has to read its shape."""
    generator = torch.Generator().manual_seed(seed + 7)
    background = (torch.rand(n, 3, generator=generator) * 0.4)[:, :, None, None]          # 0 to 0.4
    ink_colour = (0.6 + torch.rand(n, 3, generator=generator) * 0.4)[:, :, None, None]     # 0.6 to 1
    return background, ink_colour


MAX_SEQUENCE_VALUES = 20_000_000      # samples x steps x values of a synthetic sequence set (80 MB)


def _sequence_size(name: str, n_samples: int, length: int, values: int) -> None:
    if n_samples < 2:
        raise DataError(f"{name}: n_samples must be at least 2, not {n_samples}")
    if length < 2:
        raise DataError(f"{name}: length must be at least 2, not {length}")
    if n_samples * length * values > MAX_SEQUENCE_VALUES:
        raise DataError(f"{name}: {n_samples:,} samples of {length:,} steps are more than {MAX_SEQUENCE_VALUES:,} "
                        "values; ask for fewer samples or shorter sequences")


def long_memory(n_samples: int = 2000, length: int = 50, val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    """Sequences of ``length`` steps of two values, a value and a marker: at the first step the
    marker is 1 and the value, +1 or -1, is the class; at every later step the marker is 0 and the
    value is noise in [-1, 1]. Only a network that carries the first step to the end classifies
    them: the task that shows a plain RNN's gradient vanishing over time."""
    _sequence_size("long_memory", n_samples, length, 2)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_samples)
    x = np.zeros((n_samples, length, 2))
    x[:, :, 0] = rng.uniform(-1.0, 1.0, (n_samples, length))
    x[:, 0, 0] = np.where(y == 1, 1.0, -1.0)
    x[:, 0, 1] = 1.0
    x_train, y_train, x_val, y_val = split(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y), val_fraction,
                                           seed)
    return DataSet("long memory", x_train, y_train, x_val, y_val, CLASSIFICATION, ["first value -1", "first value +1"],
                   kind="sequence")


def waves(n_samples: int = 600, length: int = 40, mode: str = "forecast", noise: float = 0.02,
          val_fraction: float = 0.2, seed: int = 0) -> DataSet:
    """Sine waves of random frequency (1 to 3 periods over ``length`` steps), a regression over
    sequences.

    ``mode="forecast"`` (many to many): each sample is a wave of ``length`` steps with a random
    phase, and its target is the same wave one step later, at every step. ``mode="generate"``
    (one to many): each sample is one number, the wave's frequency scaled to [-1, 1], and its
    target is the whole wave from phase 0."""
    if mode not in ("forecast", "generate"):
        raise DataError(f"waves: mode must be forecast or generate, not {mode!r}")
    _sequence_size("waves", n_samples, length, 2)
    rng = np.random.default_rng(seed)
    periods = rng.uniform(1.0, 3.0, (n_samples, 1))
    phase = rng.uniform(0, 2 * math.pi, (n_samples, 1)) if mode == "forecast" else np.zeros((n_samples, 1))
    t = np.arange(length + 1)[None, :]
    wave = np.sin(2 * math.pi * periods * t / length + phase) + rng.normal(0, noise, (n_samples, length + 1))
    if mode == "forecast":
        x, y = wave[:, :-1, None], wave[:, 1:, None]
    else:
        x, y = periods - 2.0, wave[:, :-1, None]
    xt, yt = torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    x_train, y_train, x_val, y_val = split(xt, yt, val_fraction, seed, stratify=False)
    return DataSet(f"waves ({mode})", x_train, y_train, x_val, y_val, REGRESSION, kind="sequence")

"""Small synthetic sets: 2-D points for decision boundaries, and a noisy sine for regression."""

from __future__ import annotations

import math

import numpy as np
import torch

from .base import CLASSIFICATION, REGRESSION, DataError, DataSet, split, standardize


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


def digits(val_fraction: float = 0.2, seed: int = 0, normalize: bool = True, image_size: int = 8,
           as_sequence: bool = False, color: bool = False) -> DataSet:
    """scikit-learn's bundled 1,797 handwritten digits, 8x8 grey images, 10 classes.

    ``image_size`` enlarges them (bilinear), e.g. to 32 for the classic LeNet-5 input;
    ``as_sequence`` gives each image as a sequence of its rows (rows x columns) for RNNs and
    Transformers; ``color`` draws each digit in a light colour of its own on a dark background of
    another (3 channels), the small colour pictures the ImageNet architectures of the example
    library train on."""
    from sklearn.datasets import load_digits
    bunch = load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float32).reshape(-1, 1, 8, 8) / 16.0
    if image_size != 8:
        x = torch.nn.functional.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    if color:
        if as_sequence:
            raise DataError("digits: color and as_sequence do not go together (a sequence of rows has no channels)")
        x = _colored(x, seed)
    if as_sequence:
        x = x[:, 0]
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    x_train, y_train, x_val, y_val = split(x, y, val_fraction, seed)
    extra: dict = {}
    if normalize:
        x_train, x_val = standardize(x_train, x_val, extra)
    return DataSet("digits", x_train, y_train, x_val, y_val, CLASSIFICATION,
                   [str(d) for d in range(10)], kind="sequence" if as_sequence else "image", extra=extra)


def _colored(ink: torch.Tensor, seed: int) -> torch.Tensor:
    """N x 1 x H x W ink (0 to 1) as N x 3 x H x W pictures: each digit drawn in a light colour of
    its own on a dark background of another (every channel at least 0.2 apart), so that colour
    says nothing about the digit and the network has to read its shape."""
    n = len(ink)
    generator = torch.Generator().manual_seed(seed + 7)
    background = (torch.rand(n, 3, generator=generator) * 0.4)[:, :, None, None]          # 0 to 0.4
    ink_colour = (0.6 + torch.rand(n, 3, generator=generator) * 0.4)[:, :, None, None]     # 0.6 to 1
    return background + (ink_colour - background) * ink

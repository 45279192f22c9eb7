"""What a node's box says zoomed out, when its small text could not be read: its type (or a
block's name, or a Function's operation) split only between words, and under it the few numbers
that tell boxes of one type apart (channels or features, kernel, stride, a block's parameters
and its repeat), each in the largest font that fits the box."""

from __future__ import annotations

import re
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF

from graphs import FUNCTION
from graphs.blocks import REPEAT, ref_name

SEPARATOR = " · "
MIN_TEXT_PX = 6.0        # as the near view: smaller letters could not be read
PX_PER_PT = 96 / 72
SIZES = (28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8)
WRAP = int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap)


def words(name: str) -> str:
    """A type name split at its word humps, never inside an acronym's run of capitals:
    "ConvReLU" -> "Conv ReLU", "AdaptiveAvgPool2d" -> "Adaptive Avg Pool2d", "GELU" stays."""
    parts = re.split(r"(?<=[a-z0-9])(?=[A-Z])|_+", name)
    joined: list[str] = []
    for part in parts:
        if joined and part.isupper():          # "Re" + "LU", "Si" + "LU": one word
            joined[-1] += part
        else:
            joined.append(part)
    return " ".join(part for part in joined if part)


def title(node) -> str:
    """What the box is: a Function's operation, else the type (a block's name)."""
    return str(node.params.get("op")) if node.type == FUNCTION else node.type


def _size(value) -> str:
    ref = ref_name(value)
    if ref is not None:         # inside a block: the block's parameter it takes
        return ref
    if isinstance(value, list):
        return "x".join(map(str, value))
    return f"{value:g}" if isinstance(value, float) else str(value)


def numbers(node) -> str:
    """The key numbers: "64 · 7x7 /2" for a strided convolution, "x2 · 64" for a block used
    twice with 64 channels, "120" for a Linear; "" for a type that has none (ReLU)."""
    params, parts = node.params, []
    repeat = params.get(REPEAT)
    if isinstance(repeat, int) and repeat != 1:
        parts.append(f"x{repeat}")
    for name in node.spec.key_params:
        value = params.get(name)
        if value is None or name in ("op", "mean", "std", "padding", "dilation"):
            continue
        if name == "stride":
            if value not in (1, [1, 1], [1, 1, 1]):
                stride = value[0] if isinstance(value, list) and len(set(value)) == 1 else value
                parts[-1:] = [f"{parts[-1]} /{_size(stride)}" if parts else f"/{_size(stride)}"]
            continue
        if name == "kernel_size" and isinstance(value, int):
            rank = 3 if node.type.endswith("3d") else 2 if node.type.endswith("2d") else 0
            parts.append("x".join([str(value)] * rank) if rank else f"k{value}")    # a block's: rank unknown
        elif name == "p":
            parts.append(f"p {_size(value)}")
        elif name == "dim":
            parts.append(f"dim {_size(value)}")
        elif name == "scale_factor":
            parts.append(f"x{_size(value)}")
        else:
            parts.append(_size(value))
    return SEPARATOR.join(part for part in parts if len(part) <= 14)


# Shorter names for long types, used only where the whole name could not be read.
SHORT = {"ConvTranspose1d": "ConvT1d", "ConvTranspose2d": "ConvT2d", "ConvTranspose3d": "ConvT3d",
         "AdaptiveAvgPool1d": "AdaptAvg", "AdaptiveAvgPool2d": "AdaptAvg", "AdaptiveAvgPool3d": "AdaptAvg",
         "MultiheadAttention": "Attention", "TransformerEncoderLayer": "Encoder", "TransformerEncoder": "Encoder",
         "LocalResponseNorm": "LRN", "StochasticDepth": "StochDepth", "BatchNorm1d": "BN1d", "BatchNorm2d": "BN2d",
         "BatchNorm3d": "BN3d", "scaled_dot_product_attention": "attention"}


def readable_points(scale: float) -> float | None:
    """The smallest of SIZES whose letters are MIN_TEXT_PX high on screen at ``scale``; None
    when even the largest would be smaller."""
    needed = MIN_TEXT_PX / (PX_PER_PT * scale) if scale > 0 else float("inf")
    return next((float(size) for size in reversed(SIZES) if size >= needed), None)


def fitted(name: str, figures: str, width: float, height: float, least: float) -> tuple[str, float, float]:
    """(the title's text, its point size, the numbers' point size; 0: not shown) in a box of this
    size, no letter smaller than ``least`` points. The whole name is preferred, then split
    between words, then a short name; with the numbers on a line under it where they fit too."""
    return _fitted(name, figures, round(width), round(height), least)


@cache
def _fitted(name: str, figures: str, width: int, height: int, least: float) -> tuple[str, float, float]:
    short = SHORT.get(name, name if len(name) <= 10 else name[:9] + "…")
    results = [_best(text, figures, width, height, least) for text in dict.fromkeys((name, words(name), short))]
    shown = [r for r in results if r[1]]
    if not shown:
        return "", 0.0, 0.0
    # the numbers shown if they can be, then the whole name rather than a short one, then the larger
    return max(shown, key=lambda r: (bool(r[2]) or not figures, r[0] != short or short == name, r[1]))


def _best(text: str, figures: str, width: int, height: int, least: float) -> tuple[str, float, float]:
    """The largest title of ``text`` with the numbers under it, else the largest without them."""
    sizes = [float(size) for size in SIZES if size >= least]
    title_only = (text, 0.0, 0.0)
    for size in sizes:
        title_height = _wrapped(text, size, width, height)
        if title_height is None:
            continue
        if not title_only[1]:
            title_only = (text, size, 0.0)
        for figure_size in (f for f in sizes if f <= min(size, max(20.0, least))):
            line = _line(figures, figure_size)
            if line is not None and line[0] <= width and title_height + line[1] <= height:
                return text, size, figure_size
    return title_only


def _wrapped(text: str, points: float, width: int, height: int) -> float | None:
    """The height bold ``text`` takes wrapped between words in ``width`` (None if it does not fit)."""
    font = QFont()
    font.setBold(True)
    font.setPointSizeF(points)
    used = QFontMetricsF(font).boundingRect(QRectF(0, 0, width, height), WRAP, text)
    return used.height() if used.width() <= width and used.height() <= height else None


def _line(text: str, points: float) -> tuple[float, float] | None:
    if not text:
        return None
    font = QFont()
    font.setPointSizeF(points)
    metrics = QFontMetricsF(font)
    return metrics.horizontalAdvance(text), metrics.height()

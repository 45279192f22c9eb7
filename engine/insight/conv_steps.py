"""Convolution and pooling step by step, with the numbers a student works out by hand.

For a small input (a data-set sample, a layer's input for one sample, or typed numbers) and a
kernel (a layer's trained weights, a preset, or typed numbers), every output cell is given with
the place of its window, the values under its taps and what they make: the multiply-adds of a
convolution, the maximum or the mean of a pooling window. The output-size formula comes with its
values filled in and is checked against the shape on the layer's outgoing wire.

Everything is computed here, element by element, the way the notes write it (cross-correlation,
as torch and every deep-learning course compute a "convolution"); the tests check the numbers
against ``torch.nn.functional.conv2d``, ``max_pool2d`` and ``avg_pool2d``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import fx

from graphs import Graph

from ..checking import Report
from ..layers import format_shape
from .layer_values import InsightError, module_of, run_keeping

CONV, MAX, AVG = "convolution", "max pooling", "average pooling"
KINDS = {"Conv2d": CONV, "MaxPool2d": MAX, "AvgPool2d": AVG}
MAX_TYPED = 32            # rows and columns of a typed grid
MAX_SIDE = 256            # rows and columns of any input shown step by step

KERNEL_PRESETS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float64),
    "vertical edge": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=np.float64),
    "horizontal edge": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=np.float64),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float64),
    "blur": np.full((3, 3), 1 / 9, dtype=np.float64),
}


@dataclass(frozen=True)
class SlidingWindow:
    """How a window slides: a convolution's or a pooling layer's settings, per axis (height, width)."""
    kind: str = CONV
    kernel: tuple[int, int] = (3, 3)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    ceil_mode: bool = False               # pooling: round the output size up
    count_include_pad: bool = True        # average pooling: padded zeros count in the mean

    def __post_init__(self) -> None:
        if self.kind not in (CONV, MAX, AVG):
            raise InsightError(f"a window is a {CONV}, {MAX} or {AVG}, not {self.kind!r}")
        for name, low in (("kernel", 1), ("stride", 1), ("padding", 0), ("dilation", 1)):
            values = getattr(self, name)
            if len(values) != 2 or any(not isinstance(v, int) or isinstance(v, bool) or v < low for v in values):
                raise InsightError(f"{name} must be two whole numbers of at least {low}, not {values!r}")
        if self.kind == AVG and self.dilation != (1, 1):
            raise InsightError("average pooling has no dilation (torch's AvgPool2d takes none)")
        if self.kind != CONV and any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise InsightError(f"padding {format_shape(self.padding)} is more than half of the window "
                               f"{format_shape(self.kernel)} (torch refuses that for pooling)")

    @staticmethod
    def of(kind: str, kernel, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
           count_include_pad: bool = True) -> SlidingWindow:
        """From values as a layer's parameters give them: a number or a pair; stride None: the window."""
        k = _pair(kernel, "kernel")
        return SlidingWindow(kind, k, k if stride is None else _pair(stride, "stride"), _pair(padding, "padding"),
                      _pair(dilation, "dilation"), ceil_mode, count_include_pad)


@dataclass(frozen=True)
class OutputSize:
    """The output-size formula of one axis with its values: ``W_out = floor((W + 2P - D(F-1) - 1)/S) + 1``
    (``(W - F + 2P)/S + 1`` when D is 1, as the notes write it)."""
    axis: str
    size: int             # W
    kernel: int           # F
    padding: int          # P
    stride: int           # S
    dilation: int = 1     # D
    ceil_mode: bool = False

    @property
    def span(self) -> int:
        """How far one window reaches: D(F-1) + 1."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def room(self) -> int:
        """W + 2P - D(F-1) - 1: how far the window can move in the padded input."""
        return self.size + 2 * self.padding - self.span

    @property
    def result(self) -> int:
        if self.room < 0:
            return 0
        if not self.ceil_mode:
            return self.room // self.stride + 1
        out = -(-self.room // self.stride) + 1
        # torch's rule: the last window must start inside the input or its left padding
        if (out - 1) * self.stride >= self.size + self.padding:
            out -= 1
        return out

    @property
    def remainder(self) -> int:
        """Rows or columns of the padded input that no window reaches (0: the windows fit exactly)."""
        return max(self.room, 0) % self.stride if not self.ceil_mode else 0

    def text(self) -> str:
        """The formula with the values filled in, as a student writes it."""
        name = "H_out" if self.axis == "height" else "W_out"
        size = "H" if self.axis == "height" else "W"
        rounding = ("⌈", "⌉") if self.ceil_mode else ("⌊", "⌋")
        if self.dilation == 1:
            general = f"{rounding[0]}({size} − F + 2P) / S{rounding[1]} + 1"
            filled = f"{rounding[0]}({self.size} − {self.kernel} + 2·{self.padding}) / {self.stride}{rounding[1]} + 1"
        else:
            general = f"{rounding[0]}({size} + 2P − D(F − 1) − 1) / S{rounding[1]} + 1"
            filled = (f"{rounding[0]}({self.size} + 2·{self.padding} − {self.dilation}·({self.kernel} − 1) − 1) / "
                      f"{self.stride}{rounding[1]} + 1")
        if self.room < 0:
            return f"{name} = {general} = {filled}: the window ({self.span}) is larger than the padded input, no output"
        line = f"{name} = {general} = {filled} = {self.result}"
        if self.remainder:
            line += f" ({self.remainder} of the padded {self.size + 2 * self.padding} left over: no window reaches it)"
        return line


@dataclass(frozen=True)
class StepCell:
    """One output cell: where its window lies and how its value is made."""
    row: int
    col: int
    rows: tuple[int, ...]            # rows of the padded input under the taps (top to bottom)
    cols: tuple[int, ...]            # columns of the padded input under the taps (left to right)
    inputs: np.ndarray = field(repr=False)    # channels x taps_h x taps_w; NaN where a tap is off the padded input
    counted: np.ndarray = field(repr=False)   # taps_h x taps_w: taps that take part (pooling leaves padding out)
    value: float
    weights: np.ndarray | None = field(default=None, repr=False)   # the kernel (convolution), else None
    bias: float = 0.0
    divisor: int = 0                 # average pooling: what the sum is divided by
    winner: tuple[int, int] | None = None    # max pooling: the tap (row, column in the window) that wins

    @property
    def products(self) -> np.ndarray:
        """A convolution's multiplications, tap by tap (channels x taps_h x taps_w)."""
        if self.weights is None:
            raise InsightError("a pooling window multiplies nothing")
        return np.nan_to_num(self.inputs) * self.weights

    def expression(self) -> str:
        """The cell's arithmetic in one line: ``10·1 + 10·0 + 0·(−1) + ... = 30``."""
        if self.weights is not None:
            terms = [f"{_num(x)}·{_num(w, brackets=True)}" for x, w in zip(self.inputs.ravel(), self.weights.ravel())]
            if self.bias:
                terms.append(f"{_num(self.bias, brackets=True)}")
            return " + ".join(terms) + f" = {_num(self.value)}"
        taken = [_num(v) for v, c in zip(self.inputs[0].ravel(), self.counted.ravel()) if c]
        if self.winner is not None:
            return f"max({', '.join(taken)}) = {_num(self.value)}"
        return f"({' + '.join(taken)}) / {self.divisor} = {_num(self.value)}"


@dataclass(frozen=True)
class WindowSteps:
    """A window slid over one input: the padded input, the kernel, the output, and each cell."""
    window: SlidingWindow
    input: np.ndarray = field(repr=False)      # channels x H x W, as given
    padded: np.ndarray = field(repr=False)     # channels x (H + 2P) x (W + 2P); pooling pads with NaN
    kernel: np.ndarray | None = field(repr=False)   # channels x F x F (convolution), None for pooling
    bias: float
    output: np.ndarray = field(repr=False)     # H_out x W_out (a convolution's one output channel, or the pooled map)
    sizes: tuple[OutputSize, OutputSize]

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.output.shape[0]), int(self.output.shape[1])

    def cell(self, row: int, col: int) -> StepCell:
        h, w = self.shape
        if not (0 <= row < h and 0 <= col < w):
            raise InsightError(f"the output is {h}x{w}: it has no cell ({row}, {col})")
        return _cell(self, row, col)

    def cells(self) -> Iterator[StepCell]:
        """The cells in the order the window slides: along each row, then down."""
        h, w = self.shape
        for row in range(h):
            for col in range(w):
                yield _cell(self, row, col)


def convolution_steps(image, kernel, window: SlidingWindow | None = None, bias: float = 0.0) -> WindowSteps:
    """One output channel of a convolution: ``image`` (H x W, or channels x H x W) cross-correlated
    with ``kernel`` (F x F, or channels x F x F) at the window's stride, padding (zeros) and dilation."""
    x = _as_maps(image, "the input")
    k = _as_maps(kernel, "the kernel")
    if k.shape[0] != x.shape[0]:
        raise InsightError(f"the kernel has {k.shape[0]} channel(s) and the input {x.shape[0]}: they must match")
    window = replace(window or SlidingWindow(), kind=CONV, kernel=(int(k.shape[1]), int(k.shape[2])))
    padded = np.pad(x, ((0, 0), (window.padding[0],) * 2, (window.padding[1],) * 2))
    sizes = _sizes(x, window)
    out = np.zeros((sizes[0].result, sizes[1].result))
    for i, rows in enumerate(_taps(sizes[0], window, 0)):
        for j, cols in enumerate(_taps(sizes[1], window, 1)):
            out[i, j] = float((padded[:, rows][:, :, cols] * k).sum()) + bias
    return WindowSteps(window, x, padded, k, float(bias), out, sizes)


def pooling_steps(image, window: SlidingWindow) -> WindowSteps:
    """Max or average pooling of one map (H x W) with the window's settings, as torch pools."""
    x = _as_maps(image, "the input")
    if x.shape[0] != 1:
        raise InsightError(f"pooling works on each channel alone: give one map, not {x.shape[0]} channels")
    if window.kind == CONV:
        raise InsightError("pooling_steps() takes a max or average pooling window; convolution_steps() does convolutions")
    padded = np.pad(x, ((0, 0), (window.padding[0],) * 2, (window.padding[1],) * 2), constant_values=np.nan)
    sizes = _sizes(x, window)
    steps = WindowSteps(window, x, padded, None, 0.0, np.zeros((sizes[0].result, sizes[1].result)), sizes)
    for cell in steps.cells():
        steps.output[cell.row, cell.col] = cell.value
    return steps


def window_steps(image, window: SlidingWindow, kernel=None, bias: float = 0.0) -> WindowSteps:
    """``convolution_steps`` or ``pooling_steps``, as the window says."""
    if window.kind == CONV:
        if kernel is None:
            raise InsightError("a convolution needs a kernel: a layer's weights, a preset or typed numbers")
        return convolution_steps(image, kernel, window, bias)
    return pooling_steps(image, window)


def output_sizes(height: int, width: int, window: SlidingWindow) -> tuple[OutputSize, OutputSize]:
    """The formula for each axis of an input of ``height`` x ``width``."""
    def axis(a: int, name: str, size: int) -> OutputSize:
        return OutputSize(name, size, window.kernel[a], window.padding[a], window.stride[a], window.dilation[a],
                          window.ceil_mode)
    return axis(0, "height", height), axis(1, "width", width)


# ---------------------------------------------------------------------- a layer's window, kernel and input
def layer_window(graph: Graph, node_id: str) -> SlidingWindow:
    """The window of a Conv2d, MaxPool2d or AvgPool2d node, from its parameters."""
    node = graph.nodes.get(node_id)
    if node is None:
        raise InsightError(f"the graph has no node {node_id!r}")
    kind = KINDS.get(node.type)
    if kind is None:
        raise InsightError(f"{node_id} is a {node.type}: step by step shows Conv2d, MaxPool2d and AvgPool2d layers")
    p = node.params
    if any(isinstance(v, dict) for v in p.values()):
        raise InsightError(f"{node_id} takes its settings from its block's parameters: open it through a use")
    padding = p.get("padding", 0)
    if padding == "same":          # torch keeps the size with stride 1: D(F-1)/2 on each side
        reach = [d * (k - 1) for k, d in zip(_pair(p["kernel_size"], "kernel"), _pair(p.get("dilation", 1), "dilation"))]
        if any(r % 2 for r in reach):
            raise InsightError(f"{node_id} pads 'same' with an even window, which torch pads unevenly; "
                               f"give its padding as numbers to see it step by step")
        padding = [r // 2 for r in reach]
    return SlidingWindow.of(kind, p["kernel_size"], p.get("stride", 1) if kind == CONV else p.get("stride"), padding,
                     p.get("dilation", 1), bool(p.get("ceil_mode", False)), bool(p.get("count_include_pad", True)))


def layer_kernel(model: fx.GraphModule, node_id: str, out_channel: int = 0) -> tuple[np.ndarray, float]:
    """A Conv2d node's trained filter for one output channel (in_channels x F x F) and its bias."""
    conv = module_of(model, node_id)
    if not isinstance(conv, torch.nn.Conv2d):
        raise InsightError(f"{node_id} is not a Conv2d layer")
    if conv.groups != 1:
        raise InsightError(f"{node_id} is a grouped convolution ({conv.groups} groups): its filters see only "
                           "part of the input's channels, which this view does not show")
    if not 0 <= out_channel < conv.out_channels:
        raise InsightError(f"{node_id} has {conv.out_channels} output channels: 0 to {conv.out_channels - 1}")
    weight = conv.weight.detach()[out_channel].double().cpu().numpy()
    bias = float(conv.bias.detach()[out_channel]) if conv.bias is not None else 0.0
    return weight, bias


def layer_input(model: fx.GraphModule, graph: Graph, node_id: str, sample: torch.Tensor) -> np.ndarray:
    """What flows into ``node_id`` for one sample (channels x H x W): the sample itself for the
    first layer, the earlier layers' output for later ones (evaluation mode)."""
    if node_id not in graph.nodes:
        raise InsightError(f"the graph has no node {node_id!r}")
    wires = graph.in_edges(node_id)
    if not wires:
        raise InsightError(f"{node_id} has no input wire")
    source = wires[0].src
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if graph.nodes[source].type == "Input":
                value = sample.unsqueeze(0)
            else:
                _, kept = run_keeping(model, [source], sample.unsqueeze(0))
                if source not in kept:
                    raise InsightError(f"{source}, which feeds {node_id}, gives no tensor")
                value = kept[source]
    finally:
        model.train(was_training)
    if value.dim() != 4:
        raise InsightError(f"{node_id} gets a {format_shape(tuple(value.shape[1:]))} tensor, not an image")
    return value[0].double().cpu().numpy()


@dataclass(frozen=True)
class WireCheck:
    """The formula's result on the layer's real input, against the shape its outgoing wire carries."""
    node: str
    input_shape: tuple[int, ...]
    sizes: tuple[OutputSize, OutputSize]
    computed: tuple[int, ...]        # channels x H_out x W_out by the formula
    on_wire: tuple[int, ...]         # what the check found on the wire
    matches: bool

    def text(self) -> str:
        formula = f"{format_shape(self.input_shape)} in: " + "; ".join(s.text() for s in self.sizes)
        if self.matches:
            return f"{formula}. The wire out of {self.node} carries {format_shape(self.on_wire)}, as the formula says."
        return (f"{formula}. With these settings the output would be {format_shape(self.computed)}, but the wire out "
                f"of {self.node} carries {format_shape(self.on_wire)} (the layer's own settings).")


def wire_check(graph: Graph, report: Report, node_id: str, window: SlidingWindow | None = None) -> WireCheck:
    """The output-size formula for ``node_id``'s real input size (with ``window``, the layer's own
    settings by default) and whether it gives the shape the check put on its outgoing wire."""
    window = window or layer_window(graph, node_id)
    wires = graph.in_edges(node_id)
    incoming = report.wire_tensor(wires[0]) if wires else None
    outgoing = report.tensors.get((node_id, "out"))
    if incoming is None or outgoing is None:
        raise InsightError(f"{node_id} has no shapes yet: fix the problems the check reports first")
    if len(incoming.shape) != 3:
        raise InsightError(f"{node_id} gets {format_shape(incoming.shape)}, not channels x height x width")
    channels, height, width = incoming.shape
    sizes = output_sizes(height, width, window)
    out_channels = graph.nodes[node_id].params.get("out_channels", channels) if window.kind == CONV else channels
    computed = (int(out_channels), sizes[0].result, sizes[1].result)
    return WireCheck(node_id, tuple(incoming.shape), sizes, computed, tuple(outgoing.shape), computed == tuple(outgoing.shape))


# ---------------------------------------------------------------------- numbers a student types
_SEPARATORS = re.compile(r"[\s,]+")


def parse_grid(text: str, what: str = "the input") -> np.ndarray:
    """A grid of numbers typed as rows on lines (or separated by ';'), numbers by spaces or commas."""
    rows = [r.strip() for r in re.split(r"[;\n]", text) if r.strip()]
    if not rows:
        raise InsightError(f"{what}: type at least one row of numbers")
    if len(rows) > MAX_TYPED:
        raise InsightError(f"{what}: at most {MAX_TYPED} rows, not {len(rows)}")
    grid: list[list[float]] = []
    for r, row in enumerate(rows, 1):
        values = []
        for c, word in enumerate(w for w in _SEPARATORS.split(row) if w):
            try:
                number = float(word.replace("−", "-"))
            except ValueError:
                raise InsightError(f"{what}: {word[:20]!r} in row {r}, column {c + 1} is not a number") from None
            if not math.isfinite(number):
                raise InsightError(f"{what}: row {r}, column {c + 1} must be a finite number")
            values.append(number)
        if len(values) > MAX_TYPED:
            raise InsightError(f"{what}: at most {MAX_TYPED} numbers a row; row {r} has {len(values)}")
        if grid and len(values) != len(grid[0]):
            raise InsightError(f"{what}: row {r} has {len(values)} numbers and row 1 has {len(grid[0])}; "
                               "every row needs as many")
        grid.append(values)
    return np.array(grid, dtype=np.float64)


def preset_kernel(name: str) -> np.ndarray:
    try:
        return KERNEL_PRESETS[name].copy()
    except KeyError:
        raise InsightError(f"no kernel preset {name!r}; there are {', '.join(KERNEL_PRESETS)}") from None


# ---------------------------------------------------------------------- the notes' worked examples
@dataclass(frozen=True)
class WorkedExample:
    title: str
    input: np.ndarray = field(repr=False)
    window: SlidingWindow
    kernel: np.ndarray | None = field(default=None, repr=False)

    def steps(self) -> WindowSteps:
        return window_steps(self.input, self.window, self.kernel)


WORKED_EXAMPLES: dict[str, WorkedExample] = {
    "vertical edge": WorkedExample(
        "A 6x6 image, bright on the left half, convolved with a 3x3 vertical-edge kernel: the 4x4 output "
        "lights up where the edge is",
        np.array([[10, 10, 10, 0, 0, 0]] * 6, dtype=np.float64), SlidingWindow(CONV), KERNEL_PRESETS["vertical edge"]),
    "max pooling": WorkedExample(
        "A 4x4 map max-pooled with 2x2 windows at stride 2: each window keeps its largest value",
        np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64),
        SlidingWindow(MAX, (2, 2), (2, 2))),
    "average pooling": WorkedExample(
        "The same 4x4 map average-pooled with 2x2 windows at stride 2: each window keeps its mean",
        np.array([[1, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]], dtype=np.float64),
        SlidingWindow(AVG, (2, 2), (2, 2))),
}


# ---------------------------------------------------------------------- inner workings
def _pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise InsightError(f"{name} must be one number or two, not {len(value)}")
        return int(value[0]), int(value[1])
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InsightError(f"{name} must be a whole number, not {value!r}")
    return int(value), int(value)


def _as_maps(values, what: str) -> np.ndarray:
    array = values.detach().cpu().numpy() if isinstance(values, torch.Tensor) else np.asarray(values)
    if array.dtype.kind not in "iuf":
        raise InsightError(f"{what} must hold numbers")
    array = array.astype(np.float64)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or 0 in array.shape:
        raise InsightError(f"{what} must be a grid (rows x columns) or channels x rows x columns, "
                           f"not {format_shape(array.shape)}")
    if max(array.shape[1:]) > MAX_SIDE:
        raise InsightError(f"{what} is {format_shape(array.shape[1:])}: step by step shows at most "
                           f"{MAX_SIDE}x{MAX_SIDE} (crop it)")
    if not np.isfinite(array).all():
        raise InsightError(f"{what} must hold finite numbers")
    return array


def _sizes(x: np.ndarray, window: SlidingWindow) -> tuple[OutputSize, OutputSize]:
    sizes = output_sizes(int(x.shape[1]), int(x.shape[2]), window)
    if sizes[0].result < 1 or sizes[1].result < 1:
        raise InsightError(f"the window spans {sizes[0].span}x{sizes[1].span} and the padded input is "
                           f"{x.shape[1] + 2 * window.padding[0]}x{x.shape[2] + 2 * window.padding[1]}: "
                           "it does not fit once")
    return sizes


def _taps(size: OutputSize, window: SlidingWindow, axis: int) -> list[np.ndarray]:
    """For each output index along one axis, the padded-input indices its window's taps read."""
    offsets = np.arange(window.kernel[axis]) * window.dilation[axis]
    return [i * window.stride[axis] + offsets for i in range(size.result)]


def _cell(steps: WindowSteps, row: int, col: int) -> StepCell:
    window, padded = steps.window, steps.padded
    rows = row * window.stride[0] + np.arange(window.kernel[0]) * window.dilation[0]
    cols = col * window.stride[1] + np.arange(window.kernel[1]) * window.dilation[1]
    inside = (rows[:, None] < padded.shape[1]) & (cols[None, :] < padded.shape[2])   # ceil mode may reach past
    values = np.full((padded.shape[0], len(rows), len(cols)), np.nan)
    r_in, c_in = np.flatnonzero(rows < padded.shape[1]), np.flatnonzero(cols < padded.shape[2])
    values[:, r_in[:, None], c_in[None, :]] = padded[:, rows[r_in][:, None], cols[c_in][None, :]]
    where = (tuple(int(r) for r in rows), tuple(int(c) for c in cols))
    if window.kind == CONV:
        return StepCell(row, col, *where, values, inside, float(steps.output[row, col]), steps.kernel, steps.bias)
    real = inside & ~np.isnan(values[0])              # taps on the input itself, not on padding
    if window.kind == MAX:
        masked = np.where(real, values[0], -np.inf)
        winner = np.unravel_index(int(np.argmax(masked)), masked.shape)
        return StepCell(row, col, *where, values, real, float(masked[winner]), winner=(int(winner[0]), int(winner[1])))
    # torch's divisor: the window clipped to the padded input, or only its real taps
    height, width = padded.shape[1], padded.shape[2]
    clipped = (min(int(rows[0]) + window.kernel[0], height) - int(rows[0])) * \
              (min(int(cols[0]) + window.kernel[1], width) - int(cols[0]))
    divisor = clipped if window.count_include_pad else int(real.sum())
    total = float(np.where(real, values[0], 0.0).sum())
    counted = inside if window.count_include_pad else real
    shown = np.where(inside & np.isnan(values), 0.0, values)         # padded zeros are counted as zeros
    return StepCell(row, col, *where, shown, counted, total / divisor, divisor=divisor)


def _num(value: float, brackets: bool = False) -> str:
    if value != value:
        return "pad"
    text = f"{value:.4g}".replace("-", "−")
    if text.endswith(".0"):
        text = text[:-2]
    return f"({text})" if brackets and value < 0 else text

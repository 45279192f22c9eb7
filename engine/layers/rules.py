"""Checks in the user's terms, run before torch sees a layer.

Torch would reject most of these mistakes too, but with messages about tensors and calls;
these rules say what is wrong with the layer as the person drew it ("kernel 5x5 is larger
than its 3x3 input"). Texts leave out the node id: the report puts it in front, which lets
results be cached across renames.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from graphs import CATALOG, ERROR, FEATURES, WARNING, InsertLayer, SetParam

from .build import TensorInfo, format_shape


@dataclass(frozen=True)
class Finding:
    severity: str
    text: str
    fix: InsertLayer | SetParam | None = None   # about the node judged (located by the checker)
    too_small: bool = False     # its input is too small: the checker looks for what shrank it


Rule = Callable[[dict[str, Any], list[TensorInfo]], list[Finding]]
_RULES: dict[str, list[Rule]] = {}


def rule(*types: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for t in types:
            _RULES.setdefault(t, []).append(fn)
        return fn
    return register


def precheck(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> list[Finding]:
    """What is wrong with a node given what arrives on its inputs; stops at the first error."""
    xs = [info for port in CATALOG[type_name].inputs for info in inputs.get(port.name, [])]
    checks = [lambda: _dtype_rule(type_name, xs), lambda: _rank_rule(type_name, xs)]
    checks += [functools.partial(r, params, xs) for r in _RULES.get(type_name, [])]
    found: list[Finding] = []
    for check in checks:
        result = check()
        found += result
        if any(f.severity == ERROR for f in result):
            break
    return found


def _error(text: str, fix: InsertLayer | SetParam | None = None) -> list[Finding]:
    return [Finding(ERROR, text, fix)]


def _dtype_rule(type_name: str, xs: list[TensorInfo]) -> list[Finding]:
    if type_name == "Embedding":
        if any(x.dtype != "int64" for x in xs):
            found = "true/false" if any(x.dtype == "bool" for x in xs) else "float"
            return _error(f"needs integer token ids but gets {found} values: set its Input's dtype to int64")
        return []
    if type_name in ("Identity", "Reshape", "Permute", "Flatten", "Concat", "Output", "Function"):
        return []       # they move values as they are; a Function's own call judges its types
    if any(x.dtype == "int64" for x in xs):
        return _error("gets integer token ids; put an Embedding before it to turn them into vectors")
    if any(x.dtype == "bool" for x in xs):
        # Meta tensors let most layers through with true/false values; the real forward then fails.
        return _error("gets true/false values (the result of a comparison) but computes on numbers: turn them into "
                      "numbers first (a Function node calling float)")
    return []


def _rank_rule(type_name: str, xs: list[TensorInfo]) -> list[Finding]:
    spec = CATALOG[type_name]
    if not spec.input_ranks or not xs:
        return []
    x = xs[0]
    if len(x.shape) in spec.input_ranks:
        return []
    ranks = " or ".join(f"{r}-D" for r in spec.input_ranks)
    text = (f"needs a {ranks} input per sample ({spec.input_words}) but gets {format_shape(x.shape)}"
            f" ({len(x.shape)}-D)")
    if len(x.shape) == 1 and 3 in spec.input_ranks:
        text += "; use Reshape to make it an image"
    return _error(text)


def _per_axis(value: Any, n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * n


def _as_given(value: Any) -> str:
    return format_shape(value) if isinstance(value, list) else str(value)


@rule("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "MaxPool1d", "MaxPool2d",
      "AvgPool2d", "MaxPool3d", "AvgPool3d")
def _window_fits(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    spatial = xs[0].shape[1:]
    n = len(spatial)
    kernel = _per_axis(params["kernel_size"], n)
    dilation = _per_axis(params.get("dilation", 1), n)
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if params["padding"] == "same":        # torch pads to keep the size, which needs stride 1
        if any(s != 1 for s in _per_axis(params["stride"], n)):
            return _error(f"padding 'same' keeps the size only with stride 1, not {_as_given(params['stride'])}; "
                          f"give a number of zeros instead", SetParam("", "padding", max(kernel) // 2))
        return []
    padding = _per_axis(params["padding"], n)
    is_pool = "out_channels" not in params
    if "output_padding" in params:   # transposed convolutions grow their input: nothing to fit
        stride = _per_axis(params["stride"], n)
        outp = _per_axis(params["output_padding"], n)
        if any(o >= max(s, d) for o, s, d in zip(outp, stride, dilation)):
            return _error("output_padding must be smaller than the stride (or the dilation)")
        return []
    if is_pool and any(2 * p > k for p, k in zip(padding, kernel)):   # torch's rule for pooling
        return _error(f"padding {_as_given(params['padding'])} is more than half of its window "
                      f"{_as_given(params['kernel_size'])}", SetParam("", "padding", 0))
    padded = tuple(s + 2 * p for s, p in zip(spatial, padding))
    if any(r > s for r, s in zip(reach, padded)):
        pad_note = f" (padded to {format_shape(padded)})" if any(padding) else ""
        what = "window" if is_pool else "kernel"
        dil_note = f", spanning {format_shape(reach)} with dilation" if reach != kernel else ""
        return [Finding(ERROR, f"{what} {format_shape(kernel)}{dil_note} is larger than its "
                               f"{format_shape(spatial)} input{pad_note}", too_small=True)]
    return []


@rule("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _groups_divide(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    groups, channels = params["groups"], xs[0].shape[0]
    if channels % groups:
        return _error(f"groups={groups} must divide its {channels} input channels")
    if params["out_channels"] % groups:
        return _error(f"groups={groups} must divide out_channels={params['out_channels']}")
    return []


@rule("Linear")
def _linear_on_map(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    shape = xs[0].shape
    if len(shape) >= 3 and xs[0].spatial:
        return [Finding(WARNING, f"gets a {format_shape(shape)} feature map and would act on its last "
                        f"axis only: insert Flatten?", InsertLayer(None, "Flatten"))]
    return []


@rule("Features")
def _features_fit(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    numbers = xs[0].shape[0]
    if numbers not in (1, 2):
        return _error(f"makes features of one number (x) or two (x1, x2) per sample, and gets {numbers}")
    if numbers == 1:
        for name in ("x2", "x2_squared", "x1_times_x2", "sin_x2"):
            if params[name]:
                return _error(f"{name} uses x2, but each sample has one number (x): switch it off",
                              SetParam("", name, False))
    if not any(params[name] for name, _ in FEATURES):
        return _error("every feature is switched off: switch on at least one", SetParam("", "x1", True))
    return []


@rule("Normalize")
def _statistics_fit(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    """One value for everything, or one per channel (per feature for a vector)."""
    shape = xs[0].shape
    if not shape:
        return _error("needs at least one axis besides the batch axis to normalise")
    channels = shape[0]
    for name in ("mean", "std"):
        count = len(params[name])
        if count not in (1, channels):
            what = ("channel" if len(shape) > 1 else "feature") + ("s" if channels != 1 else "")
            return _error(f"{name} holds {count} values but its {format_shape(shape)} input has {channels} {what}: "
                          f"give one value or {channels}", SetParam("", name, [params[name][0]]))
    return []


@rule("Add", "Multiply")
def _broadcastable(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    try:
        torch.broadcast_shapes(*(x.shape for x in xs))
    except RuntimeError:
        shapes = " and ".join(format_shape(x.shape) for x in xs)
        return _error(f"its inputs have shapes {shapes}, which do not match")
    return []


@rule("Concat")
def _concat_fits(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    rank = len(xs[0].shape)
    if any(len(x.shape) != rank for x in xs):
        return _error("its inputs have different numbers of axes: "
                      + ", ".join(format_shape(x.shape) for x in xs))
    if not -rank - 1 <= params["dim"] <= rank:
        return _error(f"dim={params['dim']} is not an axis of its {rank + 1}-D batches (the batch axis is 0)")
    axis = params["dim"] % (rank + 1) - 1   # an axis of one sample
    if axis < 0:
        return _error("cannot join along the batch axis (dim=0); use 1 for channels", SetParam("", "dim", 1))
    others = {tuple(s for i, s in enumerate(x.shape) if i != axis) for x in xs}
    if len(others) > 1:
        return _error(f"its inputs must match on every axis but dim={params['dim']}; they are "
                      + ", ".join(format_shape(x.shape) for x in xs))
    if any(x.dtype != xs[0].dtype for x in xs):
        return _error("its inputs mix integer and float data")
    return []


@rule("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer")
def _heads_divide(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    heads: int = params.get("num_heads", params.get("nhead")) or 1
    features = xs[0].shape[-1]
    if features % heads:
        name = "num_heads" if "num_heads" in params else "nhead"
        good = max(h for h in range(1, heads + 1) if features % h == 0)
        return _error(f"{name}={heads} must divide its {features} features", SetParam("", name, good))
    return []


@rule("TransformerDecoderLayer")
def _memory_fits(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    if len(xs) < 2:
        return []
    target, memory = xs[0], xs[1]
    if len(memory.shape) != 2 or memory.shape[-1] != target.shape[-1]:
        return _error(f"its memory must be a sequence of {target.shape[-1]} features like its input "
                      f"({format_shape(target.shape)}), but it is {format_shape(memory.shape)}")
    return []


@rule("GroupNorm")
def _groups_fit(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    channels = xs[0].shape[0]
    if channels % params["num_groups"]:
        good = math.gcd(channels, params["num_groups"])
        return _error(f"num_groups={params['num_groups']} must divide its {channels} channels",
                      SetParam("", "num_groups", good))
    return []


@rule("PReLU")
def _prelu_channels(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    n = params["num_parameters"]
    channels = xs[0].shape[0] if len(xs[0].shape) > 1 else xs[0].shape[-1]
    if n not in (1, channels):
        return _error(f"num_parameters must be 1 or its {channels} channels, not {n}", SetParam("", "num_parameters", 1))
    return []


@rule("Reshape")
def _reshape_count(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    total = math.prod(xs[0].shape)
    known = math.prod(s for s in params["shape"] if s != -1)
    if -1 in params["shape"]:
        if total % known:
            return _error(f"cannot reshape {format_shape(xs[0].shape)} ({total} values) into "
                          f"{format_shape(params['shape'])}: {total} is not a multiple of {known}")
    elif known != total:
        return _error(f"cannot reshape {format_shape(xs[0].shape)} ({total} values) into "
                      f"{format_shape(params['shape'])} ({known} values)")
    return []


@rule("Permute")
def _permutation(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    rank = len(xs[0].shape)
    if sorted(params["dims"]) != list(range(rank)):
        return _error(f"dims {params['dims']} must order the {rank} axes of its "
                      f"{format_shape(xs[0].shape)} input: each of 0..{rank - 1} once")
    return []


@rule("Flatten", "Softmax", "LogSoftmax")
def _axes_exist(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    rank = len(xs[0].shape) + 1   # the batch axis counts here, as in torch
    for name in ("dim", "start_dim", "end_dim"):
        if name in params and not -rank <= params[name] < rank:
            return _error(f"{name}={params[name]} is not an axis of its {rank}-D batch "
                          f"(batch x {format_shape(xs[0].shape)})")
    if "start_dim" in params and params["start_dim"] % rank == 0:
        return _error("start_dim=0 would merge samples of the batch; use 1", SetParam("", "start_dim", 1))
    if "dim" in params and params["dim"] % rank == 0:
        return [Finding(WARNING, "dim=0 normalises across the samples of a batch; you most likely want -1",
                        SetParam("", "dim", -1))]
    return []


@rule("Embedding")
def _padding_index(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    if params["padding_idx"] is not None and params["padding_idx"] >= params["num_embeddings"]:
        return _error(f"padding_idx={params['padding_idx']} is not a token of its vocabulary of "
                      f"{params['num_embeddings']}")
    return []


# Operations torch runs on numbers only: given true/false values they fail in the real forward,
# while meta tensors let them through (tests/engine/test_check.py runs every operation to keep
# this set true).
_NUMBERS_ONLY = frozenset({
    "pow", "matmul", "abs", "lerp", "std", "var", "argmax", "relu", "gelu", "silu", "mish", "hardswish", "hardsigmoid",
    "softplus", "softmax", "glu", "local_response_norm", "adaptive_max_pool2d", "avg_pool2d", "max_pool2d",
    "addcmul", "rand_like", "avg_pool3d", "max_pool3d",
})


@rule("Function")
def _numbers_only(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    if params["op"] in _NUMBERS_ONLY and any(x.dtype == "bool" for x in xs):
        return _error(f"{params['op']} computes on numbers but gets true/false values (the result of a comparison): "
                      "turn them into numbers first (a Function node calling float)")
    return []


@rule("Function")
def _window_of_channels(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    """local_response_norm pads its input by ``size`` channels and averages over them: meta tensors
    pass any size, the real call allocates ``size`` times the input (a size of 2^31: a terabyte)."""
    if params["op"] != "local_response_norm":
        return []
    args, kwargs = params["args"], params["kwargs"]
    size = args[1] if len(args) > 1 else kwargs.get("size")
    largest = CATALOG["LocalResponseNorm"].param("size").maximum
    if isinstance(size, int) and not isinstance(size, bool) and largest is not None and not 1 <= size <= largest:
        return _error(f"local_response_norm's size must be 1 to {largest:,} neighbouring channels, not {size:,}")
    return []


@rule("RNN", "LSTM", "GRU")
def _dropout_needs_layers(params: dict, xs: list[TensorInfo]) -> list[Finding]:
    if params["dropout"] > 0 and params["num_layers"] == 1:
        return [Finding(WARNING, "dropout acts only between stacked layers and has no effect with "
                        "num_layers=1", SetParam("", "dropout", 0.0))]
    return []

"""How the export tracer maps ATen operations to whitelisted Function operations.

An ATen step names its arguments by its schema (``aten::layer_norm(Tensor input, SymInt[]
normalized_shape, Tensor? weight, ...)``); the whitelisted call may order or name them otherwise
(``F.embedding(input, weight)`` against ``aten::embedding(weight, indices)``). Each entry says
which schema arguments the call takes by position and which by name; every other argument must
have its default value (or be one that changes nothing, such as ``cudnn_enable``), else the step
is refused with the argument named, so nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import fx


@dataclass(frozen=True)
class Call:
    op: str                          # the whitelisted operation
    args: tuple[str, ...]            # schema arguments passed by position, in order
    keywords: tuple[str, ...] = ()   # schema arguments passed by name where they are not their default


def _same(op: str, *args: str, keywords: tuple[str, ...] = ()) -> Call:
    return Call(op, args, keywords)


_UNARY = ("neg", "abs", "exp", "log", "sqrt", "rsqrt", "reciprocal", "sin", "cos", "erf", "sign", "tanh", "sigmoid",
          "relu", "silu", "hardswish", "hardsigmoid", "mish", "bitwise_not", "logsigmoid")
_BINARY = ("add", "sub", "mul", "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "bitwise_and",
           "bitwise_or")

# Keyed by ATen name, or name.overload where the overloads differ.
CALLS: dict[str, Call] = {
    **{name: _same(name, "self") for name in _UNARY},
    **{name: _same(name, "self", "other") for name in _BINARY},
    "div.Tensor": _same("truediv", "self", "other"), "div.Scalar": _same("truediv", "self", "other"),
    "floor_divide": _same("floordiv", "self", "other"),
    "__and__": _same("bitwise_and", "self", "other"), "__or__": _same("bitwise_or", "self", "other"),
    "min.other": _same("minimum", "self", "other"), "max.other": _same("maximum", "self", "other"),
    "pow": _same("pow", "self", "exponent"),
    "matmul": _same("matmul", "self", "other"), "bmm": _same("bmm", "self", "mat2"), "mm": _same("matmul", "self", "mat2"),
    "gelu": _same("gelu", "self", keywords=("approximate",)),
    "leaky_relu": _same("leaky_relu", "self", "negative_slope"), "elu": _same("elu", "self", "alpha"),
    "hardtanh": _same("hardtanh", "self", "min_val", "max_val"), "relu6": _same("relu6", "self"),
    "softplus": _same("softplus", "self", "beta", "threshold"), "glu": _same("glu", "self", "dim"),
    "softmax": _same("softmax", "self", "dim"), "log_softmax": _same("log_softmax", "self", "dim"),
    "clamp": _same("clamp", "self", keywords=("min", "max")), "clamp_min": _same("clamp", "self", keywords=("min",)),
    "clamp_max": _same("clamp", "self", keywords=("max",)),
    "where": _same("where", "condition", "self", "other"),
    "masked_fill": _same("masked_fill", "self", "mask", "value"),
    "linear": _same("linear", "input", "weight", "bias"),
    "conv1d": _same("conv1d", "input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "conv2d": _same("conv2d", "input", "weight", "bias", "stride", "padding", "dilation", "groups"),
    "_weight_norm": _same("weight_norm", "v", "g", "dim"),
    "layer_norm": _same("layer_norm", "input", "normalized_shape", "weight", "bias", "eps"),
    "group_norm": _same("group_norm", "input", "num_groups", "weight", "bias", "eps"),
    "scaled_dot_product_attention": _same("scaled_dot_product_attention", "query", "key", "value",
                                          keywords=("attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")),
    "view": _same("view", "self", "size"), "_unsafe_view": _same("reshape", "self", "size"),
    "reshape": _same("reshape", "self", "shape"),
    "transpose": _same("transpose", "self", "dim0", "dim1"), "permute": _same("permute", "self", "dims"),
    "unsqueeze": _same("unsqueeze", "self", "dim"), "squeeze.default": _same("squeeze", "self"),
    "squeeze": _same("squeeze", "self", "dim"), "flatten": _same("flatten", "self", "start_dim", "end_dim"),
    "unflatten": _same("unflatten", "self", "dim", "sizes"), "expand": _same("expand", "self", "size"),
    "repeat": _same("repeat", "self", "repeats"), "narrow": _same("narrow", "self", "dim", "start", "length"),
    "select": _same("select", "self", "dim", "index"), "gather": _same("gather", "self", "dim", "index"),
    "flip": _same("flip", "self", "dims"),
    "roll": _same("roll", "self", "shifts", "dims"), "chunk": _same("chunk", "self", "chunks", "dim"),
    "split.Tensor": _same("split", "self", "split_size", "dim"),
    "split_with_sizes": _same("split", "self", "split_sizes", "dim"), "unbind": _same("unbind", "self", "dim"),
    "cat": _same("cat", "tensors", "dim"), "stack": _same("stack", "tensors", "dim"),
    "tril": _same("tril", "self", "diagonal"), "triu": _same("triu", "self", "diagonal"),
    "movedim": _same("movedim", "self", "source", "destination"),
    "constant_pad_nd": _same("pad", "self", "pad", keywords=("value",)),
    "pad": _same("pad", "self", "pad", "mode", keywords=("value",)),
    "mean.default": _same("mean", "self"), "sum.default": _same("sum", "self"),
    "mean": _same("mean", "self", "dim", "keepdim"), "sum": _same("sum", "self", "dim", "keepdim"),
    "amax": _same("amax", "self", "dim", "keepdim"), "amin": _same("amin", "self", "dim", "keepdim"),
    "var": _same("var", "self", "dim", keywords=("correction", "keepdim")),
    "std": _same("std", "self", "dim", keywords=("correction", "keepdim")),
    "logsumexp": _same("logsumexp", "self", "dim", "keepdim"), "cumsum": _same("cumsum", "self", "dim"),
    "argmax": _same("argmax", "self", "dim", "keepdim"), "prod": _same("prod", "self", "dim", "keepdim"),
    "max_pool1d": _same("max_pool1d", "self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "max_pool2d": _same("max_pool2d", "self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"),
    "avg_pool1d": _same("avg_pool1d", "self", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"),
    "avg_pool2d": _same("avg_pool2d", "self", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
                        "divisor_override"),
    "adaptive_avg_pool1d": _same("adaptive_avg_pool1d", "self", "output_size"),
    "adaptive_avg_pool2d": _same("adaptive_avg_pool2d", "self", "output_size"),
    "pixel_shuffle": _same("pixel_shuffle", "self", "upscale_factor"),
    "pixel_unshuffle": _same("pixel_unshuffle", "self", "downscale_factor"),
    "channel_shuffle": _same("channel_shuffle", "self", "groups"),
    "type_as": _same("type_as", "self", "other"),
}
# Arguments that change nothing a graph computes (where the tensor lives, how it is laid out).
IGNORED = frozenset({"cudnn_enable", "cudnn_enabled", "implicit", "non_blocking", "pin_memory", "device", "layout",
                     "memory_format", "copy"})
# Steps that hand their input on: a graph's values have no memory layout, no aliases.
PASS_THROUGH = frozenset({"contiguous", "alias", "clone", "lift_fresh_copy", "view_as_real_physical"})
# Conversions: the whitelisted method for each result type.
CONVERSIONS = {torch.float32: "float", torch.int64: "long", torch.int32: "int", torch.bool: "bool"}
CONVERTS = frozenset({"_to_copy", "to", "type_as"})


def call_of(target: Any) -> Call | None:
    packet = getattr(getattr(target, "overloadpacket", None), "__name__", "")
    return CALLS.get(f"{packet}.{getattr(target, '_overloadname', '')}") or CALLS.get(packet)


def schema_args(target: Any, n: fx.Node) -> dict[str, Any]:
    """Every schema argument of an ATen step (calling ``target``) by name, defaults filled in."""
    schema = target._schema
    values: dict[str, Any] = {}
    for i, argument in enumerate(schema.arguments):
        if i < len(n.args) and not argument.kwarg_only:
            values[argument.name] = n.args[i]
        elif argument.name in n.kwargs:
            values[argument.name] = n.kwargs[argument.name]
        elif argument.has_default_value():
            values[argument.name] = argument.default_value
        else:
            values[argument.name] = None
    return values


def defaults(target: Any) -> dict[str, Any]:
    schema = target._schema
    return {a.name: a.default_value for a in schema.arguments if a.has_default_value()}


def unusual(target: Any, call: Call, values: dict[str, Any]) -> str | None:
    """The first argument the call would drop although it is not its default, or None."""
    known = defaults(target)
    for name, value in values.items():
        if name in call.args or name in call.keywords or name in IGNORED:
            continue
        default = known.get(name, None)
        if not _equal(value, default):
            return f"{name}={value!r}"
    return None


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, fx.Node) or isinstance(b, fx.Node):
        return a is b
    return bool(a == b)


def keyword_values(target: Any, call: Call, values: dict[str, Any]) -> dict[str, Any]:
    """The named arguments of the call: those that are not their default."""
    known = defaults(target)
    return {k: values[k] for k in call.keywords if not _equal(values[k], known.get(k))}

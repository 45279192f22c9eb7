"""The operations a ``Function`` node may name, and the literal arguments it may carry.

A Function node is one call of a torch function or tensor method: ``op`` names it, ``args`` and
``kwargs`` hold its arguments as plain JSON. This module is the whitelist: a file naming any
other op is refused when it loads, and the engine maps each name to exactly one torch callable
(``engine.layers.operations``), so nothing in a file is ever evaluated or looked up by name in Python.

Arguments are literals (numbers, strings, booleans, null, lists) and four tagged objects:

- ``{"tensor": i}``: the tensor on the node's i-th input wire;
- ``{"batch": k}``: k times the batch size (``x.view(x.size(0), -1)`` stores ``{"batch": 1}``);
- ``{"slice": [start, stop, step]}``: ``start:stop:step`` in an index, each part a number or null;
- ``{"ellipsis": true}``: ``...`` in an index.
"""

from __future__ import annotations

import ast
import copy
import math
import re
from typing import Any

from .names import name_problem, shown

# name -> what it does, for the palette's search and the inspector. Grouped as the palette lists them.
OPERATIONS: dict[str, tuple[str, str]] = {}


def _group(group: str, entries: dict[str, str]) -> None:
    for name, doc in entries.items():
        OPERATIONS[name] = (group, doc)


_group("Arithmetic", {
    "add": "a + b (tensors or a tensor and a number)",
    "sub": "a - b",
    "mul": "a * b",
    "truediv": "a / b",
    "floordiv": "a // b",
    "pow": "a ** b",
    "neg": "-a",
    "matmul": "a @ b: matrix product",
    "bmm": "batched matrix product of two 3-D tensors",
    "einsum": "Einstein summation, e.g. 'bhqd,bhkd->bhqk'",
    "maximum": "element-wise maximum of two tensors",
    "minimum": "element-wise minimum of two tensors",
    "clamp": "limits values to [min, max]",
    "abs": "absolute value",
    "exp": "e to the power x",
    "log": "natural logarithm",
    "sqrt": "square root",
    "rsqrt": "1 / square root",
    "reciprocal": "1 / x",
    "square": "x * x",
    "sin": "sine",
    "cos": "cosine",
    "erf": "error function",
    "sign": "-1, 0 or 1",
    "lerp": "linear interpolation between two tensors",
    "addcmul": "a + value * b * c, element-wise",
    "eq": "a == b (true or false per element)",
    "ne": "a != b",
    "lt": "a < b",
    "le": "a <= b",
    "gt": "a > b",
    "ge": "a >= b",
    "where": "picks from two tensors by a true/false mask",
    "bitwise_and": "a & b: both true (masks), or the bits of integers",
    "bitwise_or": "a | b: either true (masks), or the bits of integers",
    "bitwise_not": "~a: true where false (masks), or the bits of integers inverted",
    "masked_fill": "sets the elements where a mask is true to a value",
})
_group("Shape", {
    "getitem": "x[index]: literal slices, numbers, ... and None",
    "view": "a new shape over the same values",
    "reshape": "a new shape (copies if it must)",
    "reshape_as": "the shape of another tensor",
    "view_as": "the shape of another tensor, over the same values",
    "permute": "reorders axes",
    "transpose": "swaps two axes",
    "movedim": "moves an axis to a new place",
    "flatten": "joins a range of axes",
    "unflatten": "splits one axis into several",
    "squeeze": "removes an axis of size 1",
    "unsqueeze": "inserts an axis of size 1",
    "expand": "repeats size-1 axes without copying",
    "expand_as": "expands to another tensor's shape",
    "repeat": "tiles the tensor along each axis",
    "contiguous": "the same values, laid out in order",
    "clone": "a copy",
    "narrow": "a slice of one axis",
    "select": "one index of one axis (the axis goes)",
    "gather": "picks values along an axis by an index tensor",
    "flip": "reverses axes",
    "roll": "shifts along axes, wrapping round",
    "chunk": "splits into equal pieces (one output each)",
    "split": "splits into pieces of given sizes (one output each)",
    "unbind": "splits an axis into its slices (one output each)",
    "cat": "joins tensors along an existing axis",
    "stack": "joins tensors along a new axis",
    "tril": "lower triangle",
    "triu": "upper triangle",
    "pad": "pads with a constant, or by reflecting or repeating the edges",
    "interpolate": "resizes images or signals",
    "pixel_shuffle": "moves channels into space (sub-pixel upsampling)",
    "pixel_unshuffle": "moves space into channels",
    "channel_shuffle": "interleaves channel groups (ShuffleNet)",
    "type_as": "converts to another tensor's type",
    "zeros_like": "zeros of the same shape",
    "ones_like": "ones of the same shape",
    "new_zeros": "zeros of a given shape, of the tensor's type",
    "new_ones": "ones of a given shape, of the tensor's type",
    "randn_like": "normal noise of the same shape (random while training and evaluating)",
    "rand_like": "uniform noise in [0, 1) of the same shape",
    "float": "converts to float32",
    "long": "converts to int64 (token ids, indices)",
    "int": "converts to int32",
    "bool": "converts to true/false (masks)",
})
_group("Reduction", {
    "mean": "mean over axes",
    "sum": "sum over axes",
    "prod": "product over axes",
    "amax": "maximum over axes",
    "amin": "minimum over axes",
    "std": "standard deviation over axes",
    "var": "variance over axes",
    "logsumexp": "log of the sum of exponentials over axes",
    "norm": "vector norm over axes",
    "cumsum": "running sum along an axis",
    "argmax": "index of the maximum along an axis",
})
_group("Activation", {
    "relu": "max(0, x)",
    "relu6": "min(max(0, x), 6)",
    "leaky_relu": "x, or a small slope times x below zero",
    "elu": "exponential linear unit",
    "gelu": "Gaussian error linear unit",
    "silu": "x * sigmoid(x)",
    "mish": "x * tanh(softplus(x))",
    "hardswish": "x * relu6(x + 3) / 6 (MobileNetV3)",
    "hardsigmoid": "relu6(x + 3) / 6",
    "hardtanh": "clamps to [-1, 1]",
    "softplus": "log(1 + exp(x))",
    "sigmoid": "1 / (1 + exp(-x))",
    "logsigmoid": "log(sigmoid(x))",
    "tanh": "hyperbolic tangent",
    "softmax": "probabilities along an axis",
    "log_softmax": "log of softmax",
    "glu": "gated linear unit: one half gates the other",
})
_group("Layer", {
    "linear": "x W^T + b, with the weights on input wires",
    "conv1d": "1-D convolution, with the weights on input wires",
    "conv2d": "2-D convolution, with the weights on input wires",
    "conv3d": "3-D convolution, with the weights on input wires",
    "layer_norm": "normalises over the last axes",
    "group_norm": "normalises groups of channels",
    "batch_norm": "normalises with given running statistics",
    "normalize": "divides by the vector norm along an axis",
    "weight_norm": "v scaled to the norm g along all axes but one (weight normalisation's weight)",
    "local_response_norm": "normalises across neighbouring channels",
    "scaled_dot_product_attention": "softmax(q k^T / sqrt(d)) v, fused",
    "dropout": "zeroes random elements while training",
    "embedding": "looks up rows of a weight tensor",
    "adaptive_avg_pool1d": "average pooling to a fixed length",
    "adaptive_avg_pool2d": "average pooling to a fixed size",
    "adaptive_max_pool2d": "maximum pooling to a fixed size",
    "avg_pool1d": "average over sliding windows of a signal",
    "avg_pool2d": "average over sliding windows of an image",
    "max_pool1d": "maximum over sliding windows of a signal",
    "max_pool2d": "maximum over sliding windows of an image",
    "avg_pool3d": "average over sliding windows of a volume",
    "max_pool3d": "maximum over sliding windows of a volume",
    "adaptive_avg_pool3d": "average pooling of a volume to a fixed size",
})

TAGS = ("tensor", "batch", "slice", "ellipsis")
MAX_ITEMS = 512          # every value an argument list holds, nested ones included
MAX_DEPTH = 6
MAX_TEXT = 200
MAX_WIRES = 64           # tensor inputs of one Function node
MAX_NAME = 40            # characters of an argument name


PALETTE_PREFIX = "Function:"       # a palette entry that places a Function node calling this operation
_BINARY = {"add", "sub", "mul", "truediv", "floordiv", "pow", "matmul", "bmm", "maximum", "minimum", "eq", "ne",
           "lt", "le", "gt", "ge", "expand_as", "type_as", "bitwise_and", "bitwise_or", "reshape_as", "view_as"}
_EXAMPLE_ARGS: dict[str, list] = {
    "getitem": [{"tensor": 0}, [{"slice": [None, None, None]}, 0]], "view": [{"tensor": 0}, {"batch": 1}, -1],
    "reshape": [{"tensor": 0}, {"batch": 1}, -1], "permute": [{"tensor": 0}, [0, 2, 1]],
    "transpose": [{"tensor": 0}, 1, 2], "movedim": [{"tensor": 0}, 1, -1], "unflatten": [{"tensor": 0}, 1, [2, -1]],
    "squeeze": [{"tensor": 0}, 1], "unsqueeze": [{"tensor": 0}, 1], "expand": [{"tensor": 0}, {"batch": 1}, -1],
    "repeat": [{"tensor": 0}, 1, 2], "narrow": [{"tensor": 0}, 1, 0, 1], "select": [{"tensor": 0}, 1, 0],
    "flip": [{"tensor": 0}, [1]], "gather": [{"tensor": 0}, 1, {"tensor": 1}], "roll": [{"tensor": 0}, 1, 1],
    "chunk": [{"tensor": 0}, 2, 1],
    "split": [{"tensor": 0}, 1, 1], "unbind": [{"tensor": 0}, 1], "cat": [[{"tensor": 0}, {"tensor": 1}], 1],
    "stack": [[{"tensor": 0}, {"tensor": 1}], 1], "einsum": ["bi,bi->b", {"tensor": 0}, {"tensor": 1}],
    "where": [{"tensor": 0}, {"tensor": 1}, {"tensor": 2}], "masked_fill": [{"tensor": 0}, {"tensor": 1}, 0.0],
    "lerp": [{"tensor": 0}, {"tensor": 1}, 0.5], "pad": [{"tensor": 0}, [1, 1]],
    "interpolate": [{"tensor": 0}], "pixel_shuffle": [{"tensor": 0}, 2], "pixel_unshuffle": [{"tensor": 0}, 2],
    "channel_shuffle": [{"tensor": 0}, 2], "mean": [{"tensor": 0}, -1], "sum": [{"tensor": 0}, -1],
    "prod": [{"tensor": 0}, -1], "amax": [{"tensor": 0}, -1], "amin": [{"tensor": 0}, -1], "std": [{"tensor": 0}, -1],
    "var": [{"tensor": 0}, -1], "logsumexp": [{"tensor": 0}, -1], "norm": [{"tensor": 0}],
    "cumsum": [{"tensor": 0}, -1], "argmax": [{"tensor": 0}, -1], "softmax": [{"tensor": 0}, -1],
    "log_softmax": [{"tensor": 0}, -1], "glu": [{"tensor": 0}, -1], "clamp": [{"tensor": 0}, 0.0, 1.0],
    "layer_norm": [{"tensor": 0}, [8]], "normalize": [{"tensor": 0}], "local_response_norm": [{"tensor": 0}, 2],
    "scaled_dot_product_attention": [{"tensor": 0}, {"tensor": 1}, {"tensor": 2}],
    "adaptive_avg_pool1d": [{"tensor": 0}, 1], "adaptive_avg_pool2d": [{"tensor": 0}, 1],
    "adaptive_max_pool2d": [{"tensor": 0}, 1], "avg_pool1d": [{"tensor": 0}, 2], "avg_pool2d": [{"tensor": 0}, 2],
    "max_pool1d": [{"tensor": 0}, 2], "max_pool2d": [{"tensor": 0}, 2],
    "linear": [{"tensor": 0}, {"tensor": 1}], "weight_norm": [{"tensor": 0}, {"tensor": 1}, 0],
    "conv1d": [{"tensor": 0}, {"tensor": 1}],
    "conv2d": [{"tensor": 0}, {"tensor": 1}], "embedding": [{"tensor": 0}, {"tensor": 1}],
    "group_norm": [{"tensor": 0}, 1], "batch_norm": [{"tensor": 0}, {"tensor": 1}, {"tensor": 2}],
    "addcmul": [{"tensor": 0}, {"tensor": 1}, {"tensor": 2}], "new_zeros": [{"tensor": 0}, [{"batch": 1}, 4]],
    "new_ones": [{"tensor": 0}, [{"batch": 1}, 4]], "conv3d": [{"tensor": 0}, {"tensor": 1}],
    "avg_pool3d": [{"tensor": 0}, 2], "max_pool3d": [{"tensor": 0}, 2], "adaptive_avg_pool3d": [{"tensor": 0}, 1],
}


def example_args(op: str) -> list:
    """Arguments a newly placed Function node starts with: the wires the operation takes and
    typical settings (softmax over the last axis), for the person to change in the inspector."""
    if op in _EXAMPLE_ARGS:
        return copy.deepcopy(_EXAMPLE_ARGS[op])      # the node's own: nothing shared with this table
    return [{"tensor": 0}, {"tensor": 1}] if op in _BINARY else [{"tensor": 0}]


def operation_problem(name: Any) -> str | None:
    """Why ``name`` is not an operation a Function node may name, or None."""
    if isinstance(name, str) and name in OPERATIONS:
        return None
    shown = repr(name)[:60] if isinstance(name, str) else "a " + type(name).__name__
    return f"{shown} is not one of the {len(OPERATIONS)} operations a Function node may name (see the palette)"


def arguments_problem(value: Any, keyword: bool) -> str | None:
    """Why ``value`` cannot be a Function node's ``args`` (a list) or ``kwargs`` (an object of
    named values), or None. Iterative with bounded size, so that a hostile file costs nothing."""
    if keyword:
        if not isinstance(value, dict):
            return "must be an object of named arguments"
        bad = next((k for k in value if len(k) > MAX_NAME or name_problem(k, "argument name")), None)
        if bad is not None:
            return f"has an argument name {shown(bad)} that is not a Python name (at most {MAX_NAME} characters)"
        items: list[tuple[Any, int]] = [(v, 1) for v in value.values()]
    else:
        if not isinstance(value, list):
            return "must be a list of arguments"
        items = [(v, 1) for v in value]
    count = 0
    while items:
        item, depth = items.pop()
        count += 1
        if count > MAX_ITEMS:
            return f"holds more than {MAX_ITEMS} values"
        if depth > MAX_DEPTH:
            return f"nests more than {MAX_DEPTH} levels deep"
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, int):
            if abs(item) > 2**63 - 1:
                return "holds a number too large for a tensor size"
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "holds a number that is not finite"
        elif isinstance(item, str):
            if len(item) > MAX_TEXT:
                return f"holds a text longer than {MAX_TEXT} characters"
        elif isinstance(item, list):
            items.extend((v, depth + 1) for v in item)
        elif isinstance(item, dict):
            problem = _tag_problem(item)
            if problem:
                return problem
        else:
            return f"holds a {type(item).__name__}"
    return None


def _tag_problem(item: dict) -> str | None:
    if len(item) != 1 or next(iter(item)) not in TAGS:
        keys = ", ".join(repr(k)[:20] for k in list(item)[:3])
        return f"holds an object ({keys}) that is not one of {', '.join(TAGS)}"
    tag, inner = next(iter(item.items()))
    if tag == "tensor":
        if isinstance(inner, bool) or not isinstance(inner, int) or not 0 <= inner < MAX_WIRES:
            return f"names input wire {inner!r:.20}, not a number from 0 to {MAX_WIRES - 1}"
    elif tag == "batch":
        if isinstance(inner, bool) or not isinstance(inner, int) or not 1 <= inner <= 1 << 20:
            return f"multiplies the batch size by {inner!r:.20}, not a whole number from 1 to {1 << 20}"
    elif tag == "slice":
        if not isinstance(inner, list) or len(inner) != 3 or not all(
                v is None or (isinstance(v, int) and not isinstance(v, bool) and abs(v) <= 2**63 - 1)
                or (isinstance(v, dict) and _tag_problem(v) is None and "batch" in v) for v in inner):
            return "holds a slice that is not [start, stop, step] of numbers or null"
    elif inner is not True:
        return "holds an ellipsis that is not {\"ellipsis\": true}"
    return None


def call_text(op: str, args: list, kwargs: dict, limit: int = 60) -> str:
    """The call as a person reads it, for labels: ``view(batch, 3, 64, -1)``, ``x0[:, 0]``."""
    parts = [_text(a) for a in args] + [f"{k}={_text(v)}" for k, v in kwargs.items()]
    if op == "getitem" and len(args) == 2:
        index = args[1] if isinstance(args[1], list) else [args[1]]
        text = f"{_text(args[0])}[{', '.join(_text(i) for i in index)}]"
    else:
        text = f"{op}({', '.join(parts)})"
    return text if len(text) <= limit else text[:limit - 1] + "…"


def arguments_text(value: Any, keyword: bool) -> str:
    """A Function node's ``args`` or ``kwargs`` as the person types them: ``x0, [2, 3]`` and
    ``keepdim=True``; slices are written ``slice(start, stop, step)`` and ``...`` as itself."""
    if keyword:
        return ", ".join(f"{k}={_typed(v)}" for k, v in value.items())
    return ", ".join(_typed(v) for v in value)


def _typed(value: Any) -> str:
    if isinstance(value, dict) and "slice" in value:
        return "slice(" + ", ".join(_typed(v) for v in value["slice"]) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(_typed(v) for v in value) + "]"
    return _text(value)


def parse_arguments(text: str, keyword: bool) -> Any:
    """What ``arguments_text`` wrote, read back without evaluating anything: the text is parsed as
    the arguments of a call, and only literals, x0 x1 ... (wires), batch (the batch size, or
    k*batch), ``...`` and ``slice(...)`` are taken. ValueError says what is not."""
    if len(text) > MAX_ITEMS * 8:
        raise ValueError("is too long")
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValueError("is not a list of arguments, e.g. x0, [2, 3], keepdim=True") from None
    assert isinstance(call, ast.Call)
    if keyword:
        if call.args or any(k.arg is None for k in call.keywords):
            raise ValueError("takes only named arguments, e.g. keepdim=True")
        return {k.arg: _literal(k.value, 0) for k in call.keywords}
    if call.keywords:
        raise ValueError("takes positional arguments only; named ones go in kwargs")
    return [_literal(a, 0) for a in call.args]


def _literal(node: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise ValueError(f"nests more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant) and (node.value is None or node.value is Ellipsis
                                           or isinstance(node.value, (bool, int, float, str))):
        return {"ellipsis": True} if node.value is Ellipsis else node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(v, depth + 1) for v in node.elts]
    if isinstance(node, ast.Name):
        if re.fullmatch(r"x\d{1,2}", node.id):
            return {"tensor": int(node.id[1:])}
        if node.id == "batch":
            return {"batch": 1}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and isinstance(node.right, ast.Name) \
            and node.right.id == "batch" and isinstance(node.left, ast.Constant) and type(node.left.value) is int:
        return {"batch": node.left.value}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "slice" \
            and not node.keywords and len(node.args) <= 3:
        parts = [_literal(a, depth + 1) for a in node.args]
        return {"slice": (parts + [None, None, None])[:3] if len(parts) > 1 else [None, parts[0] if parts else None, None]}
    raise ValueError("takes only numbers, text, True/False/None, lists, x0 x1 ... for wires, batch, ... and slice()")


def _text(value: Any) -> str:
    if isinstance(value, dict):
        tag, inner = next(iter(value.items()))
        if tag == "tensor":
            return f"x{inner}"
        if tag == "batch":
            return "batch" if inner == 1 else f"{inner}*batch"
        if tag == "ellipsis":
            return "..."
        start, stop, step = (("" if v is None else _text(v)) for v in inner)
        return f"{start}:{stop}" + (f":{step}" if step else "")
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return "None" if value is None else str(value)

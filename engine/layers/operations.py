"""What each whitelisted operation (``graphs.operations``) calls in torch, and how a Function
node's literal arguments become real ones.

Every name maps to one fixed callable here: a file supplies only the name and plain data, so a
Function node can compute nothing that this table does not hold.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from graphs.operations import OPERATIONS


@dataclass(frozen=True)
class Operation:
    """A function (called with the tensors among its arguments) or a tensor method (called on
    its first argument, which must be a tensor)."""
    function: Callable | None = None
    method: str | None = None


def _functions(module: Any, *names: str) -> dict[str, Operation]:
    return {name: Operation(function=getattr(module, name)) for name in names}


def _methods(*names: str) -> dict[str, Operation]:
    return {name: Operation(method=name) for name in names}


TABLE: dict[str, Operation] = {
    # operator's functions print as Python operators in generated code: a + b, x[:, 0]
    **_functions(operator, "add", "sub", "mul", "truediv", "floordiv", "pow", "neg", "matmul", "getitem",
                 "eq", "ne", "lt", "le", "gt", "ge"),
    **_functions(torch, "bmm", "einsum", "maximum", "minimum", "clamp", "abs", "exp", "log", "sqrt", "rsqrt",
                 "reciprocal", "square", "sin", "cos", "erf", "sign", "lerp", "where", "bitwise_and", "bitwise_or",
                 "bitwise_not", "cat", "stack", "tril",
                 "triu", "flatten", "permute", "transpose", "movedim", "unflatten", "squeeze", "unsqueeze", "narrow",
                 "select", "gather", "flip", "roll", "chunk", "split", "unbind", "channel_shuffle", "pixel_shuffle",
                 "pixel_unshuffle", "mean", "sum", "prod", "amax", "amin", "std", "var", "logsumexp", "norm",
                 "cumsum", "argmax", "sigmoid", "tanh", "relu", "addcmul", "zeros_like", "ones_like", "randn_like",
                 "rand_like"),
    # torch.nn.utils.parametrizations.weight_norm's own computation (a weight from its direction and norm)
    "weight_norm": Operation(function=torch._weight_norm),
    **_methods("view", "reshape", "expand", "expand_as", "repeat", "contiguous", "clone", "masked_fill", "type_as",
               "float", "long", "int", "bool", "reshape_as", "view_as", "new_zeros", "new_ones"),
    **_functions(F, "relu6", "leaky_relu", "elu", "gelu", "silu", "mish", "hardswish", "hardsigmoid", "hardtanh",
                 "softplus", "logsigmoid", "softmax", "log_softmax", "glu", "linear", "conv1d", "conv2d", "layer_norm",
                 "group_norm", "batch_norm", "normalize", "local_response_norm", "scaled_dot_product_attention",
                 "dropout", "embedding", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool2d",
                 "avg_pool1d", "avg_pool2d", "max_pool1d", "max_pool2d", "pad", "interpolate", "conv3d", "avg_pool3d",
                 "max_pool3d", "adaptive_avg_pool3d"),
}

assert set(TABLE) == set(OPERATIONS), set(TABLE) ^ set(OPERATIONS)


class ArgumentError(ValueError):
    """A Function node's arguments do not fit its wires; the message is for the person."""


def resolve(value: Any, tensors: list[Any], batch: Callable[[int], Any]) -> Any:
    """A literal argument as the value torch takes: wires by number, ``batch`` as the batch size
    (``batch(k)`` gives k times it), slices and ``...``; lists become tuples, as torch's index and
    size arguments are written."""
    if isinstance(value, list):
        return tuple(resolve(v, tensors, batch) for v in value)
    if isinstance(value, dict):
        tag, inner = next(iter(value.items()))
        if tag == "tensor":
            if inner >= len(tensors):
                raise ArgumentError(f"uses x{inner}, but only {len(tensors)} wire(s) come in")
            return tensors[inner]
        if tag == "batch":
            return batch(inner)
        if tag == "ellipsis":
            return Ellipsis
        return slice(*(resolve(v, tensors, batch) for v in inner))
    return value


def operation(name: str) -> Operation:
    return TABLE[name]

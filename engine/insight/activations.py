"""An activation function and its derivative over a range, for the inspector's plot.

The values come from the layer itself (the module or function the compiler uses, with the
node's parameters), and the derivative from autograd, so the plot shows what training uses:
ReLU's slope is 0 at 0, as torch takes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from graphs import CATALOG, ParamError

from ..layers import EagerOps, TensorInfo, build_module, emit_node
from .layer_values import InsightError

VECTOR_FUNCTIONS = ("Softmax", "LogSoftmax")     # functions of a whole vector, not of one number
ACTIVATIONS = tuple(s.type for s in CATALOG.values() if s.category == "Activation" and s.type not in VECTOR_FUNCTIONS)
MAX_POINTS = 10_000

# The derivatives the notes write out, for the plot's legend.
DERIVATIVES = {
    "Sigmoid": "σ'(x) = σ(x)·(1 − σ(x)), at most 1/4 (at 0)",
    "Tanh": "tanh'(x) = 1 − tanh²(x), at most 1 (at 0)",
    "ReLU": "ReLU'(x) = 1 for x > 0, 0 for x < 0 (torch takes 0 at 0)",
    "LeakyReLU": "LeakyReLU'(x) = 1 for x > 0, the negative slope below",
    "ELU": "ELU'(x) = 1 for x > 0, α·eˣ below",
}


@dataclass(frozen=True)
class ActivationCurve:
    layer_type: str
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)        # f(x)
    slope: np.ndarray = field(repr=False)    # f'(x)
    formula: str = ""                        # the catalog's description: "max(0, x)"
    derivative: str = ""                     # the derivative in words, where the notes give it


def activation_curve(layer_type: str, params: dict[str, Any] | None = None, low: float = -5.0, high: float = 5.0,
                     points: int = 201, module: torch.nn.Module | None = None) -> ActivationCurve:
    """``f(x)`` and ``f'(x)`` of an activation layer on ``points`` values from ``low`` to ``high``.
    ``params`` are the node's (defaults for the rest); ``module``: a trained layer to use instead
    (a PReLU's learned slope)."""
    if layer_type not in ACTIVATIONS:
        why = " (a function of a whole vector: each output depends on every input)" if layer_type in VECTOR_FUNCTIONS else ""
        raise InsightError(f"{layer_type} is not an activation of one number{why}; these are: {', '.join(ACTIVATIONS)}")
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise InsightError(f"the range must go from a smaller to a larger finite number, not {low} to {high}")
    if not 2 <= points <= MAX_POINTS:
        raise InsightError(f"points must be between 2 and {MAX_POINTS}, not {points}")
    spec = CATALOG[layer_type]
    settings = spec.defaults()
    for name, value in (params or {}).items():
        try:
            settings[name] = spec.param(name).validate(value)
        except KeyError:
            raise InsightError(f"{layer_type} has no parameter {name!r}") from None
        except ParamError as err:
            raise InsightError(f"{layer_type}: {err}") from None
    x = torch.linspace(low, high, points, dtype=torch.float64)
    layer = module if module is not None else build_module(layer_type, settings, {"in": [TensorInfo((1,))]})
    if layer is not None:
        layer = layer.double()
    channels = int(getattr(layer, "num_parameters", 1)) if layer_type == "PReLU" else 1   # one slope per channel
    x_in = x[:, None].expand(points, channels).clone().requires_grad_(True)             # the plot shows channel 0
    with torch.enable_grad():
        y = emit_node(EagerOps({"act": layer}), layer_type, "act", settings, {"in": [x_in]})["out"]
        y.sum().backward()
    assert x_in.grad is not None
    return ActivationCurve(layer_type, x.numpy(), y.detach()[:, 0].numpy(), x_in.grad[:, 0].numpy(),
                           spec.description, DERIVATIVES.get(layer_type, ""))

"""How the importer maps traced steps: torch.nn modules to catalog layers (reading each layer's
settings back from the module), activation functions and methods to activation layers, and
other spellings of whitelisted operations (``torch.add``, ``x.div(y)``) to their names."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import cache
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from ..layers import OPERATIONS


class Refuse(Exception):
    """A step the graph cannot hold; ``final``: because of what the model is (tied weights), so
    another tracer would refuse it too."""

    def __init__(self, message: str = "", final: bool = False) -> None:
        super().__init__(message)
        self.final = final


class Downstream(Refuse):
    """A step that uses one already refused: only the first cause is listed."""


def ints(value: Any) -> int | list[int]:
    if isinstance(value, int):
        return value
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


def need(condition: Any, why: str) -> None:
    if not condition:
        raise Refuse(why)


# ---------------------------------------------------------------------- modules
def _conv(m) -> dict:
    need(m.padding_mode == "zeros", f"padding_mode={m.padding_mode!r} (only zeros)")
    need(not isinstance(m.padding, str) or m.padding in ("valid", "same"), f"padding={m.padding!r}")
    padding = (0 if m.padding == "valid" else m.padding) if isinstance(m.padding, str) else ints(m.padding)
    params = {"out_channels": m.out_channels, "kernel_size": ints(m.kernel_size), "stride": ints(m.stride),
              "padding": padding, "dilation": ints(m.dilation), "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        params["output_padding"] = ints(m.output_padding)
    return params


def _pool(m) -> dict:
    need(ints(getattr(m, "dilation", 1)) == 1, "dilation other than 1")
    need(not getattr(m, "return_indices", False), "return_indices=True")
    need(getattr(m, "divisor_override", None) is None, "divisor_override")
    params = {"kernel_size": ints(m.kernel_size), "stride": ints(m.stride) if m.stride is not None else None,
              "padding": ints(m.padding), "ceil_mode": bool(m.ceil_mode)}
    if isinstance(m, (nn.AvgPool2d, nn.AvgPool3d)):
        params["count_include_pad"] = bool(m.count_include_pad)
    return params


def norm(m) -> dict:
    need(m.momentum is not None, "momentum=None (cumulative averages)")
    need(m.track_running_stats, "track_running_stats=False")
    return {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}


def _recurrent(m) -> dict:
    need(m.batch_first, "batch_first=False: NetLoom's recurrent layers take batch-first sequences")
    need(getattr(m, "proj_size", 0) == 0, "proj_size")
    params = {"hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": m.bias, "dropout": float(m.dropout),
              "bidirectional": m.bidirectional}
    if isinstance(m, nn.RNN):
        params["nonlinearity"] = m.nonlinearity
    return params


def _layer_norm(m) -> dict:
    need(len(m.normalized_shape) == 1, "normalising over more than the last axis")
    need(getattr(m, "bias", True) is not None, "bias=False")
    return {"eps": m.eps, "elementwise_affine": m.elementwise_affine}


def _encoder(m) -> dict:
    need(m.self_attn.batch_first, "batch_first=False")
    activation = getattr(m, "activation", None)
    name = "gelu" if activation in (F.gelu,) or isinstance(activation, nn.GELU) else (
        "relu" if activation in (F.relu,) or isinstance(activation, nn.ReLU) else None)
    need(name is not None, f"activation {activation!r}")
    return {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p,
            "activation": name, "norm_first": m.norm_first}


def _adaptive(m, dims: int) -> dict:
    size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,) * dims
    need(all(isinstance(s, int) for s in size), "an output size of None (keep that axis)")
    return {"output_size": ints(size)}


def _upsample(m) -> dict:
    need(m.size is None and isinstance(m.scale_factor, (int, float)), "a size or per-axis scale factors")
    need(m.mode in ("nearest", "bilinear") and not m.align_corners, f"mode {m.mode!r}")
    return {"scale_factor": float(m.scale_factor), "mode": m.mode}


MODULES: dict[type, tuple[str, Callable[[nn.Module], dict]]] = {
    nn.Linear: ("Linear", lambda m: {"out_features": m.out_features, "bias": m.bias is not None}),
    nn.Conv1d: ("Conv1d", _conv), nn.Conv2d: ("Conv2d", _conv), nn.ConvTranspose2d: ("ConvTranspose2d", _conv),
    nn.MaxPool1d: ("MaxPool1d", _pool), nn.MaxPool2d: ("MaxPool2d", _pool), nn.AvgPool2d: ("AvgPool2d", _pool),
    nn.AdaptiveAvgPool2d: ("AdaptiveAvgPool2d", lambda m: _adaptive(m, 2)),
    nn.Conv3d: ("Conv3d", _conv), nn.ConvTranspose1d: ("ConvTranspose1d", _conv),
    nn.ConvTranspose3d: ("ConvTranspose3d", _conv), nn.MaxPool3d: ("MaxPool3d", _pool), nn.AvgPool3d: ("AvgPool3d", _pool),
    nn.AdaptiveAvgPool1d: ("AdaptiveAvgPool1d", lambda m: _adaptive(m, 1)),
    nn.AdaptiveAvgPool3d: ("AdaptiveAvgPool3d", lambda m: _adaptive(m, 3)),
    nn.BatchNorm1d: ("BatchNorm1d", norm), nn.BatchNorm2d: ("BatchNorm2d", norm), nn.BatchNorm3d: ("BatchNorm3d", norm),
    nn.LayerNorm: ("LayerNorm", _layer_norm),
    nn.GroupNorm: ("GroupNorm", lambda m: {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine}),
    nn.LocalResponseNorm: ("LocalResponseNorm", lambda m: {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}),
    nn.Dropout: ("Dropout", lambda m: {"p": m.p}), nn.Dropout2d: ("Dropout2d", lambda m: {"p": m.p}),
    nn.ReLU: ("ReLU", lambda m: {}), nn.ReLU6: ("ReLU6", lambda m: {}),
    nn.LeakyReLU: ("LeakyReLU", lambda m: {"negative_slope": m.negative_slope}),
    nn.PReLU: ("PReLU", lambda m: {"num_parameters": m.num_parameters, "init": float(m.init)}),  # type: ignore[arg-type]
    nn.ELU: ("ELU", lambda m: {"alpha": m.alpha}), nn.GELU: ("GELU", lambda m: {"approximate": m.approximate}),
    nn.SiLU: ("SiLU", lambda m: {}), nn.Hardswish: ("Hardswish", lambda m: {}),
    nn.Hardsigmoid: ("Hardsigmoid", lambda m: {}), nn.Mish: ("Mish", lambda m: {}),
    nn.Sigmoid: ("Sigmoid", lambda m: {}), nn.Tanh: ("Tanh", lambda m: {}),
    nn.Softmax: ("Softmax", lambda m: {"dim": m.dim if m.dim is not None else -1}),
    nn.LogSoftmax: ("LogSoftmax", lambda m: {"dim": m.dim if m.dim is not None else -1}),
    nn.Identity: ("Identity", lambda m: {}),
    nn.Flatten: ("Flatten", lambda m: {"start_dim": m.start_dim, "end_dim": m.end_dim}),
    nn.Upsample: ("Upsample", _upsample),
    nn.Embedding: ("Embedding", lambda m: {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                                           "padding_idx": m.padding_idx}),
    nn.RNN: ("RNN", _recurrent), nn.LSTM: ("LSTM", _recurrent), nn.GRU: ("GRU", _recurrent),
    nn.MultiheadAttention: ("MultiheadAttention", lambda m: {"num_heads": m.num_heads, "dropout": m.dropout,
                                                             "bias": m.in_proj_bias is not None}),
    nn.TransformerEncoderLayer: ("TransformerEncoderLayer", _encoder),
    nn.TransformerDecoderLayer: ("TransformerDecoderLayer", _encoder),
}

# ---------------------------------------------------------------------- functions and methods
ACTIVATIONS = {F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", torch.sigmoid: "Sigmoid", F.sigmoid: "Sigmoid",
                torch.tanh: "Tanh", F.tanh: "Tanh", F.silu: "SiLU", F.gelu: "GELU", F.elu: "ELU",
                F.leaky_relu: "LeakyReLU", F.softmax: "Softmax", F.log_softmax: "LogSoftmax", torch.softmax: "Softmax",
                F.hardswish: "Hardswish", F.hardsigmoid: "Hardsigmoid", F.mish: "Mish"}
METHOD_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
                       "log_softmax": "LogSoftmax"}
# Other spellings of whitelisted operations (torch.add is a + b; x.div(y) is x / y).
_FUNCTION_ALIASES = {torch.add: "add", torch.sub: "sub", torch.subtract: "sub", torch.mul: "mul",
                     torch.multiply: "mul", torch.div: "truediv", torch.true_divide: "truediv",
                     torch.matmul: "matmul", torch.pow: "pow", torch.neg: "neg", torch.concat: "cat",
                     torch.concatenate: "cat", torch.reshape: "reshape", operator.iadd: "add", operator.isub: "sub",
                     operator.imul: "mul", operator.itruediv: "truediv", operator.ipow: "pow", torch.erf: "erf",
                     F.sigmoid: "sigmoid", F.tanh: "tanh", F.relu: "relu", torch.clip: "clamp", torch.swapaxes: "transpose",
                     torch.swapdims: "transpose"}
_METHOD_ALIASES = {"div": "truediv", "multiply": "mul", "subtract": "sub", "clip": "clamp", "swapaxes": "transpose",
                   "swapdims": "transpose", "concat": "cat", "__getitem__": "getitem"}
VARARGS_METHODS = ("permute", "flip")      # x.permute(0, 2, 1) is torch.permute(x, (0, 2, 1))


def operation_of(n: fx.Node) -> str | None:
    """The whitelisted operation an fx step calls, or None."""
    if n.op == "call_method":
        name = _METHOD_ALIASES.get(str(n.target), str(n.target))
        return name if name in OPERATIONS else None
    for name, op in OPERATIONS.items():
        if op.function is n.target:
            return name
    aliases: dict[Any, str] = _FUNCTION_ALIASES
    return aliases.get(n.target)


def arg(n: fx.Node, index: int, name: str, default: Any = None) -> Any:
    if len(n.args) > index:
        return n.args[index]
    return n.kwargs.get(name, default)


@cache
def optional_modules() -> dict[type, tuple[str, Callable[[nn.Module], dict]]]:
    """Layers of torchvision's and timm's that map to catalog layers, where those are installed."""
    found: dict[type, tuple[str, Callable[[nn.Module], dict]]] = {}
    try:
        from torchvision.ops import StochasticDepth
        found[StochasticDepth] = ("StochasticDepth", lambda m: {"p": float(m.p), "mode": m.mode})  # type: ignore[arg-type]
    except ImportError:
        pass
    try:
        from timm.layers import DropPath
        found[DropPath] = ("StochasticDepth", _drop_path)
    except ImportError:
        pass
    return found


def _drop_path(m) -> dict:
    need(m.scale_by_keep or m.drop_prob == 0.0, "scale_by_keep=False (StochasticDepth scales what it keeps)")
    return {"p": float(m.drop_prob), "mode": "row"}


@cache
def norm_act_modules() -> tuple[type, ...]:
    """timm's BatchNorm with its activation fused in (``BatchNormAct2d``: a BatchNorm2d subclass
    whose ``drop`` and ``act`` run after it): imported as a BatchNorm2d, then its drop and act."""
    try:
        from timm.layers import BatchNormAct2d
    except ImportError:
        return ()
    return (BatchNormAct2d,)


def module_entry(module: nn.Module) -> tuple[str, Callable[[nn.Module], dict]] | None:
    """The catalog layer a module maps to: its class's, or that of the torch layer it subclasses
    without changing the forward (torchvision's ``Conv3DSimple`` is an ``nn.Conv3d``)."""
    kind = type(module)
    extra = optional_modules()
    for base in kind.__mro__:
        entry = MODULES.get(base) or extra.get(base)
        if entry is not None:
            return entry if base is kind or getattr(kind, "forward", None) is getattr(base, "forward", None) else None
    return None


def mapped(module: nn.Module) -> bool:
    """Whether the importer maps this module to catalog layers itself (it is not traced into)."""
    return module_entry(module) is not None or isinstance(module, norm_act_modules())

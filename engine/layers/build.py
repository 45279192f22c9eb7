"""How each catalog type becomes torch: the module it builds and the forward code it emits.

Both shape inference (eager, on ``meta`` tensors) and the compiler (a ``torch.fx`` graph) use
the same ``emit`` functions through the small ``Ops`` interface, so a layer's forward is
written exactly once.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from .modules import OWN_MODULES
from .operations import operation, resolve


@dataclass(frozen=True)
class TensorInfo:
    """What flows on a wire: the shape of one sample (no batch axis) and its dtype.

    ``batch`` is where the batch axis sits in the whole tensor: 0 (first) for every layer's
    output; a general operation may move it (attention heads split off in front of it), and a
    Parameter or Constant has none (None): it is one tensor for the whole batch.

    ``spatial`` says the tensor is laid out as an image or signal, channels first: its axes after
    the first are positions, so a Linear layer on it would mix positions, not features (the
    missing-Flatten mistake). Convolutions, pooling and image inputs make such maps, layers that
    keep the shape keep the mark, and a permute or reshape ends it: a Linear on channels-last
    tokens (ConvNeXt, MaxViT) acts on features, as meant."""
    shape: tuple[int, ...]
    dtype: str = "float32"
    batch: int | None = 0
    spatial: bool = False

    def __str__(self) -> str:
        if self.batch is None:
            return f"{format_shape(self.shape)} (no batch axis)"
        if self.batch != 0:
            sizes = [str(s) for s in self.shape]
            sizes.insert(self.batch, "batch")
            return "x".join(sizes)
        return format_shape(self.shape)

    def whole(self, batch: int) -> tuple[int, ...]:
        """The whole tensor's shape for a batch of ``batch`` samples."""
        if self.batch is None:
            return self.shape
        return (*self.shape[:self.batch], batch, *self.shape[self.batch:])


def format_shape(shape: tuple[int, ...] | list[int]) -> str:
    return "x".join(str(s) for s in shape) if len(shape) else "scalar"


TORCH_DTYPES = {"float32": torch.float32, "int64": torch.int64, "bool": torch.bool}


# ---------------------------------------------------------------------- emitting forward code
class Ops:
    """The three kinds of step a forward is made of."""

    def module(self, target: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def function(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def method(self, name: str, obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def attribute(self, target: str) -> Any:
        """A tensor the network holds itself (a Parameter or Constant node's)."""
        raise NotImplementedError

    def batch(self, times: int = 1) -> Any:
        """The batch size (times ``times``), for reshapes that keep the batch axis."""
        raise NotImplementedError

    def unpack(self, result: Any, count: int) -> list[Any]:
        """The ``count`` tensors a call returned."""
        raise NotImplementedError


class EagerOps(Ops):
    """Runs the steps on real (or meta) tensors."""

    def __init__(self, modules: dict[str, Any], batch_size: int = 1) -> None:
        self.modules = modules
        self.batch_size = batch_size

    def module(self, target, *args, **kwargs):
        return self.modules[target](*args, **kwargs)

    def function(self, fn, *args, **kwargs):
        return fn(*args, **kwargs)

    def method(self, name, obj, *args, **kwargs):
        if not isinstance(obj, torch.Tensor):
            raise TypeError(f".{name}() is a tensor method: its first argument must be an input wire")
        return getattr(obj, name)(*args, **kwargs)

    def attribute(self, target):
        return self.modules[target]

    def batch(self, times=1):
        return self.batch_size * times

    def unpack(self, result, count):
        if not isinstance(result, (tuple, list)) or len(result) != count:
            got = f"{len(result)} tensors" if isinstance(result, (tuple, list)) else "one tensor"
            raise TypeError(f"the call returns {got}, but the node has {count} outputs")
        return list(result)


# Names the generated forward uses for its own purposes: a step named so would shadow them.
_CODE_NAMES = frozenset({"self", "torch", "nn", "F", "operator", "math", "fx"}) | frozenset(dir(builtins))


def step_name(node_id: str) -> str:
    """The variable a node's value gets in the generated forward: a numbered node (``0``, as
    nn.Sequential numbers its layers) is ``_0``, as torch.fx names it; no node id starts with _."""
    if node_id.isdigit():
        return "_" + node_id
    return node_id + "_" if node_id in _CODE_NAMES else node_id


def node_of_step(name: str) -> str:
    """The node id a step name stands for (the inverse of ``step_name``)."""
    if name.startswith("_") and name[1:].isdigit():
        return name[1:]
    return name[:-1] if name.endswith("_") and name[:-1] in _CODE_NAMES else name


class FxOps(Ops):
    """Records the steps as nodes of a ``torch.fx.Graph``."""

    def __init__(self, graph: fx.Graph) -> None:
        self.graph = graph
        self._batch: fx.Node | None = None

    def module(self, target, *args, **kwargs):
        return self.graph.call_module(target, args, kwargs)

    def function(self, fn, *args, **kwargs):
        return self.graph.call_function(fn, args, kwargs)

    def method(self, name, obj, *args, **kwargs):
        return self.graph.call_method(name, (obj, *args), kwargs)

    def attribute(self, target):
        return self.graph.get_attr(target)

    def batch(self, times=1):
        """``batch = x.size(0)`` of the first input, read once where forward starts."""
        if self._batch is None:
            first = next(n for n in self.graph.nodes if n.op == "placeholder")
            with self.graph.inserting_after(first):
                self._batch = self.graph.create_node("call_method", "size", (first, 0), name="batch")
        return self._batch if times == 1 else self.function(operator.mul, self._batch, times)

    def unpack(self, result, count):
        return [self.function(operator.getitem, result, i) for i in range(count)]

    def name(self, value: Any, name: str) -> Any:
        """Give a step the name of its node (``relu1 = F.relu(fc1)``): the step is made again
        under that name, through fx's public API, in the same place. A node id that the
        generated code needs for itself (``torch``, ``self``, ``print`` ...) gets a ``_``."""
        name = step_name(name)
        if not isinstance(value, fx.Node) or value.op not in ("call_module", "call_function", "call_method") \
                or value.name == name:
            return value
        with self.graph.inserting_after(value):
            named = self.graph.create_node(value.op, value.target, value.args, value.kwargs, name=name)
        value.replace_all_uses_with(named)
        self.graph.erase_node(value)
        return named


Inputs = dict[str, list[Any]]      # port name -> values on its wires, in edge order
Emit = Callable[[Ops, str, dict[str, Any], Inputs], dict[str, Any]]


def _single(ops: Ops, target: str, p: dict, inputs: Inputs) -> dict[str, Any]:
    return {"out": ops.module(target, inputs["in"][0])}


def _recurrent(lstm: bool) -> Emit:
    def emit(ops: Ops, target: str, p: dict, inputs: Inputs) -> dict[str, Any]:
        result = ops.module(target, inputs["in"][0])
        seq = ops.function(operator.getitem, result, 0)
        hidden = ops.function(operator.getitem, result, 1)
        if lstm:
            hidden = ops.function(operator.getitem, hidden, 0)   # (h_n, c_n) -> h_n
        if p["bidirectional"]:   # the last layer's forward and backward final states, side by side
            last = ops.function(torch.cat, [ops.function(operator.getitem, hidden, -2),
                                            ops.function(operator.getitem, hidden, -1)], dim=1)
        else:
            last = ops.function(operator.getitem, hidden, -1)
        return {"seq": seq, "last": last}
    return emit


def _attention(ops: Ops, target: str, p: dict, inputs: Inputs) -> dict[str, Any]:
    x = inputs["in"][0]
    result = ops.module(target, x, x, x, need_weights=False)
    return {"out": ops.function(operator.getitem, result, 0)}


def _decoder(ops: Ops, target: str, p: dict, inputs: Inputs) -> dict[str, Any]:
    return {"out": ops.module(target, inputs["in"][0], inputs["memory"][0])}


def _flatten(ops, target, p, inputs):
    return {"out": ops.function(torch.flatten, inputs["in"][0], p["start_dim"], p["end_dim"])}


def _reshape(ops, target, p, inputs):
    x = inputs["in"][0]
    return {"out": ops.method("reshape", x, ops.method("size", x, 0), *p["shape"])}


def _permute(ops, target, p, inputs):
    return {"out": ops.method("permute", inputs["in"][0], 0, *[d + 1 for d in p["dims"]])}


def _merge(fn: Callable) -> Emit:
    def emit(ops, target, p, inputs):
        return {"out": reduce(lambda a, b: ops.function(fn, a, b), inputs["in"])}
    return emit


def _functional(fn: Callable, *param_names: str) -> Emit:
    """Stateless layers become plain function calls (as in hand-written code, and as fast)."""
    def emit(ops, target, p, inputs):
        return {"out": ops.function(fn, inputs["in"][0], **{k: p[k] for k in param_names})}
    return emit


def _identity(ops, target, p, inputs):
    return {"out": inputs["in"][0]}


def _concat(ops, target, p, inputs):
    return {"out": ops.function(torch.cat, list(inputs["in"]), dim=p["dim"])}


def _function(ops, target, p, inputs):
    """One whitelisted call; its wires and the batch size are put in place of their tags."""
    call = operation(p["op"])
    tensors = inputs.get("in", [])
    args = [resolve(a, tensors, ops.batch) for a in p["args"]]
    kwargs = {k: resolve(v, tensors, ops.batch) for k, v in p["kwargs"].items()}
    if call.method is not None:
        if not args:
            raise TypeError(f".{call.method}() is a tensor method: its first argument must be an input wire")
        result = ops.method(call.method, args[0], *args[1:], **kwargs)
    else:
        result = ops.function(call.function, *args, **kwargs)
    if p["outputs"] == 1:
        return {"out": result}
    return {f"out{i + 1}": value for i, value in enumerate(ops.unpack(result, p["outputs"]))}


def _attribute(ops, target, p, inputs):
    return {"out": ops.attribute(target)}


# ---------------------------------------------------------------------- building modules
def _tupled(params: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}


def _channels(x: TensorInfo) -> tuple:
    return (x.shape[0],)


def _features(x: TensorInfo) -> tuple:
    return (x.shape[-1],)


@dataclass(frozen=True)
class Impl:
    """A type's torch side: the positional sizes inferred from the input, fixed keyword
    arguments, and how its forward is emitted. ``module=None`` for function-only types."""
    module: str | None
    inferred: Callable[[TensorInfo], tuple] = lambda x: ()
    fixed: tuple[tuple[str, Any], ...] = ()
    emit: Emit = _single


_BATCH_FIRST = (("batch_first", True),)
IMPLS: dict[str, Impl] = {
    "Identity": Impl(None, emit=_identity),
    "Features": Impl("Features"),
    "Linear": Impl("Linear", _features),
    "Conv1d": Impl("Conv1d", _channels),
    "Conv2d": Impl("Conv2d", _channels),
    "ConvTranspose2d": Impl("ConvTranspose2d", _channels),
    "Conv3d": Impl("Conv3d", _channels),
    "ConvTranspose1d": Impl("ConvTranspose1d", _channels),
    "ConvTranspose3d": Impl("ConvTranspose3d", _channels),
    "MaxPool3d": Impl("MaxPool3d"),
    "AvgPool3d": Impl("AvgPool3d"),
    "AdaptiveAvgPool1d": Impl("AdaptiveAvgPool1d"),
    "AdaptiveAvgPool3d": Impl("AdaptiveAvgPool3d"),
    "BatchNorm3d": Impl("BatchNorm3d", _channels),
    "MaxPool1d": Impl("MaxPool1d"),
    "MaxPool2d": Impl("MaxPool2d"),
    "AvgPool2d": Impl("AvgPool2d"),
    "AdaptiveAvgPool2d": Impl("AdaptiveAvgPool2d"),
    "Normalize": Impl("Normalize"),
    "BatchNorm1d": Impl("BatchNorm1d", _channels),
    "BatchNorm2d": Impl("BatchNorm2d", _channels),
    "LayerNorm": Impl("LayerNorm", _features),
    "GroupNorm": Impl("GroupNorm", lambda x: ()),   # num_channels passed by keyword below
    "LocalResponseNorm": Impl("LocalResponseNorm"),
    "Dropout": Impl("Dropout"),
    "Dropout2d": Impl("Dropout2d"),
    "ReLU": Impl(None, emit=_functional(F.relu)),
    "ReLU6": Impl(None, emit=_functional(F.relu6)),
    "LeakyReLU": Impl(None, emit=_functional(F.leaky_relu, "negative_slope")),
    "PReLU": Impl("PReLU"),
    "ELU": Impl(None, emit=_functional(F.elu, "alpha")),
    "GELU": Impl(None, emit=_functional(F.gelu, "approximate")),
    "SiLU": Impl(None, emit=_functional(F.silu)),
    "Sigmoid": Impl(None, emit=_functional(torch.sigmoid)),
    "Tanh": Impl(None, emit=_functional(torch.tanh)),
    "Hardswish": Impl(None, emit=_functional(F.hardswish)),
    "Hardsigmoid": Impl(None, emit=_functional(F.hardsigmoid)),
    "Mish": Impl(None, emit=_functional(F.mish)),
    "StochasticDepth": Impl("StochasticDepth"),
    "Function": Impl(None, emit=_function),
    "Parameter": Impl(None, emit=_attribute),
    "Constant": Impl(None, emit=_attribute),
    "Softmax": Impl(None, emit=_functional(F.softmax, "dim")),
    "LogSoftmax": Impl(None, emit=_functional(F.log_softmax, "dim")),
    "Upsample": Impl("Upsample"),
    "Embedding": Impl("Embedding"),
    "RNN": Impl("RNN", _features, _BATCH_FIRST, _recurrent(lstm=False)),
    "LSTM": Impl("LSTM", _features, _BATCH_FIRST, _recurrent(lstm=True)),
    "GRU": Impl("GRU", _features, _BATCH_FIRST, _recurrent(lstm=False)),
    "MultiheadAttention": Impl("MultiheadAttention", _features, _BATCH_FIRST, _attention),
    "TransformerEncoderLayer": Impl("TransformerEncoderLayer", _features, _BATCH_FIRST, _single),
    "TransformerDecoderLayer": Impl("TransformerDecoderLayer", _features, _BATCH_FIRST, _decoder),
    "Flatten": Impl(None, emit=_flatten),
    "Reshape": Impl(None, emit=_reshape),
    "Permute": Impl(None, emit=_permute),
    "Add": Impl(None, emit=_merge(operator.add)),
    "Multiply": Impl(None, emit=_merge(operator.mul)),
    "Concat": Impl(None, emit=_concat),
}


def module_constructor(type_name: str, params: dict[str, Any],
                       inputs: dict[str, list[TensorInfo]]) -> tuple[str, tuple, dict[str, Any]] | None:
    """``(nn class name, args, kwargs)`` that build one node's module, input sizes inferred
    from ``inputs``; None for types that are plain functions. Export writes the same call."""
    impl = IMPLS[type_name]
    if impl.module is None:
        return None
    x = inputs["in"][0]
    kwargs = _tupled(params) | dict(impl.fixed)
    if type_name == "GroupNorm":
        kwargs["num_channels"] = x.shape[0]
    return impl.module, impl.inferred(x), kwargs


def build_module(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> nn.Module | None:
    """The module of one node, its input sizes inferred from ``inputs``; None for functions."""
    constructor = module_constructor(type_name, params, inputs)
    if constructor is None:
        return None
    name, args, kwargs = constructor
    return module_class(name)(*args, **kwargs)


def module_class(name: str) -> type[nn.Module]:
    """torch's ``nn.<name>``, or NetLoom's own module of that name (written out by export)."""
    return OWN_MODULES[name] if name in OWN_MODULES else getattr(nn, name)


TENSOR_TYPES = ("Parameter", "Constant")


def build_tensor(type_name: str, params: dict[str, Any]) -> torch.Tensor | None:
    """A Parameter node's learned tensor or a Constant node's buffer, with its starting values
    (``tensor_source`` writes the same in exported code); None for other types."""
    if type_name not in TENSOR_TYPES:
        return None
    shape = tuple(params["shape"])
    if type_name == "Constant":
        return torch.full(shape, params["value"], dtype=TORCH_DTYPES[params["dtype"]])
    if params["init"] == "normal":
        values = torch.randn(shape) * params["value"]
    else:
        values = torch.full(shape, params["value"] if params["init"] == "constant" else 0.0)
    return nn.Parameter(values)


def tensor_source(type_name: str, params: dict[str, Any]) -> str:
    """The expression that makes ``build_tensor``'s tensor in exported code."""
    shape = ", ".join(str(s) for s in params["shape"])
    if type_name == "Constant":
        dtype = "" if params["dtype"] == "float32" else f", dtype=torch.{params['dtype']}"
        return f"torch.full(({shape},), {params['value']!r}{dtype})"
    if params["init"] == "normal":
        return f"nn.Parameter(torch.randn({shape}) * {params['value']!r})"
    fill = params["value"] if params["init"] == "constant" else 0.0
    return f"nn.Parameter(torch.full(({shape},), {fill!r}))"


def emit_node(ops: Ops, type_name: str, target: str, params: dict[str, Any], inputs: Inputs) -> dict[str, Any]:
    """Emit one node's forward; returns its output values by port."""
    return IMPLS[type_name].emit(ops, target, params, inputs)

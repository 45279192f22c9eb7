"""Shape inference for one node: rules first, then torch itself on ``meta`` tensors.

Building the real layer on the meta device and running it costs no memory and no arithmetic,
and gives exactly the shapes, parameter count and multiply-adds that training will see.
Results depend only on (type, params, input tensors), so they are cached on that key: after an
edit only the nodes whose inputs really changed are inferred again.
"""

from __future__ import annotations

import math
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from graphs import CATALOG, ERROR, FUNCTION

from ..words import first_line
from .build import TENSOR_TYPES, TORCH_DTYPES, EagerOps, TensorInfo, build_module, emit_node
from .rules import Finding, precheck


@dataclass(frozen=True)
class NodeResult:
    outputs: dict[str, TensorInfo] = field(default_factory=dict)
    params: int = 0
    macs: int = 0            # multiply-adds for one sample
    findings: tuple[Finding, ...] = ()

    @property
    def failed(self) -> bool:
        return any(f.severity == ERROR for f in self.findings)


def _freeze(value: Any) -> Any:
    """A hashable form: a Function node's arguments nest lists and objects."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return ("{}", *((k, _freeze(v)) for k, v in value.items()))
    return value


class InferenceCache:
    """Bounded least-recently-used cache of node results."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._items: OrderedDict[tuple, NodeResult] = OrderedDict()
        self.hits = self.misses = 0

    def infer(self, type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> NodeResult:
        return self.remember(use_key(type_name, params, inputs), lambda: infer_node(type_name, params, inputs))

    def remember(self, key: tuple, compute: Callable[[], NodeResult]) -> NodeResult:
        """The result stored under ``key``, computed and stored the first time."""
        found = self._items.get(key)
        if found is not None:
            self.hits += 1
            self._items.move_to_end(key)
            return found
        self.misses += 1
        result = compute()
        self._items[key] = result
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return result


def use_key(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> tuple:
    """What a node's result depends on, as a hashable key."""
    return (type_name, tuple((k, _freeze(v)) for k, v in params.items()),
            tuple((port, tuple(infos)) for port, infos in inputs.items()))


RECURRENT = ("RNN", "LSTM", "GRU")


def infer_node(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> NodeResult:
    """Output tensors, parameter count and multiply-adds of one node, or why it fails."""
    if type_name in RECURRENT:
        result = _infer_recurrent(type_name, params, inputs)
    else:
        result = _infer(type_name, params, inputs)
    return _with_layout(type_name, params, inputs, result)


MAP_CATEGORIES = ("Convolution", "Pooling")
MAP_MAKERS = ("Upsample",)                       # other layers whose output is an image, channels first
REORDERS = ("Permute", "Reshape", "Flatten")     # after these the axes mean what the person made them mean


def _with_layout(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]],
                 result: NodeResult) -> NodeResult:
    """Mark the outputs that are channels-first maps (``TensorInfo.spatial``): what convolutions,
    pooling and image inputs make, and what layers that keep a map's shape hand on."""
    if not result.outputs:
        return result
    spec = CATALOG.get(type_name)
    given = [info for infos in inputs.values() for info in infos]
    marked = {}
    for port, info in result.outputs.items():
        if type_name == "Input":
            spatial = len(info.shape) >= 3
        elif spec is not None and (spec.category in MAP_CATEGORIES or type_name in MAP_MAKERS):
            spatial = len(info.shape) >= 2
        elif type_name in REORDERS or type_name == FUNCTION or spec is None:
            spatial = False          # reordered, a general operation, or a block (marked inside)
        elif type_name == "Concat":
            spatial = bool(given) and all(x.spatial and len(x.shape) == len(info.shape) for x in given)
        else:
            spatial = any(x.spatial and x.shape == info.shape for x in given)
        marked[port] = info if info.spatial == spatial else replace(info, spatial=spatial)
    return replace(result, outputs=marked)


def _infer(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> NodeResult:
    if type_name == "Input":
        return NodeResult({"out": TensorInfo(tuple(params["shape"]), params["dtype"])})
    if type_name == "Output":
        return NodeResult()
    if type_name in TENSOR_TYPES:      # one tensor for the whole batch: no batch axis
        shape = tuple(params["shape"])
        learned = math.prod(shape) if type_name == "Parameter" else 0
        return NodeResult({"out": TensorInfo(shape, params.get("dtype", "float32"), None)}, learned)
    findings = tuple(precheck(type_name, params, inputs))
    if any(f.severity == ERROR for f in findings):
        return NodeResult(findings=findings)
    if type_name == FUNCTION or any(info.batch != 0 for infos in inputs.values() for info in infos):
        return _infer_with_batch_axes(type_name, params, inputs, findings)
    try:
        # torch's own advice (an LSTM's dropout with one layer ...) is the rules' to give, in
        # the person's terms, on the node: it is not printed over the check.
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            module = build_module(type_name, params, inputs)
        modules = {"layer": module.eval()} if module is not None else {}
        values = {port: [torch.empty((1, *info.shape), dtype=TORCH_DTYPES[info.dtype], device="meta")
                         for info in infos] for port, infos in inputs.items()}
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            outs = emit_node(EagerOps(modules), type_name, "layer", params, values)
    except Exception as err:   # torch's own refusal: report it on the node, never crash the check
        return NodeResult(findings=findings + (Finding(ERROR, f"torch rejects this layer: {first_line(err)}"),))
    outputs = {port: TensorInfo(tuple(t.shape[1:]), _dtype_name(t.dtype)) for port, t in outs.items()}
    n_params = sum(p.numel() for p in module.parameters()) if module is not None else 0
    return NodeResult(outputs, n_params, counter.get_total_flops() // 2, findings)


MERGES = ("Add", "Multiply", "Concat")     # layers that also take a tensor without a batch axis


def _infer_with_batch_axes(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]],
                           findings: tuple[Finding, ...]) -> NodeResult:
    """A node whose tensors may hold the batch axis anywhere, or not at all (a general operation,
    or a merge with a Parameter): run at two batch sizes, and the axis whose size follows the
    batch is the batch axis of each result."""
    for infos in inputs.values():
        for i, info in enumerate(infos):
            if type_name != FUNCTION and info.batch != 0 and not (info.batch is None and type_name in MERGES):
                where = "has no batch axis" if info.batch is None else f"has the batch axis at {info.batch}"
                wire = f"input {i + 1}" if len(infos) > 1 else "its input"
                return NodeResult(findings=findings + (Finding(
                    ERROR, f"{type_name} needs the batch axis first, but {wire} ({info}) {where}"),))
    runs = []
    for batch in (2, 3):
        try:
            with torch.device("meta"), warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                module = build_module(type_name, params, inputs)
            modules = {"layer": module.eval()} if module is not None else {}
            values = {port: [torch.empty(info.whole(batch), dtype=TORCH_DTYPES[info.dtype], device="meta")
                             for info in infos] for port, infos in inputs.items()}
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                outs = emit_node(EagerOps(modules, batch), type_name, "layer", params, values)
        except Exception as err:   # torch's own refusal, or arguments that do not fit the wires
            what = "call" if type_name == FUNCTION else "layer"
            return NodeResult(findings=findings + (Finding(ERROR, f"torch rejects this {what}: {first_line(err)}"),))
        runs.append((outs, counter.get_total_flops()))
    batched_input = any(info.batch is not None for infos in inputs.values() for info in infos)
    outputs = {}
    for port, two in runs[0][0].items():
        three = runs[1][0][port]
        if not isinstance(two, torch.Tensor):
            return NodeResult(findings=findings + (Finding(
                ERROR, f"the call returns {type(two).__name__}, not a tensor"),))
        axes = [i for i, (a, b) in enumerate(zip(two.shape, three.shape)) if a != b]
        if not axes and not batched_input:
            outputs[port] = TensorInfo(tuple(two.shape), _dtype_name(two.dtype), None)
        elif axes and len(axes) == 1 and (two.shape[axes[0]], three.shape[axes[0]]) == (2, 3):
            axis = axes[0]
            outputs[port] = TensorInfo(tuple(two.shape[:axis] + two.shape[axis + 1:]), _dtype_name(two.dtype), axis)
        else:
            why = ("its result has no batch axis: it mixes the samples of a batch" if not axes else
                   "its result merges the batch axis with another axis; keep the batch axis whole")
            return NodeResult(findings=findings + (Finding(ERROR, why),))
    n_params = sum(p.numel() for p in module.parameters()) if module is not None else 0
    return NodeResult(outputs, n_params, max(runs[1][1] - runs[0][1], 0) // 2, findings)


def _infer_recurrent(type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]]) -> NodeResult:
    """A recurrent layer steps through its sequence one element at a time, even on meta tensors
    (4,096 steps took 12 s). Every step costs the same and the shapes follow the length, so one
    step is inferred and the result scaled to the whole sequence."""
    infos = inputs.get("in", [])
    if len(infos) != 1 or len(infos[0].shape) != 2 or infos[0].shape[0] <= 1:
        return _infer(type_name, params, inputs)
    steps = infos[0].shape[0]
    one = _infer(type_name, params, {"in": [TensorInfo((1, *infos[0].shape[1:]), infos[0].dtype)]})
    if one.failed:
        return one
    outputs = {port: TensorInfo((steps, *info.shape[1:]), info.dtype) if port == "seq" else info
               for port, info in one.outputs.items()}
    return NodeResult(outputs, one.params, one.macs * steps, one.findings)


def _dtype_name(dtype: torch.dtype) -> str:
    if dtype == torch.bool:
        return "bool"
    return "int64" if dtype in (torch.int64, torch.int32) else "float32"

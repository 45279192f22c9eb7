"""The values an export import builds graphs from: wires, the graph of one module call, and the
nodes that stand for steps, learned tensors and constants (``export_import`` builds on this).

A step of the exported program becomes a wire in the graph of the module call it happened in. A
learned tensor read by a step becomes a Parameter node in that graph (a Constant where it is
frozen), a free value (computed from no input and no learned tensor, ``export_trace``) a Constant
there, once per graph; a step's arguments are written as a Function node stores them.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from graphs import FUNCTION, Edge, Graph, GraphError
from graphs.edits import Connect

from .export_ops import CONVERSIONS
from .export_trace import Traced, packet
from .import_maps import Downstream, Refuse, need
from .importer import input_ports


@dataclass(frozen=True)
class Wire:
    """A value in the graph being built: a node's output port."""
    node: str
    port: str = "out"


@dataclass(frozen=True)
class BatchIndex:
    """``arange(batch)`` along ``axis``: the index with which a mask picks each sample's row."""
    axis: int


class Scope:
    """One graph being built: the document itself, or a block body for one module call."""

    def __init__(self, graph: Graph, path: str) -> None:
        self.graph = graph
        self.path = path                                   # the module this graph is ("" for the whole)
        self.values: dict[fx.Node, Wire] = {}
        self.ports: dict[fx.Node, str] = {}                # several results (split): the Function node
        self.rows: dict[fx.Node, tuple[Wire, list]] = {}   # batch merged with another axis: kept whole, and its shape
        self.constants: dict[fx.Node, Any] = {}
        self.learned: dict[fx.Node, Wire] = {}
        self.state: dict[str, torch.Tensor] = {}

    def name(self, path: str) -> str:
        """A node id from a module path, relative to this graph's module: ``self_attn``, ``layers_0``."""
        if self.path and path.startswith(self.path + "."):
            path = path[len(self.path) + 1:]
        return re.sub(r"\W", "_", path) or "node"


@dataclass(frozen=True)
class Index:
    """A literal index (``x[:, 0:8]``): a tuple of slices and tensors."""
    parts: list[Any]


class ValueBuilder:
    """Nodes for the steps of one exported module, in the graph of the call each happened in."""

    def __init__(self, module: nn.Module, traced: Traced) -> None:
        self.module = module
        self.traced = traced
        self.problems: list[str] = []
        self.refused: set[fx.Node] = set()
        self.owners: dict[fx.Node, tuple[str, object]] = {}   # learned tensor -> who holds it, in which call

    def _node(self, scope: Scope, type_name: str, params: dict, sources: list[Any], name: str,
              result: fx.Node | None = None) -> str:
        """Add a node fed by ``sources`` (steps or wires); ``result`` is the step it stands for."""
        try:
            node_id = scope.graph.add_node(type_name, id=scope.graph.unique_id(name, keep_if_free=True), **params)
        except GraphError as err:
            raise Refuse(str(err).split(": ", 1)[-1]) from None
        for source, port in zip(sources, input_ports(scope.graph, node_id, len(sources))):
            wire = source if isinstance(source, Wire) else self._ref(scope, source)
            try:
                scope.graph.apply(Connect(Edge(wire.node, node_id, wire.port, port)))
            except GraphError as err:
                raise Refuse(str(err)) from None
        if result is not None and type_name not in scope.graph.blocks:
            scope.values[result] = Wire(node_id, "out")
        return node_id

    # ------------------------------------------------------------------ values
    def _axis(self, n: fx.Node) -> int | None | str:
        try:
            return self.traced.batch_axis(n)
        except ValueError:
            return "merged"

    def _ref(self, scope: Scope, n: fx.Node) -> Wire:
        if n in self.refused:
            raise Downstream()
        if n in self.traced.free:
            value = self._constant(scope, n)
            need(isinstance(value, Wire), f"uses {n.name} where a tensor is needed")
            return value
        if n in scope.values:
            return scope.values[n]
        if n in self.traced.parameters:
            return self._parameter(scope, n)
        if n in scope.rows:
            raise Refuse(f"uses {n.name}, whose batch axis is merged with another axis, other than to multiply it by "
                         "a matrix (keep the batch axis whole)")
        raise Refuse(f"uses {n.name}, which is not a tensor the graph carries here")

    def _own(self, p: fx.Node, owner: str, call: object) -> None:
        """A learned tensor belongs to one call of a layer, or to one graph that reads it; one used
        in two places is shared (a layer called twice, or tied weights), which a graph cannot express."""
        first, first_call = self.owners.setdefault(p, (owner, call))
        if first_call is call or first_call == call:
            return
        if first == owner:
            raise Refuse(f"the same layer is used twice (shared weights: {self.traced.parameters[p]}), "
                         "which a graph cannot express")
        raise Refuse(f"shares the learned tensor {self.traced.parameters[p]} with {first} (tied weights), "
                     "which a graph cannot express")

    def _parameter(self, scope: Scope, p: fx.Node) -> Wire:
        """A learned tensor read by a step: a Parameter node, or a Constant where it is frozen
        (``requires_grad=False``: Whisper's sinusoidal positions), which training leaves as it is."""
        if p not in scope.learned:
            name = self.traced.parameters[p]
            tensor = self.module.get_parameter(name)
            if not tensor.requires_grad:
                scope.learned[p] = self._constant_node(scope, tensor.detach(), p, scope.name(name))
                return scope.learned[p]
            need(tensor.dtype == torch.float32, f"a learned tensor of type {tensor.dtype} (only float32)")
            need(tensor.dim() > 0, "a learned single number (a tensor with no axes)")
            self._own(p, scope.path or type(self.module).__name__, scope)
            node_id = self._node(scope, "Parameter", {"shape": list(tensor.shape), "init": "normal", "value": 0.02},
                                 [], scope.name(name))
            scope.state[node_id] = tensor.detach().clone()
            scope.learned[p] = Wire(node_id)
        return scope.learned[p]

    def _constant(self, scope: Scope, n: fx.Node) -> Any:
        """A free value where it is used: a number, a Constant, a Constant row expanded to the
        batch, or the batch index."""
        if n in scope.constants:
            return scope.constants[n]
        axis = self._axis(n)
        need(axis != "merged", f"computes {n.name} from no input with the batch axis merged with another")
        first, second = (self.traced.value(n, b) for b in self.traced.batch_sizes)
        need(isinstance(first, torch.Tensor), f"uses {n.name}, which is not a tensor")
        if axis is None:
            value: Any = first.item() if first.dim() == 0 else self._constant_node(scope, first, n)
        else:
            assert isinstance(axis, int)
            row = first.narrow(axis, 0, 1)
            if all(torch.equal(t, row.expand_as(t)) for t in (first, second)):
                sizes: list[Any] = [-1] * first.dim()
                sizes[axis] = {"batch": 1}
                value = self._function(scope, "expand", [self._constant_node(scope, row, n), sizes], {}, stem(n))
            elif all(torch.equal(t.flatten(), torch.arange(t.numel())) and t.numel() == t.shape[axis]
                     for t in (first, second)):
                value = BatchIndex(axis)
            else:
                raise Refuse(f"computes {n.name} from the batch size alone, different for each sample")
        scope.constants[n] = value
        return value

    def _constant_node(self, scope: Scope, tensor: torch.Tensor, n: fx.Node, name: str | None = None) -> Wire:
        stored = {torch.float32: torch.float32, torch.int64: torch.int64, torch.bool: torch.int64,
                  torch.int32: torch.int64}.get(tensor.dtype)
        need(stored is not None, f"a constant tensor of type {tensor.dtype} (float32, int64, int32 or bool)")
        need(tensor.dim() > 0, "a constant single number where a tensor is needed")
        name = name or _constant_name(self.traced, n)
        node_id = self._node(scope, "Constant", {"shape": list(tensor.shape), "value": 0.0,
                                                 "dtype": "float32" if stored == torch.float32 else "int64"}, [], name)
        scope.state[node_id] = tensor.to(stored).contiguous()
        wire = Wire(node_id)
        if tensor.dtype != stored:          # a mask is kept as 0/1 and made true/false again
            wire = self._function(scope, CONVERSIONS[tensor.dtype], [wire], {}, f"{name}_{CONVERSIONS[tensor.dtype]}")
        return wire

    def _function(self, scope: Scope, op: str, args: list[Any], kwargs: dict[str, Any], name: str,
                  result: fx.Node | None = None) -> Wire:
        wires: list[Wire] = []
        encoded = [self._literal(scope, v, wires) for v in args]
        keywords = {k: self._literal(scope, v, wires) for k, v in kwargs.items()}
        need(wires, f"{op} computes a tensor from no input")
        meta = self.traced.meta(result) if result is not None else None
        outputs = len(meta) if isinstance(meta, (list, tuple)) else 1
        node_id = self._node(scope, FUNCTION, {"op": op, "args": encoded, "kwargs": keywords, "outputs": outputs},
                             wires, name, result)
        if result is not None and outputs > 1:
            del scope.values[result]
            scope.ports[result] = node_id
        return Wire(node_id, "out")

    def _literal(self, scope: Scope, value: Any, wires: list[Wire]) -> Any:
        """An argument as a Function node stores it; a tensor becomes an input wire."""
        if isinstance(value, fx.Node):
            if self.traced.is_size(value):
                try:
                    return self.traced.size(value)
                except ValueError as why:
                    raise Refuse(f"uses {why}") from None
            if value in self.traced.free:
                found = self._constant(scope, value)
                need(not isinstance(found, BatchIndex), f"uses {value.name} (the batch index) other than to index")
                if not isinstance(found, Wire):
                    return self._literal(scope, found, wires)
                value = found
            else:
                value = self._ref(scope, value)
        if isinstance(value, Wire):
            if value not in wires:
                wires.append(value)
            return {"tensor": wires.index(value)}
        if isinstance(value, Index):
            return [self._literal(scope, v, wires) for v in value.parts]
        if isinstance(value, slice):
            return {"slice": [self._literal(scope, v, wires) for v in (value.start, value.stop, value.step)]}
        if isinstance(value, (list, tuple)):
            return [self._literal(scope, v, wires) for v in value]
        if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            return self.traced.size(value)
        if value is None or isinstance(value, (bool, int, str)) or (isinstance(value, dict) and list(value) == ["batch"]):
            return value        # ({"batch": k} is a size already written as a graph stores it)
        if isinstance(value, float):
            need(math.isfinite(value), f"the number {value}, which a graph file cannot hold")
            return value
        raise Refuse(f"passes {type(value).__name__} {str(value)[:40]}, which a graph file cannot hold")


def stem(n: fx.Node) -> str:
    """A step's name without the number export gave it in the whole model, so that the same layer
    in two places reads the same: ``view``, ``view1`` in each attention, not ``view_7``."""
    return re.sub(r"_\d+$", "", n.name)


def _constant_name(traced: Traced, n: fx.Node) -> str:
    """A Constant's name: what it was made from before it was reshaped or converted (``cos``,
    ``position_ids`` for a buffer), or ``mask`` for true/false values."""
    step = n
    while packet(step) in _RESHAPING or step.target is operator.getitem:
        sources = [a for a in step.all_input_nodes if a in traced.free and traced.is_tensor(a)]
        if len(sources) != 1:
            break
        step = sources[0]
    if step.op == "placeholder":
        target = next((s.target for s in traced.program.graph_signature.input_specs
                       if getattr(s.arg, "name", None) == step.name), None)
        return str(target).rsplit(".", 1)[-1] if target else step.name
    return "mask" if traced.meta(n).dtype == torch.bool else packet(step).strip("_") or stem(n)


_RESHAPING = frozenset({"unsqueeze", "squeeze", "view", "reshape", "expand", "to", "_to_copy", "slice", "select",
                        "mul", "add", "sub", "transpose", "permute", "contiguous", "clone", "alias", "lift_fresh_copy", "detach"})

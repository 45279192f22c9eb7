"""``import_with_export(module, example_inputs)``: the second import tracer, built on ``torch.export``.

torch.fx traces Python symbolically and stops at code it cannot follow (Hugging Face models
build masks and caches with data structures fx cannot see through). ``torch.export`` runs the
code instead and records every ATen operation it performs, with the module call it happened in
(its ``nn_module_stack``). The graph is rebuilt from those records so that it reads like the
model's code again:

- the steps of one call of a torch.nn layer the catalog knows become that layer, its settings
  read from the module and its weights with it (``Linear``, ``LayerNorm``, ``Embedding`` ...);
- the steps of one call of a module of a class of its own (``BertLayer``, ``LlamaAttention``)
  become a block body, one definition per class and configuration, used once per call: N
  layers read as one definition used N times;
- every other step is a whitelisted ``Function`` (``export_ops``), a learned tensor read
  outside a layer a ``Parameter``, and a value computed from no input a ``Constant``
  (``export_trace``). Anything else is refused, naming the operation and the module it is in.

The module is exported in training mode, so dropout (also inside attention) and batch
statistics are in the graph as the module trains; a functional dropout becomes a Dropout layer,
which follows the graph's own mode, and attention with dropout is written out with one. The
finished graph is compiled and compared with the module (``verify``) before it is returned.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn
from torch.utils import _pytree as pytree

from graphs import FUNCTION, Edge, Graph, GraphError
from graphs.block_merge import merge_alike
from graphs.edits import Connect
from graphs.layout import layout_edit

from .export_ops import CONVERSIONS, PASS_THROUGH, Call, call_of, keyword_values, schema_args, unusual
from .export_trace import ExportFailure, Traced, functional, is_check, mode, packet, trace, written
from .import_maps import MODULES, Downstream, Refuse, need, optional_modules
from .importer import ImportProblem, _Blocks, _is_block, _verify, input_ports

_ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "tanh": "Tanh", "sigmoid": "Sigmoid",
                "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "mish": "Mish", "elu": "ELU",
                "leaky_relu": "LeakyReLU", "softmax": "Softmax", "log_softmax": "LogSoftmax"}


@dataclass(frozen=True)
class _Wire:
    """A value in the graph being built: a node's output port."""
    node: str
    port: str = "out"


@dataclass(frozen=True)
class _BatchIndex:
    """``arange(batch)`` along ``axis``: the index with which a mask picks each sample's row."""
    axis: int


class _Scope:
    """One graph being built: the document itself, or a block body for one module call."""

    def __init__(self, graph: Graph, path: str) -> None:
        self.graph = graph
        self.path = path                                   # the module this graph is ("" for the whole)
        self.values: dict[fx.Node, _Wire] = {}
        self.ports: dict[fx.Node, str] = {}                # several results (split): the Function node
        self.rows: dict[fx.Node, tuple[_Wire, list]] = {}  # batch merged with another axis: kept whole, and its shape
        self.constants: dict[fx.Node, Any] = {}
        self.parameters: dict[fx.Node, _Wire] = {}
        self.state: dict[str, torch.Tensor] = {}

    def name(self, path: str) -> str:
        """A node id from a module path, relative to this graph's module: ``self_attn``, ``layers_0``."""
        if self.path and path.startswith(self.path + "."):
            path = path[len(self.path) + 1:]
        return re.sub(r"\W", "_", path) or "node"


class _Definitions(_Blocks):
    """The block definitions of one import (one per class and configuration)."""

    def __init__(self, root: Graph) -> None:      # the fx tracer's call records are not needed here
        self.root = root
        self.names: dict[str, str] = {}


class _ExportImporter:
    def __init__(self, module: nn.Module, traced: Traced) -> None:
        self.module = module
        self.traced = traced
        self.graph = Graph(name=type(module).__name__)
        self.blocks = _Definitions(self.graph)
        self.problems: list[str] = []
        self.refused: set[fx.Node] = set()
        self.owners: dict[fx.Node, tuple[str, object]] = {}   # learned tensor -> who holds it, in which call
        self.modules: dict[str, nn.Module | None] = {}
        self.steps = [n for n in traced.nodes if n.op == "call_function" and n in traced.live
                      and n not in traced.free and not traced.is_size(n) and not is_check(n)]
        self.relevant = set(self.steps)
        self.chains = {n: self._chain(n) for n in self.steps}
        self.targets = {spec.arg.name: spec.target or spec.arg.name
                        for spec in traced.program.graph_signature.input_specs if hasattr(spec.arg, "name")}

    # ------------------------------------------------------------------ structure
    def _module(self, path: str) -> nn.Module | None:
        if path not in self.modules:
            try:
                self.modules[path] = self.module.get_submodule(path)
            except AttributeError:     # a path export made up for a slice of a ModuleList
                self.modules[path] = None
        return self.modules[path]

    def _chain(self, n: fx.Node) -> list[str]:
        """The module calls a step happened in that shape the graph, outermost first: blocks, and
        catalog layers (whose insides are theirs). Containers and modules of no weights and
        no layers (activation wrappers) are only names."""
        chain = []
        for key, (path, _) in (n.meta.get("nn_module_stack") or {}).items():
            module = self._module(path) if path else None
            if module is None:
                continue
            if _layer_entry(module) is not None:
                chain.append(key)
                break
            if _is_block(module):
                chain.append(key)
        return chain

    def _call(self, n: fx.Node, key: str) -> tuple[str, nn.Module]:
        path = n.meta["nn_module_stack"][key][0]
        module = self._module(path)
        assert module is not None
        return path, module

    def _where(self, n: fx.Node) -> str:
        stack = n.meta.get("nn_module_stack") or {}
        for path, kind in reversed(list(stack.values())):
            if path:
                return f"{path} ({str(kind).rsplit('.', 1)[-1].rstrip('>').strip(chr(39))})"
        return type(self.module).__name__

    # ------------------------------------------------------------------ building
    def run(self) -> tuple[Graph, dict[str, torch.Tensor]]:
        scope = _Scope(self.graph, "")
        for n in self.traced.inputs:
            meta = self.traced.meta(n)
            dtype = {torch.float32: "float32", torch.int64: "int64"}.get(meta.dtype)
            if dtype is None:
                self.problems.append(f"input {n.name} is {meta.dtype}: an Input is float32 or int64")
                continue
            self._node(scope, "Input", {"shape": list(meta.shape[1:]), "dtype": dtype}, [], n.name, n)
        self._updates()
        if self.problems:
            raise ImportProblem(self.problems)
        self._build(scope, self.steps, 0)
        out = next(n for n in self.traced.nodes if n.op == "output")
        results = [r for r in _items(out.args[0]) if isinstance(r, fx.Node)]
        for name, result in zip(self.traced.output_names, results):
            self._guard([result], lambda result=result, name=name: self._node(scope, "Output", {}, [result], name))
        if self.problems:
            raise ImportProblem(self.problems)
        self.graph.apply(layout_edit(self.graph))
        return self.graph, scope.state

    def _owned(self, n: fx.Node, path: str) -> bool:
        """Whether a step is a buffer of the module at ``path`` (a layer's running statistics)."""
        target = self.targets.get(n.name, "") if n.op == "placeholder" else ""
        return target.startswith(path + ".") if path else bool(target)

    def _updates(self) -> None:
        """Tensors the module changes in place as it runs: a catalog layer's own statistics
        (BatchNorm's running mean) follow, as the layer updates them itself; anything else is
        refused by name (a counter in a buffer would silently stop counting)."""
        reported: set[fx.Node] = set()
        for n in self.traced.nodes:
            changed = written(n)
            if not changed:
                continue
            chain = self._chain(n)
            inside_layer = bool(chain) and _layer_entry(self._call(n, chain[-1])[1]) is not None
            for a in changed:
                if inside_layer or a in reported:
                    continue
                reported.add(a)
                what = "its input" if a in self.traced.inputs else "the buffer" if a in self.traced.leaves else "the weight"
                self.problems.append(f"{self._where(n)}: changes {what} {self.targets.get(a.name, a.name)} in place as it runs "
                                     f"({packet(n)}), which a graph cannot follow")

    def _guard(self, steps: list[fx.Node], action) -> None:
        """Run ``action``; where it refuses, its steps are refused (listed once, where they are)."""
        try:
            action()
        except Downstream:
            self.refused.update(steps)
        except Refuse as why:
            self.refused.update(steps)
            self.problems.append(f"{self._where(steps[0])}: {why}")

    def _build(self, scope: _Scope, members: list[fx.Node], depth: int) -> None:
        groups: dict[str, list[fx.Node]] = {}
        for n in members:
            if len(self.chains[n]) > depth:
                groups.setdefault(self.chains[n][depth], []).append(n)
        for n in members:
            chain = self.chains[n]
            if len(chain) <= depth:
                self._guard([n], lambda n=n: self._step(scope, n))
            elif groups.get(chain[depth]) is not None:
                group = groups.pop(chain[depth])
                self._guard(group, lambda key=chain[depth], group=group: self._module_call(scope, key, group, depth + 1))

    def _module_call(self, scope: _Scope, key: str, group: list[fx.Node], depth: int) -> None:
        path, module = self._call(group[0], key)
        inside = set(group)
        inputs: list[fx.Node] = []
        for n in group:
            for a in n.all_input_nodes:
                if a not in inside and a not in inputs and a not in self.traced.free and a not in self.traced.parameters \
                        and (self.traced.is_tensor(a) or a in self.relevant):
                    inputs.append(a)
        outputs = [n for n in group if any((u not in inside and u in self.relevant) or u.op == "output" for u in n.users)]
        if any(a in self.refused for a in inputs):
            self.refused.update(outputs)
            return
        if _layer_entry(module) is not None and self._layer(scope, path, module, group, inputs, outputs):
            return
        if _is_block(module) and _layer_entry(module) is None and self._block(scope, path, module, group, depth,
                                                                              inputs, outputs):
            return
        self._build(scope, group, depth)       # written out where it is called, its weights as Parameters

    def _layer(self, scope: _Scope, path: str, module: nn.Module, group: list[fx.Node], inputs: list[fx.Node],
               outputs: list[fx.Node]) -> bool:
        """One call of a catalog layer; False where only its steps can say what it does (it is
        called on a tensor without a batch axis, or with more than one tensor)."""
        entry = _layer_entry(module)
        assert entry is not None
        type_name, read = entry
        inside = set(group)
        key = self.chains[group[0]][-1]
        given = [a for n in group for a in n.all_input_nodes if a in self.traced.free and a not in inside
                 and self.traced.is_tensor(a) and not self._owned(a, path)
                 and key not in (a.meta.get("nn_module_stack") or {})]    # not made by the layer itself
        sources = list(dict.fromkeys(inputs + given))      # a constant expanded to the batch is an input too
        if len(sources) != 1 or len(outputs) != 1 or self._axis(sources[0]) != 0 or self._axis(outputs[0]) != 0:
            return False
        try:
            params = read(module)
        except Refuse:
            return False
        if not all(p.requires_grad for p in module.parameters()):
            return False        # frozen weights: Constants read by the layer's own steps
        weights = {id(p) for p in module.parameters()}
        used = [a for n in group for a in n.all_input_nodes if a in self.traced.parameters]
        if any(id(self.module.get_parameter(self.traced.parameters[p])) not in weights for p in used):
            return False
        name = scope.name(path)
        for p in used:
            self._own(p, f"{path} ({type(module).__name__})", key)
        node_id = self._node(scope, type_name, params, sources, name, outputs[0], group[0])
        for key, value in module.state_dict().items():
            scope.state[f"{node_id}.{key}"] = value.detach().clone()
        return True

    def _block(self, scope: _Scope, path: str, module: nn.Module, group: list[fx.Node], depth: int,
               inputs: list[fx.Node], outputs: list[fx.Node]) -> bool:
        """One call of a module of a class of its own as a block use; False where a block cannot
        take its inputs (no tensor, or a tensor without the batch axis first that the block does
        not only add or compare element by element: T5's position bias is expanded to the batch)."""
        inside = set(group)
        spread = [a for a in inputs if self._axis(a) is None and self.traced.meta(a).shape[0] == 1
                  and all(packet(u) in _ELEMENTWISE for u in a.users if u in inside)]
        if not inputs or not outputs or any(self._axis(a) != 0 and a not in spread for a in inputs):
            return False
        body = self.graph.new_body(type(module).__name__, {})
        inner = _Scope(body, path)
        for i, a in enumerate(inputs):
            meta = self.traced.meta(a)
            # a block's Input shows an example type; a use gives it the real one (a mask's bool)
            dtype = "float32" if meta.dtype.is_floating_point else "int64"
            self._node(inner, "Input", {"shape": [self.traced.size(s) for s in meta.shape[1:]], "dtype": dtype}, [],
                       "x" if len(inputs) == 1 else f"x{i + 1}", a)
        before = len(self.problems)
        self._build(inner, group, depth)
        if len(self.problems) > before or any(o in self.refused or o not in inner.values for o in outputs):
            if len(self.problems) == before:
                self.problems.append(f"{path} ({type(module).__name__}): returns a value a block cannot pass on")
            self.refused.update(outputs)
            return True
        ports = {_Wire(node_id): a for node_id, a in zip(body.inputs(), inputs)}
        handed_on = {o: ports[inner.values[o]] for o in outputs if inner.values[o] in ports}
        outputs = [o for o in outputs if o not in handed_on]   # an input handed back unchanged is the input
        for o, a in handed_on.items():
            scope.values[o] = self._ref(scope, a)
        if not outputs:          # the module only hands its input on (x.contiguous())
            return True
        for i, o in enumerate(outputs):
            self._node(inner, "Output", {}, [o], "out" if len(outputs) == 1 else f"out{i + 1}")
        body.apply(layout_edit(body))
        definition = self.blocks.define(module, body)
        sources = [a if a not in spread else self._function(
            scope, "expand", [a, [{"batch": 1}] + [-1] * (self.traced.meta(a).dim() - 1)], {}, f"{_stem(a)}_batch")
            for a in inputs]
        node_id = self._node(scope, definition, {}, sources, scope.name(path), None, group[0])
        for key, value in inner.state.items():
            scope.state[f"{node_id}.{key}"] = value
        spec = scope.graph.nodes[node_id].spec
        for o, port in zip(outputs, spec.outputs):
            scope.values[o] = _Wire(node_id, port.name)
        return True

    def _node(self, scope: _Scope, type_name: str, params: dict, sources: list[Any], name: str,
              result: fx.Node | None = None, where: fx.Node | None = None) -> str:
        """Add a node fed by ``sources`` (steps or wires); ``result`` is the step it stands for."""
        try:
            node_id = scope.graph.add_node(type_name, id=scope.graph.unique_id(name, keep_if_free=True), **params)
        except GraphError as err:
            raise Refuse(str(err).split(": ", 1)[-1]) from None
        for source, port in zip(sources, input_ports(scope.graph, node_id, len(sources))):
            wire = source if isinstance(source, _Wire) else self._ref(scope, source)
            try:
                scope.graph.apply(Connect(Edge(wire.node, node_id, wire.port, port)))
            except GraphError as err:
                raise Refuse(str(err)) from None
        if result is not None and type_name not in scope.graph.blocks:
            scope.values[result] = _Wire(node_id, "out")
        return node_id

    # ------------------------------------------------------------------ values
    def _axis(self, n: fx.Node) -> int | None | str:
        try:
            return self.traced.batch_axis(n)
        except ValueError:
            return "merged"

    def _ref(self, scope: _Scope, n: fx.Node) -> _Wire:
        if n in self.refused:
            raise Downstream()
        if n in self.traced.free:
            value = self._constant(scope, n)
            need(isinstance(value, _Wire), f"uses {n.name} where a tensor is needed")
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

    def _parameter(self, scope: _Scope, p: fx.Node) -> _Wire:
        """A learned tensor read by a step: a Parameter node, or a Constant where it is frozen
        (``requires_grad=False``: Whisper's sinusoidal positions), which training leaves as it is."""
        if p not in scope.parameters:
            name = self.traced.parameters[p]
            tensor = self.module.get_parameter(name)
            if not tensor.requires_grad:
                scope.parameters[p] = self._constant_node(scope, tensor.detach(), p, scope.name(name))
                return scope.parameters[p]
            need(tensor.dtype == torch.float32, f"a learned tensor of type {tensor.dtype} (only float32)")
            need(tensor.dim() > 0, "a learned single number (a tensor with no axes)")
            self._own(p, scope.path or type(self.module).__name__, scope)
            node_id = self._node(scope, "Parameter", {"shape": list(tensor.shape), "init": "normal", "value": 0.02},
                                 [], scope.name(name))
            scope.state[node_id] = tensor.detach().clone()
            scope.parameters[p] = _Wire(node_id)
        return scope.parameters[p]

    def _constant(self, scope: _Scope, n: fx.Node) -> Any:
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
                value = self._function(scope, "expand", [self._constant_node(scope, row, n), sizes], {}, _stem(n))
            elif all(torch.equal(t.flatten(), torch.arange(t.numel())) and t.numel() == t.shape[axis]
                     for t in (first, second)):
                value = _BatchIndex(axis)
            else:
                raise Refuse(f"computes {n.name} from the batch size alone, different for each sample")
        scope.constants[n] = value
        return value

    def _constant_node(self, scope: _Scope, tensor: torch.Tensor, n: fx.Node, name: str | None = None) -> _Wire:
        stored = {torch.float32: torch.float32, torch.int64: torch.int64, torch.bool: torch.int64,
                  torch.int32: torch.int64}.get(tensor.dtype)
        need(stored is not None, f"a constant tensor of type {tensor.dtype} (float32, int64, int32 or bool)")
        need(tensor.dim() > 0, "a constant single number where a tensor is needed")
        name = name or _constant_name(self.traced, n)
        node_id = self._node(scope, "Constant", {"shape": list(tensor.shape), "value": 0.0,
                                                 "dtype": "float32" if stored == torch.float32 else "int64"}, [], name)
        scope.state[node_id] = tensor.to(stored).contiguous()
        wire = _Wire(node_id)
        if tensor.dtype != stored:          # a mask is kept as 0/1 and made true/false again
            wire = self._function(scope, CONVERSIONS[tensor.dtype], [wire], {}, f"{name}_{CONVERSIONS[tensor.dtype]}")
        return wire

    # ------------------------------------------------------------------ one step
    def _step(self, scope: _Scope, n: fx.Node) -> None:
        if any(a in self.refused for a in n.all_input_nodes):
            raise Downstream()
        if n.target is operator.getitem:
            source, index = n.args
            need(isinstance(source, fx.Node) and source in scope.ports and isinstance(index, int),
                 f"takes part {index} of {source}, which is not a list of results")
            scope.values[n] = _Wire(scope.ports[source], f"out{index + 1}")  # type: ignore[index,operator]
            return
        name = packet(n)
        target = n.target
        if functional(target) is not None:
            self._in_place(n)
            target = functional(target)
            name = name[:-1]
        if name in PASS_THROUGH:
            scope.values[n] = self._ref(scope, n.all_input_nodes[0])
            return
        a = schema_args(target, n)
        special = getattr(self, f"_aten_{name}", None)
        if special is not None and special(scope, n, a) is not False:
            return
        if name in _ACTIVATIONS and self._activation(scope, n, name, a):
            return
        call = call_of(target)
        if call is None:
            raise Refuse(f"no NetLoom layer or operation for the ATen operation {target}")
        self._call_function(scope, n, target, call, a)

    def _in_place(self, n: fx.Node) -> None:
        """``x.add_(y)`` is ``x + y`` when nothing reads x afterwards; a graph has no memory to change."""
        changed = n.args[0]
        need(isinstance(changed, fx.Node) and changed.op != "placeholder",
             f"changes an input or a weight in place ({packet(n)})")
        assert isinstance(changed, fx.Node)
        later = [u for u in changed.users if u is not n and self.traced.order[u] > self.traced.order[n]
                 and u in self.traced.live]
        need(not later, f"changes {changed.name} in place ({packet(n)}) and reads it again afterwards")

    def _call_function(self, scope: _Scope, n: fx.Node, target: Any, call: Call, a: dict[str, Any]) -> None:
        odd = unusual(target, call, a)
        need(odd is None, f"calls {target} with {odd}, which {call.op} does not take")
        self._function(scope, call.op, [a[k] for k in call.args], keyword_values(target, call, a), _stem(n), n)

    def _function(self, scope: _Scope, op: str, args: list[Any], kwargs: dict[str, Any], name: str,
                  result: fx.Node | None = None) -> _Wire:
        wires: list[_Wire] = []
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
        return _Wire(node_id, "out")

    def _literal(self, scope: _Scope, value: Any, wires: list[_Wire]) -> Any:
        """An argument as a Function node stores it; a tensor becomes an input wire."""
        if isinstance(value, fx.Node):
            if self.traced.is_size(value):
                try:
                    return self.traced.size(value)
                except ValueError as why:
                    raise Refuse(f"uses {why}") from None
            if value in self.traced.free:
                found = self._constant(scope, value)
                need(not isinstance(found, _BatchIndex), f"uses {value.name} (the batch index) other than to index")
                if not isinstance(found, _Wire):
                    return self._literal(scope, found, wires)
                value = found
            else:
                value = self._ref(scope, value)
        if isinstance(value, _Wire):
            if value not in wires:
                wires.append(value)
            return {"tensor": wires.index(value)}
        if isinstance(value, _Index):
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

    # ------------------------------------------------------------------ steps that read as layers
    def _activation(self, scope: _Scope, n: fx.Node, name: str, a: dict[str, Any]) -> bool:
        source = a["self"]
        if self._axis(source) != 0 or source in self.traced.free:
            return False
        params: dict[str, Any] = {}
        if name in ("softmax", "log_softmax"):
            if a.get("dtype") is not None:
                return False
            params["dim"] = a["dim"]
        elif name == "gelu":
            params["approximate"] = a["approximate"]
        elif name == "leaky_relu":
            params["negative_slope"] = float(a["negative_slope"])
        elif name == "elu":
            if a["scale"] != 1 or a["input_scale"] != 1:
                return False
            params["alpha"] = float(a["alpha"])
        self._node(scope, _ACTIVATIONS[name], params, [source], _stem(n), n)
        return True

    def _merge(self, scope: _Scope, n: fx.Node, a: dict[str, Any], type_name: str) -> bool:
        """``a + b`` of two tensors of one shape, batch first: an Add (chained: a + b + c is one)."""
        x, y = a["self"], a["other"]
        if not (self.traced.is_tensor(x) and self.traced.is_tensor(y)) or a.get("alpha", 1) != 1 \
                or x in self.traced.free or y in self.traced.free or self._axis(x) != 0 or self._axis(y) != 0 \
                or self.traced.meta(x).shape != self.traced.meta(y).shape or not self.traced.meta(x).is_floating_point() \
                or not self.traced.meta(y).is_floating_point():
            return False
        first = scope.values.get(x)
        if first is not None and scope.graph.nodes[first.node].type == type_name and len(x.users) == 1:
            wire = self._ref(scope, y)
            scope.graph.apply(Connect(Edge(wire.node, first.node, wire.port, "in")))
            scope.values[n] = first
            return True
        self._node(scope, type_name, {}, [x, y], _stem(n), n)
        return True

    def _aten_add(self, scope, n, a):
        return self._merge(scope, n, a, "Add")

    def _aten_mul(self, scope, n, a):
        return self._merge(scope, n, a, "Multiply")

    def _aten_rsub(self, scope, n, a):
        need(a["alpha"] == 1, f"rsub with alpha={a['alpha']}")
        self._function(scope, "sub", [a["other"], a["self"]], {}, _stem(n), n)

    def _aten_div(self, scope, n, a):
        mode = a.get("rounding_mode")
        if mode is None:
            return False
        need(mode == "floor", f"division rounding {mode!r} (only floor)")
        self._function(scope, "floordiv", [a["self"], a["other"]], {}, _stem(n), n)

    def _aten_dropout(self, scope, n, a):
        """Dropout that is on while training: a Dropout layer, which follows the graph's mode."""
        source = a["input"]
        if not a["train"] or a["p"] == 0:
            scope.values[n] = self._ref(scope, source)
            return
        need(self._axis(source) == 0, "dropout on a tensor whose batch axis is not first")
        self._node(scope, "Dropout", {"p": float(a["p"])}, [source], _stem(n), n)

    def _aten_embedding(self, scope, n, a):
        need(not a["scale_grad_by_freq"] and not a["sparse"], "an embedding with scale_grad_by_freq or sparse")
        padding = a["padding_idx"] if a["padding_idx"] != -1 else None
        self._function(scope, "embedding", [a["indices"], a["weight"]], {"padding_idx": padding} if padding else {},
                       _stem(n), n)

    def _aten_einsum(self, scope, n, a):
        self._function(scope, "einsum", [a["equation"], *a["tensors"]], {}, _stem(n), n)

    def _aten_to(self, scope, n, a):
        self._convert(scope, n, a["self"])

    def _aten__to_copy(self, scope, n, a):
        self._convert(scope, n, a["self"])

    def _aten_type_as(self, scope, n, a):
        self._convert(scope, n, a["self"])

    def _convert(self, scope: _Scope, n: fx.Node, source: fx.Node) -> None:
        """A change of type; none when the type stays (``x.to(x.device)``)."""
        have, want = self.traced.meta(source).dtype, self.traced.meta(n).dtype
        if have == want:
            scope.values[n] = self._ref(scope, source)
            return
        need(want in CONVERSIONS, f"converts to {want} (float32, int64, int32 or bool)")
        self._function(scope, CONVERSIONS[want], [source], {}, _stem(n), n)

    def _reshape(self, scope: _Scope, n: fx.Node, source: fx.Node, sizes: list[Any]) -> bool:
        """A reshape that keeps the batch axis first is a Reshape (or Flatten); one that merges it
        with the next axes, to multiply rows by a matrix (GPT-2's Conv1D), is kept apart."""
        if source in scope.rows:
            wire, shape = scope.rows[source]
            if self._axis(n) != 0 or self.traced.shape(n) != shape:
                return False
            scope.values[n] = wire
            return True
        if self._axis(source) != 0:
            return False
        if self._axis(n) == "merged":
            if len(self.traced.meta(n).shape) != 2:
                return False
            scope.rows[n] = (self._ref(scope, source), self.traced.shape(source))
            return True
        literal = [self.traced.size(s) for s in sizes]
        if self._axis(n) != 0 or literal[0] not in ({"batch": 1}, -1) or not all(isinstance(s, int) for s in literal[1:]):
            return False
        if self.traced.shape(n) == self.traced.shape(source):     # the shape it had
            scope.values[n] = self._ref(scope, source)
        elif literal[1:] == [-1]:
            self._node(scope, "Flatten", {"start_dim": 1, "end_dim": -1}, [source], _stem(n), n)
        else:
            shape = [int(s) for s in self.traced.meta(n).shape[1:]]
            self._node(scope, "Reshape", {"shape": shape}, [source], _stem(n), n)
        return True

    def _aten_view(self, scope, n, a):
        return self._reshape(scope, n, a["self"], a["size"])

    def _aten_reshape(self, scope, n, a):
        return self._reshape(scope, n, a["self"], a["shape"])

    def _aten__unsafe_view(self, scope, n, a):
        return self._reshape(scope, n, a["self"], a["size"])

    def _aten_addmm(self, scope, n, a):
        """bias + rows @ W on rows of a batch: the same as x @ W + bias on the batch itself."""
        rows = a["mat1"]
        need(rows in scope.rows, "addmm (a matrix product of two 2-D tensors) on a tensor with the batch axis")
        need(a["beta"] == 1 and a["alpha"] == 1, "addmm with beta or alpha other than 1")
        wire, shape = scope.rows[rows]
        product = self._function(scope, "matmul", [wire, a["mat2"]], {}, f"{_stem(n)}_matmul")
        scope.rows[n] = (self._function(scope, "add", [product, a["self"]], {}, _stem(n)), [*shape[:-1], self.traced.size(
            self.traced.meta(n).shape[-1])])

    def _aten_mm(self, scope, n, a):
        rows = a["self"]
        if rows not in scope.rows:
            return False
        wire, shape = scope.rows[rows]
        scope.rows[n] = (self._function(scope, "matmul", [wire, a["mat2"]], {}, _stem(n)), [*shape[:-1], self.traced.size(
            self.traced.meta(n).shape[-1])])

    def _aten_transpose(self, scope, n, a):
        rank = self.traced.meta(n).dim()
        dims = list(range(rank))
        i, j = a["dim0"] % rank, a["dim1"] % rank
        dims[i], dims[j] = dims[j], dims[i]
        return self._permute(scope, n, a["self"], dims)

    def _aten_permute(self, scope, n, a):
        rank = self.traced.meta(n).dim()
        return self._permute(scope, n, a["self"], [d % rank for d in a["dims"]])

    def _permute(self, scope: _Scope, n: fx.Node, source: fx.Node, dims: list[int]) -> bool:
        if self._axis(source) != 0 or dims[0] != 0 or source in self.traced.free:
            return False
        self._node(scope, "Permute", {"dims": [d - 1 for d in dims[1:]]}, [source], _stem(n), n)
        return True

    def _aten_flatten(self, scope, n, a):
        if self._axis(a["self"]) != 0 or a["start_dim"] < 1 or a["self"] in self.traced.free:
            return False
        self._node(scope, "Flatten", {"start_dim": a["start_dim"], "end_dim": a["end_dim"]}, [a["self"]], _stem(n), n)

    def _aten_cat(self, scope, n, a):
        parts, dim = a["tensors"], a["dim"]
        rank = self.traced.meta(n).dim()
        if dim % rank == 0 or any(self._axis(p) != 0 or p in self.traced.free for p in parts):
            return False
        self._node(scope, "Concat", {"dim": dim}, list(parts), _stem(n), n)

    def _aten_slice(self, scope, n, a):
        """``x[:, start:end]`` as the index it was written as; ``x[:]`` is x."""
        end = a["end"]
        end = None if isinstance(end, int) and end >= 2**62 else end
        if a["start"] in (0, None) and end is None and a["step"] == 1:
            scope.values[n] = self._ref(scope, a["self"])
            return
        index: list[Any] = [slice(None)] * a["dim"] + [slice(a["start"], end, a["step"] if a["step"] != 1 else None)]
        self._function(scope, "getitem", [a["self"], _Index(index)], {}, _stem(n), n)

    def _aten_index(self, scope, n, a):
        """``x[i, j]`` with index tensors; a mask's ``x[arange(batch)[:, None], j]`` (each sample its
        own row) is ``x[:, j[0]]``."""
        indices = list(a["indices"])
        first = indices[0] if indices else None
        if first is not None and first in self.traced.free and \
                isinstance(self._constant(scope, first), _BatchIndex):
            need(self._axis(a["self"]) == 0 and all(i is not None for i in indices),
                 "indexes a batch with the batch index other than as each sample's own row")
            rest: list[Any] = [slice(None)]
            for i in indices[1:]:
                value = self.traced.value(i, self.traced.batch_sizes[0]) if i in self.traced.free else None
                need(value is not None and self._axis(i) is None and value.shape[0] == 1,
                     "indexes each sample's row with an index that is not a constant")
                rest.append(self._constant_node(scope, value[0], i))
            self._function(scope, "getitem", [a["self"], _Index(rest)], {}, _stem(n), n)
            return
        index = [slice(None) if i is None else i for i in indices]
        self._function(scope, "getitem", [a["self"], _Index(index)], {}, _stem(n), n)

    def _aten_scaled_dot_product_attention(self, scope, n, a):
        """Attention with dropout is written out, softmax(q kᵀ · scale + mask), a Dropout layer
        and the product with v, as torch computes it: the Dropout follows the graph's mode."""
        p = a["dropout_p"]
        if not p:
            return False
        need(not a["enable_gqa"], "grouped-query attention with dropout")
        q, k, v, mask = a["query"], a["key"], a["value"], a["attn_mask"]
        scale = a["scale"] if a["scale"] is not None else 1.0 / math.sqrt(self.traced.meta(q).shape[-1])
        name = _stem(n)
        keys = self._function(scope, "transpose", [k, -2, -1], {}, f"{name}_keys")
        weights = self._function(scope, "mul", [self._function(scope, "matmul", [q, keys], {}, f"{name}_scores"),
                                                scale], {}, f"{name}_scaled")
        minus_infinity = None
        if a["is_causal"] or mask is not None:
            minus_infinity = self._constant_node(scope, torch.tensor([-math.inf]), n, "minus_infinity")
        if a["is_causal"]:
            rows, columns = self.traced.meta(q).shape[-2], self.traced.meta(k).shape[-2]
            causal = self._constant_node(scope, torch.ones(rows, columns, dtype=torch.bool).tril(), n, "causal")
            weights = self._function(scope, "where", [causal, weights, minus_infinity], {}, f"{name}_causal")
        if mask is not None and self.traced.meta(mask).dtype == torch.bool:
            weights = self._function(scope, "where", [mask, weights, minus_infinity], {}, f"{name}_masked")
        elif mask is not None:
            weights = self._function(scope, "add", [weights, mask], {}, f"{name}_masked")
        soft = self._function(scope, "softmax", [weights, -1], {}, f"{name}_softmax")
        if minus_infinity is not None:       # a row with every key masked attends to nothing, as in torch
            empty = self._function(scope, "eq", [self._function(scope, "amax", [weights, -1, True], {},
                                                                f"{name}_largest"), minus_infinity], {}, f"{name}_empty")
            soft = self._function(scope, "masked_fill", [soft, empty, 0.0], {}, f"{name}_attention")
        dropped = self._node(scope, "Dropout", {"p": float(p)}, [soft], f"{name}_dropout")
        self._function(scope, "matmul", [_Wire(dropped), v], {}, name, n)


@dataclass(frozen=True)
class _Index:
    """A literal index (``x[:, 0:8]``): a tuple of slices and tensors."""
    parts: list[Any]


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _stem(n: fx.Node) -> str:
    """A step's name without the number export gave it in the whole model, so that the same layer
    in two places reads the same: ``view``, ``view1`` in each attention, not ``view_7``."""
    return re.sub(r"_\d+$", "", n.name)


def _layer_entry(module: nn.Module):
    return MODULES.get(type(module)) or optional_modules().get(type(module))


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
    return "mask" if traced.meta(n).dtype == torch.bool else packet(step).strip("_") or _stem(n)


# Operations that combine tensors element by element, broadcasting: one without a batch axis may
# be expanded to the batch before them without changing what they compute.
_ELEMENTWISE = frozenset({"add", "sub", "mul", "div", "where", "masked_fill", "eq", "ne", "lt", "le", "gt", "ge",
                          "maximum", "minimum", "add_", "mul_", "sub_", "div_"})
_RESHAPING = frozenset({"unsqueeze", "squeeze", "view", "reshape", "expand", "to", "_to_copy", "slice", "select",
                        "mul", "add", "sub", "transpose", "permute", "contiguous", "clone", "alias", "lift_fresh_copy", "detach"})


class _Leaves(nn.Module):
    """The module with its result flattened to a tuple of tensors, as the graph's outputs are."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *inputs):
        result = self.module(*inputs)
        return tuple(t for t in pytree.tree_leaves(result) if isinstance(t, torch.Tensor))


def verify(module: nn.Module, graph: Graph, state: dict[str, torch.Tensor], inputs: tuple, tolerance: float) -> None:
    """The exactness check every import passes before it is returned: the graph, compiled with
    its weights, against the module on the examples (ImportProblem says how they differ)."""
    with mode(module, training=False):
        _verify(_Leaves(module), graph, state, inputs, tolerance)


def import_with_export(module: nn.Module, example_inputs, check_outputs: bool = True,
                       tolerance: float = 1e-5) -> tuple[Graph, dict[str, torch.Tensor]]:
    """Trace ``module`` with torch.export into a graph and its weights."""
    inputs = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else tuple(example_inputs)
    try:
        traced = trace(module, inputs)
    except ExportFailure as err:
        raise ImportProblem([str(err)]) from None
    try:
        graph, state = _ExportImporter(module, traced).run()
    except ImportProblem as problem:      # a branch on self.training is the cause to name first
        branch = _training_branch(module, inputs, traced)
        raise ImportProblem(([branch] if branch else []) + problem.problems) from None
    merge_alike(graph)
    if check_outputs:
        try:
            verify(module, graph, state, inputs, tolerance)
        except ImportProblem as problem:
            branch = _training_branch(module, inputs, traced)
            raise (ImportProblem([branch]) if branch else problem) from None
    return graph, state


def _training_branch(module: nn.Module, inputs: tuple, training: Traced) -> str | None:
    """Where a module computes otherwise while evaluating than while training (``if
    self.training:``), found by exporting it evaluating too; None where the steps are the same."""
    try:
        evaluating = trace(module, inputs, training=False)
    except ExportFailure:
        return None
    one, other = _outline(module, training), _outline(module, evaluating)
    for (step, where), (other_step, _) in zip(one, other):
        if step != other_step:
            return (f"{where}: computes otherwise while training than while evaluating ({step} where evaluating "
                    f"has {other_step}): a branch on self.training, which a graph cannot follow")
    if len(one) != len(other):
        step, where = (one if len(one) > len(other) else other)[min(len(one), len(other))]
        return (f"{where}: computes otherwise while training than while evaluating ({step} in one mode only): a "
                "branch on self.training, which a graph cannot follow")
    return None


def _outline(module: nn.Module, traced: Traced) -> list[tuple[str, str]]:
    """The operations a traced module performs outside its catalog layers (which follow the mode
    themselves), with the module each is in; leaving out what differs between the modes by
    design: dropout, and steps that hand their input on."""
    steps = []
    for n in traced.nodes:
        if n.op != "call_function" or n not in traced.live or is_check(n) or traced.is_size(n) \
                or packet(n) in PASS_THROUGH or packet(n) in ("dropout", "scaled_dot_product_attention"):
            continue
        paths = [path for path, _ in (n.meta.get("nn_module_stack") or {}).values() if path]
        if any(_layer_entry(module.get_submodule(p)) is not None for p in paths if _resolves(module, p)):
            continue
        where = paths[-1] if paths else ""
        owner = module.get_submodule(where) if where and _resolves(module, where) else module
        steps.append((packet(n), f"{where} ({type(owner).__name__})" if where else type(module).__name__))
    return steps


def _resolves(module: nn.Module, path: str) -> bool:
    try:
        module.get_submodule(path)
    except AttributeError:
        return False
    return True

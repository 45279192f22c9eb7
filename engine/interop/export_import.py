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
- every other step is a layer where it reads as one, else a whitelisted ``Function``
  (``export_steps``, ``export_ops``); a learned tensor read outside a layer is a ``Parameter``,
  a value computed from no input a ``Constant`` (``export_values``, ``export_trace``). Anything
  else is refused, naming the operation and the module it is in.

The module is exported in training mode, so dropout (also inside attention) and batch
statistics are in the graph as the module trains; a functional dropout becomes a Dropout layer,
which follows the graph's own mode, and attention with dropout is written out with one. The
finished graph is compiled and compared with the module (``verify``) before it is returned.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import fx, nn
from torch.utils import _pytree as pytree

from graphs import Graph
from graphs.block_merge import merge_alike
from graphs.layout import layout_edit

from .export_ops import PASS_THROUGH
from .export_steps import StepLowering
from .export_trace import ExportFailure, Traced, is_check, mode, packet, trace, written
from .export_values import Scope, Wire, stem
from .import_levels import is_block
from .import_maps import MODULES, Downstream, Refuse, optional_modules
from .importer import ImportProblem, _Blocks, _verify


class _Definitions(_Blocks):
    """The block definitions of one import (one per class and configuration)."""

    def __init__(self, root: Graph) -> None:      # the fx tracer's call records are not needed here
        self.root = root
        self.names: dict[str, str] = {}


class _ExportImporter(StepLowering):
    """The graph of an exported module: its module calls as layers and blocks (this class), their
    steps as nodes (``StepLowering``), in graphs of their own (``ValueBuilder``)."""

    def __init__(self, module: nn.Module, traced: Traced) -> None:
        super().__init__(module, traced)
        self.graph = Graph(name=type(module).__name__)
        self.blocks = _Definitions(self.graph)
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
            if is_block(module):
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
        scope = Scope(self.graph, "")
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

    def _build(self, scope: Scope, members: list[fx.Node], depth: int) -> None:
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

    def _module_call(self, scope: Scope, key: str, group: list[fx.Node], depth: int) -> None:
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
        if is_block(module) and _layer_entry(module) is None and self._block(scope, path, module, group, depth,
                                                                              inputs, outputs):
            return
        self._build(scope, group, depth)       # written out where it is called, its weights as Parameters

    def _layer(self, scope: Scope, path: str, module: nn.Module, group: list[fx.Node], inputs: list[fx.Node],
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
        node_id = self._node(scope, type_name, params, sources, name, outputs[0])
        for key, value in module.state_dict().items():
            scope.state[f"{node_id}.{key}"] = value.detach().clone()
        return True

    def _block(self, scope: Scope, path: str, module: nn.Module, group: list[fx.Node], depth: int,
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
        inner = Scope(body, path)
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
        ports = {Wire(node_id): a for node_id, a in zip(body.inputs(), inputs)}
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
            scope, "expand", [a, [{"batch": 1}] + [-1] * (self.traced.meta(a).dim() - 1)], {}, f"{stem(a)}_batch")
            for a in inputs]
        node_id = self._node(scope, definition, {}, sources, scope.name(path))
        for key, value in inner.state.items():
            scope.state[f"{node_id}.{key}"] = value
        spec = scope.graph.nodes[node_id].spec
        for o, port in zip(outputs, spec.outputs):
            scope.values[o] = Wire(node_id, port.name)
        return True


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _layer_entry(module: nn.Module):
    return MODULES.get(type(module)) or optional_modules().get(type(module))


# Operations that combine tensors element by element, broadcasting: one without a batch axis may
# be expanded to the batch before them without changing what they compute.
_ELEMENTWISE = frozenset({"add", "sub", "mul", "div", "where", "masked_fill", "eq", "ne", "lt", "le", "gt", "ge",
                          "maximum", "minimum", "add_", "mul_", "sub_", "div_"})

class _Leaves(nn.Module):
    """The module with its result flattened to a tuple of tensors, as the graph's outputs are."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, *inputs):
        result = self.module(*inputs)
        return tuple(t for t in pytree.tree_leaves(result) if isinstance(t, torch.Tensor))


def verify(module: nn.Module, graph: Graph, state: dict[str, torch.Tensor], inputs: tuple, tolerance: float) -> None:
    """The exactness check every import passes before it is returned, the fx importer's own: the
    graph, compiled with its weights, evaluates and trains as the module does (``fidelity``;
    ImportProblem says how they differ). Tensors are paired by value: this tracer keeps no record
    of where each came from."""
    with mode(module, training=False):
        _verify(_Leaves(module), graph, state, {}, inputs, tolerance)


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

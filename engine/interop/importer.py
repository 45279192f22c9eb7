"""``import_module(module, example_inputs)``: any traceable ``nn.Module`` as a graph.

torch.fx traces the module; every step is mapped to a catalog layer with its parameters read
back from the module, and the weights come along as a state dict for the compiled graph. A step
no layer expresses (``x.transpose(1, 2)``, ``F.scaled_dot_product_attention``, ``x[:, 0]``)
becomes a general ``Function`` node when its operation is on the whitelist, and a learned tensor
read outside a layer (a class token, a layer scale) a ``Parameter`` node.

Sizes computed while the module runs (``n, c, h, w = x.shape``) are not steps of the graph: the
traced module is run on the examples at two batch sizes, every value that is not a tensor is
written down as the literal it was, and one that follows the batch size as ``batch``. So the
graph is exact for the examples' shapes with any batch size, as every NetLoom graph is. The two
runs evaluate every level of blocks at once (``import_levels``).

The module's own hierarchy becomes blocks: a submodule of a class of its own (torchvision's
Bottleneck, Inception's InceptionA) is traced on its own into a block body, one definition per
class and configuration (then merged: the numbers that differ become the block's parameters),
and used where the module calls it (a module passed a list of feature maps that it joins,
DenseNet's layer, takes their concatenation); containers (``nn.Sequential``) are only
namespaces and are written out. ResNet-50 thus opens as a stem, 16 bottleneck uses
and a head, with weights named as in its code. What
is not on the whitelist (or a setting a layer cannot express) is refused with a list of every such
step and where it occurs: nothing is dropped or approximated. As a last guard the imported graph
is compiled and must give the module's own outputs on the example inputs.
"""

from __future__ import annotations

import math
import operator
import re
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import fx, nn

from graphs import CATALOG, FUNCTION, Edge, Graph, GraphError
from graphs.block_merge import merge_alike
from graphs.blocks import REPEAT
from graphs.edits import Connect, DefineBlock
from graphs.layout import layout_edit

from ..checking import check
from ..compiling import compile_graph, module_attributes
from ..words import first_line
from .fidelity import verify_same_training
from .import_calls import bind, fixed
from .import_levels import ImportProblem, Level, Levels, is_block
from .import_maps import (
    ACTIVATIONS,
    METHOD_ACTIVATIONS,
    VARARGS_METHODS,
    Downstream,
    Refuse,
    arg,
    ints,
    module_entry,
    need,
    norm,
    norm_act_modules,
    operation_of,
)
from .import_values import Meta, NotLiteral, doubled, holds_tensor


def input_ports(graph: Graph, node_id: str, count: int) -> list[str]:
    """The ports ``count`` wires go to: a layer with one input takes all its tensors there (Add,
    Concat); a block, or a layer with several inputs (a decoder's target and memory), one per port."""
    node = graph.nodes[node_id]
    if node.type in graph.blocks or len(node.spec.inputs) > 1:
        return [p.name for p in node.spec.inputs]
    return [p.name for p in node.spec.inputs[:1]] * count


def _without_masks(n: fx.Node, count: int) -> list[fx.Node]:
    """The tensors a transformer layer or stack is called with (the sequence, and a decoder's
    memory), refusing masks: the catalog's layers attend to every position."""
    tensors = [a for a in n.args if isinstance(a, fx.Node)]
    need(len(tensors) == count and all(v is None or v is False for v in [*n.args[count:], *n.kwargs.values()]),
         "masks (NetLoom's transformer layers take none)")
    return tensors


class _Port(NamedTuple):
    """A value already in the graph: a node's output port (a Concat the importer made itself)."""
    node: str
    port: str


class _Blocks:
    """The definitions an import makes: one per module class and configuration (the traced body
    without its input shapes), named after the class (``Bottleneck``, then ``Bottleneck2`` ...)."""

    def __init__(self, root: Graph, levels: Levels) -> None:
        self.root = root
        self.levels = levels
        self.names: dict[str, str] = {}      # configuration -> block name
        self.owners: dict[int, tuple[str, int]] = {}  # id of a weight -> its first name, id of the graph holding it
        # weights held under several names (lm_head.weight = wte.weight): id -> the name module.parameters() gives
        root_module = levels.module
        names = {id(p): name for name, p in root_module.named_parameters()}
        self.tied = {id(p): names[id(p)] for name, p in root_module.named_parameters(remove_duplicate=False)
                     if name != names[id(p)]}

    def define(self, module: nn.Module, body: Graph) -> str:
        from graphs import graph_to_dict
        content = graph_to_dict(body)
        for node in content["nodes"]:
            if node["type"] == "Input":
                node["params"] = {k: v for k, v in node["params"].items() if k != "shape"}
        key = repr((type(module).__qualname__, content["nodes"], content["edges"]))
        if key not in self.names:
            # a private class's name without its underscore (torchvision's _DenseLayer: DenseLayer)
            stem = re.sub(r"\W", "", type(module).__name__).lstrip("_") or "Block"
            stem = stem if stem[0].isalpha() else "Block" + stem
            name, i = stem, 1
            while name in self.root.blocks or name in CATALOG or name == REPEAT:
                i += 1
                name = f"{stem}{i}"
            body.set_metadata("name", name)
            body.set_metadata("description", f"Imported from {type(module).__module__}.{type(module).__qualname__}")
            body.apply(layout_edit(body))
            self.root.apply(DefineBlock(name, body))
            self.names[key] = name
        return self.names[key]


class _Importer:
    def __init__(self, level: Level, blocks: _Blocks, root: bool = False) -> None:
        self.level = level
        self.module = level.module
        self.inputs = level.calls[0].tensors     # the examples (a block: its first call's tensors)
        self.path = level.path                   # where this module sits in the imported one ("" for it)
        if root:
            self.graph = blocks.root
        else:               # a block body: its blocks are the document's
            self.graph = blocks.root.new_body(type(self.module).__name__, {})
        self.blocks = blocks
        # fx values are typed as any argument (numbers, lists, nodes): the maps take what fx gives.
        self.values: dict[Any, tuple[str, str]] = {}     # fx value -> (node id, port)
        self.pending: dict[Any, tuple[str, Any]] = {}     # tuples of tensors: RNN, attention, split results
        self.problems: list[str] = []
        self.final = False          # a problem is the model's own (ImportProblem.final)
        self.state: dict[str, torch.Tensor] = {}
        # compiled name (a node, or a node's weight) -> the name of what it was in the module, for the guard
        self.origins: dict[str, str] = {}
        self.module_users: dict[Any, str] = {}
        self.attributes: dict[str, tuple[str, str]] = {}  # tensor attribute -> its Parameter/Constant node
        self.refused: set[fx.Node] = set()
        self.concats: dict[tuple, _Port] = {}    # (joined values, dim) -> the Concat that joined them

    def run(self) -> tuple[Graph, dict[str, torch.Tensor]]:
        if self.level.problem is not None:      # found while tracing or evaluating it
            raise self.level.problem
        assert self.level.traced is not None
        self.traced = traced = self.level.traced
        self.concrete = self.level.concrete
        for n in traced.graph.nodes:
            try:
                self._visit(n)
            except Downstream:
                self.refused.add(n)
            except Refuse as why:
                self.refused.add(n)
                self.final = self.final or why.final
                self.problems.append(f"{self._where(n)}: {why}")
            except ImportProblem:
                raise
            except Exception as err:        # a case the maps did not foresee: named, never raised raw
                self.refused.add(n)
                self.problems.append(f"{self._where(n)}: {type(err).__name__}: {first_line(err)}")
        if self.problems:
            raise ImportProblem(self.problems, final=self.final)
        self.graph.apply(layout_edit(self.graph))
        return self.graph, self.state

    def _path(self, name: str) -> str:
        """A name in this module as a name in the imported one."""
        return f"{self.path}.{name}" if self.path else name

    def _where(self, n: fx.Node) -> str:
        prefix = f"{self.path}." if self.path else ""
        if n.op == "call_module":
            return f"{prefix}{n.target} ({type(self.traced.get_submodule(str(n.target))).__name__})"
        target = getattr(n.target, "__name__", str(n.target))
        return f"{prefix}{n.name} ({n.op.replace('call_', '')} {target})"

    # ------------------------------------------------------------------ building
    def _id(self, name: str) -> str:
        """The module's own name where it is free (``layer1_0_conv1``), as hand-written code has it."""
        return self.graph.unique_id(re.sub(r"\W", "_", name), keep_if_free=True)

    def _add(self, n: fx.Node, type_name: str, params: dict, sources: list[Any], name: str | None = None,
             origin: str = "") -> str:
        """A node for ``n``; ``origin``: the module or tensor of the traced module it holds, by its
        path there, which the node keeps so that its weights export under the original's keys."""
        try:
            node_id = self.graph.add_node(type_name, id=self._id(name or n.name), origin=origin, **params)
        except GraphError as err:
            raise Refuse(str(err).split(": ", 1)[-1]) from None
        spec = self.graph.nodes[node_id].spec
        for source, port_name in zip(sources, input_ports(self.graph, node_id, len(sources))):
            src_id, port = self._value(source)
            self._wire(Edge(src_id, node_id, port, port_name))
        if (type_name in self.graph.blocks or type_name == FUNCTION) and len(spec.outputs) > 1:
            # several results: unpacked by index
            self.pending[n] = ("ports", node_id)
        elif spec.outputs:
            self.values[n] = (node_id, spec.outputs[0].name)
        return node_id

    def _concat(self, parts: list[Any], dim: int, name: str) -> _Port:
        """``parts`` joined along ``dim`` (one part is itself). Where an earlier Concat joined the
        first of them (each DenseNet layer joins every feature map so far), this one joins that
        Concat and the rest, so that the graph reads as a chain with short skips rather than a
        fan of wires from every layer to every later one."""
        sources = [_Port(*self._value(p)) for p in parts]
        if len(sources) == 1:
            return sources[0]
        joined = sources
        for count in range(len(sources) - 1, 1, -1):
            earlier = self.concats.get((tuple(sources[:count]), dim))
            if earlier is not None:
                joined = [earlier, *sources[count:]]
                break
        try:
            node_id = self.graph.add_node("Concat", id=self._id(name), dim=dim)
        except GraphError as err:
            raise Refuse(str(err).split(": ", 1)[-1]) from None
        for src_id, port in joined:
            self._wire(Edge(src_id, node_id, port, "in"))
        joint = self.concats[(tuple(sources), dim)] = _Port(node_id, "out")
        return joint

    def _wire(self, edge: Edge) -> None:
        try:
            self.graph.apply(Connect(edge))
        except GraphError as err:
            raise Refuse(str(err)) from None

    def _value(self, n: Any) -> tuple[str, str]:
        if isinstance(n, _Port):
            return n
        if isinstance(n, fx.Node) and n in self.refused:
            raise Downstream()
        if not isinstance(n, fx.Node) or n not in self.values:
            raise Refuse(f"uses {n!r}, which is not a tensor the graph can carry")
        return self.values[n]

    def _visit(self, n: fx.Node) -> None:
        if any(a in self.refused for a in n.all_input_nodes):
            raise Downstream()
        if n.op == "placeholder":
            example = self.inputs[len(self.graph.inputs())]
            dtype = "int64" if not example.is_floating_point() else "float32"
            self._add(n, "Input", {"shape": list(example.shape[1:]), "dtype": dtype}, [], name=n.name)
            return
        if n.op == "output":
            return self._outputs(n.args[0])
        if not holds_tensor(self.concrete.first.get(n)):
            return      # a size, a flag, a shape check: written as a literal where it is used
        if n.op == "get_attr":
            return self._attribute(n)
        if n.op != "call_module" and self.concrete.constant(n) is not None:
            return self._constant(n, self.concrete.constant(n), n.name)
        if n.op == "call_module":
            self._visit_module(n)
        elif n.op == "call_function":
            self._visit_function(n)
        elif n.op == "call_method":
            self._visit_method(n)

    def _outputs(self, returned: Any) -> None:
        """One Output node per tensor returned: a dict's named by its keys (segmentation's
        ``{"out": ...}``); else a block's ports are out, or out1, out2 ... as Group names them,
        and a model's outputs output1, output2 ..."""
        named = list(returned.items()) if isinstance(returned, dict) else [
            (None, r) for r in (returned if isinstance(returned, (tuple, list)) else (returned,))]
        for i, (key, result) in enumerate(named):
            if key is not None:
                name = str(key)
            elif self.path:
                name = "out" if len(named) == 1 else f"out{i + 1}"
            else:
                name = f"output{i + 1}"
            output = self.traced.graph.output_node()
            self._add(output, "Output", {}, [result], name=name)

    def _attribute(self, n: fx.Node) -> None:
        """A tensor the module holds outside any layer: a Parameter node if it is learned, else a
        Constant; one node per attribute however often it is read."""
        target = str(n.target)
        if target in self.attributes:
            self.values[n] = self.attributes[target]
            return
        try:
            tensor = self.traced.get_parameter(target)
        except AttributeError:          # a buffer: not learned
            return self._constant(n, self.concrete.constant(n), target)
        owner, graph = self.blocks.owners.setdefault(id(tensor), (self._path(target), id(self.graph)))
        if id(tensor) in self.blocks.tied and graph == id(self.graph):       # read by a tied layer here too
            self.values[n] = self.attributes[target] = self._shared_parameter(tensor, target)
            return
        if owner != self._path(target):
            raise Refuse(final=True, message=f"is the same tensor as {owner} (tied weights), which the graph would "
                                             "hold as two tensors that learn apart")
        need(tensor.dtype == torch.float32, f"a learned tensor of type {tensor.dtype} (only float32)")
        need(tensor.dim() > 0, "a learned single number (a tensor with no axes)")
        node_id = self._add(n, "Parameter", {"shape": list(tensor.shape), "init": "normal", "value": 0.02},
                            [], name=target, origin=target)
        self.state[node_id] = tensor.detach().clone()
        self.origins[node_id] = self._path(target)
        self.attributes[target] = self.values[n]

    def _constant(self, n: fx.Node, tensor: torch.Tensor | None, name: str) -> None:
        need(tensor is not None, "a tensor made while the model runs whose shape follows the batch size")
        assert tensor is not None
        dtype = {torch.float32: "float32", torch.int64: "int64"}.get(tensor.dtype)
        need(dtype is not None and tensor.dim() > 0,
              f"a constant tensor of type {tensor.dtype} with {tensor.dim()} axes (only float32 or int64, 1 axis or more)")
        node_id = self._add(n, "Constant", {"shape": list(tensor.shape), "dtype": dtype, "value": 0.0}, [], name=name,
                            origin=str(n.target) if n.op == "get_attr" else "")
        self.state[node_id] = tensor
        if n.op == "get_attr":
            self.origins[node_id] = self._path(str(n.target))
            self.attributes[str(n.target)] = self.values[n]

    def _visit_module(self, n: fx.Node) -> None:
        module = self.traced.get_submodule(str(n.target))
        if is_block(module):
            return self._visit_block(n, module)
        if isinstance(module, norm_act_modules()):
            return self._norm_act(n, module)
        if isinstance(module, (nn.TransformerEncoder, nn.TransformerDecoder)):
            return self._transformer_stack(n, module)
        entry = module_entry(module)
        if entry is None:
            raise Refuse(f"no NetLoom layer for {type(module).__name__}")
        type_name, read = entry
        params = read(module)
        tensors = [a for a in n.args if isinstance(a, fx.Node)]
        if type_name == "TransformerDecoderLayer":
            _without_masks(n, 2)
        elif type_name == "MultiheadAttention":
            need(len(set(n.args[:3])) == 1, "attention with different query, key and value (only self-attention)")
            need(n.kwargs.get("attn_mask") is None and n.kwargs.get("key_padding_mask") is None, "attention masks")
            tensors = tensors[:1]
        need(len(tensors) == (2 if type_name == "TransformerDecoderLayer" else 1), f"{len(tensors)} tensor inputs")
        has_weights = any(True for _ in module.state_dict())
        if has_weights and n.target in self.module_users:
            raise Refuse(f"the same layer is used twice (shared weights, also at {self.module_users[n.target]}), "
                          "which a graph cannot express")
        self.module_users[n.target] = n.name
        self._own(module, str(n.target))
        if any(id(p) in self.blocks.tied for p in module.parameters()):
            return self._tied_layer(n, module, type_name, str(n.target))
        node_id = self._layer(n, type_name, params, tensors, module, str(n.target))
        if type_name in ("RNN", "LSTM", "GRU", "MultiheadAttention"):
            del self.values[n]
            self.pending[n] = (type_name, node_id)

    def _layer(self, n: fx.Node, type_name: str, params: dict, sources: list, module: nn.Module, target: str) -> str:
        """A catalog layer made from ``module`` (at ``target``), with its weights."""
        node_id = self._add(n, type_name, params, sources, name=target, origin=target)
        self.origins[node_id] = self._path(target)
        for key, value in module.state_dict().items():
            self.state[f"{node_id}.{key}"] = value.detach().clone()
            self.origins[f"{node_id}.{key}"] = self._path(f"{target}.{key}")
        return node_id

    def _own(self, module: nn.Module, target: str) -> None:
        """Refuses a weight that another layer holds too (tied weights), unless both read it in
        this graph (``_tied_layer``)."""
        for key, parameter in module.named_parameters():
            name = self._path(f"{target}.{key}")
            owner, graph = self.blocks.owners.setdefault(id(parameter), (name, id(self.graph)))
            if owner != name and (id(parameter) not in self.blocks.tied or graph != id(self.graph)):
                raise Refuse(final=True, message=f"its weight {key} is the same tensor as {owner} (tied weights)" + (
                    " in another block: a block's body cannot read a weight outside it" if graph != id(self.graph)
                    else ", which the graph would hold as two tensors that learn apart"))

    def _tied_layer(self, n: fx.Node, module: nn.Module, type_name: str, target: str) -> None:
        """A Linear or Embedding whose weight another layer holds too: the call as a Function
        node (``F.linear``, ``F.embedding``) that reads the weight from one Parameter node, which
        every holder in this graph reads, so that it stays one tensor that learns from all."""
        need(type_name in ("Linear", "Embedding"), f"a {type_name} with tied weights (only Linear and Embedding)")
        if type_name == "Embedding":
            need(module.max_norm is None and not module.scale_grad_by_freq and not module.sparse,
                 "an Embedding with max_norm, scale_grad_by_freq or sparse and tied weights")
        tensors = [a for a in n.args if isinstance(a, fx.Node)]
        need(len(tensors) == 1 and not n.kwargs, f"{len(tensors)} tensor inputs")
        weights: list[torch.Tensor] = [module.weight]  # type: ignore[list-item]
        if type_name == "Linear" and module.bias is not None:
            weights.append(module.bias)  # type: ignore[arg-type]
        args: list[Any] = [{"tensor": i} for i in range(1 + len(weights))]
        if type_name == "Linear" and module.bias is None:
            args.append(None)
        if type_name == "Embedding":
            args.append(module.padding_idx)
        node_id = self._add(n, FUNCTION, {"op": type_name.lower(), "args": args, "kwargs": {}, "outputs": 1}, tensors,
                            name=target)
        self.origins[node_id] = self._path(target)
        for key, weight in zip(("weight", "bias"), weights):
            source, port = self._shared_parameter(weight, f"{target}.{key}")
            self._wire(Edge(source, node_id, port, "in"))

    def _shared_parameter(self, tensor: torch.Tensor, name: str) -> tuple[str, str]:
        """The Parameter node holding ``tensor`` in this graph, made on first use."""
        key = f"tensor {id(tensor)}"
        if key not in self.attributes:
            canonical = self.blocks.tied.get(id(tensor), self._path(name))
            node_id = self.graph.add_node("Parameter", id=self._id(canonical), shape=list(tensor.shape), init="normal",
                                          value=0.02)
            self.state[node_id] = tensor.detach().clone()
            self.origins[node_id] = canonical
            self.attributes[key] = (node_id, "out")
        return self.attributes[key]

    def _norm_act(self, n: fx.Node, module: nn.Module) -> None:
        """timm's BatchNormAct2d: a BatchNorm2d node, then its drop and its activation as layers."""
        tensors = [a for a in n.args if isinstance(a, fx.Node)]
        need(len(tensors) == 1 and not n.kwargs, f"{len(tensors)} tensor inputs")
        target = str(n.target)
        self._own(module, target)
        bn = self._add(n, "BatchNorm2d", norm(module), tensors, name=target)
        self.origins[bn] = self._path(target)
        for key, value in module.state_dict().items():
            if "." not in key:          # its own statistics and affine weights, not the activation's
                self.state[f"{bn}.{key}"] = value.detach().clone()
                self.origins[f"{bn}.{key}"] = self._path(f"{target}.{key}")
        for child in ("drop", "act"):
            part = getattr(module, child, None)
            if part is None or isinstance(part, nn.Identity):
                continue
            entry = module_entry(part)
            need(entry is not None, f"no NetLoom layer for its {child} {type(part).__name__}")
            assert entry is not None
            self._layer(n, entry[0], entry[1](part), [n], part, f"{target}.{child}")   # chained after the last

    def _transformer_stack(self, n: fx.Node, module: nn.TransformerEncoder | nn.TransformerDecoder) -> None:
        """``nn.TransformerEncoder`` or ``nn.TransformerDecoder`` (fx cannot trace their forward):
        a block of its layers in a chain, then its final norm, as the module holds them; a
        decoder's block takes the target and the memory, which every layer attends to."""
        decoder = isinstance(module, nn.TransformerDecoder)
        tensors = _without_masks(n, 2 if decoder else 1)
        target = str(n.target)
        self._own(module, target)
        body = self.blocks.root.new_body(type(module).__name__, {})
        inputs = [body.add_node("Input", id=name, shape=list(self.concrete.first[tensor].shape[1:]))
                  for name, tensor in zip(("x", "memory"), tensors)]
        last = inputs[0]
        parts = [(f"layers.{i}", layer) for i, layer in enumerate(module.layers)]
        parts += [("norm", module.norm)] if module.norm is not None else []
        ids = []
        for name, part in parts:
            entry = module_entry(part)
            need(entry is not None, f"no NetLoom layer for its {name} ({type(part).__name__})")
            assert entry is not None
            node_id = body.add_node(entry[0], id=name.replace(".", "_"), **entry[1](part))
            body.connect(last, node_id)
            if entry[0] == "TransformerDecoderLayer":
                body.apply(Connect(Edge(inputs[1], node_id, "out", "memory")))
            last = node_id
            ids.append(node_id)
        body.connect(last, body.add_node("Output", id="out"))
        use = self._add(n, self.blocks.define(module, body), {}, tensors, name=target)
        self.origins[use] = self._path(target)
        for node_id, (name, part) in zip(ids, parts):
            self.origins[f"{use}.{node_id}"] = self._path(f"{target}.{name}")
            for key, value in part.state_dict().items():
                self.state[f"{use}.{node_id}.{key}"] = value.detach().clone()
                self.origins[f"{use}.{node_id}.{key}"] = self._path(f"{target}.{name}.{key}")

    def _visit_block(self, n: fx.Node, module: nn.Module) -> None:
        """A submodule of its own class: traced on its own into a block body, then used here."""
        path = f"{self.path}.{n.target}" if self.path else str(n.target)
        need(n.target not in self.module_users, f"the same block is used twice (shared weights, also at "
                                                  f"{self.module_users.get(n.target)}), which a graph cannot express")
        self.module_users[n.target] = n.name
        level = self.blocks.levels.levels.get(path)
        tensors: list[Any]
        if id(module) in self.blocks.levels.listed:     # a list of feature maps: it takes their concatenation
            parts = n.args[0] if len(n.args) == 1 and not n.kwargs and isinstance(n.args[0], (list, tuple)) else ()
            need(bool(parts) and all(isinstance(p, fx.Node) for p in parts), "passes a block a list it cannot join")
            tensors = [self._concat(list(parts), 1, f"{n.target}_in")]
        else:
            # the block's inputs are the tensors it is passed; other values were fixed when it ran
            call = bind(module, n.args, n.kwargs, self.concrete.is_tensor,
                        lambda v: not holds_tensor(self.concrete.first.get(v)) if isinstance(v, fx.Node) else fixed(v))
            need(call is not None, "passes a block something other than tensors and fixed values")
            assert call is not None
            tensors = list(call.tensors)
        if level is None or len(level.calls) < 2 or len(level.calls[0].tensors) != len(tensors):
            raise Refuse("is not called when the module runs on the examples")
        inner = _Importer(level, self.blocks)
        try:
            body, state = inner.run()
        except ImportProblem as problem:
            self.final = self.final or problem.final
            self.problems.extend(problem.problems)
            raise Refuse(f"cannot be imported as a block ({len(problem.problems)} problems above)") from None
        name = self.blocks.define(module, body)
        node_id = self._add(n, name, {}, tensors, name=str(n.target), origin=str(n.target))
        self.origins[node_id] = path
        for key, value in state.items():
            self.state[f"{node_id}.{key}"] = value
        self.origins.update({f"{node_id}.{key}": value for key, value in inner.origins.items()})

    def _visit_function(self, n: fx.Node) -> None:
        fn = n.target
        if fn is operator.getitem:
            return self._getitem(n)
        tensors = [a for a in n.args if isinstance(a, fx.Node) and self.concrete.is_tensor(a)]
        if fn in (operator.add, operator.iadd, torch.add) and len(tensors) == 2 and len(n.args) == 2 \
                and not n.kwargs:
            return self._merge(n, "Add")
        if fn in (operator.mul, operator.imul, torch.mul) and len(tensors) == 2 and len(n.args) == 2:
            return self._merge(n, "Multiply")
        if fn in (torch.cat, torch.concat):
            parts = arg(n, 0, "tensors")
            dim = self._literal(arg(n, 1, "dim", 0), [])
            if all(isinstance(a, fx.Node) and a in self.values for a in parts) and isinstance(dim, int):
                self.values[n] = self._concat(list(parts), dim, n.name)
                return None
        if fn is torch.flatten:
            return self._flatten(n, n.args[0], arg(n, 1, "start_dim", 0), arg(n, 2, "end_dim", -1))
        if fn in (torch.permute, torch.transpose):
            return self._permute(n, fn is torch.transpose)
        if fn in ACTIVATIONS and len(tensors) == 1 and n.args[0] is tensors[0]:
            return self._activation(n, ACTIVATIONS[fn], n.args[0], n.args[1:], n.kwargs)
        if fn is F.adaptive_avg_pool2d:
            size = self._literal(arg(n, 1, "output_size"), [])
            if isinstance(size, int) or (isinstance(size, list) and all(isinstance(v, int) for v in size)):
                self._add(n, "AdaptiveAvgPool2d", {"output_size": size if isinstance(size, int) else ints(size)},
                          [n.args[0]])
                return None
        if fn in (F.max_pool2d, F.avg_pool2d) and len(n.args) <= 4 and set(n.kwargs) <= {"stride", "padding",
                                                                                          "ceil_mode"}:
            kernel = arg(n, 1, "kernel_size")
            stride = arg(n, 2, "stride", None) or None
            params = {"kernel_size": ints(kernel), "stride": ints(stride) if stride else None,
                      "padding": ints(arg(n, 3, "padding", 0)), "ceil_mode": bool(n.kwargs.get("ceil_mode", False))}
            self._add(n, "MaxPool2d" if fn is F.max_pool2d else "AvgPool2d", params, [n.args[0]])
            return None
        if fn is F.dropout:
            self._add(n, "Dropout", {"p": float(arg(n, 1, "p", 0.5))}, [n.args[0]])
            return None
        if getattr(fn, "__name__", "") == "stochastic_depth" and "torchvision" in getattr(fn, "__module__", ""):
            self._add(n, "StochasticDepth", {"p": float(arg(n, 1, "p")), "mode": arg(n, 2, "mode")}, [n.args[0]])
            return None
        return self._function(n)

    def _visit_method(self, n: fx.Node) -> None:
        name, this = str(n.target), n.args[0]
        if name in ("view", "reshape"):
            shape = self._literal(list(n.args[1:]) if len(n.args) != 2 or not isinstance(n.args[1], (tuple, list))
                                  else list(n.args[1]), [])
            keeps_batch = bool(shape) and shape[0] == {"batch": 1} and all(isinstance(s, int) for s in shape[1:])
            if keeps_batch and shape[1:] == [-1]:
                self._add(n, "Flatten", {"start_dim": 1, "end_dim": -1}, [this])
                return
            if keeps_batch and len(shape) > 1 and all(s >= 1 or s == -1 for s in shape[1:]) and shape.count(-1) <= 1:
                self._add(n, "Reshape", {"shape": shape[1:]}, [this])
                return
        if name == "flatten":
            return self._flatten(n, this, arg(n, 1, "start_dim", 0), arg(n, 2, "end_dim", -1))
        if name in ("permute", "transpose"):
            return self._permute(n, name == "transpose")
        if name in METHOD_ACTIVATIONS and len(n.args) <= 2 and set(n.kwargs) <= {"dim"}:
            return self._activation(n, METHOD_ACTIVATIONS[name], this, n.args[1:], n.kwargs)
        if name == "contiguous":
            self.values[n] = self._value(this)
            return
        return self._function(n)

    def _flatten(self, n: fx.Node, source: Any, start: Any, end: Any) -> None:
        start, end = self._literal(start, []), self._literal(end, [])
        if isinstance(start, int) and start >= 1 and isinstance(end, int):
            self._add(n, "Flatten", {"start_dim": start, "end_dim": end}, [source])
        else:
            self._function(n)

    def _permute(self, n: fx.Node, transpose: bool) -> None:
        """A reordering that keeps the batch axis first is a Permute layer; else a Function."""
        source: Any = n.args[0]
        rank = len(self.concrete.first[source].shape) if self.concrete.is_tensor(source) else 0
        if transpose:
            a, b = (self._literal(v, []) for v in (arg(n, 1, "dim0"), arg(n, 2, "dim1")))
            dims = list(range(rank))
            if isinstance(a, int) and isinstance(b, int) and rank:
                dims[a], dims[b] = dims[b], dims[a]
        else:
            given: Any = n.args[1:] if not (len(n.args) == 2 and isinstance(n.args[1], (tuple, list))) else n.args[1]
            dims = self._literal(list(given) if given else list(n.kwargs.get("dims", [])), [])  # type: ignore[arg-type]
            dims = [d % rank if isinstance(d, int) and rank else d for d in dims]
        if rank and dims and dims[0] == 0 and all(isinstance(d, int) for d in dims):
            self._add(n, "Permute", {"dims": [d - 1 for d in dims[1:]]}, [source])
        else:
            self._function(n)

    def _activation(self, n, type_name, source, args, kwargs) -> None:
        params = {}
        if type_name in ("Softmax", "LogSoftmax"):
            params["dim"] = args[0] if args else kwargs.get("dim", -1)
        elif type_name == "LeakyReLU":
            params["negative_slope"] = float(args[0] if args else kwargs.get("negative_slope", 0.01))
        elif type_name == "ELU":
            params["alpha"] = float(args[0] if args else kwargs.get("alpha", 1.0))
        elif type_name == "GELU":
            params["approximate"] = kwargs.get("approximate", "none")
        elif args or set(kwargs) - {"inplace"}:      # a setting the layer has not: the call itself
            return self._function(n)
        self._add(n, type_name, params, [source])

    def _merge(self, n: fx.Node, type_name: str) -> None:
        a: Any = n.args[0]
        b: Any = n.args[1]
        # (a + b) + c chains into one merge node when a + b is used only there
        first = self.values.get(a)
        if first and self.graph.nodes[first[0]].type == type_name and len(a.users) == 1:
            node_id = first[0]
            src, port = self._value(b)
            self._wire(Edge(src, node_id, port, "in"))
            self.values[n] = (node_id, "out")
            return
        self._add(n, type_name, {}, [a, b])

    # ------------------------------------------------------------------ general operations
    def _function(self, n: fx.Node) -> None:
        """A step no layer expresses, as a Function node: its operation must be on the whitelist
        and its arguments literals (sizes read from shapes are, once evaluated)."""
        name = operation_of(n)
        if name is None:
            module = getattr(n.target, "__module__", None) or ""
            module = "torch" if module.startswith("torch._C") else module     # built-ins: torch's own name
            what = f".{n.target}()" if n.op == "call_method" else \
                f"{module}.{getattr(n.target, '__name__', n.target)}".lstrip(".")
            raise Refuse(f"no NetLoom layer or operation for {what}")
        args: list[Any] = list(n.args)
        if n.op == "call_method" and name in VARARGS_METHODS and len(args) > 2:
            args = [args[0], list(args[1:])]
        wires: list[fx.Node] = []
        encoded = [self._literal(a, wires) for a in args]
        keywords = {k: self._literal(v, wires) for k, v in n.kwargs.items()}
        if name == "getitem":
            index = args[1] if len(args) > 1 else None
            need(not isinstance(index, list), "indexes with a list of positions (only slices, numbers, ... and None)")
        need(wires, "computes a tensor from no input")
        result = self.concrete.first[n]
        outputs = len(result) if isinstance(result, tuple) else 1
        need(isinstance(result, Meta) or all(isinstance(r, Meta) for r in result), "returns something other than tensors")
        self._add(n, FUNCTION, {"op": name, "args": encoded, "kwargs": keywords, "outputs": outputs}, wires)

    def _literal(self, value: Any, wires: list[fx.Node]) -> Any:
        """An argument as a Function node stores it; a tensor becomes the next input wire."""
        if isinstance(value, fx.Node):
            if self.concrete.is_tensor(value):
                self._value(value)
                if value not in wires:
                    wires.append(value)
                return {"tensor": wires.index(value)}
            if value in self.pending:
                raise Refuse(f"uses the whole result of {value.name} (several tensors) at once")
            try:
                return self.concrete.literal(value)
            except NotLiteral as why:
                raise Refuse(f"uses {why}") from None
        if isinstance(value, (list, tuple)):
            return [self._literal(v, wires) for v in value]
        if isinstance(value, slice):
            return {"slice": [self._literal(v, wires) for v in (value.start, value.stop, value.step)]}
        if value is Ellipsis:
            return {"ellipsis": True}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            need(math.isfinite(value), f"the number {value}, which a graph file cannot hold")
            return value
        raise Refuse(f"passes a {type(value).__name__} ({str(value)[:40]}), which a graph file cannot hold")

    def _getitem(self, n: fx.Node) -> None:
        source: Any = n.args[0]
        index: Any = n.args[1]
        kind = self.pending.get(source)
        if kind is not None and kind[0] == "ports":
            outputs = self.graph.nodes[kind[1]].spec.outputs
            if isinstance(index, str):          # a block that returns a dict: its ports are the keys
                port = next((p.name for p in outputs if p.name == re.sub(r"\W", "_", index)), None)
                need(port is not None, f"takes result {index!r}")
                self.values[n] = (kind[1], str(port))
                return
            need(isinstance(index, int) and -len(outputs) <= index < len(outputs), f"takes result {index!r}")
            self.values[n] = (kind[1], outputs[index].name)
            return
        if kind is not None:
            type_name, node_id = kind
            if type_name == "MultiheadAttention":
                need(index == 0, "uses the attention weights")
                self.values[n] = (node_id, "out")
                return
            if type_name in ("RNN", "LSTM", "GRU"):
                need(index == 0, "uses the hidden state tuple directly; use the output sequence or out[:, -1]")
                self.values[n] = (node_id, "seq")
                self.pending[n] = ("sequence", node_id)
                return
        if kind is not None and kind[0] == "sequence":
            node_id = kind[1]
            last = (isinstance(index, tuple) and len(index) in (2, 3) and index[0] == slice(None)
                    and index[1] == -1 and all(i == slice(None) for i in index[2:]))
            if last and not self.graph.nodes[node_id].params["bidirectional"]:
                self.values[n] = (node_id, "last")
                return
            self.values[n] = (node_id, "seq")
        return self._function(n)


TRACERS = ("auto", "fx", "export")


def import_module(module: nn.Module, example_inputs, check_outputs: bool = True, tolerance: float = 1e-5,
                  tracer: str = "auto") -> tuple[Graph, dict[str, torch.Tensor]]:
    """Trace ``module`` into a graph and its weights (a state dict for ``compile_graph``).

    ``tracer``: ``"fx"`` (torch.fx, this module), ``"export"`` (torch.export, for what fx cannot
    trace: ``export_import``), or ``"auto"``: fx, then export where fx fails; when both fail,
    ImportProblem lists what each said. With ``check_outputs`` the graph must evaluate and train
    as the module does (``fidelity``), whichever tracer made it."""
    if tracer not in TRACERS:
        raise ValueError(f"tracer {tracer!r}: give one of {', '.join(TRACERS)}")
    from .export_import import import_with_export  # it builds on this module's blocks and checks
    if tracer == "export":
        return import_with_export(module, example_inputs, check_outputs, tolerance)
    try:
        return _import_with_fx(module, example_inputs, check_outputs, tolerance)
    except ImportProblem as fx_problem:
        if tracer == "fx" or fx_problem.final:
            raise
        try:
            return import_with_export(module, example_inputs, check_outputs, tolerance)
        except ImportProblem as export_problem:
            raise ImportProblem([f"with torch.fx: {p}" for p in fx_problem.problems] +
                                [f"with torch.export: {p}" for p in export_problem.problems]) from None


def _import_with_fx(module: nn.Module, example_inputs, check_outputs: bool,
                    tolerance: float) -> tuple[Graph, dict[str, torch.Tensor]]:
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    inputs = tuple(example_inputs)
    was_training = module.training
    module.eval()
    try:
        levels = Levels(module, inputs, doubled(inputs))
        importer = _Importer(levels.root, _Blocks(Graph(name=type(module).__name__), levels), root=True)
        graph, state = importer.run()
        merge_alike(graph)          # one Bottleneck with parameters, not one per configuration
        if check_outputs:
            _verify(module, graph, state, importer.origins, inputs, tolerance)
    except ImportProblem:
        raise
    except Exception as err:        # whatever else goes wrong is a refusal that says what and where
        raise ImportProblem([f"{type(module).__name__}: {type(err).__name__}: {first_line(err)}"]) from err
    finally:
        module.train(was_training)
    return graph, state


def _verify(module, graph, state, origins, inputs, tolerance) -> None:
    report = check(graph)
    if not report.ok:
        raise ImportProblem([d.message for d in report.errors])
    try:
        compiled = compile_graph(graph, report).eval()
    except Exception as err:
        raise ImportProblem([f"the graph made from {type(module).__name__} does not compile: {type(err).__name__}: "
                             f"{first_line(err)}"]) from err
    missing = compiled.load_state_dict(state, strict=False)
    if missing.missing_keys or missing.unexpected_keys:
        raise ImportProblem([f"weights do not fit: missing {missing.missing_keys[:3]}, "
                             f"unexpected {missing.unexpected_keys[:3]}"])
    attributes = module_attributes(graph)       # a node id a GraphModule uses itself gets a "_"
    names = {".".join([attributes.get(head, head), *rest]): theirs
             for ours, theirs in origins.items() for head, *rest in [ours.split(".")]}
    # Without a record of where tensors came from (the export tracer keeps none), they pair by value.
    problems = verify_same_training(module, compiled, inputs, names or None, tolerance)
    if problems:
        more = [f"... and {len(problems) - _SHOWN} more differences"] if len(problems) > _SHOWN else []
        raise ImportProblem(problems[:_SHOWN] + more)


_SHOWN = 8      # differences listed when the graph is not the same model: the first ones say why

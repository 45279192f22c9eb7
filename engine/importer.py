"""``import_module(module, example_inputs)``: any traceable ``nn.Module`` as a graph.

torch.fx traces the module; every step is mapped to a catalog layer with its parameters read
back from the module, and the weights come along as a state dict for the compiled graph.

The module's own hierarchy becomes blocks: a submodule of a class of its own (torchvision's
Bottleneck, Inception's InceptionA) is traced on its own into a block body, one definition per
class and configuration (then merged: the numbers that differ become the block's parameters),
and used where the module calls it; containers (``nn.Sequential``)
are only namespaces and are written out. ResNet-50 thus opens as a stem, 16 bottleneck uses
and a head, with weights named as in its code. What
has no catalog layer (or a setting a layer cannot express) is refused with a list of every such
step and where it occurs: nothing is dropped or approximated. As a last guard the imported graph
is compiled and must give the module's own outputs on the example inputs.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import fx, nn

from graphs import CATALOG, Edge, Graph, GraphError
from graphs.block_merge import merge_alike
from graphs.blocks import REPEAT
from graphs.edits import Connect, DefineBlock
from graphs.layout import layout_edit

from .errors import first_line


class ImportProblem(ValueError):
    """The module cannot be imported exactly; ``problems`` lists each step and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("cannot import this module exactly:\n" + "\n".join(f"  {p}" for p in problems))


class _Refuse(Exception):
    pass


def _ints(value: Any) -> int | list[int]:
    if isinstance(value, int):
        return value
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


def _need(condition: Any, why: str) -> None:
    if not condition:
        raise _Refuse(why)


# ---------------------------------------------------------------------- modules
def _conv(m) -> dict:
    _need(m.padding_mode == "zeros", f"padding_mode={m.padding_mode!r} (only zeros)")
    _need(not isinstance(m.padding, str) or m.padding in ("valid", "same"), f"padding={m.padding!r}")
    padding = (0 if m.padding == "valid" else m.padding) if isinstance(m.padding, str) else _ints(m.padding)
    params = {"out_channels": m.out_channels, "kernel_size": _ints(m.kernel_size), "stride": _ints(m.stride),
              "padding": padding, "dilation": _ints(m.dilation), "groups": m.groups, "bias": m.bias is not None}
    if isinstance(m, nn.ConvTranspose2d):
        params["output_padding"] = _ints(m.output_padding)
    return params


def _pool(m) -> dict:
    _need(_ints(getattr(m, "dilation", 1)) == 1, "dilation other than 1")
    _need(not getattr(m, "return_indices", False), "return_indices=True")
    _need(getattr(m, "divisor_override", None) is None, "divisor_override")
    params = {"kernel_size": _ints(m.kernel_size), "stride": _ints(m.stride) if m.stride is not None else None,
              "padding": _ints(m.padding), "ceil_mode": bool(m.ceil_mode)}
    if isinstance(m, nn.AvgPool2d):
        params["count_include_pad"] = bool(m.count_include_pad)
    return params


def _norm(m) -> dict:
    _need(m.momentum is not None, "momentum=None (cumulative averages)")
    _need(m.track_running_stats, "track_running_stats=False")
    return {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}


def _recurrent(m) -> dict:
    _need(m.batch_first, "batch_first=False: NetLoom's recurrent layers take batch-first sequences")
    _need(getattr(m, "proj_size", 0) == 0, "proj_size")
    params = {"hidden_size": m.hidden_size, "num_layers": m.num_layers, "bias": m.bias, "dropout": float(m.dropout),
              "bidirectional": m.bidirectional}
    if isinstance(m, nn.RNN):
        params["nonlinearity"] = m.nonlinearity
    return params


def _layer_norm(m) -> dict:
    _need(len(m.normalized_shape) == 1, "normalising over more than the last axis")
    _need(getattr(m, "bias", True) is not None, "bias=False")
    return {"eps": m.eps, "elementwise_affine": m.elementwise_affine}


def _encoder(m) -> dict:
    _need(m.self_attn.batch_first, "batch_first=False")
    activation = getattr(m, "activation", None)
    name = "gelu" if activation in (F.gelu,) or isinstance(activation, nn.GELU) else (
        "relu" if activation in (F.relu,) or isinstance(activation, nn.ReLU) else None)
    _need(name is not None, f"activation {activation!r}")
    return {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features, "dropout": m.dropout.p,
            "activation": name, "norm_first": m.norm_first}


def _upsample(m) -> dict:
    _need(m.size is None and isinstance(m.scale_factor, (int, float)), "a size or per-axis scale factors")
    _need(m.mode in ("nearest", "bilinear") and not m.align_corners, f"mode {m.mode!r}")
    return {"scale_factor": float(m.scale_factor), "mode": m.mode}


MODULES: dict[type, tuple[str, Callable[[nn.Module], dict]]] = {
    nn.Linear: ("Linear", lambda m: {"out_features": m.out_features, "bias": m.bias is not None}),
    nn.Conv1d: ("Conv1d", _conv), nn.Conv2d: ("Conv2d", _conv), nn.ConvTranspose2d: ("ConvTranspose2d", _conv),
    nn.MaxPool1d: ("MaxPool1d", _pool), nn.MaxPool2d: ("MaxPool2d", _pool), nn.AvgPool2d: ("AvgPool2d", _pool),
    nn.AdaptiveAvgPool2d: ("AdaptiveAvgPool2d", lambda m: {"output_size": _ints(
        m.output_size if not isinstance(m.output_size, int) else (m.output_size,) * 2)}),
    nn.BatchNorm1d: ("BatchNorm1d", _norm), nn.BatchNorm2d: ("BatchNorm2d", _norm),
    nn.LayerNorm: ("LayerNorm", _layer_norm),
    nn.GroupNorm: ("GroupNorm", lambda m: {"num_groups": m.num_groups, "eps": m.eps, "affine": m.affine}),
    nn.LocalResponseNorm: ("LocalResponseNorm", lambda m: {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}),
    nn.Dropout: ("Dropout", lambda m: {"p": m.p}), nn.Dropout2d: ("Dropout2d", lambda m: {"p": m.p}),
    nn.ReLU: ("ReLU", lambda m: {}), nn.ReLU6: ("ReLU6", lambda m: {}),
    nn.LeakyReLU: ("LeakyReLU", lambda m: {"negative_slope": m.negative_slope}),
    nn.PReLU: ("PReLU", lambda m: {"num_parameters": m.num_parameters, "init": float(m.init)}),  # type: ignore[arg-type]
    nn.ELU: ("ELU", lambda m: {"alpha": m.alpha}), nn.GELU: ("GELU", lambda m: {"approximate": m.approximate}),
    nn.SiLU: ("SiLU", lambda m: {}), nn.Sigmoid: ("Sigmoid", lambda m: {}), nn.Tanh: ("Tanh", lambda m: {}),
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
}

# ---------------------------------------------------------------------- functions and methods
_ACTIVATIONS = {F.relu: "ReLU", torch.relu: "ReLU", F.relu6: "ReLU6", torch.sigmoid: "Sigmoid", F.sigmoid: "Sigmoid",
                torch.tanh: "Tanh", F.tanh: "Tanh", F.silu: "SiLU", F.gelu: "GELU", F.elu: "ELU",
                F.leaky_relu: "LeakyReLU", F.softmax: "Softmax", F.log_softmax: "LogSoftmax", torch.softmax: "Softmax"}
_METHOD_ACTIVATIONS = {"relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax",
                       "log_softmax": "LogSoftmax"}


def _arg(n: fx.Node, index: int, name: str, default: Any = None) -> Any:
    if len(n.args) > index:
        return n.args[index]
    return n.kwargs.get(name, default)


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def _is_block(module: nn.Module) -> bool:
    """A module of a class of its own, made of layers: it becomes a block. Built-in torch layers
    are mapped one to one, and containers only group names."""
    return (type(module) not in MODULES and not isinstance(module, _CONTAINERS)
            and not type(module).__module__.startswith("torch.nn") and any(True for _ in module.children()))


class _BlockTracer(fx.Tracer):
    """Stops at catalog layers and at blocks; traces through containers."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        return type(m) in MODULES or _is_block(m) or super().is_leaf_module(m, module_qualified_name)


class _Blocks:
    """The definitions an import makes: one per module class and configuration (the traced body
    without its input shapes), named after the class (``Bottleneck``, then ``Bottleneck2`` ...)."""

    def __init__(self, root: Graph, seen_inputs: dict[str, list[torch.Tensor]]) -> None:
        self.root = root
        self.seen_inputs = seen_inputs       # module path -> the tensors it was first called with
        self.names: dict[str, str] = {}      # configuration -> block name

    def define(self, module: nn.Module, body: Graph) -> str:
        from graphs import graph_to_dict
        content = graph_to_dict(body)
        for node in content["nodes"]:
            if node["type"] == "Input":
                node["params"] = {k: v for k, v in node["params"].items() if k != "shape"}
        key = repr((type(module).__qualname__, content["nodes"], content["edges"]))
        if key not in self.names:
            stem = re.sub(r"\W", "", type(module).__name__) or "Block"
            stem = stem if stem[0].isalpha() else "Block" + stem
            name, i = stem, 1
            while name in self.root.blocks or name in CATALOG or name == REPEAT:
                i += 1
                name = f"{stem}{i}"
            body.metadata["name"] = name
            body.metadata["description"] = f"Imported from {type(module).__module__}.{type(module).__qualname__}"
            body.apply(layout_edit(body))
            self.root.apply(DefineBlock(name, body))
            self.names[key] = name
        return self.names[key]


class _Importer:
    def __init__(self, module: nn.Module, example_inputs: tuple[torch.Tensor, ...],
                 blocks: _Blocks | None = None, path: str = "") -> None:
        self.module = module
        self.inputs = example_inputs
        self.path = path                     # where this module sits in the imported one ("" for it)
        if blocks is None:
            self.graph = Graph(name=type(module).__name__)
            blocks = _Blocks(self.graph, _first_inputs(module, example_inputs))
        else:               # a block body: its blocks are the document's
            self.graph = blocks.root.new_body(type(module).__name__, {})
        self.blocks = blocks
        # fx values are typed as any argument (numbers, lists, nodes): the maps take what fx gives.
        self.values: dict[Any, tuple[str, str]] = {}     # fx value -> (node id, port)
        self.pending: dict[Any, tuple[str, Any]] = {}     # partial values: RNN tuples, sizes
        self.problems: list[str] = []
        self.state: dict[str, torch.Tensor] = {}
        self.module_users: dict[Any, str] = {}

    def run(self) -> tuple[Graph, dict[str, torch.Tensor]]:
        try:
            tracer = _BlockTracer()
            traced = fx.GraphModule(self.module, tracer.trace(self.module))
        except Exception as err:   # data-dependent control flow and the like
            first = first_line(err)
            where = f"{self.path} ({type(self.module).__name__})" if self.path else type(self.module).__name__
            raise ImportProblem([f"torch.fx cannot trace {where}: {first}"]) from None
        traced.graph.eliminate_dead_code()    # e.g. the unused half of `seq, _ = self.lstm(x)`
        self.traced = traced
        placeholders = [n for n in traced.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(self.inputs):
            raise ImportProblem([f"forward takes {len(placeholders)} inputs but {len(self.inputs)} examples were given"])
        for n in traced.graph.nodes:
            try:
                self._visit(n)
            except _Refuse as why:
                self.problems.append(f"{self._where(n)}: {why}")
        if self.problems:
            raise ImportProblem(self.problems)
        self.graph.apply(layout_edit(self.graph))
        return self.graph, self.state

    def _where(self, n: fx.Node) -> str:
        prefix = f"{self.path}." if self.path else ""
        if n.op == "call_module":
            return f"{prefix}{n.target} ({type(self.traced.get_submodule(str(n.target))).__name__})"
        target = getattr(n.target, "__name__", str(n.target))
        return f"{prefix}{n.name} ({n.op.replace('call_', '')} {target})"

    # ------------------------------------------------------------------ building
    def _id(self, name: str) -> str:
        """The module's own name where it is free (``layer1_0_conv1``), as hand-written code has it."""
        return self.graph.unique_id(name, keep_if_free=True)

    def _add(self, n: fx.Node, type_name: str, params: dict, sources: list[Any], name: str | None = None) -> str:
        try:
            node_id = self.graph.add_node(type_name, id=self._id(name or n.name), **params)
        except GraphError as err:
            raise _Refuse(str(err).split(": ", 1)[-1]) from None
        spec = self.graph.nodes[node_id].spec
        # A layer takes all its tensors on its one input (Add, Concat); a block, one per port.
        ports = ([p.name for p in spec.inputs] if type_name in self.graph.blocks
                 else [p.name for p in spec.inputs[:1]] * len(sources))
        for source, port_name in zip(sources, ports):
            src_id, port = self._value(source)
            self._wire(Edge(src_id, node_id, port, port_name))
        if type_name in self.graph.blocks and len(spec.outputs) > 1:   # several results: unpacked by index
            self.pending[n] = ("block", node_id)
        elif spec.outputs:
            self.values[n] = (node_id, spec.outputs[0].name)
        return node_id

    def _wire(self, edge: Edge) -> None:
        try:
            self.graph.apply(Connect(edge))
        except GraphError as err:
            raise _Refuse(str(err)) from None

    def _value(self, n: Any) -> tuple[str, str]:
        if not isinstance(n, fx.Node) or n not in self.values:
            raise _Refuse(f"uses {n!r}, which is not a tensor the graph can carry")
        return self.values[n]

    def _visit(self, n: fx.Node) -> None:
        if n.op == "placeholder":
            example = self.inputs[len(self.graph.inputs())]
            dtype = "int64" if not example.is_floating_point() else "float32"
            self._add(n, "Input", {"shape": list(example.shape[1:]), "dtype": dtype}, [], name=n.name)
        elif n.op == "output":
            results = n.args[0] if isinstance(n.args[0], (tuple, list)) else (n.args[0],)
            for i, result in enumerate(results):
                # a block's results are its output ports: out, or out1, out2 ... as Group names them
                name = (("out" if len(results) == 1 else f"out{i + 1}") if self.path else f"output{i + 1}")
                self._add(n, "Output", {}, [result], name=name)
        elif n.op == "call_module":
            self._visit_module(n)
        elif n.op == "call_function":
            self._visit_function(n)
        elif n.op == "call_method":
            self._visit_method(n)
        elif n.op == "get_attr":
            raise _Refuse("reads a tensor attribute directly (a constant or a parameter outside a layer)")

    def _visit_module(self, n: fx.Node) -> None:
        module = self.traced.get_submodule(str(n.target))
        if _is_block(module):
            return self._visit_block(n, module)
        entry = MODULES.get(type(module))
        if entry is None:
            raise _Refuse(f"no NetLoom layer for {type(module).__name__}")
        type_name, read = entry
        params = read(module)
        tensors = [a for a in n.args if isinstance(a, fx.Node)]
        if type_name == "MultiheadAttention":
            _need(len(set(n.args[:3])) == 1, "attention with different query, key and value (only self-attention)")
            _need(n.kwargs.get("attn_mask") is None and n.kwargs.get("key_padding_mask") is None, "attention masks")
            tensors = tensors[:1]
        _need(len(tensors) == 1, f"{len(tensors)} tensor inputs")
        has_weights = any(True for _ in module.state_dict())
        if has_weights and n.target in self.module_users:
            raise _Refuse(f"the same layer is used twice (shared weights, also at {self.module_users[n.target]}), "
                          "which a graph cannot express")
        self.module_users[n.target] = n.name
        node_id = self._add(n, type_name, params, tensors, name=str(n.target))
        for key, value in module.state_dict().items():
            self.state[f"{node_id}.{key}"] = value.detach().clone()
        if type_name in ("RNN", "LSTM", "GRU", "MultiheadAttention"):
            del self.values[n]
            self.pending[n] = (type_name, node_id)

    def _visit_block(self, n: fx.Node, module: nn.Module) -> None:
        """A submodule of its own class: traced on its own into a block body, then used here."""
        _need(not n.kwargs, "passes keyword arguments to a block")
        tensors = list(n.args)
        _need(all(isinstance(a, fx.Node) for a in tensors), "passes a value other than a tensor to a block")
        path = f"{self.path}.{n.target}" if self.path else str(n.target)
        _need(n.target not in self.module_users, f"the same block is used twice (shared weights, also at "
                                                  f"{self.module_users.get(n.target)}), which a graph cannot express")
        self.module_users[n.target] = n.name
        seen = self.blocks.seen_inputs.get(path)
        if seen is None or len(seen) != len(tensors):
            raise _Refuse("is not called when the module runs on the examples")
        try:
            body, state = _Importer(module, tuple(seen), self.blocks, path).run()
        except ImportProblem as inner:
            self.problems.extend(inner.problems)
            raise _Refuse(f"cannot be imported as a block ({len(inner.problems)} problems above)") from None
        name = self.blocks.define(module, body)
        node_id = self._add(n, name, {}, tensors, name=str(n.target))
        for key, value in state.items():
            self.state[f"{node_id}.{key}"] = value

    def _visit_function(self, n: fx.Node) -> None:
        fn = n.target
        if fn is operator.getitem:
            return self._getitem(n)
        if fn in (operator.add, operator.iadd, torch.add):
            _need(len(n.args) == 2 and all(isinstance(a, fx.Node) for a in n.args) and "alpha" not in n.kwargs,
                  "adds a constant (only tensor + tensor)")
            return self._merge(n, "Add")
        if fn in (operator.mul, operator.imul, torch.mul):
            _need(len(n.args) == 2 and all(isinstance(a, fx.Node) for a in n.args), "multiplies by a constant")
            return self._merge(n, "Multiply")
        if fn is torch.cat:
            tensors = list(_arg(n, 0, "tensors"))
            self._add(n, "Concat", {"dim": _arg(n, 1, "dim", 0)}, tensors)
            return None
        if fn is torch.flatten:
            self._add(n, "Flatten", {"start_dim": _arg(n, 1, "start_dim", 0), "end_dim": _arg(n, 2, "end_dim", -1)},
                      [n.args[0]])
            return None
        if fn in _ACTIVATIONS:
            return self._activation(n, _ACTIVATIONS[fn], n.args[0], n.args[1:], n.kwargs)
        if fn is F.adaptive_avg_pool2d:
            size = _arg(n, 1, "output_size")
            self._add(n, "AdaptiveAvgPool2d", {"output_size": _ints(size if not isinstance(size, int) else (size, size))},
                      [n.args[0]])
            return None
        if fn in (F.max_pool2d, F.avg_pool2d):
            kernel = _arg(n, 1, "kernel_size")
            stride = _arg(n, 2, "stride", None) or None
            params = {"kernel_size": _ints(kernel), "stride": _ints(stride) if stride else None,
                      "padding": _ints(_arg(n, 3, "padding", 0)), "ceil_mode": bool(n.kwargs.get("ceil_mode", False))}
            self._add(n, "MaxPool2d" if fn is F.max_pool2d else "AvgPool2d", params, [n.args[0]])
            return None
        if fn is F.dropout:
            self._add(n, "Dropout", {"p": float(_arg(n, 1, "p", 0.5))}, [n.args[0]])
            return None
        raise _Refuse(f"no NetLoom layer for {getattr(fn, '__module__', '')}.{getattr(fn, '__name__', fn)}")

    def _visit_method(self, n: fx.Node) -> None:
        name, this = n.target, n.args[0]
        args: tuple[Any, ...] = n.args
        if name == "size":
            _need(len(args) == 2 and args[1] == 0, "reads a size other than the batch size")
            self.pending[n] = ("batch_size", None)
            return
        if name in ("view", "reshape"):
            shape = list(n.args[1:]) if len(n.args) > 2 or not isinstance(n.args[1], (tuple, list)) else list(n.args[1])
            _need(bool(shape) and isinstance(shape[0], fx.Node) and self.pending.get(shape[0], ("",))[0] == "batch_size",
                  "reshapes without keeping the batch axis first (x.view(x.size(0), ...))")
            rest = shape[1:]
            _need(all(isinstance(s, int) for s in rest), "a shape computed at run time")
            if rest == [-1]:
                self._add(n, "Flatten", {"start_dim": 1, "end_dim": -1}, [this])
            else:
                self._add(n, "Reshape", {"shape": rest}, [this])
            return
        if name == "flatten":
            self._add(n, "Flatten", {"start_dim": _arg(n, 1, "start_dim", 0), "end_dim": _arg(n, 2, "end_dim", -1)},
                      [this])
            return
        if name == "permute":
            dims = list(args[1:]) if not isinstance(args[1], (tuple, list)) else list(args[1])
            _need(dims[0] == 0, "moves the batch axis")
            self._add(n, "Permute", {"dims": [d - 1 for d in dims[1:]]}, [this])
            return
        if name in _METHOD_ACTIVATIONS:
            return self._activation(n, _METHOD_ACTIVATIONS[name], this, n.args[1:], n.kwargs)
        if name in ("contiguous",):
            self.values[n] = self._value(this)
            return
        raise _Refuse(f"no NetLoom layer for the method .{name}()")

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

    def _getitem(self, n: fx.Node) -> None:
        source: Any = n.args[0]
        index: Any = n.args[1]
        kind = self.pending.get(source)
        if kind is not None and kind[0] == "block":
            outputs = self.graph.nodes[kind[1]].spec.outputs
            _need(isinstance(index, int) and -len(outputs) <= index < len(outputs), f"takes result {index!r} of a block")
            self.values[n] = (kind[1], outputs[index].name)
            return
        if kind is not None:
            type_name, node_id = kind
            if type_name == "MultiheadAttention":
                _need(index == 0, "uses the attention weights")
                self.values[n] = (node_id, "out")
                return
            if type_name in ("RNN", "LSTM", "GRU"):
                _need(index == 0, "uses the hidden state tuple directly; use the output sequence or out[:, -1]")
                self.values[n] = (node_id, "seq")
                self.pending[n] = ("sequence", node_id)
                return
        if kind is not None and kind[0] == "sequence":
            node_id = kind[1]
            last = (isinstance(index, tuple) and len(index) in (2, 3) and index[0] == slice(None)
                    and index[1] == -1 and all(i == slice(None) for i in index[2:]))
            _need(last, "indexes the output sequence other than out[:, -1]")
            _need(not self.graph.nodes[node_id].params["bidirectional"],
                  "takes out[:, -1] of a bidirectional layer (the backward half is not its final state)")
            self.values[n] = (node_id, "last")
            return
        raise _Refuse(f"indexes a tensor ({index!r}); only recurrent and attention outputs can be unpacked")


def _first_inputs(module: nn.Module, example_inputs: tuple[torch.Tensor, ...]) -> dict[str, list[torch.Tensor]]:
    """Each block-to-be's inputs on its first call, from one run on the examples: the shapes its
    body's Input nodes are given, as a traced body cannot know them."""
    seen: dict[str, list[torch.Tensor]] = {}
    hooks = []
    for path, sub in module.named_modules():
        if path and _is_block(sub):
            def remember(_m, args, path=path):
                seen.setdefault(path, [a for a in args if isinstance(a, torch.Tensor)])
            hooks.append(sub.register_forward_pre_hook(remember))
    if hooks:
        try:
            with torch.no_grad():
                module(*example_inputs)
        except Exception as err:
            raise ImportProblem([f"{type(module).__name__} fails on the example inputs: {first_line(err)}"]) from None
        finally:
            for hook in hooks:
                hook.remove()
    return seen


def import_module(module: nn.Module, example_inputs, check_outputs: bool = True,
                  tolerance: float = 1e-5) -> tuple[Graph, dict[str, torch.Tensor]]:
    """Trace ``module`` into a graph and its weights (a state dict for ``compile_graph``)."""
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    was_training = module.training
    module.eval()
    try:
        graph, state = _Importer(module, tuple(example_inputs)).run()
        merge_alike(graph)          # one Bottleneck with parameters, not one per configuration
        if check_outputs:
            _verify(module, graph, state, tuple(example_inputs), tolerance)
    finally:
        module.train(was_training)
    return graph, state


def _verify(module, graph, state, inputs, tolerance) -> None:
    from .check import check
    from .compiler import compile_graph
    report = check(graph)
    if not report.ok:
        raise ImportProblem([d.message for d in report.errors])
    compiled = compile_graph(graph, report).eval()
    missing = compiled.load_state_dict(state, strict=False)
    if missing.missing_keys or missing.unexpected_keys:
        raise ImportProblem([f"weights do not fit: missing {missing.missing_keys[:3]}, "
                             f"unexpected {missing.unexpected_keys[:3]}"])
    with torch.no_grad():
        expected, got = module(*inputs), compiled(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for i, (e, g) in enumerate(zip(expected, got)):
        difference = float((e.float() - g.float()).abs().max())
        if difference > tolerance * max(1.0, float(e.float().abs().max())):
            raise ImportProblem([f"output {i + 1} differs from the module's by {difference:g}; the import would "
                                 "not be exact"])

"""``compile_graph(graph)``: the document as a real ``torch.fx.GraphModule``.

A placeholder per Input (in document order), a ``call_module`` per layer whose target is the
node id, ``call_function``/``call_method`` for merges and reshapes, and an output returning the
Output nodes in order. The generated ``.code`` reads like a hand-written forward.
"""

from __future__ import annotations

import networkx as nx
import torch
from torch import fx, nn

from graphs import Graph, names
from graphs.names import code_name

from ..checking import Checker, Report, check
from ..layers import FxOps, InferenceCache, build_module, build_tensor, emit_node, step_name
from .blocks import build_block, emit_use


class CompileError(ValueError):
    """The graph cannot be built; ``diagnostics`` holds the reasons, ``node`` the first node
    they name."""

    def __init__(self, report: Report) -> None:
        self.diagnostics = report.errors
        self.node = next((d.node for d in self.diagnostics if d.node), None)
        if len(self.diagnostics) == 1:
            super().__init__(self.diagnostics[0].message)
        else:
            lines = "\n".join(f"  {d.message}" for d in self.diagnostics)
            super().__init__(f"the graph has {len(self.diagnostics)} error(s):\n{lines}")


def compile_graph(graph: Graph, report: Report | None = None) -> fx.GraphModule:
    """Build the network; raises CompileError listing the problems if it does not check."""
    report = report or check(graph)
    if not report.ok:
        raise CompileError(report)
    fx_graph = fx.Graph()
    ops = FxOps(fx_graph)
    values: dict[tuple[str, str], fx.Node] = {}
    modules: dict[str, nn.Module | torch.Tensor] = {}
    rank = {n: i for i, n in enumerate(graph.nodes)}
    wires_into = graph.wires_into()
    attributes = module_attributes(graph)
    for node_id in graph.inputs():
        values[(node_id, "out")] = fx_graph.placeholder(step_name(code_name(node_id, index_ok=True)))
    produced: set[fx.Node] = set(values.values())       # steps that already stand for a node's output
    results = []
    for node_id in nx.lexicographical_topological_sort(graph.to_networkx(), key=rank.__getitem__):
        node = graph.nodes[node_id]
        if node.type == "Input":
            continue
        inputs = {port.name: [values[(e.src, e.src_port)] for e in wires_into.get((node_id, port.name), [])]
                  for port in node.spec.inputs}
        if node.type == "Output":
            results.append((rank[node_id], inputs["in"][0]))
            continue
        infos = {port: [report.tensors[(e.src, e.src_port)] for e in wires_into.get((node_id, port), [])]
                 for port in inputs}
        attribute = attributes[node_id]
        if node.type in graph.blocks:
            modules[attribute] = build_block(graph.blocks, node.type, node.params, infos, _BODIES.check_body,
                                             compile_graph)
            outputs = emit_use(ops, attribute, graph.blocks[node.type], inputs)
        else:
            module = build_module(node.type, node.params, infos)
            if module is not None:
                modules[attribute] = module
            tensor = build_tensor(node.type, node.params)
            if tensor is not None:       # a Parameter or Constant node: the network's own tensor
                modules[attribute] = tensor
            outputs = emit_node(ops, node.type, attribute, node.params, inputs)
        for port, value in outputs.items():
            if value in produced:
                # A pass-through (Identity) hands on a step another node made: renaming that step
                # would take it from the node that made it, whose other readers come later.
                values[(node_id, port)] = value
                continue
            # Function steps are named after their node (``relu1``, ``lstm1_last``), as hand-written code reads.
            step = code_name(node_id if len(outputs) == 1 else f"{node_id}_{port}", index_ok=True)
            values[(node_id, port)] = ops.name(value, step)
            produced.add(values[(node_id, port)])
    returned = [v for _, v in sorted(results, key=lambda r: r[0])]
    fx_graph.output(returned[0] if len(returned) == 1 else tuple(returned))
    module = fx.GraphModule(modules, fx_graph, class_name=names.class_name(graph.name))
    module.meta[NODE_IDS] = {attributes[n]: n for n in graph.nodes if attributes[n] in modules}
    # Drop what no Output uses (an RNN's unused "last" port, a dead-end branch) with its weights.
    module.graph.eliminate_dead_code()
    module.delete_all_unused_submodules()
    module.graph.lint()
    module.recompile()
    # GraphModule wraps __call__ only to decorate tracebacks; plain Module.__call__ saves a
    # Python frame per call, which shows on small networks.
    type(module).__call__ = nn.Module.__call__  # type: ignore[method-assign]
    return module


_BODIES = Checker(InferenceCache(5_000), follow=False)     # block bodies, checked again as each use is built
NODE_IDS = "netloom_node_ids"      # GraphModule.meta key: submodule attribute -> node id

# Names a submodule may not take: everything a GraphModule already has (methods such as
# load_state_dict, compile or bfloat16, and attributes such as graph, code, meta, training).
_TAKEN = frozenset(dir(fx.GraphModule(nn.Module(), fx.Graph()))) | frozenset(dir(nn.Module))


def module_attributes(graph: Graph) -> dict[str, str]:
    """node id -> the attribute its submodule gets: the id itself, or for an id that a
    GraphModule already uses (``forward``, ``load_state_dict`` ...) the id with ``_`` appended
    until it is free. Every valid id compiles; the forward still names steps by node id. An id
    that is no name (a file that was never validated) gets a name made from it by the one
    sanitiser, ``graphs.names.code_name``."""
    result, used = {}, set(graph.nodes)
    for node_id in graph.nodes:
        attribute = code_name(node_id, index_ok=True)
        while attribute in _TAKEN or (attribute != node_id and attribute in used):
            attribute += "_"
        used.add(attribute)
        result[node_id] = attribute
    return result


def node_ids(model: nn.Module) -> dict[str, str]:
    """submodule attribute -> node id of a compiled graph (identity for other modules)."""
    mapping = getattr(model, "meta", {}).get(NODE_IDS, {})
    return {name: mapping.get(name, name) for name, _ in model.named_children()}

"""Blocks: a named sub-graph defined once and used by any number of nodes, as a function is.

A block's body is itself a ``Graph``: its Input nodes are the block's input ports and its Output
nodes its output ports, in document order. A block declares parameters with defaults (``channels``,
``stride``); a layer inside refers to one with the plain-data value ``{"param": "channels"}``, so
the file stays data and nothing is ever evaluated. A node whose type is a block's name uses it: its
parameters bind the block's, and ``repeat`` chains that many copies (a VGG stage, six Transformer
layers).

Every block in a document lives in one library (``Graph.blocks``), shared by the top-level graph
and by every body, so that blocks can use one another. A block may not use itself, directly or
through others; nesting is limited so that no file can ask for unbounded work.
"""

from __future__ import annotations

import dataclasses
import keyword
import re
from typing import TYPE_CHECKING, Any

import networkx as nx

from .catalog import CATALOG
from .edits import GraphError
from .specs import BOOL, FLOAT, INT, INTS, LayerSpec, ParamError, ParamSpec, PortSpec

if TYPE_CHECKING:
    from .graph import Graph

REPEAT = "repeat"
MAX_REPEAT = 1000
MAX_NESTING = 16                # blocks inside blocks: ResNet needs 3, a file may not need 1,000
MAX_EXPANDED_LAYERS = 200_000   # layers one graph may expand to once every block is written out
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Library = dict[str, "Graph"]


def param_ref(name: str) -> dict[str, str]:
    """The value a layer inside a block takes to use the block's parameter ``name``."""
    return {"param": name}


def ref_name(value: Any) -> str | None:
    """The block parameter a value refers to, or None for a plain value."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("param"), str):
        return value["param"]
    return None


def block_name_problem(name: Any, library: Library) -> str | None:
    """Why ``name`` cannot name a new block, or None."""
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        return f"'{name}' is not a valid block name: use letters, digits and _, not starting with a digit"
    if name in CATALOG:
        return f"'{name}' is a built-in layer type; choose another name for the block"
    if name in library:
        return f"a block named '{name}' already exists"
    return None


def parameter_problem(name: Any, default: Any) -> str | None:
    """Why a block cannot declare this parameter, or None."""
    if not isinstance(name, str) or not _NAME.match(name) or keyword.iskeyword(name):
        return f"'{name}' is not a valid parameter name"
    if name == REPEAT:
        return f"'{REPEAT}' is kept for the number of copies; choose another name"
    if not _plain(default):
        return f"the default of '{name}' must be a number, true/false, text or a list of numbers"
    return None


def _plain(value: Any) -> bool:
    if isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)


# ---------------------------------------------------------------------- the spec of a block type
def block_spec(body: Graph) -> LayerSpec:
    """A block's ports and parameters as a layer spec (cached until the body changes), so that
    the palette, the inspector, wiring and the loader treat a block like any layer type."""
    cached = body._block_spec
    if cached is not None and cached[0] == body.revision:
        return cached[1]
    params = [ParamSpec(REPEAT, INT, 1, "Copies chained one after another (one input and one output)",
                        minimum=1, maximum=MAX_REPEAT)]
    params += [_declared_spec(body, name, default) for name, default in body.parameters.items()]
    description = body.metadata.get("description") or f"Block {body.name}"
    spec = LayerSpec(body.name, "Blocks", description, tuple(params),
                     inputs=tuple(PortSpec(i) for i in body.inputs()),
                     outputs=tuple(PortSpec(o) for o in body.outputs()),
                     key_params=(*body.parameters, REPEAT))
    body._block_spec = (body.revision, spec)
    return spec


def _declared_spec(body: Graph, name: str, default: Any) -> ParamSpec:
    """A declared parameter takes the kind and limits of the first layer parameter that uses it:
    ``channels`` used as a convolution's out_channels is a whole number from 1 to 65,536."""
    for node in body.nodes.values():
        for key, value in node.params.items():
            if ref_name(value) == name:
                used = node.spec.param(key)
                return dataclasses.replace(used, name=name, default=default,
                                           doc=f"{used.doc} (used by {node.id}.{key})".strip())
    kind = BOOL if isinstance(default, bool) else INT if isinstance(default, int) else (
        FLOAT if isinstance(default, float) else INTS)
    length = len(default) if isinstance(default, list) else 1
    return ParamSpec(name, kind, default, "Not used by any layer of the block yet", length=length)


# ---------------------------------------------------------------------- how blocks use each other
def used_blocks(body: Graph) -> set[str]:
    return {n.type for n in body.nodes.values() if n.type in body.blocks}


def uses_block(library: Library, user: str, used: str) -> bool:
    """Whether block ``user`` uses block ``used``, directly or through other blocks."""
    seen, stack = {user}, [user]
    while stack:
        for inner in used_blocks(library[stack.pop()]):
            if inner == used:
                return True
            if inner not in seen and inner in library:
                seen.add(inner)
                stack.append(inner)
    return False


def uses_graph(library: Library) -> nx.DiGraph:
    """Which block uses which, as a directed graph over the block names."""
    g = nx.DiGraph()
    g.add_nodes_from(library)
    g.add_edges_from((name, used) for name, body in library.items() for used in used_blocks(body))
    return g


def block_cycle(library: Library) -> list[str] | None:
    """A chain by which a block uses itself (``[A, B, A]``), or None."""
    try:
        edges = nx.find_cycle(uses_graph(library))
    except nx.NetworkXNoCycle:
        return None
    return [e[0] for e in edges] + [edges[0][0]]


def nesting_depth(library: Library) -> int:
    """How deep blocks nest (1 for blocks of plain layers, 0 for none); for a library without
    cycles. Iterative: a file of 10,000 blocks each using the next is measured, not recursed."""
    g = uses_graph(library)
    return nx.dag_longest_path_length(g) + 1 if len(g) else 0


def expanded_layers(library: Library, graph: Graph, _memo: dict[str, int] | None = None) -> int:
    """How many layers ``graph`` holds once every block use is written out (repeats counted)."""
    memo = {} if _memo is None else _memo
    total = 0
    for node in graph.nodes.values():
        if node.type in library:
            if node.type not in memo:
                memo[node.type] = expanded_layers(library, library[node.type], memo)
            repeat = node.params.get(REPEAT, 1)
            total += memo[node.type] * (repeat if isinstance(repeat, int) else 1)
        elif node.type not in ("Input", "Output"):
            total += 1
    return total


# ---------------------------------------------------------------------- binding one use
def bind(library: Library, type_name: str, args: dict[str, Any],
         input_shapes: dict[str, tuple[tuple[int, ...], str]] | None = None) -> Graph:
    """The body of block ``type_name`` with its parameters bound to ``args`` (a use's params):
    a plain graph whose layers hold numbers, no references. ``input_shapes`` gives Input nodes
    the (shape, dtype) a use feeds them: the shapes written in a block are only examples, for
    opening it on its own. ParamError names the layer and parameter a value does not suit
    (``conv1.kernel_size = size: 'kernel_size' must be at most 1024``)."""
    from .graph import Graph, Node  # the document module imports this one

    body = library[type_name]
    values = {name: args.get(name, default) for name, default in body.parameters.items()}
    bound = Graph(body.name, body.metadata.get("description", ""))
    bound.blocks = library
    for node in body.nodes.values():
        params = {}
        for key, value in node.params.items():
            ref = ref_name(value)
            if ref is None:
                params[key] = value
                continue
            try:
                params[key] = node.spec.param(key).validate(values[ref])
            except ParamError as err:
                raise ParamError(f"{node.id}.{key} = {ref}: {err}") from None
        if input_shapes and node.id in input_shapes:
            shape, dtype = input_shapes[node.id]
            params.update(shape=list(shape), dtype=dtype)
        bound._insert_node(Node(node.id, node.type, params), None, None)
    for edge in body.edges:
        bound._insert_edge(edge, None)
    return bound


# ---------------------------------------------------------------------- writing a use out
def inline_edit(graph: Graph, node_id: str) -> Any:
    """The edit that replaces a block node by the layers of its block (Ungroup), each copy of a
    repeat in turn, wired as the block wired them. Ids read ``layer1_conv1`` (``layer1_1_conv1``
    for the second copy, numbered from 0 as the use's state-dict keys are); blocks used inside
    stay blocks: one level is written out per edit."""
    from . import edits as E
    from .graph import Edge, Node

    node = graph.node(node_id)
    if node.type not in graph.blocks:
        raise GraphError(f"{node_id} is a {node.type}, not a block")
    try:
        body = bind(graph.blocks, node.type, {k: v for k, v in node.params.items() if k != REPEAT})
    except ParamError as err:
        raise GraphError(f"{node_id}: {err}") from None
    for key, value in node.params.items():      # a use inside a block passes its own parameters on
        if ref_name(value) is not None:
            raise GraphError(f"{node_id} takes '{key}' from its block; open the block to write it out")
    repeat = node.params.get(REPEAT, 1)
    ins, outs = body.inputs(), body.outputs()
    taken: set[str] = set()
    steps: list[Any] = []
    feeding = {port: [(e.src, e.src_port) for e in graph.in_edges(node_id, port)] for port in ins}
    origin = graph.positions.get(node_id)
    centre = _centre(graph.blocks[node.type])
    for copy in range(repeat):
        prefix = node_id if repeat == 1 else f"{node_id}_{copy}"      # numbered as nn.Sequential numbers copies
        names = {}
        for inner in body.nodes.values():
            if inner.type in ("Input", "Output"):
                continue
            names[inner.id] = graph.unique_id(f"{prefix}_{inner.id}", taken, keep_if_free=True)
            taken.add(names[inner.id])
            place = None
            if origin is not None and inner.id in graph.blocks[node.type].positions:
                x, y = graph.blocks[node.type].positions[inner.id]
                place = (origin[0] + x - centre[0] + copy * 60.0, origin[1] + y - centre[1] + copy * 60.0)
            steps.append(E.AddNode(Node(names[inner.id], inner.type, dict(inner.params)), place))
        results: dict[str, list[tuple[str, str]]] = {}
        for e in body.edges:
            sources = feeding[e.src] if e.src in ins else [(names[e.src], e.src_port)]
            for src, src_port in sources:
                if e.dst in outs:
                    results.setdefault(e.dst, []).append((src, src_port))
                else:
                    steps.append(E.Connect(Edge(src, names[e.dst], src_port, e.dst_port)))
        if copy + 1 < repeat:
            feeding = {ins[0]: results.get(outs[0], [])}
        else:
            feeding = results
    unplug, plug = _rewired(graph, graph.out_edges(node_id),
                            lambda e: [Edge(src, e.dst, port, e.dst_port) for src, port in feeding.get(e.src_port, [])])
    return E.Compound([*unplug, E.RemoveNode(node_id), *steps, *plug], label=f"Ungroup {node_id}")


def _rewired(graph: Graph, leaving: list[Any], replacement) -> tuple[list[Any], list[Any]]:
    """Edits that take off every wire of the input ports that ``leaving`` wires reach, and put
    them back in their order with each leaving wire replaced by ``replacement(wire)``: the order
    of a Concat's or an Add's inputs is part of what the graph computes."""
    from . import edits as E

    ports = list(dict.fromkeys((e.dst, e.dst_port) for e in leaving))
    gone = set(leaving)
    unplug, plug = [], []
    for dst, dst_port in ports:
        wires = graph.in_edges(dst, dst_port)
        unplug += [E.Disconnect(e) for e in wires]
        for e in wires:
            plug += [E.Connect(new) for new in (replacement(e) if e in gone else [e])]
    return unplug, plug


def group_edit(graph: Graph, node_ids: list[str], name: str,
               shapes: dict[tuple[str, str], tuple[list[int], str]] | None = None) -> Any:
    """The edit that turns the chosen nodes into a new block and one node using it (Group into
    Block), in one undo step. Each distinct source that feeds the selection becomes an Input of
    the block (``x``, or ``x1``, ``x2`` ...), each result used outside an Output (``out`` ...).
    ``shapes``: what flows out of (node, port), when known, for the example shapes of the Inputs."""
    from . import edits as E
    from .graph import Edge, Node

    chosen = [n for n in graph.nodes if n in set(node_ids)]
    if not chosen:
        raise GraphError("select the layers to group first")
    ends = [n for n in chosen if graph.nodes[n].type in ("Input", "Output")]
    if ends:
        raise GraphError(f"{ends[0]} is an {graph.nodes[ends[0]].type} of the model; a block's ports are its own, "
                         "so leave it out of the selection")
    problem = block_name_problem(name, graph.blocks)
    if problem:
        raise GraphError(problem)
    inside = set(chosen)
    entering = [e for e in graph.edges if e.dst in inside and e.src not in inside]
    leaving = [e for e in graph.edges if e.src in inside and e.dst not in inside]
    sources = list(dict.fromkeys((e.src, e.src_port) for e in entering))
    results = list(dict.fromkeys((e.src, e.src_port) for e in leaving))
    in_ids = ["x"] if len(sources) == 1 else [f"x{i + 1}" for i in range(len(sources))]
    out_ids = ["out"] if len(results) == 1 else [f"out{i + 1}" for i in range(len(results))]

    body = graph.new_body(name, {}, "")
    spots = [graph.positions[n] for n in chosen if n in graph.positions]
    left = min((p[0] for p in spots), default=0.0)
    middle = sum(p[1] for p in spots) / len(spots) if spots else 0.0
    right = max((p[0] for p in spots), default=0.0)
    for port, source in zip(in_ids, sources):
        shape, dtype = (shapes or {}).get(source, ([1, 8, 8], "float32"))
        body._insert_node(Node(port, "Input", {"shape": list(shape), "dtype": dtype}), None, (left - 220.0, middle))
    for n in chosen:
        body._insert_node(graph.nodes[n].copy(), None, graph.positions.get(n))
    for port in out_ids:
        body._insert_node(Node(port, "Output", {}), None, (right + 220.0, middle))
    for e in graph.edges:
        if e.dst in inside:
            src, src_port = (e.src, e.src_port) if e.src in inside else (in_ids[sources.index((e.src, e.src_port))], "out")
            body._insert_edge(Edge(src, e.dst, src_port, e.dst_port), None)
    for port, (src, src_port) in zip(out_ids, results):
        body._insert_edge(Edge(src, port, src_port, "in"), None)

    # the use is named after its block, as a variable after its class: BasicBlock -> basic_block
    use = graph.unique_id(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower(), inside, keep_if_free=True)
    centre = (sum(p[0] for p in spots) / len(spots), middle) if spots else None
    unplug, plug = _rewired(graph, leaving, lambda e: [Edge(use, e.dst, out_ids[results.index((e.src, e.src_port))],
                                                            e.dst_port)])
    removed = [E.RemoveNode(n) for n in chosen]
    feeds = [E.Connect(Edge(src, use, src_port, port)) for port, (src, src_port) in zip(in_ids, sources)]
    return E.Compound([*unplug, E.DefineBlock(name, body), *removed,
                       E.AddNode(Node(use, name, {REPEAT: 1}), centre), *feeds, *plug],
                      label=f"Group {len(chosen)} layers into {name}")


def _centre(body: Graph) -> tuple[float, float]:
    points = list(body.positions.values())
    if not points:
        return (0.0, 0.0)
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def flattened(graph: Graph) -> Graph:
    """A copy of ``graph`` with every block use written out, down to plain layers."""
    from .fileformat import graph_from_dict, graph_to_dict

    flat = graph_from_dict(graph_to_dict(graph))
    while True:
        uses = [n.id for n in flat.nodes.values() if n.type in flat.blocks]
        if not uses:
            break
        for use in uses:
            flat.apply(inline_edit(flat, use))
    return flat

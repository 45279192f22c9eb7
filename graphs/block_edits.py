"""Edits between blocks and plain layers: Group into Block (a selection becomes a block used once),
Ungroup (a use written out as the layers of its block), Make Unique (one use gets a copy of its
block of its own), and flattening a whole document.
Each is one reversible edit, so the editor undoes it in one step."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from . import edits as E
from .binding import bind
from .block_library import copy_body
from .blocks import REPEAT, block_name_problem, param_ref, parameter_problem, ref_name
from .builder import GraphBuilder
from .edits import GraphError
from .fileformat import graph_from_dict, graph_to_dict
from .graph import Edge, Graph, Node
from .specs import ParamError


def inline_edit(graph: Graph, node_id: str) -> Any:
    """The edit that replaces a block node by the layers of its block (Ungroup), each copy of a
    repeat in turn, wired as the block wired them. Ids read ``layer1_conv1`` (``layer1_1_conv1``
    for the second copy, numbered from 0 as the use's state-dict keys are); blocks used inside
    stay blocks: one level is written out per edit."""

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
            # The written-out layers learn as the use did (frozen with it, fresh with it).
            steps.append(E.AddNode(Node(names[inner.id], inner.type, dict(inner.params), None, node.lr_factor, node.fresh),
                                   place))
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
    build = GraphBuilder(body)
    spots = [graph.positions[n] for n in chosen if n in graph.positions]
    left = min((p[0] for p in spots), default=0.0)
    middle = sum(p[1] for p in spots) / len(spots) if spots else 0.0
    right = max((p[0] for p in spots), default=0.0)
    for port, source in zip(in_ids, sources):
        shape, dtype = (shapes or {}).get(source, ([1, 8, 8], "float32"))
        build.add(Node(port, "Input", {"shape": list(shape), "dtype": dtype}), (left - 220.0, middle))
    for n in chosen:      # a block's layers learn as its use does (see the use's settings below)
        build.add(dataclasses.replace(graph.nodes[n].copy(), lr_factor=1.0, fresh=False), graph.positions.get(n))
    for port in out_ids:
        build.add(Node(port, "Output", {}), (right + 220.0, middle))
    for e in graph.edges:
        if e.dst in inside:
            src, src_port = (e.src, e.src_port) if e.src in inside else (in_ids[sources.index((e.src, e.src_port))], "out")
            build.connect(Edge(src, e.dst, src_port, e.dst_port))
    for port, (src, src_port) in zip(out_ids, results):
        build.connect(Edge(src, port, src_port, "in"))

    # the use is named after its block, as a variable after its class: BasicBlock -> basic_block
    use = graph.unique_id(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower(), inside, keep_if_free=True)
    centre = (sum(p[0] for p in spots) / len(spots), middle) if spots else None
    unplug, plug = _rewired(graph, leaving, lambda e: [Edge(use, e.dst, out_ids[results.index((e.src, e.src_port))],
                                                            e.dst_port)])
    removed = [E.RemoveNode(n) for n in chosen]
    feeds = [E.Connect(Edge(src, use, src_port, port)) for port, (src, src_port) in zip(in_ids, sources)]
    # The use keeps how its layers learned when they all learned alike (a frozen stage stays frozen).
    factors = {graph.nodes[n].lr_factor for n in chosen}
    fresh = {graph.nodes[n].fresh for n in chosen}
    learning = (factors.pop() if len(factors) == 1 else 1.0, fresh.pop() if len(fresh) == 1 else False)
    return E.Compound([*unplug, E.DefineBlock(name, body), *removed,
                       E.AddNode(Node(use, name, {REPEAT: 1}, None, *learning), centre), *feeds, *plug],
                      label=f"Group {len(chosen)} layers into {name}")


def make_unique_edit(graph: Graph, node_id: str, name: str | None = None) -> Any:
    """The edit that gives one use a copy of its block (Make Unique), so that editing the copy
    changes this use alone. The copy is named ``name`` or after the block (``BasicBlock2``)."""

    node = graph.node(node_id)
    if node.type not in graph.blocks:
        raise GraphError(f"{node_id} is a {node.type}, not a block")
    if name is None:
        base = re.sub(r"\d+$", "", node.type) or node.type
        name = next(f"{base}{i}" for i in range(2, len(graph.blocks) + 3) if f"{base}{i}" not in graph.blocks)
    problem = block_name_problem(name, graph.blocks)
    if problem:
        raise GraphError(problem)
    original = graph.blocks[node.type]
    return E.Compound([E.DefineBlock(name, copy_body(original, graph, name)), E.Retype(node_id, name)],
                      label=f"Make {node_id} unique ({name})")


def parameter_link_edit(document: Graph, body: Graph, node_id: str, key: str, parameter: str | None = None) -> Any:
    """The edit that makes ``key`` of layer ``node_id`` inside block ``body`` take the block's
    parameter ``parameter``, or a new parameter named after ``key`` whose default is the layer's
    value (``kernel_size``, ``kernel_size2`` ...), declared for every use in ``document``."""

    node = body.node(node_id)
    value = node.params.get(key)
    if ref_name(value) is not None:
        raise GraphError(f"{node_id}.{key} already takes the block parameter '{ref_name(value)}'")
    if parameter is not None:
        if parameter not in body.parameters:
            raise GraphError(f"the block {body.name} declares no parameter '{parameter}'")
        try:
            node.spec.param(key).validate(body.parameters[parameter])
        except ParamError as err:
            raise GraphError(f"{node_id}.{key} cannot take '{parameter}': {err}") from None
        return E.SetParams(node_id, {key: param_ref(parameter)})
    name = next(n for n in (key, *(f"{key}{i}" for i in range(2, len(body.parameters) + 3)))
                if n not in body.parameters)
    problem = parameter_problem(name, value)
    if problem:
        raise GraphError(problem)
    return E.Compound([E.DeclareParameter(document, name, value), E.SetParams(node_id, {key: param_ref(name)})],
                      label=f"{node_id}.{key} takes the new block parameter {name}")


def _centre(body: Graph) -> tuple[float, float]:
    points = list(body.positions.values())
    if not points:
        return (0.0, 0.0)
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def flattened(graph: Graph) -> Graph:
    """A copy of ``graph`` with every block use written out, down to plain layers."""

    flat = graph_from_dict(graph_to_dict(graph))
    while True:
        uses = [n.id for n in flat.nodes.values() if n.type in flat.blocks]
        if not uses:
            break
        for use in uses:
            flat.apply(inline_edit(flat, use))
    return flat

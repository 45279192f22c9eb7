"""Blocks that differ only in numbers become one block with parameters.

An import makes one definition per module class and configuration: torchvision's ResNet-50 gives
eight Bottleneck definitions that differ only in their channel counts and strides. Written by
hand, that is one class with ``planes`` and ``stride`` arguments. ``merge_alike`` does the same
for a document: definitions with the same description (the class they came from), the same
layers, ids and wires, are merged into the first, each value that differs between them becoming
a parameter of the block (values that vary together, such as two convolutions' widths, share
one), and each use passes its own values. What the document computes is unchanged: every use
binds to exactly the layers it had. It changes the document through edits (each one undoable), although what it is used for, an
import, builds a new document where nobody undoes them.
"""

from __future__ import annotations

import re
from typing import Any

from .blocks import REPEAT, block_uses, param_ref
from .builder import GraphBuilder
from .catalog import FUNCTION
from .edits import DefineBlock, RemoveBlock, ReplaceBlock, Retype, SetMetadata, SetParams
from .graph import Graph

Position = tuple[str, str]      # (layer id inside the block, parameter name)


def merge_alike(graph: Graph) -> int:
    """Merge alike block definitions of ``graph`` (inner blocks first); how many were merged away."""
    merged = 0
    while True:
        groups: dict[Any, list[str]] = {}
        for name, body in graph.blocks.items():
            if not body.parameters:         # a block with parameters of its own is left as it is
                groups.setdefault((body.metadata.get("description", ""), _structure(body)), []).append(name)
        alike = [names for names in groups.values() if len(names) > 1]
        if not alike:
            break
        for names in alike:
            _merge(graph, names)
            merged += len(names) - 1
    _renumber(graph)
    return merged


def _structure(body: Graph) -> Any:
    """What two bodies must share to be one block: layers (id, type, which parameters), wires;
    the example shapes of Inputs aside (each use feeds its own). A Function node's call is
    shared whole: a block parameter holds a number or a list of them, not an argument list."""
    nodes = tuple((n.id, n.type, tuple(sorted(k for k in n.params if not (n.type == "Input" and k == "shape"))),
                   repr(n.params) if n.type == FUNCTION else "")
                  for n in body.nodes.values())
    return nodes, tuple(body.edges)


def _merge(graph: Graph, names: list[str]) -> None:
    bodies = [graph.blocks[name] for name in names]
    first = bodies[0]
    varying: dict[tuple, list[Position]] = {}       # the values across definitions -> where they stand
    for node in first.nodes.values():
        for key in node.params:
            if node.type == "Input" and key == "shape":
                continue
            values = tuple(repr(body.nodes[node.id].params[key]) for body in bodies)
            if len(set(values)) > 1:
                varying.setdefault(values, []).append((node.id, key))
    parameters: dict[str, list[Position]] = {}
    for positions in varying.values():
        node_id, key = positions[0]
        name = key if key not in parameters and key != REPEAT else f"{node_id}_{key}"
        parameters[_identifier(name)] = positions
    merged = graph.new_body(names[0], {p: first.nodes[ps[0][0]].params[ps[0][1]] for p, ps in parameters.items()},
                            first.metadata.get("description", ""))
    refs: dict[str, dict[str, Any]] = {}
    for p, ps in parameters.items():
        for node_id, key in ps:
            refs.setdefault(node_id, {})[key] = param_ref(p)
    GraphBuilder(merged).copy_of(first, params=refs)
    graph.apply(ReplaceBlock(names[0], merged))
    for old, body in zip(names, bodies):
        given = {p: body.nodes[ps[0][0]].params[ps[0][1]] for p, ps in parameters.items()}
        for holder, use in block_uses(graph, old):
            if old != names[0]:
                holder.apply(Retype(use, names[0]))
            holder.apply(SetParams(use, given))     # new keys: the block's parameters did not exist
        if old != names[0]:
            graph.apply(RemoveBlock(old))


def _identifier(name: str) -> str:
    name = re.sub(r"\W", "_", name)
    return name if name and not name[0].isdigit() else f"p_{name}"


def _renumber(graph: Graph) -> None:
    """After merging, ``Bottleneck, Bottleneck3`` reads as if one were lost: number each stem's
    blocks again in order (``Bottleneck, Bottleneck2``)."""
    stems: dict[str, list[str]] = {}
    for name in graph.blocks:
        stems.setdefault(re.sub(r"\d+$", "", name) or name, []).append(name)
    for stem, names in stems.items():
        if stem not in names:           # a name of its own that ends in a digit (``Net2``), not a gap
            continue
        wanted = [stem if i == 0 else f"{stem}{i + 1}" for i in range(len(names))]
        for old, new in zip(names, wanted):
            if old == new or new in graph.blocks:
                continue
            body = graph.blocks[old]
            body.apply(SetMetadata("name", new))
            graph.apply(DefineBlock(new, body))
            for holder, use in block_uses(graph, old):
                holder.apply(Retype(use, new))
            graph.apply(RemoveBlock(old))

"""Blocks from another library: the built-in ones the palette offers (ResNet basic and
bottleneck blocks, a VGG stage, an Inception module, a Transformer encoder layer, all made of
primitive layers), copied into a document when it first uses one.

A copy brings the blocks it uses along, and is refused when the document already has a
different block of the same name: a definition is never silently replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .builder import GraphBuilder
from .edits import Compound, DefineBlock, Edit, GraphError
from .graph import Graph

if TYPE_CHECKING:
    from .blocks import Library


def needed_blocks(library: Library, name: str) -> list[str]:
    """``name`` and every block it uses, inner ones first (the order to define them in)."""
    order: list[str] = []
    stack = [(name, False)]
    while stack:
        current, expanded = stack.pop()
        if current in order:
            continue
        if expanded:
            order.append(current)
            continue
        stack.append((current, True))
        stack += [(n.type, False) for n in library[current].nodes.values() if n.type in library and n.type not in order]
    return order


def copy_body(body: Graph, into: Graph, name: str) -> Graph:
    """A copy of a block body that belongs to ``into``'s library."""
    copy = into.new_body(name, dict(body.parameters), body.metadata.get("description", ""))
    return GraphBuilder(copy).copy_of(body)


def same_definition(a: Graph, b: Graph) -> bool:
    from .fileformat import graph_to_dict
    return (a.parameters == b.parameters and graph_to_dict(a)["nodes"] == graph_to_dict(b)["nodes"]
            and graph_to_dict(a)["edges"] == graph_to_dict(b)["edges"])


def bring_edits(graph: Graph, library: Library, name: str) -> list[Edit]:
    """The definitions ``graph`` lacks to use block ``name`` of ``library``."""
    edits: list[Edit] = []
    for needed in needed_blocks(library, name):
        own = graph.blocks.get(needed)
        if own is None:
            edits.append(DefineBlock(needed, copy_body(library[needed], graph, needed)))
        elif not same_definition(own, library[needed]):
            raise GraphError(f"this graph has a block of its own named '{needed}'; rename it to use the "
                             f"built-in {needed}")
    return edits


def with_blocks(graph: Graph, library: Library, type_name: str, make_edit: Callable[[], Edit]) -> Edit:
    """``make_edit`` (an edit that uses ``type_name``) preceded by the definitions it needs,
    as one undo step. The edit is made while those are defined, as it reads their ports."""
    if type_name not in library or type_name in graph.blocks:
        return make_edit()
    defines = bring_edits(graph, library, type_name)
    for edit in defines:
        graph.apply(edit)
    try:
        edit = make_edit()
    finally:
        for define in reversed(defines):
            graph.revert(define)
    return Compound([*defines, edit], label=edit.label)

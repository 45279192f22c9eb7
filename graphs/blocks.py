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
from typing import TYPE_CHECKING, Any

import networkx as nx

from .catalog import CATALOG
from .names import name_problem
from .specs import BOOL, FLOAT, INT, INTS, LayerSpec, ParamSpec, PortSpec

if TYPE_CHECKING:
    from .graph import Graph

REPEAT = "repeat"
MAX_REPEAT = 1000
MAX_NESTING = 16                # blocks inside blocks: ResNet needs 3, a file may not need 1,000
MAX_EXPANDED_LAYERS = 200_000   # layers one graph may expand to once every block is written out

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
    problem = name_problem(name, "block name")
    if problem:
        return problem
    if name in CATALOG:
        return f"'{name}' is a built-in layer type; choose another name for the block"
    if name in library:
        return f"a block named '{name}' already exists"
    return None


def parameter_problem(name: Any, default: Any) -> str | None:
    """Why a block cannot declare this parameter, or None."""
    problem = name_problem(name, "parameter name")
    if problem:
        return problem
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
                     key_params=tuple(body.parameters))     # repeat shows when it is not 1
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
    return user != used and nx.has_path(uses_graph(library), user, used)


def uses_graph(library: Library) -> nx.DiGraph:
    """Which block uses which, as a directed graph over the block names."""
    g = nx.DiGraph()
    g.add_nodes_from(library)
    g.add_edges_from((name, used) for name, body in library.items() for used in used_blocks(body))
    return g


def library_parts(library: Library) -> list[tuple[str, str]]:
    """(name, fingerprint of what its body computes) for every block, in name order: what the
    document's fingerprint and the engine's cache keys take from its blocks."""
    return sorted((name, body._own_fingerprint()) for name, body in library.items())


def block_uses(document: Graph, name: str) -> list[tuple[Graph, str]]:
    """Every node that uses block ``name``, in the model and in every block: (its graph, its id)."""
    return [(holder, node.id) for holder in (document, *document.blocks.values())
            for node in list(holder.nodes.values()) if node.type == name]


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

"""An imported model's own names for its weights.

The importer turns ``layer1.0`` into the node ``layer1_0`` (a node id is one name) and records
the path it came from on the node (``origin``). Exports put the weights back under the
original's state-dict keys (``layer1.0.conv1.weight``), so that they load into the original
model, and the exported Python module reads and writes those keys itself. ``renamed`` is written
into the exported file as it is here: it needs nothing but Python.
"""

from __future__ import annotations

from torch import fx, nn

from graphs import Graph
from graphs.blocks import REPEAT

from ..compiling import module_attributes


def original_names(graph: Graph, compiled: nn.Module) -> dict[str, str]:
    """own path -> the original's path, for each imported node whose name differs (its parts
    follow it); empty for a graph drawn in NetLoom. A level whose names would clash keeps its
    own."""
    names: dict[str, str] = {}
    _collect(graph, graph, compiled, "", "", names)
    return names


def _collect(document: Graph, level: Graph, module: nn.Module, own: str, original: str, names: dict[str, str]) -> None:
    present = {node_id: attribute for node_id, attribute in module_attributes(level).items() if hasattr(module, attribute)}
    chosen = {node_id: level.nodes[node_id].origin or attribute for node_id, attribute in present.items()}
    if not _tree(list(chosen.values())):
        chosen = dict(present)               # two nodes claim one name, or one holds another: keep our own
    for node_id, attribute in present.items():
        here, there = own + attribute, original + chosen[node_id]
        if attribute != chosen[node_id]:          # its parts follow it: the longest match renames them
            names[here] = there
        node = level.nodes[node_id]
        body = document.blocks.get(node.type)
        if body is None:
            continue
        child = getattr(module, attribute)
        copies = list(child) if isinstance(child, nn.Sequential) and not isinstance(child, fx.GraphModule) and \
            node.params.get(REPEAT, 1) != 1 else None
        if copies is None:
            _collect(document, body, child, here + ".", there + ".", names)
        else:
            for i, copy in enumerate(copies):
                _collect(document, body, copy, f"{here}.{i}.", f"{there}.{i}.", names)


def _tree(paths: list[str]) -> bool:
    """No two paths alike, and none inside another (a module cannot be both a layer and a folder)."""
    taken = set(paths)
    return len(taken) == len(paths) and not any(p.startswith(q + ".") for p in taken for q in taken)


def renamed(state: dict, names: dict, prefix: str = "") -> None:
    """Rename ``state``'s keys in place, keeping their order: in a key under ``prefix``, the
    longest path of ``names`` it starts with becomes that path's new name."""
    items = list(state.items())
    state.clear()
    for key, value in items:
        rest = key[len(prefix):] if key.startswith(prefix) else None
        match = None if rest is None else max((n for n in names if rest == n or rest.startswith(n + ".")),
                                               key=len, default=None)
        state[key if match is None or rest is None else prefix + names[match] + rest[len(match):]] = value

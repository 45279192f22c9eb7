"""Copy and paste: a selection of nodes with the wires between them, as plain data.

A fragment is JSON-ready (for the clipboard); pasting it is one compound edit that gives the
copies fresh ids and shifts them so they do not cover the originals."""

from __future__ import annotations

from typing import Any

from .catalog import CATALOG
from .edits import AddNode, Compound, Connect
from .graph import Edge, Graph, GraphError, Node, validate_params
from .specs import ParamError
from .values import value_problem

FRAGMENT_FORMAT = "netloom.fragment"


def extract(graph: Graph, node_ids: list[str]) -> dict[str, Any]:
    chosen = [n for n in graph.nodes if n in set(node_ids)]
    return {
        "format": FRAGMENT_FORMAT,
        "nodes": [{"id": n, "type": graph.nodes[n].type, "params": dict(graph.nodes[n].params),
                   "position": list(graph.positions.get(n, (0.0, 0.0)))} for n in chosen],
        "edges": [{"from": e.src, "from_port": e.src_port, "to": e.dst, "to_port": e.dst_port}
                  for e in graph.edges if e.src in chosen and e.dst in chosen],
    }


def paste_edit(graph: Graph, fragment: Any, offset: tuple[float, float] = (40.0, 40.0)) -> Compound:
    """The edit that adds a copy of the fragment; GraphError if the data is not a fragment."""
    if not isinstance(fragment, dict) or fragment.get("format") != FRAGMENT_FORMAT:
        raise GraphError("the clipboard holds no NetLoom layers")
    problem = value_problem(fragment)
    if problem is not None:
        raise GraphError(f"the clipboard's layers are damaged ({problem[0]}: {problem[1]})")
    edits: list = []
    renamed: dict[str, str] = {}
    taken = set(graph.nodes)
    try:
        for item in fragment["nodes"]:
            type_name = item["type"]
            if type_name not in CATALOG:
                raise GraphError(f"unknown layer type {type_name!r} in the clipboard")
            new_id = graph.unique_id(str(item["id"]).rstrip("0123456789"), taken)
            taken.add(new_id)
            renamed[item["id"]] = new_id
            x, y = item.get("position", (0.0, 0.0))
            edits.append(AddNode(Node(new_id, type_name, validate_params(type_name, item["params"])),
                                 (float(x) + offset[0], float(y) + offset[1])))
        for e in fragment["edges"]:
            edits.append(Connect(Edge(renamed[e["from"]], renamed[e["to"]], e["from_port"], e["to_port"])))
    except (KeyError, TypeError, ValueError, ParamError) as err:
        if isinstance(err, GraphError):
            raise
        raise GraphError(f"the clipboard's layers are damaged ({err})") from None
    count = len(fragment["nodes"])
    return Compound(edits, label=f"Paste {count} layer{'s' if count != 1 else ''}")

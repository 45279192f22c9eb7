"""The graph document: nodes, edges, parameters, layout, metadata and training settings.

All changes go through reversible edits (``graphs.edits``) and are announced as events, so the
editor can undo them and mirror them without holding a second copy.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import networkx as nx

from . import edits as E
from .catalog import CATALOG, RESERVED_IDS
from .events import (EDGE_ADDED, EDGE_REMOVED, METADATA_CHANGED, NODE_ADDED, NODE_MOVED,
                     NODE_REMOVED, NODE_RENAMED, PARAMS_CHANGED, TRAINING_CHANGED, EventSource,
                     GraphEvent)
from .specs import LayerSpec, ParamError


class GraphError(ValueError):
    """An edit that the document refuses; the message says why in the user's terms."""


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> LayerSpec:
        return CATALOG[self.type]

    def copy(self) -> "Node":
        return Node(self.id, self.type, {k: _copy_value(v) for k, v in self.params.items()})


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    src_port: str = "out"
    dst_port: str = "in"

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


# Readable id prefixes: conv1, fc2, pool1 ...
_ID_PREFIX = {
    "Linear": "fc", "Conv1d": "conv", "Conv2d": "conv", "ConvTranspose2d": "deconv",
    "MaxPool1d": "pool", "MaxPool2d": "pool", "AvgPool2d": "pool", "AdaptiveAvgPool2d": "gap",
    "BatchNorm1d": "bn", "BatchNorm2d": "bn", "LayerNorm": "ln", "GroupNorm": "gn",
    "LocalResponseNorm": "lrn", "Dropout": "drop", "Dropout2d": "drop", "Embedding": "embed",
    "MultiheadAttention": "attn", "TransformerEncoderLayer": "encoder", "Input": "input",
    "Output": "output",
}
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def id_problem(name: Any) -> str | None:
    """Why ``name`` cannot be a node id, or None if it can."""
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        return f"'{name}' is not a valid name: use letters, digits and _, not starting with a digit"
    if keyword.iskeyword(name) or name in RESERVED_IDS or name.startswith("_"):
        return f"'{name}' is reserved: choose another name"
    return None


def validate_params(type_name: str, given: dict[str, Any], fill_defaults: bool = True) -> dict[str, Any]:
    """Canonical parameters of a node, or ParamError naming the parameter that is wrong."""
    spec = CATALOG[type_name]
    known = {p.name for p in spec.params}
    for name in given:
        if name not in known:
            hint = f"; {type_name} takes {', '.join(sorted(known))}" if known else f"; {type_name} takes none"
            raise ParamError(f"unknown parameter '{name}'{hint}")
    result = {}
    for p in spec.params:
        if p.name in given:
            result[p.name] = p.validate(given[p.name])
        elif fill_defaults:
            result[p.name] = _copy_value(p.default)
    return result


class Graph:
    def __init__(self, name: str = "untitled", description: str = "") -> None:
        self.metadata: dict[str, Any] = {"name": name, "description": description}
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.positions: dict[str, tuple[float, float]] = {}
        self.view: dict[str, Any] = {}
        self.training: dict[str, Any] = {}
        self.events = EventSource()
        self.revision = 0   # grows on every change; lets caches and views tell versions apart

    # ------------------------------------------------------------------ reading
    @property
    def name(self) -> str:
        return self.metadata.get("name", "")

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"there is no node '{node_id}'") from None

    def inputs(self) -> list[str]:
        """Ids of the Input nodes, in the order forward takes them."""
        return [n.id for n in self.nodes.values() if n.type == "Input"]

    def outputs(self) -> list[str]:
        """Ids of the Output nodes, in the order forward returns them."""
        return [n.id for n in self.nodes.values() if n.type == "Output"]

    def in_edges(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.dst == node_id and (port is None or e.dst_port == port)]

    def out_edges(self, node_id: str, port: str | None = None) -> list[Edge]:
        return [e for e in self.edges if e.src == node_id and (port is None or e.src_port == port)]

    def wires_into(self) -> dict[tuple[str, str], list[Edge]]:
        """(node, input port) -> its wires in order; one pass, for code that visits every node."""
        index: dict[tuple[str, str], list[Edge]] = {}
        for e in self.edges:
            index.setdefault((e.dst, e.dst_port), []).append(e)
        return index

    def to_networkx(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        for e in self.edges:
            g.add_edge(e.src, e.dst, src_port=e.src_port, dst_port=e.dst_port)
        return g

    # ------------------------------------------------------------------ editing (public)
    def apply(self, edit: E.Edit) -> E.Edit:
        edit.apply(self)
        return edit

    def revert(self, edit: E.Edit) -> None:
        edit.revert(self)

    def add_node(self, type: str, id: str | None = None,
                 position: tuple[float, float] | None = None, **params: Any) -> str:
        """Add a node of a catalog type and return its id (``conv1``, ``fc2`` ...)."""
        edit = self.add_node_edit(type, id=id, position=position, **params)
        self.apply(edit)
        return edit.node.id

    def add_node_edit(self, type: str, id: str | None = None,
                      position: tuple[float, float] | None = None, **params: Any) -> E.AddNode:
        if type not in CATALOG:
            raise GraphError(f"unknown layer type '{type}'")
        if id is None:
            id = self.unique_id(_ID_PREFIX.get(type, type.lower()))
        else:
            self._check_new_id(id)
        try:
            values = validate_params(type, params)
        except ParamError as err:
            raise GraphError(f"{id}: {err}") from None
        return E.AddNode(Node(id, type, values), position)

    def remove_node(self, node_id: str) -> None:
        self.node(node_id)
        self.apply(E.RemoveNode(node_id))

    def connect(self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> Edge:
        """Wire an output port to an input port (each defaults to the node's first)."""
        edge = self.make_edge(src, dst, src_port, dst_port)
        problem = self.connection_problem(edge)
        if problem:
            raise GraphError(problem)
        self.apply(E.Connect(edge))
        return edge

    def disconnect(self, edge: Edge) -> None:
        if edge not in self.edges:
            raise GraphError(f"there is no wire {edge}")
        self.apply(E.Disconnect(edge))

    def set_params(self, node_id: str, **values: Any) -> None:
        self.apply(self.set_params_edit(node_id, **values))

    def set_params_edit(self, node_id: str, **values: Any) -> E.SetParams:
        node = self.node(node_id)
        try:
            canonical = validate_params(node.type, values, fill_defaults=False)
        except ParamError as err:
            raise GraphError(f"{node_id}: {err}") from None
        return E.SetParams(node_id, canonical)

    def rename(self, old: str, new: str) -> None:
        self.node(old)
        if new != old:
            self._check_new_id(new)
            self.apply(E.Rename(old, new))

    def move(self, node_id: str, x: float, y: float) -> None:
        self.node(node_id)
        self.apply(E.Move({node_id: (float(x), float(y))}))

    def set_metadata(self, key: str, value: Any) -> None:
        self.apply(E.SetMetadata(key, value))

    def set_training(self, settings: dict[str, Any]) -> None:
        self.apply(E.SetTraining(dict(settings)))

    def insert_between_edit(self, edge: Edge, type: str, **params: Any) -> E.Compound:
        """The edit that puts a new node of ``type`` on ``edge`` (used by one-click fixes)."""
        add = self.add_node_edit(type, position=self._midpoint(edge.src, edge.dst), **params)
        new = add.node.id
        spec = CATALOG[type]
        return E.Compound([
            E.Disconnect(edge), add,
            E.Connect(Edge(edge.src, new, edge.src_port, spec.inputs[0].name)),
            E.Connect(Edge(new, edge.dst, spec.outputs[0].name, edge.dst_port),
                      index=self.edges.index(edge)),
        ], label=f"Insert {type} before {edge.dst}")

    # ------------------------------------------------------------------ rules
    def make_edge(self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> Edge:
        src_spec, dst_spec = self.node(src).spec, self.node(dst).spec
        if src_port is None:
            if not src_spec.outputs:
                raise GraphError(f"{src} ({src_spec.type}) has no output to wire from")
            src_port = src_spec.outputs[0].name
        if dst_port is None:
            if not dst_spec.inputs:
                raise GraphError(f"{dst} ({dst_spec.type}) takes no input")
            dst_port = dst_spec.inputs[0].name
        return Edge(src, dst, src_port, dst_port)

    def connection_problem(self, edge: Edge) -> str | None:
        """Why this wire may not be added, or None: for the editor to refuse with a reason."""
        for end in (edge.src, edge.dst):
            if end not in self.nodes:
                return f"there is no node '{end}'"
        src_spec, dst_spec = self.nodes[edge.src].spec, self.nodes[edge.dst].spec
        if src_spec.output_port(edge.src_port) is None:
            return f"{edge.src} ({src_spec.type}) has no output port '{edge.src_port}'"
        port = dst_spec.input_port(edge.dst_port)
        if port is None:
            return f"{edge.dst} ({dst_spec.type}) has no input port '{edge.dst_port}'"
        if edge.src == edge.dst:
            return f"{edge.src} cannot feed itself"
        if edge in self.edges:
            return f"{edge.src} is already wired to {edge.dst}"
        if not port.multiple and self.in_edges(edge.dst, edge.dst_port):
            return f"{edge.dst} already has an input on '{edge.dst_port}'; remove that wire first"
        if self._reaches(edge.dst, edge.src):
            return f"wiring {edge.src} to {edge.dst} would make a cycle"
        return None

    def unique_id(self, prefix: str) -> str:
        prefix = re.sub(r"\W", "_", prefix) or "node"
        if prefix[0].isdigit():
            prefix = "n" + prefix
        if prefix[-1].isdigit():      # relu6 -> relu6_1, not relu61
            prefix += "_"
        i = 1
        while f"{prefix}{i}" in self.nodes or id_problem(f"{prefix}{i}"):
            i += 1
        return f"{prefix}{i}"

    def _check_new_id(self, node_id: str) -> None:
        problem = id_problem(node_id)
        if problem:
            raise GraphError(problem)
        if node_id in self.nodes:
            raise GraphError(f"a node named '{node_id}' already exists")

    def _reaches(self, start: str, goal: str) -> bool:
        seen, stack = {start}, [start]
        while stack:
            here = stack.pop()
            if here == goal:
                return True
            for e in self.edges:
                if e.src == here and e.dst not in seen:
                    seen.add(e.dst)
                    stack.append(e.dst)
        return False

    def _midpoint(self, a: str, b: str) -> tuple[float, float] | None:
        pa, pb = self.positions.get(a), self.positions.get(b)
        if pa is None or pb is None:
            return None
        return ((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2)

    # ------------------------------------------------------------------ primitives (edits only)
    def _changed(self, kind: str, node: str | None = None, **detail: Any) -> None:
        self.revision += 1
        self.events.emit(GraphEvent(kind, node, detail))

    def _insert_node(self, node: Node, index: int | None, position) -> None:
        items = list(self.nodes.items())
        items.insert(len(items) if index is None else index, (node.id, node))
        self.nodes = dict(items)
        if position is not None:
            self.positions[node.id] = (float(position[0]), float(position[1]))
        self._changed(NODE_ADDED, node.id)

    def _pop_node(self, node_id: str) -> tuple[Node, int, Any]:
        index = list(self.nodes).index(node_id)
        node = self.nodes.pop(node_id)
        position = self.positions.pop(node_id, None)
        self._changed(NODE_REMOVED, node_id)
        return node, index, position

    def _insert_edge(self, edge: Edge, index: int | None) -> int:
        index = len(self.edges) if index is None else index
        self.edges.insert(index, edge)
        self._changed(EDGE_ADDED, edge.dst, edge=edge)
        return index

    def _pop_edge(self, index: int) -> Edge:
        edge = self.edges.pop(index)
        self._changed(EDGE_REMOVED, edge.dst, edge=edge)
        return edge

    def _set_params(self, node_id: str, values: dict[str, Any]) -> None:
        self.nodes[node_id].params.update({k: _copy_value(v) for k, v in values.items()})
        self._changed(PARAMS_CHANGED, node_id, names=tuple(values))

    def _rename(self, old: str, new: str) -> None:
        node = self.nodes[old]
        node.id = new
        self.nodes = {(new if k == old else k): v for k, v in self.nodes.items()}
        self.edges = [Edge(new if e.src == old else e.src, new if e.dst == old else e.dst,
                           e.src_port, e.dst_port) for e in self.edges]
        if old in self.positions:
            self.positions = {(new if k == old else k): v for k, v in self.positions.items()}
        self._changed(NODE_RENAMED, new, old=old)

    def _set_position(self, node_id: str, position) -> None:
        if position is None:
            self.positions.pop(node_id, None)
        else:
            self.positions[node_id] = (float(position[0]), float(position[1]))
        self._changed(NODE_MOVED, node_id)

    def _set_metadata(self, key: str, value: Any) -> None:
        if value is None:
            self.metadata.pop(key, None)
        else:
            self.metadata[key] = value
        self._changed(METADATA_CHANGED, None, key=key)

    def _set_training(self, settings: dict[str, Any]) -> None:
        self.training = dict(settings)
        self._changed(TRAINING_CHANGED)

    def __repr__(self) -> str:
        return f"<Graph {self.name!r}: {len(self.nodes)} nodes, {len(self.edges)} edges>"


def _copy_value(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value


def topological_order(graph: Graph, nodes: Iterable[str] | None = None) -> list[str]:
    """Nodes in an order where every node comes after its inputs (ties: document order)."""
    g = graph.to_networkx() if nodes is None else graph.to_networkx().subgraph(nodes)
    order = {n: i for i, n in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=order.__getitem__))

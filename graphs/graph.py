"""The graph document: nodes, edges, parameters, layout, metadata and training settings.

An open document changes only through reversible edits (``graphs.edits``), announced as events,
so the editor can undo them and mirror them without holding a second copy; a new graph is filled
by the builder (``graphs.builder``: the loader, binding, grouping, merging). The primitives at the
end of this class (``_insert_node`` ...) keep the wire indexes and announce each change; only
those two modules call them (``tests/graphs/test_one_writer.py`` reads every module to be sure).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from . import edits as E
from .blocks import Library, block_name_problem, block_spec, library_parts, param_ref, parameter_problem, ref_name, uses_block
from .catalog import CATALOG, FUNCTION, function_spec
from .errors import GraphError
from .events import (
    MODEL_EVENTS,
    BlockChanged,
    EdgeAdded,
    EdgeRemoved,
    EventSource,
    LearningChanged,
    MetadataChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    TrainingChanged,
    ViewChanged,
    WireRouted,
)
from .names import id_problem
from .specs import LayerSpec, ParamError


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    # The blocks of the document the node belongs to, for a node whose type is a block.
    library: Library | None = field(default=None, repr=False, compare=False)
    # How the node learns when the model is trained (a training matter, not what it computes):
    # its learning rate is the run's times ``lr_factor`` (0: frozen), and ``fresh`` leaves it out
    # of the weights the graph starts from (a new head). Set on the model's nodes, not in blocks.
    lr_factor: float = 1.0
    fresh: bool = False
    # Where an imported node came from: its module's path in the original model, relative to the
    # graph or block body it is in (``layer1.0``, ``downsample.0``), so that its weights export
    # under the original's state-dict keys. Empty for a node drawn in NetLoom.
    origin: str = ""

    @property
    def spec(self) -> LayerSpec:
        if self.type == FUNCTION:       # its outputs are as many as its call returns
            count = self.params.get("outputs", 1)
            return function_spec(count if isinstance(count, int) else 1)
        return type_spec(self.type, self.library)

    def copy(self) -> Node:
        return Node(self.id, self.type, {k: _copy_value(v) for k, v in self.params.items()}, self.library,
                    self.lr_factor, self.fresh, self.origin)

    @property
    def frozen(self) -> bool:
        return self.lr_factor == 0


def type_spec(type_name: str, library: Library | None = None) -> LayerSpec:
    """The spec of a built-in layer type or of one of the document's blocks."""
    found = CATALOG.get(type_name)
    if found is not None:
        return found
    if library is not None and type_name in library:
        return block_spec(library[type_name])
    raise KeyError(f"unknown layer type '{type_name}'")


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
    "LocalResponseNorm": "lrn", "Normalize": "norm", "Dropout": "drop", "Dropout2d": "drop", "Embedding": "embed",
    "MultiheadAttention": "attn", "TransformerEncoderLayer": "encoder", "TransformerDecoderLayer": "decoder",
    "Input": "input",
    "Output": "output",
}
MAX_ROUTE_POINTS = 100_000   # a wire across every column of a 50,000-layer chain
MAX_COORDINATE = 1e9          # far beyond any layout (100,000 nodes span about 10^7)
_ORIGIN = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")
MAX_ORIGIN = 500


def origin_problem(origin: Any) -> str | None:
    """Why ``origin`` cannot be a node's original module path, or None if it can."""
    if not isinstance(origin, str) or len(origin) > MAX_ORIGIN or not _ORIGIN.fullmatch(origin):
        return (f"must be a module path such as layer1.0.conv1 (names of letters, digits and _ joined by dots, "
                f"at most {MAX_ORIGIN} characters), not {origin!r}"[:300])
    return None


def validate_params(type_name: str, given: dict[str, Any], fill_defaults: bool = True,
                    library: Library | None = None, declared: dict[str, Any] | None = None) -> dict[str, Any]:
    """Canonical parameters of a node, or ParamError naming the parameter that is wrong.
    ``declared``: inside a block, the block's parameters, which a value may refer to."""
    spec = type_spec(type_name, library)
    known = {p.name for p in spec.params}
    for name in given:
        if name not in known:
            hint = f"; {type_name} takes {', '.join(sorted(known))}" if known else f"; {type_name} takes none"
            raise ParamError(f"unknown parameter '{name}'{hint}")
    result = {}
    for p in spec.params:
        if p.name in given:
            ref = ref_name(given[p.name])
            if ref is None:
                result[p.name] = p.validate(given[p.name])
            elif declared is None:
                raise ParamError(f"'{p.name}' refers to a block parameter '{ref}', but only a layer inside a "
                                 "block can do that")
            elif ref not in declared:
                names = ", ".join(declared) or "none"
                raise ParamError(f"'{p.name}' refers to '{ref}', which the block does not declare "
                                 f"(it declares {names})")
            else:
                result[p.name] = param_ref(ref)
        elif fill_defaults:
            result[p.name] = _copy_value(p.default)
    return result


class Graph:
    def __init__(self, name: str = "untitled", description: str = "", blocks: Library | None = None) -> None:
        self.metadata: dict[str, Any] = {"name": name, "description": description}
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.positions: dict[str, tuple[float, float]] = {}
        # Bend points of wires the layout routed around nodes (skip connections); a wire
        # without one is drawn as a plain curve between its ports.
        self.routes: dict[Edge, tuple[tuple[float, float], ...]] = {}
        self.view: dict[str, Any] = {}
        self.training: dict[str, Any] = {}
        # Block definitions, by name: one dictionary shared by the document and every block body.
        self.blocks: Library = {} if blocks is None else blocks
        # For a block body: the parameters it declares, with their defaults.
        self.parameters: dict[str, Any] = {}
        self._block_spec: tuple[int, LayerSpec] | None = None
        self.events = EventSource()
        self.revision = 0         # grows on every change; lets caches and views tell versions apart
        self.model_revision = 0   # grows only on changes of what the network computes
        self._fingerprint: tuple[int, str] | None = None
        # Indexes of the wires, kept by the primitives, so that checking one new wire costs what
        # it touches rather than the whole graph (building 10,000 nodes stays linear).
        self._successors: dict[str, dict[str, int]] = {}   # node -> the nodes it feeds, with wire counts
        self._into: dict[str, list[Edge]] = {}             # node -> its input wires, in file order
        self._next_suffix: dict[str, int] = {}

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

    def successors(self, node_id: str) -> list[str]:
        """The nodes this node feeds (each once), from the wire index: no walk over all wires."""
        return list(self._successors.get(node_id, ()))

    def wires_into_node(self, node_id: str) -> dict[str, list[Edge]]:
        """input port -> its wires in order, for one node, from the wire index."""
        ports: dict[str, list[Edge]] = {}
        for e in self._into.get(node_id, ()):
            ports.setdefault(e.dst_port, []).append(e)
        return ports

    def wires_into(self) -> dict[tuple[str, str], list[Edge]]:
        """(node, input port) -> its wires in order; one pass, for code that visits every node."""
        index: dict[tuple[str, str], list[Edge]] = {}
        for e in self.edges:
            index.setdefault((e.dst, e.dst_port), []).append(e)
        return index

    def topology(self) -> nx.DiGraph:
        """Which node feeds which (one edge however many wires): what cycles, reachability and
        the order of the nodes need, and quicker to build than the full multigraph."""
        g = nx.DiGraph()
        g.add_nodes_from((n, {}) for n in self.nodes)
        g.add_edges_from((e.src, e.dst) for e in self.edges)
        return g

    def to_networkx(self) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph()
        # (id, attributes) pairs: given bare strings, networkx first tries to unpack each one
        # as such a pair and recovers from the failure, which costs 10 us a node.
        g.add_nodes_from((n, {}) for n in self.nodes)
        for e in self.edges:     # keyed by ports: networkx need not search for a free key
            g.add_edge(e.src, e.dst, key=(e.src_port, e.dst_port), src_port=e.src_port, dst_port=e.dst_port)
        return g

    # ------------------------------------------------------------------ editing (public)
    def apply(self, edit: E.Edit) -> E.Edit:
        """Perform an edit; its changes are announced as one batch when it is done."""
        with self.events.batch():
            edit.apply(self)
        return edit

    def revert(self, edit: E.Edit) -> None:
        with self.events.batch():
            edit.revert(self)

    def model_fingerprint(self) -> str:
        """Equal for graphs that compute the same thing (nodes, parameters, wires and the blocks
        they use), whatever their layout, name or training settings: the one answer to "is this
        still the same model?"."""
        own = self._own_fingerprint()
        if not self.blocks:
            return own
        return hashlib.sha256(repr((own, library_parts(self.blocks))).encode("utf-8")).hexdigest()

    def _own_fingerprint(self) -> str:
        if self._fingerprint is None or self._fingerprint[0] != self.model_revision:
            model = [[n.id, n.type, sorted(n.params.items(), key=lambda kv: kv[0])] for n in self.nodes.values()]
            wires = [[e.src, e.src_port, e.dst, e.dst_port] for e in self.edges]
            declared = sorted(self.parameters.items())
            digest = hashlib.sha256(repr((model, wires, declared)).encode("utf-8")).hexdigest()
            self._fingerprint = (self.model_revision, digest)
        return self._fingerprint[1]

    def library_revision(self) -> tuple[tuple[str, int, int], ...]:
        """Changes whenever a block is defined, removed or edited: for caches of block results."""
        return tuple((name, id(body), body.model_revision) for name, body in self.blocks.items())

    def param(self, name: str) -> dict[str, str]:
        """Inside a block: the value that makes a layer use the block's parameter ``name``."""
        if name not in self.parameters:
            raise GraphError(f"the block {self.name} declares no parameter '{name}'")
        return param_ref(name)

    def define_block(self, name: str, parameters: dict[str, Any] | None = None, description: str = "") -> Graph:
        """Define a new, empty block and return its body, to which layers are added as to any
        graph; then ``add_node(name, ...)`` uses it. ``parameters``: name -> default."""
        edit = self.define_block_edit(name, parameters, description)
        self.apply(edit)
        return edit.body

    def define_block_edit(self, name: str, parameters: dict[str, Any] | None = None,
                          description: str = "") -> E.DefineBlock:
        problem = block_name_problem(name, self.blocks)
        for key, default in (parameters or {}).items():
            problem = problem or parameter_problem(key, default)
        if problem:
            raise GraphError(problem)
        return E.DefineBlock(name, self.new_body(name, parameters or {}, description))

    def new_body(self, name: str, parameters: dict[str, Any], description: str = "") -> Graph:
        """An empty block body that shares this document's blocks."""
        body = Graph(name, description, blocks=self.blocks)
        body.parameters = dict(parameters)
        return body

    def add_node(self, type: str, id: str | None = None,
                 position: tuple[float, float] | None = None, origin: str = "", **params: Any) -> str:
        """Add a node of a catalog type and return its id (``conv1``, ``fc2`` ...); ``origin``:
        the module path it was imported from, if it was."""
        edit = self.add_node_edit(type, id=id, position=position, origin=origin, **params)
        self.apply(edit)
        return edit.node.id

    def add_node_edit(self, type: str, id: str | None = None,
                      position: tuple[float, float] | None = None, origin: str = "", **params: Any) -> E.AddNode:
        if type not in CATALOG and type not in self.blocks:
            raise GraphError(f"unknown layer type '{type}'")
        if type in self.blocks and self.declared() is not None and (
                type == self.name or uses_block(self.blocks, type, self.name)):
            raise GraphError(f"the block {self.name} cannot use {type}: a block may not contain itself")
        if id is None:
            id = self.unique_id(_ID_PREFIX.get(type, type.lower()))
        else:
            self._check_new_id(id)
        try:
            values = validate_params(type, params, library=self.blocks, declared=self.declared())
        except ParamError as err:
            raise GraphError(f"{id}: {err}") from None
        if origin and origin_problem(origin):
            raise GraphError(f"{id}: origin {origin_problem(origin)}")
        return E.AddNode(Node(id, type, values, self.blocks, origin=origin), position)

    def declared(self) -> dict[str, Any] | None:
        """The parameters a layer of this graph may refer to: a block's, None for a document."""
        return self.parameters if self.blocks.get(self.name) is self else None

    def remove_node(self, node_id: str) -> None:
        self.node(node_id)
        self.apply(E.RemoveNode(node_id))

    def connect(self, src: str, dst: str, src_port: str | None = None, dst_port: str | None = None) -> Edge:
        """Wire an output port to an input port (each defaults to the node's first)."""
        edge = self.make_edge(src, dst, src_port, dst_port)
        self.apply(E.Connect(edge))       # the edit refuses a wire that may not be, with the reason
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
            canonical = validate_params(node.type, values, fill_defaults=False, library=self.blocks,
                                        declared=self.declared())
        except ParamError as err:
            raise GraphError(f"{node_id}: {err}") from None
        if node.type == FUNCTION and "outputs" in canonical:
            # fewer results would leave wires on ports that no longer exist
            kept = function_spec(canonical["outputs"]).outputs
            wired = sorted({e.src_port for e in self.out_edges(node_id)} - {p.name for p in kept})
            if wired:
                raise GraphError(f"{node_id}: its output {wired[0]} has wires; take them off before it returns "
                                 f"{canonical['outputs']} tensor(s)")
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

    def bypass_edit(self, node_id: str) -> E.Compound:
        """The edit that takes a one-in, one-out node out of its chain, wiring what fed it to
        what it fed (a one-click fix: a Softmax before a cross-entropy loss)."""
        node = self.node(node_id)
        into, out_of = self.in_edges(node_id), self.out_edges(node_id)
        if len(into) != 1:
            raise GraphError(f"{node_id} has {len(into)} input wires; it can only be taken out of a chain")
        source = into[0]
        rewired = [E.Connect(Edge(source.src, e.dst, source.src_port, e.dst_port)) for e in out_of]
        return E.Compound([E.RemoveNode(node.id), *rewired], label=f"Remove {node_id}")

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
        into = self._into.get(edge.dst, [])
        if edge in into:
            return f"{edge.src} is already wired to {edge.dst}"
        if not port.multiple and any(e.dst_port == edge.dst_port for e in into):
            return f"{edge.dst} already has an input on '{edge.dst_port}'; remove that wire first"
        if self._reaches(edge.dst, edge.src):
            return f"wiring {edge.src} to {edge.dst} would make a cycle"
        return None

    def unique_id(self, prefix: str, taken: Collection[str] = (), keep_if_free: bool = False) -> str:
        """A free, valid node id made from ``prefix``: ``prefix1``, ``prefix2`` ... (``relu6_1``
        after a digit), or ``prefix`` itself with ``keep_if_free`` when nobody has it. ``taken``
        names ids that are spoken for although not yet in the graph (the rest of a paste)."""
        base = re.sub(r"\W", "_", prefix).strip("_") or "node"
        if base[0].isdigit():
            base = "n" + base
        if keep_if_free and base not in self.nodes and base not in taken and not id_problem(base):
            return base
        stem = base + "_" if base[-1].isdigit() else base      # relu6 -> relu6_1, not relu61
        i = self._next_suffix.get(stem, 1)
        while f"{stem}{i}" in self.nodes or f"{stem}{i}" in taken or id_problem(f"{stem}{i}"):
            i += 1
        self._next_suffix[stem] = i      # a hint only: ids below it may be free again, never taken twice
        return f"{stem}{i}"

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
            for after in self._successors.get(here, ()):
                if after not in seen:
                    seen.add(after)
                    stack.append(after)
        return False

    def _midpoint(self, a: str, b: str) -> tuple[float, float] | None:
        pa, pb = self.positions.get(a), self.positions.get(b)
        if pa is None or pb is None:
            return None
        return ((pa[0] + pb[0]) / 2, (pa[1] + pb[1]) / 2)

    # ------------------------------------------------------------------ primitives (edits only)
    def _changed(self, event: Any) -> None:
        self.revision += 1
        if isinstance(event, MODEL_EVENTS):
            self.model_revision += 1
        self.events.record(event)

    def _insert_node(self, node: Node, index: int | None, position) -> None:
        node.library = self.blocks
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = node          # the common case: append, no rebuild of the dict
        else:
            items = list(self.nodes.items())
            items.insert(index, (node.id, node))
            self.nodes = dict(items)
        if position is not None:
            self.positions[node.id] = (float(position[0]), float(position[1]))
        self._changed(NodeAdded(node.id))

    def _pop_node(self, node_id: str) -> tuple[Node, int, Any]:
        index = list(self.nodes).index(node_id)
        node = self.nodes.pop(node_id)
        position = self.positions.pop(node_id, None)
        self._next_suffix.clear()        # its id may be given out again, the lowest first
        self._changed(NodeRemoved(node_id))
        return node, index, position

    def _insert_edge(self, edge: Edge, index: int | None) -> int:
        at_end = index is None or index >= len(self.edges)
        index = len(self.edges) if index is None else index
        self.edges.insert(index, edge)
        self._count_successor(edge, +1)
        if at_end:
            self._into.setdefault(edge.dst, []).append(edge)
        else:   # put back in the middle (an undo): the node's wires keep the file's order
            self._into[edge.dst] = [e for e in self.edges if e.dst == edge.dst]
        self._changed(EdgeAdded(edge))
        return index

    def _pop_edge(self, index: int) -> Edge:
        edge = self.edges.pop(index)
        self._count_successor(edge, -1)
        wires = self._into.get(edge.dst, [])
        if edge in wires:
            wires.remove(edge)
        self._changed(EdgeRemoved(edge))
        return edge

    def _count_successor(self, edge: Edge, change: int) -> None:
        after = self._successors.setdefault(edge.src, {})
        after[edge.dst] = after.get(edge.dst, 0) + change
        if after[edge.dst] <= 0:
            del after[edge.dst]

    def _reindex_edges(self) -> None:
        self._successors.clear()
        self._into.clear()
        for edge in self.edges:
            self._count_successor(edge, +1)
            self._into.setdefault(edge.dst, []).append(edge)

    def _set_block(self, name: str, body: Graph | None) -> None:
        if body is None:
            self.blocks.pop(name, None)
        else:
            self.blocks[name] = body
        self._changed(BlockChanged(name))

    def _set_params(self, node_id: str, values: dict[str, Any]) -> None:
        self.nodes[node_id].params.update({k: _copy_value(v) for k, v in values.items()})
        self._changed(ParamsChanged(node_id, tuple(values)))

    def _drop_param(self, node_id: str, name: str) -> None:
        """Takes a parameter off a node (undoing a block parameter's declaration)."""
        self.nodes[node_id].params.pop(name, None)
        self._changed(ParamsChanged(node_id, (name,)))

    def _set_learning(self, node_id: str, lr_factor: float, fresh: bool) -> None:
        node = self.nodes[node_id]
        node.lr_factor, node.fresh = float(lr_factor), bool(fresh)
        self._changed(LearningChanged(node_id))

    def _rename(self, old: str, new: str) -> None:
        node = self.nodes[old]
        node.id = new
        self.nodes = {(new if k == old else k): v for k, v in self.nodes.items()}
        self.edges = [Edge(new if e.src == old else e.src, new if e.dst == old else e.dst,
                           e.src_port, e.dst_port) for e in self.edges]
        self._reindex_edges()
        self._next_suffix.clear()
        if old in self.positions:
            self.positions = {(new if k == old else k): v for k, v in self.positions.items()}
        self.routes = {Edge(new if e.src == old else e.src, new if e.dst == old else e.dst, e.src_port, e.dst_port): r
                       for e, r in self.routes.items()}
        self._changed(NodeRenamed(old, new))

    def check_position(self, node_id: str, position) -> None:
        """GraphError if a node cannot be put there (not a finite place on the canvas)."""
        if position is not None and not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in position):
            raise GraphError(f"{node_id}: position {tuple(position)} is outside the canvas")

    def _set_position(self, node_id: str, position) -> None:
        if position is None:
            self.positions.pop(node_id, None)
        else:
            self.positions[node_id] = (float(position[0]), float(position[1]))
        self._changed(NodeMoved(node_id))

    def _set_route(self, edge: Edge, points) -> None:
        if points:
            self.routes[edge] = tuple((float(x), float(y)) for x, y in points)
        else:
            self.routes.pop(edge, None)
        self._changed(WireRouted(edge))

    def check_route(self, edge: Edge, points) -> None:
        """GraphError if a route has too many bends or one off the canvas."""
        if len(points) > MAX_ROUTE_POINTS:
            raise GraphError(f"{edge}: {len(points)} bend points; at most {MAX_ROUTE_POINTS}")
        for point in points:
            self.check_position(str(edge), point)

    def _set_metadata(self, key: str, value: Any) -> None:
        if value is None:
            self.metadata.pop(key, None)
        else:
            self.metadata[key] = value
        self._changed(MetadataChanged(key))

    def _set_training(self, settings: dict[str, Any]) -> None:
        self.training = dict(settings)
        self._changed(TrainingChanged())

    def _set_view(self, view: dict[str, Any]) -> None:
        self.view = dict(view)
        self._changed(ViewChanged())

    def __repr__(self) -> str:
        return f"<Graph {self.name!r}: {len(self.nodes)} nodes, {len(self.edges)} edges>"


def _copy_value(value: Any) -> Any:
    """A copy that shares nothing mutable (a Function node's arguments nest lists and objects)."""
    if isinstance(value, list):
        return [_copy_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy_value(v) for k, v in value.items()}
    return value


def topological_order(graph: Graph, nodes: Iterable[str] | None = None) -> list[str]:
    """Nodes in an order where every node comes after its inputs (ties: document order)."""
    g = graph.to_networkx() if nodes is None else graph.to_networkx().subgraph(nodes)
    order = {n: i for i, n in enumerate(graph.nodes)}
    return list(nx.lexicographical_topological_sort(g, key=order.__getitem__))

"""Reversible edits of a graph document.

Every change to a ``Graph`` is one of these: ``apply`` performs it (remembering what it needs
to undo), ``revert`` restores the document exactly, including the order of nodes and edges.
The editor's undo stack wraps them one to one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import GraphError
from .events import BlockChanged
from .values import lr_factor_problem

if TYPE_CHECKING:
    from .graph import Edge, Graph, Node


class Edit:
    @property
    def label(self) -> str:
        """What the undo menu calls this edit."""
        return "Edit"

    def apply(self, graph: Graph) -> None:
        raise NotImplementedError

    def revert(self, graph: Graph) -> None:
        raise NotImplementedError


@dataclass
class AddNode(Edit):
    node: Node
    position: tuple[float, float] | None = None

    @property
    def label(self) -> str:
        return f"Add {self.node.id}"

    def apply(self, graph):
        graph.check_position(self.node.id, self.position)
        graph._insert_node(self.node.copy(), None, self.position)

    def revert(self, graph):
        graph._pop_node(self.node.id)


@dataclass
class RemoveNode(Edit):
    node_id: str
    _saved: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"Delete {self.node_id}"

    def apply(self, graph):
        edges = [(i, e) for i, e in enumerate(graph.edges) if self.node_id in (e.src, e.dst)]
        for i, _ in reversed(edges):
            graph._pop_edge(i)
        node, index, position = graph._pop_node(self.node_id)
        self._saved = (node, index, position, edges)

    def revert(self, graph):
        node, index, position, edges = self._saved
        graph._insert_node(node, index, position)
        for i, edge in edges:
            graph._insert_edge(edge, i)


@dataclass
class Connect(Edit):
    edge: Edge
    index: int | None = None

    @property
    def label(self) -> str:
        return f"Connect {self.edge.src} to {self.edge.dst}"

    def apply(self, graph):
        # The one place wires are checked: every way of adding one (drag, paste, fix, script)
        # goes through here, so no document can hold a wire the loader would refuse.
        problem = graph.connection_problem(self.edge)
        if problem:
            raise GraphError(problem)
        self.index = graph._insert_edge(self.edge, self.index)

    def revert(self, graph):
        graph._pop_edge(graph.edges.index(self.edge))


@dataclass
class Disconnect(Edit):
    edge: Edge
    _index: int | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"Disconnect {self.edge.src} from {self.edge.dst}"

    def apply(self, graph):
        self._index = graph.edges.index(self.edge)
        graph._pop_edge(self._index)

    def revert(self, graph):
        graph._insert_edge(self.edge, self._index)


@dataclass
class Retype(Edit):
    """Gives a node another type with the same ports and parameters (a use of a block moved to
    an identical copy of it: Make Unique). The node keeps its place in the document, its place
    on the canvas and its wires, in their order."""
    node_id: str
    type_name: str
    _old: str = field(default="", repr=False)

    @property
    def label(self) -> str:
        return f"{self.node_id} uses {self.type_name}"

    def apply(self, graph):
        self._old = graph.node(self.node_id).type
        _swap_type(graph, self.node_id, self.type_name)

    def revert(self, graph):
        _swap_type(graph, self.node_id, self._old)


def _swap_type(graph, node_id: str, type_name: str) -> None:
    # Taking a wire off keeps its route (routes are kept by wire), so it comes back as it was.
    wires = [(i, e) for i, e in enumerate(graph.edges) if node_id in (e.src, e.dst)]
    for i, _ in reversed(wires):
        graph._pop_edge(i)
    node, index, position = graph._pop_node(node_id)
    graph._insert_node(dataclasses.replace(node, type=type_name), index, position)
    for i, edge in wires:
        graph._insert_edge(edge, i)


@dataclass
class SetParams(Edit):
    """New values for some of a node's parameters; a key the node did not have (a use given a
    parameter its merged block now declares) is taken off again on undo."""
    node_id: str
    values: dict[str, Any]
    _old: dict[str, Any] = field(default_factory=dict, repr=False)
    _added: list[str] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        return f"Change {', '.join(self.values)} of {self.node_id}"

    def apply(self, graph):
        params = graph.nodes[self.node_id].params
        self._old = {k: params[k] for k in self.values if k in params}
        self._added = [k for k in self.values if k not in params]
        graph._set_params(self.node_id, self.values)

    def revert(self, graph):
        if self._old:
            graph._set_params(self.node_id, self._old)
        for key in self._added:
            graph._drop_param(self.node_id, key)


@dataclass
class SetLearning(Edit):
    """How some of the model's nodes learn: a learning-rate factor (0 freezes them) and/or a
    fresh start (left out of the weights the graph starts from). ``None`` keeps a value as it
    is. Only the model's own nodes and block uses take them: a block's definition is shared by
    its uses, so a layer inside one is frozen by freezing the use."""
    node_ids: tuple[str, ...]
    lr_factor: float | None = None
    fresh: bool | None = None
    _old: dict[str, tuple[float, bool]] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        names = ", ".join(self.node_ids[:3]) + (f" and {len(self.node_ids) - 3} more" if len(self.node_ids) > 3 else "")
        if self.lr_factor is None:
            return f"Start {names} from fresh weights" if self.fresh else f"Start {names} from the start weights"
        if self.lr_factor == 0:
            return f"Freeze {names}"
        return f"Unfreeze {names}" if self.lr_factor == 1 else f"Learning rate of {names} x{self.lr_factor:g}"

    def apply(self, graph):
        if graph.declared() is not None:
            raise GraphError(f"layers inside the block {graph.name} learn as its uses do: freeze or set the "
                             "learning rate of a use of the block instead")
        problem = None if self.lr_factor is None else lr_factor_problem(self.lr_factor)
        if problem:
            raise GraphError(problem)
        for node_id in self.node_ids:
            graph.node(node_id)          # GraphError naming a node that is not there
        self._old = {n: (graph.nodes[n].lr_factor, graph.nodes[n].fresh) for n in self.node_ids}
        for node_id, (factor, fresh) in self._old.items():
            graph._set_learning(node_id, factor if self.lr_factor is None else self.lr_factor,
                                fresh if self.fresh is None else self.fresh)

    def revert(self, graph):
        for node_id, (factor, fresh) in self._old.items():
            graph._set_learning(node_id, factor, fresh)


@dataclass
class Rename(Edit):
    old: str
    new: str

    @property
    def label(self) -> str:
        return f"Rename {self.old} to {self.new}"

    def apply(self, graph):
        graph._rename(self.old, self.new)

    def revert(self, graph):
        graph._rename(self.new, self.old)


@dataclass
class Move(Edit):
    """Moves nodes; consecutive moves of the same nodes merge into one undo step (a drag).

    A routed wire whose two ends move together keeps its route, shifted with them; one that
    only one end of moves loses it (the bends would no longer lie between its ends)."""
    positions: dict[str, tuple[float, float]]
    _old: dict[str, tuple[float, float] | None] = field(default_factory=dict, repr=False)
    _old_routes: dict[Edge, tuple] = field(default_factory=dict, repr=False)

    label = "Move"

    def apply(self, graph):
        for n, pos in self.positions.items():       # all or nothing: check every place first
            graph.check_position(n, pos)
        self._old = {n: graph.positions.get(n) for n in self.positions}
        shift = {n: _delta(self._old[n], pos) for n, pos in self.positions.items()}
        moved_routes = {e: r for e, r in graph.routes.items() if e.src in shift or e.dst in shift}
        self._old_routes = dict(moved_routes)
        for n, pos in self.positions.items():
            graph._set_position(n, pos)
        for edge, route in moved_routes.items():
            a, b = shift.get(edge.src), shift.get(edge.dst)
            graph._set_route(edge, [(x + a[0], y + a[1]) for x, y in route] if a is not None and a == b else None)

    def revert(self, graph):
        _restore(graph, self._old, self._old_routes)

    def merge(self, later: Move) -> bool:
        """Absorb a later move of the same nodes (already applied); True if merged."""
        if set(later.positions) != set(self.positions):
            return False
        self.positions = dict(later.positions)
        for edge, route in later._old_routes.items():
            self._old_routes.setdefault(edge, route)
        return True


def _delta(before, after) -> tuple[float, float] | None:
    return None if before is None else (after[0] - before[0], after[1] - before[1])


@dataclass
class Arrange(Edit):
    """An Auto Layout: every node's place and the routes of the wires it bends, as one step.
    Routes it does not give are cleared (they belonged to the old places)."""
    positions: dict[str, tuple[float, float]]
    routes: dict[Edge, tuple]
    _old: dict[str, tuple[float, float] | None] = field(default_factory=dict, repr=False)
    _old_routes: dict[Edge, tuple] = field(default_factory=dict, repr=False)

    label = "Auto layout"

    def apply(self, graph):
        for n, pos in self.positions.items():
            graph.check_position(n, pos)
        for edge, route in self.routes.items():
            graph.check_route(edge, route)
        self._old = {n: graph.positions.get(n) for n in self.positions}
        self._old_routes = dict(graph.routes)
        for n, pos in self.positions.items():
            graph._set_position(n, pos)
        for edge in set(self._old_routes) - set(self.routes):
            graph._set_route(edge, None)
        for edge, route in self.routes.items():
            graph._set_route(edge, route)

    def revert(self, graph):
        for edge in set(self.routes) - set(self._old_routes):
            graph._set_route(edge, None)
        _restore(graph, self._old, self._old_routes)


def _restore(graph, positions: dict, routes: dict) -> None:
    """Put nodes and routes back as they were before a Move or an Arrange."""
    for n, pos in positions.items():
        graph._set_position(n, pos)
    for edge, route in routes.items():
        graph._set_route(edge, route)


@dataclass
class SetMetadata(Edit):
    key: str
    value: Any
    _old: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"Change {self.key}"

    def apply(self, graph):
        self._old = graph.metadata.get(self.key)
        graph._set_metadata(self.key, self.value)

    def revert(self, graph):
        graph._set_metadata(self.key, self._old)


@dataclass
class SetTraining(Edit):
    settings: dict[str, Any]
    _old: dict[str, Any] = field(default_factory=dict, repr=False)

    label = "Change training settings"

    def apply(self, graph):
        self._old = dict(graph.training)
        graph._set_training(self.settings)

    def revert(self, graph):
        graph._set_training(self._old)


@dataclass
class SetView(Edit):
    """Where the canvas looks (zoom, centre): saved with the file, not an undo step."""
    view: dict[str, Any]
    _old: dict[str, Any] = field(default_factory=dict, repr=False)

    label = "Change view"

    def apply(self, graph):
        self._old = dict(graph.view)
        graph._set_view(self.view)

    def revert(self, graph):
        graph._set_view(self._old)


@dataclass
class DefineBlock(Edit):
    """Adds a block definition (its body is a graph of its own)."""
    name: str
    body: Graph

    @property
    def label(self) -> str:
        return f"Define block {self.name}"

    def apply(self, graph):
        if self.name in graph.blocks:
            raise GraphError(f"a block named '{self.name}' already exists")
        graph._set_block(self.name, self.body)

    def revert(self, graph):
        graph._set_block(self.name, None)


@dataclass
class ReplaceBlock(Edit):
    """Puts another body in the place of a block's definition; its uses stay as they are."""
    name: str
    body: Graph
    _old: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"Replace the definition of {self.name}"

    def apply(self, graph):
        if self.name not in graph.blocks:
            raise GraphError(f"there is no block named '{self.name}'")
        self._old = graph.blocks[self.name]
        graph._set_block(self.name, self.body)

    def revert(self, graph):
        graph._set_block(self.name, self._old)


@dataclass
class RemoveBlock(Edit):
    """Removes a block definition that no node uses."""
    name: str
    _body: Any = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"Remove block {self.name}"

    def apply(self, graph):
        from .blocks import block_uses
        users = [node if holder is graph else f"{holder.name}.{node}" for holder, node in block_uses(graph, self.name)]
        if users:
            raise GraphError(f"the block {self.name} is still used by {', '.join(users[:5])}")
        self._body = graph.blocks[self.name]
        graph._set_block(self.name, None)

    def revert(self, graph):
        graph._set_block(self.name, self._body)


@dataclass
class DeclareParameter(Edit):
    """Declares a parameter of the block whose body this edit is applied to, and gives every use
    of the block in ``document`` (the model and every block) the default, so that each use can
    then set its own value (Make Block Parameter in an opened block)."""
    document: Graph
    name: str
    default: Any
    _gave: list[tuple[Any, str]] = field(default_factory=list, repr=False)

    @property
    def label(self) -> str:
        return f"Declare block parameter {self.name}"

    def apply(self, graph):
        from .blocks import block_uses, parameter_problem
        problem = parameter_problem(self.name, self.default)
        if problem or self.name in graph.parameters:
            raise GraphError(problem or f"the block already has a parameter '{self.name}'")
        graph.parameters[self.name] = self.default
        graph._changed(BlockChanged(graph.name))
        self._gave = [(holder, node) for holder, node in block_uses(self.document, graph.name)
                      if self.name not in holder.nodes[node].params]
        for holder, node in self._gave:
            holder._set_params(node, {self.name: self.default})

    def revert(self, graph):
        for holder, node_id in reversed(self._gave):
            holder._drop_param(node_id, self.name)
        del graph.parameters[self.name]
        graph._changed(BlockChanged(graph.name))


@dataclass
class Compound(Edit):
    """Several edits as one step (a one-click fix, a paste, a layout)."""
    edits: list[Edit]
    label: str = "Edit"

    def apply(self, graph):
        done: list[Edit] = []
        try:
            for edit in self.edits:
                edit.apply(graph)
                done.append(edit)
        except Exception:
            for edit in reversed(done):
                edit.revert(graph)
            raise

    def revert(self, graph):
        for edit in reversed(self.edits):
            edit.revert(graph)

"""Diagnostics: a problem found in a graph, on the node that causes it, in plain words.

A diagnostic may carry a fix as data (which edit to make); the editor offers it as one click
and applies it as one undoable step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from .editing import adapt_head_edit, insert_on_wire_edit, start_fresh_edit
from .edits import SetTraining
from .graph import GraphError

if TYPE_CHECKING:
    from .edits import Edit
    from .graph import Edge, Graph

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class InsertLayer:
    """Fix: put a new layer of ``type`` on ``edge`` (e.g. Flatten before a Linear).

    A rule that judges one node does not know its wires: it gives ``edge=None``, meaning the
    node's first input wire, and the checker fills the wire in (``located``)."""
    edge: Edge | None
    type: str
    params: tuple[tuple[str, Any], ...] = ()

    def located(self, graph: Graph, node: str) -> InsertLayer:
        if self.edge is not None:
            return self
        wires = graph.in_edges(node)
        return replace(self, edge=wires[0]) if wires else self

    @property
    def label(self) -> str:
        return f"Insert {self.type} before {self.edge.dst if self.edge else 'this node'}"

    def edit(self, graph: Graph) -> Edit:
        if self.edge is None:
            raise ValueError("an InsertLayer fix needs its wire (located) before it can be applied")
        return insert_on_wire_edit(graph, self.edge, self.type, **dict(self.params))


@dataclass(frozen=True)
class SetParam:
    """Fix: give a node's parameter a value that works (``node=""`` in a rule: the node judged,
    filled in by the checker)."""
    node: str
    name: str
    value: Any

    def located(self, graph: Graph, node: str) -> SetParam:
        return self if self.node else replace(self, node=node)

    @property
    def label(self) -> str:
        return f"Set {self.name} of {self.node} to {self.value}"

    def edit(self, graph: Graph) -> Edit:
        return graph.set_params_edit(self.node, **{self.name: self.value})


@dataclass(frozen=True)
class RemoveLayer:
    """Fix: take a layer out of its chain, wiring its input to whatever it fed."""
    node: str

    @property
    def label(self) -> str:
        return f"Remove {self.node}"

    def located(self, graph: Graph, node: str) -> RemoveLayer:
        return self if self.node else replace(self, node=node)

    def edit(self, graph: Graph) -> Edit:
        return graph.bypass_edit(self.node)


@dataclass(frozen=True)
class AdaptHead:
    """Fix, Adapt to data set: give the head (the last layer) as many outputs as the data set
    needs and start it from fresh weights, leaving its tensors out of the start weights."""
    node: str
    size: int
    name: str = "out_features"

    @property
    def label(self) -> str:
        return f"Adapt {self.node} to the data set ({self.size} outputs, fresh weights)"

    def located(self, graph: Graph, node: str) -> AdaptHead:
        return self if self.node else replace(self, node=node)

    def edit(self, graph: Graph) -> Edit:
        return adapt_head_edit(graph, self.node, self.size, self.name)


@dataclass(frozen=True)
class StartFresh:
    """Fix: a layer whose tensors in the start weights do not fit starts from fresh weights."""
    node: str

    @property
    def label(self) -> str:
        return f"Start {self.node} from fresh weights"

    def located(self, graph: Graph, node: str) -> StartFresh:
        return self if self.node else replace(self, node=node)

    def edit(self, graph: Graph) -> Edit:
        return start_fresh_edit(graph, self.node)


@dataclass(frozen=True)
class UseStartWeights:
    """Fix: the start weights file changed since it was chosen; the graph records its checksum as
    it is now, so that training starts from its present contents (the rest of the entry kept)."""
    file_name: str
    sha256: str

    @property
    def label(self) -> str:
        return f"Use {self.file_name} as it is now"

    def located(self, graph: Graph, node: str) -> UseStartWeights:
        return self

    def edit(self, graph: Graph) -> Edit:
        entry = graph.training.get("start_from")
        if not isinstance(entry, dict) or not entry:
            raise GraphError("the training settings name no start weights any more")
        return SetTraining(graph.training | {"start_from": entry | {"sha256": self.sha256}})


@dataclass(frozen=True)
class ChooseDataPath:
    """Fix: point the training settings' data set at a folder or file that the person chooses:
    its option ``option`` (``root`` for a folder, ``path`` for a file). The window asks with a
    picker, then applies ``edit_with(graph, chosen)``; the command line names the option."""
    option: str
    folder: bool

    @property
    def label(self) -> str:
        return f"Choose the data {'folder' if self.folder else 'file'} ({self.option})..."

    def located(self, graph: Graph, node: str) -> ChooseDataPath:
        return self

    def edit_with(self, graph: Graph, chosen: str) -> Edit:
        from .edits import SetTraining
        options = graph.training.get("dataset_options")
        options = dict(options) if isinstance(options, dict) else {}
        options[self.option] = chosen
        return SetTraining({**graph.training, "dataset_options": options})

    def edit(self, graph: Graph) -> Edit:
        raise ValueError(f"the data {'folder' if self.folder else 'file'} must be chosen first: use edit_with")


Fix = InsertLayer | SetParam | RemoveLayer | AdaptHead | StartFresh | UseStartWeights | ChooseDataPath


@dataclass(frozen=True)
class Diagnostic:
    severity: str            # ERROR or WARNING
    node: str | None         # the node that causes it, None for the whole graph
    message: str             # plain words, starting with the node's id when there is one
    fix: Fix | None = None

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"

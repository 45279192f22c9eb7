"""Starting a graph from weights: which tensors fit, which do not, and on which node.

Every tensor of the file is matched by its state-dict name to the compiled graph's: a tensor
that fits is loaded; one of another shape, one the graph lacks and one the file lacks are each
reported with the node it belongs to. Nodes marked ``fresh`` (a new head) are left out on
purpose: their tensors in the file are "replaced", not mismatches. The same matching, done on
shapes alone, gives the check's diagnostics, so a wrong-shape tensor is marked on its node
before training starts.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from graphs import ERROR, WARNING, Diagnostic, Graph, StartFresh

from ..checking import Report
from ..compiling import NODE_IDS, compile_graph
from ..data import input_normalizer
from ..layers import format_shape
from .weight_files import WeightsError, WeightsFile

MISSING, UNEXPECTED, SHAPE = "missing", "unexpected", "shape"
Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class TensorMismatch:
    name: str                           # the tensor's state-dict name
    node: str | None                    # the node it belongs to; None: no node of the graph
    problem: str                        # MISSING (not in the file), UNEXPECTED (not in the graph), SHAPE
    in_file: tuple[int, ...] | None = None
    in_graph: tuple[int, ...] | None = None

    def __str__(self) -> str:
        if self.problem == SHAPE:
            return (f"{self.name} ({self.node}): wrong shape, {_shape(self.in_file)} in the file but "
                    f"{_shape(self.in_graph)} in the graph")
        if self.problem == MISSING:
            return f"{self.name} ({self.node}): missing from the file, so it starts from fresh weights"
        return f"{self.name}: unexpected, the graph has no such tensor"


@dataclass(frozen=True)
class WeightsFit:
    """How a weights file fits a graph, tensor by tensor."""
    loaded: tuple[str, ...]
    replaced: tuple[str, ...]           # tensors of fresh nodes: left out of the start on purpose
    mismatches: tuple[TensorMismatch, ...]
    scaling: tuple[str, ...] = ()       # the input's Normalize statistics: the ``normalize`` setting's, not the file's

    def of(self, problem: str) -> list[TensorMismatch]:
        return [m for m in self.mismatches if m.problem == problem]

    def by_node(self) -> dict[str | None, list[TensorMismatch]]:
        found: dict[str | None, list[TensorMismatch]] = {}
        for m in self.mismatches:
            found.setdefault(m.node, []).append(m)
        return found

    def summary(self) -> str:
        total = (len(self.loaded) + len(self.replaced) + len(self.scaling) + len(self.of(SHAPE))
                 + len(self.of(UNEXPECTED)))
        parts = [f"{len(self.loaded)} of the file's {total} tensors loaded"]
        if self.replaced:
            parts.append(f"{len(self.replaced)} replaced by fresh weights as asked")
        if self.scaling:
            parts.append(f"{len(self.scaling)} input statistics set by the normalize setting instead")
        for problem, words in ((SHAPE, "of the wrong shape"), (MISSING, "missing from the file"),
                               (UNEXPECTED, "unexpected")):
            if self.of(problem):
                parts.append(f"{len(self.of(problem))} {words}")
        return ", ".join(parts)


def tensor_owners(model: nn.Module) -> dict[str, str]:
    """state-dict name -> the node it belongs to, for a compiled graph."""
    attributes = getattr(model, "meta", {}).get(NODE_IDS, {})
    return {name: attributes.get(name.split(".", 1)[0], name.split(".", 1)[0]) for name in model.state_dict()}


def fit_shapes(graph: Graph, expected: Shapes, owners: dict[str, str], found: Shapes) -> WeightsFit:
    """Match the tensors a file holds (``found``) with those the graph has (``expected``, each
    owned by a node in ``owners``), leaving out the tensors of the graph's fresh nodes and of
    its input's Normalize step (whose statistics the settings' ``normalize`` chooses)."""
    fresh = {n.id for n in graph.nodes.values() if n.fresh}
    scaler = input_normalizer(graph)
    attributes = {name.split(".", 1)[0]: node for name, node in owners.items()}
    loaded, replaced, scaling, mismatches = [], [], [], []
    for name, shape in expected.items():        # in the model's order, then what only the file has
        node = owners[name]
        if node == scaler:
            scaling += [name] if name in found else []
        elif node in fresh:
            replaced += [name] if name in found else []
        elif name not in found:
            mismatches.append(TensorMismatch(name, node, MISSING, None, tuple(shape)))
        elif tuple(found[name]) != tuple(shape):
            mismatches.append(TensorMismatch(name, node, SHAPE, tuple(found[name]), tuple(shape)))
        else:
            loaded.append(name)
    for name, shape in found.items():
        if name not in expected:
            owner = attributes.get(name.split(".", 1)[0])
            if owner in fresh:
                replaced.append(name)
            else:
                mismatches.append(TensorMismatch(name, owner, UNEXPECTED, tuple(shape)))
    return WeightsFit(tuple(loaded), tuple(replaced), tuple(mismatches), tuple(scaling))


def load_start_weights(model: nn.Module, graph: Graph, weights: WeightsFile) -> WeightsFit:
    """Copy the tensors of ``weights`` that fit into the compiled ``model`` (on the CPU, before
    it moves to its device); WeightsError when none does, which means another network's file."""
    state = model.state_dict()
    fit = fit_shapes(graph, {k: tuple(v.shape) for k, v in state.items()}, tensor_owners(model), weights.shapes)
    if not fit.loaded and not fit.replaced:
        shown = "; ".join(str(m) for m in (fit.of(SHAPE) + fit.of(UNEXPECTED))[:2])
        raise WeightsError(f"{weights.path}: none of its {len(weights.tensors)} tensors fits this graph ({shown}): "
                           "weights of another network?")
    with torch.no_grad():
        for name in fit.loaded:
            state[name].copy_(weights.tensors[name])
    return fit


def expected_shapes(graph: Graph, report: Report) -> tuple[Shapes, dict[str, str]]:
    """The graph's tensors (state-dict name -> shape) and the node of each, from the graph
    compiled on the meta device: exactly what training would have, allocating nothing."""
    with torch.device("meta"):
        model = compile_graph(graph, report)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}, tensor_owners(model)


def weights_fit(graph: Graph, report: Report, found: Shapes) -> WeightsFit:
    """How tensors of these shapes (a weights file's ``shapes``) would fit the checked graph;
    compiles the graph on the meta device (a fraction of a second for ResNet-18: call it off
    the window's thread). A graph with errors cannot be compiled: nothing fits it then."""
    if not report.ok:
        return WeightsFit((), (), ())
    expected, owners = expected_shapes(graph, report)
    return fit_shapes(graph, expected, owners, found)


def start_weight_diagnostics(graph: Graph, fit: WeightsFit, file_name: str) -> list[Diagnostic]:
    """The check's word on the start weights: on each node whose tensors do not fit, a warning
    offering to start it fresh; for tensors of no node, one warning; an error when nothing fits."""
    if not fit.loaded and not fit.replaced and fit.of(SHAPE) + fit.of(UNEXPECTED):
        count = len(fit.of(SHAPE) + fit.of(UNEXPECTED))
        return [Diagnostic(ERROR, None, f"none of the {count} tensors of the start weights {file_name} fits this "
                                        "graph: weights of another network?")]
    diagnostics = []
    for node, mismatches in fit.by_node().items():
        if node is None or node not in graph.nodes:
            continue
        said = []
        for problem in (SHAPE, MISSING, UNEXPECTED):
            these = [m for m in mismatches if m.problem == problem]
            more = " ..." if len(these) > 3 else ""
            if these and problem == SHAPE:
                said.append(", ".join(f"{m.name} as {_shape(m.in_file)} where it is {_shape(m.in_graph)}"
                                      for m in these[:3]) + f"{more}: those start from fresh weights")
            elif these:
                names = ", ".join(m.name for m in these[:3]) + more
                said.append(f"nothing for {names}, so that starts from fresh weights" if problem == MISSING
                            else f"{names}, which it does not have (left out)")
        text = f"{node}: the start weights {file_name} hold " + "; ".join(said)
        refits = any(m.problem != UNEXPECTED for m in mismatches)
        diagnostics.append(Diagnostic(WARNING, node, text, StartFresh(node) if refits else None))
    strays = [m.name for m in fit.mismatches if m.node is None or m.node not in graph.nodes]
    if strays:
        shown = ", ".join(strays[:4]) + (f" and {len(strays) - 4} more" if len(strays) > 4 else "")
        diagnostics.append(Diagnostic(WARNING, None, f"the start weights {file_name} hold {len(strays)} tensor(s) "
                                                     f"that no node of this graph has: {shown}"))
    return diagnostics


def _shape(shape: tuple[int, ...] | None) -> str:
    return "?" if shape is None else (format_shape(shape) if shape else "a scalar")

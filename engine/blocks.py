"""Block uses in the engine: their shapes and totals while checking, their modules when compiling.

A use is its block's body with the use's parameters bound and its Input nodes given the shapes
that flow in; that plain graph is checked and compiled like any other, so shapes, parameters and
multiply-adds flow through blocks, and each use becomes a submodule whose class is named after
the block. ``repeat`` chains copies: as an ``nn.Sequential``, so that state-dict keys read as in
hand-written PyTorch (``layer1.0.conv1.weight``).
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from torch import nn

from graphs import ERROR, Diagnostic, Graph, ParamError
from graphs.blocks import MAX_EXPANDED_LAYERS, REPEAT, BindError, Library, bind, expanded_layers, library_parts

from .inference import InferenceCache, NodeResult, use_key
from .layers import Ops, TensorInfo
from .rules import Finding

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .check import Report


class UseProblem(ValueError):
    """Why a block use cannot be built, in the user's terms."""


@dataclass(frozen=True)
class Copy:
    """One copy of a block use: its bound body, that body's report, and what leaves it."""
    inputs: dict[str, list[TensorInfo]]
    body: Graph
    report: Report
    outputs: dict[str, TensorInfo]


def library_key(library: Library) -> str:
    """Equal for libraries whose blocks compute the same things: part of every block result's key."""
    return hashlib.sha256(repr(library_parts(library)).encode("utf-8")).hexdigest()


def infer_block(cache: InferenceCache, library: Library, type_name: str, params: dict[str, Any],
                inputs: dict[str, list[TensorInfo]]) -> NodeResult:
    """Output tensors and totals of one block use (all its copies), or why it fails."""
    key = ("block", library_key(library), *use_key(type_name, params, inputs))
    return cache.remember(key, lambda: _infer(cache, library, type_name, params, inputs))


def _infer(cache, library, type_name, params, inputs) -> NodeResult:
    try:
        copies = expand(cache, library, type_name, params, inputs)
    except UseProblem as problem:
        return NodeResult(findings=(Finding(ERROR, str(problem)),))
    warnings = tuple(Finding(d.severity, f"inside {type_name}: {d.message}")
                     for d in copies[0].report.diagnostics)
    return NodeResult(dict(copies[-1].outputs), sum(c.report.total_params for c in copies),
                      sum(c.report.total_macs for c in copies), warnings)


def expand(cache: InferenceCache, library: Library, type_name: str, params: dict[str, Any],
           inputs: dict[str, list[TensorInfo]]) -> list[Copy]:
    """Every copy of a use, checked; UseProblem with the first cause if one does not check."""
    from .check import Checker  # checking a body is checking a graph: the checker uses this module

    body = library[type_name]
    repeat = params.get(REPEAT, 1)
    in_ports, out_ports = body.inputs(), body.outputs()
    if repeat > 1 and (len(in_ports) != 1 or len(out_ports) != 1):
        raise UseProblem(f"repeat {repeat} chains copies, which needs a block with one input and one output; "
                         f"{type_name} has {len(in_ports)} and {len(out_ports)}")
    layers = expanded_layers(library, body) * repeat
    if layers > MAX_EXPANDED_LAYERS:
        raise UseProblem(f"expands to {layers:,} layers; a graph may hold at most {MAX_EXPANDED_LAYERS:,}")
    args = {k: v for k, v in params.items() if k != REPEAT}
    copies: list[Copy] = []
    current = inputs
    for index in range(repeat):
        if copies and current == copies[-1].inputs:    # the same tensors in: the same copy again
            copies.append(copies[-1])
            continue
        shapes = {port: (infos[0].shape, infos[0].dtype) for port, infos in current.items() if infos}
        try:
            bound = bind(library, type_name, args, shapes)
        except ParamError as err:
            raise UseProblem(f"inside {type_name}: {err}") from None
        report = Checker(cache, follow=False, lints=False).check(bound)
        if not report.ok:
            where = f"copy {index + 1} of {type_name}" if repeat > 1 else type_name
            raise UseProblem(f"inside {where}: {report.errors[0].message}")
        wires = bound.wires_into()
        outputs = {out: report.tensors[(e.src, e.src_port)] for out in out_ports
                   for e in wires.get((out, "in"), [])[:1]}
        copies.append(Copy(current, bound, report, outputs))
        current = {in_ports[0]: [outputs[out_ports[0]]]} if repeat > 1 else current
    return copies


def build_block(cache: InferenceCache, library: Library, type_name: str, params: dict[str, Any],
                inputs: dict[str, list[TensorInfo]]) -> nn.Module:
    """The module of one use: its block compiled with the use's parameters and shapes (each copy
    with weights of its own), several copies in an ``nn.Sequential``."""
    from .compiler import compile_graph

    modules = [compile_graph(copy.body, copy.report) for copy in expand(cache, library, type_name, params, inputs)]
    return modules[0] if len(modules) == 1 else nn.Sequential(*modules)


def emit_use(ops: Ops, target: str, body: Graph, inputs: dict[str, list[Any]]) -> dict[str, Any]:
    """A use's step in the forward: its module called on its inputs in port order; a block with
    several outputs returns them as a tuple, taken apart by position."""
    result = ops.module(target, *[inputs[port][0] for port in body.inputs()])
    outputs = body.outputs()
    if len(outputs) == 1:
        return {outputs[0]: result}
    return {port: ops.function(operator.getitem, result, i) for i, port in enumerate(outputs)}


def check_inside(cache: InferenceCache, graph: Graph, report: Report,
                 levels: Sequence[tuple[str, str | None]]) -> tuple[Graph, Report]:
    """The body of an opened block as the editor shows it, and its report. ``levels`` leads from
    ``graph`` down: (block, use) pairs, where ``use`` is the node it was opened through, or None
    for a block opened on its own. Through a use, the body is bound to that use's parameters and
    the tensors flowing into it, so shapes read as in that place of the model (the first copy of
    a repeat) and a problem is marked on the layer inside that causes it. On its own, a block is
    checked with its defaults and its Inputs' example shapes."""
    from .check import Checker, Report

    current, current_report = graph, report
    for block, use in levels:
        node = current.nodes.get(use) if use is not None else None
        bound, problem = None, None
        if node is not None and node.type == block:
            shapes = {}
            for port, wires in current.wires_into_node(node.id).items():
                info = current_report.tensors.get((wires[0].src, wires[0].src_port))
                if info is not None:
                    shapes[port] = (info.shape, info.dtype)
            try:
                bound = bind(graph.blocks, block, {k: v for k, v in node.params.items() if k != REPEAT}, shapes)
            except BindError as err:        # the use's value does not suit a layer: marked on that layer
                problem = Diagnostic(ERROR, err.node, f"{err} (the value {use} gives)")
        try:
            bound = bound or bind(graph.blocks, block, {})
        except BindError as err:
            return graph.blocks[block], Report(diagnostics=[Diagnostic(ERROR, err.node, str(err))])
        current_report = Checker(cache, follow=False, lints=False).check(bound)
        if problem is not None:
            current_report.diagnostics.insert(0, problem)
        current = bound
    return current, current_report

"""Block uses while checking: their shapes and totals, and the inside of an opened block.

A use is its block's body with the use's parameters bound and its Input nodes given the shapes
that flow in; that plain graph is checked like any other, so shapes, parameters and
multiply-adds flow through blocks. Checking a body is checking a graph: the checker passes its
own way of doing that (``check_body``) into these functions instead of this module importing
the checker back, so the recursion is in the calls, not in the imports. ``repeat`` chains copies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphs import ERROR, Diagnostic, Graph, ParamError
from graphs.binding import BindError, bind
from graphs.blocks import MAX_EXPANDED_LAYERS, REPEAT, Library, expanded_layers, library_parts

from ..layers import Finding, InferenceCache, NodeResult, TensorInfo, use_key
from .report import Report

# How a bound body is checked (the checker's own way), given the tensors a use feeds its Inputs.
CheckBody = Callable[[Graph, dict[str, TensorInfo]], Report]


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
                inputs: dict[str, list[TensorInfo]], check_body: CheckBody) -> NodeResult:
    """Output tensors and totals of one block use (all its copies), or why it fails."""
    key = ("block", library_key(library), *use_key(type_name, params, inputs))
    return cache.remember(key, lambda: _infer(library, type_name, params, inputs, check_body))


def _infer(library, type_name, params, inputs, check_body: CheckBody) -> NodeResult:
    try:
        copies = expand(library, type_name, params, inputs, check_body)
    except UseProblem as problem:
        return NodeResult(findings=(Finding(ERROR, str(problem)),))
    warnings = tuple(Finding(d.severity, f"inside {type_name}: {d.message}")
                     for d in copies[0].report.diagnostics)
    return NodeResult(dict(copies[-1].outputs), sum(c.report.total_params for c in copies),
                      sum(c.report.total_macs for c in copies), warnings)


def expand(library: Library, type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]],
           check_body: CheckBody) -> list[Copy]:
    """Every copy of a use, checked with ``check_body``; UseProblem with the first cause if
    one does not check."""
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
        given = {port: infos[0] for port, infos in current.items() if infos}
        shapes = {port: (info.shape, info.dtype) for port, info in given.items()}
        try:
            bound = bind(library, type_name, args, shapes)
        except ParamError as err:
            raise UseProblem(f"inside {type_name}: {err}") from None
        report = check_body(bound, given)
        if not report.ok:
            where = f"copy {index + 1} of {type_name}" if repeat > 1 else type_name
            raise UseProblem(f"inside {where}: {report.errors[0].message}")
        wires = bound.wires_into()
        outputs = {out: report.tensors[(e.src, e.src_port)] for out in out_ports
                   for e in wires.get((out, "in"), [])[:1]}
        copies.append(Copy(current, bound, report, outputs))
        current = {in_ports[0]: [outputs[out_ports[0]]]} if repeat > 1 else current
    return copies


def check_inside(graph: Graph, report: Report, levels: Sequence[tuple[str, str | None]],
                 check_body: CheckBody) -> tuple[Graph, Report]:
    """The body of an opened block as the editor shows it, and its report. ``levels`` leads from
    ``graph`` down: (block, use) pairs, where ``use`` is the node it was opened through, or None
    for a block opened on its own. Through a use, the body is bound to that use's parameters and
    the tensors flowing into it, so shapes read as in that place of the model (the first copy of
    a repeat) and a problem is marked on the layer inside that causes it. On its own, a block is
    checked with its defaults and its Inputs' example shapes."""
    current, current_report = graph, report
    for block, use in levels:
        node = current.nodes.get(use) if use is not None else None
        bound, problem = None, None
        given: dict[str, TensorInfo] = {}
        if node is not None and node.type == block:
            for port, wires in current.wires_into_node(node.id).items():
                info = current_report.tensors.get((wires[0].src, wires[0].src_port))
                if info is not None:
                    given[port] = info
            shapes = {port: (info.shape, info.dtype) for port, info in given.items()}
            try:
                bound = bind(graph.blocks, block, {k: v for k, v in node.params.items() if k != REPEAT}, shapes)
            except BindError as err:        # the use's value does not suit a layer: marked on that layer
                problem = Diagnostic(ERROR, err.node, f"{err} (the value {use} gives)")
        if bound is None:
            given = {}
            try:
                bound = bind(graph.blocks, block, {})
            except BindError as err:
                return graph.blocks[block], Report(diagnostics=[Diagnostic(ERROR, err.node, str(err))])
        current_report = check_body(bound, given)
        if problem is not None:
            current_report.diagnostics.insert(0, problem)
        current = bound
    return current, current_report

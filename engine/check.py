"""``check(graph)``: structural checks, then shapes, parameters and multiply-adds per node.

The report is what the editor shows while a person edits (marks on nodes, shapes on wires,
totals in the status bar) and what ``python main.py check`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from graphs import ERROR, WARNING, Diagnostic, Edge, Graph, InsertLayer, SetParam, structural_diagnostics

from .inference import InferenceCache, NodeResult
from .layers import TensorInfo
from .memory import memory_diagnostics
from .rules import Finding


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)   # node -> its (first) output shape
    tensors: dict[tuple[str, str], TensorInfo] = field(default_factory=dict)  # (node, out port) -> tensor
    params: dict[str, int] = field(default_factory=dict)
    macs: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == WARNING]

    @property
    def total_params(self) -> int:
        return sum(self.params.values())

    @property
    def total_macs(self) -> int:
        return sum(self.macs.values())

    def for_node(self, node_id: str) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.node == node_id]

    def wire_tensor(self, edge: Edge) -> TensorInfo | None:
        """What flows on a wire, for its label."""
        return self.tensors.get((edge.src, edge.src_port))


class Checker:
    """Checks graphs, remembering node results so a re-check after an edit is cheap."""

    def __init__(self, cache: InferenceCache | None = None) -> None:
        self.cache = cache or InferenceCache()

    def check(self, graph: Graph) -> Report:
        report = Report(diagnostics=structural_diagnostics(graph))
        g = graph.to_networkx()
        broken = {d.node for d in report.diagnostics if d.severity == ERROR and d.node}
        if not nx.is_directed_acyclic_graph(g):
            # Shapes are only defined on the acyclic part: skip every node on or after a loop.
            looped = {n for comp in nx.strongly_connected_components(g) if len(comp) > 1 for n in comp}
            looped |= {n for n in g if g.has_edge(n, n)}
            for n in list(looped):
                looped |= nx.descendants(g, n)
            g = g.subgraph(set(g) - looped)
        rank = {n: i for i, n in enumerate(graph.nodes)}
        wires_into = graph.wires_into()
        for node_id in nx.lexicographical_topological_sort(g, key=rank.__getitem__):
            node = graph.nodes[node_id]
            inputs: dict[str, list[TensorInfo]] = {}
            complete = node_id not in broken
            for port in node.spec.inputs:
                infos = []
                for edge in wires_into.get((node_id, port.name), []):
                    info = report.tensors.get((edge.src, edge.src_port))
                    if info is None:
                        complete = False   # an upstream problem was already reported there
                    else:
                        infos.append(info)
                inputs[port.name] = infos
            if not complete:
                continue
            result = self.cache.infer(node.type, node.params, inputs)
            self._record(graph, node_id, inputs, result, report)
        report.diagnostics.extend(memory_diagnostics(graph, report))
        return report

    def _record(self, graph: Graph, node_id: str, inputs, result: NodeResult, report: Report) -> None:
        for port, info in result.outputs.items():
            report.tensors[(node_id, port)] = info
        if result.outputs:
            report.shapes[node_id] = next(iter(result.outputs.values())).shape
        elif graph.nodes[node_id].type == "Output":   # an Output shows what it receives
            report.shapes[node_id] = inputs["in"][0].shape
        if not result.failed:
            report.params[node_id] = result.params
            report.macs[node_id] = result.macs
        for finding in result.findings:
            report.diagnostics.append(Diagnostic(finding.severity, node_id, f"{node_id}: {finding.text}",
                                                 _fix(graph, node_id, finding)))


def _fix(graph: Graph, node_id: str, finding: Finding) -> InsertLayer | SetParam | None:
    return finding.fix.located(graph, node_id) if finding.fix is not None else None


_default = Checker()


def check(graph: Graph, data=None, loss: str = "cross_entropy", reconstruct: bool = False) -> Report:
    """Check a graph: ``.ok``, ``.diagnostics``, ``.shapes``, ``.params``, ``.total_params`` ...

    With ``data`` (an ``engine.data.DataSet``) it also checks that the graph's Input and last
    layer fit that data set under ``loss``."""
    report = _default.check(graph)
    if data is not None and report.ok:
        from .data_fit import fit_diagnostics
        report.diagnostics += fit_diagnostics(graph, report.shapes, data, loss, reconstruct)
    return report

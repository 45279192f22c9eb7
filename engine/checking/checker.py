"""``check(graph)``: structural checks, then shapes, parameters and multiply-adds per node.

The report is what the editor shows while a person edits (marks on nodes, shapes on wires,
totals in the status bar) and what ``python main.py check`` prints.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

import networkx as nx

from graphs import ERROR, WARNING, Changes, Diagnostic, Graph, InsertLayer, SetParam, structural_diagnostics
from graphs.events import EdgeAdded, EdgeRemoved, LearningChanged, NodeAdded, NodeRemoved, NodeRenamed, ParamsChanged

from ..layers import Finding, InferenceCache, NodeResult, TensorInfo, format_shape
from .blocks import check_inside, infer_block
from .data_fit import fit_diagnostics
from .loss_lints import loss_lints
from .memory import memory_diagnostics
from .report import Report


class Checker:
    """Checks a graph, and re-checks it after edits at the cost of what changed.

    A checker follows the graph it last checked through the graph's events. A parameter change
    marks its node; only marked nodes are inferred again, and a node whose outputs came out
    different marks the nodes it feeds, so an edit that changes no downstream shape re-checks
    one node. Structural edits (wires, nodes) also redo the structural checks and the order.
    A re-check with nothing changed returns the report it has. Node results are cached on
    (type, params, inputs) as well, so undoing an edit costs look-ups only.
    """

    def __init__(self, cache: InferenceCache | None = None, follow: bool = True, lints: bool = True,
                 given: dict[str, TensorInfo] | None = None) -> None:
        """``follow=False``: check every time from scratch (with the cache), for graphs that may
        change without events (a script that sets fields) or are checked once. ``lints=False``:
        leave out what concerns a whole model (its loss, its memory), for a block's body."""
        self.cache = cache or InferenceCache()
        self.follow = follow
        self.lints = lints
        self.given = given or {}        # Input node -> the tensor it receives (a block body in a use)
        self._library: tuple = ()
        self.visits = 0                 # nodes inferred by the last check (what a re-check cost)
        self._graph: Graph | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._revision = -1            # the graph's model_revision and training settings last checked
        self._training: dict = {}
        self._report: Report | None = None
        self._dirty: set[str] = set()
        self._structure_changed = True
        self._structural: list[Diagnostic] = []
        self._rank: dict[str, int] = {}
        self._skipped: set[str] = set()      # structurally broken or on/after a loop: no shapes
        self._inputs: dict[str, dict[str, list[TensorInfo]]] = {}
        self._findings: dict[str, list[Diagnostic]] = {}     # only nodes that have some
        self._tensors: dict[tuple[str, str], TensorInfo] = {}
        self._outputs: dict[str, dict[str, TensorInfo]] = {}
        self._received: dict[str, TensorInfo] = {}      # Output node -> what it receives
        self._params: dict[str, int] = {}
        self._macs: dict[str, int] = {}
        self._activation_values = 0
        self._document_rank: dict[str, int] = {}
        self._frozen: set[str] = set()      # nodes with learning-rate factor 0, for the frozen count

    # ------------------------------------------------------------------ following the graph
    def _follow(self, graph: Graph) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._graph = graph
        self._unsubscribe = graph.events.subscribe(self._changed) if self.follow else None
        self._revision, self._report = -1, None
        self._structure_changed = True
        for store in (self._inputs, self._findings, self._tensors, self._outputs, self._received,
                      self._params, self._macs):
            store.clear()
        self._activation_values = 0
        self._dirty = set(graph.nodes)
        self._frozen = {n.id for n in graph.nodes.values() if n.frozen}

    def _changed(self, changes: Changes) -> None:
        for event in changes.events:
            if isinstance(event, ParamsChanged):
                self._dirty.add(event.node)
            elif isinstance(event, (NodeAdded, LearningChanged)):
                node = self._graph.nodes.get(event.node) if self._graph else None
                if node is not None and node.frozen:
                    self._frozen.add(event.node)
                else:
                    self._frozen.discard(event.node)
                if isinstance(event, LearningChanged):     # the same model, other counts: a new report
                    self._report = None
                    continue
                self._dirty.add(event.node)
                self._structure_changed = True
            elif isinstance(event, NodeRemoved):
                self._frozen.discard(event.node)
                self._forget(event.node)
                self._structure_changed = True
            elif isinstance(event, (EdgeAdded, EdgeRemoved)):
                self._dirty.add(event.edge.dst)
                self._structure_changed = True
            elif isinstance(event, NodeRenamed):
                if event.old in self._frozen:
                    self._frozen.discard(event.old)
                    self._frozen.add(event.new)
                self._forget(event.old)
                self._dirty.add(event.new)
                self._dirty.update(self._graph.successors(event.new) if self._graph else ())
                self._structure_changed = True

    def _forget(self, node: str) -> None:
        """Drop what a node contributed to the report (it is inferred again, or gone)."""
        self._inputs.pop(node, None)
        self._findings.pop(node, None)
        self._received.pop(node, None)
        self._params.pop(node, None)
        self._macs.pop(node, None)
        for port, info in self._outputs.pop(node, {}).items():
            self._tensors.pop((node, port), None)
            self._activation_values -= _values(info)
        self._dirty.discard(node)

    # ------------------------------------------------------------------ checking
    def check_body(self, body: Graph, given: dict[str, TensorInfo] | None = None) -> Report:
        """A block's bound body, checked as any graph (with this checker's cache), without the
        lints that concern a whole model: how the block code checks what a use expands to.
        ``given``: the tensors the use feeds the body's Inputs, which arrive as they are (a
        channels-last map stays one inside the block)."""
        return Checker(self.cache, follow=False, lints=False, given=given).check(body)

    def inside(self, graph: Graph, report: Report, levels) -> tuple[Graph, Report]:
        """The body of an opened block as the editor shows it, and its report (see
        ``blocks.check_inside``)."""
        return check_inside(graph, report, levels, self.check_body)

    def check(self, graph: Graph) -> Report:
        if graph is not self._graph or not self.follow:
            self._follow(graph)
        elif graph.model_revision == self._revision and graph.training == self._training \
                and self._report is not None and graph.library_revision() == self._library:
            # Layout, names and view are not what a check looks at: moving a node costs nothing.
            self.visits = 0
            return self._report
        if graph.library_revision() != self._library:    # a block was edited: its uses are checked again
            self._library = graph.library_revision()
            self._dirty |= {n.id for n in graph.nodes.values() if n.type in graph.blocks}
        if self._structure_changed:
            self._restructure(graph)
        self.visits = self._propagate(graph)
        self._revision, self._training = graph.model_revision, dict(graph.training)
        self._report = self._assemble(graph)
        return self._report

    def _restructure(self, graph: Graph) -> None:
        """Structural checks, the order shapes flow in, and which nodes get no shapes."""
        g = graph.topology()
        self._structural = structural_diagnostics(graph, g)
        skipped = {d.node for d in self._structural if d.severity == ERROR and d.node}
        if not nx.is_directed_acyclic_graph(g):
            # Shapes are only defined on the acyclic part: skip every node on or after a loop.
            looped = {n for comp in nx.strongly_connected_components(g) if len(comp) > 1 for n in comp}
            looped |= {n for n in g if g.has_edge(n, n)}
            for n in list(looped):
                looped |= nx.descendants(g, n)
            skipped |= looped
            g = g.subgraph(set(g) - looped)
        document_order = {n: i for i, n in enumerate(graph.nodes)}
        self._document_rank = document_order
        order = nx.lexicographical_topological_sort(g, key=document_order.__getitem__)
        self._rank = {n: i for i, n in enumerate(order)}
        for n in skipped:
            self._rank.setdefault(n, len(self._rank))
        self._dirty |= skipped ^ self._skipped          # nodes that start or stop being skipped
        self._skipped = skipped
        self._structure_changed = False

    def _propagate(self, graph: Graph) -> int:
        """Infer the marked nodes in order; a node whose outputs changed marks what it feeds."""
        dirty = {n for n in self._dirty if n in graph.nodes}
        self._dirty = set()
        if not dirty:
            return 0
        # Wires from the graph's index when it follows the graph's events; a one-off check may
        # see a graph whose fields a script set directly, so it reads the wire list itself.
        all_wires = None if self.follow else graph.wires_into()
        queue = [(self._rank.get(n, 0), n) for n in dirty]
        heapq.heapify(queue)
        done: set[str] = set()
        visits = 0
        while queue:
            _, node_id = heapq.heappop(queue)
            if node_id in done:
                continue
            done.add(node_id)
            before = self._outputs.get(node_id, {})
            self._forget(node_id)
            node = graph.nodes[node_id]
            inputs: dict[str, list[TensorInfo]] = {}
            complete = node_id not in self._skipped
            wires = graph.wires_into_node(node_id) if all_wires is None else {
                port.name: all_wires.get((node_id, port.name), []) for port in node.spec.inputs}
            for port in node.spec.inputs:
                infos = []
                for edge in wires.get(port.name, []):
                    info = self._tensors.get((edge.src, edge.src_port))
                    if info is None:
                        complete = False   # an upstream problem was already reported there
                    else:
                        infos.append(info)
                inputs[port.name] = infos
            after: dict[str, TensorInfo] = {}
            if complete:
                visits += 1
                if node.type in graph.blocks:
                    result = infer_block(self.cache, graph.blocks, node.type, node.params, inputs, self.check_body)
                elif node_id in self.given and node.type == "Input":
                    result = NodeResult({"out": self.given[node_id]})
                else:
                    result = self.cache.infer(node.type, node.params, inputs)
                self._take(graph, node_id, inputs, result)
                after = result.outputs
            if after != before:
                for successor in graph.successors(node_id):
                    if successor not in done:
                        heapq.heappush(queue, (self._rank.get(successor, 0), successor))
        return visits

    def _take(self, graph: Graph, node_id: str, inputs, result: NodeResult) -> None:
        """Record one node's result in the report's running parts."""
        self._inputs[node_id] = inputs
        self._outputs[node_id] = dict(result.outputs)
        for port, info in result.outputs.items():
            self._tensors[(node_id, port)] = info
            self._activation_values += _values(info)
        if graph.nodes[node_id].type == "Output":
            self._received[node_id] = inputs["in"][0]
        if not result.failed:
            self._params[node_id] = result.params
            self._macs[node_id] = result.macs
        if result.findings:
            self._findings[node_id] = [self._blamed(graph, node_id, f) if f.too_small else
                                       Diagnostic(f.severity, node_id, f"{node_id}: {f.text}", _fix(graph, node_id, f))
                                       for f in result.findings]

    def _blamed(self, graph: Graph, node_id: str, finding: Finding) -> Diagnostic:
        """A window too large for its input is marked where it fails, but the cause is upstream:
        the layers that shrank the map (convolutions without padding, pooling). Name them, from
        the map's size at the start of the run, and offer padding for the nearest convolution
        that pads less than half its kernel (padding 1 keeps a 3x3 convolution's size)."""
        shrank: list[str] = []
        fix: SetParam | None = None
        start: tuple[int, ...] | None = None
        current = node_id
        for _ in range(len(graph.nodes)):
            wires = graph.in_edges(current)
            if not wires:
                break
            src = wires[0].src
            before = self._inputs.get(src, {}).get("in", [None])[0] if graph.nodes[src].type != "Input" else None
            after = self._outputs.get(src, {}).get(wires[0].src_port)
            if before is None or after is None or len(before.shape) != len(after.shape) or len(before.shape) < 2:
                break
            if any(a < b for a, b in zip(after.shape[1:], before.shape[1:])):
                shrank.append(src)
                start = before.shape[1:]
                params = graph.nodes[src].params
                kernel, padding = params.get("kernel_size"), params.get("padding")
                if fix is None and "out_channels" in params and isinstance(kernel, int) and isinstance(padding, int) \
                        and padding < kernel // 2:
                    fix = SetParam(src, "padding", kernel // 2)
            current = src
        text = f"{node_id}: {finding.text}"
        if shrank and start is not None:
            names = ", ".join(reversed(shrank[1:])) + (" and " if len(shrank) > 1 else "") + shrank[0]
            text += f"; {names} shrank the {format_shape(start)} map to that"
            if fix is not None:
                text += f": pad {fix.node} ({fix.name} {fix.value}) to keep its size?"
        return Diagnostic(finding.severity, node_id, text, fix)

    def _assemble(self, graph: Graph) -> Report:
        """A new report from the running parts: copies of dictionaries, no walk over the nodes."""
        rank = self._document_rank
        findings = sorted(self._findings, key=lambda n: rank.get(n, len(rank)))
        held = _following(graph, self._findings)
        report = Report(diagnostics=list(self._structural) + [d for n in findings for d in self._findings[n]
                                                              if (n, d.message) not in held],
                        tensors=dict(self._tensors), received=dict(self._received), params=dict(self._params),
                        macs=dict(self._macs), activation_values=self._activation_values,
                        frozen_params=sum(self._params.get(n, 0) for n in self._frozen))
        if self.lints:
            report.diagnostics.extend(loss_lints(graph))
            report.diagnostics.extend(memory_diagnostics(graph, report))
        return report


def _following(graph: Graph, findings: dict[str, list[Diagnostic]]) -> set[tuple[str, str]]:
    """(node, message) of the warnings that follow from the same cause upstream: a missing
    Flatten before fc1 makes fc2 and fc3 see feature maps too, and only fc1's fix is right.
    A warning whose fix inserts the same kind of layer as a warning of an earlier node that
    feeds it is held back; it comes back by itself if fixing the first does not cure it."""
    by_fix: dict[str, list[tuple[str, str]]] = {}
    for node, diagnostics in findings.items():
        for d in diagnostics:
            if d.severity == WARNING and isinstance(d.fix, InsertLayer):
                by_fix.setdefault(d.fix.type, []).append((node, d.message))
    held: set[tuple[str, str]] = set()
    for flagged in by_fix.values():
        if len(flagged) < 2:
            continue
        nodes = {node for node, _ in flagged}
        g = graph.topology()
        for node, message in flagged:
            if nodes & nx.ancestors(g, node):
                held.add((node, message))
    return held


def _values(info: TensorInfo) -> int:
    count = 1
    for size in info.shape:
        count *= max(int(size), 0)
    return count


def _fix(graph: Graph, node_id: str, finding: Finding) -> InsertLayer | SetParam | None:
    return finding.fix.located(graph, node_id) if finding.fix is not None else None


# One cache of node results for every one-off check (scripts, the command line, training):
# a checker that follows one graph would not notice another graph's direct changes.
_SHARED_CACHE = InferenceCache()


def check(graph: Graph, data=None, loss: str = "cross_entropy", reconstruct: bool = False) -> Report:
    """Check a graph: ``.ok``, ``.diagnostics``, ``.shapes``, ``.params``, ``.total_params`` ...

    With ``data`` (an ``engine.data.DataSet``) it also checks that the graph's Input and last
    layer fit that data set under ``loss``."""
    report = Checker(_SHARED_CACHE, follow=False).check(graph)
    if data is not None and report.ok:
        report.diagnostics += fit_diagnostics(graph, report.shapes, data, loss, reconstruct)
    return report

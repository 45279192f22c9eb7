"""``python main.py check FILE``: the check report as a table, exit status 1 on errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TextIO

from graphs import Graph

from ..checking import Report, check, memory, unloadable_data
from ..data import DataError, load_dataset
from ..interop import WeightsError, read_start_weights, start_weight_diagnostics, weights_fit
from ..layers import format_shape
from ..training.config import ConfigError, TrainingConfig


def format_report(graph: Graph, report: Report) -> str:
    rows = [("node", "type", "output", "params", "MACs")]
    for node in graph.nodes.values():
        shape = report.shapes.get(node.id)
        rows.append((node.id, node.type, format_shape(shape) if shape is not None else "?",
                     f"{report.params[node.id]:,}" if node.id in report.params else "?",
                     f"{report.macs[node.id]:,}" if node.id in report.macs else "?"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append(f"{graph.name}: {len(graph.nodes)} nodes, {report.total_params:,} parameters, "
                 f"{report.total_macs:,} multiply-adds per sample")
    lines.append(learning_line(graph, report))
    lines.append(memory.describe(graph, report))
    n_err, n_warn = len(report.errors), len(report.warnings)
    if not report.diagnostics:
        lines.append("No problems found.")
    else:
        lines.append(f"{n_err} error(s), {n_warn} warning(s):")
        for d in report.errors + report.warnings:
            fix = f"  [fix: {d.fix.label}]" if d.fix else ""
            lines.append(f"  {d.severity:<7} {d.message}{fix}")
    return "\n".join(lines)


def learning_line(graph: Graph, report: Report) -> str:
    """Trainable and frozen parameters, and which nodes learn at another rate."""
    line = f"{report.trainable_params:,} trainable and {report.frozen_params:,} frozen parameters"
    frozen = [n.id for n in graph.nodes.values() if n.frozen]
    slower = [f"{n.id} x{n.lr_factor:g}" for n in graph.nodes.values() if not n.frozen and n.lr_factor != 1]
    fresh = [n.id for n in graph.nodes.values() if n.fresh]
    for words, names in (("frozen", frozen), ("learning rates", slower), ("fresh weights", fresh)):
        if names:
            line += f"; {words}: {', '.join(names[:8])}{' ...' if len(names) > 8 else ''}"
    return line


def start_weights_check(graph: Graph, report: Report, graph_path: str | None) -> tuple[Report, str]:
    """The report with the start weights' fit on their nodes, and a line saying how they fit
    (or why they could not be read)."""
    entry = graph.training.get("start_from")
    if not report.ok or not isinstance(entry, dict) or not entry:
        return report, ""
    try:
        weights = read_start_weights(entry, Path(graph_path).resolve().parent if graph_path else None)
    except WeightsError as err:
        return report, f"Not checked against its start weights: {err}"
    fit = weights_fit(graph, report, weights.shapes)
    found = start_weight_diagnostics(graph, fit, weights.path.name)
    report = dataclasses.replace(report, diagnostics=report.diagnostics + found)
    return report, f"Starts from {weights.path}: {fit.summary()}."


def run_check(graph: Graph, out: TextIO, graph_path: str | None = None) -> int:
    """Check the graph, against the data set its training section names, if it has one, and
    against the weights it starts from (named relative to ``graph_path``)."""
    report = check(graph)
    note = ""
    if graph.training.get("dataset"):
        try:
            config = TrainingConfig.from_dict(graph.training)
        except ConfigError as err:
            config, note = None, f"Not checked against its data set: {err}"
        if config is not None:
            options = dict(config.dataset_options)
            options.pop("download", None)      # a check never downloads
            try:
                data = load_dataset(config.dataset, **options)
            except DataError as err:
                problem = unloadable_data(graph, config.dataset, config.dataset_options, str(err))
                report = dataclasses.replace(report, diagnostics=report.diagnostics + [problem])
            else:
                if report.ok:
                    report = check(graph, data, config.loss, config.reconstruct)
                    note = f"Checked against {data.describe()}."
    report, start_note = start_weights_check(graph, report, graph_path)
    print(format_report(graph, report), file=out)
    for line in (note, start_note):
        if line:
            print(line, file=out)
    return 0 if report.ok else 1

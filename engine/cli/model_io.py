"""``python main.py import|export``: into and out of ordinary PyTorch code."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from graphs import GraphFileError, save_graph

from ..interop import ExportError, ImportProblem, export, export_python, import_source
from ..training.checkpoint import CheckpointError, is_checkpoint, load_weights
from ..words import first_line


def run_import(spec: str, out: str, input_shape: list[int] | None, err: TextIO) -> int:
    try:
        module, graph, state = import_source(spec, input_shape)
    except (ValueError, ImportProblem) as problem:
        print(f"error: {problem}", file=err)
        return 1
    except Exception as problem:        # the model's own code failed: one line, no traceback
        print(f"error: the model's code failed while importing {spec}: {type(problem).__name__}: {first_line(problem)}",
              file=err)
        return 1
    out_path = Path(out)
    graph.set_metadata("name", spec.rpartition(":")[2])
    graph.set_metadata("description", f"Imported from {spec}.")
    try:
        save_graph(graph, out_path)
    except GraphFileError as problem:
        print(f"error: {problem}", file=err)
        return 1
    from safetensors.torch import save_file
    weights = out_path.with_suffix(".safetensors")
    save_file({k: v.contiguous() for k, v in state.items()}, str(weights))
    parameters = sum(p.numel() for p in module.parameters())
    print(f"imported {spec}: {len(graph.nodes)} nodes, {parameters:,} parameters -> {out_path} and {weights}")
    return 0


def run_export(graph, to: str, out: str, weights: str | None, err: TextIO, dynamic_batch: bool = True) -> int:
    """``weights`` is a safetensors weights file or a training checkpoint (its weights are used)."""
    state, plain_weights = None, False
    if weights:
        try:
            state = load_weights(weights)
            plain_weights = not is_checkpoint(weights)
        except CheckpointError as problem:
            print(f"error: {problem}", file=err)
            return 1
    try:
        if to == "py" and weights and plain_weights:
            # The file refers to the weights where they are, relative to itself when it can.
            w, folder = Path(weights).resolve(), Path(out).resolve().parent
            export_python(graph, out, str(w.relative_to(folder)) if w.is_relative_to(folder) else str(w))
        else:
            export(graph, to, out, state, dynamic_batch)
    except (ExportError, RuntimeError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    print(f"exported {graph.name} to {out}")
    return 0

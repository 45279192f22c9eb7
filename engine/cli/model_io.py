"""``python main.py import|export``: into and out of ordinary PyTorch code."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from safetensors.torch import save as save_tensors

from graphs import GraphFileError, save_graph
from graphs.fileformat import write_atomically

from ..interop import (
    ExportError,
    ImportProblem,
    WeightsError,
    export,
    export_python,
    import_source,
    imported,
    start_entry,
)
from ..training import export_note
from ..training.checkpoint import CheckpointError, is_checkpoint, load_weights


def run_import(spec: str, out: str, input_shape: list[int] | None, err: TextIO, pretrained: bool = False,
               allow_download: bool = False) -> int:
    """Import a model as a graph with its weights beside it (``OUT.safetensors``). With
    ``pretrained`` those are the library's pretrained weights (from its cache, or downloaded with
    ``allow_download``), and the graph records them as the weights it starts from."""
    try:
        imported = import_source(spec, input_shape, pretrained, allow_download)
    except (ValueError, ImportProblem) as problem:     # WeightsError is a ValueError: one line each
        print(f"error: {problem}", file=err)
        return 1
    graph, state, start = imported.graph, imported.state, imported.pretrained
    out_path = Path(out)
    weights = out_path.with_suffix(".safetensors")
    graph.set_metadata("name", spec.rpartition(":")[2])
    graph.set_metadata("description", f"Imported from {spec}" + (f" with {start.source}'s pretrained weights."
                                                                 if start is not None else "."))
    try:
        write_atomically(weights, save_tensors({k: v.contiguous() for k, v in state.items()}))
        if start is not None:
            entry = start_entry(weights, out_path, (list(start.mean), list(start.std)), start.source)
            graph.set_training(graph.training | {"start_from": entry, "normalize": "weights"})
        save_graph(graph, out_path)
    except (GraphFileError, WeightsError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    what = f"{start.source}'s pretrained weights" if start is not None else "its weights"
    print(f"imported {spec}: {len(graph.nodes)} nodes, {imported.parameters:,} parameters -> {out_path}, {what} -> "
          f"{weights}")
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
    note = export_note(graph, state)
    try:
        if to == "py" and weights and plain_weights and not imported(graph):
            # The file refers to the weights where they are, relative to itself when it can (an
            # imported model's are written beside it under the original's keys instead).
            w, folder = Path(weights).resolve(), Path(out).resolve().parent
            export_python(graph, out, str(w.relative_to(folder)) if w.is_relative_to(folder) else str(w), note)
        else:
            export(graph, to, out, state, dynamic_batch, note)
    except (ExportError, RuntimeError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    print(f"exported {graph.name} to {out}")
    if note:
        print(note)
    return 0

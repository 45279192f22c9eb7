"""``python main.py import|export``: into and out of ordinary PyTorch code."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from safetensors.torch import save as save_tensors

from graphs import GraphFileError, save_graph
from graphs.atomic import same_file

from ..interop import (
    ExportError,
    ImportProblem,
    WeightsError,
    WeightsExist,
    export,
    import_source,
    start_entry,
    write_export,
)
from ..training import export_note
from ..training.checkpoint import CheckpointError, is_checkpoint, load_weights, resolve
from ..words import first_line


def run_import(spec: str, out: str, input_shape: list[int] | None, err: TextIO, pretrained: bool = False,
               allow_download: bool = False, tracer: str = "auto", weights_out: str | None = None,
               force: bool = False) -> int:
    """Import a model as a graph, its weights to ``weights_out`` (default: beside it as
    ``OUT.safetensors``), which is never a file that exists unless ``force``: an import replaces no
    file the person did not name. With ``pretrained`` those are the library's pretrained weights
    (from its cache, or downloaded with ``allow_download``), and the graph records them as the
    weights it starts from. ``tracer``: fx, export, or auto (fx, then torch.export where fx fails)."""
    out_path = Path(out)
    weights = Path(weights_out) if weights_out else out_path.with_suffix(".safetensors")
    source = Path(spec.rpartition(":")[0])          # path/to/file.py:Class reads that file
    inputs = [source] if source.suffix == ".py" else []
    for target in (out_path, weights):
        if any(same_file(target, s) for s in inputs):
            print(f"error: {target} is the file the model is imported from; name another file to write", file=err)
            return 1
    if weights.resolve() == out_path.resolve():
        print(f"error: the graph and its weights would both be written to {out}; name the graph file .loom", file=err)
        return 1
    if weights.exists() and not force:
        return _weights_exist(weights, err)
    try:
        imported = import_source(spec, input_shape, pretrained, allow_download, tracer)
    except (ValueError, ImportProblem) as problem:     # WeightsError is a ValueError: one line each
        print(f"error: {problem}", file=err)
        return 1
    except Exception as problem:        # the model's own code failed: one line, no traceback
        print(f"error: the model's code failed while importing {spec}: {type(problem).__name__}: {first_line(problem)}",
              file=err)
        return 1
    graph, state, start = imported.graph, imported.state, imported.pretrained
    graph.set_metadata("name", spec.rpartition(":")[2])
    graph.set_metadata("description", f"Imported from {spec}" + (f" with {start.source}'s pretrained weights."
                                                                 if start is not None else "."))
    try:
        write_export(weights, save_tensors({k: v.contiguous() for k, v in state.items()}), inputs, replace=force)
        if start is not None:
            entry = start_entry(weights, out_path, (list(start.mean), list(start.std)), start.source)
            graph.set_training(graph.training | {"start_from": entry, "normalize": "weights"})
        save_graph(graph, out_path)
    except WeightsExist:
        return _weights_exist(weights, err)
    except (ExportError, GraphFileError, WeightsError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    what = f"{start.source}'s pretrained weights" if start is not None else "its weights"
    print(f"imported {spec}: {len(graph.nodes)} nodes, {imported.parameters:,} parameters -> {out_path}, {what} -> "
          f"{weights}")
    return 0


def run_export(graph, to: str, out: str, weights: str | None, err: TextIO, dynamic_batch: bool = True,
               graph_path: str | None = None, weights_out: str | None = None, force: bool = False) -> int:
    """``weights`` is a safetensors weights file or a training checkpoint (its weights are used),
    checked against the graph tensor by tensor. Nothing the export reads is written over, and the
    weights a Python export writes beside it never replace a file unless ``force``."""
    state, plain_weights, source = None, False, None
    if weights:
        try:
            source = resolve(weights)
            state = load_weights(source)
            plain_weights = not is_checkpoint(source)
        except CheckpointError as problem:
            print(f"error: {problem}", file=err)
            return 1
    inputs = [p for p in (graph_path, source) if p]
    note = export_note(graph, state)
    # The Python file refers to plain weights where they are (an imported model's module reads
    # them and gives its state dict under the original's keys); named with --weights-out they are
    # written there, under the original's keys.
    refer = to == "py" and plain_weights and weights_out is None
    try:
        written = export(graph, to, out, state, dynamic_batch, inputs=inputs, weights_path=weights_out,
                         replace_weights=force, refer_to=source if refer else None, note=note)
    except WeightsExist as problem:
        return _weights_exist(problem.path, err)
    except (ExportError, RuntimeError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    print(f"exported {graph.name} to {out}" + (f" (weights: {written})" if written else ""))
    if note:
        print(note)
    return 0


def _weights_exist(path, err: TextIO) -> int:
    """The weights would replace a file the person did not name: said once, the same way for
    import and export."""
    print(f"error: {path} exists; name the weights file with --weights-out FILE, or pass --force to replace it",
          file=err)
    return 1

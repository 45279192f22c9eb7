"""``python main.py import|export``: into and out of ordinary PyTorch code."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from graphs import GraphFileError, save_graph
from graphs.atomic import same_file

from ..interop import ExportError, ImportProblem, WeightsExist, export, import_module, load_source_module, write_export
from ..training.checkpoint import CheckpointError, is_checkpoint, load_weights, resolve


def run_import(spec: str, out: str, input_shape: list[int] | None, err: TextIO, weights_out: str | None = None,
               force: bool = False) -> int:
    """The graph to ``out``, the weights to ``weights_out`` (default: beside it), which is never a
    file that exists unless ``force``: an import replaces no file the person did not name."""
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
        print(f"error: {weights} exists; name the weights file with --weights-out FILE, or pass --force to replace it",
              file=err)
        return 1
    try:
        module, example = load_source_module(spec, input_shape)
        graph, state = import_module(module, example)
    except (ValueError, ImportProblem) as problem:
        print(f"error: {problem}", file=err)
        return 1
    graph.set_metadata("name", spec.rpartition(":")[2])
    graph.set_metadata("description", f"Imported from {spec}.")
    from safetensors.torch import save
    try:
        write_export(weights, save({k: v.contiguous() for k, v in state.items()}), inputs, replace=force)
        save_graph(graph, out_path)
    except WeightsExist:
        print(f"error: {weights} exists; name the weights file with --weights-out FILE, or pass --force to replace it",
              file=err)
        return 1
    except (ExportError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    parameters = sum(p.numel() for p in module.parameters())
    print(f"imported {spec}: {len(graph.nodes)} nodes, {parameters:,} parameters -> {out_path} and {weights}")
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
    try:
        written = export(graph, to, out, state, dynamic_batch, inputs=inputs, weights_path=weights_out,
                         replace_weights=force,
                         refer_to=source if to == "py" and plain_weights and weights_out is None else None)
    except WeightsExist as problem:
        print(f"error: {problem.path} exists; name the weights file with --weights-out FILE, or pass --force to "
              "replace it", file=err)
        return 1
    except (ExportError, RuntimeError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    print(f"exported {graph.name} to {out}" + (f" (weights: {written})" if written else ""))
    return 0

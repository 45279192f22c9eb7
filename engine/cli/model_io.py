"""``python main.py import|export``: into and out of ordinary PyTorch code."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TextIO

import torch

from graphs import GraphFileError, save_graph

from ..exporter import ExportError, export, export_python
from ..importer import ImportProblem, import_module


def load_source_module(spec: str, input_shape: list[int] | None):
    """``torchvision:NAME`` or ``path/to/file.py:Class`` -> (module, example input)."""
    where, _, name = spec.rpartition(":")
    if not where or not name:
        raise ValueError(f"{spec!r}: give torchvision:NAME or path/to/file.py:Class")
    if where == "torchvision":
        import torchvision.models as models
        try:
            module = models.get_model(name, weights=None)
        except (ValueError, KeyError):
            raise ValueError(f"torchvision has no model {name!r}") from None
        shape = input_shape or [3, 224, 224]
    else:
        path = Path(where)
        if not path.is_file():
            raise ValueError(f"{path}: no such file")
        loaded = importlib.util.spec_from_file_location(path.stem, path)
        source = importlib.util.module_from_spec(loaded)
        sys.modules[path.stem] = source
        loaded.loader.exec_module(source)       # the person asked to run this file's code
        cls = getattr(source, name, None)
        if cls is None:
            raise ValueError(f"{path} defines no {name}")
        module = cls()
        shape = input_shape or getattr(module, "example_input_shape", None)
        if shape is None:
            raise ValueError("give the shape of one input with --input-shape (e.g. 3,32,32)")
    return module, torch.randn(1, *shape)


def run_import(spec: str, out: str, input_shape: list[int] | None, err: TextIO) -> int:
    try:
        module, example = load_source_module(spec, input_shape)
        graph, state = import_module(module, example)
    except (ValueError, ImportProblem) as problem:
        print(f"error: {problem}", file=err)
        return 1
    out_path = Path(out)
    graph.metadata["name"] = spec.rpartition(":")[2]
    graph.metadata["description"] = f"Imported from {spec}."
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


def run_export(graph, to: str, out: str, weights: str | None, err: TextIO) -> int:
    """``weights`` is a safetensors weights file or a training checkpoint (its weights are used)."""
    state, plain_weights = None, False
    if weights:
        from ..training.checkpoint import CheckpointError, is_checkpoint, load_weights
        try:
            state = load_weights(weights)
            plain_weights = not is_checkpoint(weights)
        except CheckpointError as problem:
            print(f"error: {problem}", file=err)
            return 1
    try:
        if to == "py" and plain_weights:
            # The file refers to the weights where they are, relative to itself when it can.
            w, folder = Path(weights).resolve(), Path(out).resolve().parent
            export_python(graph, out, str(w.relative_to(folder)) if w.is_relative_to(folder) else str(w))
        else:
            export(graph, to, out, state)
    except (ExportError, RuntimeError, GraphFileError) as problem:
        print(f"error: {problem}", file=err)
        return 1
    print(f"exported {graph.name} to {out}")
    return 0

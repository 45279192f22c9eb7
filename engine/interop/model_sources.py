"""Where an imported model comes from: a torchvision model by name, a class in a Python file, or
an ONNX file (``onnx_import``).

Loading a Python file runs its code: the person asked for exactly that model, and the command
line, the README and the window's Import dialog say so.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch
from torch import nn

from graphs import Graph

from ..compiling import compile_graph
from .importer import ImportProblem, import_module
from .onnx_import import load_onnx, onnxruntime_differences


def is_onnx(spec: str) -> bool:
    return spec.lower().endswith(".onnx")


def import_source(spec: str, input_shape: list[int] | None) -> tuple[nn.Module, Graph, dict[str, torch.Tensor]]:
    """The module, graph and weights of a model named as ``load_source_module`` takes it. An ONNX
    file's graph must also give onnxruntime's outputs."""
    module, example = load_source_module(spec, input_shape)
    graph, state = import_module(module, example)
    if is_onnx(spec):
        compiled = compile_graph(graph)
        compiled.load_state_dict(state)
        problems = onnxruntime_differences(spec, compiled, example)
        if problems:
            raise ImportProblem(problems)
    return module, graph, state


def load_source_module(spec: str, input_shape: list[int] | None):
    """``torchvision:NAME``, ``path/to/file.py:Class`` or ``path/to/model.onnx`` -> (module, example input)."""
    if is_onnx(spec):
        module, example = load_onnx(spec, input_shape)
        return module, example
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
        # A private module name, and the file's folder searched after the installed packages:
        # a file beside the model named like a dependency (safetensors.py, torch.py) can be
        # imported by the model's own code but never shadows the real package.
        module_name = f"netloom_user_model_{abs(hash(path.resolve()))}"
        loaded = importlib.util.spec_from_file_location(module_name, path)
        if loaded is None or loaded.loader is None:
            raise ValueError(f"{path}: not a Python file that can be loaded")
        folder = str(path.resolve().parent)
        if folder not in sys.path:
            sys.path.append(folder)
        source = importlib.util.module_from_spec(loaded)
        sys.modules[module_name] = source
        loaded.loader.exec_module(source)       # the person asked to run this file's code
        cls = getattr(source, name, None)
        if cls is None:
            raise ValueError(f"{path} defines no {name}")
        module = cls()
        found = input_shape or getattr(module, "example_input_shape", None)
        if found is None:
            raise ValueError("give the shape of one input with --input-shape (e.g. 3,32,32)")
        shape = [int(s) for s in found]
    return module, torch.randn(1, *shape)

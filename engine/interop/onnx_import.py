"""ONNX files in: onnx2torch turns the file into torch modules, the importer makes those a graph
as it does any module, and the graph's outputs are checked against onnxruntime's on the same
input (within 1e-4) before the import is accepted.

Files written by torch's older (TorchScript) exporter alias each weight through an ``Identity``
node, which onnx2torch has no converter for; those aliases are folded away first (the weights
are read where they are, nothing is computed differently). Needs the ``onnx`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

INSTALL = "pip install 'netloom[onnx]' (onnx, onnxruntime and onnx2torch)"
TOLERANCE = 1e-4


def _needed() -> tuple[Any, Any]:
    try:
        import onnx
        import onnx2torch
    except ImportError:
        raise ValueError(f"importing ONNX files needs the onnx extra: {INSTALL}") from None
    return onnx, onnx2torch


def fold_identities(model: Any) -> Any:
    """``model`` (an onnx ModelProto) without its Identity nodes: each alias's readers read the
    aliased tensor itself. An Identity that gives a graph output is kept."""
    outputs = {o.name for o in model.graph.output}
    alias: dict[str, str] = {}
    kept = []
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = alias.get(name, name)
        if node.op_type == "Identity" and node.output[0] not in outputs:
            alias[node.output[0]] = node.input[0]
        else:
            kept.append(node)
    del model.graph.node[:]
    model.graph.node.extend(kept)
    return model


def _example(model: Any, input_shape: list[int] | None, path: Path) -> torch.Tensor:
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise ValueError(f"{path}: the model takes {len(inputs)} inputs; NetLoom imports ONNX models with one input")
    dims = inputs[0].type.tensor_type.shape.dim
    if input_shape is None:
        sizes = [d.dim_value if d.HasField("dim_value") else 0 for d in dims[1:]]
        if not sizes or any(s <= 0 for s in sizes):
            raise ValueError(f"{path}: the input's size is not fixed in the file; give it with --input-shape (e.g. 3,224,224)")
        input_shape = sizes
    if inputs[0].type.tensor_type.elem_type != 1:         # onnx's FLOAT
        raise ValueError(f"{path}: the input is not float32; NetLoom imports ONNX models that take float32 values")
    return torch.randn(1, *input_shape)


def load_onnx(path: str | Path, input_shape: list[int] | None) -> tuple[nn.Module, torch.Tensor]:
    """The file's model as torch modules, and an example input of its shape."""
    onnx, onnx2torch = _needed()
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    try:
        model = onnx.load(str(path))
    except Exception as err:
        raise ValueError(f"{path}: not an ONNX model ({type(err).__name__}: {str(err)[:120]})") from None
    example = _example(model, input_shape, path)
    try:
        module = onnx2torch.convert(fold_identities(model))
    except Exception as err:
        raise ValueError(f"{path}: onnx2torch cannot convert it: {str(err).splitlines()[0][:200]}") from None
    return module, example


def onnxruntime_differences(path: str | Path, compiled: nn.Module, example: torch.Tensor) -> list[str]:
    """Where the compiled graph and onnxruntime disagree on ``example`` (within 1e-4)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    expected = session.run(None, {name: example.numpy()})
    with torch.no_grad():
        got = compiled.eval()(example)
    got = list(got) if isinstance(got, tuple) else [got]
    if len(got) != len(expected):
        return [f"onnxruntime gives {len(expected)} outputs, the graph {len(got)}"]
    problems = []
    for i, (e, g) in enumerate(zip(expected, got)):
        reference = torch.from_numpy(e)
        if tuple(reference.shape) != tuple(g.shape):
            problems.append(f"output {i + 1} is {tuple(reference.shape)} in onnxruntime, {tuple(g.shape)} in the graph")
            continue
        difference = float((reference - g).abs().max())
        if difference > TOLERANCE * max(1.0, float(reference.abs().max())):
            problems.append(f"output {i + 1} differs from onnxruntime's by {difference:g}")
    return problems

"""Models in and out: importing an ``nn.Module`` (or a Python file in a child process) as a
graph, and exporting a graph as Python code, ``torch.export``, TorchScript or ONNX."""

from .exporter import (
    EXPORTERS,
    ExportError,
    WeightsExist,
    example_inputs,
    export,
    export_onnx,
    export_pt2,
    export_python,
    export_torchscript,
    python_source,
    weights_problem,
    write_export,
)
from .import_worker import ImportJob
from .importer import ImportProblem, import_module
from .model_sources import load_source_module

__all__ = [
    "EXPORTERS", "ExportError", "ImportJob", "ImportProblem", "example_inputs", "export", "export_onnx", "export_pt2",
    "export_python", "export_torchscript", "import_module", "load_source_module", "python_source", "WeightsExist",
    "weights_problem", "write_export",
]

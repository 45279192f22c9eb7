"""Models in and out: importing an ``nn.Module`` (or a Python file in a child process) as a
graph, exporting a graph as Python code, ``torch.export``, TorchScript or ONNX, and the weights
a graph starts from (files, torchvision's and timm's pretrained weights, how they fit)."""

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
from .import_worker import Imported, ImportJob, ImportResult, import_source
from .importer import ImportProblem, import_module
from .model_sources import load_source_module
from .pretrained import Pretrained, apply_pretrained, pretrained_weights
from .start_weights import (
    MISSING,
    SHAPE,
    UNEXPECTED,
    TensorMismatch,
    WeightsFit,
    expected_shapes,
    fit_shapes,
    load_start_weights,
    start_weight_diagnostics,
    weights_fit,
)
from .state_names import original_names
from .weight_files import (
    WeightsError,
    WeightsFile,
    check_start_entry,
    file_sha256,
    moved_start_entry,
    read_start_weights,
    read_weights,
    resolve_start,
    start_entry,
)

__all__ = [
    "EXPORTERS", "MISSING", "SHAPE", "UNEXPECTED", "ExportError", "ImportJob", "ImportProblem", "ImportResult",
    "Imported", "Pretrained", "TensorMismatch", "WeightsError", "WeightsExist", "WeightsFile", "WeightsFit",
    "apply_pretrained", "check_start_entry", "example_inputs", "expected_shapes", "export", "export_onnx", "export_pt2",
    "export_python", "export_torchscript", "file_sha256", "fit_shapes", "import_module", "import_source",
    "load_source_module", "load_start_weights", "moved_start_entry", "original_names", "pretrained_weights",
    "python_source", "read_start_weights", "read_weights", "resolve_start", "start_entry", "start_weight_diagnostics",
    "weights_fit", "weights_problem", "write_export",
]

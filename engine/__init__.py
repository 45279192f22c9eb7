"""Everything that knows torch: checks, compiling, training, probes, import and export."""

from .check import Checker, Report, check
from .compiler import CompileError, compile_graph
from .importer import ImportProblem, import_module
from .layers import TensorInfo, format_shape

__all__ = ["Checker", "CompileError", "ImportProblem", "Report", "TensorInfo", "check", "compile_graph",
           "format_shape", "import_module"]

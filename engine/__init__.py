"""Everything that knows torch, in parts that say what they do:

- ``layers``: one layer at a time (tensors on wires, modules, inference, rules, operations);
- ``checking``: a whole graph checked (structure, shapes, lints, memory, fit to data);
- ``compiling``: a checked graph as a ``torch.fx.GraphModule``;
- ``interop``: import from ``nn.Module`` and export to code and exchange formats;
- ``data``: data sets; ``training``: the training loop, its messages and its worker process;
- ``insight``: looking inside a trained network; ``cli``: the command line (``main.py`` only).

This module names the few entry points most scripts need.
"""

from .checking import Checker, Report, check
from .compiling import CompileError, compile_graph
from .interop import ImportProblem, import_module
from .layers import TensorInfo, format_shape

__all__ = ["Checker", "CompileError", "ImportProblem", "Report", "TensorInfo", "check", "compile_graph",
           "format_shape", "import_module"]

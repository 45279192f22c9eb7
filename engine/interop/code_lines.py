"""Lines of generated Python that the exported file and its block classes share."""

from __future__ import annotations

import re

import torch

from graphs import Graph
from graphs.names import BUILTINS, code_text

from ..compiling import module_attributes
from ..layers import OWN_MODULES, TENSOR_TYPES, tensor_source

# Names the exported file uses for itself, at module level or inside a constructor; no class,
# argument or parameter made from the graph's text may take one (nor a builtin's name).
FILE_NAMES = frozenset({"Path", "torch", "nn", "INPUTS", "WEIGHTS", "model", "examples", "out", "i", "tensor",
                        "shape", "dtype", "self", "weights", "path", "load_file", "ORIGINAL_NAMES", "renamed",
                        "_to_original_names", "_from_original_names", *OWN_MODULES}) | BUILTINS


def module_prefix(cls: str) -> str:
    """``nn.`` for torch's modules; NetLoom's own are defined in the file itself."""
    return "" if cls in OWN_MODULES else "nn."


def tensor_lines(graph: Graph, compiled: torch.nn.Module) -> list[str]:
    """The lines that make a graph's Parameter and Constant tensors (the ones its forward reads)."""
    lines = []
    for node_id, attribute in module_attributes(graph).items():
        node = graph.nodes[node_id]
        if node.type in TENSOR_TYPES and hasattr(compiled, attribute):
            made = tensor_source(node.type, node.params)
            lines.append(module_line(attribute, made) if node.type == "Parameter"
                         else f"self.register_buffer({attribute!r}, {made})")
    return lines


def docstring(text: str, indent: str = "") -> list[str]:
    """A docstring that reads as ``text``, whatever characters it holds (``graphs.names.code_text``)."""
    lines = code_text(text)
    if len(lines) == 1:
        return [f'{indent}"""{lines[0]}"""']
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}".rstrip() for line in lines[1:]), f'{indent}"""']


def module_line(attribute: str, expression: str) -> str:
    """The constructor line that makes a submodule; a numbered one (``0``, as in nn.Sequential)
    is set by name, as Python has no attribute syntax for it."""
    return f"self.{attribute} = {expression}" if attribute.isidentifier() else \
        f"setattr(self, {attribute!r}, {expression})"


def clean_forward(code: str) -> list[str]:
    """fx's forward without its memory-release suffixes (``;  x = None``) and blank edges."""
    lines = []
    for line in code.strip("\n").splitlines():
        line = re.sub(r";\s+[\w\s=,]+= None\s*$", "", line.rstrip())
        if line.strip():
            lines.append(line)
    return lines

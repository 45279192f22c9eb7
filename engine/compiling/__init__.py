"""Compiling a checked graph into a ``torch.fx.GraphModule``; block uses become submodules
(the compiler passes itself in to compile each bound body)."""

from .compiler import NODE_IDS, CompileError, compile_graph, module_attributes, node_ids

__all__ = ["NODE_IDS", "CompileError", "compile_graph", "module_attributes", "node_ids"]

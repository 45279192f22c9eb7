"""Block uses when compiling: each use becomes a submodule whose class is named after its block.

A use's copies are its block's body bound and checked (``checking.blocks.expand``), each
compiled as a graph of its own by the ``compile_body`` the compiler passes in; ``repeat`` chains
them in an ``nn.Sequential``, so that state-dict keys read as in hand-written PyTorch
(``layer1.0.conv1.weight``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from torch import nn

from graphs import Graph
from graphs.blocks import Library

from ..checking import CheckBody, Report, expand
from ..layers import Ops, TensorInfo

CompileBody = Callable[[Graph, Report], nn.Module]


def build_block(library: Library, type_name: str, params: dict[str, Any], inputs: dict[str, list[TensorInfo]],
                check_body: CheckBody, compile_body: CompileBody) -> nn.Module:
    """The module of one use: its block compiled with the use's parameters and shapes (each copy
    with weights of its own), several copies in an ``nn.Sequential``."""
    modules = [compile_body(copy.body, copy.report) for copy in expand(library, type_name, params, inputs, check_body)]
    return modules[0] if len(modules) == 1 else nn.Sequential(*modules)


def emit_use(ops: Ops, target: str, body: Graph, inputs: dict[str, list[Any]]) -> dict[str, Any]:
    """A use's step in the forward: its module called on its inputs in port order; a block with
    several outputs returns them as a tuple, taken apart by position."""
    result = ops.module(target, *[inputs[port][0] for port in body.inputs()])
    outputs = body.outputs()
    if len(outputs) == 1:
        return {outputs[0]: result}
    return {port: ops.function(operator.getitem, result, i) for i, port in enumerate(outputs)}

"""Turning a failure inside the network into a message about the node that caused it."""

from __future__ import annotations

import torch
from torch import fx

from ..compiling import node_ids
from ..layers import node_of_step
from ..words import first_line


class NodeFailure(Exception):
    def __init__(self, node: str, error: Exception) -> None:
        self.node, self.error = node, error
        super().__init__(f"{node}: {first_line(error)}")


class _Locator(fx.Interpreter):
    def run_node(self, n: fx.Node):
        try:
            return super().run_node(n)
        except Exception as err:
            raise NodeFailure(_node_id(n), err) from err


def _node_id(n: fx.Node) -> str:
    if n.op == "call_module":
        return node_ids(n.graph.owning_module).get(str(n.target), str(n.target)) if n.graph.owning_module \
            else str(n.target)
    return node_of_step(n.name.rsplit("_", 1)[0] if n.name.endswith(("_seq", "_last")) else n.name)


def locate_failure(model: fx.GraphModule, *inputs: torch.Tensor) -> NodeFailure | None:
    """Re-run a failing forward node by node; the node that raises, or None if none does."""
    try:
        with torch.no_grad():
            _Locator(model).run(*inputs)
    except NodeFailure as failure:
        return failure
    except Exception:
        return None
    return None

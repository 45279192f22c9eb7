"""Does a module take another path while training? torch.fx reads ``self.training`` as the plain
bool it is while tracing, so a traced graph holds one mode's path only: an evaluating trace of
``if self.training: z = mu + std * torch.randn_like(std)`` never samples. The importer traces in
both modes and compares; where the two differ, the import is refused naming the module whose
code branches (a graph has one path for both modes). Calls whose mode argument the mapped layer
follows by itself (``F.dropout(x, p, self.training)``, stochastic depth) are not differences.
"""

from __future__ import annotations

import re
from typing import Any

import torch.nn.functional as F
from torch import fx

# function -> the position of its ``training`` argument: the layers these map to follow the mode.
_FOLLOW_MODE: dict[Any, int] = {F.dropout: 2, F.dropout1d: 2, F.dropout2d: 2, F.dropout3d: 2, F.alpha_dropout: 2,
                                F.feature_alpha_dropout: 2}


def _follows_mode(target: Any) -> int | None:
    if target in _FOLLOW_MODE:
        return _FOLLOW_MODE[target]
    if getattr(target, "__name__", "") in ("stochastic_depth", "drop_path"):      # torchvision's, timm's
        return 3 if target.__name__ == "stochastic_depth" else 2
    return None


def _step(n: fx.Node, index: dict[fx.Node, int]) -> tuple:
    """One step with its arguments, wires written as step numbers and mode flags left out."""
    def plain(value: Any) -> Any:
        if isinstance(value, fx.Node):
            return ("step", index.get(value))
        if isinstance(value, (list, tuple)):
            return tuple(plain(v) for v in value)
        if isinstance(value, dict):
            return tuple((k, plain(v)) for k, v in value.items())
        return repr(value)
    args, kwargs = list(n.args), dict(n.kwargs)
    position = _follows_mode(n.target) if n.op == "call_function" else None
    if position is not None:
        args = args[:position] + args[position + 1:]
        kwargs.pop("training", None)
    # fx names the tensors a trace makes (torch.ones(3)) _tensor_constant0, 1 ... on, trace after trace
    target = re.sub(r"^_tensor_constant\d+$", "_tensor_constant", str(n.target)) if n.op == "get_attr" else repr(n.target)
    return n.op, target, plain(tuple(args)), plain(kwargs)


def _steps(graph: fx.Graph) -> list[tuple]:
    index = {n: i for i, n in enumerate(graph.nodes)}
    return [_step(n, index) for n in graph.nodes]


def where_modes_differ(evaluating: fx.Graph, training: fx.Graph) -> str | None:
    """The module (its path in the traced one, "" for itself) whose path first differs between
    the two traces, or None where they are the same."""
    first, second = list(evaluating.nodes), list(training.nodes)
    a, b = _steps(evaluating), _steps(training)
    if a == b:
        return None
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    # the training trace's step where it has one: its extra steps are where the branch is
    node = (second[at] if at < len(second) else None) or (first[at] if at < len(first) else None)
    # the innermost module the step was traced in; a step of the module's own forward has none
    stack = (node.meta.get("nn_module_stack") or {}) if node is not None else {}
    if node is not None and node.op == "call_module":
        stack = dict(list(stack.items())[:-1])      # the layer called is not the one that branched
    return next(reversed(stack.values()), ("",))[0] if stack else ""

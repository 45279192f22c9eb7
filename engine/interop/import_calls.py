"""How a module is called, for tracing it on its own: which of its forward's arguments are
tensors (the graph's or block's inputs) and which are fixed values (flags, sizes, ``None``).

A fixed value, or the default of an argument nobody passes (timm's ``pre_logits=False``, an
``attn_mask=None``), is traced as the constant it is (torch.fx ``concrete_args``), so that a
classifier head traces with its flag's value rather than refusing ``if pre_logits:``.
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

_FIXED = (type(None), bool, int, float, str)


def fixed(value: Any) -> bool:
    """A value a trace can hold as a constant."""
    if isinstance(value, (tuple, list)):
        return all(fixed(v) for v in value)
    return isinstance(value, _FIXED)


def _parameters(module: nn.Module) -> list[inspect.Parameter] | None:
    try:
        signature = inspect.signature(module.forward)
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in signature.parameters.values()):
        return None          # forward(*args): every argument is traced as passed
    return [p for p in signature.parameters.values() if p.kind in kinds]


@dataclass(frozen=True)
class Call:
    """One call of a module: its tensor arguments in the forward's order, the others by name."""
    tensors: tuple
    values: dict[str, Any]


def bind(module: nn.Module, args: tuple, kwargs: dict,
         is_tensor: Callable[[Any], bool] = lambda v: isinstance(v, torch.Tensor),
         is_fixed: Callable[[Any], bool] = fixed) -> Call | None:
    """The call split into tensors and fixed values, or None if an argument is neither (a list of
    tensors: DenseNet's layers), in which case the module is traced through instead. A traced
    call binds its steps with its own ``is_tensor`` and ``is_fixed``."""
    parameters = _parameters(module)
    if parameters is None:
        if kwargs or not all(is_tensor(a) for a in args):
            return None
        return Call(tuple(args), {})
    try:
        bound = inspect.signature(module.forward).bind(*args, **kwargs)
    except TypeError:
        return None
    tensors, values = [], {}
    for p in parameters:
        if p.name not in bound.arguments:
            continue
        value = bound.arguments[p.name]
        if is_tensor(value):
            tensors.append(value)
        elif is_fixed(value):
            values[p.name] = value
        else:
            return None
    return Call(tuple(tensors), values)


def fixed_arguments(module: nn.Module, tensors: int, values: dict[str, Any]) -> dict[str, Any]:
    """``concrete_args`` for tracing ``module`` called with ``tensors`` tensor arguments (its
    first ones) and ``values``: those values, and the defaults of the arguments not passed."""
    parameters = _parameters(module)
    if parameters is None:
        return {}
    concrete: dict[str, Any] = {}
    passed = 0
    for p in parameters:
        if p.name in values:
            concrete[p.name] = values[p.name]
        elif passed < tensors:
            passed += 1
        elif p.default is not inspect.Parameter.empty:
            concrete[p.name] = p.default
    return concrete


def trace(tracer: fx.Tracer, module: nn.Module, concrete: dict[str, Any]) -> fx.GraphModule:
    """``module`` traced with ``concrete`` fixed; fx's placeholders and checks for the fixed
    arguments are taken out again, so that the graph's inputs are the tensors only."""
    graph = tracer.trace(module, concrete_args=concrete or None)
    if concrete:
        names = [p.name for p in _parameters(module) or []]
        placeholders = [n for n in graph.nodes if n.op == "placeholder"]
        for name, placeholder in zip(names, placeholders):
            if name in concrete:
                _erase_checks(graph, placeholder)
    return fx.GraphModule(tracer.root, graph)


_CHECKS = {operator.eq, torch._assert}


def _erase_checks(graph: fx.Graph, placeholder: fx.Node) -> None:
    """A fixed argument's placeholder feeds only fx's checks that it keeps its value: all go."""
    found, todo = [], [placeholder]
    while todo:
        node = todo.pop()
        found.append(node)
        todo.extend(node.users)
    checks = found[1:]
    if all(n.op == "call_function" and (n.target in _CHECKS or getattr(n.target, "__name__", "") == "_assert_is_none")
           for n in checks):
        order = {n: i for i, n in enumerate(graph.nodes)}
        for node in sorted(set(found), key=order.__getitem__, reverse=True):
            graph.erase_node(node)

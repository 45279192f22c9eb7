"""How each node learns in a run: its learning-rate factor (the node's ``lr_factor``).

Parameters of a frozen node (factor 0) get ``requires_grad`` off and stay out of the optimizer,
so they stay bit for bit as they started; the others form one parameter group per factor, whose
learning rate is the run's times the factor (schedules scale every group alike). A frozen node's
BatchNorm layers also keep their statistics: they stay in eval mode whatever the run switches
to, unless the settings ask them to follow the data (``update_frozen_batchnorm``).
"""

from __future__ import annotations

import types
from typing import Any

from torch import nn

from graphs import Graph

from ..compiling import NODE_IDS
from .config import ConfigError

GROUP_FACTOR = "lr_factor"       # kept in each optimizer group (and so in checkpoints)


def node_of(model: nn.Module, name: str) -> str:
    """The node a parameter or submodule of a compiled graph belongs to, from its name."""
    attribute = name.split(".", 1)[0]
    return getattr(model, "meta", {}).get(NODE_IDS, {}).get(attribute, attribute)


def freeze(model: nn.Module, graph: Graph, update_batchnorm: bool = False) -> int:
    """Turn off the gradients of frozen nodes' parameters and fix their BatchNorm statistics;
    returns how many parameters are frozen."""
    frozen = {n.id for n in graph.nodes.values() if n.frozen}
    count = 0
    for name, parameter in model.named_parameters():
        if node_of(model, name) in frozen:
            parameter.requires_grad_(False)
            count += parameter.numel()
    if not update_batchnorm:
        for name, module in model.named_modules():
            if name and isinstance(module, nn.modules.batchnorm._BatchNorm) and node_of(model, name) in frozen:
                module.train = types.MethodType(_stay_in_eval, module)  # type: ignore[method-assign]
                module.eval()
    return count


def _stay_in_eval(module: nn.Module, mode: bool = True) -> nn.Module:
    """``train()`` of a frozen BatchNorm layer: it normalises with the statistics it has."""
    return nn.Module.train(module, False)


def parameter_groups(model: nn.Module, graph: Graph, lr: float) -> list[dict[str, Any]]:
    """The optimizer's groups: one per learning-rate factor (the run's rate first), frozen
    parameters left out. ConfigError when nothing would learn."""
    factors = {n.id: n.lr_factor for n in graph.nodes.values()}
    by_factor: dict[float, list[nn.Parameter]] = {}
    for name, parameter in model.named_parameters():
        factor = factors.get(node_of(model, name), 1.0)
        if factor > 0 and parameter.requires_grad:
            by_factor.setdefault(factor, []).append(parameter)
    if not by_factor:
        raise ConfigError("every node with weights is frozen, so nothing would learn: unfreeze the head (or any "
                          "layer) first")
    order = sorted(by_factor, key=lambda f: (f != 1.0, -f))
    return [{"params": by_factor[f], "lr": lr * f, GROUP_FACTOR: f} for f in order]


def group_layout(groups: Any) -> list[tuple[float, int]] | None:
    """(factor, tensors) of each optimizer group, of a live optimizer or a saved state; None if
    the saved groups are not readable."""
    if not isinstance(groups, list) or not all(isinstance(g, dict) and isinstance(g.get("params"), list)
                                               for g in groups):
        return None
    return [(float(g.get(GROUP_FACTOR, 1.0)), len(g["params"])) for g in groups]


def describe_layout(layout: list[tuple[float, int]]) -> str:
    return ", ".join(f"x{factor:g} for {count} tensor{'s' if count != 1 else ''}" for factor, count in layout)

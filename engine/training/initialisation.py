"""The layers' starting weights as a training setting, and the weights L1 penalises.

"Layer weights" are the matrices and filters of the layers (parameters of two or more axes:
Linear, convolutions, recurrent and attention projections, embeddings); biases start at 0
under a chosen scheme, and normalisation layers, PReLU slopes and Parameter nodes (which say
how they start themselves) keep their own starting values.
"""

from __future__ import annotations

import torch
from torch import fx, nn

SCHEMES = {
    "normal": "normal with a chosen standard deviation",
    "xavier": "Glorot and Bengio (2010): uniform, variance 2/(fan_in + fan_out), for tanh and sigmoid",
    "kaiming": "He et al. (2015): normal, variance 2/fan_in, for ReLU",
}


def layer_weights(model: nn.Module) -> list[tuple[nn.Module, str, nn.Parameter]]:
    """(module, name, parameter) for each layer weight of two or more axes, in forward order."""
    found = []
    for module in model.modules():
        if isinstance(module, fx.GraphModule):       # the model or a block: its own tensors are Parameter nodes
            continue
        for name, parameter in module.named_parameters(recurse=False):
            if parameter.dim() >= 2:
                found.append((module, name, parameter))
    return found


@torch.no_grad()
def initialise(model: nn.Module, scheme: str, std: float = 0.01) -> int:
    """Give every layer weight a fresh start by ``scheme`` (torch's own default start is left as
    it is for "default"); the biases of those layers start at 0. Returns how many weights it set."""
    if scheme == "default":
        return 0
    weights = layer_weights(model)
    for module, _name, weight in weights:
        if scheme == "normal":
            nn.init.normal_(weight, 0.0, std)
        elif scheme == "xavier":
            nn.init.xavier_uniform_(weight)
        elif scheme == "kaiming":
            nn.init.kaiming_normal_(weight, nonlinearity="relu")
        else:
            raise ValueError(f"unknown initialisation {scheme!r}; known: default, {', '.join(SCHEMES)}")
        for name, bias in module.named_parameters(recurse=False):
            if bias.dim() == 1 and (name.endswith("bias") or name.startswith("bias")):
                bias.zero_()
    return len(weights)


def l1_penalty(weights: list[nn.Parameter]) -> torch.Tensor:
    """Σ|w| over the given weights (one tensor, on their device)."""
    return torch.stack([w.abs().sum() for w in weights]).sum()

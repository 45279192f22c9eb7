"""NetLoom's own modules, for layers torch has no ``nn`` class for.

Each class needs only torch, so that exported code can carry its source as written here.
"""

from __future__ import annotations

import torch
from torch import nn


class StochasticDepth(nn.Module):
    """Drops a residual branch at random while training, scaling what is kept so that the
    expected value is unchanged (Huang et al., 2016); the identity when evaluating."""

    def __init__(self, p: float = 0.1, mode: str = "row") -> None:
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        shape = [x.shape[0]] + [1] * (x.ndim - 1) if self.mode == "row" else [1] * x.ndim
        noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x * noise.div_(keep) if keep > 0.0 else x * noise

    def extra_repr(self) -> str:
        return f"p={self.p}, mode={self.mode!r}"


class Features(nn.Module):
    """Hand-made features of each sample's one number x or two numbers x1, x2, as TensorFlow
    Playground offers them: each switched on or off, in this order. With one number in, x1 is x."""

    def __init__(self, x1: bool = True, x2: bool = True, x1_squared: bool = False, x2_squared: bool = False,
                 x1_times_x2: bool = False, sin_x1: bool = False, sin_x2: bool = False, frequency: float = 1.0) -> None:
        super().__init__()
        self.x1, self.x2, self.x1_squared, self.x2_squared = x1, x2, x1_squared, x2_squared
        self.x1_times_x2, self.sin_x1, self.sin_x2, self.frequency = x1_times_x2, sin_x1, sin_x2, frequency

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = x[:, 0]
        b = x[:, 1] if x.shape[1] > 1 else a       # the checks refuse x2's features for one-number inputs
        found = [(self.x1, a), (self.x2, b), (self.x1_squared, a * a), (self.x2_squared, b * b),
                 (self.x1_times_x2, a * b), (self.sin_x1, torch.sin(self.frequency * a)),
                 (self.sin_x2, torch.sin(self.frequency * b))]
        return torch.stack([value for on, value in found if on], dim=1)

    def extra_repr(self) -> str:
        names = ("x1", "x2", "x1_squared", "x2_squared", "x1_times_x2", "sin_x1", "sin_x2")
        return ", ".join(f"{n}=True" for n in names if getattr(self, n)) + f", frequency={self.frequency}"


class Normalize(nn.Module):
    """(x - mean) / std with one value, or one per channel (the axis after the batch axis): the
    input scaling a model was trained with, kept in its state dict so that it travels with the
    weights."""

    def __init__(self, mean: tuple[float, ...] = (0.0,), std: tuple[float, ...] = (1.0,)) -> None:
        super().__init__()
        self.mean: torch.Tensor
        self.std: torch.Tensor
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = (-1,) + (1,) * (x.dim() - 2)       # per channel: broadcast over what follows it
        return (x - self.mean.view(shape)) / self.std.view(shape)

    def extra_repr(self) -> str:
        return f"mean={self.mean.tolist()}, std={self.std.tolist()}"


OWN_MODULES: dict[str, type[nn.Module]] = {"StochasticDepth": StochasticDepth, "Features": Features,
                                             "Normalize": Normalize}

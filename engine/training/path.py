"""The weights' path through a run: every weight at regular steps, kept on the device, thinned
as the run goes on so that a long run keeps at most MAX_POINTS points, evenly spaced."""

from __future__ import annotations

import torch

MAX_POINTS = 400


class WeightRecorder:
    def __init__(self, every: int) -> None:
        self.every = every                 # steps between points; doubles when the path is thinned
        self.points: list[tuple[int, torch.Tensor]] = []

    def record(self, step: int, weights: torch.Tensor, force: bool = False) -> None:
        """Keep the weights of ``step`` (a copy); ``force``: even off the regular steps (the end)."""
        if not force and step % self.every:
            return
        self.points.append((step, weights))
        if len(self.points) > MAX_POINTS:
            self.every *= 2
            self.points = [p for i, p in enumerate(self.points) if p[0] % self.every == 0 or i == 0]

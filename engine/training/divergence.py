"""Telling a run that diverges from one whose loss is merely noisy.

A NaN or infinite loss is divergence, but a run can also blow up and stay finite: with a learning
rate of 10^6 the loss goes from 2.3 to 10^7 and accuracy to chance, and the run would complete.
The watch compares each logged window's mean loss with two references: the loss the run started
from (its first step, made with the untrained weights) and the lowest loss it has reached (that
first step, or a window's mean). A run has diverged when its loss is both orders of magnitude
above its best and well above where it started, for 20 steps in a row: a noisy run swings by a
few times, a run that learns well may swing by hundreds of times at tiny losses or spike on one
confidently wrong batch, but neither stays far above its untrained loss.
"""

from __future__ import annotations

import math

GROWTH = 1000.0        # above the best loss so far
OVER_START = 10.0      # above the untrained loss
FLOOR = 1e-3           # references below this count as this: from a loss of 0 every loss is "infinitely" more
STEPS = 20             # in a row: one bad batch is no divergence


class DivergenceWatch:
    def __init__(self) -> None:
        self.start: float | None = None
        self.best = math.inf
        self.grown_steps = 0

    def diverged(self, losses: list[float]) -> bool:
        """Take one logged window of step losses (finite); True once the run has diverged."""
        if not losses:
            return False
        if self.start is None:
            self.start = losses[0]
            self.best = losses[0]
        mean = sum(losses) / len(losses)
        grown = mean > GROWTH * max(self.best, FLOOR) and mean > OVER_START * max(self.start, FLOOR)
        self.grown_steps = self.grown_steps + len(losses) if grown else 0
        self.best = min(self.best, mean)
        return self.grown_steps >= STEPS

    def words(self, mean: float) -> str:
        """How far the loss went, for the message."""
        return f"the loss grew from {self.start:.3g} to {mean:.3g}"

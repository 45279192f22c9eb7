"""What one training run reported, kept for plotting, comparing and saving.

Curves live in growing numpy buffers (doubling capacity), so appending is cheap and plots take
views without copying; the latest probe results are kept as they came."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.training import messages as M


class Series:
    """x, y points appended one at a time into preallocated arrays."""

    def __init__(self, capacity: int = 1024) -> None:
        self._x = np.empty(capacity, dtype=np.float64)
        self._y = np.empty(capacity, dtype=np.float64)
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]

    def to_lists(self) -> list[list[float]]:
        return [self.x.tolist(), self.y.tolist()]

    @classmethod
    def from_lists(cls, data) -> Series:
        series = cls(max(16, len(data[0])))
        for x, y in zip(*data):
            series.append(x, y)
        return series


@dataclass
class ClipTally:
    """What gradient clipping did over a whole run (the GradientClipping reports summed)."""
    threshold: float
    clipped: int = 0
    steps: int = 0
    max_norm: float = 0.0
    mean_norm: float = 0.0          # the latest report's


MAX_TIME_GRADIENTS = 2000          # probes kept per recurrent layer (a run's median profile is taken over them)

EPOCH_SMOOTHING = 0.5       # weight of the newest epoch's duration in the ETA's estimate

CURVES = ("step_loss", "lr", "samples_per_s", "train_loss", "val_loss", "train_accuracy", "val_accuracy",
          "train_objective")      # train_objective: the training loss with the L1 term it minimised, when L1 is on


@dataclass
class RunRecord:
    name: str
    settings: dict[str, Any]
    model_fingerprint: str = ""       # what the graph computed when the run started (graphs.Graph)
    curves: dict[str, Series] = field(default_factory=lambda: {k: Series() for k in CURVES})
    gradients: dict[str, tuple[Series, Series]] = field(default_factory=dict)   # layer -> (mean, max)
    started: M.RunStarted | None = None
    status: str = "starting"          # starting, running, paused, finished, stopped, failed
    final: Any = None
    elapsed_s: float = 0.0            # the newest elapsed time the worker reported (its clock, from the run's start)
    step: int = 0
    epoch: int = 0
    latest: dict[str, Any] = field(default_factory=dict)   # newest probe messages by kind (and layer)
    checkpoint: M.CheckpointSaved | None = None     # the newest checkpoint (also latest["checkpoint"]: its path)
    dead_units: dict[str, float] = field(default_factory=dict)
    time_gradients: dict[str, list[M.TimeGradients]] = field(default_factory=dict)   # layer -> its probes, in order
    clipping: ClipTally | None = None
    graph_text: str = ""              # the snapshot that trained (for predictions with its weights)
    document: str | None = None       # the graph file the run was made from (None: an untitled graph)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)   # this process's
    epoch_s: float | None = None      # an epoch's duration, measured and smoothed (None until one has ended)
    _heard: tuple[float, float] | None = field(default=None, init=False, repr=False)  # (elapsed_s, clock()) then
    _epoch_ended_s: float = field(default=0.0, init=False, repr=False)                 # elapsed_s at the last epoch end

    def absorb(self, m) -> None:
        """Take one engine message into the record."""
        if isinstance(m, M.RunStarted):
            self.started, self.status = m, "running"
            self.epoch = m.start_epoch
            self._hear(0.0)
        elif isinstance(m, M.StepMetrics):
            self.step, self.epoch = m.step, m.epoch
            self._hear(m.elapsed_s)
            self.curves["step_loss"].append(m.step, m.loss)
            self.curves["lr"].append(m.step, m.lr)
            self.curves["samples_per_s"].append(m.step, m.samples_per_s)
        elif isinstance(m, M.EpochMetrics):
            self.epoch = m.epoch
            self._hear(m.elapsed_s)
            self._epoch_ended(m.elapsed_s)
            self.curves["train_loss"].append(m.epoch, m.train_loss)
            self.curves["val_loss"].append(m.epoch, m.val_loss)
            if m.penalty is not None:                # L1 on: what training minimised, beside the loss
                self.curves["train_objective"].append(m.epoch, m.train_loss + m.penalty)
            if m.train_accuracy is not None:         # classification: accuracies too
                self.curves["train_accuracy"].append(m.epoch, m.train_accuracy)
            if m.val_accuracy is not None:
                self.curves["val_accuracy"].append(m.epoch, m.val_accuracy)
        elif isinstance(m, M.GradientFlow):
            for layer in m.layers:
                mean, peak = self.gradients.setdefault(layer.layer, (Series(), Series()))
                mean.append(m.step, layer.mean_abs_grad)
                peak.append(m.step, layer.max_abs_grad)
            self.latest["gradients"] = m
        elif isinstance(m, M.Filters):
            self.latest.setdefault("filters", {})[m.layer] = m
        elif isinstance(m, M.ActivationMaps):
            self.latest.setdefault("activations", {})[m.layer] = m
        elif isinstance(m, M.EmbeddingSpace):
            self.latest.setdefault("embeddings", {})[m.layer] = m
        elif isinstance(m, M.AttentionMaps):
            self.latest.setdefault("attention", {})[m.layer] = m
        elif isinstance(m, M.RecurrentSteps):
            self.latest.setdefault("recurrent", {})[m.layer] = m
        elif isinstance(m, M.TimeGradients):
            self.latest.setdefault("time_gradients", {})[m.layer] = m
            kept = self.time_gradients.setdefault(m.layer, [])
            kept.append(m)
            del kept[:-MAX_TIME_GRADIENTS]
        elif isinstance(m, M.GradientClipping):
            tally = self.clipping = self.clipping or ClipTally(m.threshold)
            tally.clipped += m.clipped
            tally.steps += m.steps
            tally.max_norm = max(tally.max_norm, m.max_norm)
            tally.mean_norm = m.mean_norm
        elif isinstance(m, M.DeadUnits):
            self.dead_units = dict(m.fractions)
        elif isinstance(m, (M.ConfusionMatrix, M.DecisionBoundary, M.Histograms, M.SampleOutputs, M.FeatureSpace,
                            M.StartWeights, M.TrainingBatch, M.NeuronPictures, M.FittedCurve, M.PredictedSurface,
                            M.LossLandscape, M.WeightPath)):
            self.latest[type(m).__name__] = m
        elif isinstance(m, M.CheckpointSaved):
            if m.path:
                self.checkpoint = m
                self.latest["checkpoint"] = m.path
        elif isinstance(m, M.Finished):
            self.status, self.final = ("stopped" if m.reason == "stopped" else "finished"), m
            self._hear(m.elapsed_s)
        elif isinstance(m, M.Failed):
            self.status, self.final = "failed", m

    # ------------------------------------------------------------------ clocks
    # One clock: the worker's, which counts from the run's own start (not from the moment Train was
    # pressed, nor from when this window heard of it). Between its reports the time is carried on
    # with this process's clock; a new report sets it right again.
    def _hear(self, elapsed_s: float) -> None:
        self.elapsed_s = max(self.elapsed_s, elapsed_s)
        self._heard = (self.elapsed_s, self.clock())

    def _epoch_ended(self, elapsed_s: float) -> None:
        """Smooth the epochs' durations (an exponential average, the newest weighing most) for the ETA."""
        duration = max(0.0, elapsed_s - self._epoch_ended_s)
        self._epoch_ended_s = elapsed_s
        self.epoch_s = duration if self.epoch_s is None else EPOCH_SMOOTHING * duration + (1 - EPOCH_SMOOTHING) * self.epoch_s

    @property
    def elapsed_now(self) -> float:
        """Seconds since the run started: while it runs (or is paused: the worker's clock goes on),
        the last reported time plus the time since; once it has ended, the time it reported last."""
        if self._heard is None or self.status not in ("running", "paused"):
            return self.elapsed_s
        reported, heard_at = self._heard
        return reported + max(0.0, self.clock() - heard_at)

    @property
    def eta_s(self) -> float | None:
        """Seconds left: the smoothed epoch duration for each epoch to go, less the time already
        spent in this one. None until an epoch has been measured, and once the run has ended."""
        if self.started is None or self.epoch_s is None or self.status not in ("running", "paused"):
            return None
        left = self.epoch_s * max(self.started.epochs - self.epoch, 0) - (self.elapsed_now - self._epoch_ended_s)
        return max(0.0, left)

    def when(self, step: int | None = None, epoch: int | None = None) -> str:
        """Which run and which point of it a view's data come from, in words: "SGD lr 0.1, epoch 7 of 10"
        (an epoch's end) or "SGD lr 0.1, step 140 (epoch 7 of 10)" (a probe during an epoch)."""
        total = f" of {self.started.epochs}" if self.started is not None else ""
        if step is None:
            return f"{self.name}, epoch {epoch}{total}" if epoch is not None else self.name
        per_epoch = self.started.steps_per_epoch if self.started is not None else 0
        during = f" (epoch {max(1, -(-step // per_epoch))}{total})" if per_epoch else ""
        return f"{self.name}, step {step}{during}"

    # ------------------------------------------------------------------ keeping runs
    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "settings": self.settings, "status": self.status,
                "document": self.document,
                "curves": {k: s.to_lists() for k, s in self.curves.items()},
                "gradients": {k: [m.to_lists(), p.to_lists()] for k, (m, p) in self.gradients.items()}}

    @classmethod
    def from_dict(cls, data: Any) -> RunRecord:
        """A kept run; ValueError saying what is wrong with it (the caller names the file)."""
        if not isinstance(data, dict):
            raise ValueError("a run must be an object")
        name, settings, status = data.get("name"), data.get("settings", {}), data.get("status", "finished")
        if not isinstance(name, str) or not isinstance(settings, dict) or not isinstance(status, str):
            raise ValueError("a run needs a name, settings and a status")
        record = cls(name, dict(settings))
        record.status = status
        document = data.get("document")
        if document is not None and not isinstance(document, str):
            raise ValueError(f"{name}: document must be text")
        record.document = document
        curves = data.get("curves", {})
        gradients = data.get("gradients", {})
        if not isinstance(curves, dict) or not isinstance(gradients, dict):
            raise ValueError(f"{name}: curves and gradients must be objects")
        for k, lists in curves.items():
            if k in CURVES:
                record.curves[k] = _series(lists, f"{name}: curve {k}")
        for k, pair in gradients.items():
            if not isinstance(pair, list) or len(pair) != 2:
                raise ValueError(f"{name}: gradients of {k} must be [mean, max]")
            record.gradients[str(k)] = (_series(pair[0], f"{name}: gradients of {k}"),
                                        _series(pair[1], f"{name}: gradients of {k}"))
        return record

    def write_csv(self, path: str | Path) -> None:
        """Per-epoch and per-step curves as one table (blank where a curve has no point)."""
        rows: dict[tuple[str, float], dict[str, float]] = {}
        for name, series in self.curves.items():
            unit = "epoch" if name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_objective") \
                else "step"
            for x, y in zip(series.x, series.y):
                rows.setdefault((unit, x), {})[name] = y
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["unit", "index", *CURVES])
            for (unit, x), values in sorted(rows.items()):
                writer.writerow([unit, int(x), *[("" if c not in values else f"{values[c]:.6g}") for c in CURVES]])


def _series(data: Any, where: str) -> Series:
    if (not isinstance(data, list) or len(data) != 2 or not all(isinstance(v, list) for v in data)
            or len(data[0]) != len(data[1])):
        raise ValueError(f"{where} must be two lists of equal length")
    for v in data[0] + data[1]:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ValueError(f"{where} holds {v!r}, which is not a number")
    return Series.from_lists(data)

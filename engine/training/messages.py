"""What a training run reports: small, frozen, picklable messages.

The command line prints them, the GUI's dashboard draws them, and the worker process sends
them through a queue; nothing here knows who listens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class RunStarted:
    device: str
    parameters: int
    train_samples: int
    val_samples: int
    steps_per_epoch: int
    epochs: int
    dataset: str
    class_names: tuple[str, ...] = ()
    start_epoch: int = 0          # > 0 when resumed from a checkpoint
    world_size: int = 1
    run_id: str = ""              # kept across resumes; written into every checkpoint
    notes: tuple[str, ...] = ()   # settings changed on resume, said to the person
    frozen_parameters: int = 0    # of ``parameters``, those of frozen nodes (learning-rate factor 0)
    input_scaling: str = ""       # how the inputs are scaled: by the graph's Normalize step, or before the model


@dataclass(frozen=True)
class StartWeights:
    """The weights the run starts from and how they fit the graph, tensor by tensor."""
    path: str
    source: str                   # where they came from, as the graph records it (may be "")
    loaded: int                   # tensors loaded
    replaced: tuple[str, ...]     # tensors of fresh nodes, left out on purpose (a new head)
    mismatches: tuple[str, ...]   # one line per tensor missing, unexpected or of the wrong shape, naming its node
    summary: str                  # the counts in words


@dataclass(frozen=True)
class TrainingBatch:
    """The first samples of an epoch's first batch as the model sees them (augmented and
    normalised), as pictures: the normalisation undone, so they read as images."""
    epoch: int                    # 1-based: the epoch this batch starts
    step: int
    pixels: np.ndarray = field(repr=False)     # N x H x W x C, uint8
    labels: tuple[int, ...] = ()
    class_names: tuple[str, ...] = ()
    description: str = ""         # what was done to them (augmentations, normalisation)


@dataclass(frozen=True)
class StepMetrics:
    step: int
    epoch: int
    loss: float                   # mean training loss over the steps since the last report
    lr: float
    samples_per_s: float


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int                    # 1-based: the epoch just finished
    step: int
    train_loss: float
    train_accuracy: float | None  # None for regression
    val_loss: float
    val_accuracy: float | None
    elapsed_s: float


@dataclass(frozen=True)
class LayerGradient:
    layer: str                    # node id
    mean_abs_grad: float
    max_abs_grad: float
    weight_norm: float


@dataclass(frozen=True)
class GradientFlow:
    step: int
    layers: tuple[LayerGradient, ...]


@dataclass(frozen=True)
class LayerHistogram:
    layer: str
    weight_counts: np.ndarray = field(repr=False)   # counts over HISTOGRAM_BINS equal bins
    weight_range: tuple[float, float] = (0.0, 0.0)
    grad_counts: np.ndarray | None = field(repr=False, default=None)   # None: no gradient yet
    grad_range: tuple[float, float] = (0.0, 0.0)


@dataclass(frozen=True)
class Histograms:
    step: int
    layers: tuple[LayerHistogram, ...]


@dataclass(frozen=True)
class Filters:
    step: int
    layer: str
    weights: np.ndarray = field(repr=False)   # out_channels x in_channels x kh x kw (at most 64 filters)


@dataclass(frozen=True)
class ActivationMaps:
    step: int
    layer: str
    sample: int                   # index into the validation set
    maps: np.ndarray = field(repr=False)      # the layer's output for that sample (channels x ... )


@dataclass(frozen=True)
class DeadUnits:
    step: int
    fractions: tuple[tuple[str, float], ...]  # (node id, share of units never active on the probe batch)


@dataclass(frozen=True)
class ConfusionMatrix:
    epoch: int
    matrix: np.ndarray = field(repr=False)    # rows: true class, columns: predicted class
    class_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionBoundary:
    epoch: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    classes: np.ndarray = field(repr=False)      # grid of predicted classes, rows follow y
    confidence: np.ndarray = field(repr=False)   # grid of the winning probability


@dataclass(frozen=True)
class SampleOutputs:
    """What the model gives for the first validation samples, beside what it should give: an
    autoencoder's reconstructions next to its inputs, a regression's predictions against targets."""
    epoch: int
    inputs: np.ndarray = field(repr=False)
    targets: np.ndarray = field(repr=False)
    outputs: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class FeatureSpace:
    """Where a layer puts the validation samples, projected to 2-D (PCA), coloured by class."""
    epoch: int
    layer: str
    points: np.ndarray = field(repr=False)        # N x 2
    components: np.ndarray = field(repr=False)    # N x <= 50 PCA components, for t-SNE on request
    labels: np.ndarray = field(repr=False)        # N classes
    indices: np.ndarray = field(repr=False)       # N validation sample numbers
    separation: float | None = None               # silhouette score of the classes in the 2-D map
    explained: tuple[float, float] = (0.0, 0.0)   # share of the variance along each axis


@dataclass(frozen=True)
class EmbeddingSpace:
    """An Embedding layer's vectors (its first 5,000 tokens) and their 2-D projection."""
    epoch: int
    layer: str
    vectors: np.ndarray = field(repr=False)
    points: np.ndarray = field(repr=False)
    total_tokens: int = 0


@dataclass(frozen=True)
class AttentionMaps:
    step: int
    layer: str
    sample: int
    weights: np.ndarray = field(repr=False)       # heads x queries x keys; rows sum to 1


@dataclass(frozen=True)
class CheckpointSaved:
    path: str
    epoch: int
    step: int


@dataclass(frozen=True)
class Finished:
    reason: str                   # "completed", "stopped", "early stopping"
    epoch: int
    step: int
    val_loss: float | None = None
    val_accuracy: float | None = None


@dataclass(frozen=True)
class Failed:
    reason: str
    node: str | None = None       # the node at fault, when it is one node's fault
    step: int | None = None
    diagnostics: tuple[str, ...] = ()


Message = (RunStarted | StartWeights | TrainingBatch | StepMetrics | EpochMetrics | GradientFlow | Histograms | Filters
           | ActivationMaps | DeadUnits | ConfusionMatrix | DecisionBoundary | SampleOutputs | FeatureSpace | EmbeddingSpace
           | AttentionMaps | CheckpointSaved | Finished | Failed)


def to_json(message) -> dict:
    """A message as JSON-ready data (``--json`` on the command line)."""
    data = {"type": type(message).__name__}
    for f in dataclasses.fields(message):
        value = getattr(message, f.name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, tuple):
            value = [_plain(dataclasses.asdict(v)) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
                     for v in value]
        data[f.name] = value
    return data


def _plain(data: dict) -> dict:
    return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in data.items()}

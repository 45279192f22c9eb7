"""What a training run reports: small, frozen, picklable messages.

The command line prints them, the GUI's dashboard draws them, and the worker process sends
them through a queue; nothing here knows who listens.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..insight import NeuronLayer


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
    penalty: float | None = None  # the L1 term added to that loss (the loss shown leaves it out); None: no L1
    elapsed_s: float = 0.0        # since the run started, on the worker's clock (the one clock of a run)


@dataclass(frozen=True)
class EpochMetrics:
    epoch: int                    # 1-based: the epoch just finished
    step: int
    train_loss: float
    train_accuracy: float | None  # None for regression
    val_loss: float
    val_accuracy: float | None
    elapsed_s: float              # since the run started, on the worker's clock
    penalty: float | None = None  # the epoch's mean L1 term, added to train_loss for training; None: no L1


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


def _no_points(width: int = 2):
    return field(repr=False, default_factory=lambda: np.zeros((0, width), dtype=np.float32))


@dataclass(frozen=True)
class DecisionBoundary:
    epoch: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    classes: np.ndarray = field(repr=False)      # grid of predicted classes, rows follow y
    confidence: np.ndarray = field(repr=False)   # grid of the winning probability
    val_points: np.ndarray = _no_points()        # N x 2 validation points, for a "show validation data" overlay
    val_labels: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class NeuronPictures:
    """Each neuron of each dense layer (and each feature of a Features layer) over the input plane
    of 2-D points, sent with every probe so that the pictures change as the network learns."""
    step: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    layers: tuple[NeuronLayer, ...]


@dataclass(frozen=True)
class FittedCurve:
    """A 1-D regression's prediction over the data's range, and the validation points."""
    epoch: int
    x: np.ndarray = field(repr=False)            # R inputs, increasing
    y: np.ndarray = field(repr=False)            # R x outputs: the model's prediction at each
    val_x: np.ndarray = field(repr=False)        # N validation inputs
    val_y: np.ndarray = field(repr=False)        # N x outputs: their targets


@dataclass(frozen=True)
class PredictedSurface:
    """A 2-D regression's prediction (its first output) over the input plane, and the validation points."""
    epoch: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    values: np.ndarray = field(repr=False)       # R x R, rows follow y
    val_points: np.ndarray = _no_points()        # N x 2
    val_targets: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=np.float32))


@dataclass(frozen=True)
class LossLandscape:
    """The training loss over a plane through the current weights (two random filter-normalised
    directions), and the weights' path so far projected onto it; each epoch, for small models."""
    epoch: int
    alphas: np.ndarray = field(repr=False)       # R coordinates along the first direction
    betas: np.ndarray = field(repr=False)        # R coordinates along the second
    losses: np.ndarray = field(repr=False)       # R x R, rows follow betas
    centre_loss: float                           # at (0, 0): the current weights
    path: np.ndarray = field(repr=False)         # N x 2, from the first recorded weights to the current ones
    path_steps: np.ndarray = field(repr=False)   # N: the step each point was recorded at
    kind: str = ""


@dataclass(frozen=True)
class WeightPath:
    """Every weight of the model at points along the run (first: the weights it started from), sent
    once at its end, so that runs of one graph can be drawn on one landscape afterwards."""
    steps: np.ndarray = field(repr=False)        # N
    weights: np.ndarray = field(repr=False)      # N x parameters, in the model's parameters() order


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
class RecurrentSteps:
    """A recurrent layer unrolled over one validation sample (``engine.insight.unroll``): what it
    reads, its hidden state and, for LSTM and GRU, every gate at each step."""
    step: int
    layer: str
    kind: str                                     # "RNN", "LSTM" or "GRU"
    sample: int
    step_inputs: np.ndarray = field(repr=False)   # steps x features
    tokens: np.ndarray | None = field(repr=False)  # steps token ids, when the model reads tokens
    hidden: np.ndarray = field(repr=False)        # layers x directions x steps x hidden
    cell: np.ndarray | None = field(repr=False)   # LSTM only, like hidden
    gate_names: tuple[str, ...] = ()
    gates: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))  # gates x layers x directions x steps x hidden
    total_steps: int = 0                          # the sample's length; more than shown when it was cut
    deviation: float = 0.0                        # largest |unrolled - the layer's own output|


@dataclass(frozen=True)
class TimeGradients:
    """|dL/dh_t| for each step t of a recurrent layer, for one validation sample: how much of the
    loss's gradient reaches each step (back-propagation through time)."""
    step: int
    layer: str
    sample: int
    norms: np.ndarray = field(repr=False)         # layers x directions x steps
    loss: float = 0.0
    truncate: int = 0                             # the run's truncate_bptt (0: whole sequences)


@dataclass(frozen=True)
class GradientClipping:
    """How gradient clipping (``clip_grad_norm``) acted over the steps since the last report."""
    step: int
    threshold: float
    clipped: int                  # steps whose gradient norm was above the threshold, so scaled down to it
    steps: int
    mean_norm: float              # the gradient norm before clipping, mean over those steps
    max_norm: float


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
    elapsed_s: float = 0.0        # since the run started, on the worker's clock


@dataclass(frozen=True)
class Failed:
    reason: str
    node: str | None = None       # the node at fault, when it is one node's fault
    step: int | None = None
    diagnostics: tuple[str, ...] = ()


Message = (RunStarted | StartWeights | TrainingBatch | StepMetrics | EpochMetrics | GradientFlow | Histograms | Filters
           | ActivationMaps | DeadUnits | ConfusionMatrix | DecisionBoundary | SampleOutputs | FeatureSpace | EmbeddingSpace
           | AttentionMaps | NeuronPictures | FittedCurve | PredictedSurface | LossLandscape | WeightPath
           | RecurrentSteps | TimeGradients | GradientClipping | CheckpointSaved | Finished | Failed)


def to_json(message) -> dict:
    """A message as JSON-ready data (``--json`` on the command line); NaN and infinities (a
    landscape's heights far out) become null, which strict JSON readers accept."""
    data = {"type": type(message).__name__}
    for f in dataclasses.fields(message):
        value = getattr(message, f.name)
        if isinstance(value, np.ndarray):
            value = _listed(value)
        elif isinstance(value, tuple):
            value = [_plain(dataclasses.asdict(v)) if dataclasses.is_dataclass(v) and not isinstance(v, type) else v
                     for v in value]
        data[f.name] = value
    return data


def _plain(data: dict) -> dict:
    return {k: (_listed(v) if isinstance(v, np.ndarray) else v) for k, v in data.items()}


def _listed(array: np.ndarray) -> list:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        listed = array.astype(object)
        listed[~np.isfinite(array)] = None
        return listed.tolist()
    return array.tolist()

"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt. The
window runs it in a worker process (``TrainingWorker``) and reads the same messages."""

from . import messages
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, load_weights
from .config import (
    DEVICES,
    INITS,
    LOSSES,
    MAX_FORGET_BIAS,
    MAX_NEGATIVE_SAMPLES,
    NORMALIZE,
    OPTIMIZERS,
    SCHEDULES,
    ConfigError,
    TrainingConfig,
    run_name,
)
from .control import Control
from .data_view import SeenBatch, batch_as_seen, export_note, input_statistics
from .devices import describe_device, resolve_device
from .experiment import StepGradientProfile, step_gradient_profiles
from .landscapes import SharedLandscape, shared_landscape
from .loop import train
from .losses import loss_value, sample_objective
from .probes import MAX_CLASSES_SHOWN, feature_space, recurrent_steps
from .worker import TrainingWorker, WarmProcess

__all__ = [
    "DEVICES", "INITS", "LOSSES", "MAX_CLASSES_SHOWN", "NORMALIZE", "OPTIMIZERS", "SCHEDULES", "Checkpoint",
    "CheckpointError", "ConfigError", "Control", "SeenBatch", "SharedLandscape", "TrainingConfig", "TrainingWorker",
    "WarmProcess", "batch_as_seen", "describe_device", "export_note", "feature_space", "input_statistics",
    "load_checkpoint", "load_weights", "messages", "resolve_device", "run_name", "shared_landscape", "train",
    "MAX_FORGET_BIAS", "MAX_NEGATIVE_SAMPLES", "StepGradientProfile", "loss_value", "sample_objective",
    "recurrent_steps", "step_gradient_profiles",
]

"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt. The
window runs it in a worker process (``TrainingWorker``) and reads the same messages."""

from . import messages
from .checkpoint import CheckpointError, load_weights
from .config import DEVICES, LOSSES, MAX_FORGET_BIAS, MAX_NEGATIVE_SAMPLES, OPTIMIZERS, SCHEDULES, ConfigError, TrainingConfig
from .control import Control
from .devices import describe_device, resolve_device
from .experiment import StepGradientProfile, step_gradient_profiles
from .loop import train
from .losses import loss_value, sample_objective
from .probes import MAX_CLASSES_SHOWN, feature_space
from .worker import TrainingWorker

__all__ = [
    "DEVICES", "LOSSES", "MAX_CLASSES_SHOWN", "OPTIMIZERS", "SCHEDULES", "CheckpointError", "ConfigError", "Control",
    "TrainingConfig", "TrainingWorker", "describe_device", "feature_space", "load_weights", "messages",
    "resolve_device", "train",
    "MAX_FORGET_BIAS", "MAX_NEGATIVE_SAMPLES", "StepGradientProfile", "loss_value", "sample_objective",
    "step_gradient_profiles",
]

"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt. The
window runs it in a worker process (``TrainingWorker``) and reads the same messages."""

from . import messages
from .checkpoint import Checkpoint, CheckpointError, load_checkpoint, load_weights
from .config import DEVICES, LOSSES, OPTIMIZERS, SCHEDULES, ConfigError, TrainingConfig
from .control import Control
from .devices import describe_device, resolve_device
from .loop import train
from .probes import MAX_CLASSES_SHOWN, feature_space
from .worker import TrainingWorker, WarmProcess

__all__ = [
    "DEVICES", "LOSSES", "MAX_CLASSES_SHOWN", "OPTIMIZERS", "SCHEDULES", "Checkpoint", "CheckpointError", "ConfigError",
    "Control", "TrainingConfig", "TrainingWorker", "WarmProcess", "describe_device", "feature_space", "load_checkpoint",
    "load_weights", "messages", "resolve_device", "train",
]

"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt. The
window runs it in a worker process (``TrainingWorker``) and reads the same messages."""

from . import messages
from .checkpoint import CheckpointError, load_weights
from .config import DEVICES, LOSSES, NORMALIZE, OPTIMIZERS, SCHEDULES, ConfigError, TrainingConfig
from .control import Control
from .data_view import SeenBatch, batch_as_seen, export_note, input_statistics
from .devices import describe_device, resolve_device
from .loop import train
from .probes import MAX_CLASSES_SHOWN, feature_space
from .worker import TrainingWorker, WarmProcess

__all__ = [
    "DEVICES", "LOSSES", "MAX_CLASSES_SHOWN", "NORMALIZE", "OPTIMIZERS", "SCHEDULES", "CheckpointError", "ConfigError",
    "Control", "SeenBatch", "TrainingConfig", "TrainingWorker", "WarmProcess", "batch_as_seen", "describe_device",
    "export_note", "feature_space", "input_statistics", "load_weights", "messages", "resolve_device", "train",
]

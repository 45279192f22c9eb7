"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt."""

from .config import ConfigError, TrainingConfig
from .control import Control
from .loop import train
from . import messages

__all__ = ["ConfigError", "Control", "TrainingConfig", "messages", "train"]

"""Training: ``train(graph, config, control)`` yields messages; nothing here knows Qt."""

from . import messages
from .config import ConfigError, TrainingConfig
from .control import Control
from .loop import train

__all__ = ["ConfigError", "Control", "TrainingConfig", "messages", "train"]

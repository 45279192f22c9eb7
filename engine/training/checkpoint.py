"""Checkpoints: weights as safetensors, the rest of the run's state in a file that loads with
``torch.load(weights_only=True)`` (tensors, numbers, text; never pickled code).

A checkpoint named ``last`` is ``last.safetensors`` + ``last.state.pt``; both are written to a
temporary file and moved into place, and both carry the step, so a pair that does not belong
together is refused instead of silently mixed.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message names the file."""


@dataclass
class Checkpoint:
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.state["step"])


def paths(directory: str | Path, name: str) -> tuple[Path, Path]:
    d = Path(directory)
    return d / f"{name}.safetensors", d / f"{name}.state.pt"


def save_checkpoint(directory: str | Path, name: str, weights: dict[str, torch.Tensor], state: dict[str, Any]) -> Path:
    """Write a checkpoint atomically; returns the weights file's path."""
    weights_path, state_path = paths(directory, name)
    try:
        weights_path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
        _atomic(weights_path, lambda f: save_file(tensors, f, metadata={"step": str(state["step"])}))
        _atomic(state_path, lambda f: torch.save(state, f))
    except OSError as err:
        raise CheckpointError(f"checkpoint {weights_path} cannot be written: {err.strerror or err}") from None
    return weights_path


def _atomic(target: Path, write) -> None:
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(temp)
        with open(temp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Load from ``DIR/NAME.safetensors``, ``DIR/NAME.state.pt`` or ``DIR`` (its ``last``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "last.safetensors"
    name = path.name.removesuffix(".safetensors").removesuffix(".state.pt")
    weights_path, state_path = paths(path.parent, name)
    for p in (weights_path, state_path):
        if not p.exists():
            raise CheckpointError(f"checkpoint file {p} does not exist")
    try:
        weights = load_file(weights_path)
        from safetensors import safe_open
        with safe_open(weights_path, framework="pt") as f:
            weights_step = (f.metadata() or {}).get("step")
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{weights_path}: not a readable safetensors file ({err})") from None
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as err:   # weights_only refuses anything but plain data, with various errors
        raise CheckpointError(f"{state_path}: not a readable training state ({_first_line(err)})") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{state_path}: not a NetLoom training state")
    if weights_step is not None and str(state["step"]) != weights_step:
        raise CheckpointError(f"{weights_path} is from step {weights_step} but {state_path} from step "
                              f"{state['step']}: the pair does not belong together")
    return Checkpoint(weights, state)


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__

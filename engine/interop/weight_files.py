"""Reading a file of weights a graph starts from: safetensors, or a PyTorch state dict.

A weights file is input like any other: it is read only if it is a regular file of at most
``MAX_WEIGHTS_BYTES``, in one read that also gives its SHA-256 (the document records it, so a
file that was replaced or changed later is said plainly, not trained from). ``.pt``/``.pth``
files are unpickled with ``weights_only=True``: tensors and plain containers only, never code.
A NetLoom checkpoint is a safetensors file too: its weights are used, its training state not.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors

from ..data import DataError
from ..data.file_guard import read_limited
from ..words import first_line

MAX_WEIGHTS_BYTES = 8 * 1024**3          # VGG-16 is 0.5 GB, ViT-H 2.5 GB
SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
CHECKPOINT_FORMAT = "netloom.checkpoint"
STATE_PREFIX = "_state."                # a checkpoint's training state, beside its weights
_MAX_HEADER_BYTES = 100 * 1024 * 1024


class WeightsError(ValueError):
    """Weights that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class WeightsFile:
    path: Path
    sha256: str
    tensors: dict[str, torch.Tensor]      # state-dict name -> tensor, on the CPU

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self.tensors.items()}


def read_weights(path: str | os.PathLike, sha256: str | None = None) -> WeightsFile:
    """The tensors of a weights file; with ``sha256`` (what the document recorded) the file must
    still be the one recorded. WeightsError naming the file otherwise."""
    path = Path(path)
    data = _read(path)
    digest = hashlib.sha256(data).hexdigest()
    if sha256 is not None and digest != sha256:
        raise WeightsError(f"{path}: this is not the file the graph was set to start from: its contents changed "
                           f"since (SHA-256 {digest[:12]}... instead of {sha256[:12]}...). If the new contents are "
                           "meant, choose the file again as the start weights")
    tensors = _safetensors(path, data) if _is_safetensors(data) else _state_dict(path, data)
    if not tensors:
        raise WeightsError(f"{path}: holds no tensors")
    return WeightsFile(path, digest, tensors)


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a weights file, read with the same limits as the weights."""
    return hashlib.sha256(_read(Path(path))).hexdigest()


def _read(path: Path) -> bytes:
    if path.is_dir():
        raise WeightsError(f"{path}: is a folder; name a weights file")
    try:
        return read_limited(path, "weights file", MAX_WEIGHTS_BYTES)
    except DataError as err:
        raise WeightsError(str(err)) from None


def _is_safetensors(data: bytes) -> bool:
    """A safetensors file starts with its header's length and a JSON object."""
    if len(data) < 10:
        return False
    (size,) = struct.unpack("<Q", data[:8])
    return size <= min(len(data) - 8, _MAX_HEADER_BYTES) and data[8:9] == b"{"


def _safetensors(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + size])
        tensors = load_safetensors(data)
    except (SafetensorError, ValueError, RecursionError) as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({first_line(err)})") from None
    metadata = header.get("__metadata__") if isinstance(header, dict) else None
    if isinstance(metadata, dict) and metadata.get("format") == CHECKPOINT_FORMAT:
        tensors = {k: v for k, v in tensors.items() if not k.startswith(STATE_PREFIX)}
    return tensors


def _state_dict(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    """A state dict saved with ``torch.save``: read with ``weights_only=True``. A training
    checkpoint that holds the state dict under ``state_dict`` or ``model`` is accepted too."""
    try:
        loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:   # weights_only refuses anything but plain data, with various errors
        text = str(err)
        if "weights_only" in text or "Unsupported global" in text or "pickle" in text.lower():
            raise WeightsError(f"{path}: holds Python objects, not plain tensors; NetLoom never runs code from a "
                               "weights file, so it cannot be used (save the model's state_dict(), or use "
                               "safetensors)") from None
        raise WeightsError(f"{path}: not a weights file NetLoom can read (safetensors, or a PyTorch state dict "
                           f"saved with torch.save): {first_line(err)}") from None
    found = _tensors_of(loaded)
    if found is None:
        raise WeightsError(f"{path}: holds {type(loaded).__name__}, not a state dict (names and tensors)")
    return found


def _tensors_of(loaded: Any) -> dict[str, torch.Tensor] | None:
    if not isinstance(loaded, dict):
        return None
    for key in ("state_dict", "model", "model_state_dict"):
        inner = loaded.get(key)
        if isinstance(inner, dict) and any(isinstance(v, torch.Tensor) for v in inner.values()):
            loaded = inner
            break
    tensors = {str(k): v for k, v in loaded.items() if isinstance(v, torch.Tensor)}
    return tensors or None


# ---------------------------------------------------------------------- the document's record
def start_entry(weights: str | os.PathLike, graph_path: str | os.PathLike | None,
                statistics: tuple[list[float], list[float]] | None = None, source: str = "") -> dict[str, Any]:
    """What a graph's ``training.start_from`` records for a weights file: its path relative to
    the graph's file where it can be (else absolute), its SHA-256, and the statistics its inputs
    were normalised with when known."""
    file = Path(weights).resolve()
    entry: dict[str, Any] = {"path": str(file), "sha256": file_sha256(file)}
    if graph_path is not None:
        try:
            entry["path"] = os.path.relpath(file, Path(graph_path).resolve().parent)
        except ValueError:        # another drive: only an absolute path leads there
            pass
    if statistics is not None:
        entry["mean"], entry["std"] = [float(v) for v in statistics[0]], [float(v) for v in statistics[1]]
    if source:
        entry["source"] = source
    return entry


def moved_start_entry(entry: dict[str, Any], old_graph_path: str | os.PathLike | None,
                      new_graph_path: str | os.PathLike) -> dict[str, Any]:
    """The ``start_from`` entry of a graph saved under another name (Save As): the same file,
    named relative to the new place; the checksum and the rest kept as they were."""
    old_folder = Path(old_graph_path).resolve().parent if old_graph_path is not None else None
    file = resolve_start(entry, old_folder).resolve()
    try:
        path = os.path.relpath(file, Path(new_graph_path).resolve().parent)
    except ValueError:        # another drive
        path = str(file)
    return dict(entry) | {"path": path}


def resolve_start(entry: dict[str, Any], graph_folder: str | os.PathLike | None) -> Path:
    """The weights file a ``start_from`` entry names, relative to the graph's folder."""
    path = Path(str(entry.get("path", ""))).expanduser()
    if path.is_absolute() or graph_folder is None:
        return path
    return Path(graph_folder) / path


def read_start_weights(entry: Any, graph_folder: str | os.PathLike | None) -> WeightsFile:
    """The weights a ``training.start_from`` entry names (relative to ``graph_folder``, the
    folder of the graph's file), checked against the checksum it records. WeightsError naming the
    field or the file otherwise. Reads the whole file: call it off the window's thread."""
    check_start_entry(entry)
    return read_weights(resolve_start(entry, graph_folder), entry.get("sha256"))


def check_start_entry(entry: Any, where: str = "training.start_from") -> None:
    """WeightsError naming the field of a ``start_from`` entry that cannot be used."""
    if not isinstance(entry, dict):
        raise WeightsError(f"{where}: must be an object with path and sha256")
    for key in entry:
        if key not in ("path", "sha256", "mean", "std", "source"):
            raise WeightsError(f"{where}.{key}: unknown field; start_from has path, sha256, mean, std and source")
    path = entry.get("path")
    if not isinstance(path, str) or not path.strip():
        raise WeightsError(f"{where}.path: must name the weights file")
    sha = entry.get("sha256")
    if sha is not None and (not isinstance(sha, str) or len(sha) != 64
                            or any(c not in "0123456789abcdef" for c in sha)):
        raise WeightsError(f"{where}.sha256: must be 64 hexadecimal digits, not {sha!r}")
    mean, std = entry.get("mean"), entry.get("std")
    if mean is not None or std is not None:
        if not isinstance(mean, list) or not isinstance(std, list) or not (_numbers(mean) and _numbers(std)):
            raise WeightsError(f"{where}: mean and std must be lists of one number per channel, given together")
        if len(mean) != len(std) or any(v <= 0 for v in std):
            raise WeightsError(f"{where}: mean and std must have one number per channel, each std above 0")
    if not isinstance(entry.get("source", ""), str):
        raise WeightsError(f"{where}.source: must be text")


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and 0 < len(values) <= 16 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)

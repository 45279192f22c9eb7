"""Checkpoints: one safetensors file per checkpoint, written atomically and verified on reading.

``DIR/last.safetensors`` holds the model's weights under their state-dict names (so it is also a
plain weights file for export), every tensor of the training state under ``_state.N``, and in
its metadata the rest of the state as JSON, the run's id and a SHA-256 checksum over the state
and every tensor's name, type, shape and bytes. Because weights and state are one file that is
replaced in one rename, a crash or a full disk leaves the previous checkpoint whole: there is no
pair to mismatch. Nothing is pickled; an edited byte anywhere is caught by the checksum.

Checkpoints of earlier versions (``NAME.safetensors`` beside ``NAME.state.pt``) still load.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from graphs import atomic
from graphs.reading import ReadError, file_size, open_regular, read_all

from ..checking import memory
from ..words import first_line, human_bytes
from .state_codec import STATE_PREFIX, StateFormatError, decode_state, encode_state

FORMAT = "netloom.checkpoint"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100 * 1024 * 1024


class CheckpointError(ValueError):
    """A checkpoint that cannot be written or read; the message names the file and the field."""


@dataclass
class Checkpoint:
    path: Path
    weights: dict[str, torch.Tensor]
    state: dict[str, Any]
    run_id: str = ""

    @property
    def step(self) -> int:
        return int(self.state["step"])

    @property
    def epoch(self) -> int:
        """Epochs finished when it was written."""
        return int(self.state["epoch"])


def checkpoint_path(directory: str | Path, name: str) -> Path:
    return Path(directory) / f"{name}.safetensors"


def legacy_state_path(weights_path: Path) -> Path:
    return weights_path.with_name(weights_path.name.removesuffix(".safetensors") + ".state.pt")


# ---------------------------------------------------------------------- writing
def ensure_writable(directory: str | Path) -> None:
    """Refuse a checkpoint folder that cannot be written, before any training time is spent."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".netloom-write-test-{os.getpid()}{atomic.TEMP_SUFFIX}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise CheckpointError(f"checkpoint folder {folder} cannot be written ({err.strerror or err}): "
                              "choose another one (--checkpoint-dir)") from None


def save_checkpoint(directory: str | Path, name: str, weights: dict[str, torch.Tensor], state: dict[str, Any],
                    run_id: str) -> Path:
    """Write ``DIR/NAME.safetensors`` in one atomic step; the previous one stays until it is done."""
    path = checkpoint_path(directory, name)
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    clash = next((k for k in tensors if k.startswith(STATE_PREFIX)), None)
    if clash:
        raise CheckpointError(f"{path}: the weight name {clash!r} is reserved for the training state")
    state_text, state_tensors = encode_state(state)
    tensors.update(state_tensors)
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION), "run_id": run_id,
                "step": str(state["step"]), "state": state_text}
    metadata["checksum"] = _checksum(metadata, tensors)
    data = save_tensors(tensors, metadata=metadata)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_atomically(path, data)
    except OSError as err:
        kept = (f"the last good checkpoint, {path}, is kept as it was" if path.exists()
                else "no earlier checkpoint was kept")
        if atomic.is_disk_full(err):
            raise CheckpointError(f"the disk is full: checkpoint {path} could not be written; {kept}") from None
        raise CheckpointError(f"checkpoint {path} could not be written ({err.strerror or err}); {kept}") from None
    legacy = legacy_state_path(path)
    if legacy.exists():          # an old-style state file beside it would now describe another step
        legacy.unlink()
    return path


def _checksum(metadata: dict[str, str], tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for key in ("format", "format_version", "run_id", "step", "state"):
        digest.update(f"{key}={metadata.get(key, '')}\n".encode())
    for name in sorted(tensors):
        t = tensors[name]
        digest.update(f"{name}:{t.dtype}:{list(t.shape)}\n".encode())
        digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return digest.hexdigest()


# ---------------------------------------------------------------------- reading
def resolve(path: str | Path) -> Path:
    """A checkpoint's file from what a person names: the file, its old state file, or its folder."""
    path = Path(path)
    if path.is_dir():
        return path / "last.safetensors"
    if path.name.endswith(".state.pt"):
        return path.with_name(path.name.removesuffix(".state.pt") + ".safetensors")
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read and verify a checkpoint; CheckpointError naming the file and the field otherwise."""
    path = resolve(path)
    atomic.remove_stale_temporaries(path)
    metadata, tensors = _read_safetensors(path)
    if metadata.get("format") != FORMAT:
        return _load_legacy(path, metadata, tensors)
    version = metadata.get("format_version")
    if version != str(FORMAT_VERSION):
        raise CheckpointError(f"{path}: format_version: {version!r}; this NetLoom reads checkpoint version "
                              f"{FORMAT_VERSION}")
    for key in ("run_id", "step", "state", "checksum"):
        if not isinstance(metadata.get(key), str):
            raise CheckpointError(f"{path}: {key}: missing from the checkpoint's header")
    if _checksum(metadata, tensors) != metadata["checksum"]:
        raise CheckpointError(f"{path}: checksum: the file's contents do not match its checksum; it was changed "
                              "or damaged after it was written, and cannot be trusted")
    try:
        state = decode_state(metadata["state"], tensors)
    except StateFormatError as err:
        raise CheckpointError(f"{path}: state: {err}") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path}: state: must be an object")
    if str(state.get("step")) != metadata["step"]:
        raise CheckpointError(f"{path}: step: the header says {metadata['step']} but the state {state.get('step')!r}")
    weights = {k: v for k, v in tensors.items() if not k.startswith(STATE_PREFIX)}
    _check_finite(path, weights)
    return Checkpoint(path, weights, state, metadata["run_id"])


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """The model weights of a checkpoint, verified, or of a plain safetensors weights file."""
    path = resolve(path)
    metadata, tensors = _read_safetensors(path)
    if metadata.get("format") == FORMAT:
        return load_checkpoint(path).weights
    return tensors


def is_checkpoint(path: str | Path) -> bool:
    """True for a training checkpoint, False for a plain weights file (CheckpointError if neither)."""
    return _read_safetensors(resolve(path))[0].get("format") == FORMAT


def _read_safetensors(path: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """One read of the file: a checkpoint being replaced meanwhile is seen whole, old or new.
    Only a regular file is opened (never a pipe or a device); its header is read and checked
    against the file's size before the tensors are, so that a damaged or sparse file is refused
    after a few bytes, and a file larger than half this machine's memory is not read at all."""
    not_readable = f"{path}: not a readable safetensors file"
    try:
        with open_regular(path) as file:
            size = file_size(file)
            limit = (memory.machine_memory() or 1 << 40) // 2        # the bytes and the tensors made from them
            if size > limit:
                raise CheckpointError(f"{path}: is {human_bytes(size)}, more than half of this machine's memory; "
                                      "it cannot be loaded here")
            start = file.read(8)
            if len(start) < 8:
                raise CheckpointError(f"{not_readable} (it is {size} bytes long)")
            (header_size,) = struct.unpack("<Q", start)
            if header_size > min(size - 8, MAX_HEADER_BYTES):
                raise CheckpointError(f"{not_readable} (its header is cut short or damaged)")
            header = _header(file.read(header_size), size - 8 - header_size, not_readable)
            file.seek(0)
            data = read_all(file, size, "checkpoint")
    except ReadError as err:
        raise CheckpointError(f"{path}: {err.problem}") from None
    except OSError as err:
        raise CheckpointError(f"{path}: cannot be read ({err.strerror or err})") from None
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{not_readable} (metadata must be an object)")
    try:
        tensors = load_tensors(data)
    except (SafetensorError, ValueError, AttributeError, RecursionError) as err:
        raise CheckpointError(f"{not_readable} ({first_line(err)})") from None
    return metadata, tensors


def _header(raw: bytes, data_size: int, not_readable: str) -> dict[str, Any]:
    """The safetensors header, whose tensors must cover the bytes after it exactly."""
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise CheckpointError(f"{not_readable} (its header is not JSON: {first_line(err)})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{not_readable} (its header is not an object)")
    end = 0
    for name, entry in header.items():
        offsets = entry.get("data_offsets") if isinstance(entry, dict) and name != "__metadata__" else None
        if isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(v, int) for v in offsets):
            end = max(end, offsets[1])
    if end != data_size:
        raise CheckpointError(f"{not_readable} (its header describes {end:,} bytes of tensors, the file holds "
                              f"{data_size:,})")
    return header


def _check_finite(path: Path, weights: dict[str, torch.Tensor]) -> None:
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"{path}: weight {name!r} holds NaN or infinite values; the run that wrote it "
                                  "had diverged, so it cannot be resumed")


def _load_legacy(path: Path, metadata: dict[str, Any], weights: dict[str, torch.Tensor]) -> Checkpoint:
    """A checkpoint of the first version: NAME.safetensors beside NAME.state.pt."""
    state_path = legacy_state_path(path)
    if not state_path.exists():
        raise CheckpointError(f"{path}: holds weights only, not a training checkpoint (no training state in it "
                              f"and no {state_path.name} beside it)")
    try:
        state = torch.load(state_path, map_location="cpu", weights_only=True)
    except Exception as err:   # weights_only refuses anything but plain data, with various errors
        text = str(err)
        if "weights_only" in text or "Unsupported global" in text or "pickle" in text.lower():
            raise CheckpointError(f"{state_path}: holds Python objects, not plain training data; NetLoom never "
                                  "runs code from a checkpoint, so it cannot be loaded") from None
        raise CheckpointError(f"{state_path}: not a readable training state ({first_line(err)})") from None
    if not isinstance(state, dict) or "step" not in state:
        raise CheckpointError(f"{state_path}: not a NetLoom training state")
    weights_step = metadata.get("step")
    if weights_step is not None and str(state["step"]) != weights_step:
        raise CheckpointError(f"{path} is from step {weights_step} but {state_path} from step "
                              f"{state['step']}: the pair does not belong together")
    _check_finite(path, weights)
    return Checkpoint(path, weights, state, "")


# ---------------------------------------------------------------------- the state's schema
def check_state_schema(expected: Any, found: Any, path: Path, where: str = "") -> None:
    """``found`` has the structure and types of ``expected`` (a state this run would write)."""
    def fail(problem: str):
        raise CheckpointError(f"{path}: {where or 'state'}: {problem}")

    if isinstance(expected, torch.Tensor):
        if not isinstance(found, torch.Tensor):
            fail(f"must be a tensor, not {_kind(found)}")
        if found.dtype != expected.dtype or found.shape != expected.shape:
            fail(f"must be a tensor of {expected.dtype} {list(expected.shape)}, not {found.dtype} "
                 f"{list(found.shape)} (a random-number state of another device or another torch?)")
        return
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            fail(f"must be an object, not {_kind(found)}")
        missing = [k for k in expected if k not in found]
        if missing:
            raise CheckpointError(f"{path}: {_join(where, missing[0])}: missing")
        for key, value in expected.items():
            check_state_schema(value, found[key], path, _join(where, key))
        return
    if isinstance(expected, (list, tuple)):
        if not isinstance(found, (list, tuple)) or len(found) != len(expected):
            fail(f"must be a list of {len(expected)}, not {_kind(found)}")
        for i, (e, f) in enumerate(zip(expected, found)):
            check_state_schema(e, f, path, f"{where}[{i}]")
        return
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        if type(found) is not type(expected):
            fail(f"must be {_kind(expected)}, not {found!r}")
    elif isinstance(expected, int):
        if isinstance(found, bool) or not isinstance(found, int):
            fail(f"must be an integer, not {found!r}")
    elif isinstance(expected, float):
        if isinstance(found, bool) or not isinstance(found, (int, float)):
            fail(f"must be a number, not {found!r}")


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return "a tensor"
    return {bool: "true or false", int: "an integer", float: "a number", str: "text", dict: "an object",
            list: "a list", tuple: "a list", type(None): "null"}.get(type(value), type(value).__name__)

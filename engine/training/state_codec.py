"""The training state (optimizer, scheduler, counters, random states) as JSON text plus tensors.

A checkpoint is one safetensors file: its tensors hold the weights and every tensor of the state,
its metadata holds the rest of the state as JSON. This module turns the nested state into that
pair and back. Decoding builds plain data only (dicts, lists, tuples, numbers, text, tensors
that the file holds): nothing is imported, evaluated or unpickled.
"""

from __future__ import annotations

import json
import math
from typing import Any

import torch

STATE_PREFIX = "_state."   # node ids never start with "_", so these never clash with weights
_TENSOR, _TUPLE, _DICT, _FLOAT = "$tensor", "$tuple", "$dict", "$float"


class StateFormatError(ValueError):
    """The state text does not decode; the message says where."""


def encode_state(state: Any) -> tuple[str, dict[str, torch.Tensor]]:
    tensors: dict[str, torch.Tensor] = {}

    def enc(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            name = f"{STATE_PREFIX}{len(tensors)}"
            tensors[name] = value.detach().to("cpu").contiguous()
            return {_TENSOR: name}
        if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
            return value
        if isinstance(value, float):
            return value if math.isfinite(value) else {_FLOAT: repr(value)}
        if isinstance(value, tuple):
            return {_TUPLE: [enc(v) for v in value]}
        if isinstance(value, list):
            return [enc(v) for v in value]
        if isinstance(value, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: enc(v) for k, v in value.items()}
            return {_DICT: [[enc(k), enc(v)] for k, v in value.items()]}
        raise TypeError(f"a training state cannot hold {type(value).__name__}")

    text = json.dumps(enc(state), allow_nan=False, separators=(",", ":"))
    return text, tensors


def decode_state(text: str, tensors: dict[str, torch.Tensor]) -> Any:
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as err:
        raise StateFormatError(f"the state is not readable JSON ({err})") from None

    def dec(value: Any, where: str) -> Any:
        if isinstance(value, list):
            return [dec(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, inner), = value.items()
            if key == _TENSOR:
                if not isinstance(inner, str) or not inner.startswith(STATE_PREFIX) or inner not in tensors:
                    raise StateFormatError(f"{where}: refers to a tensor {inner!r} that the file does not hold")
                return tensors[inner]
            if key == _TUPLE:
                return tuple(dec(v, f"{where}[{i}]") for i, v in enumerate(_list(inner, where)))
            if key == _FLOAT:
                if inner not in ("inf", "-inf", "nan"):
                    raise StateFormatError(f"{where}: {inner!r} is not a number")
                return float(inner)
            if key == _DICT:
                result = {}
                for i, pair in enumerate(_list(inner, where)):
                    if not isinstance(pair, list) or len(pair) != 2:
                        raise StateFormatError(f"{where}[{i}]: must be a [key, value] pair")
                    k = dec(pair[0], f"{where}[{i}]")
                    if not isinstance(k, (str, int, float, bool, tuple)) or not _hashable(k):
                        raise StateFormatError(f"{where}[{i}]: a key must be a number, text or a list of those")
                    result[k] = dec(pair[1], f"{where}.{k}")
                return result
        return {k: dec(v, f"{where}.{k}" if where else k) for k, v in value.items()}

    try:
        return dec(data, "")
    except RecursionError:
        raise StateFormatError("the state is nested too deeply") from None


def _hashable(key: Any) -> bool:
    """A tuple key may hold a list (a file says so, checksum and all): no dictionary can take it."""
    try:
        hash(key)
    except TypeError:
        return False
    return True


def _list(value: Any, where: str) -> list:
    if not isinstance(value, list):
        raise StateFormatError(f"{where}: must be a list")
    return value


def _refuse_constant(name: str):
    raise StateFormatError(f"'{name}' is not a number JSON allows")

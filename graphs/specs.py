"""Layer specifications as data: what parameters and ports each layer type has.

The palette, the inspector, the file loader and the checks all read these; nothing here
knows how a layer is computed (that lives in ``engine``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .operations import arguments_problem, operation_problem

# Parameter kinds. Values are plain JSON types so that a file never holds anything else.
INT = "int"          # an integer
FLOAT = "float"      # a number
BOOL = "bool"        # true / false
CHOICE = "choice"    # one string out of ``choices``
INTS = "ints"        # an integer, or a list of ``length`` integers (kernel_size=3 or [3, 5])
SHAPE = "shape"      # a list of integers (a tensor shape without the batch axis)
FLOATS = "floats"    # a list of numbers, at most ``length`` of them (one per channel); a number is a list of one
OPERATION = "operation"  # the name of a whitelisted torch operation (graphs.operations)
ARGS = "args"        # a Function node's positional arguments: a list of literals
KWARGS = "kwargs"    # a Function node's named arguments: an object of literals


class ParamError(ValueError):
    """A parameter value that its spec does not allow; the message is for the user."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    kind: str
    default: Any
    doc: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    length: int = 1            # for INTS: how many integers a list must hold; for FLOATS: at most how many
    optional: bool = False     # None (JSON null) is allowed and means "torch's default"
    allow_minus_one: bool = False  # for SHAPE: one entry may be -1 ("infer this size")
    words: tuple[str, ...] = ()    # for INTS: words it also takes ("same" padding)

    def validate(self, value: Any) -> Any:
        """Return the value in canonical form, or raise ParamError saying what is wrong."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(f"'{self.name}' must be set")
        if self.kind == INT:
            return self._check_int(value)
        if self.kind == FLOAT:
            return self._check_float(value)
        if self.kind == BOOL:
            if not isinstance(value, bool):
                raise ParamError(f"'{self.name}' must be true or false, not {_describe(value)}")
            return value
        if self.kind == CHOICE:
            if value not in self.choices:
                options = ", ".join(repr(c) for c in self.choices)
                raise ParamError(f"'{self.name}' must be one of {options}, not {_describe(value)}")
            return value
        if self.kind == INTS:
            if isinstance(value, str) and self.words:
                if value not in self.words:
                    words = " or ".join(repr(w) for w in self.words)
                    raise ParamError(f"'{self.name}' must be integers or {words}, not {_describe(value)}")
                return value
            if isinstance(value, list):
                if len(value) != self.length:
                    raise ParamError(
                        f"'{self.name}' must be one integer or a list of {self.length}, "
                        f"not a list of {len(value)}")
                items = [self._check_int(v) for v in value]
                return items[0] if len(set(items)) == 1 else items
            return self._check_int(value)
        if self.kind == SHAPE:
            if not isinstance(value, list) or not value:
                raise ParamError(f"'{self.name}' must be a non-empty list of sizes, not {_describe(value)}")
            sizes = []
            for v in value:
                if isinstance(v, bool) or not isinstance(v, int):
                    raise ParamError(f"'{self.name}' must hold integers, not {_describe(v)}")
                if v == -1 and self.allow_minus_one:
                    sizes.append(v)
                    continue
                low = 1 if self.minimum is None else int(self.minimum)
                if v < low:
                    raise ParamError(f"'{self.name}' entries must be at least {low}, not {v}")
                sizes.append(v)
            if sizes.count(-1) > 1:
                raise ParamError(f"'{self.name}' may infer (-1) at most one size")
            return sizes
        if self.kind == FLOATS:
            values = value if isinstance(value, list) else [value]
            if not values or len(values) > self.length:
                raise ParamError(f"'{self.name}' must hold 1 to {self.length} numbers, not {len(values)}")
            return [self._check_float(v) for v in values]
        if self.kind in (OPERATION, ARGS, KWARGS):
            problem = operation_problem(value) if self.kind == OPERATION else arguments_problem(value, self.kind == KWARGS)
            if problem:
                raise ParamError(f"'{self.name}' {problem}" if self.kind != OPERATION else f"'{self.name}': {problem}")
            return value
        raise AssertionError(f"unknown parameter kind {self.kind}")

    def _check_float(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"'{self.name}' must be a number, not {_describe(value)}")
        try:
            as_float = float(value)
        except OverflowError:
            raise ParamError(f"'{self.name}' is too large a number") from None
        if as_float != as_float or as_float in (float("inf"), float("-inf")):
            raise ParamError(f"'{self.name}' must be a finite number")
        self._check_range(value)
        return as_float

    def _check_int(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                raise ParamError(f"'{self.name}' must be an integer, not {_describe(value)}")
        if abs(value) > 2**63 - 1:
            raise ParamError(f"'{self.name}' is too large a number (at most {2**63 - 1})")
        self._check_range(value)
        return value

    def _check_range(self, value: float) -> None:
        if self.minimum is not None and value < self.minimum:
            raise ParamError(f"'{self.name}' must be at least {_num(self.minimum)}, not {_num(value)}")
        if self.maximum is not None and value > self.maximum:
            raise ParamError(f"'{self.name}' must be at most {_num(self.maximum)}, not {_num(value)}")


@dataclass(frozen=True)
class PortSpec:
    name: str
    doc: str = ""
    multiple: bool = False   # accepts several wires (Add, Concat); their order is the edge order
    min_wires: int = 1       # for required ports: how many wires it needs


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("in"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("out"),)
    # Number of axes (batch excluded) the layer accepts, or () for any.
    input_ranks: tuple[int, ...] = ()
    # What one sample looks like, in words, for messages ("channels x height x width").
    input_words: str = ""
    key_params: tuple[str, ...] = field(default=())  # shown on the node in the editor

    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def input_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output_port(self, name: str) -> PortSpec | None:
        return next((p for p in self.outputs if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (int, float)):
        return _num(value)
    if value is None:
        return "null"
    return f"a {type(value).__name__}" if not isinstance(value, (list, dict)) else (
        "a list" if isinstance(value, list) else "an object")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)

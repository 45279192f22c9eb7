"""What a traced module computes besides its tensors, for the importer.

torch.fx records ``n, c, h, w = x.shape`` and ``h // 2`` as steps. Here the traced module is run
on the examples at two batch sizes, and every step's value is kept: a tensor as its shape and
type, anything else as itself. A value that is not a tensor is then written as the literal it
was, or as ``{"batch": k}`` where it is k times the batch size in both runs; a tensor computed
from no input and no learned weight (an index table, a mask) is kept whole, for a Constant node.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

# (the module called, its path in the traced module, args, kwargs) -> its result, or ITSELF to call it as it is
ModuleCall = Callable[[nn.Module, str, tuple, dict], Any]
ITSELF = object()


@dataclass(frozen=True)
class Meta:
    """A tensor a step produced: its shape and dtype."""
    shape: tuple[int, ...]
    dtype: torch.dtype


class NotLiteral(ValueError):
    """A value a Function node cannot store; the message says what it is."""


def _summary(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return Meta(tuple(value.shape), value.dtype)
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        return tuple(_summary(v) for v in value)
    if isinstance(value, dict):     # a model's output object (``.logits``) holds tensors too
        return tuple(_summary(v) for v in value.values())
    return value


def holds_tensor(value: Any) -> bool:
    if isinstance(value, Meta):
        return True
    return isinstance(value, tuple) and any(holds_tensor(v) for v in value)


class Recorder(fx.Interpreter):
    """Runs a traced module and keeps every step's value (``seen``) and the tensors computed from
    no input and no weight (``free``). ``calls`` may run a submodule call itself (a block's own
    traced body, recorded too) instead of the submodule."""

    def __init__(self, module: fx.GraphModule, calls: ModuleCall | None = None) -> None:
        super().__init__(module, garbage_collect_values=True)
        self.seen: dict[fx.Node, Any] = {}
        self.free: dict[fx.Node, torch.Tensor] = {}     # tensors made from no input and no weight
        self._parameters = {name for name, _ in module.named_parameters()}
        self._calls = calls

    def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
        if self._calls is not None:
            result = self._calls(self.fetch_attr(str(target)), str(target), tuple(args), dict(kwargs))
            if result is not ITSELF:
                return result
        return super().call_module(target, args, kwargs)

    def run_node(self, n: fx.Node) -> Any:
        result = super().run_node(n)
        self.seen[n] = _summary(result)
        if isinstance(result, torch.Tensor) and self._is_free(n):
            self.free[n] = result.detach().clone()
        return result

    def _is_free(self, n: fx.Node) -> bool:
        if n.op == "get_attr":
            return str(n.target) not in self._parameters
        if n.op not in ("call_function", "call_method"):
            return False
        return all(a in self.free or not holds_tensor(self.seen.get(a)) for a in n.all_input_nodes)


@dataclass
class Concrete:
    """Every step's value in two runs, at batch sizes ``sizes``."""
    first: dict[fx.Node, Any]
    second: dict[fx.Node, Any]
    free: dict[fx.Node, torch.Tensor]
    sizes: tuple[int, int]

    def is_tensor(self, n: fx.Node) -> bool:
        return isinstance(self.first.get(n), Meta)

    def literal(self, n: fx.Node) -> Any:
        """The value of a step that is not a tensor, as a Function node stores it."""
        return _encode(self.first.get(n), self.second.get(n), self.sizes)

    def constant(self, n: fx.Node) -> torch.Tensor | None:
        """The tensor of a step computed from no input and no weight, the same in both runs."""
        tensor = self.free.get(n)
        if tensor is None or self.first[n] != self.second[n]:
            return None
        return tensor


def concrete(first: Recorder, second: Recorder, sizes: tuple[int, int]) -> Concrete:
    """What two runs of one traced module, at batch sizes ``sizes``, recorded."""
    return Concrete(first.seen, second.seen, first.free, sizes)


def batch_size(inputs: tuple) -> int:
    return next(int(t.shape[0]) for t in inputs if isinstance(t, torch.Tensor))


def doubled(inputs: tuple) -> tuple:
    """The same examples, twice the batch."""
    return tuple(torch.cat([t, t]) if isinstance(t, torch.Tensor) else t for t in inputs)


def _encode(one: Any, two: Any, sizes: tuple[int, int]) -> Any:
    if isinstance(one, (tuple, list)):
        if not isinstance(two, (tuple, list)) or len(one) != len(two):
            raise NotLiteral("a list whose length follows the batch size")
        return [_encode(a, b, sizes) for a, b in zip(one, two)]
    if isinstance(one, bool) or one is None or isinstance(one, str):
        if one != two:
            raise NotLiteral(f"{one!r}, which changes with the batch size")
        return one
    if isinstance(one, int):
        if one == two:
            return one
        times, rest = divmod(one, sizes[0])
        if rest == 0 and times >= 1 and times * sizes[1] == two:
            return {"batch": times}
        raise NotLiteral(f"the number {one}, which follows the batch size in a way other than a multiple")
    if isinstance(one, float):
        if not math.isfinite(one):
            raise NotLiteral(f"{one}, which a graph file cannot hold")
        if one != two:
            raise NotLiteral(f"the number {one}, which changes with the batch size")
        return one
    if isinstance(one, slice):
        return {"slice": [_encode(getattr(one, k), getattr(two, k), sizes) for k in ("start", "stop", "step")]}
    if one is Ellipsis:
        return {"ellipsis": True}
    if isinstance(one, Meta):
        raise NotLiteral("a tensor where a literal was expected")
    raise NotLiteral(f"a {type(one).__name__} ({str(one)[:40]})")

"""The module to import, traced level by level and evaluated in one pass.

The root is traced with torch.fx, stopping at catalog layers and at blocks-to-be (submodules of a
class of their own); each block is traced the same way when it is first called. One run on the
examples, then one at twice their batch, evaluate the whole hierarchy: where a traced module
calls a block, the block's own traced body runs in its place and records its steps too, so every
level's values (``Concrete``) come from the same two forwards, and the calls that give each block
its inputs' shapes and fixed values are taken on the way.

A block called with one list of feature maps that gives the same result when passed their
concatenation along the channels (DenseNet's layers: tried once on the examples, their weights
and statistics put back) becomes a block taking that concatenation (``listed``); its body is
traced with a forward that passes the one tensor on as a list of one. A block called with
anything else other than tensors and fixed values, or with values that change with the batch,
is traced through instead (``inlined``): the pass then starts again with those modules traced
through, which happens once per nesting depth at most. A block that cannot be traced, or whose
trace fails on its inputs, keeps its problem for the import to report where it is used, and its
module runs as it is.

Blocks alike in every setting (a transformer's layers, a stage's repeated bottlenecks) are traced
once: the trace is kept under the module's configuration (``_configuration``: the class, every
attribute of it and of its submodules, the fixed values of the call) and given to the next one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from ..words import first_line
from .import_calls import Call, bind, fixed_arguments, trace
from .import_maps import mapped
from .import_modes import where_modes_differ
from .import_values import ITSELF, Concrete, Recorder, batch_size, concrete


class ImportProblem(ValueError):
    """The module cannot be imported exactly; ``problems`` lists each step and why. ``final``: the
    cause is the model itself, not how it was traced (a forward that branches on self.training),
    so another tracer is not tried."""

    def __init__(self, problems: list[str], final: bool = False) -> None:
        self.problems = problems
        self.final = final
        super().__init__("cannot import this module exactly:\n" + "\n".join(f"  {p}" for p in problems))


_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


def is_block(module: nn.Module) -> bool:
    """A module of a class of its own, made of layers or holding its own weights (ConvNeXt's
    LayerNorm2d): it becomes a block. Built-in torch layers are mapped one to one, and containers
    only group names."""
    return (not mapped(module) and not isinstance(module, _CONTAINERS)
            and not type(module).__module__.startswith("torch.nn")
            and (any(True for _ in module.children()) or any(True for _ in module.parameters(recurse=False))))


class _BlockTracer(fx.Tracer):
    """Stops at catalog layers and at blocks; traces through containers, and through modules
    that are called with something other than tensors and fixed values (``inlined``)."""

    def __init__(self, inlined: set[int]) -> None:
        super().__init__()
        self.inlined = inlined

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if id(m) in self.inlined:
            return False
        return mapped(m) or is_block(m) or super().is_leaf_module(m, module_qualified_name)


_MODULE_INTERNALS = frozenset(vars(nn.Module()))      # torch's own bookkeeping in every module's __dict__
_HOOKS = tuple(k for k in _MODULE_INTERNALS if "hook" in k)
_PLAIN = (type(None), bool, int, float, str, torch.dtype, torch.device)


def _setting(value: Any) -> Any:
    """An attribute as part of a configuration: plain values as themselves, anything else (a
    function, an object) by identity, so that only the very same object matches."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (tuple, list)):
        return type(value).__name__, tuple(_setting(v) for v in value)
    return "object", id(value)


def _configuration(module: nn.Module, call: Call, inlined: set[int], listed: set[int]) -> tuple | None:
    """What a trace of ``module`` called so can depend on, as a key; None where it is not known
    (hooks, which may differ from instance to instance)."""
    parts: list[Any] = [type(module), id(module) in listed, len(call.tensors),
                        tuple(sorted((k, _setting(v)) for k, v in call.values.items()))]
    for name, sub in module.named_modules():
        state = vars(sub)
        if any(state.get(k) for k in _HOOKS):
            return None
        settings = tuple(sorted((k, _setting(v)) for k, v in state.items() if k not in _MODULE_INTERNALS))
        learned = tuple((k, v is None) for k, v in [*sub._parameters.items(), *sub._buffers.items()])
        parts.append((name, type(sub), id(sub) in inlined, settings, learned))
    return tuple(parts)


@dataclass
class Level:
    """One traced module (the root, or a block), its calls in the two runs (tensors and fixed
    values) and what each run recorded; ``problem``: why it cannot be imported."""
    module: nn.Module
    path: str                   # in the imported module ("" for the root)
    calls: list[Call] = field(default_factory=list)
    traced: fx.GraphModule | None = None
    runs: list[Recorder] = field(default_factory=list)
    problem: ImportProblem | None = None

    @property
    def concrete(self) -> Concrete:
        sizes = (batch_size(self.calls[0].tensors), batch_size(self.calls[1].tensors))
        return concrete(self.runs[0], self.runs[1], sizes)

    def label(self, where: str = "") -> str:
        """A submodule of this one (``where``, "" for itself) as the message names it."""
        module = self.module.get_submodule(where) if where else self.module
        path = f"{self.path}.{where}".strip(".")
        return f"{path} ({type(module).__name__})" if path else type(module).__name__


class Levels:
    """Every level of ``module``, evaluated on ``inputs`` and on ``bigger`` (the same at another
    batch size). Raises ImportProblem when the root itself cannot be traced or run."""

    def __init__(self, module: nn.Module, inputs: tuple, bigger: tuple) -> None:
        self.module = module
        self.inlined: set[int] = set()
        self.listed: set[int] = set()       # blocks that take the concatenation of the list they are passed
        self.graphs: dict[tuple, fx.Graph] = {}     # configuration -> its evaluating trace
        while True:
            self.levels: dict[str, Level] = {}
            self.found: set[int] = set()        # modules to trace through, found in this pass
            root = Level(module, "", [Call(inputs, {})])
            self._trace(root, raise_problem=True)
            with torch.no_grad():
                for run, examples in enumerate((inputs, bigger)):
                    self.run = run
                    if run:
                        root.calls.append(Call(examples, {}))
                    try:
                        self._record(root, examples)
                    except ImportProblem:
                        raise
                    except Exception as err:
                        raise ImportProblem([f"{type(module).__name__} fails on the example inputs once traced: "
                                             f"{first_line(err)}"]) from None
            for level in self.levels.values():
                if len(level.calls) == 1 or level.calls[0].values != level.calls[1].values:
                    self.found.add(id(level.module))      # its call changes with the batch: traced through
            if not self.found - self.inlined:
                break
            self.inlined |= self.found
        self.root = root

    def _trace(self, level: Level, raise_problem: bool = False) -> None:
        """``level.traced``, evaluating; or ``level.problem``: fx cannot trace it, it takes
        another path while training, or its inputs do not match its examples."""
        try:
            level.traced = self._traced(level)
        except ImportProblem as problem:
            if raise_problem:
                raise
            level.problem = problem

    def _traced(self, level: Level) -> fx.GraphModule:
        module, call = level.module, level.calls[0]
        key = _configuration(module, call, self.inlined, self.listed)
        if key is not None and key in self.graphs:
            try:
                return fx.GraphModule(module, self.graphs[key])
            except AttributeError:      # an attribute the trace put on the module it traced (a tensor constant)
                pass
        fixed = fixed_arguments(module, len(call.tensors), call.values)
        traces = []
        for training in (False, True):
            module.train(training)
            try:
                with _taking_one_list(module) if id(module) in self.listed else contextlib.nullcontext():
                    traces.append(trace(_BlockTracer(self.inlined), module, fixed))
            except Exception as err:   # data-dependent control flow and the like
                mode = " while training" if training else ""
                raise ImportProblem([f"torch.fx cannot trace {level.label()}{mode}: {first_line(err)}"]) from None
            finally:
                module.eval()
        for traced in traces:
            traced.graph.eliminate_dead_code()    # e.g. the unused half of `seq, _ = self.lstm(x)`
        where = where_modes_differ(traces[0].graph, traces[1].graph)
        if where is not None:
            raise ImportProblem([f"{level.label(where)} takes another path while training than when evaluating (its "
                                 "forward reads self.training): a graph has one path for both, so it would not train "
                                 "as the module does"], final=True)
        evaluating = traces[0]
        placeholders = [n for n in evaluating.graph.nodes if n.op == "placeholder"]
        if len(placeholders) != len(call.tensors):
            raise ImportProblem([f"forward takes {len(placeholders)} inputs but {len(call.tensors)} examples were given"])
        if key is not None:
            self.graphs[key] = evaluating.graph
        return evaluating

    def _record(self, level: Level, tensors: tuple) -> Any:
        assert level.traced is not None
        recorder = Recorder(level.traced, lambda sub, target, args, kwargs: self._call(level, sub, target, args, kwargs))
        result = recorder.run(*tensors)
        level.runs.append(recorder)
        return result

    def _call(self, parent: Level, sub: nn.Module, target: str, args: tuple, kwargs: dict) -> Any:
        """A block's call in ``parent``: its traced body runs (and records) in the module's place;
        ITSELF where the module itself runs."""
        if not is_block(sub) or id(sub) in self.inlined:
            return ITSELF
        call = bind(sub, args, kwargs)
        if call is None:
            call = self._joined(sub, args, kwargs)
        if call is None:            # called with something a block cannot take: traced through
            self.found.add(id(sub))
            return ITSELF
        path = f"{parent.path}.{target}" if parent.path else target
        level = self.levels.get(path)
        if level is None and self.run == 0:
            level = self.levels[path] = Level(sub, path, [call])
            self._trace(level)
        elif level is None or len(level.calls) > self.run:      # not its first call in this run
            return ITSELF
        else:
            level.calls.append(call)
        if level.problem is not None:
            return ITSELF
        try:
            return self._record(level, call.tensors)
        except Exception as err:
            level.problem = ImportProblem([f"{path} fails on the example inputs once traced: {first_line(err)}"])
            return ITSELF

    def _joined(self, sub: nn.Module, args: tuple, kwargs: dict) -> Call | None:
        """The call with one tensor, the concatenation along the channels of the one list of
        feature maps ``sub`` was passed, when its result is the same for it; None otherwise. The
        comparison runs once per module, and whatever it changes (BatchNorm's statistics) is put
        back."""
        parts = args[0] if len(args) == 1 and not kwargs and isinstance(args[0], (list, tuple)) else ()
        if not parts or not all(isinstance(t, torch.Tensor) and t.dim() >= 2 for t in parts) \
                or len({(t.dim(), t.shape[0], *t.shape[2:], t.dtype) for t in parts}) != 1:
            return None
        joined = torch.cat(list(parts), 1)
        if id(sub) not in self.listed:
            kept = {k: v.clone() for k, v in sub.state_dict().items()}
            try:
                same = torch.equal(sub(list(parts)), sub([joined]))
            except Exception:       # it does not take a list of one: not such a module
                same = False
            finally:
                sub.load_state_dict(kept)
            if not same:
                return None
            self.listed.add(id(sub))
        return Call((joined,), {})


@contextlib.contextmanager
def _taking_one_list(module: nn.Module) -> Iterator[None]:
    """While a listed block is traced: its class's forward takes one tensor and passes it on to
    the module's own forward as a list of one (fx traces a module through its class's forward)."""
    cls = type(module)
    own = vars(cls).get("forward")      # None: the class inherits its forward
    original = cls.forward

    def forward(self: nn.Module, features: torch.Tensor) -> Any:
        return original(self, [features])

    cls.forward = forward
    try:
        yield
    finally:
        if own is None:
            del cls.forward
        else:
            cls.forward = own

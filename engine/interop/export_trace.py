"""Running ``torch.export`` for the second import tracer, and what its graph holds besides steps.

The module is exported in training mode, so that dropout probabilities and batch statistics are
in the graph as the module trains; evaluation is the same graph with each layer's own mode
switch. The batch axis of every input is left free (a symbol): every size that follows the
batch size is then an expression of it (``{"batch": k}`` where it is k times the batch) and every
other size a number, with no guessing from two runs.

A value computed from no input and no learned weight (position ids, causal masks, rotary
tables) is *free*: it is worked out here, at the examples' batch size and one more, and becomes
a Constant where it is used. One whose size follows the batch size is kept when all its rows
are alike (a mask expanded to the batch: one row and an ``expand``) or when it is the batch
index itself (``arange(batch)``, with which masks pick each sample's row).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
from dataclasses import dataclass, field
from typing import Any

import sympy
import torch
from torch import fx, nn
from torch.export import Dim, ExportedProgram
from torch.export.graph_signature import InputKind
from torch.utils import _pytree as pytree

from ..words import first_line
from .import_values import batch_size, doubled

# Steps that check or constrain sizes, compute nothing, and are left out.
CHECKS = frozenset({"_assert_tensor_metadata", "_assert_scalar", "sym_constrain_range_for_size", "sym_constrain_range",
                    "_assert_async", "_print", "_check_is_size"})
# Operations that read only their tensor arguments' shapes (and dtypes), never their values.
SHAPE_ONLY = frozenset({"ones_like", "zeros_like", "full_like", "empty_like", "new_ones", "new_zeros", "new_full",
                        "new_empty"})


class ExportFailure(ValueError):
    """torch.export could not trace the module; the message says why and where."""


def packet(n: fx.Node) -> str:
    """The ATen operation a step calls, without its overload: ``view``, ``add_``."""
    target = n.target
    return getattr(getattr(target, "overloadpacket", None), "__name__", "") or getattr(target, "__name__", str(target))


def is_check(n: fx.Node) -> bool:
    return n.op == "call_function" and packet(n) in CHECKS


@dataclass
class Traced:
    """The exported graph and what the importer needs to know about its values."""
    program: ExportedProgram
    nodes: list[fx.Node]                      # every step, in order
    batch: sympy.Symbol                       # the batch size
    batch_sizes: tuple[int, int]              # the examples' batch, and one more (for free values)
    inputs: list[fx.Node]                     # the module's own inputs
    parameters: dict[fx.Node, str]            # learned tensors: placeholder -> name in the module
    leaves: dict[fx.Node, torch.Tensor]       # buffers and constants: placeholder -> tensor
    output_names: list[str]
    order: dict[fx.Node, int] = field(default_factory=dict)
    free: set[fx.Node] = field(default_factory=set)
    live: set[fx.Node] = field(default_factory=set)
    _values: dict[int, dict[fx.Node, Any]] = field(default_factory=dict)
    _done: dict[int, int] = field(default_factory=dict)     # batch -> how many steps were looked at

    # ------------------------------------------------------------------ what a value is
    @staticmethod
    def meta(n: fx.Node) -> Any:
        return n.meta.get("val")

    def is_tensor(self, n: Any) -> bool:
        return isinstance(n, fx.Node) and isinstance(self.meta(n), torch.Tensor)

    def is_size(self, n: Any) -> bool:
        """A step whose value is a number (a size read from a shape, or arithmetic on sizes)."""
        return isinstance(n, fx.Node) and isinstance(self.meta(n), (torch.SymInt, torch.SymFloat, torch.SymBool,
                                                                     int, float, bool))

    def size(self, value: Any) -> Any:
        """A size as a graph stores it: a number, or ``{"batch": k}`` for k times the batch size."""
        if isinstance(value, fx.Node):
            value = self.meta(value)
        if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            expr = value.node.expr
            if not expr.free_symbols:
                return _number(expr)
            coefficient, rest = expr.as_coeff_Mul()
            if rest == self.batch and coefficient.is_Integer and int(coefficient) >= 1:
                return {"batch": int(coefficient)}
            raise ValueError(f"the size {expr}, which follows the batch size in a way other than a multiple")
        return value

    def shape(self, n: fx.Node) -> list[Any]:
        """The shape of a tensor step, each size as ``size`` gives it."""
        return [self.size(s) for s in self.meta(n).shape]

    def batch_axis(self, n: fx.Node) -> int | None:
        """Where the batch axis of a tensor step is (None: it has none); ValueError if the batch
        size is merged with another axis (``x.view(-1, d)`` of a batch of sequences)."""
        axes = []
        for i, s in enumerate(self.meta(n).shape):
            if isinstance(s, torch.SymInt) and s.node.expr.free_symbols:
                if s.node.expr != self.batch:
                    raise ValueError(f"its axis {i} is {s.node.expr}: the batch axis merged with another")
                axes.append(i)
        if len(axes) > 1:
            raise ValueError("the batch size is the size of more than one of its axes")
        return axes[0] if axes else None

    def concrete_shape(self, n: fx.Node, batch: int) -> tuple[int, ...]:
        return tuple(_at(s, self.batch, batch) for s in self.meta(n).shape)

    # ------------------------------------------------------------------ free values
    def value(self, n: fx.Node, batch: int) -> Any:
        """The value of a free step when the batch holds ``batch`` samples."""
        values = self._values.setdefault(batch, {})
        done = self._done.get(batch, 0)
        for step in self.nodes[done: self.order[n] + 1]:
            if step in self.free and step in self.live:
                values[step] = self._evaluate(step, values, batch)
        self._done[batch] = max(done, self.order[n] + 1)
        return values[n]

    def _evaluate(self, n: fx.Node, values: dict[fx.Node, Any], batch: int) -> Any:
        if n.op == "placeholder":
            return self.leaves[n]
        shape_only = packet(n) in SHAPE_ONLY

        def resolve(a: Any) -> Any:
            if not isinstance(a, fx.Node):
                return a
            if a in values:
                return values[a]
            if self.is_size(a):
                return _at(self.meta(a), self.batch, batch)
            if shape_only and self.is_tensor(a):      # only its shape is read
                return torch.zeros(self.concrete_shape(a, batch), dtype=self.meta(a).dtype)
            raise KeyError(a.name)

        target: Any = functional(n.target) or n.target
        return target(*fx.node.map_aggregate(n.args, resolve), **fx.node.map_aggregate(n.kwargs, resolve))


def functional(target: Any) -> Any:
    """The out-of-place form of an in-place ATen operation (``add_`` -> ``add``), or None."""
    name = getattr(getattr(target, "overloadpacket", None), "__name__", "")
    if not name.endswith("_") or name.startswith("_"):
        return None
    found = getattr(torch.ops.aten, name[:-1], None)
    return getattr(found, target._overloadname, None) if found is not None else None


def _number(expr: Any) -> Any:
    if expr.is_Integer:
        return int(expr)
    if expr.is_Boolean:
        return bool(expr)
    return float(expr)


def _at(value: Any, symbol: sympy.Symbol, batch: int) -> Any:
    if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        return _number(value.node.expr.subs(symbol, batch))
    return value


@contextlib.contextmanager
def mode(module: nn.Module, training: bool):
    """``module`` in training or evaluation mode for a while, then each of its modules as it was
    (a model may keep some layers evaluating while it trains)."""
    was = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield module
    finally:
        for m, flag in was:     # parents first, so each module's own flag is the one that stays
            m.train(flag)


def trace(module: nn.Module, inputs: tuple, training: bool = True) -> Traced:
    """Export ``module`` at ``inputs``, in training mode unless told."""
    examples = inputs if batch_size(inputs) > 1 else doubled(inputs)   # a batch of 1 would fix the size
    batch = Dim("batch")
    # A refusal is said once, in one line: not also torch's warnings and the partial graph it prints.
    torch_log = logging.getLogger("torch")
    level = torch_log.level
    torch_log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()), mode(module, training):
            program = torch.export.export(module, examples, dynamic_shapes=tuple({0: batch} for _ in examples))
    except Exception as err:
        raise ExportFailure(_export_error(module, err)) from None
    finally:
        torch_log.setLevel(level)
    graph = program.graph_module.graph
    signature = program.graph_signature
    state = program.state_dict
    parameters, leaves, user = {}, {}, []
    specs = {spec.arg.name: spec for spec in signature.input_specs if hasattr(spec.arg, "name")}
    for n in graph.nodes:
        if n.op != "placeholder":
            continue
        spec = specs[n.name]
        if spec.kind == InputKind.PARAMETER:
            parameters[n] = spec.target
        elif spec.kind == InputKind.BUFFER:
            leaves[n] = state[spec.target] if spec.target in state else program.constants[spec.target]
        elif spec.kind in (InputKind.CONSTANT_TENSOR, InputKind.CUSTOM_OBJ):
            leaves[n] = program.constants[spec.target]
        else:
            user.append(n)
    first = Traced.meta(user[0]).shape[0]
    if not isinstance(first, torch.SymInt):
        raise ExportFailure(f"torch.export fixed the batch size of {type(module).__name__}")
    size = batch_size(examples)
    traced = Traced(program, list(graph.nodes), first.node.expr, (size, size + 1), user, parameters, leaves,
                    _output_names(program, len(_outputs(graph))))
    traced.order = {n: i for i, n in enumerate(traced.nodes)}
    traced.free = _free(traced, set(signature.buffers_to_mutate.values()))
    traced.live = _live(traced)
    return traced


def _outputs(graph: fx.Graph) -> list[Any]:
    out = next(n for n in graph.nodes if n.op == "output")
    return list(out.args[0])


def _output_names(program: ExportedProgram, count: int) -> list[str]:
    """Output node names from the module's own result: ``last_hidden_state``, ``logits``; plain
    tuples and tensors give ``output1``, ``output2`` ..."""
    spec = program.call_spec.out_spec
    names = []
    try:
        tree = pytree.tree_unflatten(list(range(count)), spec)
        for path, _ in pytree.tree_flatten_with_path(tree)[0]:
            name = re.sub(r"\W+", "_", pytree.keystr(path)).strip("_")
            names.append(name if name and not name[0].isdigit() else "")
    except Exception:    # a result pytree cannot name: number them
        names = [""] * count
    if len(names) != count or len(set(names)) != count or not all(names):
        names = [f"output{i + 1}" for i in range(count)]
    return names


def _free(traced: Traced, mutated: set[str]) -> set[fx.Node]:
    """Steps computed from no input and no learned weight, and not drawn at random."""
    specs = {spec.arg.name: spec.target for spec in traced.program.graph_signature.input_specs
             if hasattr(spec.arg, "name")}
    changed = {a for n in traced.nodes for a in written(n)}      # updated in place as the module runs
    free = {n for n in traced.leaves if specs.get(n.name) not in mutated and n not in changed}
    for n in traced.nodes:
        if n.op != "call_function" or is_check(n):
            continue
        tags = getattr(n.target, "tags", ())
        if torch.Tag.nondeterministic_seeded in tags:
            continue
        shape_only = packet(n) in SHAPE_ONLY
        tensors = [a for a in n.all_input_nodes if traced.is_tensor(a) or isinstance(traced.meta(a), (list, tuple))]
        if all(a in free or (shape_only and traced.is_tensor(a)) for a in tensors) and (tensors or _makes_tensor(traced, n)):
            free.add(n)
    return free


def written(n: fx.Node) -> list[fx.Node]:
    """The placeholders (inputs, weights, buffers) a step changes in place."""
    schema = getattr(n.target, "_schema", None)
    if n.op != "call_function" or schema is None or not schema.is_mutable:
        return []
    return [a for a, spec in zip(n.args, schema.arguments) if isinstance(a, fx.Node) and a.op == "placeholder"
            and spec.alias_info is not None and spec.alias_info.is_write]


def _makes_tensor(traced: Traced, n: fx.Node) -> bool:
    value = traced.meta(n)
    return isinstance(value, torch.Tensor) or (isinstance(value, (list, tuple))
                                                and any(isinstance(v, torch.Tensor) for v in value))


def _live(traced: Traced) -> set[fx.Node]:
    """The steps the outputs depend on (sizes included); checks and dead ends are left out."""
    live: set[fx.Node] = set()
    stack = [n for n in traced.nodes if n.op == "output"]
    while stack:
        n = stack.pop()
        if n in live:
            continue
        live.add(n)
        stack.extend(n.all_input_nodes)
    return live


_WHERE = re.compile(r'File "([^"]+)", line (\d+), in (\w+)\n\s+(.+)')


def _export_error(module: nn.Module, err: Exception) -> str:
    """torch.export's refusal in one line, with the line of the model's code it stopped at."""
    text = str(err)
    config = getattr(module, "config", None)
    if "Cache" in first_line(err) and getattr(config, "use_cache", False):
        return (f"{type(module).__name__} returns its key/value cache for generation (config.use_cache is True), "
                "which is not part of the network: set model.config.use_cache = False to import it")
    found = [m for m in _WHERE.finditer(text) if "/torch/" not in m.group(1)]
    where = ""
    if found:
        path, line, _, code = found[-1].groups()
        where = f" (at {path.rsplit('/', 1)[-1]}:{line}: {code.strip()[:80]})"
    return f"torch.export cannot trace {type(module).__name__}: {first_line(err)}{where}"


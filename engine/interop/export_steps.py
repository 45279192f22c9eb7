"""One step of an exported module as a node: a layer where it reads as one (``a + b`` of two
batches is an Add, ``F.dropout`` while training a Dropout layer), else a whitelisted Function
(``export_ops``); a few steps are written as what they compute on the batch (GPT-2's rows
multiplied by a matrix, attention with dropout, a mask picking each sample's row)."""

from __future__ import annotations

import math
import operator
from typing import Any

import torch
from torch import fx

from graphs import Edge
from graphs.edits import Connect

from .export_ops import CONVERSIONS, PASS_THROUGH, Call, call_of, keyword_values, schema_args, unusual
from .export_trace import functional, packet
from .export_values import BatchIndex, Index, Scope, ValueBuilder, Wire, stem
from .import_maps import Downstream, Refuse, need

_ACTIVATIONS = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU", "tanh": "Tanh", "sigmoid": "Sigmoid",
                "hardswish": "Hardswish", "hardsigmoid": "Hardsigmoid", "mish": "Mish", "elu": "ELU",
                "leaky_relu": "LeakyReLU", "softmax": "Softmax", "log_softmax": "LogSoftmax"}


class StepLowering(ValueBuilder):
    """Each step of the exported program as the node that computes it."""

    def _step(self, scope: Scope, n: fx.Node) -> None:
        if any(a in self.refused for a in n.all_input_nodes):
            raise Downstream()
        if n.target is operator.getitem:
            source, index = n.args
            need(isinstance(source, fx.Node) and source in scope.ports and isinstance(index, int),
                 f"takes part {index} of {source}, which is not a list of results")
            scope.values[n] = Wire(scope.ports[source], f"out{index + 1}")  # type: ignore[index,operator]
            return
        name = packet(n)
        target = n.target
        if functional(target) is not None:
            self._in_place(n)
            target = functional(target)
            name = name[:-1]
        if name in PASS_THROUGH:
            scope.values[n] = self._ref(scope, n.all_input_nodes[0])
            return
        a = schema_args(target, n)
        special = getattr(self, f"_aten_{name}", None)      # True: it wrote the step; False: the call below does
        if special is not None and special(scope, n, a):
            return
        if name in _ACTIVATIONS and self._activation(scope, n, name, a):
            return
        call = call_of(target)
        if call is None:
            raise Refuse(f"no NetLoom layer or operation for the ATen operation {target}")
        self._call_function(scope, n, target, call, a)

    def _in_place(self, n: fx.Node) -> None:
        """``x.add_(y)`` is ``x + y`` when nothing reads x afterwards; a graph has no memory to change."""
        changed = n.args[0]
        need(isinstance(changed, fx.Node) and changed.op != "placeholder",
             f"changes an input or a weight in place ({packet(n)})")
        assert isinstance(changed, fx.Node)
        later = [u for u in changed.users if u is not n and self.traced.order[u] > self.traced.order[n]
                 and u in self.traced.live]
        need(not later, f"changes {changed.name} in place ({packet(n)}) and reads it again afterwards")

    def _call_function(self, scope: Scope, n: fx.Node, target: Any, call: Call, a: dict[str, Any]) -> None:
        odd = unusual(target, call, a)
        need(odd is None, f"calls {target} with {odd}, which {call.op} does not take")
        self._function(scope, call.op, [a[k] for k in call.args], keyword_values(target, call, a), stem(n), n)

    # ------------------------------------------------------------------ steps that read as layers
    def _activation(self, scope: Scope, n: fx.Node, name: str, a: dict[str, Any]) -> bool:
        source = a["self"]
        if self._axis(source) != 0 or source in self.traced.free:
            return False
        params: dict[str, Any] = {}
        if name in ("softmax", "log_softmax"):
            if a.get("dtype") is not None:
                return False
            params["dim"] = a["dim"]
        elif name == "gelu":
            params["approximate"] = a["approximate"]
        elif name == "leaky_relu":
            params["negative_slope"] = float(a["negative_slope"])
        elif name == "elu":
            if a["scale"] != 1 or a["input_scale"] != 1:
                return False
            params["alpha"] = float(a["alpha"])
        self._node(scope, _ACTIVATIONS[name], params, [source], stem(n), n)
        return True

    def _merge(self, scope: Scope, n: fx.Node, a: dict[str, Any], type_name: str) -> bool:
        """``a + b`` of two tensors of one shape, batch first: an Add (chained: a + b + c is one)."""
        x, y = a["self"], a["other"]
        if not (self.traced.is_tensor(x) and self.traced.is_tensor(y)) or a.get("alpha", 1) != 1 \
                or x in self.traced.free or y in self.traced.free or self._axis(x) != 0 or self._axis(y) != 0 \
                or self.traced.meta(x).shape != self.traced.meta(y).shape or not self.traced.meta(x).is_floating_point() \
                or not self.traced.meta(y).is_floating_point():
            return False
        first = scope.values.get(x)
        if first is not None and scope.graph.nodes[first.node].type == type_name and len(x.users) == 1:
            wire = self._ref(scope, y)
            scope.graph.apply(Connect(Edge(wire.node, first.node, wire.port, "in")))
            scope.values[n] = first
            return True
        self._node(scope, type_name, {}, [x, y], stem(n), n)
        return True

    def _aten_add(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        return self._merge(scope, n, a, "Add")

    def _aten_mul(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        return self._merge(scope, n, a, "Multiply")

    def _aten_rsub(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        need(a["alpha"] == 1, f"rsub with alpha={a['alpha']}")
        self._function(scope, "sub", [a["other"], a["self"]], {}, stem(n), n)
        return True

    def _aten_div(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        mode = a.get("rounding_mode")
        if mode is None:
            return False
        need(mode == "floor", f"division rounding {mode!r} (only floor)")
        self._function(scope, "floordiv", [a["self"], a["other"]], {}, stem(n), n)
        return True

    def _aten_dropout(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        """Dropout that is on while training: a Dropout layer, which follows the graph's mode."""
        source = a["input"]
        if not a["train"] or a["p"] == 0:
            scope.values[n] = self._ref(scope, source)
            return True
        need(self._axis(source) == 0, "dropout on a tensor whose batch axis is not first")
        self._node(scope, "Dropout", {"p": float(a["p"])}, [source], stem(n), n)
        return True

    def _aten_embedding(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        need(not a["scale_grad_by_freq"] and not a["sparse"], "an embedding with scale_grad_by_freq or sparse")
        padding = a["padding_idx"] if a["padding_idx"] != -1 else None
        self._function(scope, "embedding", [a["indices"], a["weight"]], {"padding_idx": padding} if padding else {},
                       stem(n), n)
        return True

    def _aten_einsum(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        self._function(scope, "einsum", [a["equation"], *a["tensors"]], {}, stem(n), n)
        return True

    def _aten_to(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        self._convert(scope, n, a["self"])
        return True

    def _aten__to_copy(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        self._convert(scope, n, a["self"])
        return True

    def _aten_type_as(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        self._convert(scope, n, a["self"])
        return True

    def _convert(self, scope: Scope, n: fx.Node, source: fx.Node) -> None:
        """A change of type; none when the type stays (``x.to(x.device)``)."""
        have, want = self.traced.meta(source).dtype, self.traced.meta(n).dtype
        if have == want:
            scope.values[n] = self._ref(scope, source)
            return
        need(want in CONVERSIONS, f"converts to {want} (float32, int64, int32 or bool)")
        self._function(scope, CONVERSIONS[want], [source], {}, stem(n), n)

    def _reshape(self, scope: Scope, n: fx.Node, source: fx.Node, sizes: list[Any]) -> bool:
        """A reshape that keeps the batch axis first is a Reshape (or Flatten); one that merges it
        with the next axes, to multiply rows by a matrix (GPT-2's Conv1D), is kept apart."""
        if source in scope.rows:
            wire, shape = scope.rows[source]
            if self._axis(n) != 0 or self.traced.shape(n) != shape:
                return False
            scope.values[n] = wire
            return True
        if self._axis(source) != 0:
            return False
        if self._axis(n) == "merged":
            if len(self.traced.meta(n).shape) != 2:
                return False
            scope.rows[n] = (self._ref(scope, source), self.traced.shape(source))
            return True
        literal = [self.traced.size(s) for s in sizes]
        if self._axis(n) != 0 or literal[0] not in ({"batch": 1}, -1) or not all(isinstance(s, int) for s in literal[1:]):
            return False
        if self.traced.shape(n) == self.traced.shape(source):     # the shape it had
            scope.values[n] = self._ref(scope, source)
        elif literal[1:] == [-1]:
            self._node(scope, "Flatten", {"start_dim": 1, "end_dim": -1}, [source], stem(n), n)
        else:
            shape = [int(s) for s in self.traced.meta(n).shape[1:]]
            self._node(scope, "Reshape", {"shape": shape}, [source], stem(n), n)
        return True

    def _aten_view(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        return self._reshape(scope, n, a["self"], a["size"])

    def _aten_reshape(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        return self._reshape(scope, n, a["self"], a["shape"])

    def _aten__unsafe_view(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        return self._reshape(scope, n, a["self"], a["size"])

    def _aten_addmm(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        """bias + rows @ W on rows of a batch: the same as x @ W + bias on the batch itself."""
        rows = a["mat1"]
        need(rows in scope.rows, "addmm (a matrix product of two 2-D tensors) on a tensor with the batch axis")
        need(a["beta"] == 1 and a["alpha"] == 1, "addmm with beta or alpha other than 1")
        wire, shape = scope.rows[rows]
        product = self._function(scope, "matmul", [wire, a["mat2"]], {}, f"{stem(n)}_matmul")
        scope.rows[n] = (self._function(scope, "add", [product, a["self"]], {}, stem(n)), [*shape[:-1], self.traced.size(
            self.traced.meta(n).shape[-1])])
        return True

    def _aten_mm(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        rows = a["self"]
        if rows not in scope.rows:
            return False
        wire, shape = scope.rows[rows]
        scope.rows[n] = (self._function(scope, "matmul", [wire, a["mat2"]], {}, stem(n)), [*shape[:-1], self.traced.size(
            self.traced.meta(n).shape[-1])])
        return True

    def _aten_transpose(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        rank = self.traced.meta(n).dim()
        dims = list(range(rank))
        i, j = a["dim0"] % rank, a["dim1"] % rank
        dims[i], dims[j] = dims[j], dims[i]
        return self._permute(scope, n, a["self"], dims)

    def _aten_permute(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        rank = self.traced.meta(n).dim()
        return self._permute(scope, n, a["self"], [d % rank for d in a["dims"]])

    def _permute(self, scope: Scope, n: fx.Node, source: fx.Node, dims: list[int]) -> bool:
        if self._axis(source) != 0 or dims[0] != 0 or source in self.traced.free:
            return False
        self._node(scope, "Permute", {"dims": [d - 1 for d in dims[1:]]}, [source], stem(n), n)
        return True

    def _aten_flatten(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        if self._axis(a["self"]) != 0 or a["start_dim"] < 1 or a["self"] in self.traced.free:
            return False
        self._node(scope, "Flatten", {"start_dim": a["start_dim"], "end_dim": a["end_dim"]}, [a["self"]], stem(n), n)
        return True

    def _aten_cat(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        parts, dim = a["tensors"], a["dim"]
        rank = self.traced.meta(n).dim()
        if dim % rank == 0 or any(self._axis(p) != 0 or p in self.traced.free for p in parts):
            return False
        self._node(scope, "Concat", {"dim": dim}, list(parts), stem(n), n)
        return True

    def _aten_slice(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        """``x[:, start:end]`` as the index it was written as; ``x[:]`` is x."""
        end = a["end"]
        end = None if isinstance(end, int) and end >= 2**62 else end
        if a["start"] in (0, None) and end is None and a["step"] == 1:
            scope.values[n] = self._ref(scope, a["self"])
            return True
        index: list[Any] = [slice(None)] * a["dim"] + [slice(a["start"], end, a["step"] if a["step"] != 1 else None)]
        self._function(scope, "getitem", [a["self"], Index(index)], {}, stem(n), n)
        return True

    def _aten_index(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        """``x[i, j]`` with index tensors; a mask's ``x[arange(batch)[:, None], j]`` (each sample its
        own row) is ``x[:, j[0]]``."""
        indices = list(a["indices"])
        first = indices[0] if indices else None
        if first is not None and first in self.traced.free and \
                isinstance(self._constant(scope, first), BatchIndex):
            need(self._axis(a["self"]) == 0 and all(i is not None for i in indices),
                 "indexes a batch with the batch index other than as each sample's own row")
            rest: list[Any] = [slice(None)]
            for i in indices[1:]:
                value = self.traced.value(i, self.traced.batch_sizes[0]) if i in self.traced.free else None
                need(value is not None and self._axis(i) is None and value.shape[0] == 1,
                     "indexes each sample's row with an index that is not a constant")
                assert value is not None
                rest.append(self._constant_node(scope, value[0], i))
            self._function(scope, "getitem", [a["self"], Index(rest)], {}, stem(n), n)
            return True
        index = [slice(None) if i is None else i for i in indices]
        self._function(scope, "getitem", [a["self"], Index(index)], {}, stem(n), n)
        return True

    def _aten_scaled_dot_product_attention(self, scope: Scope, n: fx.Node, a: dict[str, Any]) -> bool:
        """Attention with dropout is written out, softmax(q kᵀ · scale + mask), a Dropout layer
        and the product with v, as torch computes it: the Dropout follows the graph's mode."""
        p = a["dropout_p"]
        if not p:
            return False
        need(not a["enable_gqa"], "grouped-query attention with dropout")
        q, k, v, mask = a["query"], a["key"], a["value"], a["attn_mask"]
        scale = a["scale"] if a["scale"] is not None else 1.0 / math.sqrt(self.traced.meta(q).shape[-1])
        name = "attention"
        keys = self._function(scope, "transpose", [k, -2, -1], {}, f"{name}_keys")
        weights = self._function(scope, "mul", [self._function(scope, "matmul", [q, keys], {}, f"{name}_scores"),
                                                scale], {}, f"{name}_scaled")
        minus_infinity = None
        if a["is_causal"] or mask is not None:
            minus_infinity = self._constant_node(scope, torch.tensor([-math.inf]), n, "minus_infinity")
        if a["is_causal"]:
            rows, columns = self.traced.meta(q).shape[-2], self.traced.meta(k).shape[-2]
            causal = self._constant_node(scope, torch.ones(rows, columns, dtype=torch.bool).tril(), n, "causal")
            weights = self._function(scope, "where", [causal, weights, minus_infinity], {}, f"{name}_causal")
        if mask is not None and self.traced.meta(mask).dtype == torch.bool:
            weights = self._function(scope, "where", [mask, weights, minus_infinity], {}, f"{name}_masked")
        elif mask is not None:
            weights = self._function(scope, "add", [weights, mask], {}, f"{name}_masked")
        soft = self._function(scope, "softmax", [weights, -1], {}, f"{name}_softmax")
        if minus_infinity is not None:       # a row with every key masked attends to nothing, as in torch
            empty = self._function(scope, "eq", [self._function(scope, "amax", [weights, -1, True], {},
                                                                f"{name}_largest"), minus_infinity], {}, f"{name}_empty")
            soft = self._function(scope, "masked_fill", [soft, empty, 0.0], {}, f"{name}_attention")
        dropped = self._node(scope, "Dropout", {"p": float(p)}, [soft], f"{name}_dropout")
        self._function(scope, "matmul", [Wire(dropped), v], {}, name, n)
        return True



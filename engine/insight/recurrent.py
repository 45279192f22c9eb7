"""A recurrent layer seen from inside: the sequence unrolled step by step, with the hidden state
and, for LSTM and GRU, every gate, computed from the layer's own weights with PyTorch's
documented equations; and how large the loss's gradient is at each step's hidden state
(back-propagation through time).

The equations (``torch.nn.RNN``, ``LSTM``, ``GRU``; W_i* act on the step's input x, W_h* on
the previous hidden state h, each with its bias):

- RNN:  h = tanh(W_ih x + W_hh h)   (or relu)
- LSTM: i = sigmoid(W_ii x + W_hi h), f = sigmoid(W_if x + W_hf h), g = tanh(W_ig x + W_hg h),
  o = sigmoid(W_io x + W_ho h); c = f * c + i * g; h = o * tanh(c)
- GRU:  r = sigmoid(W_ir x + W_hr h), z = sigmoid(W_iz x + W_hz h),
  n = tanh(W_in x + r * (W_hn h + b_hn)); h = (1 - z) * n + z * h

Stacked layers read the layer below's hidden states; a bidirectional layer's second direction
reads the sequence from its end, and its states are kept at the position they belong to (as
the layer's own output has them). The unrolled pass runs in evaluation mode (no dropout
between stacked layers) and is compared with the layer's own output.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from .layer_values import InsightError, module_of

RECURRENT_TYPES = ("RNN", "LSTM", "GRU")
GATES = {"RNN": (), "LSTM": ("input", "forget", "cell", "output"), "GRU": ("reset", "update", "new")}
MAX_STEP_VALUES = 1_000_000      # values an unrolled view holds (4 MB): a longer sequence is shown by its first steps


@dataclass(frozen=True)
class UnrolledSteps:
    """One sample's pass through a recurrent layer, step by step."""
    layer: str                                    # node id
    kind: str                                     # "RNN", "LSTM" or "GRU"
    step_inputs: np.ndarray = field(repr=False)   # steps x features: what the layer reads at each step
    tokens: np.ndarray | None = field(repr=False)  # steps: the model's input tokens, when it reads token ids
    hidden: np.ndarray = field(repr=False)        # layers x directions x steps x hidden: h after each step
    cell: np.ndarray | None = field(repr=False)   # LSTM's cell state c, shaped like hidden; None otherwise
    gate_names: tuple[str, ...] = ()              # GATES[kind]
    gates: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))  # gates x layers x directions x steps x hidden
    total_steps: int = 0                          # the sample's length (more than shown when cut to MAX_STEP_VALUES)
    deviation: float = 0.0                        # largest |unrolled h - the layer's own output| over the shown steps


@dataclass(frozen=True)
class StepGradients:
    """|dL/dh_t| of one sample for each step t: the whole gradient reaching that hidden state,
    through the outputs of that step and of every later step."""
    layer: str
    norms: np.ndarray = field(repr=False)         # layers x directions x steps
    loss: float = 0.0
    truncate: int = 0                             # steps a gradient may travel back (0: the whole sequence)


@dataclass
class _Pass:
    """A recurrent module's computation, step by step, as tensors (with autograd when enabled)."""
    output: Any                                   # what the module itself returns
    hidden: list[list[list[torch.Tensor]]]        # [layer][direction][step] -> batch x hidden
    cell: list[list[list[torch.Tensor]]]          # LSTM only
    gates: list[list[list[tuple[torch.Tensor, ...]]]]


def recurrent_kind(module: nn.Module) -> str | None:
    """"RNN", "LSTM" or "GRU" for torch's own recurrent layers, else None."""
    for kind in RECURRENT_TYPES:
        if type(module) is getattr(nn, kind):
            return kind
    return None


def _recurrent_module(model: fx.GraphModule, layer: str) -> tuple[nn.RNNBase, str]:
    module = module_of(model, layer)
    kind = recurrent_kind(module)
    if kind is None:
        raise InsightError(f"{layer} is not an RNN, LSTM or GRU layer")
    assert isinstance(module, nn.RNNBase)
    if getattr(module, "proj_size", 0):
        raise InsightError(f"{layer}: an LSTM with projections (proj_size) is not unrolled here")
    return module, kind


def run_steps(module: nn.RNNBase, x: torch.Tensor, truncate: int = 0, track: bool = False) -> _Pass:
    """``module``'s forward on ``x`` (batch x steps x features when batch first), one step at a
    time from its weights. ``truncate``: the state carried into every ``truncate``-th step is
    detached, so no gradient travels back past it. ``track``: the initial state asks for
    gradients, so every hidden state has a gradient even where the weights do not."""
    kind = recurrent_kind(module)
    if kind is None:
        raise InsightError(f"{type(module).__name__} is not a recurrent layer")
    if x.dim() != 3:
        raise InsightError(f"a recurrent layer reads batches of sequences, not a tensor of {x.dim()} axes")
    if not module.batch_first:
        x = x.transpose(0, 1)
    batch, steps = x.shape[:2]
    directions = 2 if module.bidirectional else 1
    size = module.hidden_size
    hidden: list[list[list[torch.Tensor]]] = []
    cells: list[list[list[torch.Tensor]]] = []
    gates: list[list[list[tuple[torch.Tensor, ...]]]] = []
    finals_h: list[torch.Tensor] = []
    finals_c: list[torch.Tensor] = []
    layer_input = x
    for layer in range(module.num_layers):
        for found in (hidden, cells, gates):
            found.append([])
        for direction in range(directions):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            w_ih, w_hh = getattr(module, "weight_ih" + suffix), getattr(module, "weight_hh" + suffix)
            b_ih = getattr(module, "bias_ih" + suffix) if module.bias else None
            b_hh = getattr(module, "bias_hh" + suffix) if module.bias else None
            from_input = nn.functional.linear(layer_input, w_ih, b_ih)     # every step's W_ih x at once
            h = torch.zeros(batch, size, dtype=x.dtype, device=x.device, requires_grad=track)
            c = torch.zeros_like(h) if kind == "LSTM" else None
            hs: list[Any] = [None] * steps
            cs: list[Any] = [None] * steps
            gs: list[Any] = [None] * steps
            order = range(steps) if direction == 0 else range(steps - 1, -1, -1)
            for n, t in enumerate(order):
                if truncate and n and n % truncate == 0:
                    h = h.detach()
                    c = c.detach() if c is not None else None
                h, c, gs[t] = _cell(kind, module, from_input[:, t], h, c, w_hh, b_hh)
                hs[t], cs[t] = h, c
            hidden[-1].append(hs)
            cells[-1].append(cs)
            gates[-1].append(gs)
            finals_h.append(h)
            if c is not None:
                finals_c.append(c)
        layer_input = torch.cat([torch.stack(hs, dim=1) for hs in hidden[-1]], dim=2)
    sequence = layer_input if module.batch_first else layer_input.transpose(0, 1)
    h_n = torch.stack(finals_h)
    output = (sequence, (h_n, torch.stack(finals_c))) if kind == "LSTM" else (sequence, h_n)
    return _Pass(output, hidden, cells if kind == "LSTM" else [], gates)


def _cell(kind: str, module: nn.RNNBase, from_input: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None,
          w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None, tuple]:
    """One step: the new hidden (and cell) state and the gates, from W_ih x (given) and h."""
    from_hidden = nn.functional.linear(h, w_hh, b_hh)
    if kind == "RNN":
        act = torch.tanh if getattr(module, "nonlinearity", "tanh") == "tanh" else torch.relu
        return act(from_input + from_hidden), None, ()
    if kind == "LSTM":
        i, f, g, o = (from_input + from_hidden).chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        assert c is not None
        c = f * c + i * g
        return o * torch.tanh(c), c, (i, f, g, o)
    x_r, x_z, x_n = from_input.chunk(3, dim=1)
    h_r, h_z, h_n = from_hidden.chunk(3, dim=1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h, None, (r, z, n)


def _stacked(per_step: list[list[list[Any]]], steps: int) -> np.ndarray:
    """[layer][direction][step] tensors of batch x hidden -> layers x directions x steps x hidden
    (the first sample, the first ``steps`` steps)."""
    return torch.stack([torch.stack([torch.stack([v[0] for v in d[:steps]]) for d in layer]) for layer in per_step]
                       ).detach().float().cpu().numpy()


def _layer_call(model: fx.GraphModule, module: nn.Module, inputs: tuple[torch.Tensor, ...],
                hook: Callable | None = None) -> tuple[torch.Tensor, Any, Any]:
    """Run the model on ``inputs``; the recurrent module's input, its output, and the model's
    output. ``hook(module, args, output)`` may replace the module's output on the way."""
    seen: dict[str, Any] = {}

    def catch(mod, args, output):
        seen["input"] = args[0]
        replaced = hook(mod, args, output) if hook is not None else None
        seen["output"] = output if replaced is None else replaced
        return replaced
    handle = module.register_forward_hook(catch)
    try:
        result = model(*inputs)
    finally:
        handle.remove()
    if "input" not in seen:
        raise InsightError("the layer is not used when the model runs")
    return seen["input"], seen["output"], result


def unroll(model: fx.GraphModule, layer: str, *inputs: torch.Tensor) -> UnrolledSteps:
    """The first sample of ``inputs`` through recurrent ``layer``, step by step."""
    module, kind = _recurrent_module(model, layer)
    sample = tuple(x[:1] for x in inputs)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x, own, _ = _layer_call(model, module, sample)
            steps = run_steps(module, x)
    finally:
        model.train(was_training)
    total = x.shape[1] if module.batch_first else x.shape[0]
    directions = 2 if module.bidirectional else 1
    states = 1 + len(GATES[kind]) + (1 if kind == "LSTM" else 0)      # hidden, each gate, the LSTM's cell
    per_step = module.num_layers * directions * module.hidden_size * states + x.shape[-1]
    shown = max(1, min(total, MAX_STEP_VALUES // per_step))
    sequence = own[0] if module.batch_first else own[0].transpose(0, 1)
    mine = steps.output[0] if module.batch_first else steps.output[0].transpose(0, 1)
    deviation = float((sequence[:, :shown] - mine[:, :shown]).abs().max())
    step_inputs = (x if module.batch_first else x.transpose(0, 1))[0, :shown]
    tokens = None
    if len(inputs) == 1 and not inputs[0].is_floating_point() and tuple(inputs[0].shape[1:]) == (total,):
        tokens = inputs[0][0, :shown].cpu().numpy()
    gates = np.zeros((0,))
    if GATES[kind]:
        gates = np.stack([_stacked([[[g[k] for g in d] for d in layer] for layer in steps.gates], shown)
                          for k in range(len(GATES[kind]))])
    return UnrolledSteps(layer, kind, step_inputs.detach().float().cpu().numpy(), tokens,
                         _stacked(steps.hidden, shown), _stacked(steps.cell, shown) if steps.cell else None,
                         GATES[kind], gates, int(total), deviation)


def step_gradients(model: fx.GraphModule, layer: str, objective: Callable[[Any], torch.Tensor],
                   *inputs: torch.Tensor, truncate: int = 0) -> StepGradients:
    """|dL/dh_t| at every step of recurrent ``layer`` for the first sample of ``inputs``, where
    L = ``objective(model output)``. The layer's output is replaced by the step-by-step pass (same
    values) so that each step's state is a tensor of its own; weights' ``.grad`` are left alone.
    ``truncate``: as truncated back-propagation through time cuts the gradient."""
    module, _ = _recurrent_module(model, layer)
    sample = tuple(x[:1] for x in inputs)
    kept: dict[str, _Pass] = {}

    def replace(mod, args, output):
        kept["pass"] = run_steps(mod, args[0], truncate=truncate, track=True)
        return kept["pass"].output
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            _, _, result = _layer_call(model, module, sample, replace)
            loss = objective(result)
            states = [h for layer_states in kept["pass"].hidden for d in layer_states for h in d]
            grads = torch.autograd.grad(loss, states, allow_unused=True)
    finally:
        model.train(was_training)
    norms = torch.stack([g[0].norm() if g is not None else torch.zeros((), device=loss.device) for g in grads])
    hidden = kept["pass"].hidden
    shape = (len(hidden), len(hidden[0]), len(hidden[0][0]))
    return StepGradients(layer, norms.reshape(shape).detach().float().cpu().numpy(), float(loss.detach()), truncate)

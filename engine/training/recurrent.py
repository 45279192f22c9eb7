"""Training settings for recurrent layers: truncated back-propagation through time
(``truncate_bptt``) and the LSTM forget gate's starting bias (``lstm_forget_bias``).

With ``truncate_bptt: k``, every RNN, LSTM and GRU layer of the graph reads its sequence in
pieces of k steps while training: the state at the end of one piece starts the next, so every
value the layer computes is exactly what it computes in one go, but that state is detached, so
a gradient travels back at most to the start of its piece (at most k - 1 steps). The weights are
still updated once per batch, from the gradients of every piece. In a graph of several
recurrent layers each is cut at the same steps (0, k, 2k ...), so a gradient cannot cross a cut
through the layers above or below either. Validation, probes and prediction read whole sequences
(the model is in evaluation mode there). A layer that also reads the sequence backwards cannot
be cut this way (its backward state would have to come from the piece after), so it is refused
by name.

With ``lstm_forget_bias: b``, b is added to every LSTM layer's forget-gate bias before training
(Gers et al. 2000; Jozefowicz et al. 2015; Keras starts it at 1). PyTorch starts it near 0, so
the forget gate is about sigmoid(0) = 0.5 and a cell keeps half of what it holds from one step
to the next: over 50 steps its gradient shrinks as 0.5^50, like a plain RNN's. With b = 1, 2 or 3
the gate starts at 0.73, 0.88 or 0.95, and the gradient reaches much further back.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import nn

from ..compiling import node_ids
from .config import ConfigError


def recurrent_layers(model: nn.Module, kind: type[nn.RNNBase] = nn.RNNBase) -> list[tuple[str, nn.RNNBase]]:
    """Every recurrent module of ``model`` (of ``kind``), named by node id, then the path inside a block."""
    ids = node_ids(model)
    found = []
    for name, module in model.named_modules():
        if isinstance(module, kind):
            top, _, rest = name.partition(".")
            found.append((ids.get(top, top) + (f".{rest}" if rest else ""), module))
    return found


def open_forget_gates(model: nn.Module, bias: float) -> list[str]:
    """Add ``bias`` to the forget-gate bias of every LSTM layer of ``model`` (every stacked layer
    and direction); the layers' names. ConfigError for a graph without an LSTM with biases."""
    layers = recurrent_layers(model, nn.LSTM)
    if not layers:
        raise ConfigError("training.lstm_forget_bias: the graph has no LSTM layer; set it to 0")
    with torch.no_grad():
        for label, module in layers:
            if not module.bias:
                raise ConfigError(f"training.lstm_forget_bias: {label} has no biases (bias is off); set "
                                  "lstm_forget_bias to 0 or turn the layer's bias on")
            size = module.hidden_size
            for name, value in module.named_parameters():
                if name.startswith("bias_ih"):       # the gates' rows are input, forget, cell, output
                    value[size: 2 * size] += bias
    return [label for label, _ in layers]


def truncate_recurrent(model: nn.Module, steps: int) -> list[str]:
    """Make every recurrent layer of ``model`` read its sequence in pieces of ``steps`` while it
    trains; the layers' names. ConfigError for a graph without one, or with one that reads both
    ways."""
    found = []
    for label, module in recurrent_layers(model):
        if module.bidirectional:
            raise ConfigError(f"training.truncate_bptt: {label} is bidirectional; its backward direction reads the "
                              "sequence from the end, so it cannot be cut into pieces from the start. Set "
                              "truncate_bptt to 0 or make the layer read one way")
        # An instance attribute: the compiled forward calls the module as before, and its
        # weights, state-dict names and checkpoints stay those of the plain layer.
        module.forward = functools.partial(_truncated_forward, module, type(module).forward, steps)
        found.append(label)
    if not found:
        raise ConfigError("training.truncate_bptt: the graph has no RNN, LSTM or GRU layer to truncate; set it to 0")
    return found


def _truncated_forward(module: nn.RNNBase, forward, steps: int, input: torch.Tensor, hx: Any = None) -> Any:
    axis = 1 if module.batch_first else 0
    if not module.training or input.dim() != 3 or input.shape[axis] <= steps:
        return forward(module, input, hx)
    outputs, state = [], hx
    for i, piece in enumerate(input.split(steps, dim=axis)):
        if i:
            state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
        out, state = forward(module, piece, state)
        outputs.append(out)
    return torch.cat(outputs, dim=axis), state

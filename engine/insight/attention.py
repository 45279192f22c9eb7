"""Attention weights per head, for MultiheadAttention and TransformerEncoderLayer nodes.

NetLoom's layers call attention with ``need_weights=False`` (the fast kernels); to see the
weights, each attention module's call is caught on the way in and made again asking for the
weights of every head. Grad stays enabled during the pass: that keeps PyTorch's fused
encoder-layer kernel, which never calls its attention module, out of the way."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import fx, nn

from ..compiling import node_ids


@dataclass(frozen=True)
class AttentionWeights:
    layer: str                                   # node id (".self_attn" etc. for attention inside a block)
    weights: np.ndarray = field(repr=False)      # heads x queries x keys; each row sums to 1


def attention_modules(model: nn.Module) -> list[tuple[str, nn.MultiheadAttention]]:
    """Every attention module with the name a person knows it by: its node's id, then the path
    inside the node (an encoder layer's ``self_attn``)."""
    ids = node_ids(model)
    found = []
    for name, module in model.named_modules():
        if isinstance(module, nn.MultiheadAttention):
            top, _, rest = name.partition(".")
            label = ids.get(top, top)
            if rest and rest != "self_attn":
                label += "." + rest
            found.append((label, module))
    return found


def attention_weights(model: fx.GraphModule, *inputs: torch.Tensor) -> list[AttentionWeights]:
    """The attention of the first sample of ``inputs`` in every attention module, in call order."""
    modules = attention_modules(model)
    if not modules:
        return []
    calls: list[tuple[str, nn.MultiheadAttention, tuple, dict]] = []
    handles = []
    for label, module in modules:
        def catch(mod, args, kwargs, label=label):
            calls.append((label, mod, args, kwargs))
        handles.append(module.register_forward_pre_hook(catch, with_kwargs=True))
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            model(*(x[:1] for x in inputs))
        for handle in handles:          # the calls below must not be caught again
            handle.remove()
        found = []
        with torch.no_grad():
            for label, module, args, kwargs in calls:
                asked = {**kwargs, "need_weights": True, "average_attn_weights": False}
                _, weights = module(*(a.detach() if isinstance(a, torch.Tensor) else a for a in args), **asked)
                found.append(AttentionWeights(label, weights[0].float().cpu().numpy()))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return found

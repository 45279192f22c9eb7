"""Whether an imported graph trains as the module it came from: one training step compared.

With the random numbers pinned (the same seed before each forward, so dropout draws the same
masks), in training mode: the same outputs, the same buffers afterwards (running statistics),
and after one backward of the same loss the same gradient for every learned tensor. Learned
tensors are paired by name: the import keeps the module's names, with dots between a block use
and its layers and underscores where a name was a path (``layer.0`` is the use ``layer_0``).
"""

from __future__ import annotations

import re

import torch
from torch.utils import _pytree as pytree

from engine import compile_graph


def _plain(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _tensors(result) -> list[torch.Tensor]:
    return [t for t in pytree.tree_leaves(result) if isinstance(t, torch.Tensor)]


def assert_trains_alike(module, graph, state, inputs: tuple, tolerance: float = 1e-5, seed: int = 0) -> None:
    compiled = compile_graph(graph)
    compiled.load_state_dict(state)
    learned = dict(compiled.named_parameters())
    originals = {_plain(name): p for name, p in module.named_parameters(remove_duplicate=False)}
    pairs = {name: originals[_plain(name)] for name in learned}         # KeyError: a tensor the module has not
    trainable = {id(p) for p in module.parameters() if p.requires_grad}
    assert {id(p) for p in pairs.values()} == trainable, "every learned tensor of the module, once"
    before = {_plain(name): b.clone() for name, b in module.named_buffers()}
    was_training = module.training
    results = []
    try:
        for model in (module, compiled):
            model.train()
            model.zero_grad()
            torch.manual_seed(seed)
            outputs = _tensors(model(*inputs))
            torch.manual_seed(seed + 1)
            loss = sum((o * torch.randn(o.shape)).sum() for o in outputs if o.is_floating_point())
            loss.backward()
            results.append(outputs)
    finally:
        module.train(was_training)
    expected, got = results
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        assert e.shape == g.shape and torch.allclose(e.detach(), g.detach(), atol=tolerance, rtol=tolerance)
    buffers = {_plain(name): b for name, b in compiled.named_buffers()}
    for name, b in module.named_buffers():
        if not torch.equal(b, before[_plain(name)]):      # the module updated it while training
            assert torch.allclose(buffers[_plain(name)].to(b.dtype), b, atol=tolerance), name
    for name, p in learned.items():
        original = pairs[name]
        assert p.grad is not None and original.grad is not None, name
        assert torch.allclose(p.grad, original.grad, atol=tolerance, rtol=tolerance), name

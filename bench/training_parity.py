"""Whether an imported graph trains as the module it came from: one training step compared.

With the random numbers pinned (the same seed before each forward, so dropout draws the same
masks), in training mode: the same outputs, the same buffers afterwards (running statistics),
and after one backward of the same loss the same gradient for every learned tensor. Learned
tensors are paired by name: the import keeps the module's names, with dots between a block use
and its layers and underscores where a name was a path (``layer.0`` is the use ``layer_0``).
Used by the import benchmarks and by the tests.
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


def _far(a: torch.Tensor, b: torch.Tensor, tolerance: float) -> float | None:
    """How far apart two tensors are, or None where they agree within ``tolerance``."""
    if a.shape != b.shape:
        return float("inf")
    a, b = a.detach().double(), b.detach().double()
    if torch.allclose(a, b, atol=tolerance, rtol=tolerance):
        return None
    return float((a - b).abs().max())


def train_difference(module, graph, state, inputs: tuple, tolerance: float = 1e-5, seed: int = 0) -> str | None:
    """The first way one training step of ``graph`` (compiled with ``state``) differs from the
    module's, or None when it is the same. The module is left as it was (its mode, its buffers)."""
    compiled = compile_graph(graph)
    compiled.load_state_dict(state)
    learned = dict(compiled.named_parameters())
    originals = {_plain(name): p for name, p in module.named_parameters(remove_duplicate=False)}
    strangers = [name for name in learned if _plain(name) not in originals]
    if strangers:
        return f"learned tensor {strangers[0]} is not the module's"
    pairs = {name: originals[_plain(name)] for name in learned}
    missing = {id(p) for p in module.parameters() if p.requires_grad} - {id(p) for p in pairs.values()}
    if missing:
        name = next(n for n, p in module.named_parameters() if id(p) in missing)
        return f"the module's learned tensor {name} is not learned in the graph"
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
            loss = torch.stack([(o * torch.randn(o.shape)).sum() for o in outputs if o.is_floating_point()]).sum()
            loss.backward()
            results.append(outputs)
    finally:
        module.train(was_training)
        after = {name: b.clone() for name, b in module.named_buffers()}
        with torch.no_grad():
            for name, b in module.named_buffers():
                b.copy_(before[_plain(name)])
    expected, got = results
    if len(expected) != len(got):
        return f"{len(got)} outputs, not {len(expected)}"
    for i, (e, g) in enumerate(zip(expected, got)):
        far = _far(e, g, tolerance)
        if far is not None:
            return f"output {i + 1} differs by {far:.3g} while training"
    buffers = {_plain(name): b for name, b in compiled.named_buffers()}
    for name, b in after.items():
        if torch.equal(b, before[_plain(name)]):
            continue                                     # not updated by the step
        if _plain(name) not in buffers:
            return f"buffer {name} is updated while training, but not in the graph"
        far = _far(buffers[_plain(name)].to(b.dtype), b, tolerance)
        if far is not None:
            return f"buffer {name} differs by {far:.3g} after a training step"
    for name, p in learned.items():
        original = pairs[name]
        if (p.grad is None) != (original.grad is None):
            return f"the gradient of {name} is {'missing' if p.grad is None else 'there'} in the graph only"
        if p.grad is not None:
            far = _far(p.grad, original.grad, tolerance)
            if far is not None:
                return f"the gradient of {name} differs by {far:.3g}"
    return None

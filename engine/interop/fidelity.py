"""Is an imported model the same model? ``verify_same_training(module, compiled, examples)``.

An import is the same model only if it computes the same in evaluation AND trains the same, so
both modes are compared on one batch:

- evaluation: the outputs;
- training (one forward from the same seed, then one backward of the same loss): the outputs,
  every buffer afterwards (BatchNorm's running statistics and its count), and the gradient of
  every parameter.

Randomness is pinned rather than compared as a distribution: the global generator is seeded the
same before each model's forward, and before each layer the two models share (``names``), the
generator is seeded again from that layer's name in the original. A Dropout or a stochastic
depth thus draws the same mask in both models even when independent branches run in another
order; random functions between layers (``torch.randn_like``) draw in traced order, which the
compiled graph keeps.

The modules are left as they were: buffers, gradients and modes are put back afterwards.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

SEED = 20260


def flat_outputs(value: Any) -> list[torch.Tensor]:
    """The tensors a forward returned, in order: a tensor, a tuple or list, a dict by its keys'
    order (segmentation's ``{"out": ...}``), nested."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in flat_outputs(v)]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in flat_outputs(v)]
    return []


def training_batch(examples: tuple) -> tuple:
    """The examples as a batch of at least two different samples: BatchNorm's batch statistics
    need two values per channel, and two equal samples would hide a mix-up between them."""
    if all(not isinstance(t, torch.Tensor) or t.shape[0] >= 2 for t in examples):
        return examples
    generator = torch.Generator().manual_seed(SEED)
    out = []
    for t in examples:
        if not isinstance(t, torch.Tensor):
            out.append(t)
        elif t.is_floating_point():
            noise = torch.randn(t.shape, generator=generator, dtype=t.dtype)
            out.append(torch.cat([t, t + 0.5 * noise * (float(t.std()) if t.numel() > 1 else 1.0)]))
        else:           # token ids: the same ids in another order, still in the vocabulary
            out.append(torch.cat([t, t.flatten().roll(1).reshape(t.shape)]))
    return tuple(out)


def _differs(expected: torch.Tensor, got: torch.Tensor, tolerance: float) -> float | None:
    """The largest difference if it is past ``tolerance`` (relative to the larger values), else None;
    infinities and NaNs must sit in the same places."""
    if expected.shape != got.shape:
        return float("inf")
    if expected.numel() == 0:
        return None
    if not expected.is_floating_point():
        return None if torch.equal(expected, got) else float((expected.double() - got.double()).abs().max())
    e, g = expected.detach(), got.detach()
    difference = float((e - g).abs().max())
    scale = float(e.abs().max())
    if math.isfinite(difference) and math.isfinite(scale):
        return difference if difference > tolerance * max(1.0, scale) else None
    finite = torch.isfinite(e)          # the slow way, only where something is not finite
    if not torch.equal(finite, torch.isfinite(g)) or not torch.equal(e[~finite].nan_to_num(), g[~finite].nan_to_num()):
        return float("inf")
    return _differs(e[finite], g[finite], tolerance)


def _compare_outputs(expected: Any, got: Any, mode: str, tolerance: float) -> list[str]:
    e, g = flat_outputs(expected), flat_outputs(got)
    if len(e) != len(g):
        return [f"{mode}: the module returns {len(e)} tensor(s), the graph {len(g)}"]
    problems = []
    for i, (a, b) in enumerate(zip(e, g)):
        if a.shape != b.shape:
            problems.append(f"{mode}: output {i + 1} is {tuple(a.shape)} in the module, {tuple(b.shape)} in the graph")
        elif (difference := _differs(a, b, tolerance)) is not None:
            problems.append(f"{mode}: output {i + 1} differs from the module's by {difference:g}")
    return problems


@contextmanager
def _kept(*modules: nn.Module) -> Iterator[None]:
    """Puts back every buffer, gradient and mode of ``modules`` afterwards."""
    saved = [({k: v.detach().clone() for k, v in m.named_buffers()},
              {k: (None if p.grad is None else p.grad.clone()) for k, p in m.named_parameters()},
              {k: s.training for k, s in m.named_modules()}) for m in modules]
    try:
        yield
    finally:
        for m, (buffers, grads, modes) in zip(modules, saved):
            with torch.no_grad():
                for k, b in m.named_buffers():
                    if k in buffers:
                        b.copy_(buffers[k])
            for k, p in m.named_parameters():
                p.grad = grads.get(k)
            for k, s in m.named_modules():    # parents first, so each module's own flag is the one that stays
                if k in modes:
                    s.train(modes[k])


def seed_all(seed: int) -> None:
    """``torch.manual_seed``, without its cost where only the CPU draws: seeding the generators of
    devices not in use (CUDA's, queued until it starts) costs a millisecond a call, and the guard
    seeds before every layer."""
    if torch.cuda.is_initialized() or torch.backends.mps.is_available() or torch.xpu.is_available():
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)


@contextmanager
def _pinned(module: nn.Module, seeds: dict[str, int]) -> Iterator[None]:
    """Seeds the generator before each named submodule runs (``seeds``: name -> seed)."""
    def reseed(seed: int) -> Any:
        return lambda m, args: seed_all(seed)

    hooks = [sub.register_forward_pre_hook(reseed(seeds[name])) for name, sub in module.named_modules() if name in seeds]
    try:
        yield
    finally:
        for hook in hooks:
            hook.remove()


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


def eval_differences(module: nn.Module, compiled: nn.Module, examples: tuple, tolerance: float = 1e-5) -> list[str]:
    """What differs between the two models' outputs in evaluation mode (nothing: [])."""
    with _kept(module, compiled), torch.no_grad():
        module.eval()
        compiled.eval()
        seed_all(SEED)
        expected = module(*examples)
        seed_all(SEED)
        got = compiled(*examples)
    return _compare_outputs(expected, got, "evaluating", tolerance)


def training_differences(module: nn.Module, compiled: nn.Module, examples: tuple, names: dict[str, str] | None = None,
                         tolerance: float = 1e-5) -> list[str]:
    """What differs in one training step: outputs, buffers after the forward, gradients after a
    backward. ``names`` maps the compiled model's parameter, buffer and submodule names to the
    module's; without it, tensors are paired by their values (``names_by_value``)."""
    batch = training_batch(examples)
    names = names if names is not None else names_by_value(module, compiled)
    theirs, ours = dict(module.named_modules()), dict(compiled.named_modules())
    shared = {c: m for c, m in names.items() if c in ours and m in theirs}     # submodules both have
    pins = ({m: _seed(m) for m in shared.values()}, {c: _seed(m) for c, m in shared.items()})
    with _kept(module, compiled):
        before = {k: v.detach().clone() for k, v in module.named_buffers()}
        runs = []
        for model, seeds, side in ((module, pins[0], "the module"), (compiled, pins[1], "the graph")):
            model.train()
            model.zero_grad(set_to_none=True)
            seed_all(SEED)
            try:
                with _pinned(model, seeds):
                    out = model(*batch)
                tensors = [t for t in flat_outputs(out) if t.is_floating_point() and t.requires_grad]
                buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
                if tensors:
                    generator = torch.Generator().manual_seed(SEED)
                    loss = sum((t * torch.randn(t.shape, generator=generator, dtype=t.dtype)).sum() for t in tensors)
                    loss.backward()  # type: ignore[union-attr]
            except Exception as err:        # a layer that needs two values per channel, say
                return [f"training: {side} fails on a batch of {batch_size(batch)}: {type(err).__name__}: "
                        f"{str(err).splitlines()[0] if str(err) else ''}"]
            runs.append((out, buffers, {k: p.grad for k, p in model.named_parameters()}))
    (expected, module_buffers, module_grads), (got, graph_buffers, graph_grads) = runs
    problems = _compare_outputs(expected, got, "training", tolerance)
    back = {m: c for c, m in names.items()}
    for key, after in module_buffers.items():
        mine = graph_buffers.get(back.get(key, ""))
        if mine is None:
            if not torch.equal(after, before[key]):
                problems.append(f"training: the module updates its buffer {key}, which the graph does not have "
                                "(it would never update)")
        elif (difference := _differs(after, mine, tolerance)) is not None:
            problems.append(f"training: buffer {key} differs after one step by {difference:g}")
    for key, grad in module_grads.items():
        mine_name = back.get(key)
        if grad is None:
            continue
        if mine_name is None or mine_name not in graph_grads:
            problems.append(f"training: the module learns {key}, which the graph does not have")
        elif graph_grads[mine_name] is None:
            problems.append(f"training: the module learns {key}, which gets no gradient in the graph")
        elif (difference := _differs(grad, graph_grads[mine_name], tolerance)) is not None:  # type: ignore[arg-type]
            problems.append(f"training: the gradient of {key} differs by {difference:g}")
    for key, grad in graph_grads.items():
        if grad is not None and module_grads.get(names.get(key, "")) is None:
            problems.append(f"training: the graph learns {key}, which the module does not")
    return problems


def verify_same_training(module: nn.Module, compiled: nn.Module, examples: tuple, names: dict[str, str] | None = None,
                         tolerance: float = 1e-5) -> list[str]:
    """Every difference between an original module and its compiled import, in evaluation and in
    one training step (outputs, buffers, gradients); [] when they are the same model."""
    return eval_differences(module, compiled, examples, tolerance) + \
        training_differences(module, compiled, examples, names, tolerance)


def names_by_value(module: nn.Module, compiled: nn.Module) -> dict[str, str]:
    """compiled name -> module name, for two models whose weights are equal: each parameter is
    paired with the module's parameter of equal value, its submodule with that one's submodule,
    and buffers by name within paired submodules (running statistics are often all zeros)."""
    candidates: dict[tuple, list[tuple[str, torch.Tensor]]] = {}
    for name, tensor in module.named_parameters():
        candidates.setdefault((tuple(tensor.shape), tensor.dtype), []).append((name, tensor))
    names: dict[str, str] = {}
    used: set[str] = set()
    for name, tensor in compiled.named_parameters():
        for theirs, value in candidates.get((tuple(tensor.shape), tensor.dtype), []):
            if theirs not in used and torch.equal(value.detach(), tensor.detach()):
                names[name] = theirs
                used.add(theirs)
                break
    prefixes = {name.rpartition(".")[0]: theirs.rpartition(".")[0] for name, theirs in names.items()}
    buffers = dict(module.named_buffers())
    for name, _ in compiled.named_buffers():
        owner, _, leaf = name.rpartition(".")
        if owner in prefixes and (theirs := f"{prefixes[owner]}.{leaf}".lstrip(".")) in buffers:
            names[name] = theirs
    return names | {ours: theirs for ours, theirs in prefixes.items() if ours and theirs}


def batch_size(examples: tuple) -> int:
    return next((int(t.shape[0]) for t in examples if isinstance(t, torch.Tensor)), 0)
